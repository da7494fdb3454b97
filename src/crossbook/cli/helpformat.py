"""Help pages that read like a well-kept CLI: ``crossbook route [OPTIONS] SYMBOL SIDE AMOUNT``,
``--limit PRICE``, flags without type labels, one line per option, and each command summed up by
the first line of its docstring. typer's own pages label every value with its type (``<float>``,
``{symbol}``) and cut summaries at 45 characters; these classes replace its formatting and nothing
else (parsing and errors stay typer's)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from enum import Enum
from pathlib import PurePath
from typing import Any

import typer
from typer._click import (  # typer vendors click: its commands take these
    Context,
    HelpFormatter,
)
from typer.core import TyperCommand, TyperGroup

CONTEXT = {"max_content_width": 100, "help_option_names": ["-h", "--help"]}

# an option's value named for what it is, where the option's own name does not say it
METAVARS = {
    "config": "FILE", "scenario": "FILE", "faults": "FILE", "out_file": "FILE", "write_config": "FILE",
    "seconds": "SECONDS", "wait": "SECONDS", "deadline": "SECONDS", "passive_seconds": "SECONDS",
    "transfer_seconds": "SECONDS", "limit": "PRICE", "price": "PRICE", "stop_price": "PRICE",
    "max_slippage_bps": "BPS", "min_bps": "BPS", "max_venues": "N", "seed": "N", "leverage": "N",
    "max_size": "AMOUNT", "withdrawal_fee": "AMOUNT", "notional": "AMOUNT", "max_notional": "AMOUNT", "venues": "VENUE,...",
    "symbols": "SYMBOL,...", "kinds": "KIND,...", "dislocate": "VENUE:BPS", "equivalent": "CURRENCY,...",
    "account": "SUB", "venue": "VENUE", "side": "SIDE", "urgency": "take|passive",
    "listen": "HOST:PORT", "token_file": "FILE", "shutdown": "finish|cancel", "finish_timeout": "SECONDS",
}


def summary(help_text: str | None) -> str:
    """A command's one-line summary: the first line of its docstring."""
    return inspect.cleandoc(help_text or "").partition("\n")[0].strip()


def metavar(param: Any) -> str:
    explicit: str | None = param.metavar
    if explicit:
        return explicit
    name = str(param.name)
    return METAVARS.get(name, name.upper())


def usage_metavar(param: Any) -> str:
    """An argument in the usage line: SYMBOL, or FILE... when it takes several."""
    return metavar(param) + ("..." if param.nargs != 1 else "")


def option_label(param: Any) -> str:
    """``-v, --verbose`` for a flag, ``--limit PRICE`` for an option with a value."""
    names = ", ".join(sorted(param.opts, key=len))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    return names if param.is_flag or param.count else f"{names} {metavar(param)}"


def shown_default(param: Any) -> str | None:
    """The default worth showing: a value the option takes when not given, not an absent one."""
    default = param.default
    if param.is_flag or param.count or default is None or default == [] or default == () or param.show_default is False:
        return None
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    if isinstance(default, PurePath):
        return str(default)
    return str(default)


def option_help(param: Any) -> str:
    text = " ".join((param.help or "").split())
    default = shown_default(param)
    return f"{text} [default: {default}]" if default is not None else text


def parameter_rows(command: Any, ctx: Context) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            arguments.append((usage_metavar(param), " ".join((getattr(param, "help", None) or "").split())))
        else:
            options.append((option_label(param), option_help(param)))
    return arguments, options


def write_parameters(command: Any, ctx: Context, formatter: HelpFormatter) -> None:
    arguments, options = parameter_rows(command, ctx)
    for title, rows in (("Arguments", arguments), ("Options", options)):
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows, col_max=32)


def usage_pieces(command: Any, ctx: Context) -> Iterator[str]:
    if command.options_metavar:
        yield command.options_metavar
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            yield usage_metavar(param)


class Command(TyperCommand):
    """A crossbook command's help page (plain text, wrapped to the terminal)."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return list(usage_pieces(self, ctx))

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        write_parameters(self, ctx, formatter)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_options(ctx, formatter)
        self.format_epilog(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or summary(self.help)


# `crossbook --help` lists what a newcomer starts with first; commands not named here follow
COMMAND_ORDER = ("demo", "quote", "route", "serve", "arb", "fees", "candles", "ticker", "funding", "options", "order", "balances",
                 "positions", "transfer", "withdraw", "keys", "sim", "feed", "venues", "record", "replay", "reconcile", "follow")


class Group(TyperGroup):
    """``crossbook`` and its command groups: options, then the commands, one line each."""

    def list_commands(self, ctx: Context) -> list[str]:
        names = list(self.commands)
        return sorted(names, key=lambda n: COMMAND_ORDER.index(n) if n in COMMAND_ORDER else len(COMMAND_ORDER))

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [*usage_pieces(self, ctx), self.subcommand_metavar]

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        write_parameters(self, ctx, formatter)
        listed = [(name, self.commands[name]) for name in self.list_commands(ctx)]
        rows = [(name, cmd.get_short_help_str()) for name, cmd in listed if not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows, col_max=32)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_options(ctx, formatter)
        self.format_epilog(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or summary(self.help)


def plain_help(app: typer.Typer) -> None:
    """Give every command registered on ``app`` (and its sub-apps) these help pages; called once
    the command modules have registered theirs. The groups get theirs from ``Typer(cls=Group)``."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = Command
    for group in app.registered_groups:
        if group.typer_instance is not None:
            info = group.typer_instance.info
            if not isinstance(info.cls, type) or info.cls is TyperGroup:  # unset: a Default placeholder
                info.cls = Group
            plain_help(group.typer_instance)
