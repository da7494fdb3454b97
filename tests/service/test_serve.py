"""`crossbook serve` as a process: it listens where it says, every venue ready on /health,
/metrics answers, its token file is its owner's alone; SIGTERM and Ctrl-C stop it cleanly; a route
in flight on stop finishes (policy "finish") with its whole report; bad flags start nothing."""

from __future__ import annotations

import asyncio
import signal
import stat
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from crossbook.venues.registry import VENUES

from ..conftest import run
from .serving import CLI, HoldingProxy, Served, all_ready, proxied_trading, start_serve, start_sim, until

READY_WITHIN = 120.0
FEW = ["binance", "okx", "kraken"]


def _clean_stop(served: Served, code: int) -> None:
    err = served.stderr()
    assert code == 0, err
    assert "stopped." in err, err
    assert "Traceback" not in err and "Task was destroyed" not in err and "Unclosed" not in err, err


@asynccontextmanager
async def serving_through_proxies(venues: list[str], shutdown: list[str],
                                  tmp_path: Path) -> AsyncIterator[tuple[Served, dict[str, HoldingProxy]]]:
    """``venues`` in their own process, and `crossbook serve` on them (with the ``shutdown`` flags)
    whose trading traffic goes through a HoldingProxy per venue; all stopped on the way out."""
    sim = await start_sim(venues, tmp_path)
    proxies = await proxied_trading(sim)
    try:
        served = await start_serve(["--config", str(sim.config), "--listen", "127.0.0.1:0", *shutdown,
                                    "--token-file", str(tmp_path / "token")], tmp_path)
        try:
            yield served, proxies
        finally:
            await served.reap()
    finally:
        for proxy in proxies.values():
            await proxy.stop()
        await sim.stop()


def test_serve_sim_is_ready_exports_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    token_file = tmp_path / "token"

    async def body() -> None:
        served = await start_serve(["--sim", "--listen", "127.0.0.1:0",
                                    "--token-file", str(token_file)], tmp_path)
        try:
            async with aiohttp.ClientSession() as session:
                await until(lambda: all_ready(served, session, set(VENUES)), READY_WITHIN, "every venue ready on /health")
                status, text = await served.get(session, "/metrics", auth=False)
                assert status == 200 and "crossbook_feed_connected{" in text
                assert (await served.get(session, "/venues", auth=False))[0] == 401
                assert (await served.get(session, "/venues"))[0] == 200
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            assert token_file.read_text().strip() == served.token
            assert served.token not in served.stderr()  # the path is said, never the token
            assert str(token_file) in served.stderr()
            _clean_stop(served, await served.stop(signal.SIGTERM))
        finally:
            await served.reap()

    run(body(), timeout=300)


def test_ctrl_c_stops_the_service_cleanly(tmp_path: Path) -> None:
    async def body() -> None:
        served = await start_serve(["--sim", "--venues", ",".join(FEW), "--listen", "127.0.0.1:0",
                                    "--token-file", str(tmp_path / "token")], tmp_path)
        try:
            async with aiohttp.ClientSession() as session:
                await until(lambda: all_ready(served, session, set(FEW)), READY_WITHIN, "the venues ready on /health")
            _clean_stop(served, await served.stop(signal.SIGINT))
        finally:
            await served.reap()

    run(body(), timeout=240)


def test_a_route_in_flight_on_sigterm_finishes_with_its_whole_report(tmp_path: Path) -> None:
    """The venues in their own process, the service's trading traffic through a proxy that holds
    the venue's answer to an order: the route is certainly in flight when SIGTERM arrives."""

    async def body() -> None:
        async with serving_through_proxies(["binance", "okx"], ["--shutdown", "finish", "--finish-timeout", "60"],
                                           tmp_path) as (served, proxies):
            async with aiohttp.ClientSession() as session:
                await until(lambda: all_ready(served, session, {"binance", "okx"}), READY_WITHIN, "the venues ready")
                for proxy in proxies.values():
                    proxy.holding = True
                routing = asyncio.create_task(served.post(session, "/route", {"symbol": "BTC-USDT", "side": "buy",
                                                                              "amount": 0.5}))
                await asyncio.wait_for(asyncio.wait([asyncio.create_task(p.held.wait()) for p in proxies.values()],
                                                    return_when=asyncio.FIRST_COMPLETED), 60)
                served.proc.send_signal(signal.SIGTERM)
                await until(_said(served, "stopping"), 30, "the service to begin stopping")
                for proxy in proxies.values():
                    proxy.release()
                status, report = await asyncio.wait_for(routing, 90)
            code = await asyncio.wait_for(served.proc.wait(), 60)
            assert status == 200, report
            assert report["outcome"] in ("filled", "limit", "deadline") and report["children"], report
            assert all(c["status"] in ("filled", "partially_filled", "canceled", "expired", "rejected")
                       for c in report["children"]), report["children"]
            assert report["filled"] > 0
            _clean_stop(served, code)
            assert "1 finished, 0 cancelled" in served.stderr(), served.stderr()

    run(body(), timeout=400)


def test_a_route_in_flight_on_sigterm_is_cancelled_with_policy_cancel(tmp_path: Path) -> None:
    """The venue's answer to the route's order never comes: policy "cancel" stops the route at
    once, the process still exits cleanly, and the order the venue took is journaled."""

    async def body() -> None:
        async with serving_through_proxies(["binance"], ["--shutdown", "cancel"], tmp_path) as (served, proxies):
            async with aiohttp.ClientSession() as session:
                await until(lambda: all_ready(served, session, {"binance"}), READY_WITHIN, "binance ready")
                proxies["binance"].holding = True
                routing = asyncio.create_task(served.post(session, "/route", {"symbol": "BTC-USDT", "side": "buy",
                                                                              "amount": 0.5}))
                await asyncio.wait_for(proxies["binance"].held.wait(), 60)
                served.proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(served.proc.wait(), 60)
                answer = (await asyncio.gather(routing, return_exceptions=True))[0]
            assert not (isinstance(answer, tuple) and answer[0] == 200), answer  # no report of a route cut short
            _clean_stop(served, code)
            assert "0 finished, 1 cancelled" in served.stderr(), served.stderr()

    run(body(), timeout=400)


def _said(served: Served, text: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return text in served.stderr()
    return check


def test_bad_flags_are_refused_before_anything_starts(tmp_path: Path) -> None:
    for args, named in (
        (["--sim", "--listen", "nowhere"], "HOST:PORT"),
        (["--sim", "--symbols", "NOT_A_SYMBOL"], "NOT_A_SYMBOL"),
        (["--sim", "--shutdown", "later"], "finish, cancel"),
        (["--sim", "--finish-timeout", "-1"], "finish-timeout"),
        (["--listen", "127.0.0.1:0"], "--sim"),
        (["--config", str(tmp_path / "missing.toml")], "missing.toml"),
    ):
        done = subprocess.run([*CLI, "serve", *args, "--token-file", str(tmp_path / "token")], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert named in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stdout == ""
    assert not (tmp_path / "token").exists()  # nothing started, no token made
