"""The venue contract: one typed SPEC per venue, found through the registry, with each venue's fees
written once (in its SPEC) and read from there by the feeds' books and the simulators."""

from __future__ import annotations

import pytest

from crossbook.errors import ConfigError, UnknownVenue
from crossbook.model import Kind, OrderStatus
from crossbook.venues.dex import DEX_VENUES
from crossbook.venues.registry import ALL_VENUES, VENUES, all_feeds, base_fees, spec, venue_of
from crossbook.venues.spec import VenueSpec


@pytest.mark.parametrize("venue", ALL_VENUES)
def test_every_venue_has_one_spec_naming_itself(venue: str) -> None:
    found = spec(venue)
    assert isinstance(found, VenueSpec) and found.venue == venue
    assert found.client_id.venue == venue and found.capabilities.venue == venue
    assert found.kind == ("dex" if venue in DEX_VENUES else "cex")


@pytest.mark.parametrize("venue", VENUES)
def test_an_exchange_spec_has_feeds_fees_limits_and_a_ccxt_client(venue: str) -> None:
    found = spec(venue)
    assert found.feeds and found.ccxt_id == venue and found.tier in (1, 2, 3)
    assert found.schedule().venue == venue and found.limit_table().venue == venue
    method, path = found.order_request
    assert found.limit_table().resolve(method, path, {})[0] == found.order_endpoint


def test_feed_handlers_carry_no_fees_their_books_quote_the_specs_base_tier() -> None:
    for feed_id, cls in all_feeds().items():
        assert not hasattr(cls, "taker_fee") and not hasattr(cls, "maker_fee"), feed_id
        kind = Kind.SPOT if cls.product == "spot" else Kind.PERP
        assert base_fees(feed_id) == spec(venue_of(feed_id)).schedule().base(kind)
    assert base_fees("binanceusdm").taker == 0.0005 and base_fees("binance").taker == 0.001


def test_the_hooks_are_typed_fields_where_ccxt_falls_short() -> None:
    assert spec("dydx").fetch_my_trades is not None and spec("dydx").private_source is not None
    assert spec("okx").stream_trade is not None and spec("mexc").stream_trade is not None
    assert spec("binance").stream_trade is None and spec("binance").private_source is None
    assert spec("gate").unparsed_statuses["fok"] is OrderStatus.EXPIRED
    assert spec("okx").perp_ccxt_options and not spec("binance").perp_ccxt_options


def test_a_pool_venue_reads_its_dex_and_a_dex_has_no_schedule() -> None:
    assert spec("uniswap_v3_500") is spec("uniswap_v3")
    assert spec("uniswap_v3").feeds == {} and spec("oneinch").ccxt_id is None
    with pytest.raises(ConfigError, match="uniswap_v3 has no fee schedule"):
        spec("uniswap_v3").schedule()
    with pytest.raises(ConfigError, match="oneinch places no order over REST"):
        _ = spec("oneinch").order_request


def test_an_unknown_venue_is_refused_by_name() -> None:
    with pytest.raises(UnknownVenue, match=r"'ftx'.*binance.*uniswap_v3"):
        spec("ftx")
