"""dYdX v4 trading through an unmodified ccxt client: orders are Cosmos transactions signed with a
secp256k1 key and broadcast to a node, the indexer reports them. Every order kind ccxt builds
(long-term limit, post-only, IOC, market with a worst price, stop-limit and stop-market,
reduce-only) placed, filled or resting, canceled and fetched; the chain's CheckTx rules (signer,
timestamp nonce, signature, goodTil windows) in its own codes; transactions built here with the
protobuf classes ccxt bundles and decoded by the simulator's own wire codec; dYdX's published
test vectors for keys, addresses and indexer ids.

The shared contract's expectations adapted to a perpetual-only venue without API keys are in
the first three tests (see each)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import time
import uuid
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import coincurve
import orjson
import pytest
from ccxt.static_dependencies.dydx_v4_client.cosmos.crypto.secp256k1.keys_pb2 import PubKey
from ccxt.static_dependencies.dydx_v4_client.cosmos.tx.v1beta1.tx_pb2 import (
    AuthInfo,
    Fee,
    ModeInfo,
    SignDoc,
    SignerInfo,
    TxBody,
    TxRaw,
)
from ccxt.static_dependencies.dydx_v4_client.dydxprotocol.clob.order_pb2 import Order, OrderId
from ccxt.static_dependencies.dydx_v4_client.dydxprotocol.clob.tx_pb2 import MsgCancelOrder, MsgPlaceOrder
from ccxt.static_dependencies.dydx_v4_client.dydxprotocol.subaccounts.subaccount_pb2 import SubaccountId
from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message

from crossbook.sim.access import ApiKey
from crossbook.sim.venues import dydx_tx
from crossbook.sim.venues.dydx import CHAIN_ID, HEIGHT_EPOCH, order_uuid, subaccount_uuid

from ..conftest import run, wait_for
from .trading_contract import TradingHarness

SYMBOL = "BTC/USDC:USDC"
SUBTICKS = 10**5  # subticks per USD on BTC-USD (atomicResolution -10, quantumConversionExponent -9)
QUANTUMS = 10**10  # quantums per BTC
# dYdX's own test account (v4-clients test constants): key, compressed public key, address
TEST_KEY = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"
TEST_PUBLIC_KEY = "03f0be763f781b5b59ebc37d721beda913148a539425baa720b97d4820f652ed75"
TEST_ADDRESS = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"


async def ready(h: TradingHarness, key: ApiKey | None = None, **overrides: Any) -> Any:
    ex = h.client(key, **overrides)
    await ex.load_markets()
    return ex


def price(ex: Any, value: Decimal) -> str:
    return str(ex.price_to_precision(SYMBOL, float(value)))


def height() -> int:
    return int(time.time()) - HEIGHT_EPOCH


_last_nonce = [0]


def next_nonce() -> int:
    """A timestamp nonce (milliseconds), distinct from the previous one even within a millisecond."""
    _last_nonce[0] = max(int(time.time() * 1000), _last_nonce[0] + 1)
    return _last_nonce[0]


# ---- transactions built independently, with the protobuf classes ccxt bundles --------------------


def pack(type_url: str, msg: Message) -> AnyPb:
    return AnyPb(type_url=type_url, value=msg.SerializeToString())


def order_id(owner: str, client_id: int, flags: int) -> OrderId:
    return OrderId(subaccount_id=SubaccountId(owner=owner, number=0), client_id=client_id, order_flags=flags, clob_pair_id=0)


def place(owner: str, client_id: int, side: int, amount: str, px: str, **fields: Any) -> AnyPb:
    """A MsgPlaceOrder on BTC-USD; short-term (goodTilBlock) unless a goodTilBlockTime is given."""
    flags = 64 if "good_til_block_time" in fields else 0
    if flags == 0:
        fields.setdefault("good_til_block", height() + 10)
    order = Order(order_id=order_id(owner, client_id, flags), side=side, quantums=int(Decimal(amount) * QUANTUMS),
                  subticks=int(Decimal(px) * SUBTICKS), **fields)
    return pack(dydx_tx.PLACE_ORDER, MsgPlaceOrder(order=order))


def signed_tx(key: ApiKey, account_number: int, msg: AnyPb, sequence: int | None = None) -> bytes:
    """A SIGN_MODE_DIRECT TxRaw as ccxt and dYdX's clients build it (low-s r||s by libsecp256k1)."""
    public = dydx_tx.public_key(key.secret)
    body = TxBody(messages=[msg]).SerializeToString()
    info = SignerInfo(public_key=pack(dydx_tx.SECP256K1_PUBKEY, PubKey(key=public)),
                      mode_info=ModeInfo(single=ModeInfo.Single(mode=1)),
                      sequence=next_nonce() if sequence is None else sequence)
    auth = AuthInfo(signer_infos=[info], fee=Fee(gas_limit=1_000_000)).SerializeToString()
    doc = SignDoc(body_bytes=body, auth_info_bytes=auth, chain_id=CHAIN_ID, account_number=account_number).SerializeToString()
    signature = coincurve.PrivateKey(bytes.fromhex(key.secret)).sign_recoverable(doc, hasher=lambda m: hashlib.sha256(m).digest())[:64]
    return TxRaw(body_bytes=body, auth_info_bytes=auth, signatures=[signature]).SerializeToString()


