"""Simulated dYdX v4: the validator (transactions through CheckTx), the indexer's WebSocket, and the venue ``DydxSim``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from typing import Any

import orjson
from aiohttp import WSCloseCode, web

from ....model import OrderType, Side, TimeInForce
from ....venues.protowire import DecodeError
from ...engine import OrderEvent, Reject, SimOrder
from ...market import Ladder
from ...refusal import Reason, Refusal
from ...server import Change, Frame, SimConnection, SimTrade, json_response
from .. import dydx_tx
from ..dydx_tx import CancelOrder, Order, Tx
from .errors import SDK_ERRORS, TX_REFUSALS, clob_error, sdk_error, tx_refusal
from .indexer import DydxIndexer
from .streams import CANDLES_VERSION, MARKETS_VERSION, DydxStreams, StreamContents, held_streams
from .wire import (
    APP_VERSION,
    BOOK,
    BOOK_VERSION,
    CANDLES,
    CHAIN_ID,
    CHANNELS,
    INDEXER_IDS,
    IOC,
    MARKETS,
    POST_ONLY,
    REMOVALS,
    STEP_BASE_QUANTUMS,
    STOP_LOSS,
    SUBACCOUNTS,
    SUBACCOUNTS_VERSION,
    SUBSCRIBE_POINTS,
    SUBSCRIBE_WINDOW,
    TAKE_PROFIT,
    TIMESTAMP_NONCE_CUTOFF,
    TRADES,
    TRADES_VERSION,
    Levels,
    Placement,
    Wallet,
    _height,
    _invalid,
    _iso,
    _not_found,
    _num,
    _text,
    check_good_til,
    order_uuid,
    validate_basic,
)


class DydxSim(DydxStreams, DydxIndexer):

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v4/perpetualMarkets", self.perpetual_markets),
            web.get("/v4/orderbooks/perpetualMarket/{ticker}", self.orderbook),
            web.get("/v4/addresses/{address}/subaccountNumber/{number}", self.subaccount),
            web.get("/v4/orders", self.list_orders),
            web.get("/v4/orders/{order_id}", self.get_order),
            web.get("/v4/fills", self.fills),
            web.get("/v4/perpetualPositions", self.perpetual_positions),
            web.get("/cosmos/auth/v1beta1/account_info/{address}", self.account_info),
            web.get("/abci_info", self.abci_info),
            web.get("/broadcast_tx_sync", self.broadcast_tx_sync),
        ]

    async def subaccount(self, request: web.Request) -> web.Response:
        address, number = request.match_info["address"], request.match_info["number"]
        wallet = self.wallets.get(address)
        if wallet is None or number != "0":
            return _not_found(f"No subaccount found with address {address} and subaccountNumber {number}")
        self.expire()
        return json_response({"subaccount": self.subaccount_json(wallet)})

    async def perpetual_positions(self, request: web.Request) -> web.Response:
        """``GET /v4/perpetualPositions?address=&subaccountNumber=[&status=OPEN,CLOSED,LIQUIDATED]``:
        the subaccount's positions, ``{"positions": [...]}``. Only open positions are kept, so a
        query for closed or liquidated ones finds none."""
        query = request.query
        for required in ("address", "subaccountNumber"):
            if required not in query:
                return _invalid(required, "", f"{required} is required")
        statuses = set(query.get("status", "OPEN").split(","))
        unknown = statuses - {"OPEN", "CLOSED", "LIQUIDATED"}
        if unknown:
            return _invalid("status", query["status"], "status must be a valid Position Status (OPEN, etc)")
        limit = query.get("limit", "1000")
        if not limit.isdigit():
            return _invalid("limit", limit, "limit must be a positive integer")
        wallet = self.wallets.get(query["address"])
        if wallet is None or query["subaccountNumber"] != "0" or "OPEN" not in statuses:
            return json_response({"positions": []})
        listed = [self.position_json(s, p) for s, p in self.open_positions(wallet).items()]
        return json_response({"positions": listed[: int(limit)]})

    async def list_orders(self, request: web.Request) -> web.Response:
        """Newest goodTil first, as the indexer sorts them; ``status`` filters (comma-separated)."""
        query = request.query
        if "address" not in query or "subaccountNumber" not in query:
            missing = "address" if "address" not in query else "subaccountNumber"
            return _invalid(missing, "", f"{missing} is required")
        symbol = self.symbol_of(query["ticker"]) if "ticker" in query else None
        if "ticker" in query and symbol is None:
            return _invalid("ticker", query["ticker"], "ticker must be a valid ticker (BTC-USD, etc)")
        self.expire()
        statuses = set(query["status"].split(",")) if "status" in query else None
        listed = [
            self.order_json(oid, p)
            for oid, p in self.placements.items()
            if p.order.order_id.owner == query["address"] and str(p.order.order_id.number) == query["subaccountNumber"]
            and symbol in (None, self.order_symbol(p.order))
        ]
        listed = [o for o in listed if statuses is None or o["status"] in statuses]
        listed.sort(key=lambda o: ("goodTilBlockTime" in o, o.get("goodTilBlockTime") or int(o["goodTilBlock"])), reverse=True)
        return json_response(listed[: int(query.get("limit", "1000"))])

    async def get_order(self, request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        try:
            uuid.UUID(order_id)
        except ValueError:
            return _invalid("orderId", order_id, "Invalid value", "params")
        placement = self.placements.get(order_id)
        if placement is None:
            return _not_found(f"Unable to find order id {order_id}")
        self.expire()
        return json_response(self.order_json(order_id, placement))

    async def account_info(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        wallet = self.wallets.get(address)
        if wallet is None:
            return json_response({"code": 5, "message": f"account {address} not found", "details": []}, status=404)
        return json_response(
            {
                "info": {
                    "address": address,
                    "pub_key": {"@type": dydx_tx.SECP256K1_PUBKEY, "key": base64.b64encode(wallet.public_key).decode()},
                    "account_number": str(wallet.account_number),
                    "sequence": str(wallet.sequence),
                }
            }
        )

    async def abci_info(self, request: web.Request) -> web.Response:
        height = _height()
        app_hash = base64.b64encode(hashlib.sha256(str(height).encode()).digest()).decode()
        info = {"data": "dydxprotocol", "version": APP_VERSION, "last_block_height": str(height), "last_block_app_hash": app_hash}
        return json_response({"jsonrpc": "2.0", "id": -1, "result": {"response": info}})

    async def broadcast_tx_sync(self, request: web.Request) -> web.Response:
        """CometBFT's URI form: ``tx=0x<hex>``; CheckTx's verdict in ``result``."""
        param = request.query.get("tx", "")
        try:
            raw = bytes.fromhex(param[2:]) if param.startswith("0x") else None
        except ValueError:
            raw = None
        if raw is None:
            error = {"code": -32602, "message": "Invalid params",
                     "data": "error converting http params to arguments: tx must be 0x-prefixed hex"}
            return json_response({"jsonrpc": "2.0", "id": -1, "error": error}, status=500)
        self.expire()
        code, codespace, log = 0, "", "[]"
        try:
            self.check_tx(dydx_tx.decode_tx(raw))
        except DecodeError as exc:
            code, codespace, log = 2, "sdk", f"{exc}: {SDK_ERRORS[2]}"
        except Refusal as exc:
            code, codespace, log = int(exc.code), exc.shape.detail, exc.message
        result = {"code": code, "data": "", "log": log, "codespace": codespace, "hash": dydx_tx.tx_hash(raw)}
        return json_response({"jsonrpc": "2.0", "id": -1, "result": result})

    def check_tx(self, tx: Tx) -> None:
        if not tx.messages:
            raise sdk_error(18, "must contain at least one message")
        for msg in tx.messages:
            validate_basic(msg)
        wallet = self.authenticate(tx)
        for msg in tx.messages:
            if isinstance(msg, Order):
                self.place(wallet, msg)
            else:
                self.cancel(msg)

    def authenticate(self, tx: Tx) -> Wallet:
        """The ante handler: signer account, public key, sequence (skipped when every message is
        short-term: goodTilBlock protects against replay), then the signature."""
        if not tx.signatures:
            raise sdk_error(15)
        owners = {m.order_id.owner for m in tx.messages}
        if len(owners) != 1 or len(tx.signatures) != 1 or len(tx.signers) != 1:
            raise sdk_error(4, f"invalid number of signer;  expected: {len(owners)}, got {len(tx.signatures)}")
        owner, signer = owners.pop(), tx.signers[0]
        wallet = self.wallets.get(owner)
        if wallet is None:
            raise sdk_error(9, f"account {owner} does not exist")
        if signer.key_type != dydx_tx.SECP256K1_PUBKEY or dydx_tx.address(signer.public_key) != owner:
            raise sdk_error(8, f"pubKey does not match signer address {owner} with signer index: 0")
        if not all(m.order_id.short_term for m in tx.messages):
            self.check_sequence(wallet, signer.sequence)
        signed = dydx_tx.sign_doc(tx, CHAIN_ID, wallet.account_number)
        if signer.sign_mode != dydx_tx.SIGN_MODE_DIRECT or not dydx_tx.verify(wallet.public_key, tx.signatures[0], signed):
            detail = f"signature verification failed; please verify account number ({wallet.account_number}) and chain-id ({CHAIN_ID})"
            raise sdk_error(4, f"{detail}: (unable to verify single signer signature)")
        return wallet

    def check_sequence(self, wallet: Wallet, sequence: int) -> None:
        if sequence >= TIMESTAMP_NONCE_CUTOFF:
            wallet.take_nonce(sequence, int(time.time() * 1000))
        elif sequence == wallet.sequence:
            wallet.sequence += 1
        else:
            raise sdk_error(32, f"account sequence mismatch, expected {wallet.sequence}, got {sequence}")

    def place(self, wallet: Wallet, order: Order) -> None:
        oid = order.order_id
        symbol = self.clob_symbol(oid.clob_pair_id)
        self.check_grid(symbol, order)
        check_good_til(oid, order.good_til_block, order.good_til_block_time)
        if order.condition_type == TAKE_PROFIT:
            raise clob_error(9002, "take-profit orders are not simulated")
        order_id = order_uuid(oid)
        if order_id in self.placements:
            raise clob_error(20) if oid.short_term else clob_error(3005)
        # registered first: the engine's events for the order (accepted, filled) stream at once
        placement = self.placements[order_id] = Placement(order, None)
        try:
            if oid.number != 0:
                raise Reject("insufficient_balance", "the simulator funds subaccount 0 only")
            placement.engine_id = self.submit(wallet.key.account, symbol, order, order_id).order_id
        except Reject as exc:
            if exc.reason in REMOVALS and (exc.reason != "insufficient_balance" or oid.short_term):
                return
            del self.placements[order_id]
            if exc.reason == "insufficient_balance":
                raise tx_refusal(TX_REFUSALS[Reason.INSUFFICIENT_BALANCE],
                                 f"PlaceStatefulOrder: order ({order_id}), result (NewlyUndercollateralized)") from None
            raise tx_refusal(TX_REFUSALS[Reason.BAD_PARAMETER], str(exc)) from None

    def submit(self, account: str, symbol: str, order: Order, order_id: str) -> SimOrder:
        conditional = order.condition_type == STOP_LOSS
        return self.engine.submit(
            account,
            symbol,
            Side.BUY if order.side == 1 else Side.SELL,
            OrderType.STOP_LIMIT if conditional else OrderType.LIMIT,
            self.amount(symbol, order.quantums),
            self.price(symbol, order.subticks),
            stop_price=self.price(symbol, order.trigger_subticks) if conditional else None,
            tif=TimeInForce.IOC if order.time_in_force == IOC else TimeInForce.GTC,
            post_only=order.time_in_force == POST_ONLY,
            reduce_only=order.reduce_only,
            client_id=order_id,
        )

    def cancel(self, msg: CancelOrder) -> None:
        oid = msg.order_id
        self.clob_symbol(oid.clob_pair_id)
        check_good_til(oid, msg.good_til_block, msg.good_til_block_time)
        order_id = order_uuid(oid)
        placement = self.placements.get(order_id)
        engine = None if placement is None else self.engine_order(placement)
        if engine is None or engine.status.final:
            if oid.short_term:
                return  # the memclob keeps a short-term cancel even for an order it does not hold
            raise tx_refusal(TX_REFUSALS[Reason.UNKNOWN_ORDER], f"Order Id to cancel does not exist. OrderId : {order_id}")
        self.engine.cancel(engine.account, engine.order_id)

    def check_grid(self, symbol: str, order: Order) -> None:
        subticks_per_tick = self.grid(symbol)[1]
        if order.quantums % STEP_BASE_QUANTUMS:
            raise clob_error(12, f"Order Quantums {order.quantums} must be a multiple of the ClobPair's StepBaseQuantums "
                                 f"{STEP_BASE_QUANTUMS}")
        for what, value in (("subticks", order.subticks), ("conditional order trigger subticks", order.trigger_subticks)):
            if value % subticks_per_tick:
                raise clob_error(12, f"Order {what} {value} must be a multiple of the ClobPair's SubticksPerTick {subticks_per_tick}")

    def expire(self) -> None:
        """Orders whose goodTilBlock or goodTilBlockTime has passed leave the book."""
        height, now = _height(), time.time()
        for placement in self.placements.values():
            engine, order = self.engine_order(placement), placement.order
            passed = order.good_til_block < height if order.order_id.short_term else order.good_til_block_time < now
            if engine is not None and passed and not engine.status.final:
                self.engine.cancel(engine.account, engine.order_id)

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["connection_id"] = str(uuid.uuid4())
        conn.state["message_id"] = 0
        conn.state["subscribes"] = {}  # channel + id -> (window start, subscribes in it)
        conn.send(_text({"type": "connected", "connection_id": conn.state["connection_id"], "message_id": 0}))

    async def on_client_message(self, conn: SimConnection, data: str | bytes) -> None:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._error(conn, "Invalid message: could not parse", conn.state["message_id"])
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if not kind:
            self._error(conn, "Invalid message: type is required", conn.state["message_id"])
        elif kind == "ping":
            self.client_pings += 1  # the indexer accepts these and answers nothing
        elif kind not in ("subscribe", "unsubscribe"):
            self._error(conn, f"Invalid message type: {kind}", conn.state["message_id"])
        elif self._valid_request(conn, msg):
            if kind == "subscribe" and msg["channel"] == SUBACCOUNTS:
                self._subscribe_subaccount(conn, msg["id"])
            elif kind == "subscribe":
                self._subscribe(conn, msg["channel"], msg.get("id", ""), bool(msg.get("batched")))
            else:
                self._unsubscribe(conn, msg["channel"], msg.get("id", ""))

    def _valid_request(self, conn: SimConnection, msg: dict[str, Any]) -> bool:
        channel = msg.get("channel")
        if not channel:
            problem = "Invalid subscribe message: channel is required"
        elif channel not in CHANNELS:
            problem = f"Invalid channel: {channel}"
        elif channel != MARKETS and not isinstance(msg.get("id"), str):
            problem = f"Invalid id: {msg.get('id')}"
        else:
            return True
        self._error(conn, problem, conn.state["message_id"])
        return False

    def _subscribe(self, conn: SimConnection, channel: str, ticker: str, batched: bool) -> None:
        mid = self._next_id(conn)
        candle = self.candle_key(ticker) if channel == CANDLES else None
        symbol = self.symbol_of(candle[0] if candle else ticker)
        if channel == MARKETS:
            self._spawn(self._answer_markets(conn, batched, mid))
        elif symbol is None or (channel == CANDLES and candle is None):
            self._error(conn, f"Invalid subscription id for channel: ({channel}-{ticker})", mid)
        elif self._rate_limited(conn, channel + ticker):
            self._error(conn, f"Too many subscribe attempts for channel {channel}-{ticker}. Please reconnect and try again.", mid)
            self._spawn(self._close_rate_limited(conn))
        else:
            self._spawn(self._answer_subscribe(conn, symbol, channel, batched, mid, candle[1] if candle else ""))

    def _rate_limited(self, conn: SimConnection, key: str) -> bool:
        now = time.time()
        start, points = conn.state["subscribes"].get(key, (None, 0))
        if start is not None and now - start < SUBSCRIBE_WINDOW:
            conn.state["subscribes"][key] = (start, points + 1)
            return points + 1 > SUBSCRIBE_POINTS
        conn.state["subscribes"][key] = (now, 1)
        return False

    async def _close_rate_limited(self, conn: SimConnection) -> None:
        await asyncio.sleep(0.05)  # let the error frame go out first
        await conn.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b'{"message":"Rate limited"}')

    async def _answer_subscribe(self, conn: SimConnection, symbol: str, channel: str, batched: bool, mid: int,
                                resolution: str = "") -> None:
        """``resolution``: a ``v4_candles`` subscription's (its channel is held as ``v4_candles/<resolution>``)."""
        await asyncio.sleep(self.rng.uniform(*self.fetch_delay))
        if conn.ws.closed:
            return
        ticker = self.native(symbol)
        key = f"{channel}/{resolution}" if resolution else channel
        channels: dict[str, bool] = conn.subs.setdefault(symbol, {})
        if key in channels:
            self._error(conn, f"Invalid subscribe message: already subscribed ({channel}-{ticker})", mid)
            return
        channels[key] = batched
        if channel == BOOK:
            contents = self.book_state(symbol)
        elif channel == CANDLES:
            contents = self.subscribed_contents(symbol, channel, resolution)
            ticker = f"{ticker}/{resolution}"
        else:
            contents = {"trades": list(self.recent[symbol])}
        conn.send(_text({"type": "subscribed", "connection_id": conn.state["connection_id"], "message_id": mid, "channel": channel,
                         "id": ticker, "contents": contents}))

    async def _answer_markets(self, conn: SimConnection, batched: bool, mid: int) -> None:
        await asyncio.sleep(self.rng.uniform(*self.fetch_delay))
        if conn.ws.closed:
            return
        if conn.state.get(MARKETS):
            self._error(conn, f"Invalid subscribe message: already subscribed ({MARKETS}-)", mid)
            return
        conn.state[MARKETS] = "batched" if batched else "plain"
        conn.send(_text({"type": "subscribed", "connection_id": conn.state["connection_id"], "message_id": mid,
                         "channel": MARKETS, "contents": self.subscribed_contents(None, MARKETS, "")}))

    def _subscribe_subaccount(self, conn: SimConnection, subaccount_id: str) -> None:
        """``{address}/{subaccountNumber}``: no signature, the address is public (the indexer
        streams any subaccount to anyone)."""
        mid = self._next_id(conn)
        address, _, number = subaccount_id.partition("/")
        wallet = self.wallets.get(address)
        if wallet is None or number != "0":
            self._error(conn, f"Invalid subscription id for channel: ({SUBACCOUNTS}-{subaccount_id})", mid)
        elif conn.state.get(SUBACCOUNTS) is not None:
            self._error(conn, f"Invalid subscribe message: already subscribed ({SUBACCOUNTS}-{subaccount_id})", mid)
        else:
            self._spawn(self._answer_subaccount(conn, wallet, subaccount_id, mid))

    async def _answer_subaccount(self, conn: SimConnection, wallet: Wallet, subaccount_id: str, mid: int) -> None:
        await asyncio.sleep(self.rng.uniform(*self.fetch_delay))
        if conn.ws.closed:
            return
        self.expire()
        orders = [self.order_json(oid, p) for oid, p in self.placements.items() if p.order.order_id.owner == wallet.address]
        contents = {
            "subaccount": self.subaccount_json(wallet),
            "orders": [o for o in orders if o["status"] in ("OPEN", "UNTRIGGERED")],
            "blockHeight": str(_height()),
        }
        conn.state[SUBACCOUNTS] = subaccount_id
        conn.account = wallet.key.account
        conn.send(_text({"type": "subscribed", "connection_id": conn.state["connection_id"], "message_id": mid,
                         "channel": SUBACCOUNTS, "id": subaccount_id, "contents": contents}))

    def streaming_to(self, account: str) -> bool:
        return any(c.state.get(SUBACCOUNTS) for c in self.private_connections(account))

    def private_frames_for(self, conn: SimConnection, event: OrderEvent) -> list[Frame]:
        """The order as it now stands and, for a fill, the fill: one ``channel_data`` (the indexer
        sends a block's updates of a subaccount together)."""
        placement = self.placements.get(event.order.client_id)
        subaccount_id = conn.state.get(SUBACCOUNTS)
        if placement is None or subaccount_id is None:
            return []
        contents: dict[str, Any] = {"orders": [self.order_json(event.order.client_id, placement, event.order)]}
        if event.fill is not None:
            contents["fills"] = [self.subaccount_fill_json(event.fill)]
        contents["blockHeight"] = str(_height())
        return [self._message(conn, "channel_data", SUBACCOUNTS, subaccount_id, SUBACCOUNTS_VERSION, contents)]

    def _unsubscribe(self, conn: SimConnection, channel: str, ticker: str) -> None:
        if channel == SUBACCOUNTS and conn.state.get(SUBACCOUNTS) == ticker:
            conn.state[SUBACCOUNTS] = None
            conn.account = None
        if channel == MARKETS:
            conn.state[MARKETS] = None
        candle = self.candle_key(ticker) if channel == CANDLES else None
        symbol = self.symbol_of(candle[0] if candle else ticker)
        if symbol is not None and symbol in conn.subs:
            conn.subs[symbol].pop(f"{channel}/{candle[1]}" if candle else channel, None)
            if not conn.subs[symbol]:
                del conn.subs[symbol]
        mid = self._next_id(conn)
        conn.send(_text({"type": "unsubscribed", "connection_id": conn.state["connection_id"], "message_id": mid,
                         "channel": channel, "id": ticker}))

    def _error(self, conn: SimConnection, message: str, mid: int) -> None:
        conn.send(_text({"type": "error", "message": message, "connection_id": conn.state["connection_id"], "message_id": mid}))

    def _next_id(self, conn: SimConnection) -> int:
        conn.state["message_id"] += 1
        return int(conn.state["message_id"])

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def encode(self, symbol: str, changes: list[Change]) -> tuple[Levels, Levels, bool]:
        """This tick's levels per side and whether the skip fault takes an id; message ids are
        per connection, so ``frames_for`` frames them."""
        ladder = self.ladders[symbol]
        bids = [self._pair(ladder, p, q) for is_bid, p, q in changes if is_bid]
        asks = [self._pair(ladder, p, q) for is_bid, p, q in changes if not is_bid]
        return bids, asks, self.faults.take("skip", symbol)

    def _pair(self, ladder: Ladder, ticks: int, lots: int) -> list[str]:
        return [_num(ladder.price_str(ticks)), _num(ladder.size_str(lots)) if lots else "0"]

    def frames_for(self, conn: SimConnection, symbol: str, encoded: tuple[Levels, Levels, bool]) -> list[Frame]:
        bids, asks, skip = encoded
        if skip:
            conn.state["message_id"] += 1  # an id spent on a message this connection never gets
        channels: dict[str, bool] = conn.subs[symbol]
        if BOOK not in channels:
            return []
        updates = ([{"bids": bids}] if bids else []) + ([{"asks": asks}] if asks else [])
        return self._data(conn, BOOK, self.native(symbol), BOOK_VERSION, updates, channels[BOOK])

    def trade_frames_for(self, conn: SimConnection, symbol: str,
                         encoded: tuple[list[dict[str, Any]], StreamContents]) -> list[Frame]:
        trades, streams = encoded
        channels: dict[str, bool] = conn.subs[symbol]
        frames: list[Frame] = []
        if TRADES in channels and trades:
            frames += self._data(conn, TRADES, self.native(symbol), TRADES_VERSION, [{"trades": trades}], channels[TRADES])
        for channel, stream_id, updates in held_streams(conn, symbol, streams):
            if channel == MARKETS:
                batched, version = conn.state[MARKETS] == "batched", MARKETS_VERSION
            else:
                batched, version = channels[f"{channel}/{stream_id.partition('/')[2]}"], CANDLES_VERSION
            frames += self._data(conn, channel, stream_id, version, updates, batched)
        return frames

    def _data(self, conn: SimConnection, channel: str, ticker: str, version: str, updates: list[dict[str, Any]],
              batched: bool) -> list[Frame]:
        """A batched subscription gets the updates in one ``channel_batch_data``, others one
        ``channel_data`` each."""
        if batched:
            return [self._message(conn, "channel_batch_data", channel, ticker, version, updates)] if updates else []
        return [self._message(conn, "channel_data", channel, ticker, version, contents) for contents in updates]

    def _message(self, conn: SimConnection, kind: str, channel: str, ticker: str, version: str, contents: Any) -> str:
        mid = self._next_id(conn)
        return _text({"type": kind, "connection_id": conn.state["connection_id"], "message_id": mid, "id": ticker,
                      "channel": channel, "version": version, "contents": contents})

    def encode_trades(self, symbol: str, trades: list[SimTrade]) -> tuple[list[dict[str, Any]], StreamContents]:
        """A block's fills, published together in one trades message per connection, and this tick's
        candles and market updates (``streams.py``)."""
        ladder = self.ladders[symbol]
        out = []
        for t in trades:
            trade = {
                "id": str(uuid.uuid5(INDEXER_IDS, f"{symbol}:{t.trade_id}")),
                "side": "BUY" if t.buy else "SELL",
                "size": _num(ladder.size_str(t.lots)),
                "price": _num(ladder.price_str(t.ticks)),
                "type": "LIMIT",
                "createdAt": _iso(time.time()),
                "createdAtHeight": str(_height()),
            }
            out.append(trade)
            self.recent[symbol].appendleft(trade)  # newest first, as the indexer lists them
        return out, self.stream_contents(symbol)
