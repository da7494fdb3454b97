"""The simulated 1inch API: the Aggregation API v6 and the orderbook API v4 over a local chain.

Served paths (``{chainId}`` must be the chain's id):

* ``GET /swap/v6.0/{chainId}/quote?src&dst&amount[&includeGas&includeProtocols&includeTokensInfo]``
  -> ``{dstAmount, gas?, protocols?, srcToken?, dstToken?}``: the best of the local Uniswap V3
  pools between the two tokens (every fee tier) and the two-hop routes through WETH, priced by
  QuoterV2 with eth_call.
* ``GET /swap/v6.0/{chainId}/swap?src&dst&amount&from&slippage[&origin&receiver]`` -> the quote plus
  ``tx{from,to,data,value,gas,gasPrice}``: a real SwapRouter ``exactInputSingle`` / ``exactInput``
  call for the best route with ``amountOutMinimum`` from the slippage, so sending it swaps on the
  chain. The local SwapRouter plays 1inch's aggregation router (it is the approve spender).
* ``GET .../approve/spender`` ``{address}``, ``.../approve/transaction?tokenAddress[&amount]``
  ``{data, gasPrice, to, value}``, ``.../approve/allowance?tokenAddress&walletAddress``
  ``{allowance}``, ``.../liquidity-sources`` ``{protocols: [{id, title, img, img_color}]}``.
* ``POST /orderbook/v4.0/{chainId}`` ``{orderHash, signature, data}`` (the hash must be the order's
  EIP-712 digest under the deployed protocol's domain and the signature must recover to the maker),
  ``GET .../order/{orderHash}``, ``GET .../address/{maker}?statuses&page&limit``: records
  ``{orderHash, signature, data, createDateTime, remainingMakerAmount, makerBalance, makerAllowance,
  makerRate, takerRate, isMakerContract, orderInvalidReason}`` read from the chain on every request
  (``orderInvalidReason`` here: "order filled", "order cancelled", "order expired", "not enough
  balance", "not enough allowance").

Every request needs ``Authorization: Bearer <key>`` of a key this server issued (else 401) and
stays within the key's plan rate (else 429 with Retry-After). Errors have 1inch's shape
``{error, description, statusCode, requestId, meta: [{type, value}]}`` naming the bad parameter.

For tests and the demo: ``served`` counts the requests answered per endpoint, and
``move_price_after_next_swap(bps)`` has the next swap's route pools moved ``bps`` against its taker
right after its transaction is built (a trader front-running it), so that transaction reverts on
its minimum return when ``bps`` exceeds its slippage.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import orjson
from aiohttp import web
from eth_utils import is_address, to_checksum_address

from ....errors import CrossbookError, InvalidOrder
from ....venues.dex.evm import APPROVE, MAX_UINT, Evm, TransactionFailed, Wallet, encode_path
from ....venues.dex.oneinch import (
    ALLOWANCE,
    BALANCE_OF,
    Domain,
    LimitOrder,
    limits_for,
    maker_funds,
    order_hash,
    order_state,
    read_domain,
    recover_maker,
)
from ....venues.dex.uniswap_v3_exec import (
    EXACT_INPUT,
    EXACT_INPUT_SINGLE,
    QUOTE_EXACT_INPUT,
    QUOTE_EXACT_INPUT_SINGLE,
    SLOT0,
)
from ....venues.spec.limits import LimitTable
from ...chain import Deployment, Pool, Token
from ...ratelimit import VenueLimits, retry_after
from ...refusal import Reason, Refusal
from .errors import REFUSALS, api_error, refused, render

FEE_TIERS = (500, 3000, 10000)
DEADLINE_SECONDS = 1200
SWAP_OVERHEAD_GAS = 60_000  # the router's call around the pools' swaps, for the quote's gas
SOURCES = [{"id": "UNISWAP_V3", "title": "Uniswap V3", "img": "", "img_color": "#ff007a"}]
MOVER_ETHER = 10**21  # wei the front-runner holds for gas
MOVER_TOKENS = 10**12  # whole tokens the front-runner may spend; its price limit decides what it does

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


@dataclass(frozen=True, slots=True)
class Route:
    """A way through the local pools: tokens in order and the fee of each hop."""

    tokens: tuple[Token, ...]
    fees: tuple[int, ...]
    dst_amount: int
    gas: int


@dataclass(frozen=True, slots=True)
class StoredOrder:
    order: LimitOrder
    hash: bytes
    signature: str
    created: str
    block: int


class OneInchSim:
    """The 1inch API for one local chain (``deployment``), on 127.0.0.1 at a free port."""

    def __init__(self, deployment: Deployment, plan: str = "developer", limits: LimitTable | None = None) -> None:
        self.deployment = deployment
        self.chain_id = deployment.chain_id
        self.router = deployment.addresses["swap_router"]
        self.quoter = deployment.addresses["quoter_v2"]
        self.lop = deployment.addresses.get("limit_order_protocol")
        self.limits = VenueLimits(limits or limits_for(plan))
        self.api_keys: set[str] = set()
        self.orders: dict[str, StoredOrder] = {}
        self.rate_limited = 0
        self.served: Counter[str] = Counter()  # requests answered, by endpoint name ("quote", "swap", ...)
        self.base_url = ""
        self._move_bps: float | None = None
        self._mover: Wallet | None = None
        self._mover_approved: set[str] = set()
        self._tokens = {t.address.lower(): t for t in deployment.tokens.values()}
        self._evm: Evm | None = None
        self._domain: Domain | None = None
        self._runner: web.AppRunner | None = None

    def issue_key(self) -> str:
        key = secrets.token_hex(16)
        self.api_keys.add(key)
        return key

    @property
    def evm(self) -> Evm:
        if self._evm is None:
            raise CrossbookError("the simulated 1inch API is not started")
        return self._evm

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._evm = Evm(self.deployment.rpc_url)
        app = web.Application(middlewares=[self._errors, self._authenticate])
        swap = "/swap/v6.0/{chain}"
        book = "/orderbook/v4.0/{chain}"
        app.add_routes([
            web.get(swap + "/quote", self._quote, name="quote"),
            web.get(swap + "/swap", self._swap, name="swap"),
            web.get(swap + "/approve/spender", self._spender, name="approve_spender"),
            web.get(swap + "/approve/transaction", self._approve_transaction, name="approve_transaction"),
            web.get(swap + "/approve/allowance", self._allowance, name="allowance"),
            web.get(swap + "/liquidity-sources", self._sources, name="liquidity_sources"),
            web.post(book, self._submit, name="submit"),
            web.get(book + "/order/{hash}", self._order, name="order"),
            web.get(book + "/address/{maker}", self._orders_of, name="orders_of"),
        ])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{bound[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._evm is not None:
            await self._evm.close()
            self._evm = None
            self._mover = None

    async def __aenter__(self) -> OneInchSim:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- middlewares -----------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            return render(refusal)
        except InvalidOrder as e:
            return render(api_error(400, str(e)))

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or key not in self.api_keys:
            return render(REFUSALS[Reason.UNKNOWN_KEY].refuse())
        over = self.limits.check(request.method, request.path, dict(request.query), key, "")
        if over is not None:
            self.rate_limited += 1
            return render(REFUSALS[Reason.RATE_LIMITED].refuse(headers=retry_after(over.wait)))
        if request.match_info.get("chain") != str(self.chain_id):
            raise api_error(400, f"chain {request.match_info.get('chain')} is not served here", "chainId", request.match_info.get("chain"))
        self.served[request.match_info.route.name or request.path] += 1
        return await handler(request)

    # ---- the aggregation API ---------------------------------------------------------------

    async def _quote(self, request: web.Request) -> web.Response:
        src, dst, amount = self._token(request, "src"), self._token(request, "dst"), _amount(request)
        route = await self._best_route(src, dst, amount)
        return json_response(self._quote_body(request, src, dst, route))

    async def _swap(self, request: web.Request) -> web.Response:
        src, dst, amount = self._token(request, "src"), self._token(request, "dst"), _amount(request)
        sender = _address(request, "from")
        receiver = _address(request, "receiver") if "receiver" in request.query else sender
        slippage = _slippage(request)
        route = await self._best_route(src, dst, amount)
        await self._check_funds(src, sender, amount)
        minimum = route.dst_amount * round((100 - slippage) * 1e6) // (100 * 10**6)
        deadline = await self.evm.timestamp() + DEADLINE_SECONDS
        data = _router_call(route, receiver, deadline, amount, minimum)
        tx: dict[str, Any] = {"from": sender, "to": self.router, "data": "0x" + data.hex(), "value": "0"}
        try:
            estimate = await self.evm.w3.eth.estimate_gas({"from": sender, "to": self.router, "data": data})  # type: ignore[typeddict-item]
        except Exception as e:  # the node's error for a failing estimate varies; its text is the reason
            raise api_error(400, f"the swap transaction would fail: {str(e)[:200]}") from None
        tx.update(gas=int(estimate * 1.25), gasPrice=str(await self.evm.w3.eth.gas_price))
        body = self._quote_body(request, src, dst, route)
        body["tx"] = tx
        if self._move_bps is not None:
            bps, self._move_bps = self._move_bps, None
            await self._move_route(route, bps)
        return json_response(body)

    async def _spender(self, request: web.Request) -> web.Response:
        return json_response({"address": self.router})

    async def _approve_transaction(self, request: web.Request) -> web.Response:
        token = self._token(request, "tokenAddress")
        amount = _amount(request) if "amount" in request.query else MAX_UINT
        data = APPROVE.encode(self.router, amount)
        return json_response({"data": "0x" + data.hex(), "gasPrice": str(await self.evm.w3.eth.gas_price),
                              "to": token.address, "value": "0"})

    async def _allowance(self, request: web.Request) -> web.Response:
        token = self._token(request, "tokenAddress")
        wallet = _address(request, "walletAddress")
        (allowance,) = await self.evm.call(token.address, ALLOWANCE, wallet, self.router)
        return json_response({"allowance": str(allowance)})

    async def _sources(self, request: web.Request) -> web.Response:
        return json_response({"protocols": SOURCES})

    def _token(self, request: web.Request, param: str) -> Token:
        raw = request.query.get(param)
        if raw is None:
            raise api_error(400, f"{param} is required", param, "")
        token = self._tokens.get(raw.lower())
        if token is None:
            raise refused(Reason.UNKNOWN_SYMBOL, param, raw, name=param, raw=raw)
        return token

    def _quote_body(self, request: web.Request, src: Token, dst: Token, route: Route) -> dict[str, Any]:
        body: dict[str, Any] = {"dstAmount": str(route.dst_amount)}
        if _flag(request, "includeTokensInfo"):
            body.update(srcToken=_token_info(src), dstToken=_token_info(dst))
        if _flag(request, "includeProtocols"):
            hops = pairwise(route.tokens)
            body["protocols"] = [[[{"name": "UNISWAP_V3", "part": 100, "fromTokenAddress": a.address,
                                    "toTokenAddress": b.address}] for a, b in hops]]
        if _flag(request, "includeGas"):
            body["gas"] = route.gas
        return body

    async def _best_route(self, src: Token, dst: Token, amount: int) -> Route:
        if src.address == dst.address:
            raise api_error(400, "src and dst are the same token", "dst", dst.address)
        best: Route | None = None
        for tokens, fees in self._paths(src, dst):
            route = await self._price(tokens, fees, amount)
            if route is not None and (best is None or route.dst_amount > best.dst_amount):
                best = route
        if best is None or best.dst_amount == 0:
            raise refused(Reason.NO_LIQUIDITY, "amount", amount)
        return best

    def _paths(self, src: Token, dst: Token) -> list[tuple[tuple[Token, ...], tuple[int, ...]]]:
        paths: list[tuple[tuple[Token, ...], tuple[int, ...]]] = [((src, dst), (fee,)) for fee in FEE_TIERS if self._pool(src, dst, fee)]
        weth = self.deployment.tokens.get("WETH")
        if weth is not None and weth.address not in (src.address, dst.address):
            for first in FEE_TIERS:
                for second in FEE_TIERS:
                    if self._pool(src, weth, first) and self._pool(weth, dst, second):
                        paths.append(((src, weth, dst), (first, second)))
        return paths

    def _pool(self, a: Token, b: Token, fee: int) -> bool:
        pools = self.deployment.pools
        return (a.symbol, b.symbol, fee) in pools or (b.symbol, a.symbol, fee) in pools

    async def _price(self, tokens: tuple[Token, ...], fees: tuple[int, ...], amount: int) -> Route | None:
        try:
            if len(fees) == 1:
                params = (tokens[0].address, tokens[1].address, amount, fees[0], 0)
                out, _, _, gas = await self.evm.call(self.quoter, QUOTE_EXACT_INPUT_SINGLE, params)
            else:
                path = encode_path([t.address for t in tokens], list(fees))
                out, _, _, gas = await self.evm.call(self.quoter, QUOTE_EXACT_INPUT, path, amount)
        except TransactionFailed:  # a pool that cannot take the amount at all
            return None
        return Route(tokens, fees, int(out), int(gas) + SWAP_OVERHEAD_GAS)

    async def _check_funds(self, token: Token, owner: str, amount: int) -> None:
        (balance,) = await self.evm.call(token.address, BALANCE_OF, owner)
        if balance < amount:
            raise refused(Reason.INSUFFICIENT_BALANCE, "amount", amount, symbol=token.symbol, amount=amount, balance=balance)
        (allowance,) = await self.evm.call(token.address, ALLOWANCE, owner, self.router)
        if allowance < amount:
            raise api_error(400, f"Not enough {token.symbol} allowance. Amount: {amount}. Allowance: {allowance}. "
                                f"Spender: {self.router}", "allowance", allowance)

    # ---- a front-runner, for tests and the demo ----------------------------------------------

    def move_price_after_next_swap(self, bps: float) -> None:
        """Once the next /swap transaction is built, and before its answer leaves, move each pool
        of its route ``bps`` basis points against its taker (a swap in the taker's direction up to
        that price, mined at once): the taker's transaction then reverts on its minimum return if
        ``bps`` is more than its slippage allows. The front-runner is a key of its own, funded with
        anvil's cheat calls, so no wallet of the chain's keys sees its nonce move."""
        if not 0 < bps < 10_000:
            raise CrossbookError(f"a price move must be between 0 and 10000 basis points, got {bps}")
        self._move_bps = bps

    async def _move_route(self, route: Route, bps: float) -> None:
        for (a, b), fee in zip(pairwise(route.tokens), route.fees, strict=True):
            pool = self.deployment.pools.get((a.symbol, b.symbol, fee)) or self.deployment.pools[(b.symbol, a.symbol, fee)]
            await self._move_pool(pool, a, b, bps)

    async def _move_pool(self, pool: Pool, token_in: Token, token_out: Token, bps: float) -> None:
        """Swap ``token_in`` for ``token_out`` on ``pool`` until its price is ``bps`` worse for
        whoever sells ``token_in`` (Uniswap's sqrtPriceLimitX96 stops the swap there)."""
        mover = await self._funded_mover(token_in)
        (sqrt_price, *_) = await self.evm.call(pool.address, SLOT0)
        down = token_in.address == pool.token0.address  # token0 in: token1 per token0 falls
        factor = 10**8 - round(bps * 10**4) if down else 10**8 + round(bps * 10**4)
        target = math.isqrt(int(sqrt_price) ** 2 * factor // 10**8)
        deadline = await self.evm.timestamp() + DEADLINE_SECONDS
        amount = MOVER_TOKENS * 10**token_in.decimals
        params = (token_in.address, token_out.address, pool.fee, mover.address, deadline, amount, 0, target)
        await mover.send(self.router, EXACT_INPUT_SINGLE.encode(params), gas=1_000_000)

    async def _funded_mover(self, token: Token) -> Wallet:
        if self._mover is None:
            self._mover = Wallet(self.evm, "0x" + secrets.token_hex(32))
            await self._anvil("anvil_setBalance", [self._mover.address, hex(MOVER_ETHER)])
        mover = self._mover
        await self._anvil("anvil_dealERC20", [mover.address, token.address, hex(MOVER_TOKENS * 10**token.decimals)])
        if token.address not in self._mover_approved:
            await mover.send(token.address, APPROVE.encode(self.router, MAX_UINT))
            self._mover_approved.add(token.address)
        return mover

    async def _anvil(self, method: str, params: list[Any]) -> None:
        reply = await self.evm.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in reply:
            raise CrossbookError(f"the local chain refused {method}: {reply['error']}")

    # ---- the orderbook ---------------------------------------------------------------------

    async def _protocol(self) -> tuple[str, Domain]:
        if self.lop is None:
            raise api_error(400, "no limit order protocol is deployed on this chain", "chainId", self.chain_id)
        if self._domain is None:
            self._domain = await read_domain(self.evm, self.lop)
        return self.lop, self._domain

    async def _submit(self, request: web.Request) -> web.Response:
        _, domain = await self._protocol()
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise api_error(400, "the request body is not JSON", "body", "") from None
        if not isinstance(body, dict):
            raise api_error(400, "the request body must be an object", "body", "")
        for field in ("orderHash", "signature", "data"):
            if field not in body:
                raise api_error(400, f"{field} is required", field, "")
        data = body["data"]
        if not isinstance(data, dict):
            raise api_error(400, "data must be an object", "data", "")
        if data.get("extension", "0x") not in ("0x", ""):
            raise api_error(400, "order extensions are not supported by this orderbook", "extension", data["extension"])
        order = LimitOrder.from_api(data)
        digest = order_hash(order, domain)
        if str(body["orderHash"]).lower() != "0x" + digest.hex():
            raise api_error(400, "orderHash is not the order's EIP-712 hash", "orderHash", body["orderHash"])
        signature = _signature(body["signature"])
        if recover_maker(order, domain, signature) != order.maker:
            raise api_error(400, "signature does not recover to the order's maker", "signature", body["signature"])
        created = datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.orders["0x" + digest.hex()] = StoredOrder(order, digest, "0x" + signature.hex(), created, await self.evm.block_number())
        return json_response({"success": True}, status=201)

    async def _order(self, request: web.Request) -> web.Response:
        stored = self.orders.get(request.match_info["hash"].lower())
        if stored is None:
            raise refused(Reason.UNKNOWN_ORDER, "orderHash", request.match_info["hash"])
        item, _ = await self._item(stored)
        return json_response(item)

    async def _orders_of(self, request: web.Request) -> web.Response:
        maker = request.match_info["maker"]
        if not is_address(maker):
            raise api_error(400, "address is not an address", "address", maker)
        statuses = _statuses(request)
        page, limit = _positive(request, "page", 1), _positive(request, "limit", 100)
        items = []
        for stored in self.orders.values():
            if stored.order.maker.lower() == maker.lower():
                item, status = await self._item(stored)
                if not statuses or status in statuses:
                    items.append(item)
        return json_response(items[(page - 1) * limit : page * limit])

    async def _item(self, stored: StoredOrder) -> tuple[dict[str, Any], int]:
        """The API record of an order and its status class (1 valid, 2 temporarily invalid, 3 invalid)."""
        lop, _ = await self._protocol()
        order = stored.order
        state = await order_state(self.evm, lop, order, stored.hash, stored.block)
        balance, allowance = await maker_funds(self.evm, lop, order)
        reasons: list[str] = []
        status = 1
        if state.status in ("filled", "cancelled", "expired"):
            reasons, status = [f"order {state.status}"], 3
        else:
            if balance < state.remaining:
                reasons.append("not enough balance")
            if allowance < state.remaining:
                reasons.append("not enough allowance")
            status = 2 if reasons else 1
        rate = Decimal(order.taking_amount) / Decimal(order.making_amount)
        item = {
            "orderHash": "0x" + stored.hash.hex(),
            "signature": stored.signature,
            "createDateTime": stored.created,
            "remainingMakerAmount": str(state.remaining),
            "makerBalance": str(balance),
            "makerAllowance": str(allowance),
            "data": order.to_api(),
            "makerRate": f"{rate:.18f}",
            "takerRate": f"{1 / rate:.18f}",
            "isMakerContract": False,
            "orderInvalidReason": reasons or None,
        }
        return item, status


# ---- request parameters ----------------------------------------------------------------------


def _amount(request: web.Request, param: str = "amount") -> int:
    raw = request.query.get(param, "")
    if not raw.isdigit() or int(raw) <= 0 or int(raw) > MAX_UINT:
        raise api_error(400, f"{param} must be a positive integer of raw token units", param, raw)
    return int(raw)


def _address(request: web.Request, param: str) -> str:
    raw = request.query.get(param, "")
    if not is_address(raw):
        raise api_error(400, f"{param} must be an address", param, raw)
    return to_checksum_address(raw)


def _slippage(request: web.Request) -> float:
    raw = request.query.get("slippage", "")
    try:
        value = float(raw)
    except ValueError:
        raise api_error(400, "slippage must be a number of percent from 0 to 50", "slippage", raw) from None
    if not 0 <= value <= 50:
        raise api_error(400, "slippage must be a number of percent from 0 to 50", "slippage", raw)
    return value


def _flag(request: web.Request, param: str) -> bool:
    return request.query.get(param, "false").lower() == "true"


def _positive(request: web.Request, param: str, default: int) -> int:
    raw = request.query.get(param, str(default))
    if not raw.isdigit() or int(raw) <= 0:
        raise api_error(400, f"{param} must be a positive integer", param, raw)
    return int(raw)


def _statuses(request: web.Request) -> set[int]:
    raw = request.query.get("statuses", "")
    values = [s.strip() for s in raw.split(",") if s.strip()]
    if any(v not in ("1", "2", "3") for v in values):
        raise api_error(400, "statuses must be a list of 1, 2, 3", "statuses", raw)
    return {int(v) for v in values}


def _signature(raw: Any) -> bytes:
    text = str(raw)
    try:
        signature = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    except ValueError:
        raise api_error(400, "signature is not hex", "signature", text) from None
    if len(signature) != 65:
        raise api_error(400, "signature must have 65 bytes (r, s, v)", "signature", text)
    return signature


def _token_info(token: Token) -> dict[str, Any]:
    return {"address": token.address, "symbol": token.symbol, "name": token.symbol, "decimals": token.decimals,
            "logoURI": "", "tags": ["tokens"]}


def _router_call(route: Route, recipient: str, deadline: int, amount: int, minimum: int) -> bytes:
    """SwapRouter calldata for ``route``: one pool, or the packed path through several."""
    if len(route.fees) == 1:
        params = (route.tokens[0].address, route.tokens[1].address, route.fees[0], recipient, deadline, amount, minimum, 0)
        return EXACT_INPUT_SINGLE.encode(params)
    path = encode_path([t.address for t in route.tokens], list(route.fees))
    return EXACT_INPUT.encode((path, recipient, deadline, amount, minimum))
