"""crossbook serve: the desk as a long-running service (crossbook.service.runner)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from ..errors import ConfigError, CrossbookError
from .app import app, err, fail


@app.command()
def serve(
    sim: bool = typer.Option(False, "--sim", help="Serve simulated venues started on 127.0.0.1 for this run."),
    config: Path | None = typer.Option(None, "--config", help="Serve the accounts of a crossbook.toml."),
    listen: str | None = typer.Option(None, "--listen", help="Where the API listens; port 0: any free one "
                                      "[default: 127.0.0.1:8700]"),
    symbols: str | None = typer.Option(None, help="The books to keep live [default: BTC-USDT,BTC-USD-PERP]."),
    token_file: Path | None = typer.Option(None, "--token-file", help="The API's bearer token (made, mode 0600, "
                                           "if missing)."),
    shutdown: str | None = typer.Option(None, help="Routes in flight on stop: finish or cancel [default: finish]."),
    finish_timeout: float | None = typer.Option(None, "--finish-timeout", help="Seconds finish waits before "
                                                "cancelling [default: 30]."),
    venues: str | None = typer.Option(None, help="With --sim: comma-separated venue ids (default: all ten)."),
    seed: int = typer.Option(7, help="With --sim: seed of the simulated market."),
    strict: bool | None = typer.Option(None, "--strict/--no-strict", help="Refuse to start on a high key-audit finding "
                                       "(or [service] strict)."),
    bus: str | None = typer.Option(None, "--bus", help="With --config: books from feed processes on NATS here."),
) -> None:
    """Run the desk as a service: API, metrics, alerts, dashboard.

    Books of the symbols stay live, every account is reconciled on start and followed, and
    the API listens on 127.0.0.1 unless --listen names another host. Every endpoint but
    /health and /metrics needs the bearer token of the token file. SIGTERM or Ctrl-C stops
    it: routes in flight finish (or are cancelled, --shutdown cancel), the journal closes."""
    from ..service.runner import ServeOptions, plan_service
    from ..service.runner import serve as run_service
    from .app import parse_venues

    options = ServeOptions(
        sim=sim, config=config, listen=listen, symbols=_symbols(symbols), token_file=token_file, shutdown=shutdown,
        finish_timeout=finish_timeout, venues=tuple(parse_venues(venues)) if venues is not None else None, seed=seed,
        strict=strict, bus=bus,
    )
    try:
        plan_service(options)  # bad flags or config: said before anything starts
    except ConfigError as exc:
        fail(str(exc))
    try:
        asyncio.run(run_service(options))
    except CrossbookError as exc:
        fail(str(exc), 1)
    err.print("stopped.")


def _symbols(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(s.strip() for s in text.split(",") if s.strip())
