"""A desk on the bus publishes its accounts' fills and execution reports on
``crossbook.fills.<venue>.<account>``: an order that fills on the simulator reaches a plain nats
subscriber as JSON (the fill with its venue, symbol, side, price, amount and fee, then the
outcome), and no message carries the account's API key or secret."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
import orjson

from crossbook.bus import subjects
from crossbook.bus.natsd import NatsServer
from crossbook.desk import Desk
from crossbook.market.bus_data import BusMarketData
from crossbook.model import OrderRequest, OrderStatus, OrderType, Side
from tests.conftest import run

SYMBOL = "BTC-USDT"
AMOUNT = Decimal("0.01")
WITHIN = 60.0


def secrets_of(config: Path) -> list[str]:
    """Every credential the config's ccxt settings hold (the key, the secret, any password)."""
    ccxt_file = config.with_name(f"{config.stem}-ccxt.json")
    found = [str(v) for settings in json.loads(ccxt_file.read_text()).values()
             for k, v in settings.items() if k in ("apiKey", "secret", "password", "privateKey") and v]
    assert found, f"no credential in {ccxt_file}"
    return found


def test_a_fill_and_its_outcome_are_published_without_a_secret(tmp_path: Path) -> None:
    async def body() -> None:
        async with NatsServer() as server, Desk.sim(["binance"]) as simulated:
            config = simulated.write_config(tmp_path / "crossbook.toml")
            config.write_text(config.read_text() + f'\n[bus]\nurl = "{server.url}"\nname = "desk-fills"\n')
            secrets = secrets_of(config)
            raw = await nats.connect(server.url)
            try:
                reports = await raw.subscribe(subjects.fills_subject("binance", "main"))
                desk = Desk.from_config(config)
                assert isinstance(desk.market, BusMarketData)
                desk.market.instruments_within = 0.0  # no feed process here: the accounts trade without books
                async with desk:
                    trader = await desk.account("binance")
                    book = await trader.account.client.fetch_order_book("BTC/USDT")
                    placed = await trader.place(OrderRequest("binance", SYMBOL, Side.BUY, OrderType.MARKET, AMOUNT),
                                                reference_price=Decimal(str(book["asks"][0][0])))
                    assert placed.status is OrderStatus.FILLED, placed
                    messages = [(await reports.next_msg(timeout=WITHIN)).data]
                    while orjson.loads(messages[-1])["kind"] != "outcome":
                        messages.append((await reports.next_msg(timeout=WITHIN)).data)
            finally:
                await raw.close()

        decoded: list[dict[str, Any]] = [orjson.loads(m) for m in messages]
        fills = [m for m in decoded if m["kind"] == "fill"]
        assert fills and all(m["kind"] == "fill" for m in decoded[:-1]), decoded
        for fill in fills:
            assert (fill["venue"], fill["account"], fill["symbol"], fill["side"]) == ("binance", "main", SYMBOL, "buy"), fill
            assert fill["client_order_id"] == placed.client_order_id, fill
            assert Decimal(fill["price"]) > 0 and Decimal(fill["amount"]) > 0 and Decimal(fill["fee"]) >= 0, fill
            assert fill["fee_currency"], fill
        assert sum(Decimal(f["amount"]) for f in fills) == AMOUNT, fills
        assert decoded[-1] == {"kind": "outcome", "venue": "binance", "account": "main", "symbol": SYMBOL,
                               "client_order_id": placed.client_order_id, "outcome": "filled"}, decoded[-1]
        for message in messages:
            for secret in secrets:
                assert secret.encode() not in message, "a credential went out on the bus"

    run(body(), timeout=180.0)
