"""``crossbook keys audit``: what each configured key may do, asked of its venue, against what the
configuration needs; findings by severity (crossbook.security.audit)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from ..errors import ConfigError, CrossbookError
from .app import fail, out, print_json
from .keys import JSON, keys_app

if TYPE_CHECKING:
    from ..security.audit import AuditPolicy, AuditReport

SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


@keys_app.command("audit")
def keys_audit(
    sim: bool = typer.Option(False, "--sim", help="Audit the simulated venues' keys."),
    config: Path | None = typer.Option(None, "--config", help="crossbook.toml: the accounts whose keys to audit."),
    json_out: bool = JSON,
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on a high-severity finding."),
    rotation_days: float = typer.Option(30.0, "--rotation-days", help="A key older than this is due for rotation."),
) -> None:
    """Ask each venue what each configured key may do, and report what is too much.

    High: withdrawal permission on a trading key, a key in clear in a file. Medium: no IP
    restriction, permissions the configuration does not use, a key past the rotation period or
    expiring within 7 days. Low: a key from an environment variable, permissions nobody could
    verify (a venue with no key-permission endpoint). With --strict a high finding exits 1."""
    from ..security.audit import AuditPolicy

    if sim == (config is not None):
        fail("give exactly one of --sim or --config FILE")
    try:
        policy = AuditPolicy(rotation_days=rotation_days)
    except ValueError as exc:
        fail(str(exc))
        return
    try:
        report = asyncio.run(_audit(sim, config, policy))
    except ConfigError as exc:
        fail(str(exc))
        return
    except CrossbookError as exc:
        fail(str(exc), code=1)
        return
    if json_out:
        print_json(report.to_json())
    else:
        out.print(_table(report))
    if strict and report.high:
        raise typer.Exit(1)


async def _audit(sim: bool, config: Path | None, policy: AuditPolicy) -> AuditReport:
    from ..desk import Desk
    from ..desk.key_audit import audit_desk

    desk = Desk.sim() if sim else Desk.from_config(config or Path())
    async with desk:
        return await audit_desk(desk, policy)


def _table(report: AuditReport) -> Table:
    """One row a finding (one a clean key): the key, what it may do, the finding and why."""
    table = Table(box=box.SIMPLE_HEAD, title="key audit")
    table.add_column("venue/account", no_wrap=True)
    table.add_column("key (kept)", overflow="fold")
    table.add_column("may", overflow="fold")
    table.add_column("finding", no_wrap=True)
    table.add_column("why", overflow="fold")
    for result in report.keys:
        may = result.permissions.summary() if result.permissions is not None else "unknown"
        where = (f"{result.venue}/{result.account}", f"{result.key} ({result.source})", may)
        if result.clean:
            table.add_row(*where, "[green]clean[/]", "")
        for n, f in enumerate(result.findings):
            table.add_row(*(where if n == 0 else ("", "", "")), f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/] {f.finding}",
                          f.detail)
    return table
