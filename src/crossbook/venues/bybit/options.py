"""Bybit v5 options (USDC-settled European options on BTC, ETH and SOL): wss://stream.bybit.com/v5/public/option.

Symbols: ``BTC-25DEC26-100000-C``, the day without a leading zero (``BTC-6JAN23-17500-C``). Bybit
also lists USDT-settled series under the same name plus ``-USDT`` (``BTC-27MAR26-70000-P-USDT``):
crossbook follows the USDC-settled series, the ones Bybit's option account margins and ccxt's
default option markets name (``BTC/USD:USDC-261225-100000-C``); a ``-USDT`` twin would map to the
same standard symbol (``BTC-USD-20261225-100000-C``), so it is left out of the instruments.

Book topic ``orderbook.25.{symbol}`` (every 20 ms; 100 levels every 100 ms): a snapshot, then
deltas with ``u`` +1 per message, exactly as on the other categories (``BybitSpot.on_book``).
``tickers.{symbol}`` is always a full snapshot and carries the option's mark: ``markPrice`` and
``markPriceIv``, ``bidIv`` / ``askIv`` of the touch, ``underlyingPrice`` and the greeks (``vega``
per 1 % of volatility, ``theta`` per day); the handler subscribes it with every book it follows
and emits an ``OptionMark`` per frame. Option trades come on ``publicTrade.{baseCoin}`` (one topic
per underlying, not per symbol): subscribed once per underlying on a socket, each trade emitted
only for an option whose book the socket follows.

Instruments: ``GET /v5/market/instruments-info?category=option&baseCoin=`` (Bybit's default
baseCoin is BTC, so each underlying is asked for); the strike and the contract size (1 unit of the
base coin) are not listed: the strike comes from the symbol.
Docs: bybit-exchange.github.io/docs/v5/market/instrument, /docs/v5/market/tickers,
/docs/v5/websocket/public/orderbook, /docs/v5/websocket/public/ticker
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from ...feeds.handler import Channels, Frame
from ...model import Instrument, Interval, Kind, OptionMark, OptionRight
from ...symbols import option_symbol
from . import BybitLinear, expiry_of, number

log = logging.getLogger(__name__)
UNDERLYINGS = ("BTC", "ETH", "SOL")  # the coins Bybit lists options on (ccxt asks for the same)
SETTLE = "USDC"
RIGHTS = {"Call": OptionRight.CALL, "Put": OptionRight.PUT}


class BybitOption(BybitLinear):
    venue = "bybitoption"
    product = "option"
    url_hosts = ("stream.bybit.com/v5/public/option",)
    category = "option"
    depth = 25
    streams_per_symbol = 1  # the book; the ticker (the mark) is counted by market_streams
    interval_names: ClassVar[Mapping[Interval, str]] = {}  # Bybit publishes no option candles

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trade_coins: set[str] = set()  # the underlyings whose publicTrade this socket holds

    def connection_opened(self) -> None:
        super().connection_opened()
        self.trade_coins = set()

    def _requests(self, op: str, natives: list[str]) -> list[Frame]:
        topics = [f"{name}.{n}" for n in natives for name in (f"orderbook.{self.depth}", "tickers")]
        if op == "subscribe":  # a coin's trades stay subscribed while any of its options is followed
            coins = {n.split("-", 1)[0] for n in natives} - self.trade_coins
            topics += [f"publicTrade.{coin}" for coin in sorted(coins)]
            self.trade_coins |= coins
        self._req_id += 1
        return [orjson.dumps({"op": op, "args": topics, "req_id": str(self._req_id)})]

    def on_trades(self, msg: dict[str, Any], ts: float) -> None:
        """``publicTrade.{baseCoin}``: every option on the coin; only the followed ones are emitted:
        {"topic":"publicTrade.BTC","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,
        "s":"BTC-30DEC22-17000-C","S":"Buy","v":"0.1","p":"120","L":"PlusTick","i":"...","BT":false,
        "mP":"121.5","iP":"16800","mIv":"0.45","iv":"0.44"}]}"""
        if self.auto_books:  # a replay follows whatever the capture carries
            super().on_trades(msg, ts)
            return
        followed = [t for t in msg["data"] if t["s"] in self.books]
        if followed:
            super().on_trades({**msg, "data": followed}, ts)

    @classmethod
    def market_topic_names(cls, channels: Channels) -> list[str]:
        return ["tickers"]  # the mark and greeks follow every option book, whatever the channels

    def on_ticker(self, msg: dict[str, Any]) -> None:
        """``tickers.{symbol}``, a full snapshot each time:
        {"id":"tickers.BTC-6JAN23-17500-C-2480334983-1672917511074","topic":"tickers.BTC-6JAN23-17500-C",
        "ts":1672917511074,"data":{"symbol":"BTC-6JAN23-17500-C","bidPrice":"0","bidSize":"0","bidIv":"0",
        "askPrice":"10","askSize":"5.1","askIv":"0.514","lastPrice":"10","highPrice24h":"25","lowPrice24h":"5",
        "markPrice":"7.86976724","indexPrice":"16823.73","markPriceIv":"0.4896","underlyingPrice":"16815.1",
        "openInterest":"49.85","turnover24h":"446802.8473","volume24h":"26.55","totalVolume":"86",
        "totalTurnover":"1437431","delta":"0.047831","gamma":"0.00021453","vega":"0.81351067",
        "theta":"-19.9115368","predictedDeliveryPrice":"0","change24h":"-0.33333334"},"type":"snapshot"}
        An IV of "0" is a side without a quote."""
        d = msg["data"]
        mark = number(d.get("markPrice"))
        if not mark:
            return
        native = d["symbol"]
        vega = number(d.get("vega"))
        self.emit_market(OptionMark(
            self.venue, self.symbols.get(native, native), msg["ts"] / 1000.0, mark,
            underlying=number(d.get("underlyingPrice")), iv=number(d.get("markPriceIv")) or None,
            bid_iv=number(d.get("bidIv")) or None, ask_iv=number(d.get("askIv")) or None,
            delta=number(d.get("delta")), gamma=number(d.get("gamma")),
            vega=None if vega is None else vega * 100.0, theta=number(d.get("theta")),
        ))

    def on_reply(self, msg: dict[str, Any]) -> None:
        """The option socket answers a subscribe with the topics it refused in ``data.failTopics``:
        {"success":true,"conn_id":"...","data":{"failTopics":[],"successTopics":["orderbook.25.BTC-6JAN23-17500-C"]},
        "type":"COMMAND_RESP"}; and a ping with {"args":["1672916271846"],"op":"pong"}."""
        data = msg.get("data")
        failed = data.get("failTopics") if isinstance(data, dict) else None
        if failed:
            self.errors += 1
            log.warning("%s refused topics %s", self.venue, ", ".join(failed))
            return
        super().on_reply(msg)

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}/v5/market/instruments-info?category=option&baseCoin={coin}&limit=1000"
                for coin in UNDERLYINGS]

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        return [i for i in super().parse_instruments(bodies) if i.settle == SETTLE]

    def instrument(self, s: dict[str, Any]) -> Instrument:
        """{"symbol":"BTC-29DEC23-80000-C","status":"Trading","baseCoin":"BTC","quoteCoin":"USD",
        "settleCoin":"USDC","optionsType":"Call","launchTime":"1688630400000","deliveryTime":"1703836800000",
        "deliveryFeeRate":"0.00015","priceFilter":{"minPrice":"5","maxPrice":"10000000","tickSize":"5"},
        "lotSizeFilter":{"maxOrderQty":"500","minOrderQty":"0.01","qtyStep":"0.01"}}"""
        native = s["symbol"]
        expiry = expiry_of(s["deliveryTime"])
        strike = float(native.split("-")[2])
        right = RIGHTS[s["optionsType"]]
        return Instrument(
            venue=self.venue,
            native=native,
            symbol=option_symbol(s["baseCoin"], s["quoteCoin"], expiry, strike, right),
            base=s["baseCoin"],
            quote=s["quoteCoin"],
            kind=Kind.OPTION,
            tick=float(s["priceFilter"]["tickSize"]),
            lot=float(s["lotSizeFilter"]["qtyStep"]),
            expiry=expiry,
            contract_size=1.0,
            strike=strike,
            right=right,
            settle=s["settleCoin"],
        )

