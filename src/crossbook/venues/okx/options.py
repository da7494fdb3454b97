"""OKX options (instType OPTION, coin-margined): instruments per underlying (``uly`` BTC-USD,
ETH-USD), their ``books`` on /ws/v5/public with the same sequencing and checksum as OKX's other
books (``OkxFeed``), ``trades``, ``mark-price`` per option and ``opt-summary`` per instrument family
(greeks and volatilities of every option of the family in one push).

Prices are in the base coin per unit of underlying (0.0125 BTC), sizes in contracts of ``ctVal``
base units (0.01 BTC, 0.1 ETH). ``OptionMark`` joins the two channels: the last ``mark-price`` of
the option with each ``opt-summary`` row of it (mark vol, bid/ask vol, Black-Scholes greeks, the
forward ``fwdPx`` it was marked from).
Docs: www.okx.com/docs-v5/en/#public-data-websocket-option-summary-channel
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from ...errors import VenueUnavailable
from ...feeds.handler import Channels, Frame
from ...model import Instrument, Kind, OptionMark, OptionRight
from ...symbols import option_symbol
from . import INSTRUMENTS_PATH, OkxFeed, optional

loads = orjson.loads
UNDERLYINGS = ("BTC-USD", "ETH-USD")  # OKX lists options on these (instFamily and uly alike)


def family(native: str) -> str:
    """``BTC-USD-261225-100000-C`` -> ``BTC-USD``."""
    return "-".join(native.split("-")[:2])


def option_expiry(native: str) -> str:
    """``BTC-USD-261225-100000-C`` -> ``20261225``."""
    return "20" + native.split("-")[2]


class OkxOptions(OkxFeed):
    """The options market's books, trades and marks on OKX's public socket."""

    venue = "okxoptions"
    product = "option"
    url_hosts = ()  # the socket is OKX's public one; captures replay through ``OkxFeed``
    streams_per_symbol = 4  # books, trades, mark-price and (shared per family) opt-summary

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marks: dict[str, float] = {}  # native -> its last mark-price

    @classmethod
    def market_channels(cls, channels: Channels, contract: bool) -> list[str]:
        return ["tickers"] if channels.ticker else []

    @classmethod
    def market_streams(cls, channels: Channels) -> int:
        return len(cls.market_channels(channels, contract=True))

    def native_channels(self, native: str) -> list[str]:
        return ["books", "trades", "mark-price", *self.market_channels(self.channels, True)]

    def subscribe_messages(self, natives: list[str]) -> list[Frame]:
        return [self._option_request("subscribe", natives)]

    def unsubscribe_messages(self, natives: list[str]) -> list[Frame]:
        """Each option's channels; a family's ``opt-summary`` stays while other options of it are followed."""
        return [self._option_request("unsubscribe", natives, keep_families=True)]

    def _option_request(self, op: str, natives: list[str], keep_families: bool = False) -> str:
        args: list[dict[str, str]] = [{"channel": c, "instId": n} for n in natives for c in self.native_channels(n)]
        families = sorted({family(n) for n in natives})
        if keep_families:
            followed = {family(n) for n in self.books if n not in natives}
            families = [f for f in families if f not in followed]
        args += [{"channel": "opt-summary", "instFamily": f} for f in families]
        return orjson.dumps({"op": op, "args": args}).decode()

    def on_market_channel(self, channel: str, inst_id: str, data: list[Any]) -> None:
        if channel == "mark-price":
            for d in data:
                self.on_option_mark(d)
        elif channel == "opt-summary":
            for d in data:
                self.on_summary(d)
        else:
            super().on_market_channel(channel, inst_id, data)

    def on_option_mark(self, d: dict[str, Any]) -> None:
        """``mark-price`` of an option, in the base coin:
        {"arg":{"channel":"mark-price","instId":"BTC-USD-220325-194000-P"},"data":[{"instType":"OPTION",
        "instId":"BTC-USD-220325-194000-P","markPx":"0.0125","ts":"1597026383085"}]}"""
        self.marks[d["instId"]] = float(d["markPx"])

    def on_summary(self, d: dict[str, Any]) -> None:
        """One option of an ``opt-summary`` push (vols annualized as fractions, ``*BS`` the
        Black-Scholes greeks, the others price-adjusted in coin); an OptionMark once its mark is known:
        {"arg":{"channel":"opt-summary","instFamily":"BTC-USD"},"data":[{"instType":"OPTION",
        "instId":"BTC-USD-241013-70000-P","uly":"BTC-USD","delta":"-1.1180902625","gamma":"2.2361957091",
        "vega":"0.0000000001","theta":"0.0000032334","lever":"8.465747567","markVol":"0.3675503331",
        "bidVol":"0","askVol":"1.1669998535","realVol":"","deltaBS":"-0.9999672034","gammaBS":"0.0000000002",
        "thetaBS":"28.2649858387","vegaBS":"0.0000114332","ts":"1728703155650","fwdPx":"62604.6993093463",
        "volLv":"0.2044711229"}]}"""
        native = d["instId"]
        mark = self.marks.get(native)
        if mark is None:
            return
        self.emit_market(OptionMark(
            self.venue, self.symbol(native), int(d["ts"]) / 1000.0, mark, optional(d.get("fwdPx")),
            optional(d.get("markVol")), optional(d.get("bidVol")) or None, optional(d.get("askVol")) or None,
            optional(d.get("deltaBS")), optional(d.get("gammaBS")), optional(d.get("vegaBS")), optional(d.get("thetaBS")),
        ))

    # ---- instruments ---------------------------------------------------------------------

    def instruments_urls(self) -> list[str]:
        return [f"{self.rest_base}{INSTRUMENTS_PATH}?instType=OPTION&uly={u}" for u in UNDERLYINGS]

    def _instrument(self, i: dict[str, Any]) -> Instrument:
        """``GET /api/v5/public/instruments?instType=OPTION&uly=BTC-USD``:
        {"instType":"OPTION","instId":"BTC-USD-261225-100000-C","uly":"BTC-USD","instFamily":"BTC-USD",
        "settleCcy":"BTC","ctVal":"0.01","ctMult":"1","ctValCcy":"BTC","optType":"C","stk":"100000",
        "expTime":"1798185600000","tickSz":"0.0005","lotSz":"1","minSz":"1","state":"live",...}"""
        native: str = i["instId"]
        base, quote = (i.get("instFamily") or i["uly"]).split("-")
        expiry = datetime.fromtimestamp(int(i["expTime"]) / 1000, UTC).strftime("%Y%m%d") if i.get("expTime") \
            else option_expiry(native)
        strike, right = float(i["stk"]), OptionRight(i["optType"])
        return Instrument(
            venue=self.venue,
            native=native,
            symbol=option_symbol(base, quote, expiry, strike, right),
            base=base,
            quote=quote,
            kind=Kind.OPTION,
            tick=float(i["tickSz"]),
            lot=float(i["lotSz"]),
            expiry=expiry,
            contract_size=float(i["ctVal"]) * float(i.get("ctMult") or 1),
            strike=strike,
            right=right,
            settle=i.get("settleCcy") or base,
            premium_in_base=True,
        )

    def parse_instruments(self, bodies: list[bytes]) -> list[Instrument]:
        out: list[Instrument] = []
        for body in bodies:
            reply = loads(body)
            if reply.get("code") != "0":
                raise VenueUnavailable(f"okx option instruments: code {reply.get('code')}: {reply.get('msg')}")
            out.extend(self._instrument(i) for i in reply["data"] if i["instType"] == "OPTION" and i["state"] == "live")
        return out
