"""The capability matrix: every venue's table, the registry, the checks orders go through, and the
``crossbook venues`` command."""

from __future__ import annotations

import re

import orjson
import pytest
from typer.testing import CliRunner

from crossbook.cli import app
from crossbook.cli.matrix import FEATURE_CODES, PRODUCT_CODES, mark
from crossbook.errors import UnknownVenue, UnsupportedFeature
from crossbook.venues.dex.chains import CHAINS, ROUTER_NAMES
from crossbook.venues.registry import (
    ALL_VENUES,
    DEX_VENUES,
    VENUES,
    all_capabilities,
    capabilities,
    venue_feeds,
)
from crossbook.venues.spec.capabilities import (
    ACCOUNT_FEATURES,
    ORDER_FEATURES,
    Feature,
    Product,
    Support,
    VenueCapabilities,
)

runner = CliRunner()

# Which products a feed's books can be: a spot feed serves spot (and margin, which trades the
# spot book); a linear or inverse feed serves perpetuals and dated futures of its kind.
FEED_PRODUCTS = {
    "spot": {Product.SPOT, Product.MARGIN},
    "linear": {Product.LINEAR_PERP, Product.FUTURES},
    "inverse": {Product.INVERSE_PERP, Product.FUTURES},
    "option": {Product.OPTIONS},
}
# OKX's one feed carries SPOT, SWAP (linear and inverse) and FUTURES books (venues/okx.py).
SPANNING_FEEDS = {"okx": set(Product) - {Product.OPTIONS}}


def test_every_venue_has_a_table_in_registry_order() -> None:
    tables = all_capabilities()
    assert list(tables) == list(VENUES)
    assert all(caps.venue == venue for venue, caps in tables.items())
    assert tuple(Feature) == ORDER_FEATURES + ACCOUNT_FEATURES


def test_the_dex_venues_have_tables_after_the_exchanges() -> None:
    tables = all_capabilities(ALL_VENUES)
    assert list(tables) == [*VENUES, *DEX_VENUES]
    for venue in DEX_VENUES:
        caps = tables[venue]
        assert caps.products[Product.SPOT].crossbook and not caps.products[Product.LINEAR_PERP].offered
        assert caps.features[Feature.MARKET].crossbook
    assert capabilities("uniswap_v3_500") is capabilities("uniswap_v3")  # a pool venue reads its family's


def test_a_table_missing_a_row_is_refused() -> None:
    products = {p: Support.yes() for p in Product}
    features: dict[Feature, Support] = {f: Support.yes() for f in Feature if f is not Feature.OCO}
    with pytest.raises(ValueError, match="venue x capability table has no row for oco"):
        VenueCapabilities("venue x", products, features)


def test_unknown_venues_are_refused() -> None:
    with pytest.raises(UnknownVenue, match="nasdaq"):
        capabilities("nasdaq")


@pytest.mark.parametrize("venue", VENUES)
def test_market_data_columns_name_real_feeds_of_the_right_kind(venue: str) -> None:
    feeds = venue_feeds(venue, options=True)
    caps = capabilities(venue)
    named = set()
    for product, support in caps.products.items():
        for feed in support.feeds:
            assert feed in feeds, f"{venue} {product.value}: no feed {feed!r}"
            serves = SPANNING_FEEDS.get(feed) or FEED_PRODUCTS[feeds[feed].product]
            assert product in serves, f"{venue}: {feed} does not serve {product.value}"
            named.add(feed)
    assert named == set(feeds), f"{venue}: feeds in no product row: {set(feeds) - named}"


@pytest.mark.parametrize("venue", VENUES)
def test_crossbook_never_claims_what_the_venue_lacks(venue: str) -> None:
    caps = capabilities(venue)
    for support in [*caps.products.values(), *caps.features.values()]:
        if not support.offered:
            assert not (support.crossbook or support.feeds or support.only)


def test_the_issues_seed_features_are_offered() -> None:
    def offered(venue: str, feature: Feature, product: Product) -> bool:
        return capabilities(venue).features[feature].offered_on(product)

    assert offered("binance", Feature.OCO, Product.SPOT) and offered("binance", Feature.ICEBERG, Product.SPOT)
    bybit = (Feature.HEDGE_MODE, Feature.REDUCE_ONLY, Feature.POST_ONLY, Feature.CROSS_MARGIN, Feature.ISOLATED_MARGIN)
    for feature in bybit:
        assert offered("bybit", feature, Product.LINEAR_PERP), feature
    assert offered("okx", Feature.UNIFIED_ACCOUNT, Product.SPOT) and offered("okx", Feature.TP_SL, Product.LINEAR_PERP)
    for feature in (Feature.LIMIT, Feature.STOP, Feature.STOP_LIMIT):
        assert offered("dydx", feature, Product.LINEAR_PERP), feature


def test_require_names_the_venue_and_the_feature() -> None:
    with pytest.raises(UnsupportedFeature, match=r"^dydx does not offer hedge mode \(one position per market"):
        capabilities("dydx").require(Feature.HEDGE_MODE, Product.LINEAR_PERP)
    with pytest.raises(UnsupportedFeature, match=r"^binance offers OCO orders on spot, margin only, not on linear perp"):
        capabilities("binance").require(Feature.OCO, Product.LINEAR_PERP)
    with pytest.raises(UnsupportedFeature, match=r"^coinbase does not offer margin"):
        capabilities("coinbase").require_product(Product.MARGIN)
    capabilities("binance").require(Feature.OCO, Product.SPOT)
    capabilities("okx").require_product(Product.OPTIONS)


