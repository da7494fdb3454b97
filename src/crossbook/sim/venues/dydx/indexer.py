"""Simulated dYdX v4: the indexer's REST API."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from ....model import OrderStatus, Side
from ....symbols import parse_standard
from ...access import READ_TRADE, ApiKey, ccxt_urls
from ...engine import Position, SimFill, SimOrder
from ...interest import open_interest
from ...market import Ladder
from ...perp_prices import DYDX, FundingRule, PerpPrices
from ...ratelimit import Over, retry_after
from ...refusal import Reason, Refusal
from ...server import SimVenue, json_response
from ...tape import Candle, Print
from .. import dydx_tx
from ..dydx_tx import Order
from .errors import REFUSALS, TX_REFUSALS, render, tx_refusal
from .wire import (
    API_TIME_IN_FORCE,
    FIRST_ACCOUNT_NUMBER,
    INDEXER_IDS,
    INITIAL_MARGIN_FRACTION,
    ORDER_TYPES,
    POST_ONLY,
    QUANTUM_CONVERSION_EXPONENT,
    QUOTE,
    RECENT_TRADES,
    STEP_BASE_QUANTUMS,
    Placement,
    Wallet,
    _dec,
    _height,
    _invalid,
    _iso,
    _not_found,
    _num,
    subaccount_uuid,
)


class DydxIndexer(PerpPrices, SimVenue):
    """dYdX v4's indexer: markets, books, subaccounts, orders and fills over REST."""

    funding_rule: ClassVar[FundingRule] = DYDX
    venue = "dydx"
    snapshot_paths = ("/v4/orderbooks/perpetualMarket/{ticker}",)
    instruments_paths = ("/v4/perpetualMarkets",)
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    ws_paths = ("/v4/ws",)
    server_ping_interval = 30.0
    faults_supported = frozenset({"drop", "skip", "stall", "delay"})
    fills_per_tick = 3  # a block usually has several fills; only trades carry a time (latency)
    fetch_delay: tuple[float, float] = (0.005, 0.06)  # the initial-state fetch, seconds
    ccxt_id: ClassVar[str | None] = "dydx"
    ccxt_hosts = ("https://indexer.dydx.trade", "https://dydx-rest.publicnode.com", "https://dydx-ops-rpc.kingnodes.com")

    def rate_limit_refusal(self, over: Over, now: float) -> Refusal:
        return REFUSALS[Reason.RATE_LIMITED].refuse(headers=retry_after(over.wait))

    def render_refusal(self, refusal: Refusal) -> web.Response:
        return render(refusal)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(self.market.seed)
        self.recent: dict[str, deque[dict[str, Any]]] = {s: deque(maxlen=RECENT_TRADES) for s in self.markets}
        self._tasks: set[asyncio.Task[None]] = set()
        self.wallets: dict[str, Wallet] = {}  # address -> account
        self.placements: dict[str, Placement] = {}  # indexer order id -> order

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}-{quote}"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().stop()

    def issue_key(self, account: str, permissions: frozenset[str] = READ_TRADE) -> ApiKey:
        """A new chain account (secp256k1 key, ``dydx1...`` address) trading as engine ``account``.
        The chain has no key permissions (whoever holds the key trades) and no leverage setting:
        cross margin at each market's initial margin fraction."""
        self.engine.account(account)
        secret = dydx_tx.new_private_key()
        public = dydx_tx.public_key(secret)
        key = ApiKey(key=dydx_tx.address(public), secret=secret, account=account, permissions=permissions)
        self.api_keys[key.key] = key
        self.wallets[key.key] = Wallet(key, public, FIRST_ACCOUNT_NUMBER + len(self.wallets))
        for symbol in self.markets:
            self.engine.set_leverage(account, symbol, 1 / INITIAL_MARGIN_FRACTION)
        return key

    def ccxt_config(self, key: ApiKey) -> dict[str, Any]:
        """ccxt signs with ``options.privateKey`` (a hex Cosmos key) for ``walletAddress``."""
        assert self.ccxt_id is not None
        return {
            "urls": ccxt_urls(self.ccxt_id, self.ccxt_host_map(), self.ws_url),
            "options": {**self.ccxt_options, "privateKey": key.secret},
            "walletAddress": key.key,
        }

    async def perpetual_markets(self, request: web.Request) -> web.Response:
        wanted = request.query.get("ticker")
        listed = [s for s in self.markets if wanted in (None, self.native(s))]
        return json_response({"markets": {self.native(s): self.market_info(s) for s in listed}})

    def grid(self, symbol: str) -> tuple[int, int]:
        """(atomicResolution, subticksPerTick) as the chain sets them: one lot is one step."""
        ladder = self.ladders[symbol]
        atomic = -ladder.size_decimals - 6  # 10^6 quantums a lot
        return atomic, round(ladder.spec.tick * 10 ** (atomic - QUANTUM_CONVERSION_EXPONENT + 6))

    def amount(self, symbol: str, quantums: int) -> Decimal:
        return Decimal(quantums).scaleb(self.grid(symbol)[0])

    def price(self, symbol: str, subticks: int) -> Decimal:
        return Decimal(subticks).scaleb(QUANTUM_CONVERSION_EXPONENT - self.grid(symbol)[0] - 6)

    def oracle(self, symbol: str) -> Decimal:
        """The oracle price is the index (``PerpPrices``: the underlying's spot fair price)."""
        return self.index(symbol)

    def market_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        atomic, subticks_per_tick = self.grid(symbol)
        return {
            "clobPairId": str(self.markets.index(symbol)),
            "ticker": self.native(symbol),
            "status": "ACTIVE",
            "oraclePrice": _dec(self.oracle(symbol)),
            "priceChange24H": "0",
            "volume24H": "0",
            "trades24H": 0,
            "nextFundingRate": _dec(self.funding_rate(symbol)),
            "initialMarginFraction": str(INITIAL_MARGIN_FRACTION),
            "maintenanceMarginFraction": "0.012",
            "openInterest": _dec(open_interest(self.engine, symbol)),  # the simulator's (sim/interest.py)
            # strings, not the indexer's ints: ccxt's dydx create_order needs them as strings
            "atomicResolution": str(atomic),
            "quantumConversionExponent": str(QUANTUM_CONVERSION_EXPONENT),
            "tickSize": _num(ladder.price_str(1)),
            "stepSize": _num(ladder.size_str(1)),
            "stepBaseQuantums": STEP_BASE_QUANTUMS,
            "subticksPerTick": subticks_per_tick,
            "marketType": "CROSS",
            "openInterestLowerCap": "0",
            "openInterestUpperCap": "0",
            "baseOpenInterest": "0",
            "defaultFundingRate1H": "0",
        }

    async def orderbook(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.match_info["ticker"])
        if symbol is None:
            return _invalid("ticker", request.match_info["ticker"], "ticker must be a valid ticker (BTC-USD, etc)", "params")
        return json_response(self.book_state(symbol))

    def market_data_routes(self) -> list[web.RouteDef]:
        return [web.get("/v4/trades/perpetualMarket/{ticker}", self.trades),
                web.get("/v4/candles/perpetualMarkets/{ticker}", self.candles),
                web.get("/v4/historicalFunding/{ticker}", self.historical_funding)]

    async def historical_funding(self, request: web.Request) -> web.Response:
        """``GET /v4/historicalFunding/{ticker}?limit=&effectiveBeforeOrAt=``: the hourly rates
        settled, newest first, ``price`` the oracle then (left out before the simulator ran)."""
        ticker = request.match_info["ticker"]
        symbol = self.symbol_of(ticker)
        if symbol is None:
            return _invalid("ticker", ticker, "ticker must be a valid ticker (BTC-USD, etc)", "params")
        before = request.query.get("effectiveBeforeOrAt")
        end = int(datetime.fromisoformat(before.replace("Z", "+00:00")).timestamp() * 1000) if before else None
        settled = self.funding_history(symbol, None, end, min(int(request.query.get("limit", "100")), 1000))
        rows = [{"ticker": ticker, "rate": _dec(s.rate), **({"price": _dec(s.index)} if s.index is not None else {}),
                 "effectiveAtHeight": str(s.ms // 1000), "effectiveAt": _iso(s.ms / 1000)} for s in reversed(settled)]
        return json_response({"historicalFunding": rows})

    async def trades(self, request: web.Request) -> web.Response:
        """``GET /v4/trades/perpetualMarket/{ticker}?limit=``: newest first, ``side`` the taker's."""
        symbol = self.symbol_of(request.match_info["ticker"])
        if symbol is None:
            return _invalid("ticker", request.match_info["ticker"], "ticker must be a valid ticker (BTC-USD, etc)", "params")
        prints = self.tape.recent(symbol, min(int(request.query.get("limit", "100")), 1000))
        return json_response({"trades": [trade_json(p) for p in reversed(prints)]})

    async def candles(self, request: web.Request) -> web.Response:
        """``GET /v4/candles/perpetualMarkets/{ticker}?resolution=&limit=&fromISO=&toISO=``: newest first."""
        ticker = request.match_info["ticker"]
        symbol = self.symbol_of(ticker)
        if symbol is None:
            return _invalid("ticker", ticker, "ticker must be a valid ticker (BTC-USD, etc)", "params")
        resolution = request.query.get("resolution", "")
        seconds = RESOLUTIONS.get(resolution)
        if seconds is None:
            return _invalid("resolution", resolution, f"resolution must be one of {', '.join(RESOLUTIONS)}", "query")
        bounds = [request.query.get(name) for name in ("fromISO", "toISO")]
        start, end = (int(datetime.fromisoformat(b.replace("Z", "+00:00")).timestamp() * 1000) if b else None for b in bounds)
        candles = self.tape.candles(symbol, seconds, min(int(request.query.get("limit", "100")), 1000), start, end)
        return json_response({"candles": [candle_json(ticker, resolution, c) for c in reversed(candles)]})

    def book_state(self, symbol: str) -> dict[str, list[dict[str, str]]]:
        ladder = self.ladders[symbol]
        return {
            "bids": [self._level(ladder, p, q) for p, q in ladder.top(True, len(ladder.bids))],
            "asks": [self._level(ladder, p, q) for p, q in ladder.top(False, len(ladder.asks))],
        }

    def _level(self, ladder: Ladder, ticks: int, lots: int) -> dict[str, str]:
        return {"price": _num(ladder.price_str(ticks)), "size": _num(ladder.size_str(lots))}

    def subaccount_json(self, wallet: Wallet) -> dict[str, Any]:
        """USDC moves with every fill (buying a perpetual pays its notional); equity adds the
        positions at the oracle price; free collateral is what the engine leaves unreserved."""
        account = self.engine.account(wallet.key.account)
        positions = self.open_positions(wallet)
        usdc = account.balances.get(QUOTE, Decimal(0)) - sum((p.size * p.entry for p in positions.values()), Decimal(0))
        equity = usdc + sum((p.size * self.oracle(s) for s, p in positions.items()), Decimal(0))
        return {
            "address": wallet.address,
            "subaccountNumber": 0,
            "equity": _dec(equity),
            "freeCollateral": _dec(equity - account.locked.get(QUOTE, Decimal(0))),
            "openPerpetualPositions": {self.native(s): self.position_json(s, p) for s, p in positions.items()},
            "assetPositions": {
                "USDC": {"size": _dec(abs(usdc)), "symbol": "USDC", "side": "LONG" if usdc >= 0 else "SHORT", "assetId": "0",
                         "subaccountNumber": 0}
            },
            "marginEnabled": True,
            "updatedAtHeight": str(_height()),
            "latestProcessedBlockHeight": str(_height()),
        }

    def open_positions(self, wallet: Wallet) -> dict[str, Position]:
        """symbol -> the wallet's open position there (one-way: one per market)."""
        account = self.engine.account(wallet.key.account)
        return {s: p for (s, _), p in account.positions.items() if p.size}

    def position_json(self, symbol: str, position: Position) -> dict[str, Any]:
        """A PerpetualPositionResponseObject: ``size`` signed (negative short), PnL at the oracle."""
        return {
            "market": self.native(symbol),
            "status": "OPEN",
            "side": "LONG" if position.size > 0 else "SHORT",
            "size": _dec(position.size),
            "entryPrice": _dec(position.entry),
            "unrealizedPnl": _dec(position.size * (self.oracle(symbol) - position.entry)),
            "netFunding": "0",
            "subaccountNumber": 0,
        }

    async def fills(self, request: web.Request) -> web.Response:
        query = request.query
        wallet = self.wallets.get(query.get("address", ""))
        market = query.get("market")
        if market is not None and self.symbol_of(market) is None:
            return _not_found(f"{market} not found in markets of type {query.get('marketType')}")
        if wallet is None or query.get("subaccountNumber") != "0":
            return json_response({"fills": [], "pageSize": 0, "totalResults": 0, "offset": 0})
        symbol = None if market is None else self.symbol_of(market)
        mine = [
            f for f in self.engine.account_fills(wallet.key.account, symbol)
            if f.client_id in self.placements and self.placements[f.client_id].order.order_id.owner == wallet.address
        ]
        listed = [self.fill_json(f) for f in reversed(mine)][: int(query.get("limit", "1000"))]
        return json_response({"fills": listed, "pageSize": len(listed), "totalResults": len(mine), "offset": 0})

    def order_json(self, order_id: str, placement: Placement, engine: SimOrder | None = None) -> dict[str, Any]:
        """``engine``: the order as an engine event reports it (default: as it stands now)."""
        order, symbol = placement.order, self.order_symbol(placement.order)
        engine = engine or self.engine_order(placement)
        oid = order.order_id
        filled = Decimal(0) if engine is None else engine.filled * self.engine.markets[symbol].lot
        updated = placement.placed if engine is None else engine.updated
        body: dict[str, Any] = {
            "id": order_id,
            "subaccountId": subaccount_uuid(oid.owner, oid.number),
            "clientId": str(oid.client_id),
            "clobPairId": str(oid.clob_pair_id),
            "side": "BUY" if order.side == 1 else "SELL",
            "size": _dec(self.amount(symbol, order.quantums)),
            "totalFilled": _dec(filled),
            "price": _dec(self.price(symbol, order.subticks)),
            "type": ORDER_TYPES[order.condition_type],
            "status": self.status(order, engine),
            "timeInForce": API_TIME_IN_FORCE[order.time_in_force],
            "postOnly": order.time_in_force == POST_ONLY,
            "reduceOnly": order.reduce_only,
            "orderFlags": str(oid.order_flags),
            "createdAtHeight": str(_height(placement.placed)),
            "clientMetadata": str(order.client_metadata),
            "ticker": self.native(symbol),
            "updatedAt": _iso(updated),
            "updatedAtHeight": str(_height(updated)),
            "subaccountNumber": oid.number,
        }
        if oid.short_term:
            body["goodTilBlock"] = str(order.good_til_block)
        else:
            body["goodTilBlockTime"] = _iso(order.good_til_block_time)
        if order.condition_type:
            body["triggerPrice"] = _dec(self.price(symbol, order.trigger_subticks))
        return body

    def status(self, order: Order, engine: SimOrder | None) -> str:
        if engine is not None and not engine.status.final:
            return "UNTRIGGERED" if engine.waiting else "OPEN"
        if engine is not None and engine.status is OrderStatus.FILLED:
            return "FILLED"
        # a short-term removal is final only once its goodTilBlock has passed
        if order.order_id.short_term and _height() <= order.good_til_block:
            return "BEST_EFFORT_CANCELED"
        return "CANCELED"

    def fill_json(self, fill: SimFill) -> dict[str, Any]:
        placement = self.placements[fill.client_id]
        liquidity = "TAKER" if fill.taker else "MAKER"
        return {
            "id": str(uuid.uuid5(INDEXER_IDS, f"{fill.client_id}-{fill.trade_id}-{liquidity}")),
            "side": "BUY" if fill.side is Side.BUY else "SELL",
            "liquidity": liquidity,
            "type": "LIMIT",
            "market": self.native(fill.symbol),
            "marketType": "PERPETUAL",
            "price": _dec(fill.price),
            "size": _dec(fill.amount),
            "fee": _dec(fill.fee),
            "affiliateRevShare": "0",
            "createdAt": _iso(fill.ts),
            "createdAtHeight": str(_height(fill.ts)),
            "orderId": fill.client_id,
            "clientMetadata": str(placement.order.client_metadata),
            "subaccountNumber": placement.order.order_id.number,
        }

    def subaccount_fill_json(self, fill: SimFill) -> dict[str, Any]:
        """A fill as the subaccount channel pushes it: the REST fill's fields, with the ids of the
        subaccount and the clob pair, the ticker and the quote amount."""
        oid = self.placements[fill.client_id].order.order_id
        return {
            **self.fill_json(fill),
            "subaccountId": subaccount_uuid(oid.owner, oid.number),
            "clobPairId": str(oid.clob_pair_id),
            "ticker": self.native(fill.symbol),
            "quoteAmount": _dec(fill.price * fill.amount),
        }

    def clob_symbol(self, clob_pair_id: int) -> str:
        if clob_pair_id >= len(self.markets):
            raise tx_refusal(TX_REFUSALS[Reason.UNKNOWN_SYMBOL], f"Clob {clob_pair_id} is not a valid clob")
        return self.markets[clob_pair_id]

    def order_symbol(self, order: Order) -> str:
        return self.markets[order.order_id.clob_pair_id]

    def engine_order(self, placement: Placement) -> SimOrder | None:
        return None if placement.engine_id is None else self.engine.orders[placement.engine_id]


RESOLUTIONS: dict[str, int] = {"1MIN": 60, "5MINS": 300, "15MINS": 900, "30MINS": 1800, "1HOUR": 3600, "4HOURS": 14_400, "1DAY": 86_400}


def trade_json(p: Print) -> dict[str, Any]:
    return {"id": str(p.trade_id), "side": "BUY" if p.buy else "SELL", "size": _num(p.size), "price": _num(p.price),
            "type": "LIMIT", "createdAt": _iso(p.ms / 1000), "createdAtHeight": str(_height(p.ms / 1000))}


def candle_json(ticker: str, resolution: str, c: Candle) -> dict[str, Any]:
    return {"startedAt": _iso(c.start_ms / 1000), "ticker": ticker, "resolution": resolution, "low": _num(c.low),
            "high": _num(c.high), "open": _num(c.open), "close": _num(c.close), "baseTokenVolume": c.volume,
            "usdVolume": c.quote_volume, "trades": c.count, "startingOpenInterest": "0", "id": f"{ticker}-{resolution}-{c.start_ms}"}