async def get(h: TradingHarness, target: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(h.sim.rest_url + target) as resp:
        return resp.status, orjson.loads(await resp.read())


async def broadcast(h: TradingHarness, raw: bytes) -> dict[str, Any]:
    status, reply = await get(h, f"/broadcast_tx_sync?tx=0x{raw.hex()}")
    assert status == 200 and reply["jsonrpc"] == "2.0"
    result: dict[str, Any] = reply["result"]
    assert result["hash"] == hashlib.sha256(raw).hexdigest().upper()
    return result


# ---- the shared contract, adapted --------------------------------------------------------------


def test_collateral_and_a_resting_order_through_its_life() -> None:
    """The contract's first test on a perpetual venue: the subaccount holds only USDC (ccxt reports
    its free collateral alone), a resting order reserves the initial margin fraction of its
    notional, and ccxt cancels by the client id (the uuid is rejected by ccxt itself)."""
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            assert h.ccxt_symbol(ex) == SYMBOL and ex.markets[SYMBOL]["swap"]
            balance = await ex.fetch_balance()
            assert balance["USDC"]["free"] == 10_000_000 and "BTC" not in balance
            bid, _ = h.touch()
            px = price(ex, bid * Decimal("0.99"))
            order = await ex.create_order(SYMBOL, "limit", "buy", 0.01, px)
            assert order["info"]["code"] == 0
            fetched = await ex.fetch_order(order["id"], SYMBOL)
            assert fetched["status"] == "open" and fetched["amount"] == 0.01 and fetched["filled"] == 0
            assert fetched["info"]["timeInForce"] == "GTT" and fetched["info"]["orderFlags"] == "64"
            assert fetched["clientOrderId"] == str(order["clientOrderId"])
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [order["id"]]
            free = (await ex.fetch_balance())["USDC"]["free"]
            assert free == pytest.approx(10_000_000 - 0.01 * float(px) * 0.02)
            with pytest.raises(ccxt.NotSupported):
                await ex.cancel_order(order["id"], SYMBOL)
            await ex.cancel_order(order["clientOrderId"], SYMBOL)
            assert (await ex.fetch_order(order["id"], SYMBOL))["status"] == "canceled"
            assert await ex.fetch_open_orders(SYMBOL) == []
            assert (await ex.fetch_balance())["USDC"]["free"] == 10_000_000

    run(body())


def test_a_market_sell_with_a_worst_price_opens_a_short_and_pays_the_taker_fee() -> None:
    """The contract's second test: ccxt builds a market order as a short-term IOC and needs a
    price (the chain refuses subticks 0); it has no fetch_my_trades, the indexer's /v4/fills
    (ccxt's implicit indexerGetFills) carries the fees; the sell opens a short."""
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            bid, _ = h.touch()
            with pytest.raises(ccxt.ExchangeError, match="order subticks cannot be 0"):
                await ex.create_order(SYMBOL, "market", "sell", 0.05)
            with pytest.raises(ccxt.NotSupported):
                await ex.fetch_my_trades(SYMBOL)
            order = await ex.create_order(SYMBOL, "market", "sell", 0.05, price(ex, bid * Decimal("0.95")))
            order = await ex.fetch_order(order["id"], SYMBOL)
            assert order["status"] == "closed" and order["filled"] == 0.05
            assert order["info"]["timeInForce"] == "IOC" and order["info"]["clientMetadata"] == "1"
            fills = (await ex.indexerGetFills({"address": ex.walletAddress, "subaccountNumber": 0,
                                               "market": "BTC-USD", "marketType": "PERPETUAL"}))["fills"]
            assert {f["orderId"] for f in fills} == {order["id"]} and {f["liquidity"] for f in fills} == {"TAKER"}
            assert sum(Decimal(f["size"]) for f in fills) == Decimal("0.05")
            cost = sum(Decimal(f["price"]) * Decimal(f["size"]) for f in fills)
            fee = sum(Decimal(f["fee"]) for f in fills)
            assert fee == cost * h.sim.engine.taker_fee
            account = (await ex.fetch_balance())["info"]
            position = account["openPerpetualPositions"]["BTC-USD"]
            assert position["side"] == "SHORT" and Decimal(position["size"]) == Decimal("-0.05")
            assert Decimal(account["assetPositions"]["USDC"]["size"]) == 10_000_000 + cost - fee
            assert Decimal(account["equity"]) == 10_000_000 - fee + Decimal(position["unrealizedPnl"])
            margin = Decimal(position["entryPrice"]) * Decimal("0.05") * Decimal("0.02")
            assert Decimal(account["freeCollateral"]) == Decimal(account["equity"]) - margin

    run(body())


def test_the_chain_refuses_bad_signatures_stale_nonces_and_orders_in_its_own_words() -> None:
    """The contract's third test: reads need no credentials on dYdX, the signed transaction is
    what the chain checks. ccxt maps these codes to ExchangeError (4, 5), InvalidOrder (32, 3007),
    and an indexer 404 to ExchangeNotAvailable; an undercollateralized short-term order is taken
    and then removed, as on the chain."""
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            assert h.key is not None
            good = await ready(h)
            wrong_key = await ready(h, dataclasses.replace(h.key, secret=dydx_tx.new_private_key()))
            with pytest.raises(ccxt.ExchangeError, match=r"signature verification failed; please verify account number \(40000\)") as err:
                await wrong_key.create_order(SYMBOL, "limit", "buy", 0.01, "1000")
            assert not isinstance(err.value, ccxt.InvalidOrder) and '"code":4' in str(err.value)
            stranger_key = dydx_tx.new_private_key()
            stranger = ApiKey(dydx_tx.address(dydx_tx.public_key(stranger_key)), stranger_key, "main")
            with pytest.raises(ccxt.ExchangeError, match="not found"):
                await (await ready(h, stranger)).create_order(SYMBOL, "limit", "buy", 0.01, "1000")
            late = await ready(h)
            late.milliseconds = lambda: ccxt.Exchange.milliseconds() - 120_000  # a clock two minutes slow
            with pytest.raises(ccxt.InvalidOrder, match="not within valid time window"):
                await late.create_order(SYMBOL, "limit", "buy", 0.01, "1000")
            bid, ask = h.touch()
            with pytest.raises(ccxt.InvalidOrder, match="Stateful order collateralization check failed"):
                await good.create_order(SYMBOL, "limit", "sell", 100_000, price(good, ask * 2))
            taken = await good.create_order(SYMBOL, "market", "sell", 100_000, price(good, bid * Decimal("0.9")))
            removed = await good.fetch_order(taken["id"], SYMBOL)
            assert removed["status"] == "canceling" and removed["filled"] == 0  # BEST_EFFORT_CANCELED
            with pytest.raises(ccxt.ExchangeNotAvailable, match="Unable to find order id"):
                await good.fetch_order(str(uuid.uuid4()), SYMBOL)
            with pytest.raises(ccxt.ExchangeNotAvailable, match="Invalid value"):
                await good.fetch_order("987654321", SYMBOL)
            assert h.sim.engine.open_orders("main") == [] and h.sim.engine.fills == []

    run(body())


# ---- keys, addresses, ids and the wire ------------------------------------------------------------


def test_dydx_test_vectors_for_keys_addresses_and_indexer_ids() -> None:
    public = dydx_tx.public_key(TEST_KEY)
    assert public.hex() == TEST_PUBLIC_KEY and dydx_tx.address(public) == TEST_ADDRESS
    assert dydx_tx.bech32("a", b"") == "a12uel5l"  # BIP-173's shortest valid string
    assert subaccount_uuid(TEST_ADDRESS, 0) == "8586bcf6-1f58-5ec9-a0bc-e53db273e7b0"
    # orders of that subaccount as the indexer listed them (ccxt's dydx docstring, a v4_subaccounts frame)
    assert order_uuid(dydx_tx.OrderId(TEST_ADDRESS, 0, 716238006, 64, 0)) == "dad46410-3444-5566-a129-19a619300fb7"
    assert order_uuid(dydx_tx.OrderId(TEST_ADDRESS, 0, 1964904710, 0, 1)) == "5a1c10aa-66bb-5cf2-a106-32d6470eb43e"


def test_the_wire_codec_reads_what_protobuf_writes_and_rebuilds_the_sign_doc() -> None:
    key = ApiKey(TEST_ADDRESS, TEST_KEY, "main")
    order = Order(order_id=order_id(TEST_ADDRESS, 4_000_000_000, 32), side=2, quantums=12 * 10**8, subticks=6 * 10**9,
                  good_til_block_time=1_900_000_000, time_in_force=2, reduce_only=True, client_metadata=1,
                  condition_type=1, conditional_order_trigger_subticks=59 * 10**8, order_router_address="dydx1router")
    raw = signed_tx(key, 7, pack(dydx_tx.PLACE_ORDER, MsgPlaceOrder(order=order)), sequence=1_700_000_000_123)
    tx = dydx_tx.decode_tx(raw)
    assert tx.messages == [dydx_tx.Order(dydx_tx.OrderId(TEST_ADDRESS, 0, 4_000_000_000, 32, 0), 2, 12 * 10**8, 6 * 10**9,
                                         0, 1_900_000_000, 2, True, 1, 1, 59 * 10**8)]
    [signer] = tx.signers
    assert (signer.key_type, signer.public_key.hex(), signer.sign_mode, signer.sequence) == (
        dydx_tx.SECP256K1_PUBKEY, TEST_PUBLIC_KEY, 1, 1_700_000_000_123)
    doc = dydx_tx.sign_doc(tx, CHAIN_ID, 7)
    parsed = TxRaw.FromString(raw)
    assert doc == SignDoc(body_bytes=parsed.body_bytes, auth_info_bytes=parsed.auth_info_bytes, chain_id=CHAIN_ID,
                          account_number=7).SerializeToString()
    assert dydx_tx.verify(dydx_tx.public_key(TEST_KEY), tx.signatures[0], doc)
    cancel = MsgCancelOrder(order_id=order_id(TEST_ADDRESS, 5, 0), good_til_block=123)
    [read] = dydx_tx.decode_tx(signed_tx(key, 7, pack(dydx_tx.CANCEL_ORDER, cancel))).messages
    assert read == dydx_tx.CancelOrder(dydx_tx.OrderId(TEST_ADDRESS, 0, 5, 0, 0), 123, 0)
    with pytest.raises(dydx_tx.DecodeError, match=r"unable to resolve type URL /cosmos\.bank\.v1beta1\.MsgSend"):
        dydx_tx.decode_tx(TxRaw(body_bytes=TxBody(messages=[AnyPb(type_url="/cosmos.bank.v1beta1.MsgSend")]).SerializeToString()).SerializeToString())


def test_signatures_must_be_64_byte_low_s_by_the_key() -> None:
    message = b"sign doc"
    public = dydx_tx.public_key(TEST_KEY)
    signature = coincurve.PrivateKey(bytes.fromhex(TEST_KEY)).sign_recoverable(message, hasher=lambda m: hashlib.sha256(m).digest())[:64]
    assert dydx_tx.verify(public, signature, message)
    high_s = signature[:32] + (dydx_tx.SECP256K1_N - int.from_bytes(signature[32:], "big")).to_bytes(32, "big")
    assert not dydx_tx.verify(public, high_s, message)  # the same signature, malleated
    assert not dydx_tx.verify(public, signature, message + b"!")
    assert not dydx_tx.verify(dydx_tx.public_key(dydx_tx.new_private_key()), signature, message)
    assert not dydx_tx.verify(public, signature[:63], message)


def test_the_node_serves_the_account_the_height_and_json_rpc_errors() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            assert h.key is not None
            status, reply = await get(h, f"/cosmos/auth/v1beta1/account_info/{h.key.key}")
            assert status == 200 and reply["info"]["address"] == h.key.key and reply["info"]["account_number"] == "40000"
            assert reply["info"]["pub_key"] == {"@type": "/cosmos.crypto.secp256k1.PubKey",
                                                "key": base64.b64encode(dydx_tx.public_key(h.key.secret)).decode()}
            status, reply = await get(h, f"/cosmos/auth/v1beta1/account_info/{TEST_ADDRESS}")
            assert status == 404 and reply == {"code": 5, "message": f"account {TEST_ADDRESS} not found", "details": []}
            _, reply = await get(h, "/abci_info")
            assert abs(int(reply["result"]["response"]["last_block_height"]) - height()) <= 1
            status, reply = await get(h, "/broadcast_tx_sync?tx=nothex")
            assert status == 500 and reply["error"]["code"] == -32602
            result = await broadcast(h, b"\x0a\x05junk")
            assert (result["code"], result["codespace"]) == (2, "sdk")
            status, reply = await get(h, f"/v4/addresses/{TEST_ADDRESS}/subaccountNumber/0")
            assert status == 404
            assert reply == {"errors": [{"msg": f"No subaccount found with address {TEST_ADDRESS} and subaccountNumber 0"}]}

    run(body())


def test_check_tx_rules_signer_nonce_replay_and_good_til_windows() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            assert h.key is not None
            key, number = h.key, 40000
            bid, _ = h.touch()
            low = str((bid * Decimal("0.9")).quantize(Decimal("0.1")))
            gtt = {"good_til_block_time": int(time.time()) + 3600}
            stateful = signed_tx(key, number, place(key.key, 1, 1, "0.01", low, **gtt))
            assert (await broadcast(h, stateful))["code"] == 0
            replay = await broadcast(h, stateful)  # the same timestamp nonce again
            used_nonce = dydx_tx.decode_tx(stateful).signers[0].sequence
            assert (replay["code"], replay["log"]) == (32, f"timestamp nonce {used_nonce} rejected: incorrect account sequence")
            assert (await broadcast(h, signed_tx(key, number, place(key.key, 2, 1, "0.01", low, **gtt), sequence=5)))["log"] == (
                "account sequence mismatch, expected 0, got 5: incorrect account sequence")
            assert (await broadcast(h, signed_tx(key, number, place(key.key, 1, 1, "0.01", low, **gtt))))["code"] == 3005
            short = signed_tx(key, number, place(key.key, 3, 1, "0.01", low), sequence=0)  # no nonce check
            assert (await broadcast(h, short))["code"] == 0
            assert (await broadcast(h, short))["code"] == 20
            wrong_number = await broadcast(h, signed_tx(key, number + 1, place(key.key, 4, 1, "0.01", low)))
            assert wrong_number["code"] == 4 and "account number (40000)" in wrong_number["log"]
            other = h.sim.issue_key("main")
            foreign = await broadcast(h, signed_tx(other, 40001, place(key.key, 5, 1, "0.01", low)))
            assert (foreign["code"], foreign["log"]) == (
                8, f"pubKey does not match signer address {key.key} with signer index: 0: invalid pubkey"
            )
            cases = {
                (10, "clob"): place(key.key, 6, 1, "0.01", low, good_til_block=height() - 1),
                (11, "clob"): place(key.key, 7, 1, "0.01", low, good_til_block=height() + 40),
                (3003, "clob"): place(key.key, 8, 1, "0.01", low, good_til_block_time=int(time.time()) - 1),
                (3004, "clob"): place(key.key, 9, 1, "0.01", low, good_til_block_time=int(time.time()) + 100 * 86400),
                (12, "clob"): place(key.key, 10, 1, "0.00001", low),
                (4, "clob"): place(key.key, 11, 1, "0", low),
                (3002, "clob"): place(key.key, 12, 1, "0.01", low, time_in_force=1, **gtt),
                (9003, "clob"): place(key.key, 13, 1, "0.01", low, reduce_only=True, **gtt),
            }
            for (code, codespace), msg in cases.items():
                result = await broadcast(h, signed_tx(key, number, msg))
                assert (result["code"], result["codespace"]) == (code, codespace), result
            assert len(h.sim.engine.open_orders("main")) == 2

    run(body())


def test_a_short_term_order_rests_until_its_good_til_block() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            assert h.key is not None
            ex = await ready(h)
            bid, _ = h.touch()
            low = str((bid * Decimal("0.9")).quantize(Decimal("0.1")))
            last = height() + 2
            assert (await broadcast(h, signed_tx(h.key, 40000, place(h.key.key, 77, 1, "0.01", low, good_til_block=last))))["code"] == 0
            order_id = order_uuid(dydx_tx.OrderId(h.key.key, 0, 77, 0, 0))
            fetched = await ex.fetch_order(order_id, SYMBOL)
            assert fetched["status"] == "open" and fetched["info"]["goodTilBlock"] == str(last)
            await wait_for(lambda: height() > last, 15.0, f"block {last + 1}")
            assert (await ex.fetch_order(order_id, SYMBOL))["status"] == "canceled"
            assert h.sim.engine.open_orders("main") == []

    run(body())


# ---- order kinds through ccxt ---------------------------------------------------------------------


def test_post_only_rests_and_one_that_would_cross_is_taken_then_removed() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            assert h.cluster is not None
            h.cluster.pause()
            bid, ask = h.touch()
            resting = await ex.create_order(SYMBOL, "limit", "buy", 0.01, str(bid), {"postOnly": True})
            fetched = await ex.fetch_order(resting["id"], SYMBOL)
            assert fetched["status"] == "open" and fetched["postOnly"] and fetched["info"]["timeInForce"] == "GTT"
            crossing = await ex.create_order(SYMBOL, "limit", "buy", 0.01, str(ask), {"postOnly": True})
            assert crossing["info"]["code"] == 0
            assert (await ex.fetch_order(crossing["id"], SYMBOL))["status"] == "canceled"
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [resting["id"]] and h.sim.engine.fills == []

    run(body())


def test_ioc_limits_fill_or_are_removed_without_resting() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            assert h.cluster is not None
            h.cluster.pause()
            bid, ask = h.touch()
            filled = await ex.create_order(SYMBOL, "limit", "sell", 0.02, str(bid), {"timeInForce": "IOC"})
            fetched = await ex.fetch_order(filled["id"], SYMBOL)
            assert fetched["status"] == "closed" and fetched["filled"] == 0.02 and fetched["info"]["orderFlags"] == "0"
            missed = await ex.create_order(SYMBOL, "limit", "sell", 0.02, str(ask + 10), {"timeInForce": "IOC"})
            fetched = await ex.fetch_order(missed["id"], SYMBOL)
            assert fetched["status"] == "canceling" and fetched["filled"] == 0  # BEST_EFFORT_CANCELED until its goodTilBlock
            assert await ex.fetch_open_orders(SYMBOL) == []

    run(body())


def test_stop_limit_waits_untriggered_cancels_as_conditional_and_fills_once_triggered() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            assert h.cluster is not None
            h.cluster.pause()
            bid, ask = h.touch()
            far = await ex.create_order(
                SYMBOL, "limit", "sell", 0.01, price(ex, bid * Decimal("0.8")), {"triggerPrice": price(ex, bid * Decimal("0.9"))}
            )
            fetched = await ex.fetch_order(far["id"], SYMBOL)
            assert fetched["status"] == "open" and fetched["info"]["status"] == "UNTRIGGERED"
            assert fetched["info"]["type"] == "STOP_LIMIT" and fetched["info"]["orderFlags"] == "32"
            assert float(fetched["info"]["triggerPrice"]) == float(price(ex, bid * Decimal("0.9")))
            assert await ex.fetch_open_orders(SYMBOL) == []  # ccxt asks for status=OPEN only
            assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL, params={"status": "UNTRIGGERED"})] == [far["id"]]
            with pytest.raises(ccxt.InvalidOrder, match="Stateful order does not exist"):
                await ex.cancel_order(far["clientOrderId"], SYMBOL)  # as a long-term order: no such order
            await asyncio.sleep(0.005)  # the refused cancel spent its ms timestamp nonce: the next tx needs a new ms
            await ex.cancel_order(far["clientOrderId"], SYMBOL, {"trigger": True})
            assert (await ex.fetch_order(far["id"], SYMBOL))["status"] == "canceled"
            # a sell stop above the market: the next trade at or below the trigger fires it
            near = await ex.create_order(SYMBOL, "limit", "sell", 0.01, price(ex, bid * Decimal("0.95")), {"triggerPrice": str(ask + 5)})
            await asyncio.sleep(0.005)  # ccxt's timestamp nonce is in ms: two stateful txs in one ms collide, on the chain too
            market = await ex.create_order(SYMBOL, "market", "sell", 0.01, price(ex, bid * Decimal("0.95")), {"triggerPrice": str(ask + 5)})
            assert (await ex.fetch_order(market["id"], SYMBOL))["info"]["timeInForce"] == "IOC"
            for _ in range(200):
                if not h.sim.engine.open_orders("main"):
                    break
                h.cluster.tick()
            for placed in (near, market):
                assert (await ex.fetch_order(placed["id"], SYMBOL))["status"] == "closed"

    run(body())


