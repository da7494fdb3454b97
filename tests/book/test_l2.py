from __future__ import annotations

import pytest

from crossbook.book.checksum import crc32_signed, crc32_unsigned, interleaved
from crossbook.book.l2 import L2Book, Link
from crossbook.model import BookState, Side


def book(**kwargs: object) -> L2Book:
    b = L2Book("v", "BTC-USDT", **kwargs)  # type: ignore[arg-type]
    b.snapshot([["100.0", "1"], ["99.5", "2"], ["99.0", "3"]], [["100.5", "1.5"], ["101", "2"], ["102", "4"]])
    return b


def test_snapshot_best_and_depth() -> None:
    b = book()
    assert b.best_bid() == (100.0, 1.0)
    assert b.best_ask() == (100.5, 1.5)
    assert b.depth(2) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.5), (101.0, 2.0)])
    assert b.mid() == 100.25
    assert not b.crossed()


def test_update_inserts_changes_and_deletes_levels() -> None:
    b = book()
    b.update([["100.0", "0"], ["99.75", "5"], ["98", "0"]], [["100.25", "1"], ["102", "0"]])
    assert b.best_bid() == (99.75, 5.0)
    assert b.best_ask() == (100.25, 1.0)
    bids, asks = b.depth(10)
    assert bids == [(99.75, 5.0), (99.5, 2.0), (99.0, 3.0)]
    assert asks == [(100.25, 1.0), (100.5, 1.5), (101.0, 2.0)]
    assert b.levels(Side.BUY) == 3 and b.levels(Side.SELL) == 3


def test_snapshot_replaces_everything_and_ignores_zero_sizes() -> None:
    b = book()
    b.snapshot([["50", "1"], ["49", "0"]], [["51", "2"]])
    assert b.depth(10) == ([(50.0, 1.0)], [(51.0, 2.0)])


def test_sweep_walks_levels_for_vwap() -> None:
    b = book()
    s = b.sweep(Side.BUY, 2.0)
    assert s.filled == 2.0 and s.levels == 2
    assert s.cost == pytest.approx(1.5 * 100.5 + 0.5 * 101)
    assert s.vwap == pytest.approx((1.5 * 100.5 + 0.5 * 101) / 2)
    sell = b.sweep(Side.SELL, 10.0)  # more than the bids hold: a partial fill
    assert sell.filled == 6.0 and sell.levels == 3
    assert sell.cost == pytest.approx(100 + 2 * 99.5 + 3 * 99)


def test_sweep_of_empty_book_has_no_vwap() -> None:
    assert L2Book("v", "X").sweep(Side.BUY, 1.0).vwap is None


def test_truncate_keeps_best_levels() -> None:
    b = book(keep_strings=True)
    b.truncate(2)
    assert b.depth(10) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.5), (101.0, 2.0)])
    assert b.top_strings(Side.SELL, 5) == [("100.5", "1.5"), ("101", "2")]


def test_strings_follow_updates_for_checksums() -> None:
    b = book(keep_strings=True)
    b.update([["100.0", "1.50"]], [["100.5", "0"]])
    assert b.top_strings(Side.BUY, 1) == [("100.0", "1.50")]
    assert b.top_strings(Side.SELL, 1) == [("101", "2")]
    b.remove(Side.BUY, 100.0)
    assert b.top_strings(Side.BUY, 1) == [("99.5", "2")]
    with pytest.raises(ValueError, match="keep_strings"):
        book().top_strings(Side.BUY, 1)


def test_status_reads_stale_when_silent_and_never_live_while_syncing() -> None:
    link = Link()
    b = book(stale_after=5.0, link=link)
    assert b.status(now=0.0) is BookState.SYNCING
    b.state = BookState.LIVE
    b.updated_at = 100.0
    assert b.status(now=104.0) is BookState.LIVE
    assert b.status(now=106.0) is BookState.STALE
    link.last_rx = 105.5  # a heartbeat on the connection keeps a quiet book live
    assert b.status(now=106.0) is BookState.LIVE
    b.state = BookState.RESYNCING
    assert b.status(now=106.0) is BookState.RESYNCING


def test_checksum_vectors() -> None:
    assert crc32_signed("3366.1:7:3366.8:9:3366:6:3368:8") == -1881014294
    assert crc32_signed("3366.1:7:3366.8:9:3368:8:3372:8") == 831078360
    assert crc32_unsigned("3366.1:7:3366.8:9:3366:6:3368:8") == (-1881014294) % (1 << 32)
    text = interleaved([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    assert text == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert interleaved([("1", "2")], [("3", "4"), ("5", "6")]) == "1:2:3:4:5:6"


@pytest.mark.parametrize("ghost_limit", [3, 512])
def test_random_updates_match_a_plain_dict_model(ghost_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lazy deletes, revived levels, compaction and reads interleaved, against a reference."""
    import random

    from crossbook.book import l2

    monkeypatch.setattr(l2, "GHOST_LIMIT", ghost_limit)

    rng = random.Random(11)
    b = L2Book("v", "X", keep_strings=False)
    s = L2Book("v", "X", keep_strings=True)
    model: tuple[dict[float, float], dict[float, float]] = ({}, {})
    for step in range(4000):
        bids, asks = [], []
        for levels, side in ((bids, model[0]), (asks, model[1])):
            for _ in range(rng.randint(1, 12)):
                price = (1000 - rng.randint(1, 80)) if levels is bids else (1000 + rng.randint(1, 80))
                size = 0.0 if rng.random() < 0.45 else float(rng.randint(1, 9))
                levels.append([f"{price:.2f}", f"{size:g}"])
                if size:
                    side[float(price)] = size
                else:
                    side.pop(float(price), None)
        b.update(bids, asks)
        s.update(bids, asks)
        if step % 7 == 0:
            want_b = sorted(model[0].items(), reverse=True)
            want_a = sorted(model[1].items())
            assert b.depth(1000) == (want_b, want_a)
            assert s.depth(5) == (want_b[:5], want_a[:5])
            assert b.best_bid() == (want_b[0] if want_b else None)
            assert b.levels(Side.SELL) == len(want_a)
            assert [float(p) for p, _ in s.top_strings(Side.BUY, 3)] == [p for p, _ in want_b[:3]]
    sweep = b.sweep(Side.BUY, 5.0)
    expect_cost, left = 0.0, 5.0
    for p, q in sorted(model[1].items()):
        take = min(q, left)
        expect_cost += take * p
        left -= take
        if left <= 0:
            break
    assert sweep.cost == pytest.approx(expect_cost)


def test_deleted_level_that_returns_is_back_in_order() -> None:
    b = book()
    b.update([["100.0", "0"]], [])
    assert b.best_bid() == (99.5, 2.0)
    b.update([["100.0", "7"]], [])
    assert b.depth(3)[0] == [(100.0, 7.0), (99.5, 2.0), (99.0, 3.0)]
    b.remove(Side.SELL, 100.5)
    assert b.best_ask() == (101.0, 2.0) and b.levels(Side.SELL) == 2
    b.truncate(1)
    assert b.depth(5) == ([(100.0, 7.0)], [(101.0, 2.0)])