def test_as_dict_keeps_the_two_columns_apart() -> None:
    row = capabilities("binance").as_dict()
    assert set(row) == {"products", "orders", "account"}
    perp = row["products"]["linear_perp"]  # type: ignore[index]
    assert perp["offered"] and perp["crossbook_market_data"] and perp["feeds"] == ["binanceusdm"]
    assert "crossbook_trading" in perp
    assert row["orders"]["iceberg"]["only"] == ["spot", "margin"]  # type: ignore[index]


# ---- crossbook venues --------------------------------------------------------------------------


def test_venues_json_is_one_object_keyed_by_venue() -> None:
    result = runner.invoke(app, ["venues", "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert list(data) == list(ALL_VENUES)
    for venue, row in data.items():
        assert set(row["products"]) == {p.value for p in Product}
        assert set(row["orders"]) == {f.value for f in ORDER_FEATURES}
        assert set(row["account"]) == {f.value for f in ACCOUNT_FEATURES}
        assert {k: v for k, v in row.items() if k != "chains"} == capabilities(venue).as_dict()
        assert ("chains" in row) == (venue in DEX_VENUES)
    assert data["dydx"]["products"]["spot"]["offered"] is False
    assert data["dydx"]["products"]["linear_perp"]["crossbook_market_data"] is True
    assert data["bybit"]["orders"]["iceberg"]["offered"] is False
    assert data["okx"]["orders"]["tp_sl"]["offered"] is True


def test_venues_json_lists_each_dex_venues_chains_with_ids_routers_and_what_crossbook_does() -> None:
    data = orjson.loads(runner.invoke(app, ["venues", "--json"]).stdout)
    uniswap = {c["chain"]: c for c in data["uniswap_v3"]["chains"]}
    oneinch = {c["chain"]: c for c in data["oneinch"]["chains"]}
    assert set(uniswap) == set(oneinch) == set(CHAINS)
    for name, chain in CHAINS.items():
        assert uniswap[name]["chain_id"] == oneinch[name]["chain_id"] == chain.chain_id
        assert uniswap[name]["router"] == chain.router and {"swaps", "range orders"} <= set(uniswap[name]["supports"])
        assert oneinch[name]["router"] == "0x111111125421cA6dc452d289314280a0f8842A65"
        assert "no CHI" in oneinch[name]["supports"]
    assert uniswap["bsc"]["router_name"] == uniswap["avalanche"]["router_name"] == "SwapRouter02"
    assert uniswap["ethereum"]["router_name"] == "SwapRouter"
    assert "EIP-3529" in data["oneinch"]["orders"]["market"]["note"]


def test_venues_prints_each_dex_venues_chains_with_whole_router_addresses() -> None:
    result = runner.invoke(app, ["venues"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    for title in ("uniswap_v3: chains crossbook trades on", "oneinch: chains crossbook trades on"):
        assert title in result.stdout
    for name, chain in CHAINS.items():
        rows = [line.split() for line in result.stdout.splitlines() if line.split()[:2] == [name, str(chain.chain_id)]]
        assert [row[2] for row in rows] == [ROUTER_NAMES[chain.router_kind], "AggregationRouterV6"], rows
        assert chain.router in result.stdout
    assert "0x111111125421cA6dc452d289314280a0f8842A65" in result.stdout
    detail = runner.invoke(app, ["venues", "--venue", "oneinch"]).stdout
    assert "oneinch: chains" in detail and "uniswap_v3: chains" not in detail


def test_venues_prints_one_matrix_with_a_row_per_venue() -> None:
    result = runner.invoke(app, ["venues"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), max(lines, key=len)
    header = next(line for line in lines if line.startswith("venue "))
    codes = header.split()[1:]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.split() and line.split()[0] in ALL_VENUES}
    assert set(rows) == set(ALL_VENUES)  # the exchanges and the DEX venues, one row each
    assert all(len(marks) == len(codes) and set(marks) <= {"✓", "○", "–"} for marks in rows.values()), rows
    tables = all_capabilities(ALL_VENUES)
    items = {code: item for item, code in (*PRODUCT_CODES.items(), *FEATURE_CODES.items())}
    for venue, marks in rows.items():  # each mark says what the venue's table says
        for code, shown in zip(codes, marks, strict=True):
            item = items[code]
            support = tables[venue].products[item] if isinstance(item, Product) else tables[venue].features[item]
            assert shown == mark(support), (venue, code, support)
    assert rows["dydx"][codes.index("lp")] == "✓" and rows["dydx"][codes.index("sp")] == "–"
    assert "on every venue: limit ✓, market ✓" in result.stdout  # columns alike everywhere fold into the legend


def test_venues_details_one_venue_and_names_an_unknown_one() -> None:
    result = runner.invoke(app, ["venues", "--venue", "binance"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("venue offers") == 1
    sections = re.findall(r"^│ (products|orders|account) +│", result.stdout, re.M)
    assert sections == ["products", "orders", "account"]
    unknown = runner.invoke(app, ["venues", "--venue", "nasdaq"])
    assert unknown.exit_code == 2 and "nasdaq" in unknown.output
