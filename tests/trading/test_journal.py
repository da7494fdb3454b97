"""The order journal: the order life, idempotent fills, derived totals, queries, concurrent
writers, and recovery after SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossbook.errors import InvalidOrder, UnknownVenue
from crossbook.model import Fill, MarginMode, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from crossbook.trading.journal import (
    ConflictingFill,
    IllegalTransition,
    Journal,
    JournaledOrder,
    JournalError,
    UnknownOrder,
)

S = OrderStatus
D = Decimal


def req(
    venue: str = "okx", *, side: Side = Side.BUY, amount: str = "1", price: str = "100", symbol: str = "BTC-USDT", **kw: Any
) -> OrderRequest:
    return OrderRequest(venue, symbol, side, OrderType.LIMIT, D(amount), D(price), **kw)


def fill_of(
    order: JournaledOrder, trade_id: str, amount: str, price: str, *, ts: float = 1.0, cid: bool = True
) -> Fill:
    r = order.request
    return Fill(
        r.venue, r.symbol, order.client_order_id if cid else "", order.venue_order_id or "", trade_id, r.side,
        D(price), D(amount), D("0.01"), "USDT", False, ts,
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.db") as j:
        yield j


def opened(j: Journal, request: OrderRequest | None = None, venue_order_id: str = "V1") -> JournaledOrder:
    order = j.record_intent(request or req())
    j.mark_sent(order.client_order_id)
    return j.record_ack(order.client_order_id, venue_order_id)


# ---- intents and client order ids ------------------------------------------------------------


def test_intent_survives_reopen_with_every_field(tmp_path: Path) -> None:
    request = OrderRequest(
        "bybit", "BTC-USDT-PERP", Side.SELL, OrderType.STOP_LIMIT, D("0.0150"), D("64000.5"), stop_price=D("64100"),
        time_in_force=TimeInForce.IOC, post_only=True, reduce_only=True, iceberg_visible=D("0.005"),
        take_profit=D("60000"), stop_loss=D("66000"), position_side=PositionSide.SHORT, margin_mode=MarginMode.ISOLATED,
        leverage=D("5"), account="strat-a",
    )
    with Journal(tmp_path / "j.db") as j:
        order = j.record_intent(request)
        instance = j.instance_id
    with Journal(tmp_path / "j.db") as j:
        again = j.order(order.client_order_id)
        assert j.instance_id == instance
        assert again == order and again.status is S.INTENT
        assert again.request == replace(request, client_order_id=order.client_order_id)
        assert str(again.request.amount) == "0.0150"  # the Decimal as given, not a float
        assert j.client_ids.for_intent("bybit", order.intent_id) == order.client_order_id


def test_client_ids_come_from_the_rows(journal: Journal) -> None:
    orders = [journal.record_intent(req(venue)) for venue in ("okx", "gate", "kraken", "dydx", "okx")]
    assert [o.intent_id for o in orders] == [1, 2, 3, 4, 5]
    assert [o.client_order_id for o in orders] == [journal.client_ids.for_intent(o.request.venue, o.intent_id) for o in orders]
    assert len({o.client_order_id for o in orders}) == 5
    assert orders[1].client_order_id.startswith("t-")


def test_two_journal_files_issue_different_ids(tmp_path: Path) -> None:
    with Journal(tmp_path / "a.db") as a, Journal(tmp_path / "b.db") as b:
        assert a.instance_id != b.instance_id
        assert a.record_intent(req()).client_order_id != b.record_intent(req()).client_order_id


def test_caller_supplied_id_is_an_idempotency_key(journal: Journal) -> None:
    first = journal.record_intent(req(client_order_id="myKey1"))
    assert first.client_order_id == "myKey1"
    assert journal.record_intent(req(client_order_id="myKey1")) == first
    assert len(journal.open_orders()) == 1
    with pytest.raises(JournalError, match=r"myKey1.*different order"):
        journal.record_intent(req(amount="2", client_order_id="myKey1"))
    with pytest.raises(InvalidOrder, match=r"okx.*clOrdId"):
        journal.record_intent(req(client_order_id="not-alnum"))


@pytest.mark.parametrize(
    ("request_", "error", "match"),
    [
        (OrderRequest("okx", "BTC-USDT", Side.BUY, OrderType.LIMIT, 1.5), InvalidOrder, "Decimal"),  # type: ignore[arg-type]
        (req(amount="0"), InvalidOrder, "amount must be positive"),
        (req(amount="NaN"), InvalidOrder, "finite"),
        (req(price="-1"), InvalidOrder, "price must be positive"),
        (req("ftx"), UnknownVenue, "ftx"),
    ],
)
def test_bad_intents_journal_nothing(journal: Journal, request_: OrderRequest, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        journal.record_intent(request_)
    assert journal.open_orders() == []


# ---- the order life --------------------------------------------------------------------------


def test_order_life_and_event_trail(journal: Journal) -> None:
    order = journal.record_intent(req(amount="1"))
    cid = order.client_order_id
    assert journal.mark_sent(cid).status is S.SENT
    assert journal.mark_sent(cid).status is S.SENT  # a retry with the same id
    acked = journal.record_ack(cid, "V9")
    assert acked.status is S.OPEN and acked.venue_order_id == "V9"
    journal.record_fill(fill_of(acked, "t1", "0.4", "100"))
    assert journal.order(cid).status is S.PARTIALLY_FILLED  # type: ignore[union-attr]
    journal.record_fill(fill_of(acked, "t2", "0.6", "100"))
    done = journal.order(cid)
    assert done is not None and done.status is S.FILLED and done.remaining == 0
    trail = [(e.kind, e.status) for e in journal.events(cid)]
    assert trail == [
        ("intent", S.INTENT), ("sent", S.SENT), ("ack", S.OPEN), ("fill", S.PARTIALLY_FILLED), ("fill", S.FILLED),
    ]


def _to(state: str) -> Callable[[Journal], str]:
    """Build an order in ``state`` and return its client order id."""

    def build(j: Journal) -> str:
        cid = j.record_intent(req(amount="1")).client_order_id
        j.mark_sent(cid)
        if state == "sent":
            return cid
        if state == "rejected":
            j.record_reject(cid, "insufficient balance")
            return cid
        acked = j.record_ack(cid, "V1")
        if state == "partial":
            j.record_fill(fill_of(acked, "t1", "0.5", "100"))
        elif state == "filled":
            j.record_fill(fill_of(acked, "t1", "1", "100"))
        elif state == "canceled":
            j.record_cancel(cid)
        elif state == "expired":
            j.record_expire(cid)
        return cid

    return build


ILLEGAL: list[tuple[str, str, Callable[[Journal, str], object]]] = [
    ("filled", "canceled", lambda j, c: j.record_cancel(c)),
    ("filled", "open", lambda j, c: j.transition(c, S.OPEN)),
    ("filled", "amend", lambda j, c: j.record_amend(c, price=D("1"))),
    ("canceled", "filled", lambda j, c: j.transition(c, S.FILLED)),
    ("canceled", "sent", lambda j, c: j.mark_sent(c)),
    ("expired", "canceled", lambda j, c: j.record_cancel(c)),
    ("rejected", "open", lambda j, c: j.transition(c, S.OPEN)),
    ("rejected", "ack", lambda j, c: j.record_ack(c, "V1")),
    ("open", "sent", lambda j, c: j.mark_sent(c)),
    ("open", "rejected", lambda j, c: j.record_reject(c, "late")),
    ("partial", "sent", lambda j, c: j.transition(c, S.SENT)),
    ("partial", "rejected", lambda j, c: j.record_reject(c, "late")),
    ("sent", "intent", lambda j, c: j.transition(c, S.INTENT)),
]


@pytest.mark.parametrize(("state", "to", "act"), ILLEGAL, ids=[f"{s}->{t}" for s, t, _ in ILLEGAL])
def test_illegal_transitions_raise_and_change_nothing(
    journal: Journal, state: str, to: str, act: Callable[[Journal, str], object]
) -> None:
    cid = _to(state)(journal)
    before, trail = journal.order(cid), journal.events(cid)
    with pytest.raises(IllegalTransition, match=re.escape(cid)):
        act(journal, cid)
    assert journal.order(cid) == before and journal.events(cid) == trail


def test_illegal_transition_message_says_why(journal: Journal) -> None:
    cid = _to("filled")(journal)
    with pytest.raises(IllegalTransition, match="filled -> canceled is not allowed \\(a final state never changes\\)"):
        journal.record_cancel(cid)
    cid = _to("open")(journal)
    with pytest.raises(IllegalTransition, match="open -> sent is not allowed \\(an order's status never goes back\\)"):
        journal.mark_sent(cid)


@pytest.mark.parametrize("final", ["canceled", "rejected", "expired", "filled"])
def test_venue_answer_can_skip_sent(journal: Journal, final: str) -> None:
    cid = journal.record_intent(req()).client_order_id  # killed before mark_sent; the venue answers later
    journal.transition(cid, S(final), venue_order_id="V5", reason="found at venue")
    order = journal.order(cid)
    assert order is not None and order.status is S(final) and order.venue_order_id == "V5"


def test_same_status_twice_is_a_no_op(journal: Journal) -> None:
    cid = _to("canceled")(journal)
    journal.record_cancel(cid, "again")
    assert [e.kind for e in journal.events(cid)].count("canceled") == 1
    assert journal.order(cid).reason == ""  # type: ignore[union-attr]


def test_open_report_on_a_partial_fill_keeps_it_partial(journal: Journal) -> None:
    cid = _to("partial")(journal)
    assert journal.transition(cid, S.OPEN).status is S.PARTIALLY_FILLED


def test_ack_after_fills_keeps_progress(journal: Journal) -> None:
    order = journal.record_intent(req(amount="1"))
    journal.mark_sent(order.client_order_id)
    journal.record_fill(fill_of(order, "t1", "1", "100"))  # the stream was faster than the REST answer
    acked = journal.record_ack(order.client_order_id, "V7")
    assert acked.status is S.FILLED and acked.venue_order_id == "V7"


def test_the_same_ack_twice_is_recorded_once(journal: Journal) -> None:
    order = opened(journal, venue_order_id="V2")
    again = journal.record_ack(order.client_order_id, "V2")
    assert again == order
    assert [e.kind for e in journal.events(order.client_order_id)] == ["intent", "sent", "ack"]


def test_amend_updates_the_order(journal: Journal) -> None:
    order = opened(journal, req(amount="1", price="100"))
    journal.record_fill(fill_of(order, "t1", "0.4", "100"))
    amended = journal.record_amend(order.client_order_id, price=D("99.5"))
    assert amended.request.price == D("99.5") and amended.status is S.PARTIALLY_FILLED
    shrunk = journal.record_amend(order.client_order_id, amount=D("0.4"))
    assert shrunk.status is S.FILLED  # amended down to what had filled
    details = [e.detail for e in journal.events(order.client_order_id) if e.kind == "amend"]
    assert details == [{"price": ["100", "99.5"]}, {"amount": ["1", "0.4"]}]


def test_unknown_order_is_named(journal: Journal) -> None:
    with pytest.raises(UnknownOrder, match="nope"):
        journal.mark_sent("nope")


# ---- fills ------------------------------------------------------------------------------------


def test_average_price_over_partial_fills(journal: Journal) -> None:
    order = opened(journal, req(amount="0.5"))
    statuses = []
    for trade, amount, price in (("t1", "0.1", "100"), ("t2", "0.25", "101.5"), ("t3", "0.15", "99")):
        assert journal.record_fill(fill_of(order, trade, amount, price))
        statuses.append(journal.order(order.client_order_id).status)  # type: ignore[union-attr]
    done = journal.order(order.client_order_id)
    assert done is not None
    assert statuses == [S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, S.FILLED]
    assert done.filled == D("0.50")
    assert done.avg_price == D("100.45")  # (10 + 25.375 + 14.85) / 0.5
    row = sqlite3.connect(journal.path).execute(
        "SELECT typeof(filled), filled, typeof(avg_price), avg_price FROM orders WHERE id = ?", (order.intent_id,)
    ).fetchone()
    assert row == ("text", "0.50", "text", "100.45")


def test_replayed_fill_stream_never_double_counts(journal: Journal) -> None:
    order = opened(journal, req(amount="10"))
    stream = [fill_of(order, f"t{i}", "0.5", str(100 + i), ts=float(i)) for i in range(6)]
    assert [journal.record_fill(f) for f in stream] == [True] * 6
    assert [journal.record_fill(f) for f in stream + stream] == [False] * 12
    again = journal.order(order.client_order_id)
    assert again is not None and again.filled == D("3.0") and again.avg_price == D("102.5")
    assert journal.fills(order.client_order_id) == stream
    assert [e.kind for e in journal.events(order.client_order_id)].count("fill") == 6


def test_conflicting_replay_raises_and_keeps_the_first(journal: Journal) -> None:
    order = opened(journal)
    journal.record_fill(fill_of(order, "t1", "0.5", "100"))
    with pytest.raises(ConflictingFill, match=r"t1.*0\.5 @ 100.*0\.6 @ 100"):
        journal.record_fill(fill_of(order, "t1", "0.6", "100"))
    assert journal.order(order.client_order_id).filled == D("0.5")  # type: ignore[union-attr]


def test_same_trade_id_on_both_sides_and_across_symbols(journal: Journal) -> None:
    buyer = opened(journal, req("binance", side=Side.BUY, account="a"), "B1")
    seller = opened(journal, req("binance", side=Side.SELL, account="b"), "S1")
    other = opened(journal, req("binance", symbol="ETH-USDT", account="a"), "E1")
    # our two sub-accounts traded with each other (one trade id), and Binance numbers trades per symbol
    assert journal.record_fill(fill_of(buyer, "777", "1", "100"))
    assert journal.record_fill(fill_of(seller, "777", "1", "100"))
    assert journal.record_fill(fill_of(other, "777", "1", "100"))
    assert all(journal.order(o.client_order_id).status is S.FILLED for o in (buyer, seller, other))  # type: ignore[union-attr]


def test_fill_before_the_ack_joins_its_order(journal: Journal) -> None:
    order = journal.record_intent(req(amount="1"))
    journal.mark_sent(order.client_order_id)
    early = Fill("okx", "BTC-USDT", "", "V3", "t1", Side.BUY, D("100"), D("0.25"), D("0"), "USDT", True, 5.0)
    assert journal.record_fill(early)
    assert journal.unlinked_fills("okx") == [early]
    acked = journal.record_ack(order.client_order_id, "V3")
    assert acked.status is S.PARTIALLY_FILLED and acked.filled == D("0.25")
    assert journal.unlinked_fills() == []
    assert journal.fills(order.client_order_id)[0].client_order_id == order.client_order_id


def test_late_fill_after_cancel_is_counted(journal: Journal) -> None:
    order = opened(journal, req(amount="1"))
    journal.record_cancel(order.client_order_id, "user")
    assert journal.record_fill(fill_of(order, "t1", "0.3", "100"))
    late = journal.order(order.client_order_id)
    assert late is not None and late.status is S.CANCELED and late.filled == D("0.3")


# ---- queries ------------------------------------------------------------------------------------


def test_reconciliation_queries(journal: Journal) -> None:
    intent = journal.record_intent(req("okx", account="a"))
    sent = journal.record_intent(req("okx", account="b"))
    journal.mark_sent(sent.client_order_id)
    live = opened(journal, req("okx", account="a"), "L1")
    spot = opened(journal, req("binance", account="a"), "42")
    perp = opened(journal, req("binance", symbol="BTC-USDT-PERP", account="a"), "42")
    canceled = opened(journal, req("okx", account="a"), "C1")
    journal.record_cancel(canceled.client_order_id)

    def cids(orders: list[JournaledOrder]) -> list[str]:
        return [o.client_order_id for o in orders]

    assert cids(journal.open_orders()) == cids([intent, sent, live, spot, perp])
    assert cids(journal.open_orders("okx", "a")) == cids([intent, live])
    assert cids(journal.in_flight()) == cids([intent, sent])
    assert cids(journal.in_flight(account="b")) == cids([sent])
    assert journal.order_by_venue_id("okx", "L1") == journal.order(live.client_order_id)
    assert journal.order_by_venue_id("okx", "nothing") is None
    with pytest.raises(JournalError, match=r"42 matches 2 orders.*pass the symbol"):
        journal.order_by_venue_id("binance", "42")
    assert journal.order_by_venue_id("binance", "42", "BTC-USDT-PERP") == journal.order(perp.client_order_id)

    journal.record_fill(fill_of(live, "f1", "0.1", "100", ts=100.0))
    journal.record_fill(fill_of(spot, "f2", "0.1", "100", ts=150.0))
    journal.record_fill(fill_of(live, "f3", "0.1", "101", ts=200.0))
    assert [f.trade_id for f in journal.recent_fills("okx", since=150.0)] == ["f3"]
    assert [f.trade_id for f in journal.recent_fills("okx", since=0.0)] == ["f1", "f3"]
    assert [f.trade_id for f in journal.fills(live.client_order_id)] == ["f1", "f3"]


# ---- secrets --------------------------------------------------------------------------------------

SECRETISH = re.compile(r"key|secret|pass|token|sign|private|mnemonic|seed|auth|credential|wallet", re.I)


def test_schema_has_no_secret_fields(journal: Journal) -> None:
    db = sqlite3.connect(journal.path)
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert {"orders", "fills", "events", "meta"} <= set(tables)
    for table in tables:
        for column in db.execute(f"PRAGMA table_info({table})"):
            assert not SECRETISH.search(column[1]), f"{table}.{column[1]} looks like a place for a secret"
    assert {name for (name,) in db.execute("SELECT name FROM meta")} == {"schema_version", "instance_id"}


def test_error_texts_are_stored_without_credentials(journal: Journal) -> None:
    order = journal.record_intent(req())
    journal.mark_sent(order.client_order_id)
    reason = (
        'okx POST https://www.okx.com/api/v5/trade/order?apiKey=AK-LEAK-1&signature=SIG-LEAK-2 400 '
        '{"OK-ACCESS-PASSPHRASE": "PP-LEAK-3", "secret":"SEC-LEAK-4"} X-MBX-APIKEY: AK-LEAK-5 Insufficient balance'
    )
    stored = journal.record_reject(order.client_order_id, reason).reason
    assert "Insufficient balance" in stored and "<redacted>" in stored
    dump = "\n".join(sqlite3.connect(journal.path).iterdump())
    assert "LEAK" not in dump


# ---- files, concurrency, crashes ----------------------------------------------------------------


def test_file_is_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("UPDATE meta SET value = '0' WHERE name = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="schema 0"):
        Journal(path)
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        Journal(tmp_path / "other.db", synchronous="OFF")  # type: ignore[arg-type]


N_PER_THREAD = 40


def _writer(journal: Journal, account: str, barrier: threading.Barrier) -> None:
    mine = [journal.record_intent(req(account=account, amount="1")) for _ in range(N_PER_THREAD)]
    for order in mine:
        journal.mark_sent(order.client_order_id)
        journal.record_ack(order.client_order_id, f"{account}-{order.intent_id}")
    barrier.wait()
    everyone = journal.open_orders()
    barrier.wait()  # both have read the open orders before either starts filling them
    assert len(everyone) == 2 * N_PER_THREAD
    for order in everyone:  # both threads replay the same fill stream for every order
        for k in range(2):
            journal.record_fill(fill_of(order, f"{order.venue_order_id}-{k}", "0.5", str(100 + k)))


def _run_two_writers(make: Callable[[], Journal], path: Path) -> None:
    barrier = threading.Barrier(2, timeout=60)
    errors: list[BaseException] = []

    def work(account: str) -> None:
        try:
            journal = make()
            _writer(journal, account, barrier)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(account,)) for account in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "writers did not finish within 120 s"
    assert errors == []
    with Journal(path) as journal:
        rows = sqlite3.connect(path).execute("SELECT id, client_order_id FROM orders ORDER BY id").fetchall()
        assert [r[0] for r in rows] == list(range(1, 2 * N_PER_THREAD + 1))
        assert len({r[1] for r in rows}) == len(rows)
        for _, cid in rows:
            order = journal.order(cid)
            assert order is not None and order.status is S.FILLED
            assert order.filled == D("1.0") and order.avg_price == D("100.5")
            assert len(journal.fills(cid)) == 2
        assert journal.open_orders() == []


def test_two_connections_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    Journal(path).close()
    _run_two_writers(lambda: Journal(path), path)


def test_one_journal_shared_by_two_threads(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as shared:
        _run_two_writers(lambda: shared, path)


CHILD_KILLED_IN_TRANSACTION = """
import os, signal, sys
from dataclasses import replace
from decimal import Decimal
from crossbook.model import OrderRequest, OrderType, Side
from crossbook.trading import client_ids
from crossbook.trading.journal import Journal

