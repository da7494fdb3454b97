"""Fee schedules: tiers by volume and by name, token discounts, rebates, and every venue's table
agreeing with the base-tier rates its feeds quote with."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from crossbook.config import load_config
from crossbook.errors import ConfigError
from crossbook.model import Instrument, Kind
from crossbook.routing.fees import FeeBook, FeeProfile
from crossbook.venues.registry import VENUES, base_fees, fee_schedule, venue_feeds
from crossbook.venues.spec.fees import SCHEDULE


def test_the_tier_is_the_best_one_the_volume_reaches() -> None:
    binance = fee_schedule("binance")
    assert binance.tier_for(0).name == "VIP 0"
    assert binance.tier_for(999_999.99).name == "VIP 0"
    assert binance.tier_for(1e6).name == "VIP 1"
    assert binance.tier_for(30e6).name == "VIP 3"
    assert binance.tier_for(1e13).name == "VIP 9"
    assert binance.tier_for(20e6, Kind.PERP).name == "VIP 1"  # USD-M has its own thresholds
    # tiers that need more than volume (OKB holdings) are never reached by volume alone
    okx = fee_schedule("okx")
    assert okx.tier_for(9_999_999).name == "Lv1"
    assert okx.tier_for(1e9).name == "VIP 7"
    assert okx.rates(volume_30d_usd=60e6) == okx.rates(vip="vip 3")
    assert okx.rates(vip="Lv3").maker == 0.0007


def test_paying_with_bnb_takes_25_percent_off_spot_and_10_off_futures() -> None:
    binance = fee_schedule("binance")
    spot = binance.rates(Kind.SPOT, pay_with_discount_token=True)
    assert (spot.maker, spot.taker) == pytest.approx((0.00075, 0.00075))
    assert spot.source == SCHEDULE and spot.tier == "VIP 0"
    perp = binance.rates(Kind.PERP, 20e6, pay_with_discount_token=True)
    assert (perp.maker, perp.taker) == pytest.approx((0.00016 * 0.9, 0.0004 * 0.9))
    assert binance.rates(Kind.FUTURE).taker == 0.0005
    # a token a venue discounts only on spot leaves its futures rates alone
    bitget = fee_schedule("bitget")
    assert bitget.rates(Kind.PERP, pay_with_discount_token=True).taker == 0.0006
    assert bitget.rates(Kind.SPOT, pay_with_discount_token=True).taker == pytest.approx(0.0008)


def test_a_negative_maker_rate_is_a_rebate_that_no_discount_shrinks() -> None:
    assert fee_schedule("okx").rates(volume_30d_usd=2e9).maker == -0.00005
    assert fee_schedule("dydx").rates(Kind.PERP, vip="Tier 9").maker == -0.00011
    mm = fee_schedule("kucoin").rates(vip="MM S", pay_with_discount_token=True)
    assert mm.maker == -0.00012
    assert mm.taker == pytest.approx(0.00025 * 0.8)


def test_dydx_makers_pay_nothing_from_tier_4_and_market_share_tiers_need_more_than_volume() -> None:
    dydx = fee_schedule("dydx")
    assert dydx.rates(Kind.PERP).maker == 0.0001
    tier4 = dydx.rates(Kind.PERP, 25e6)
    assert (tier4.tier, tier4.maker, tier4.taker) == ("Tier 4", 0.0, 0.00035)
    assert dydx.tier_for(1e12, Kind.PERP).name == "Tier 5"


def test_bad_input_names_what_is_wrong() -> None:
    binance = fee_schedule("binance")
    for volume in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="30-day volume must be a finite number of USD >= 0"):
            binance.tier_for(volume)
    with pytest.raises(ConfigError, match=r"binance has no spot fee tier 'VIP 10'; tiers: VIP 0, VIP 1"):
        binance.rates(vip="VIP 10")
    with pytest.raises(ConfigError, match="okx has no fee discount token"):
        fee_schedule("okx").rates(pay_with_discount_token=True)
    with pytest.raises(ConfigError, match="dydx has no spot fee schedule"):
        fee_schedule("dydx").rates(Kind.SPOT)
    with pytest.raises(ConfigError, match="coinbase has no spot fee tier 'Gold'"):
        FeeBook({"coinbase": FeeProfile(tier="Gold")})
    with pytest.raises(ConfigError, match="kraken has no fee discount token"):
        FeeBook({"kraken": FeeProfile(pay_with_token=True)})
    with pytest.raises(ConfigError, match="30-day volume"):
        FeeBook({"gate": FeeProfile(volume_30d_usd=-5)})


def test_every_venue_has_a_schedule_whose_base_tier_is_what_its_feeds_quote() -> None:
    for venue in VENUES:
        fees = fee_schedule(venue)
        assert fees.venue == venue
        for cls in venue_feeds(venue).values():
            kind = Kind.SPOT if cls.product == "spot" else Kind.PERP
            base = fees.base(kind)
            inst = Instrument(venue, "X", "BTC-USDT", "BTC", "USDT", kind)
            assert base_fees(cls.venue) == base == base_fees(cls.venue, inst), (venue, cls.venue)
    okx_perp = Instrument("okx", "BTC-USDT-SWAP", "BTC-USDT-PERP", "BTC", "USDT", Kind.PERP)
    assert base_fees("okx", okx_perp).taker == 0.0005 and base_fees("okx").taker == 0.001  # one feed, two schedules


def test_more_volume_never_costs_more() -> None:
    for venue in VENUES:
        fees = fee_schedule(venue)
        for kind in (Kind.SPOT, Kind.PERP):
            if not fees.covers(kind):
                continue
            ladder = [t for t in fees.tiers(kind) if not t.requires]
            assert ladder[0].min_volume_usd == 0, (venue, kind)
            for lower, higher in pairwise(ladder):
                assert lower.min_volume_usd < higher.min_volume_usd, (venue, higher.name)
                assert higher.maker <= lower.maker and higher.taker <= lower.taker, (venue, higher.name)


def test_the_config_declares_each_venues_standing(tmp_path: Path) -> None:
    path = tmp_path / "crossbook.toml"
    path.write_text(
        '[[accounts]]\nvenue = "okx"\nmode = "live"\napi_key_env = "K"\nsecret_env = "S"\nfee_tier = "VIP 2"\n'
        '[[accounts]]\nvenue = "binance"\nccxt_config = "sim.json"\nvolume_30d_usd = 6000000\npay_fees_with_token = true\n'
        '[[accounts]]\nvenue = "binance"\naccount = "other"\nccxt_config = "sim.json"\n'
    )
    book = FeeBook(FeeProfile.of(load_config(path).accounts))
    okx_spot = book.scheduled("okx", "BTC-USDT")
    assert (okx_spot.tier, okx_spot.maker, okx_spot.taker) == ("VIP 2", 0.0005, 0.0007)
    assert book.scheduled("okx", "BTC-USDT-PERP").tier == "Lv1"  # the perp table has only its base tier
    binance = book.scheduled("binance", "ETH-USDT")  # the venue's first account speaks for it
    assert binance.tier == "VIP 2" and binance.maker == pytest.approx(0.0008 * 0.75)
    assert book.scheduled("kraken", "BTC-USD").tier == "Pro 0"  # undeclared: the base tier
    for setting, message in (("volume_30d_usd = -5", "volume_30d_usd must be a number"),
                             ('pay_fees_with_token = "yes"', "pay_fees_with_token must be true or false"),
                             ("fee_tier = 3", "fee_tier must be a tier name")):
        path.write_text(f'[[accounts]]\nvenue = "binance"\nccxt_config = "sim.json"\n{setting}\n')
        with pytest.raises(ConfigError, match=message):
            load_config(path)
