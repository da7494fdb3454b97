"""Simulated Gate USDT-margined perpetual futures."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from ....model import (
    MarginMode,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from ....venues.registry import base_fees
from ...engine import SimFill, SimOrder
from ...market import Ladder
from ...refusal import ErrorShape, Reason
from ...server import json_response
from .errors import ERRORS, FUTURES_ERRORS, gate_error
from .stream import GateSpotSim
from .wire import (
    API,
    CROSS_DEFAULT,
    FUTURES,
    LEVERAGE_MAX,
    Call,
    _plain,
    amend,
    client_text,
    decimal_param,
    futures_finish_as,
    int_param,
    invalid,
    not_found,
    num,
    optional_decimal,
    required,
    shown_text,
    time_in_force,
    user_id,
)


class GateSwapSim(GateSpotSim):
    """USDT perpetuals on ``/v4/ws/usdt``: ``futures.order_book_update`` with ``{"p", "s"}`` levels
    in whole contracts (one contract = one lot here, the ``quanto_multiplier``), ``futures.trades``
    with a signed size, REST ``/api/v4/futures/usdt/order_book`` and ``/contracts``; trading on
    ``/api/v4/futures/usdt/...`` (see the module docstring)."""

    venue = "gateswap"
    ccxt_id = None  # "gate" in ccxt_configs is the spot venue's
    client_ccxt_id: ClassVar[str | None] = "gate"
    ccxt_options: ClassVar[dict[str, Any]] = {
        "fetchMarkets": {"types": ["swap"]},
        "swap": {"fetchMarkets": {"settlementCurrencies": ["usdt"]}},
        "defaultType": "swap",
    }
    errors: ClassVar[dict[Reason, ErrorShape]] = {**ERRORS, **FUTURES_ERRORS}
    markets = ("BTC-USDT-PERP", "ETH-USDT-PERP")
    ws_paths = ("/v4/ws/usdt",)
    private_ws_paths = ()
    book_channel = "futures.order_book_update"
    trade_channel = "futures.trades"
    ticker_channel = "futures.tickers"
    candle_channel = "futures.candlesticks"
    book_path = "/api/v4/futures/usdt/order_book"
    pair_param = "contract"
    instruments_path = "/api/v4/futures/usdt/contracts"
    snapshot_paths = (book_path,)
    instruments_paths = (instruments_path,)
    levels_allowed: ClassVar[tuple[str, ...]] = ("100",)

    def trading_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{FUTURES}/contracts/{{contract}}", self.contract),
            web.get(f"{API}/spot/currencies", self.currencies),
            web.get(f"{API}/account/detail", self.signed(self.account_detail)),
            web.get(f"{FUTURES}/accounts", self.signed(self.futures_account)),
            web.post(f"{FUTURES}/orders", self.signed(self.create_futures_order)),
            web.get(f"{FUTURES}/orders", self.signed(self.list_futures_orders)),
            web.get(f"{FUTURES}/orders_timerange", self.signed(self.futures_orders_timerange)),
            web.get(f"{FUTURES}/orders/{{order_id}}", self.signed(self.get_futures_order)),
            web.delete(f"{FUTURES}/orders/{{order_id}}", self.signed(self.cancel_futures_order)),
            web.put(f"{FUTURES}/orders/{{order_id}}", self.signed(self.amend_futures_order)),
            web.get(f"{FUTURES}/positions", self.signed(self.positions)),
            web.get(f"{FUTURES}/positions/{{contract}}", self.signed(self.one_position)),
            web.post(f"{FUTURES}/positions/{{contract}}/leverage", self.signed(self.set_leverage)),
            web.post(f"{FUTURES}/dual_mode", self.signed(self.set_dual_mode)),
            web.get(f"{FUTURES}/my_trades_timerange", self.signed(self.futures_trades)),
            web.get(f"{API}/wallet/fee", self.signed(self.futures_trading_fee)),
        ]

    # ---- futures: reference data and account --------------------------------------------------

    def futures_trading_fee(self, call: Call) -> web.Response:
        """``/wallet/fee`` as a client of this simulator reads it: the futures rates are the ones
        this engine charges (the spot fields are the spot venue's base tier)."""
        spot = base_fees("gate")
        return json_response(
            {
                "user_id": user_id(call.key.account),
                "taker_fee": num(Decimal(repr(spot.taker))),
                "maker_fee": num(Decimal(repr(spot.maker))),
                "gt_discount": False,
                "gt_taker_fee": "0",
                "gt_maker_fee": "0",
                "futures_taker_fee": num(self.engine.taker_fee),
                "futures_maker_fee": num(self.engine.maker_fee),
            }
        )

    async def contract(self, request: web.Request) -> web.Response:
        symbol = self.symbol_of(request.match_info["contract"])
        if symbol is None:
            raise gate_error("CONTRACT_NOT_FOUND", "Contract not found", 404)
        return json_response(self.pair_info(symbol))

    def futures_account(self, call: Call) -> web.Response:
        return json_response(self.account_json(call.key.account))

    def account_json(self, name: str) -> dict[str, Any]:
        account = self.engine.account(name)
        position_margin = sum((p.margin for p in account.positions.values()), Decimal(0))
        locked = account.locked.get("USDT", Decimal(0))
        return {
            "total": num(account.balances.get("USDT", Decimal(0))),
            "unrealised_pnl": num(sum((self.pnl(s, p.size if side is not PositionSide.SHORT else -p.size, p.entry)
                                       for (s, side), p in account.positions.items()), Decimal(0))),
            "position_margin": num(position_margin),
            "order_margin": num(locked - position_margin),
            "available": num(account.available("USDT")),
            "point": "0",
            "bonus": "0",
            "currency": "USDT",
            "in_dual_mode": account.hedge_mode,
            "enable_credit": False,
            "position_initial_margin": num(position_margin),
            "maintenance_margin": "0",
        }

    def pnl(self, symbol: str, size: Decimal, entry: Decimal) -> Decimal:
        return (self.mark(symbol) - entry) * size if size else Decimal(0)

    # ---- futures: orders ------------------------------------------------------------------------

    def create_futures_order(self, call: Call) -> web.Response:
        body = call.body
        symbol = self.pair(required(body, "contract"))
        size = self.size_of(body)
        close = body.get("close") is True
        if close:
            size = self.closing_size(call.key.account, symbol)
        price = decimal_param(body, "price")
        tif, post_only = self.futures_tif(body.get("tif", "gtc"), price)
        reduce_only = close or body.get("reduce_only") is True
        side = Side.BUY if size > 0 else Side.SELL
        order = self.engine.submit(
            call.key.account, symbol, side, OrderType.LIMIT if price else OrderType.MARKET,
            abs(size) * self.engine.markets[symbol].lot, price or None, tif=tif, post_only=post_only,
            reduce_only=reduce_only, position_side=self.position_side(call.key.account, side, reduce_only),
            client_id=client_text(body.get("text")),
        )
        return json_response(self.futures_order_json(order), status=201)

    @staticmethod
    def size_of(body: Mapping[str, Any]) -> int:
        raw = body.get("size", 0)
        if not isinstance(raw, int) or isinstance(raw, bool) or (raw == 0 and body.get("close") is not True):
            raise invalid("size", raw)
        return raw

    def closing_size(self, account: str, symbol: str) -> int:
        """``close: true`` with size 0: the whole one-way position, the other way."""
        held = self.engine.position(account, symbol).size / self.engine.markets[symbol].lot
        if not held:
            raise gate_error("POSITION_EMPTY", "Position is empty")
        return -int(held)

    @staticmethod
    def futures_tif(raw: Any, price: Decimal) -> tuple[TimeInForce, bool]:
        tif, post_only = time_in_force(raw)
        if not price and (tif is not TimeInForce.IOC and tif is not TimeInForce.FOK):
            raise invalid("tif", raw)  # a market order (price 0) is ioc
        return tif, post_only

    def position_side(self, account: str, side: Side, reduce_only: bool) -> PositionSide:
        """Dual mode: a buy opens the long (or, reduce-only, closes the short), a sell the reverse."""
        if not self.engine.account(account).hedge_mode:
            return PositionSide.BOTH
        return PositionSide.LONG if (side is Side.BUY) != reduce_only else PositionSide.SHORT

    def futures_order(self, call: Call) -> SimOrder:
        order = self.lookup(call.key.account, call.order_id)
        if order.waiting:
            raise not_found(call.order_id)
        return order

    def get_futures_order(self, call: Call) -> web.Response:
        return json_response(self.futures_order_json(self.futures_order(call)))

    def cancel_futures_order(self, call: Call) -> web.Response:
        order = self.futures_order(call)
        if order.status.final:
            raise gate_error("ORDER_FINISHED", "Order finished")
        return json_response(self.futures_order_json(self.engine.cancel(call.key.account, order.order_id)))

    def amend_futures_order(self, call: Call) -> web.Response:
        """PUT ``/futures/usdt/orders/{order_id}``: a new total ``size`` (its sign the order's side)
        and/or ``price``; the order keeps its id."""
        order = self.futures_order(call)
        if order.status.final:
            raise gate_error("ORDER_FINISHED", "Order finished")
        size = call.body.get("size")
        price = optional_decimal(call.body, "price")
        if size is None and price is None:
            raise gate_error("MISSING_REQUIRED_PARAM", "Missing required parameter: size or price")
        amount = None
        if size is not None:
            if not isinstance(size, int) or (size < 0) != (order.side is Side.SELL):
                raise invalid("size", size)
            amount = abs(size) * self.engine.markets[order.symbol].lot
        amend(self.engine, order, amount, price)
        return json_response(self.futures_order_json(order))

    def list_futures_orders(self, call: Call) -> web.Response:
        status = required(call.query, "status")
        if status not in ("open", "finished"):
            raise invalid("status", status)
        contract = call.query.get("contract")
        symbol = None if contract is None else self.pair(contract)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and (symbol is None or o.symbol == symbol) and not o.waiting
            and o.status.final == (status == "finished")
        ]
        return json_response([self.futures_order_json(o) for o in reversed(orders)][: int_param(call.query, "limit", 100)])

    def futures_orders_timerange(self, call: Call) -> web.Response:
        """``orders_timerange``: the account's finished orders created between ``from`` and ``to``
        (seconds, both optional), newest first, ``limit`` (default 100, at most 1000) from ``offset``."""
        contract = call.query.get("contract")
        symbol = None if contract is None else self.pair(contract)
        start, end = int_param(call.query, "from", 0), int_param(call.query, "to", 2**62)
        limit, offset = int_param(call.query, "limit", 100), int_param(call.query, "offset", 0)
        if not 1 <= limit <= 1000:
            raise invalid("limit", limit)
        orders = [
            o for o in self.engine.orders.values()
            if o.account == call.key.account and (symbol is None or o.symbol == symbol) and not o.waiting
            and o.status.final and start <= o.created <= end
        ]
        newest = sorted(orders, key=lambda o: o.seq, reverse=True)[offset: offset + limit]
        return json_response([self.futures_order_json(o) for o in newest])

    # ---- futures: positions, leverage, dual mode -------------------------------------------------

    def positions(self, call: Call) -> web.Response:
        account = self.engine.account(call.key.account)
        holding = call.query.get("holding") == "true"
        rows = [
            self.position_json(call.key.account, symbol, side)
            for (symbol, side), pos in sorted(account.positions.items()) if pos.size or not holding
        ]
        return json_response(rows)

    def one_position(self, call: Call) -> web.Response:
        symbol = self.pair(call.contract)
        if self.engine.account(call.key.account).hedge_mode:
            raise gate_error("POSITION_DUAL_MODE", "Dual mode positions are under /dual_comp/positions")
        return json_response(self.position_json(call.key.account, symbol, PositionSide.BOTH))

    def set_leverage(self, call: Call) -> web.Response:
        """``leverage`` N: isolated at N; ``leverage`` 0: cross, at ``cross_leverage_limit``."""
        symbol = self.pair(call.contract)
        leverage = decimal_param(call.query, "leverage")
        cross = leverage == 0
        if cross:
            leverage = optional_decimal(call.query, "cross_leverage_limit") or Decimal(CROSS_DEFAULT)
        if not Decimal(1) <= leverage <= Decimal(LEVERAGE_MAX):
            raise gate_error("LEVERAGE_TOO_HIGH" if leverage > 1 else "LEVERAGE_TOO_LOW", f"leverage {num(leverage)}")
        account = call.key.account
        mode = MarginMode.CROSS if cross else MarginMode.ISOLATED
        if self.engine.account(account).margin_modes.get(symbol, MarginMode.ISOLATED) is not mode:
            self.engine.set_margin_mode(account, symbol, mode)
        self.engine.set_leverage(account, symbol, leverage)
        side = PositionSide.LONG if self.engine.account(account).hedge_mode else PositionSide.BOTH
        return json_response(self.position_json(account, symbol, side))

    def set_dual_mode(self, call: Call) -> web.Response:
        raw = required(call.query, "dual_mode")
        if raw not in ("true", "false"):
            raise invalid("dual_mode", raw)
        self.engine.set_position_mode(call.key.account, raw == "true")
        return json_response(self.account_json(call.key.account))

    # ---- futures: Gate shapes ---------------------------------------------------------------------

    def futures_trades(self, call: Call) -> web.Response:
        """``/futures/usdt/my_trades_timerange``: the account's fills, newest first, ``size`` signed
        in contracts, between ``from`` and ``to`` (unix seconds)."""
        contract = call.query.get("contract")
        fills = self.engine.account_fills(call.key.account, None if contract is None else self.symbol_of(contract))
        since, until = int_param(call.query, "from", 0), int_param(call.query, "to", 0)
        fills = [f for f in fills if f.ts >= since and (not until or f.ts <= until)]
        return json_response([self.futures_trade_json(f) for f in reversed(fills)][: int_param(call.query, "limit", 100)])

    def futures_trade_json(self, fill: SimFill) -> dict[str, Any]:
        lots = int(fill.amount / self.engine.markets[fill.symbol].lot)
        return {
            "trade_id": str(fill.trade_id),
            "create_time": round(fill.ts, 3),
            "contract": self.native(fill.symbol),
            "order_id": fill.order_id,
            "size": lots if fill.side is Side.BUY else -lots,
            "close_size": 0,
            "price": num(fill.price),
            "role": "taker" if fill.taker else "maker",
            "text": shown_text(fill.client_id),
            "fee": num(fill.fee),
            "point_fee": "0",
        }

    def futures_order_json(self, order: SimOrder) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        sign = 1 if order.is_bid else -1
        filled = order.filled * market.lot
        row: dict[str, Any] = {
            "id": int(order.order_id),
            "user": user_id(order.account),
            "contract": self.native(order.symbol),
            "create_time": round(order.created, 3),
            "update_time": round(order.updated, 3),
            "status": "finished" if order.status.final else "open",
            "finish_as": futures_finish_as(order),
            "size": sign * order.amount,
            "iceberg": 0,
            "left": sign * order.remaining,
            "price": num((order.price or 0) * market.tick),
            "fill_price": num((order.cost / filled).quantize(Decimal("1e-8")).normalize() if filled else Decimal(0)),
            "mkfr": num(self.engine.maker_fee),
            "tkfr": num(self.engine.taker_fee),
            "tif": "poc" if order.post_only else order.tif.value,
            "refu": 0,
            "is_reduce_only": order.reduce_only,
            "is_close": False,
            "is_liq": False,
            "text": shown_text(order.client_id),
            "amend_text": "-",
            "stp_id": 0,
            "stp_act": "-",
            "biz_info": "-",
        }
        if order.status.final:
            row["finish_time"] = round(order.updated, 3)
        return row

    def position_json(self, name: str, symbol: str, side: PositionSide) -> dict[str, Any]:
        account = self.engine.account(name)
        pos = self.engine.position(name, symbol, side)
        lot = self.engine.markets[symbol].lot
        signed = -pos.size if side is PositionSide.SHORT else pos.size
        leverage = account.leverages.get(symbol, Decimal(1))
        cross = account.margin_modes.get(symbol) is MarginMode.CROSS
        mark = self.mark(symbol)
        return {
            "user": user_id(name),
            "contract": self.native(symbol),
            "size": int(signed / lot),
            "leverage": "0" if cross else num(leverage),
            "cross_leverage_limit": num(leverage) if cross else "0",
            "leverage_max": LEVERAGE_MAX,
            "risk_limit": "1000000",
            "maintenance_rate": "0.005",
            "value": num(abs(signed) * mark),
            "margin": num(pos.margin),
            "entry_price": num(pos.entry),
            "liq_price": "0",
            "mark_price": num(mark),
            "unrealised_pnl": num(self.pnl(symbol, signed, pos.entry)),
            "realised_pnl": "0",
            "history_pnl": "0",
            "last_close_pnl": "0",
            "realised_point": "0",
            "history_point": "0",
            "adl_ranking": 5,
            "pending_orders": sum(1 for o in self.engine.open_orders(name, symbol) if o.position_side is side),
            "close_order": None,
            "mode": {PositionSide.BOTH: "single", PositionSide.LONG: "dual_long", PositionSide.SHORT: "dual_short"}[side],
            "update_time": int(time.time()),
        }

    def expected_top(self, symbol: str, n: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        ladder = self.ladders[symbol]
        return (
            [(ladder.price(p), float(q)) for p, q in ladder.top(True, n)],
            [(ladder.price(p), float(q)) for p, q in ladder.top(False, n)],
        )

    def level(self, ladder: Ladder, ticks: int, lots: int) -> Any:
        return {"p": _plain(ladder.price_str(ticks)), "s": lots}

    def pair_info(self, symbol: str) -> dict[str, Any]:
        ladder = self.ladders[symbol]
        return {
            "name": self.native(symbol),
            "type": "direct",
            "quanto_multiplier": _plain(f"{ladder.spec.lot:.8f}"),
            "order_price_round": _plain(f"{ladder.spec.tick:.8f}"),
            "mark_price_round": _plain(f"{ladder.spec.tick:.8f}"),
            "order_size_min": 1,
            "order_size_max": 1000000,
            "leverage_min": "1",
            "leverage_max": "100",
            "maker_fee_rate": _plain(f"{base_fees('gateswap').maker:.8f}"),
            "taker_fee_rate": _plain(f"{base_fees('gateswap').taker:.8f}"),
            "in_delisting": False,
            "status": "trading",
            "enable_decimal": False,
            "order_price_deviate": "0.5",
            "mark_type": "index",
            "mark_price": num(self.mark(symbol)),
            "index_price": num(self.index(symbol)),
            "last_price": num(self.mark(symbol)),
            "funding_rate": num(self.funding_rate(symbol)),
            "funding_rate_indicative": num(self.funding_rate(symbol)),
            "funding_interval": self.funding_rule.interval_hours * 3600,
            "funding_next_apply": self.next_funding_ms(symbol) // 1000,
            "interest_rate": "0.0003",
            "cross_leverage_default": CROSS_DEFAULT,
        }

    def rest_times(self, now: float) -> dict[str, Any]:
        return {"current": round(now, 3), "update": round(now, 3)}

    def valid_book_payload(self, payload: list[Any]) -> bool:
        return len(payload) in (2, 3) and payload[1] in self.intervals and all(lv in self.levels_allowed for lv in payload[2:])

    def update_extras(self, now: float) -> dict[str, Any]:
        return {}

    def trade_frame(self, symbol: str, ticks: int, lots: int, buy: bool, trade_id: int) -> bytes:
        now = time.time()
        trade = {
            "size": lots if buy else -lots,
            "id": trade_id,
            "create_time": int(now),
            "create_time_ms": int(now * 1000),
            "price": _plain(self.ladders[symbol].price_str(ticks)),
            "contract": self.native(symbol),
        }
        return self.envelope(self.trade_channel, "update", {"result": [trade]})