journal = Journal(sys.argv[1])
first = journal.record_intent(OrderRequest("okx", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("1"), Decimal("100")))
print(first.client_order_id, flush=True)

def die(self, venue, intent_id):  # runs inside the intent's transaction, after its INSERT
    os.kill(os.getpid(), signal.SIGKILL)

client_ids.ClientIds.for_intent = die
journal.record_intent(OrderRequest("okx", "BTC-USDT", Side.SELL, OrderType.LIMIT, Decimal("2"), Decimal("101")))
print("not killed", flush=True)
"""

CHILD_KILLED_AFTER_COMMIT = """
import os, signal, sys
from dataclasses import replace
from decimal import Decimal
from crossbook.model import OrderRequest, OrderType, Side
from crossbook.trading.journal import Journal

journal = Journal(sys.argv[1])
order = journal.record_intent(OrderRequest("kraken", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("1"), Decimal("100")))
print(order.client_order_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""

CHILD_FILL_STREAM = """
import sys
from dataclasses import replace
from decimal import Decimal
from crossbook.model import Fill, OrderRequest, OrderType, Side
from crossbook.trading.journal import Journal

journal = Journal(sys.argv[1])
order = journal.record_intent(OrderRequest("binance", "BTC-USDT", Side.BUY, OrderType.LIMIT, Decimal("1000"), Decimal("110")))
journal.mark_sent(order.client_order_id)
journal.record_ack(order.client_order_id, "V1")
print(order.client_order_id, flush=True)
for i in range(1_000_000):
    price = Decimal(100 + i % 7)
    journal.record_fill(Fill("binance", "BTC-USDT", order.client_order_id, "V1", f"t{i}", Side.BUY, price,
                             Decimal("0.001"), Decimal("0"), "USDT", False, float(i)))
    print(i, flush=True)
"""


def _integrity_ok(path: Path) -> bool:
    return bool(sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok")


def _run_child(script: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)


def test_sigkill_inside_the_intent_transaction_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    done = _run_child(CHILD_KILLED_IN_TRANSACTION, path)
    assert done.returncode == -signal.SIGKILL, done.stderr
    first = done.stdout.split()
    assert len(first) == 1  # killed before "not killed"
    assert _integrity_ok(path)
    with Journal(path) as journal:
        assert [o.client_order_id for o in journal.in_flight()] == first
        assert sqlite3.connect(path).execute("SELECT count(*) FROM orders").fetchone()[0] == 1
        # the killed intent issued nothing: its row id is handed out again
        assert journal.record_intent(req()).intent_id == 2


def test_sigkill_after_the_intent_commit_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    done = _run_child(CHILD_KILLED_AFTER_COMMIT, path)
    assert done.returncode == -signal.SIGKILL, done.stderr
    (cid,) = done.stdout.split()
    assert _integrity_ok(path)
    with Journal(path) as journal:
        order = journal.order(cid)
        assert order is not None and order.status is S.INTENT
        assert journal.in_flight("kraken") == [order]
        assert journal.client_ids.for_intent("kraken", order.intent_id) == cid  # a resend reuses it


def test_sigkill_in_the_middle_of_a_fill_stream(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_FILL_STREAM, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watchdog = threading.Timer(60, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None
        cid = child.stdout.readline().strip()
        last = -1
        while last < 300:
            line = child.stdout.readline()
            assert line, f"fill stream child ended early: {child.stderr.read() if child.stderr else ''}"
            last = int(line)
        os.kill(child.pid, signal.SIGKILL)  # the child is still writing: the kill lands anywhere
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()

    assert _integrity_ok(path)
    with Journal(path) as journal:
        fills = journal.fills(cid)
        count = len(fills)
        assert count > last  # every fill the child reported is there
        assert [f.trade_id for f in fills] == [f"t{i}" for i in range(count)]  # and nothing half-written
        order = journal.order(cid)
        assert order is not None and order.status is S.PARTIALLY_FILLED
        assert order.filled == sum((f.amount for f in fills), D(0)) == D("0.001") * count
        assert order.avg_price == sum((f.price * f.amount for f in fills), D(0)) / order.filled
        assert [e.kind for e in journal.events(cid)].count("fill") == count

        # reconciliation replays the venue's fills: what the journal has is not counted again
        replay = [
            Fill("binance", "BTC-USDT", cid, "V1", f"t{i}", Side.BUY, D(100 + i % 7), D("0.001"), D("0"), "USDT", False, float(i))
            for i in range(count + 20)
        ]
        assert [journal.record_fill(f) for f in replay] == [False] * count + [True] * 20
        assert journal.order(cid).filled == D("0.001") * (count + 20)  # type: ignore[union-attr]


def test_an_intent_can_be_journaled_as_sent_in_one_commit(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as journal:
        order = journal.record_intent(req(account="a", amount="1"), sending=True)
        assert order.status is S.SENT
        assert [e.kind for e in journal.events(order.client_order_id)] == ["intent", "sent"]
        assert journal.in_flight() == [order]
