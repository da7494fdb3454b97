"""Simulated Binance USD-M and COIN-M futures."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from aiohttp import web

from ....model import (
    MarginMode,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from ....symbols import parse_standard
from ...access import ApiKey
from ...engine import OrderEvent, Position, Reject, SimFill, SimOrder, to_units
from ...market import MarketSpec
from ...refusal import Reason
from ...server import SimConnection, json_response
from .accounts import BinanceSpotSim
from .algo import AlgoOrders
from .errors import ERRORS, FUTURES_ERRORS, binance_error, rejected
from .funding import FuturesFunding
from .liquidations import ForceOrders
from .open_interest import FuturesOpenInterest
from .wire import (
    FUTURES_TYPES,
    ORDER_TYPES,
    STATUS,
    Handler,
    ms,
    places_of,
)


class BinanceUsdmSim(ForceOrders, FuturesFunding, AlgoOrders, FuturesOpenInterest, BinanceSpotSim):
    """USD-M perpetuals, trading as ccxt's ``binanceusdm`` calls them: ``/fapi/v3/account``,
    ``/fapi/v1/order`` (LIMIT, MARKET; GTC, IOC, FOK, GTX post-only; ``reduceOnly``,
    ``positionSide``), conditional orders on ``/fapi/v1/algoOrder`` (``algo.py``),
    ``openOrders``, ``userTrades``, ``accountConfig``, ``commissionRate``, ``leverage``,
    ``marginType``, ``positionSide/dual``, ``leverageBracket``, ``/fapi/v3/positionRisk`` and the
    modify (``PUT /fapi/v1/order``); the public funding endpoints are ``funding.py``'s."""

    venue = "binanceusdm"
    ccxt_id: ClassVar[str | None] = "binanceusdm"
    ccxt_hosts = ("https://fapi.binance.com",)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["linear"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    api = "/fapi/v1"
    snapshot_paths = ("/fapi/v1/depth",)
    instruments_paths = ("/fapi/v1/exchangeInfo",)
    places = None  # futures send the contract's own precision
    # ccxt.pro's ``/private/ws?listenKey=`` and the documented ``/ws/<listenKey>``
    private_ws_paths = ("/private/ws", "/ws/{listen_key}")
    account_path: ClassVar[str] = "/fapi/v3/account"
    position_path: ClassVar[str] = "/fapi/v3/positionRisk"
    bracket_path: ClassVar[str] = "/fapi/v1/leverageBracket"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listen_keys: dict[str, str] = {}  # listenKey -> account
        self.amending: set[str] = set()  # ids of orders inside a modify (see ``amend``)
        self.init_algo()

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(), *self.funding_routes(), web.get(f"{self.api}/openInterest", self.open_interest)]

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        spec = self.ladders[symbol].spec
        info.update({
            "pair": info["symbol"],
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "marginAsset": info["quoteAsset"],
            "underlyingType": "COIN",
            "pricePrecision": places_of(spec.tick),
            "quantityPrecision": places_of(spec.lot),
            "orderTypes": list(FUTURES_TYPES),
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        })
        return info

    def trading_routes(self) -> list[web.RouteDef]:
        api = self.api
        return [
            web.get(self.account_path, self.signed(self.account_info)),
            web.post(f"{api}/order", self.signed(self.create_order)),
            web.put(f"{api}/order", self.signed(self.modify_order)),
            web.delete(f"{api}/order", self.signed(self.cancel_order)),
            web.get(f"{api}/order", self.signed(self.get_order)),
            web.get(f"{api}/openOrders", self.signed(self.open_orders)),
            web.get(f"{api}/allOrders", self.signed(self.all_orders)),
            web.get(f"{api}/userTrades", self.signed(self.my_trades)),
            web.get(f"{api}/accountConfig", self.signed(self.account_config)),
            web.get(f"{api}/commissionRate", self.signed(self.commission_rate)),
            web.post(f"{api}/leverage", self.signed(self.change_leverage)),
            web.post(f"{api}/marginType", self.signed(self.change_margin_type)),
            web.post(f"{api}/positionSide/dual", self.signed(self.change_position_mode)),
            web.get(f"{api}/positionSide/dual", self.signed(self.position_mode)),
            web.get(f"{api}/symbolConfig", self.signed(self.symbol_config)),
            web.get(self.bracket_path, self.signed(self.leverage_brackets)),
            web.get(self.position_path, self.signed(self.position_risk)),
            web.post(f"{api}/listenKey", self.keyed(self.new_listen_key)),
            web.put(f"{api}/listenKey", self.keyed(self.keep_listen_key)),
            web.delete(f"{api}/listenKey", self.keyed(self.close_listen_key)),
            *self.algo_routes(api),
        ]

    # ---- private stream (listenKey user data stream) --------------------------------------------

    def keyed(self, handler: Callable[[ApiKey], Awaitable[web.Response]]) -> Handler:
        """Binance's USER_STREAM rule: the key header, no signature."""

        async def check(request: web.Request) -> web.Response:
            key = self.api_keys.get(request.headers.get("X-MBX-APIKEY", ""))
            if key is None:
                raise binance_error(-2015, "Invalid API-key, IP, or permissions for action.", 401)
            return await handler(key)

        return check

    def listen_key_of(self, account: str) -> str | None:
        return next((k for k, a in self.listen_keys.items() if a == account), None)

    async def new_listen_key(self, key: ApiKey) -> web.Response:
        """The account's active listenKey, or a new one (Binance keeps one per account)."""
        listen_key = self.listen_key_of(key.account) or secrets.token_hex(32)
        self.listen_keys[listen_key] = key.account
        return json_response({"listenKey": listen_key})

    async def keep_listen_key(self, key: ApiKey) -> web.Response:
        listen_key = self.listen_key_of(key.account)
        if listen_key is None:
            raise binance_error(-1125, "This listenKey does not exist.")
        return json_response({"listenKey": listen_key})

    async def close_listen_key(self, key: ApiKey) -> web.Response:
        listen_key = self.listen_key_of(key.account)
        if listen_key is not None:
            del self.listen_keys[listen_key]
            for conn in self.private_connections(key.account):
                conn.account = None
        return json_response({})

    def on_connect(self, conn: SimConnection) -> None:
        """A socket on a valid listenKey follows its account at once; there is no login."""
        listen_key = conn.query.get("listenKey") or conn.path.removeprefix("/ws/")
        conn.account = self.listen_keys.get(listen_key)

    async def on_private_message(self, conn: SimConnection, data: str | bytes) -> None:
        await self.on_client_message(conn, data)  # the stream takes market SUBSCRIBEs too

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[str | bytes]:
        if self.is_waiting_algo(event.order):
            return [orjson.dumps(self.algo_update(event.order)).decode()]
        amended = event.order.order_id in self.amending
        return [orjson.dumps(self.order_trade_update(event.order, event.fill, amended)).decode()]

    def order_trade_update(self, order: SimOrder, fill: SimFill | None, amended: bool) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        status = STATUS.get(order.status, "NEW")
        kind = "MARKET" if order.type is OrderType.MARKET else "LIMIT"
        now = ms(time.time())
        execution = "TRADE" if fill is not None else "AMENDMENT" if amended else status if status != "PARTIALLY_FILLED" else "NEW"
        filled = order.filled * market.lot
        return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": {
            "s": self.native(order.symbol),
            "c": order.client_id,
            "S": order.side.value.upper(),
            "o": kind,
            "f": "GTX" if order.post_only else order.tif.value.upper(),
            "q": self.num(order.amount * market.lot),
            "p": self.num((order.price or 0) * market.tick),
            "ap": self.num(order.cost / filled if filled else Decimal(0)),
            "sp": "0",
            "x": execution,
            "X": status,
            "i": int(order.order_id),
            "l": self.num(fill.amount if fill else Decimal(0)),
            "z": self.num(filled),
            "L": self.num(fill.price if fill else Decimal(0)),
            "N": fill.fee_currency if fill else market.quote,
            "n": self.num(fill.fee if fill else Decimal(0)),
            "T": ms(fill.ts if fill else order.updated),
            "t": fill.trade_id if fill else 0,
            "b": "0",
            "a": "0",
            "m": fill is not None and not fill.taker,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": kind,
            "ps": order.position_side.value.upper(),
            "cp": False,
            "rp": "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        }}

    # ---- account and settings ---------------------------------------------------------------

    async def account_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        account = self.engine.account(key.account)
        now = ms(time.time())
        assets = [
            {
                "asset": a,
                "walletBalance": self.num(account.balances.get(a, Decimal(0))),
                "unrealizedProfit": self.num(Decimal(0)),
                "marginBalance": self.num(account.balances.get(a, Decimal(0))),
                "initialMargin": self.num(account.locked.get(a, Decimal(0))),
                "availableBalance": self.num(account.available(a)),
                "maxWithdrawAmount": self.num(account.available(a)),
                "updateTime": now,
            }
            for a in sorted(set(account.balances) | set(account.locked))
        ]
        return json_response({"totalWalletBalance": "0", "availableBalance": "0", "assets": assets,
                              "positions": [self.position_json(key.account, s, side, p) for (s, side), p in self.held(key.account)]})

    async def account_config(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response({"feeTier": 0, "canTrade": "trade" in key.permissions, "canDeposit": True,
                              "canWithdraw": "withdraw" in key.permissions, "dualSidePosition": self.engine.account(key.account).hedge_mode,
                              "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1})

    async def commission_rate(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The account's rates for one symbol: what the engine charges it."""
        if self.symbol_of(params.get("symbol", "")) is None:
            raise binance_error(-1121, "Invalid symbol.")
        return json_response({"symbol": params["symbol"], "makerCommissionRate": self.num(self.engine.maker_fee),
                              "takerCommissionRate": self.num(self.engine.taker_fee)})

    async def change_leverage(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        try:
            self.engine.set_leverage(key.account, symbol, Decimal(params.get("leverage", "0")))
        except (Reject, ArithmeticError):
            raise binance_error(-4028, "Leverage is not valid.") from None
        leverage = int(self.engine.account(key.account).leverages[symbol])
        return json_response({"leverage": leverage, "maxNotionalValue": "1000000000", "symbol": self.native(symbol)})

    async def change_margin_type(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        wanted = {"ISOLATED": MarginMode.ISOLATED, "CROSSED": MarginMode.CROSS}.get(params.get("marginType", "").upper())
        if wanted is None:
            raise binance_error(-1116, "Invalid marginType.")
        if self.margin_mode(key.account, symbol) is wanted:
            raise binance_error(-4046, "No need to change margin type.")
        if self.engine.open_orders(key.account, symbol):
            raise binance_error(-4047, "Margin type cannot be changed if there exists open orders.")
        try:
            self.engine.set_margin_mode(key.account, symbol, wanted)
        except Reject:
            raise binance_error(-4048, "Margin type cannot be changed if there exists position.") from None
        return json_response({"code": 200, "msg": "success"})

    async def position_mode(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return json_response({"dualSidePosition": self.engine.account(key.account).hedge_mode})

    async def change_position_mode(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        hedge = params.get("dualSidePosition", "").lower() == "true"
        if self.engine.account(key.account).hedge_mode is hedge:
            raise binance_error(-4059, "No need to change position side.")
        if self.engine.open_orders(key.account):
            raise binance_error(-4067, "Position side cannot be changed if there exists open orders.")
        try:
            self.engine.set_position_mode(key.account, hedge)
        except Reject:
            raise binance_error(-4068, "Position side cannot be changed if there exists position.") from None
        return json_response({"code": 200, "msg": "success"})

    async def symbol_config(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """Each symbol's margin type and leverage (one symbol with ``symbol``): what ccxt's
        fetch_leverage(s) and fetch_margin_mode(s) read."""
        wanted = self.symbol_of(params["symbol"]) if "symbol" in params else None
        if "symbol" in params and wanted is None:
            raise binance_error(-1121, "Invalid symbol.")
        account = self.engine.account(key.account)
        return json_response([
            {"symbol": self.native(s), "isAutoAddMargin": "false", "maxNotionalValue": "1000000000",
             "marginType": "ISOLATED" if self.margin_mode(key.account, s) is MarginMode.ISOLATED else "CROSSED",
             "leverage": int(account.leverages.get(s, Decimal(1)))}
            for s in self.markets if wanted in (None, s)
        ])

    async def leverage_brackets(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        bracket = {"bracket": 1, "initialLeverage": 125, "notionalCap": 1_000_000_000, "notionalFloor": 0,
                   "maintMarginRatio": 0.004, "cum": 0.0}
        return json_response([{"symbol": self.native(s), "brackets": [bracket]} for s in self.markets])

    def margin_mode(self, account: str, symbol: str) -> MarginMode:
        return self.engine.account(account).margin_modes.get(symbol, MarginMode.CROSS)

    # ---- positions --------------------------------------------------------------------------

    def held(self, account: str) -> list[tuple[tuple[str, PositionSide], Position]]:
        return [(k, p) for k, p in self.engine.account(account).positions.items() if p.size]

    async def position_risk(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        wanted = self.symbol_of(params["symbol"]) if "symbol" in params else None
        return json_response([
            self.position_json(key.account, s, side, p) for (s, side), p in self.held(key.account) if wanted in (None, s)
        ])

    def position_json(self, account: str, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        """A v3 position: signed ``positionAmt`` (a hedge-mode short is negative), ``isolatedMargin``
        non-zero only in isolated mode (ccxt reads the margin mode from it). The mark is the mid."""
        mark = self.mark(symbol)
        amount = -pos.size if side is PositionSide.SHORT else pos.size
        isolated = self.margin_mode(account, symbol) is MarginMode.ISOLATED
        return {
            "symbol": self.native(symbol),
            "positionSide": side.value.upper(),
            "positionAmt": self.num(amount),
            "entryPrice": self.num(pos.entry),
            "breakEvenPrice": self.num(pos.entry),
            "markPrice": self.num(mark),
            "unRealizedProfit": self.num((mark - pos.entry) * amount),
            "liquidationPrice": "0",
            "isolatedMargin": self.num(pos.margin if isolated else Decimal(0)),
            "notional": self.num(mark * amount),
            "marginAsset": self.engine.markets[symbol].quote,
            "isolatedWallet": self.num(pos.margin if isolated else Decimal(0)),
            "initialMargin": self.num(pos.margin),
            "maintMargin": "0",
            "positionInitialMargin": self.num(pos.margin),
            "openOrderInitialMargin": "0",
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": ms(time.time()),
        }

    # ---- orders -----------------------------------------------------------------------------

    def find(self, key: ApiKey, params: dict[str, str]) -> SimOrder:
        """An order of the matching engine: an algo order counts once it is triggered."""
        order = super().find(key, params)
        if self.is_waiting_algo(order):
            raise Reject("unknown_order", "a waiting algo order is not in the matching engine")
        return order

    def cancel(self, key: ApiKey, order_id: str | None, client_id: str | None) -> SimOrder:
        try:
            waiting = self.is_waiting_algo(self.engine.find(key.account, order_id, client_id))
        except Reject:
            waiting = False  # the engine's own refusal follows
        if waiting:
            raise FUTURES_ERRORS[Reason.UNKNOWN_ORDER].refuse()
        return super().cancel(key, order_id, client_id)

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params["symbol"]) if "symbol" in params else None
        placed = [o for o in self.engine.open_orders(key.account, symbol) if not self.is_waiting_algo(o)]
        return json_response([self.order_json(o) for o in placed])

    async def create_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        symbol = self.symbol_of(params.get("symbol", ""))
        if symbol is None:
            raise binance_error(-1121, "Invalid symbol.")
        kind = params.get("type", "")
        if kind not in ("LIMIT", "MARKET"):
            raise binance_error(-1116, "Invalid orderType.")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        if reduce_only and self.engine.account(key.account).hedge_mode:
            raise binance_error(-1106, "Parameter 'reduceonly' sent when not required.")
        tif = params.get("timeInForce", "GTC")
        try:
            order = self.engine.submit(
                key.account, symbol, Side.BUY if params.get("side") == "BUY" else Side.SELL, ORDER_TYPES[kind],
                Decimal(params.get("quantity", "0")), Decimal(params["price"]) if "price" in params else None,
                tif=TimeInForce.GTC if tif == "GTX" else TimeInForce(tif.lower()), post_only=tif == "GTX",
                reduce_only=reduce_only, position_side=PositionSide(params.get("positionSide", "BOTH").lower()),
                client_id=params.get("newClientOrderId"),
            )
        except Reject as exc:
            raise rejected(exc, FUTURES_ERRORS, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None
        return json_response(self.order_json(order))

    async def modify_order(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``PUT order``: a LIMIT order's new price and quantity, same order id and client id, at
        the back of its new level's queue. A quantity not above what has filled cancels it."""
        try:
            order = self.engine.find(key.account, params.get("orderId"), params.get("origClientOrderId"))
            if order.status.final:
                raise Reject("order_final", "a final order cannot be modified")
            market = self.engine.markets[order.symbol]
            lots = to_units(Decimal(params.get("quantity", "")), market.lot, "amount")
            ticks = to_units(Decimal(params.get("price", "")), market.tick, "price")
            if lots <= 0:
                raise Reject("bad_amount", "quantity must be positive")
        except Reject as exc:
            raise rejected(exc, FUTURES_ERRORS, ERRORS) from None
        except (ValueError, ArithmeticError):
            raise ERRORS[Reason.BAD_NUMBER].refuse() from None
        if (lots, ticks) == (order.amount, order.price):
            raise binance_error(-5027, "No need to modify the order.")
        if lots <= order.filled:
            return json_response(self.order_json(self.engine.cancel(key.account, order.order_id)))
        try:
            return json_response(self.order_json(self.amend(order, lots, ticks)))
        except Reject as exc:
            raise rejected(exc, FUTURES_ERRORS, ERRORS) from None

    def amend(self, order: SimOrder, lots: int, ticks: int) -> SimOrder:
        """In place (``MatchingEngine.amend``), to the back of its new level's queue whatever
        changed, as Binance documents; a refused amend leaves the order as it was, except a
        post-only order that would now take, which Binance cancels."""
        self.amending.add(order.order_id)
        try:
            self.engine.amend(order, lots, ticks, keep_priority=False)
        except Reject as exc:
            if exc.reason == "post_only_would_take":
                self.amending.discard(order.order_id)
                self.engine.cancel(order.account, order.order_id)
            raise
        finally:
            self.amending.discard(order.order_id)
        return order

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        filled = order.filled * market.lot
        kind = "MARKET" if order.type is OrderType.MARKET else "LIMIT"
        return {
            "orderId": int(order.order_id),
            "symbol": self.native(order.symbol),
            "status": STATUS.get(order.status, "NEW"),
            "clientOrderId": order.client_id,
            "price": self.num((order.price or 0) * market.tick),
            "avgPrice": self.num(order.cost / filled if filled else Decimal(0)),
            "origQty": self.num(order.amount * market.lot),
            "executedQty": self.num(filled),
            "cumQty": self.num(filled),
            "cumQuote": self.num(order.cost),
            "timeInForce": "GTX" if order.post_only else order.tif.value.upper(),
            "type": kind,
            "reduceOnly": order.reduce_only,
            "closePosition": False,
            "side": order.side.value.upper(),
            "positionSide": order.position_side.value.upper(),
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": kind,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": ms(order.created),
            "updateTime": ms(order.updated),
        }

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        order = self.engine.orders[fill.order_id]
        return {
            "symbol": self.native(fill.symbol),
            "id": fill.trade_id,
            "orderId": int(fill.order_id),
            "side": fill.side.value.upper(),
            "positionSide": order.position_side.value.upper(),
            "price": self.num(fill.price),
            "qty": self.num(fill.amount),
            "quoteQty": self.num(fill.price * fill.amount),
            "commission": self.num(fill.fee),
            "commissionAsset": fill.fee_currency,
            "time": ms(fill.ts),
            "buyer": fill.side is Side.BUY,
            "maker": not fill.taker,
        }

    def add_futures_fields(self, event: dict[str, Any], prev: int, now: int) -> None:
        event["T"] = now
        event["pu"] = prev


class BinanceCoinmSim(BinanceUsdmSim):
    """COIN-M perpetuals as ccxt's ``binancecoinm`` trades them, on ``/dapi/v1`` the way USD-M
    trades on ``/fapi`` (``/dapi/v1/account``, ``/dapi/v1/positionRisk``, ``/dapi/v2/leverageBracket``).
    Sizes are contracts of a fixed USD value (100 USD for BTC, 10 USD for others); Binance keeps
    margin and PnL in the base coin. The engine keeps them in the quote (USD) units of price x
    contracts, as for linear contracts: balances, locked margin and realized PnL are the
    engine's; the position's ``notionalValue``, ``unRealizedProfit`` and isolated margin, and the
    orders' ``cumBase``, are the inverse values in the base coin."""

    venue = "binancecoinm"
    liquidations = False  # its forceOrder counts contracts: not simulated
    ccxt_id = "binancecoinm"
    ccxt_hosts = ("https://dapi.binance.com",)
    ccxt_options: ClassVar[dict[str, Any]] = {"fetchMarkets": {"types": ["inverse"]}, "fetchMargins": False, "fetchCurrencies": False}
    markets = ("BTC-USD-PERP", "ETH-USD-PERP")
    specs: ClassVar[dict[str, MarketSpec]] = {
        "BTC-USD-PERP": MarketSpec("BTC-USD-PERP", 0.1, 1.0),
        "ETH-USD-PERP": MarketSpec("ETH-USD-PERP", 0.01, 1.0),
    }
    contract_usd: ClassVar[dict[str, int]] = {"BTC-USD-PERP": 100, "ETH-USD-PERP": 10}
    api = "/dapi/v1"
    snapshot_paths = ("/dapi/v1/depth",)
    instruments_paths = ("/dapi/v1/exchangeInfo",)
    account_path = "/dapi/v1/account"
    position_path = "/dapi/v1/positionRisk"
    bracket_path = "/dapi/v2/leverageBracket"

    def native(self, symbol: str) -> str:
        base, quote, _, _ = parse_standard(symbol)
        return f"{base}{quote}_PERP"

    def symbol_info(self, symbol: str) -> dict[str, Any]:
        info = super().symbol_info(symbol)
        del info["status"]
        info["contractStatus"] = "TRADING"
        info["contractSize"] = self.contract_usd[symbol]
        info["marginAsset"] = info["baseAsset"]
        info["pair"] = info["symbol"].removesuffix("_PERP")
        return info

    def base_value(self, symbol: str, contracts: Decimal, price: Decimal) -> Decimal:
        """What ``contracts`` are worth in the base coin at ``price``."""
        return contracts * self.contract_usd[symbol] / price if price else Decimal(0)

    def premium_json(self, symbol: str) -> dict[str, Any]:
        return {**super().premium_json(symbol), "pair": self.native(symbol).removesuffix("_PERP")}

    def open_interest_json(self, symbol: str) -> dict[str, Any]:
        pair = self.native(symbol).removesuffix("_PERP")
        return {**super().open_interest_json(symbol), "pair": pair, "contractType": "PERPETUAL"}

    async def premium_index(self, request: web.Request) -> web.Response:
        """COIN-M answers a list even for one symbol."""
        wanted = request.query.get("symbol")
        symbols = [s for s in self.markets if wanted in (None, self.native(s))]
        if not symbols:
            raise binance_error(-1121, "Invalid symbol.")
        return json_response([self.premium_json(s) for s in symbols])

    async def leverage_brackets(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        bracket = {"bracket": 1, "initialLeverage": 125, "qtyCap": 1_000_000, "qtyFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0}
        return json_response([{"symbol": self.native(s), "brackets": [bracket]} for s in self.markets])

    def order_json(self, order: SimOrder) -> dict[str, Any]:
        body = super().order_json(order)
        filled = Decimal(body["executedQty"])
        average = order.cost / filled if filled else Decimal(0)
        del body["cumQuote"]
        body["cumBase"] = self.num(self.base_value(order.symbol, filled, average))
        body["pair"] = self.native(order.symbol).removesuffix("_PERP")
        return body

    def trade_json(self, fill: SimFill) -> dict[str, Any]:
        body = super().trade_json(fill)
        del body["quoteQty"]
        body["baseQty"] = self.num(self.base_value(fill.symbol, fill.amount, fill.price))
        body["marginAsset"] = self.engine.markets[fill.symbol].base
        body["pair"] = self.native(fill.symbol).removesuffix("_PERP")
        return body

    def position_json(self, account: str, symbol: str, side: PositionSide, pos: Position) -> dict[str, Any]:
        """A ``/dapi/v1/positionRisk`` position: ``notionalValue`` in the base coin (signed),
        ``marginType`` and ``leverage`` given."""
        mark = self.mark(symbol)
        amount = -pos.size if side is PositionSide.SHORT else pos.size
        leverage = self.engine.account(account).leverages.get(symbol, Decimal(1))
        notional = self.base_value(symbol, amount, mark)
        isolated = self.margin_mode(account, symbol) is MarginMode.ISOLATED
        margin = abs(notional) / leverage if isolated else Decimal(0)
        pnl = self.base_value(symbol, amount, pos.entry) - notional if pos.entry else Decimal(0)
        return {
            "symbol": self.native(symbol),
            "positionAmt": self.num(amount),
            "entryPrice": self.num(pos.entry),
            "breakEvenPrice": self.num(pos.entry),
            "markPrice": self.num(mark),
            "unRealizedProfit": self.num(pnl),
            "liquidationPrice": "0",
            "leverage": str(int(leverage)),
            "maxQty": "1000000",
            "marginType": "isolated" if isolated else "cross",
            "isolatedMargin": self.num(margin),
            "isAutoAddMargin": "false",
            "positionSide": side.value.upper(),
            "notionalValue": self.num(notional),
            "isolatedWallet": self.num(margin),
            "updateTime": ms(time.time()),
        }