def test_take_profit_orders_are_refused_as_not_simulated() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            bid, _ = h.touch()
            with pytest.raises(ccxt.InvalidOrder, match="This function is not implemented"):
                await ex.create_order(
                    SYMBOL, "limit", "sell", 0.01, price(ex, bid * Decimal("1.1")), {"takeProfitPrice": price(ex, bid * Decimal("1.05"))}
                )

    run(body())


def test_reduce_only_iocs_only_shrink_the_position() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            assert h.cluster is not None
            h.cluster.pause()
            bid, ask = h.touch()
            await ex.create_order(SYMBOL, "market", "sell", 0.03, price(ex, bid * Decimal("0.95")))
            with pytest.raises(ccxt.InvalidOrder, match="Reduce-only is currently disabled for non-IOC orders"):
                await ex.create_order(SYMBOL, "limit", "buy", 0.01, str(bid), {"reduceOnly": True})
            closing = await ex.create_order(SYMBOL, "market", "buy", 0.05, price(ex, ask * Decimal("1.05")), {"reduceOnly": True})
            fetched = await ex.fetch_order(closing["id"], SYMBOL)
            assert fetched["status"] == "closed" and fetched["filled"] == 0.03 and fetched["reduceOnly"]
            assert (await ex.fetch_balance())["info"]["openPerpetualPositions"] == {}
            growing = await ex.create_order(SYMBOL, "market", "buy", 0.01, price(ex, ask * Decimal("1.05")), {"reduceOnly": True})
            assert (await ex.fetch_order(growing["id"], SYMBOL))["status"] == "canceling"  # removed: nothing to reduce

    run(body())


def test_orders_list_per_address_and_status() -> None:
    async def body() -> None:
        async with TradingHarness("dydx") as h:
            ex = await ready(h)
            other = await ready(h, h.sim.issue_key("main"))
            bid, _ = h.touch()
            first = await ex.create_order(SYMBOL, "limit", "buy", 0.01, price(ex, bid * Decimal("0.9")))
            second = await ex.create_order(SYMBOL, "limit", "buy", 0.01, price(ex, bid * Decimal("0.91")))
            await other.create_order(SYMBOL, "limit", "buy", 0.01, price(ex, bid * Decimal("0.92")))
            await ex.cancel_order(first["clientOrderId"], SYMBOL)
            listed = {o["id"]: o["status"] for o in await ex.fetch_orders(SYMBOL)}
            assert listed == {first["id"]: "canceled", second["id"]: "open"}
            assert [o["id"] for o in await ex.fetch_closed_orders(SYMBOL)] == []  # FILLED only
            assert [o["id"] for o in await ex.fetch_orders(SYMBOL, params={"status": "CANCELED,FILLED"})] == [first["id"]]

    run(body())
