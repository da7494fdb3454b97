"""Order validation against real ccxt markets, built offline: each exchange class parses a market
body as the venue documents it (its own ``parse_market``, or ``fetch_markets`` with the HTTP call
answered locally). No network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import ccxt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossbook.errors import InsufficientFunds, InvalidOrder, UnsupportedFeature
from crossbook.model import (
    MarginMode,
    OrderRequest,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
)
from crossbook.trading.validation import (
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
    TradingRules,
    rules_from_ccxt_market,
    validate_order,
)
from crossbook.venues.registry import capabilities
from crossbook.venues.spec.capabilities import Feature, Product, VenueCapabilities

D = Decimal

# ---- documented market bodies ----------------------------------------------------------------

# GET /api/v3/exchangeInfo, one symbol (developers.binance.com spot "Exchange information").
BINANCE_SPOT = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "baseAssetPrecision": 8,
    "quoteAsset": "USDT",
    "quotePrecision": 8,
    "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    "icebergAllowed": True,
    "ocoAllowed": True,
    "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": True,
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01000000",
            "maxPrice": "1000000.00000000",
            "tickSize": "0.01000000",
        },
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "83.54752249", "stepSize": "0.00000000"},
        {
            "filterType": "NOTIONAL",
            "minNotional": "5.00000000",
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
    ],
    "permissions": [],
    "permissionSets": [["SPOT", "MARGIN"]],
}

# GET /fapi/v1/exchangeInfo, one symbol (developers.binance.com USD-M "Exchange information").
BINANCE_USDM = {
    "symbol": "BTCUSDT",
    "pair": "BTCUSDT",
    "contractType": "PERPETUAL",
    "deliveryDate": 4133404800000,
    "onboardDate": 1569398400000,
    "status": "TRADING",
    "baseAsset": "BTC",
    "quoteAsset": "USDT",
    "marginAsset": "USDT",
    "pricePrecision": 2,
    "quantityPrecision": 3,
    "baseAssetPrecision": 8,
    "quotePrecision": 8,
    "filters": [
        {"minPrice": "556.80", "maxPrice": "4529764", "filterType": "PRICE_FILTER", "tickSize": "0.10"},
        {"stepSize": "0.001", "filterType": "LOT_SIZE", "maxQty": "1000", "minQty": "0.001"},
        {"stepSize": "0.001", "filterType": "MARKET_LOT_SIZE", "maxQty": "120", "minQty": "0.001"},
        {"notional": "100", "filterType": "MIN_NOTIONAL"},
    ],
    "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
}
BINANCE_USDM_QUARTER = {
    **BINANCE_USDM,
    "symbol": "BTCUSDT_250328",
    "contractType": "CURRENT_QUARTER",
    "deliveryDate": 1743148800000,
}

# GET /api/v5/public/instruments?instType=SWAP (www.okx.com/docs-v5 "Get instruments").
OKX_INVERSE_SWAP = {
    "alias": "",
    "baseCcy": "",
    "category": "1",
    "ctMult": "1",
    "ctType": "inverse",
    "ctVal": "100",
    "ctValCcy": "USD",
    "expTime": "",
    "instFamily": "BTC-USD",
    "instId": "BTC-USD-SWAP",
    "instType": "SWAP",
    "lever": "125",
    "listTime": "1573557408000",
    "lotSz": "1",
    "maxIcebergSz": "100000000.0000000000000000",
    "maxLmtAmt": "20000000",
    "maxLmtSz": "100000000",
    "maxMktAmt": "",
    "maxMktSz": "10000",
    "maxStopSz": "10000",
    "maxTriggerSz": "100000000.0000000000000000",
    "maxTwapSz": "100000000.0000000000000000",
    "minSz": "1",
    "optType": "",
    "quoteCcy": "",
    "settleCcy": "BTC",
    "state": "live",
    "stk": "",
    "tickSz": "0.1",
    "uly": "BTC-USD",
}

# GET /v4/perpetualMarkets, one market (docs.dydx.xyz indexer "Get perpetual markets").
DYDX_BTC = {
    "clobPairId": "0",
    "ticker": "BTC-USD",
    "status": "ACTIVE",
    "oraclePrice": "67000.12",
    "priceChange24H": "0",
    "volume24H": "0",
    "trades24H": 0,
    "nextFundingRate": "0",
    "initialMarginFraction": "0.05",
    "maintenanceMarginFraction": "0.03",
    "openInterest": "0",
    "atomicResolution": -10,
    "quantumConversionExponent": -9,
    "tickSize": "1",
    "stepSize": "0.0001",
    "stepBaseQuantums": 1000000,
    "subticksPerTick": 100000,
    "marketType": "CROSS",
}

# GET /api/v4/futures/usdt/contracts, one contract (www.gate.io/docs/developers/apiv4 "List all futures contracts").
GATE_USDT_SWAP = {
    "name": "BTC_USDT",
    "type": "direct",
    "quanto_multiplier": "0.0001",
    "order_price_deviate": "0.5",
    "maintenance_rate": "0.005",
    "mark_type": "index",
    "last_price": "38026",
    "mark_price": "37985.6",
    "index_price": "37954.92",
    "mark_price_round": "0.01",
    "in_delisting": False,
    "order_price_round": "0.1",
    "order_size_min": 1,
    "order_size_max": 1000000,
    "leverage_min": "1",
    "leverage_max": "100",
    "maker_fee_rate": "-0.00025",
    "taker_fee_rate": "0.00075",
    "funding_rate": "0.002053",
    "funding_interval": 28800,
    "orders_limit": 50,
    "status": "trading",
}

# GET /v5/market/instruments-info?category=linear (bybit-exchange.github.io/docs/v5 "Get Instruments Info").
BYBIT_LINEAR = {
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "category": "linear",
        "list": [
            {
                "symbol": "BTCUSDT",
                "contractType": "LinearPerpetual",
                "status": "Trading",
                "baseCoin": "BTC",
                "quoteCoin": "USDT",
                "launchTime": "1585526400000",
                "deliveryTime": "0",
                "deliveryFeeRate": "",
                "priceScale": "2",
                "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
                "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
                "lotSizeFilter": {
                    "maxOrderQty": "1190.000",
                    "minOrderQty": "0.001",
                    "qtyStep": "0.001",
                    "postOnlyMaxOrderQty": "1190.000",
                    "maxMktOrderQty": "500.000",
                    "minNotionalValue": "5",
                },
                "unifiedMarginTrade": True,
                "fundingInterval": 480,
                "settleCoin": "USDT",
            }
        ],
        "nextPageCursor": "",
    },
    "retExtInfo": {},
    "time": 1707186451514,
}

# POST-less public GET /0/public/AssetPairs (docs.kraken.com "Get Tradable Asset Pairs").
KRAKEN_PAIRS = {
    "error": [],
    "result": {
        "XXBTZUSD": {
            "altname": "XBTUSD",
            "wsname": "XBT/USD",
            "aclass_base": "currency",
            "base": "XXBT",
            "aclass_quote": "currency",
            "quote": "ZUSD",
            "lot": "unit",
            "cost_decimals": 5,
            "pair_decimals": 1,
            "lot_decimals": 8,
            "lot_multiplier": 1,
            "leverage_buy": [2, 3, 4, 5],
            "leverage_sell": [2, 3, 4, 5],
            "fees": [[0, 0.4]],
            "fees_maker": [[0, 0.25]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": "0.00005",
            "costmin": "0.5",
            "tick_size": "0.1",
            "status": "online",
        }
    },
}


def _answering(exchange: ccxt.Exchange, bodies: Mapping[str, Any]) -> ccxt.Exchange:
    """The exchange with its HTTP layer answered from ``bodies`` by URL path."""

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        return bodies[urlsplit(url).path]

    exchange.fetch = fetch
    return exchange


@cache
def ccxt_markets() -> dict[str, dict[str, Any]]:
    """ccxt unified markets, keyed by a name for the tests."""
    binance = ccxt.binance()
    binance.options["crossMarginPairsData"] = ["BTCUSDT"]  # what fetch_markets fills from sapi margin pairs
    binance.options["isolatedMarginPairsData"] = []
    usdm = ccxt.binanceusdm()
    bybit = _answering(
        ccxt.bybit({"options": {"fetchMarkets": {"types": ["linear"]}}}),
        {"/v5/market/instruments-info": BYBIT_LINEAR},
    )
    kraken = _answering(ccxt.kraken(), {"/0/public/AssetPairs": KRAKEN_PAIRS})
    return {
        "binance spot": binance.parse_market(BINANCE_SPOT),
        "binance spot halted": binance.parse_market({**BINANCE_SPOT, "status": "BREAK"}),
        "binance spot cash only": binance.parse_market({**BINANCE_SPOT, "isMarginTradingAllowed": False}),
        "binanceusdm perp": usdm.parse_market(BINANCE_USDM),
        "binanceusdm quarter": usdm.parse_market(BINANCE_USDM_QUARTER),
        "okx inverse swap": ccxt.okx().parse_market(OKX_INVERSE_SWAP),
        "dydx perp": ccxt.dydx().parse_market(DYDX_BTC),
        "gate usdt swap": ccxt.gate().parse_contract_market(GATE_USDT_SWAP, "usdt"),
        "bybit linear": bybit.fetch_markets()[0],
        "kraken spot": kraken.fetch_markets()[0],
    }


def rules(name: str) -> TradingRules:
    return rules_from_ccxt_market(ccxt_markets()[name])


# ---- reading ccxt markets --------------------------------------------------------------------


def test_binance_spot_rules_come_from_its_filters() -> None:
    r = rules("binance spot")
    assert (r.symbol, r.ccxt_symbol, r.product) == ("BTC-USDT", "BTC/USDT", Product.SPOT)
    assert r.active and r.margin
    assert (r.tick, r.lot) == (D("0.01"), D("0.00001"))
    assert (r.min_amount, r.max_amount, r.max_market_amount) == (D("0.00001"), D("9000"), D("83.54752249"))
    assert (r.min_price, r.max_price) == (D("0.01"), D("1000000"))
    assert (r.min_notional, r.max_notional) == (D(5), D(9000000))
    assert r.contract_size == 1 and not r.derivative


def test_a_halted_market_is_not_active() -> None:
    assert not rules("binance spot halted").active


def test_perpetuals_and_dated_futures_get_standard_symbols() -> None:
    perp, quarter = rules("binanceusdm perp"), rules("binanceusdm quarter")
    assert (perp.symbol, perp.product, perp.settle) == ("BTC-USDT-PERP", Product.LINEAR_PERP, "USDT")
    assert (quarter.symbol, quarter.product) == ("BTC-USDT-20250328", Product.FUTURES)
    assert (perp.min_notional, perp.max_market_amount) == (D(100), D(120))


def test_inverse_contracts_keep_their_contract_size() -> None:
    r = rules("okx inverse swap")
    assert (r.symbol, r.product, r.inverse, r.settle) == ("BTC-USD-PERP", Product.INVERSE_PERP, True, "BTC")
    assert (r.contract_size, r.lot, r.tick, r.max_leverage) == (D(100), D(1), D("0.1"), D(125))
    assert r.notional(D(3), D(50000)) == D(300)  # three 100 USD contracts, whatever the price


def test_linear_contract_sizes_in_base_units() -> None:
    r = rules("gate usdt swap")
    assert (r.contract_size, r.lot, r.min_amount) == (D("0.0001"), D(1), D(1))
    assert r.notional(D(10), D(50000)) == D(50)  # 10 contracts of 0.0001 BTC at 50000


def test_venues_parsed_through_fetch_markets() -> None:
    bybit, kraken = rules("bybit linear"), rules("kraken spot")
    assert (bybit.symbol, bybit.lot, bybit.tick, bybit.min_notional) == ("BTC-USDT-PERP", D("0.001"), D("0.1"), D(5))
    assert (kraken.symbol, kraken.lot, kraken.tick) == ("BTC-USD", D("1e-8"), D("0.1"))
    assert (kraken.min_amount, kraken.min_notional) == (D("0.00005"), D("0.5"))


def test_decimal_places_precision_is_read_as_digits() -> None:
    market = {**ccxt_markets()["binance spot"], "precision": {"amount": 5, "price": 2}}
    r = rules_from_ccxt_market(market, precision_mode=DECIMAL_PLACES)
    assert (r.lot, r.tick) == (D("0.00001"), D("0.01"))


def test_significant_digits_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="significant-digits"):
        rules_from_ccxt_market(ccxt_markets()["binance spot"], precision_mode=SIGNIFICANT_DIGITS)


def test_a_market_without_a_price_precision_is_refused() -> None:
    market = {**ccxt_markets()["binance spot"], "precision": {"amount": 0.001, "price": None}}
    with pytest.raises(ValueError, match=r"precision\.price"):
        rules_from_ccxt_market(market)


# ---- validation: fixtures --------------------------------------------------------------------

RICH = {"USDT": D(10_000_000), "USD": D(10_000_000), "USDC": D(10_000_000), "BTC": D(1000)}


def venue_of(name: str) -> str:
    return name.split()[0].replace("binanceusdm", "binance")


def book(*names: str) -> dict[str, TradingRules]:
    return {rules(n).symbol: rules(n) for n in names}


def check(
    name: str,
    balances: Mapping[str, Decimal] = RICH,
    reference_price: Decimal | None = None,
    **fields: Any,
) -> OrderRequest:
    r = rules(name)
    request = OrderRequest(
        **{
            "venue": venue_of(name),
            "symbol": r.symbol,
            "side": Side.BUY,
            "type": OrderType.LIMIT,
            "amount": D("0.5"),
            "price": D(50000),
            **fields,
        }
    )
    return validate_order(request, {r.symbol: r}, capabilities(venue_of(name)), balances, reference_price)


def refusal(name: str, kind: type[InvalidOrder] = InvalidOrder, **fields: Any) -> str:
    """The message of the ``kind`` error that validating this order raises."""
    with pytest.raises(kind) as caught:
        check(name, **fields)
    return str(caught.value)


def says(message: str, *words: str) -> None:
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


# ---- validation: the grid --------------------------------------------------------------------


def test_amount_rounds_down_and_a_buy_price_rounds_down() -> None:
    order = check("binance spot", amount=D("0.0123456"), price=D("60000.019"))
    assert (order.amount, order.price) == (D("0.01234"), D("60000.01"))


def test_a_sell_price_rounds_up_never_more_aggressive() -> None:
    order = check("binance spot", side=Side.SELL, amount=D("0.0123456"), price=D("60000.011"))
    assert (order.amount, order.price) == (D("0.01234"), D("60000.02"))


def test_prices_already_on_the_grid_are_kept() -> None:
    order = check("gate usdt swap", amount=D(7), price=D("50000.3"))
    assert (order.amount, order.price) == (D(7), D("50000.3"))


def test_trigger_prices_go_to_the_nearest_tick() -> None:
    order = check(
        "bybit linear",
        type=OrderType.STOP_LIMIT,
        price=D("50000.04"),
        stop_price=D("49990.05"),
        take_profit=D("51000.06"),
        stop_loss=D("49000.04"),
    )
    assert (order.price, order.stop_price, order.take_profit, order.stop_loss) == (
        D("50000.0"),
        D("49990.1"),
        D("51000.1"),
        D("49000.0"),
    )


def test_an_iceberg_slice_rounds_down_to_the_lot() -> None:
    order = check("binance spot", amount=D("1"), iceberg_visible=D("0.100009"))
    assert order.iceberg_visible == D("0.10000")


def test_every_number_sent_is_a_decimal_on_the_grid() -> None:
    r = rules("binance spot")
    order = check("binance spot", amount=D("0.333333333"), price=D("12345.6789"))
    for value, step in ((order.amount, r.lot), (order.price, r.tick)):
        assert isinstance(value, Decimal) and value % step == 0


# ---- validation: rejections ------------------------------------------------------------------


@pytest.mark.parametrize("value", [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity")])
def test_non_finite_amounts_are_rejected(value: Decimal) -> None:
    says(refusal("binance spot", amount=value), "amount", "finite")


@pytest.mark.parametrize("value", [D(0), D("-0.5"), D("-0")])
def test_zero_and_negative_amounts_are_rejected(value: Decimal) -> None:
    says(refusal("binance spot", amount=value), "amount", "greater than 0")


def test_floats_are_not_sent() -> None:
    says(refusal("binance spot", price=50000.0), "price", "Decimal", "float")


@pytest.mark.parametrize("field", ["price", "take_profit", "stop_loss", "iceberg_visible", "leverage"])
def test_every_price_field_must_be_finite_and_positive(field: str) -> None:
    infinite: dict[str, Any] = {field: D("Infinity")}
    negative: dict[str, Any] = {field: D("-1")}
    says(refusal("binance spot", **infinite), field, "finite")
    says(refusal("binance spot", **negative), field, "greater than 0")


def test_unknown_symbols_are_rejected() -> None:
    r = rules("binance spot")
    request = OrderRequest("binance", "DOGE-EUR", Side.BUY, OrderType.LIMIT, D(1), D(1))
    with pytest.raises(InvalidOrder, match="symbol 'DOGE-EUR': binance has no such market"):
        validate_order(request, {r.symbol: r}, capabilities("binance"), RICH)


def test_an_order_for_another_venue_is_rejected() -> None:
    r = rules("binance spot")
    request = OrderRequest("okx", r.symbol, Side.BUY, OrderType.LIMIT, D(1), D(1))
    with pytest.raises(InvalidOrder, match="venue 'okx'"):
        validate_order(request, {r.symbol: r}, capabilities("binance"), RICH)


def test_a_market_that_does_not_trade_is_rejected() -> None:
    says(refusal("binance spot halted"), "BTC-USDT", "not trading")


def test_limit_orders_need_a_price_and_market_orders_take_none() -> None:
    says(refusal("binance spot", price=None), "price", "limit order needs a limit price")
    says(refusal("binance spot", type=OrderType.MARKET), "price 50000", "market order takes no limit price")
    says(refusal("bybit linear", type=OrderType.STOP_LIMIT, price=None), "price", "stop_limit order needs")


def test_stop_price_rules() -> None:
    says(refusal("bybit linear", type=OrderType.STOP, price=None), "stop_price", "stop order needs a trigger")
    says(refusal("bybit linear", stop_price=D(49000)), "stop_price 49000", "limit order has no trigger")


def test_amount_limits_apply_after_rounding() -> None:
    says(refusal("binance spot", amount=D("0.000009")), "amount 0.000009", "rounds down to 0", "0.00001")
    says(refusal("binance spot", amount=D(9001)), "amount 9001", "above the maximum 9000")
    says(refusal("kraken spot", amount=D("0.00004")), "amount 0.00004", "below the minimum 0.00005")


def test_market_orders_have_their_own_quantity_cap() -> None:
    fine = check("binanceusdm perp", amount=D(200), price=D(50000))
    assert fine.amount == D(200)
    says(
        refusal("binanceusdm perp", type=OrderType.MARKET, price=None, amount=D(200), reference_price=D(50000)),
        "amount 200", "above the maximum 120", "market order",
    )


def test_prices_outside_the_venue_band_are_rejected() -> None:
    says(refusal("binanceusdm perp", price=D(500)), "price 500.0", "below the minimum 556.8")
    says(refusal("binance spot", price=D("0.001")), "price", "rounds to 0 at the tick size 0.01")


def test_min_notional_uses_the_limit_price() -> None:
    says(refusal("binance spot", amount=D("0.0009"), price=D(5000)), "notional 4.5 USDT", "below the minimum 5")


def test_min_notional_of_a_market_order_uses_the_reference_price() -> None:
    market: dict[str, Any] = {"type": OrderType.MARKET, "price": None, "amount": D("0.001")}
    says(refusal("binance spot", reference_price=D(4000), **market), "notional 4 USDT", "at 4000")
    assert check("binance spot", reference_price=D(6000), **market).amount == D("0.001")
    says(refusal("binance spot", **market), "reference_price", "market order needs one")


def test_min_notional_of_contracts_counts_the_contract_size() -> None:
    says(
        refusal("binanceusdm perp", amount=D("0.001"), price=D(50000)),
        "notional 50 USDT", "below the minimum 100",
    )


def test_spot_buys_need_the_quote_and_sells_the_base() -> None:
    poor = {"USDT": D(100), "BTC": D("0.001")}
    says(refusal("binance spot", balances=poor, kind=InsufficientFunds), "needs 25000 USDT", "100 USDT available")
    says(
        refusal("binance spot", balances=poor, side=Side.SELL, kind=InsufficientFunds),
        "needs 0.5 BTC", "0.001 BTC available",
    )
    assert check("binance spot", balances={"USDT": D(25000)}).amount == D("0.5")


def test_derivatives_need_margin_at_the_requested_leverage() -> None:
    cash = {"USDT": D(2500)}
    says(refusal("bybit linear", balances=cash, kind=InsufficientFunds), "margin at 1x", "needs 25000 USDT")
    says(
        refusal("bybit linear", balances=cash, leverage=D(5), kind=InsufficientFunds),
        "margin at 5x", "needs 5000 USDT",
    )
    assert check("bybit linear", balances=cash, leverage=D(10)).leverage == D(10)


def test_inverse_margin_is_in_the_base_coin() -> None:
    # 10 contracts of 100 USD at 50000 = 0.02 BTC of notional
    says(
        refusal("okx inverse swap", balances={"BTC": D("0.01")}, amount=D(10), kind=InsufficientFunds),
        "needs 0.02 BTC",
    )
    assert check("okx inverse swap", balances={"BTC": D("0.01")}, amount=D(10), leverage=D(2)).amount == D(10)


def test_reduce_only_orders_need_no_margin() -> None:
    assert check("bybit linear", balances={}, reduce_only=True).reduce_only


def test_leverage_above_the_market_maximum_is_rejected() -> None:
    says(refusal("bybit linear", leverage=D(150)), "leverage 150", "above the maximum 100")


def test_contradictory_flags_are_rejected() -> None:
    says(refusal("binance spot", post_only=True, time_in_force=TimeInForce.IOC), "post_only", "time_in_force ioc")
    says(refusal("binance spot", post_only=True, time_in_force=TimeInForce.FOK), "post_only", "time_in_force fok")
    says(
        refusal("binance spot", post_only=True, type=OrderType.MARKET, price=None, reference_price=D(50000)),
        "post_only", "market order takes liquidity",
    )


def test_derivative_flags_on_spot_are_rejected() -> None:
    says(refusal("binance spot", reduce_only=True), "reduce_only", "derivatives only")
    says(refusal("binance spot", position_side=PositionSide.LONG), "position_side long", "spot")
    says(refusal("binance spot", leverage=D(3)), "leverage 3", "without margin_mode")
    says(
        refusal("binance spot cash only", margin_mode=MarginMode.CROSS),
        "margin_mode cross", "cannot be traded on margin",
    )


def test_iceberg_slices_must_be_smaller_than_the_order() -> None:
    says(
        refusal("binance spot", iceberg_visible=D("0.5")),
        "iceberg_visible 0.50000", "less than the amount 0.50000",
    )
    says(
        refusal("binance spot", iceberg_visible=D("0.000001")),
        "iceberg_visible 0.000001", "below the smallest order",
    )
    says(
        refusal(
            "binance spot", iceberg_visible=D("0.1"), type=OrderType.MARKET, price=None, reference_price=D(50000)
        ),
        "iceberg_visible", "does not rest",
    )


def test_take_profit_and_stop_loss_sit_on_the_right_side() -> None:
    long_ok = check("bybit linear", take_profit=D(55000), stop_loss=D(45000))
    short_ok = check("bybit linear", side=Side.SELL, take_profit=D(45000), stop_loss=D(55000))
    assert (long_ok.take_profit, short_ok.take_profit) == (D("55000.0"), D("45000.0"))
    says(
        refusal("bybit linear", take_profit=D(45000)),
        "take_profit 45000.0", "above the entry price 50000.0 for a buy",
    )
    says(
        refusal("bybit linear", stop_loss=D(55000)),
        "stop_loss 55000.0", "below the entry price 50000.0 for a buy",
    )
    says(
        refusal("bybit linear", side=Side.SELL, take_profit=D(55000)),
        "take_profit 55000.0", "below the entry price 50000.0 for a sell",
    )
    says(
        refusal("bybit linear", side=Side.SELL, stop_loss=D(45000)),
        "stop_loss 45000.0", "above the entry price 50000.0 for a sell",
    )


# ---- validation: what the venue cannot do ----------------------------------------------------


def test_features_a_venue_lacks_fail_naming_venue_and_feature() -> None:
    says(
        refusal("bybit linear", amount=D(1), iceberg_visible=D("0.1"), kind=UnsupportedFeature),
        "bybit", "iceberg orders",
    )
    says(
        refusal("gate usdt swap", amount=D(1), take_profit=D(60000), kind=UnsupportedFeature),
        "gate", "take-profit/stop-loss",
    )
    says(refusal("dydx perp", position_side=PositionSide.LONG, kind=UnsupportedFeature), "dydx", "hedge mode")
    says(refusal("kraken spot", time_in_force=TimeInForce.FOK, kind=UnsupportedFeature), "kraken", "fill-or-kill")


def test_features_offered_on_other_products_only_name_where() -> None:
    says(
        refusal("binanceusdm perp", amount=D(1), iceberg_visible=D("0.1"), kind=UnsupportedFeature),
        "binance", "iceberg orders on spot, margin only, not on linear perpetuals",
    )


def test_sub_accounts_and_margin_modes_consult_the_table() -> None:
    assert check("kraken spot", account="strategy-a").account == "strategy-a"
    says(
        refusal(
            "kraken spot", margin_mode=MarginMode.ISOLATED, balances={"USD": D(10_000_000)}, kind=UnsupportedFeature
        ),
        "kraken", "isolated margin", "not on margin",
    )
    assert check("binance spot", margin_mode=MarginMode.ISOLATED, leverage=D(3)).margin_mode is MarginMode.ISOLATED


def test_a_product_the_venue_lacks_fails_before_anything_else() -> None:
    r = rules("binance spot")
    request = OrderRequest("dydx", r.symbol, Side.BUY, OrderType.LIMIT, D("0.5"), D(50000))
    with pytest.raises(UnsupportedFeature, match="dydx does not offer spot"):
        validate_order(request, {r.symbol: r}, capabilities("dydx"), RICH)


# ---- property: nothing invalid ever reaches a venue ------------------------------------------

NAMES = ["binance spot", "binanceusdm perp", "okx inverse swap", "dydx perp", "gate usdt swap", "bybit linear",
         "kraken spot", "binance spot halted"]
PATHOLOGICAL = [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), D(0), D("-0"), D("-1"), D("-50000"),
                D("1E+400"), D("1E-400"), D("123456789012345678901234567890123456789012345678901234567890123")]


def weighted(*choices: tuple[int, Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([value for weight, value in choices for _ in range(weight)])


def near(reference: Decimal, low: str, high: str) -> st.SearchStrategy[Decimal]:
    """A price off the grid, between low and high times the reference."""
    return st.decimals(min_value=D(low), max_value=D(high), places=4).map(lambda f: reference * f)


Case = tuple[str, OrderRequest, "Decimal | None", dict[str, Decimal]]  # market name, order, reference, balances

# A valid-looking order is drawn first, then up to three of these break it (field, bad values).
BREAKAGES: list[tuple[str, st.SearchStrategy[Any]]] = [
    ("amount", st.sampled_from(PATHOLOGICAL)),
    ("price", st.sampled_from(PATHOLOGICAL)),
    ("stop_price", st.sampled_from(PATHOLOGICAL)),
    ("take_profit", st.sampled_from(PATHOLOGICAL)),
    ("stop_loss", st.sampled_from(PATHOLOGICAL)),
    ("iceberg_visible", st.sampled_from(PATHOLOGICAL)),
    ("leverage", st.sampled_from(PATHOLOGICAL)),
    ("amount", st.decimals(allow_nan=True, allow_infinity=True)),
    ("price", st.decimals(allow_nan=True, allow_infinity=True)),
    ("symbol", st.sampled_from(["FOO-BAR", "BTC-EUR-PERP", "btc-usdt", ""])),
    ("venue", st.sampled_from(["okx", "nowhere"])),
    ("price", st.none()),
    ("stop_price", st.decimals(min_value=D(1), max_value=D(100000), places=2)),
    ("post_only", st.just(True)),
    ("reduce_only", st.just(True)),
    ("time_in_force", st.sampled_from(TimeInForce)),
    ("position_side", st.sampled_from(PositionSide)),
    ("margin_mode", st.sampled_from(MarginMode)),
    ("account", st.just("strategy-b")),
]


@st.composite
def requests(draw: st.DrawFn) -> Case:
    name = draw(st.sampled_from(NAMES))
    r = rules(name)
    reference = draw(st.decimals(min_value=D(20000), max_value=D(50000), places=1))
    kind = draw(st.sampled_from(OrderType))
    side = draw(st.sampled_from(Side))
    buy = side is Side.BUY
    limit_priced = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    entry = draw(near(reference, "0.95", "1.05")) if limit_priced else None
    stop = draw(near(reference, "0.9", "1.1")) if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    at = entry or stop or reference
    good_side = draw(st.booleans())
    smallest = r.min_amount or r.lot
    fields: dict[str, Any] = {
        "venue": venue_of(name),
        "symbol": r.symbol,
        "side": side,
        "type": kind,
        "amount": smallest + draw(st.integers(0, 3000)) * r.lot + draw(st.sampled_from([D(0), r.lot / 3])),
        "price": entry,
        "stop_price": stop,
        "time_in_force": draw(weighted((6, TimeInForce.GTC), (1, TimeInForce.IOC), (1, TimeInForce.FOK))),
        "post_only": draw(weighted((5, False), (1, True))),
        "reduce_only": draw(weighted((5, False), (1, True))),
        "iceberg_visible": draw(weighted((5, None), (1, r.lot * 3))),
        "take_profit": draw(weighted((3, None), (1, at * D("1.1") if buy == good_side else at * D("0.9")))),
        "stop_loss": draw(weighted((3, None), (1, at * D("0.9") if buy == good_side else at * D("1.1")))),
        "position_side": draw(weighted((6, PositionSide.BOTH), (1, PositionSide.LONG), (1, PositionSide.SHORT))),
        "margin_mode": draw(weighted((6, None), (1, MarginMode.CROSS), (1, MarginMode.ISOLATED))),
        "leverage": draw(weighted((4, None), (1, D(3)), (1, D(200)))),
        "account": draw(weighted((4, "main"), (1, "strategy-a"))),
    }
    for _ in range(draw(weighted((3, 0), (2, 1), (1, 2), (1, 3)))):
        field, values = draw(st.sampled_from(BREAKAGES))
        fields[field] = draw(values)
    balances = draw(
        st.one_of(
            st.just(dict(RICH)),
            st.dictionaries(st.sampled_from(["BTC", "USDT", "USD", "USDC"]), st.sampled_from(PATHOLOGICAL[4:9])),
            st.dictionaries(st.sampled_from(["BTC", "USDT", "USD", "USDC"]), st.decimals(0, 100_000, places=4)),
        )
    )
    return name, OrderRequest(**fields), draw(weighted((5, reference), (1, None))), balances


WIDE = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)  # the oracle's arithmetic neither rounds nor overflows


def assert_sendable(
    order: OrderRequest,
    asked: OrderRequest,
    r: TradingRules,
    caps: VenueCapabilities,
    reference: Decimal | None,
    balances: Mapping[str, Decimal],
) -> None:
    """Every rule, restated plainly: what a venue would accept."""
    assert r.active and order.venue == caps.venue and order.symbol == r.symbol
    values = [order.amount, order.price, order.stop_price, order.take_profit, order.stop_loss,
              order.iceberg_visible, order.leverage]
    assert all(isinstance(n, Decimal) and n.is_finite() and n > 0 for n in values if n is not None)
    # the grid, never more than asked
    assert order.amount % r.lot == 0 and asked.amount - r.lot < order.amount <= asked.amount
    for price in (order.price, order.stop_price, order.take_profit, order.stop_loss):
        assert price is None or price % r.tick == 0
    if order.price is not None:
        assert asked.price is not None
        if order.side is Side.BUY:
            assert asked.price - r.tick < order.price <= asked.price
        else:
            assert asked.price <= order.price < asked.price + r.tick
    # limits
    assert r.min_amount is None or order.amount >= r.min_amount
    assert r.max_amount is None or order.amount <= r.max_amount
    for price in (order.price, order.stop_price, order.take_profit, order.stop_loss):
        if price is not None:
            assert r.min_price is None or price >= r.min_price
            assert r.max_price is None or price <= r.max_price
    # the type's fields
    limit_priced = order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    assert (order.price is not None) == limit_priced
    assert (order.stop_price is not None) == (order.type in (OrderType.STOP, OrderType.STOP_LIMIT))
    assert not order.post_only or (limit_priced and order.time_in_force is TimeInForce.GTC)
    assert not order.reduce_only or r.derivative
    assert order.leverage is None or r.derivative or order.margin_mode is not None
    assert order.margin_mode is None or r.derivative or r.margin
    if order.iceberg_visible is not None:
        assert limit_priced and order.iceberg_visible % r.lot == 0 and order.iceberg_visible < order.amount
    assert_value_and_funds(order, r, reference, balances)
    # the venue can do it
    product = Product.MARGIN if order.margin_mode and not r.derivative else r.product
    assert caps.products[product].offered
    if order.iceberg_visible is not None:
        assert caps.features[Feature.ICEBERG].offered_on(product)
    if order.take_profit is not None or order.stop_loss is not None:
        assert caps.features[Feature.TP_SL].offered_on(product)
    if order.position_side is not PositionSide.BOTH:
        assert r.derivative and caps.features[Feature.HEDGE_MODE].offered_on(product)
    if order.time_in_force is TimeInForce.FOK:
        assert caps.features[Feature.FOK].offered_on(product)


def assert_value_and_funds(
    order: OrderRequest, r: TradingRules, reference: Decimal | None, balances: Mapping[str, Decimal]
) -> None:
    entry = order.price or order.stop_price or reference
    assert entry is not None
    notional = order.amount * r.contract_size * (1 if r.inverse else entry)
    assert r.min_notional is None or notional >= r.min_notional
    buy = order.side is Side.BUY
    if order.take_profit is not None:
        assert order.take_profit > entry if buy else order.take_profit < entry
    if order.stop_loss is not None:
        assert order.stop_loss < entry if buy else order.stop_loss > entry
    # funds
    if not order.reduce_only:
        lev = order.leverage or 1
        if r.derivative or order.margin_mode:
            need, ccy = (notional / entry / lev, r.settle) if r.inverse else (notional / lev, r.settle or r.quote)
        elif buy:
            need, ccy = order.amount * entry, r.quote
        else:
            need, ccy = order.amount, r.base
        assert balances.get(ccy or "", D(0)) >= need


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_nothing_invalid_ever_reaches_a_venue(case: Case) -> None:
    name, request, reference, balances = case
    r, caps = rules(name), capabilities(venue_of(name))
    sent: list[OrderRequest] = []
    try:
        sent.append(validate_order(request, {r.symbol: r}, caps, balances, reference))
    except InvalidOrder as refused:
        assert str(refused)  # a reason, never an empty message
    with localcontext(WIDE):
        for order in sent:
            assert_sendable(order, request, r, caps, reference, balances)


@st.composite
def valid_requests(draw: st.DrawFn) -> tuple[str, OrderRequest]:
    """Plain limit orders on the grid and inside every limit of a trading market."""
    name = draw(st.sampled_from(NAMES[:-1]))
    r = rules(name)
    steps = draw(st.integers(min_value=1, max_value=10_000))
    amount = max(r.min_amount or r.lot, r.lot) + steps * r.lot
    low = max(r.min_price or r.tick, D(1000))
    price = low + draw(st.integers(min_value=0, max_value=10_000)) * r.tick
    if r.min_notional is not None and r.notional(amount, price) < r.min_notional:
        lots = r.min_notional / (r.contract_size * price) / r.lot
        amount = lots.to_integral_value(rounding="ROUND_CEILING") * r.lot
    side = draw(st.sampled_from(Side))
    return name, OrderRequest(venue_of(name), r.symbol, side, OrderType.LIMIT, amount, price)


@settings(max_examples=200, deadline=None)
@given(valid_requests())
def test_valid_orders_pass_unchanged(case: tuple[str, OrderRequest]) -> None:
    name, request = case
    r = rules(name)
    order = validate_order(request, {r.symbol: r}, capabilities(venue_of(name)), {c: D("1e12") for c in RICH})
    assert replace(order, amount=request.amount, price=request.price) == request
    assert (order.amount, order.price) == (request.amount, request.price)
