"""Simulated Coinbase's ``ticker`` and ``candles`` channels, from the venue's own tape.

Both publish on trades: ``ticker`` the rolling day and the touch, at most once a second; ``candles``
the 5-minute candle the tick's last trade fell in (Coinbase's socket has no other length), so a
candle's last frame carries its final figures.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from ...market import Ladder
from ...tape import Tape

CANDLE_SECONDS = 300
TICKER_EVERY = 1.0  # seconds between two ticker frames of a symbol


class CoinbaseStreams:
    tape: Tape
    ladders: dict[str, Ladder]

    def init_streams(self) -> None:
        self.ticker_sent: dict[str, float] = {}

    def native(self, symbol: str) -> str:
        raise NotImplementedError

    def market_events(self, symbol: str, held: set[str]) -> dict[str, list[dict[str, Any]]]:
        """This tick's ``update`` events of the channels in ``held``, on a tick with trades."""
        out: dict[str, list[dict[str, Any]]] = {}
        now = time.time()
        if "ticker" in held and now - self.ticker_sent.get(symbol, 0.0) >= TICKER_EVERY:
            self.ticker_sent[symbol] = now
            out["ticker"] = [{"type": "update", "tickers": [self.ticker_row(symbol)]}]
        if "candles" in held and (row := self.candle_row(symbol)) is not None:
            out["candles"] = [{"type": "update", "candles": [row]}]
        return out

    def ticker_row(self, symbol: str) -> dict[str, str]:
        day, ladder = self.tape.day(symbol), self.ladders[symbol]
        bid, ask = ladder.top(True, 1), ladder.top(False, 1)
        change = (Decimal(day.last) / Decimal(day.open) - 1) * 100 if Decimal(day.open) else Decimal(0)
        return {"type": "ticker", "product_id": self.native(symbol), "price": day.last, "volume_24_h": day.volume,
                "low_24_h": day.low, "high_24_h": day.high, "low_52_w": day.low, "high_52_w": day.high,
                "price_percent_chg_24_h": f"{change:.14f}",
                "best_bid": ladder.price_str(bid[0][0]) if bid else "", "best_bid_quantity": ladder.size_str(bid[0][1]) if bid else "",
                "best_ask": ladder.price_str(ask[0][0]) if ask else "", "best_ask_quantity": ladder.size_str(ask[0][1]) if ask else ""}

    def candle_row(self, symbol: str) -> dict[str, str] | None:
        """The 5-minute candle of the newest print (None before any)."""
        prints = self.tape.prints[symbol]
        if not prints:
            return None
        opening = prints[-1].ms - prints[-1].ms % (CANDLE_SECONDS * 1000)
        candles = self.tape.candles(symbol, CANDLE_SECONDS, 1, opening, opening)
        if not candles:
            return None
        c = candles[0]
        return {"start": str(c.start_ms // 1000), "high": c.high, "low": c.low, "open": c.open, "close": c.close,
                "volume": c.volume, "product_id": self.native(symbol)}
