"""Client order ids: valid for each venue's documented rule, unique, reproducible, and carried to
the venue's own field by ccxt."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ccxt.async_support as ccxt_async
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossbook.errors import InvalidOrder, UnknownVenue
from crossbook.trading.client_ids import ClientIds, IdStyle, client_id_rule
from crossbook.venues.registry import VENUES

from ..conftest import run

CLIENT_ID_RULES = {v: client_id_rule(v) for v in VENUES}  # each venue module's CLIENT_ID


def _is_uuid(cid: str) -> bool:
    try:
        return str(uuid.UUID(cid)) == cid
    except ValueError:
        return False


def _is_uint32(cid: str) -> bool:
    return cid.isdigit() and str(int(cid)) == cid and int(cid) < 2**32


# Each venue's documented rule, written out independently of the rule table.
DOCUMENTED: dict[str, Any] = {
    "binance": re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$").match,
    "okx": re.compile(r"^[A-Za-z0-9]{1,32}$").match,
    "bybit": re.compile(r"^[A-Za-z0-9_-]{1,36}$").match,
    "dydx": _is_uint32,
    "coinbase": _is_uuid,
    "kraken": _is_uuid,
    "kucoin": re.compile(r"^[A-Za-z0-9_-]{1,40}$").match,
    # Gate: "t-" then at most 28 bytes; ccxt rejects a text longer than 28 including the prefix.
    "gate": lambda cid: re.match(r"^t-[0-9A-Za-z_.-]{1,28}$", cid) and len(cid.encode()) <= 28,
    "mexc": re.compile(r"^[A-Za-z0-9_-]{1,32}$").match,
    "bitget": re.compile(r"^[A-Za-z0-9_]{1,50}$").match,
}

MAX_ROW = {IdStyle.TOKEN: 2**63 - 1, IdStyle.UUID: 2**62 - 1, IdStyle.UINT32: 2**32 - 1}

instance_ids = st.binary(min_size=16, max_size=16).map(bytes.hex)


def test_every_venue_has_a_rule() -> None:
    assert set(CLIENT_ID_RULES) == set(VENUES) == set(DOCUMENTED)


@pytest.mark.parametrize("venue", VENUES)
@settings(max_examples=300, deadline=None)
@given(instance=instance_ids, data=st.data())
def test_ids_match_the_venue_rule(venue: str, instance: str, data: st.DataObject) -> None:
    rule = CLIENT_ID_RULES[venue]
    row = data.draw(st.one_of(st.integers(1, 1000), st.integers(1, MAX_ROW[rule.style])), label="row")
    ids = ClientIds(instance)
    cid = ids.for_intent(venue, row)
    assert DOCUMENTED[venue](cid), f"{venue}: {cid!r} breaks the documented rule"
    rule.validate(cid)
    assert ClientIds(instance).for_intent(venue, row) == cid  # a retry gets the same id


@pytest.mark.parametrize("venue", VENUES)
@settings(max_examples=200, deadline=None)
@given(instance=instance_ids, data=st.data())
def test_ids_are_unique_per_row(venue: str, instance: str, data: st.DataObject) -> None:
    rule = CLIENT_ID_RULES[venue]
    rows = data.draw(st.sets(st.integers(1, MAX_ROW[rule.style]), min_size=2, max_size=60), label="rows")
    ids = ClientIds(instance)
    assert len({ids.for_intent(venue, r) for r in rows}) == len(rows)


@pytest.mark.parametrize("venue", [v for v in VENUES if CLIENT_ID_RULES[v].style is not IdStyle.UINT32])
@settings(max_examples=200, deadline=None)
@given(a=instance_ids, b=instance_ids, row_a=st.integers(1, 2**62 - 1), row_b=st.integers(1, 2**62 - 1))
def test_string_ids_of_two_journals_never_meet(venue: str, a: str, b: str, row_a: int, row_b: int) -> None:
    # Journals are told apart by the top 40 bits of the instance id (TOKEN) or 60 (UUID).
    if int(a, 16) >> 88 == int(b, 16) >> 88:
        return
    assert ClientIds(a).for_intent(venue, row_a) != ClientIds(b).for_intent(venue, row_b)


@pytest.mark.parametrize("venue", VENUES)
def test_first_rows_are_unique_and_valid(venue: str) -> None:
    ids = ClientIds(ClientIds.new_instance_id())
    cids = [ids.for_intent(venue, row) for row in range(1, 20_001)]
    assert len(set(cids)) == len(cids)
    assert all(DOCUMENTED[venue](cid) for cid in cids)


def test_token_shape_fits_every_token_venue() -> None:
    ids = ClientIds("ab" * 16)
    assert ids.for_intent("okx", 1) == ids.for_intent("binance", 1) == ids.for_intent("bitget", 1)
    assert ids.for_intent("okx", 1).startswith("cb") and ids.for_intent("okx", 36).endswith("10")
    assert ids.for_intent("gate", 1) == "t-" + ids.for_intent("okx", 1)
    longest = ids.for_intent("okx", 2**63 - 1)
    assert len(longest) == 23 and len(ids.for_intent("gate", 2**63 - 1)) == 25


def test_uuid_ids_carry_the_row_and_the_v4_marks() -> None:
    cid = ClientIds("ab" * 16).for_intent("kraken", 12345)
    parsed = uuid.UUID(cid)
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert parsed.int & (2**62 - 1) == 12345


def test_uint32_ids_wrap_inside_one_journal_only() -> None:
    ids = ClientIds("ff" * 16)  # the offset is the top 32 bits: 0xffffffff
    assert ids.for_intent("dydx", 1) == "0"
    assert ids.for_intent("dydx", 2) == "1"
    with pytest.raises(ValueError, match="2\\*\\*32"):
        ids.for_intent("dydx", 2**32)


def test_validate_names_venue_field_and_rule() -> None:
    with pytest.raises(InvalidOrder, match=r"okx.*clOrdId.*A-Za-z0-9"):
        client_id_rule("okx").validate("has-a-hyphen")
    with pytest.raises(InvalidOrder, match=r"gate.*text"):
        client_id_rule("gate").validate("no-t-prefix")
    with pytest.raises(InvalidOrder, match="binance"):
        client_id_rule("binance").validate("x" * 37)
    with pytest.raises(InvalidOrder, match="uint32"):
        client_id_rule("dydx").validate(str(2**32))
    with pytest.raises(InvalidOrder, match=r"kraken.*cl_ord_id"):
        client_id_rule("kraken").validate("not a uuid")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(UnknownVenue, match="ftx"):
        client_id_rule("ftx")
    with pytest.raises(UnknownVenue):
        ClientIds("ab" * 16).for_intent("ftx", 1)
    with pytest.raises(ValueError, match="32 lowercase hex"):
        ClientIds("not-hex")
    with pytest.raises(ValueError, match="start at 1"):
        ClientIds("ab" * 16).for_intent("okx", 0)


# ---- through ccxt: the id reaches the venue under the venue's own field -------------------------

# Options that skip account discovery calls, so the first request is the order itself.
_CCXT_OPTIONS = {"bybit": {"enableUnifiedMargin": False, "enableUnifiedAccount": True}, "kucoin": {"hf": False, "uta": False}}


class _Sent(Exception):
    pass


def _wire_fields(url: str, body: str | None) -> dict[str, Any]:
    """The fields of a captured request: JSON body (object or one-element batch), form body,
    or query string."""
    if body and body.lstrip()[:1] in ("{", "["):
        decoded = json.loads(body)
        return dict(decoded[0] if isinstance(decoded, list) else decoded)
    text = body or urlsplit(url).query
    return {k: v[0] for k, v in parse_qs(text).items()}


async def _create_order_fields(venue: str, params: dict[str, Any]) -> dict[str, Any]:
    exchange = getattr(ccxt_async, venue)(
        {"apiKey": "k", "secret": base64.b64encode(b"s" * 32).decode(), "password": "p", "options": _CCXT_OPTIONS.get(venue, {})}
    )
    market = exchange.safe_market_structure(
        {
            "id": "BTCUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC", "quoteId": "USDT",
            "type": "spot", "spot": True, "active": True, "precision": {"amount": 0.00001, "price": 0.01},
            "limits": {"amount": {"min": 0.00001}, "price": {}, "cost": {}}, "info": {"orderTypes": ["LIMIT", "MARKET"]},
        }
    )
    exchange.set_markets([market])
    sent: dict[str, Any] = {}

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        sent.update(url=url, body=body)
        raise _Sent

    exchange.fetch = fetch
    try:
        with pytest.raises(_Sent):
            await asyncio.wait_for(exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 50000, params), 10)
    finally:
        await exchange.close()
    return _wire_fields(sent["url"], sent["body"])


@pytest.mark.parametrize("venue", [v for v in VENUES if v != "dydx"])
def test_ccxt_sends_the_id_in_the_venue_field(venue: str) -> None:
    rule = CLIENT_ID_RULES[venue]
    cid = ClientIds(ClientIds.new_instance_id()).for_intent(venue, 42)
    fields = run(_create_order_fields(venue, rule.ccxt_params(cid)))
    assert fields[rule.field] == cid


def test_ccxt_puts_the_dydx_id_in_the_order_id() -> None:
    rule = CLIENT_ID_RULES["dydx"]
    cid = ClientIds("ff" * 16).for_intent("dydx", 4_000_000)
    exchange = ccxt_async.dydx({"walletAddress": "dydx1cpb4tedmwq304c2kc9pwzjwq0sc6z2a4tasxrz"})
    market = exchange.safe_market_structure(
        {
            "id": "BTC-USD", "symbol": "BTC/USDC:USDC", "base": "BTC", "quote": "USDC", "settle": "USDC", "type": "swap",
            "swap": True, "contract": True, "linear": True, "active": True, "precision": {"amount": 0.0001, "price": 1},
            "limits": {"amount": {}, "price": {}, "cost": {}},
            "info": {"atomicResolution": "-10", "quantumConversionExponent": "-9", "clobPairId": "0"},
        }
    )
    exchange.set_markets([market])
    try:
        _, message = exchange.create_order_request("BTC/USDC:USDC", "limit", "buy", 0.001, 50000, rule.ccxt_params(cid))
    finally:
        run(exchange.close())
    assert message["value"]["order"]["orderId"]["clientId"] == int(cid) == rule.wire_value(cid)
