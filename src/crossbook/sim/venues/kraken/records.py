"""Simulated Kraken: signed requests and what they read (balances, orders, trades)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from decimal import Decimal
from typing import Any

from aiohttp import web

from ....model import OrderStatus, OrderType, Side
from ...access import ApiKey
from ...engine import SimFill, SimOrder
from ...refusal import Reason
from .errors import REFUSALS, kraken_error
from .public import KrakenPublic
from .wire import (
    PAGE,
    QTY_PLACES,
    STATUS,
    TOKEN_SECONDS,
    Handler,
    Price,
    Private,
    WsToken,
    api_sign,
    asset_code,
    fixed,
    flag,
    form,
    new_txid,
    ok,
    whole,
    window,
)


class KrakenRecords(KrakenPublic):
    """Kraken's signed reads: authentication, balances, volume, WebSocket tokens, and orders and trades as Kraken writes them."""

    def signed(self, handler: Private, needs: str) -> Handler:
        """Kraken's private-method rule: a known API-Key, API-Sign over the exact body, a nonce
        above the key's last one, and the key's permission for the method."""

        async def check(request: web.Request) -> web.Response:
            body = await request.read()
            key, params = self.authenticate(request, body)
            if needs and needs not in key.permissions:
                raise REFUSALS[Reason.PERMISSION_DENIED].refuse()
            return await handler(key, params)

        return check

    def authenticate(self, request: web.Request, body: bytes) -> tuple[ApiKey, dict[str, str]]:
        key = self.api_keys.get(request.headers.get("API-Key", ""))
        if key is None:
            raise REFUSALS[Reason.UNKNOWN_KEY].refuse()
        params = form(request, body)
        nonce = params.get("nonce", "")
        sign = request.headers.get("API-Sign", "")
        try:
            if len(base64.b64decode(sign, validate=True)) != hashlib.sha512().digest_size:
                raise REFUSALS[Reason.BAD_SIGNATURE].refuse()
        except ValueError:  # not base64, or not ASCII
            raise REFUSALS[Reason.BAD_SIGNATURE].refuse() from None
        # Kraken answers a signature that does not match the body as an invalid key
        if not hmac.compare_digest(sign, api_sign(key.secret, request.path, nonce, body)):
            raise REFUSALS[Reason.UNKNOWN_KEY].refuse()
        if not nonce.isdecimal() or not self.nonces.get(key.key, 0) < int(nonce) < 2**64:
            raise REFUSALS[Reason.STALE_TIMESTAMP].refuse()
        self.nonces[key.key] = int(nonce)
        return key, params

    def holdings(self, key: ApiKey) -> list[tuple[str, Decimal, Decimal]]:
        """(asset, total, held by open orders) for every asset the account has had."""
        account = self.engine.account(key.account)
        assets = sorted(set(account.balances) | set(account.locked))
        return [(a, account.balances.get(a, Decimal(0)), account.locked.get(a, Decimal(0))) for a in assets]

    async def balance(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        return ok({asset_code(a): fixed(total, self.asset_info(a)["decimals"]) for a, total, _ in self.holdings(key)})

    async def balance_ex(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        rows = {}
        for asset, total, held in self.holdings(key):
            places = self.asset_info(asset)["decimals"]
            zero = fixed(Decimal(0), places)
            rows[asset_code(asset)] = {"balance": fixed(total, places), "credit": zero, "credit_used": zero,
                                       "hold_trade": fixed(held, places)}
        return ok(rows)

    async def api_key_info(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """``GetApiKeyInfo``: the key's permissions as Kraken names them, its IP allowlist and its
        times in unix seconds (``validUntil`` "0": it never expires)."""
        rights = {"read": ["query-funds", "query-open-trades", "query-closed-trades", "query-ledger"],
                  "trade": ["modify-trades", "cancel-close-trades"], "withdraw": ["withdraw-funds"],
                  "transfer": ["withdraw-funds"]}
        permissions = list(dict.fromkeys(p for right, names in rights.items() if key.may(right) for p in names))
        return ok({
            "apiKeyName": f"crossbook-{key.account}", "apiKey": key.key, "nonce": str(self.nonces.get(key.key, 0)),
            "nonceWindow": 0, "permissions": permissions, "iban": "AA00 SIMU LATE DXXX",
            "validUntil": str(int(key.expires or 0)), "queryFrom": "0", "queryTo": "0",
            "createdTime": str(int(key.created)), "modifiedTime": str(int(key.created)),
            "ipAllowlist": list(key.ips), "lastUsed": str(int(time.time())),
        })

    async def trade_volume(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """The fee tier: the simulator has one, the engine's maker and taker rates, in percent."""
        fills = self.engine.account_fills(key.account)
        dollars = ("USD", "USDT", "USDC")  # the volume counts what traded against the dollar
        volume = sum((f.price * f.amount for f in fills if self.engine.markets[f.symbol].quote in dollars), Decimal(0))
        result: dict[str, Any] = {"currency": "ZUSD", "volume": fixed(volume, 4)}
        names = [n.strip() for n in params.get("pair", "").split(",") if n.strip()]
        if names:
            symbols = [self.rest_symbol(n) for n in names]
            if None in symbols:
                raise REFUSALS[Reason.UNKNOWN_SYMBOL].refuse()
            for field_name, rate in (("fees", self.engine.taker_fee), ("fees_maker", self.engine.maker_fee)):
                tier = {"fee": fixed(rate * 100, 4), "minfee": fixed(rate * 100, 4), "maxfee": fixed(rate * 100, 4),
                        "nextfee": None, "tiervolume": fixed(Decimal(0), 4), "nextvolume": None}
                result[field_name] = {self.pair_id(s): tier for s in symbols if s is not None}
        return ok(result)

    async def websockets_token(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        token = base64.b64encode(secrets.token_bytes(32)).decode()
        self.ws_tokens[token] = WsToken(key.account, time.time() + TOKEN_SECONDS)
        return ok({"token": token, "expires": TOKEN_SECONDS})

    def txid(self, order: SimOrder) -> str:
        txid = self.txids.get(order.order_id)
        if txid is None:
            txid = self.txids[order.order_id] = new_txid("O")
            self.order_ids[txid] = order.order_id
        return txid

    def lookup(self, key: ApiKey, txid: str) -> SimOrder | None:
        order_id = self.order_ids.get(txid.strip(), "")
        order = self.engine.orders.get(order_id) or self.killed.get(order_id)
        return order if order is not None and order.account == key.account else None

    def account_orders(self, key: ApiKey) -> list[SimOrder]:
        orders = [o for o in [*self.engine.orders.values(), *self.killed.values()] if o.account == key.account]
        return sorted(orders, key=lambda o: o.created, reverse=True)

    def matches(self, order: SimOrder, params: dict[str, str]) -> bool:
        """The ``userref`` and ``cl_ord_id`` filters of the order queries."""
        userref = whole(params, "userref", -(2**31), 2**31 - 1)
        if userref is not None and self.userrefs.get(order.order_id) != userref:
            return False
        return "cl_ord_id" not in params or order.client_id == params["cl_ord_id"]

    async def query_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        """Unknown txids are left out of the result (ccxt then raises OrderNotFound)."""
        txids = [t.strip() for t in params.get("txid", "").split(",") if t.strip()]
        if not 1 <= len(txids) <= 50:
            raise kraken_error("EGeneral:Invalid arguments:txid")
        trades = flag(params, "trades")
        found = {t: self.lookup(key, t) for t in txids}
        shown = {t: o for t, o in found.items() if o is not None and self.matches(o, params)}
        return ok({t: self.order_json(o, trades) for t, o in shown.items()})

    async def open_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        trades = flag(params, "trades")
        rows = {self.txid(o): self.order_json(o, trades)
                for o in self.account_orders(key) if not o.status.final and self.matches(o, params)}
        return ok({"open": rows})

    async def closed_orders(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        start, end = window(params)
        offset = whole(params, "ofs", 0, 2**31 - 1) or 0
        closed = [o for o in self.account_orders(key)
                  if o.status.final and start < o.updated <= end and self.matches(o, params)]
        trades = flag(params, "trades")
        rows = {self.txid(o): self.order_json(o, trades) for o in closed[offset:offset + PAGE]}
        return ok({"closed": rows, "count": len(closed)})

    async def trades_history(self, key: ApiKey, params: dict[str, str]) -> web.Response:
        start, end = window(params)
        offset = whole(params, "ofs", 0, 2**31 - 1) or 0
        groups = self.trade_groups(self.engine.account_fills(key.account), flag(params, "consolidate_taker", True))
        groups = [g for g in reversed(groups) if start < g[0].ts <= end]
        rows = dict(self.trade_json(g) for g in groups[offset:offset + PAGE])
        return ok({"trades": rows, "count": len(groups)})

    @staticmethod
    def trade_groups(fills: list[SimFill], consolidate: bool) -> list[list[SimFill]]:
        """Trades as TradesHistory lists them: with ``consolidate_taker`` (Kraken's default) the
        taker fills of one order are one trade; maker fills are one trade each."""
        groups: dict[tuple[str, int], list[SimFill]] = {}
        for fill in fills:
            groups.setdefault((fill.order_id, -1 if fill.taker and consolidate else fill.trade_id), []).append(fill)
        return list(groups.values())

    def fill_txid(self, fill: SimFill) -> str:
        key = (fill.trade_id, fill.order_id)  # a self-trade's two fills share the trade id
        if key not in self.fill_txids:
            self.fill_txids[key] = new_txid("T")
        return self.fill_txids[key]

    def trade_json(self, fills: list[SimFill]) -> tuple[str, dict[str, Any]]:
        first = fills[0]
        order = self.engine.orders[first.order_id]
        places = self.cost_decimals(first.symbol)
        volume = sum((f.amount for f in fills), Decimal(0))
        cost = sum((f.price * f.amount for f in fills), Decimal(0))
        return self.fill_txid(first), {
            "ordertxid": self.txid(order),
            "pair": self.pair_id(first.symbol),
            "time": round(first.ts, 4),
            "type": first.side.value,
            "ordertype": self.kraken_type(order),
            "price": fixed(cost / volume, places),
            "cost": fixed(cost, places),
            "fee": self.fee_text(first.symbol, first.fee_currency, sum((f.fee for f in fills), Decimal(0))),
            "vol": fixed(volume, QTY_PLACES),
            "margin": fixed(Decimal(0), places),
            "leverage": "0",
            "misc": "",
            "trade_id": first.trade_id,
            "maker": not first.taker,
        }

    def fee_text(self, symbol: str, currency: str, fee: Decimal) -> str:
        quote = self.engine.markets[symbol].quote
        return fixed(fee, self.cost_decimals(symbol) if currency == quote else QTY_PLACES)

    @staticmethod
    def kraken_type(order: SimOrder) -> str:
        if order.visible is not None:
            return "iceberg"
        return {OrderType.MARKET: "market", OrderType.LIMIT: "limit", OrderType.STOP: "stop-loss",
                OrderType.STOP_LIMIT: "stop-loss-limit"}[order.type]

    def description(self, order: SimOrder) -> str:
        market = self.engine.markets[order.symbol]
        limit = None if order.price is None else order.price * market.tick
        stop = None if order.stop is None else order.stop * market.tick
        return self.order_text(order.symbol, order.side, order.type, order.amount * market.lot, limit, stop)

    def order_text(self, symbol: str, side: Side, kind: OrderType, volume: Decimal, limit: Price, stop: Price) -> str:
        """``descr.order``: "buy 1.25000000 XBTUSD @ limit 27500.0"; a stop-loss-limit reads
        "@ stop loss 25000.0 -> limit 24900.0"."""
        limit_text, stop_text = (fixed(p or Decimal(0), self.ladders[symbol].price_decimals) for p in (limit, stop))
        what = {
            OrderType.MARKET: "market",
            OrderType.LIMIT: f"limit {limit_text}",
            OrderType.STOP: f"stop loss {stop_text}",
            OrderType.STOP_LIMIT: f"stop loss {stop_text} -> limit {limit_text}",
        }[kind]
        return f"{side.value} {fixed(volume, QTY_PLACES)} {self.altname(symbol)} @ {what}"

    def order_json(self, order: SimOrder, with_trades: bool) -> dict[str, Any]:
        market = self.engine.markets[order.symbol]
        places = self.ladders[order.symbol].price_decimals
        filled = order.filled * market.lot
        fills = [f for f in self.engine.account_fills(order.account, order.symbol) if f.order_id == order.order_id]
        fee_in_base = any(f.fee_currency == market.base for f in fills)
        info: dict[str, Any] = {"refid": None, "userref": self.userrefs.get(order.order_id)}
        if self.client_order_id(order) is not None:
            info["cl_ord_id"] = order.client_id
        info.update({
            "status": STATUS[order.status],
            "opentm": round(order.created, 4),
            "starttm": 0,
            "expiretm": 0,
            "descr": self.descr_json(order),
            "vol": fixed(order.amount * market.lot, QTY_PLACES),
            "vol_exec": fixed(filled, QTY_PLACES),
            "cost": fixed(order.cost, self.cost_decimals(order.symbol)),
            "fee": self.fee_text(order.symbol, market.base if fee_in_base else market.quote, order.fee),
            "price": fixed(order.cost / filled if filled else Decimal(0), places),
            "stopprice": fixed(Decimal(0), places),
            "limitprice": fixed(Decimal(0), places),
            "misc": "",
            "oflags": ",".join([*(["post"] if order.post_only else []), "fcib" if fee_in_base else "fciq"]),
        })
        if order.status.final:
            info["closetm"] = round(order.updated, 4)
            info["reason"] = self.close_reason(order)
        if with_trades and fills:
            info["trades"] = [self.fill_txid(g[0]) for g in self.trade_groups(fills, True)]
        return info

    @staticmethod
    def client_order_id(order: SimOrder) -> str | None:
        """The ``cl_ord_id`` the order was placed with (the engine names the rest "sim-<id>")."""
        return order.client_id if order.client_id and order.client_id != f"sim-{order.order_id}" else None

    def descr_json(self, order: SimOrder) -> dict[str, Any]:
        """``price`` is the limit, or a stop-loss's trigger, whose limit is then ``price2``."""
        tick, places = self.engine.markets[order.symbol].tick, self.ladders[order.symbol].price_decimals
        first, second = (order.stop, order.price) if order.stop is not None else (order.price, None)
        return {
            "pair": self.altname(order.symbol),
            "type": order.side.value,
            "ordertype": self.kraken_type(order),
            "price": fixed((first or 0) * tick, places),
            "price2": fixed((second or 0) * tick, places),
            "leverage": "none",
            "order": self.description(order),
            "close": "",
        }

    def close_reason(self, order: SimOrder) -> str | None:
        if order.order_id in self.killed:
            return "Post only order"
        return "User requested" if order.status is OrderStatus.CANCELED else None
