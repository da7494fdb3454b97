"""``crossbook venues``: every venue's capabilities as one matrix (venues down, capabilities
across), and one venue's table in detail."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..venues.spec.capabilities import (
    ACCOUNT_FEATURES,
    ORDER_FEATURES,
    Feature,
    Product,
    Support,
    VenueCapabilities,
    oco_mode,
)

if TYPE_CHECKING:
    from ..venues.dex.chains import ChainSupport

SUPPORTED, OFFERED, ABSENT = "✓", "○", "–"
MARKS = {SUPPORTED: "green", OFFERED: "yellow", ABSENT: "dim"}

# two letters a column, spelled out in the legend under the matrix
PRODUCT_CODES: dict[Product, str] = {
    Product.SPOT: "sp", Product.MARGIN: "mg", Product.LINEAR_PERP: "lp", Product.INVERSE_PERP: "ip",
    Product.FUTURES: "fu", Product.OPTIONS: "op",
}
FEATURE_CODES: dict[Feature, str] = {
    Feature.LIMIT: "li", Feature.MARKET: "mk", Feature.STOP: "st", Feature.STOP_LIMIT: "sl",
    Feature.POST_ONLY: "po", Feature.IOC: "io", Feature.FOK: "fk", Feature.REDUCE_ONLY: "ro",
    Feature.ICEBERG: "ic", Feature.OCO: "oc", Feature.TP_SL: "tp",
    Feature.HEDGE_MODE: "hm", Feature.CROSS_MARGIN: "cm", Feature.ISOLATED_MARGIN: "im",
    Feature.UNIFIED_ACCOUNT: "ua", Feature.PORTFOLIO_MARGIN: "pm", Feature.SUB_ACCOUNTS: "sa",
    Feature.TESTNET: "tn", Feature.KEY_PERMISSIONS: "kp",
}
SHORT_NAMES: dict[Product | Feature, str] = {
    Product.LINEAR_PERP: "linear perp", Product.INVERSE_PERP: "inverse perp", Product.FUTURES: "dated futures",
    Feature.STOP: "stop", Feature.STOP_LIMIT: "stop-limit", Feature.POST_ONLY: "post-only", Feature.IOC: "IOC",
    Feature.FOK: "FOK", Feature.REDUCE_ONLY: "reduce-only", Feature.ICEBERG: "iceberg", Feature.OCO: "OCO",
    Feature.TP_SL: "TP/SL attached", Feature.LIMIT: "limit", Feature.MARKET: "market",
    Feature.UNIFIED_ACCOUNT: "unified account", Feature.SUB_ACCOUNTS: "sub-accounts", Feature.TESTNET: "testnet",
    Feature.KEY_PERMISSIONS: "key permissions",
}


def mark(support: Support) -> str:
    """✓ crossbook supports it (trades it, or has market data for a product), ○ the venue offers it
    and crossbook does not yet, – the venue does not offer it."""
    if not support.offered:
        return ABSENT
    return SUPPORTED if support.crossbook or support.market_data else OFFERED


def short_name(item: Product | Feature) -> str:
    return SHORT_NAMES.get(item, item.value.replace("_", " "))


def sections(caps: VenueCapabilities) -> list[tuple[str, list[tuple[Product | Feature, Support]]]]:
    return [
        ("products", [(p, caps.products[p]) for p in Product]),
        ("orders", [(f, caps.features[f]) for f in ORDER_FEATURES]),
        ("account", [(f, caps.features[f]) for f in ACCOUNT_FEATURES]),
    ]


def code(item: Product | Feature) -> str:
    return PRODUCT_CODES[item] if isinstance(item, Product) else FEATURE_CODES[item]


def matrix(tables: Mapping[str, VenueCapabilities], width: int = 100) -> Group:
    """One row a venue, one two-letter column a capability, grouped products | orders | account;
    a capability marked the same on every venue folds into the legend instead of a column. The
    legend spells out the marks and the columns."""
    uniform = uniform_marks(tables)
    groups = [(title, [(item, s) for item, s in items if item not in uniform])
              for title, items in sections(next(iter(tables.values())))]
    name_width = max(len("venue"), *(len(v) for v in tables))
    titles, codes = Text(" " * name_width), Text("venue".ljust(name_width), style="bold")
    for title, items in groups:
        cells = " ".join(code(item) for item, _ in items)
        titles.append(GROUP_GAP + title.ljust(len(cells)), style="bold")
        codes.append(GROUP_GAP + cells, style="bold")
    lines = [titles, codes]
    for venue, caps in tables.items():
        row = Text(venue.ljust(name_width))
        for _title, items in sections(caps):
            row.append(GROUP_GAP)
            shown = [support for item, support in items if item not in uniform]
            for index, support in enumerate(shown):
                cell = mark(support)
                row.append(("" if index == 0 else " ") + cell.ljust(2), style=MARKS[cell])
        row.rstrip()
        lines.append(row)
    return Group(*lines, Text(""), *legend(groups, uniform, width))


GROUP_GAP = "  "


def uniform_marks(tables: Mapping[str, VenueCapabilities]) -> dict[Product | Feature, str]:
    """The capabilities every venue marks alike (limit and market orders, today) -> that mark."""
    marks: dict[Product | Feature, set[str]] = {}
    for caps in tables.values():
        for _title, items in sections(caps):
            for item, support in items:
                marks.setdefault(item, set()).add(mark(support))
    return {item: next(iter(seen)) for item, seen in marks.items() if len(seen) == 1} if len(tables) > 1 else {}


def legend(groups: list[tuple[str, list[tuple[Product | Feature, Support]]]], uniform: Mapping[Product | Feature, str],
           width: int) -> list[Text]:
    lines = [Text.assemble((SUPPORTED, MARKS[SUPPORTED]), " crossbook supports it   ",
                           (OFFERED, MARKS[OFFERED]), " offered, not supported yet   ",
                           (ABSENT, MARKS[ABSENT]), " not offered")]
    spelled = [f"{title}: " + ", ".join(f"{code(item)} {short_name(item)}" for item, _ in items) for title, items in groups]
    if uniform:
        spelled.append("on every venue: " + ", ".join(f"{short_name(item)} {m}" for item, m in uniform.items()))
    for text in spelled:
        for line in textwrap.wrap(text, width=max(40, width - 1), subsequent_indent="  "):
            lines.append(Text(line, style="dim"))
    lines.append(Text("crossbook venues --venue ID: one venue in detail, with the notes", style="dim"))
    return lines


def venue_detail(venue: str, caps: VenueCapabilities) -> Table:
    """One venue's table: every product and feature, what the venue offers, what crossbook does."""
    table = Table(title=venue, title_justify="left")
    for col in ("", "venue offers", "crossbook today", "note"):
        table.add_column(col)
    for section, rows in sections(caps):
        table.add_row(f"[bold]{section}[/]", "", "", "")
        for item, support in rows:
            label = item.label if isinstance(item, Product) else short_name(item)
            crossbook = _crossbook(support)
            if isinstance(item, Feature) and support.crossbook:
                crossbook = "; ".join([crossbook, *map(escape, wire_restrictions(caps, item))])
            table.add_row(f"  {label}", _offered(support), crossbook, escape(support.note))
    return table


def wire_restrictions(caps: VenueCapabilities, feature: Feature) -> list[str]:
    """Where crossbook sends a traded feature on some products only (what OrderWire enforces)."""
    def names(products: frozenset[Product]) -> str:
        return ", ".join(p.value.replace("_", " ") for p in Product if p in products)

    out = []
    iceberg = caps.wire.iceberg
    if feature is Feature.ICEBERG and iceberg is not None and iceberg.products:
        out.append(f"sent on {names(iceberg.products)} only")
    if feature in caps.wire.unsent:
        products, why = caps.wire.unsent[feature]
        out.append(f"not on {names(products)}: {why}")
    if feature is Feature.OCO:
        traded = frozenset(p for p in Product if caps.products[p].crossbook)
        modes = {p: oco_mode(caps, p).value for p in Product if p in traded}
        out.append(", ".join(f"{p.value.replace('_', ' ')} {m}" for p, m in modes.items()))
    return out


def _offered(support: Support) -> str:
    if not support.offered:
        return "[dim]no[/]"
    only = ", ".join(p.value.replace("_", " ") for p in Product if p in support.only)
    return f"yes ({only} only)" if only else "yes"


def _crossbook(support: Support) -> str:
    done = ([f"market data ({', '.join(support.feeds)})"] if support.feeds else []) + (["trading"] if support.crossbook else [])
    return ", ".join(done) or "[dim]-[/]"


def dex_chains(venues: Sequence[str]) -> dict[str, tuple[ChainSupport, ...]]:
    """The chains each DEX venue among ``venues`` is supported on, from its SPEC module."""
    from ..venues.dex import oneinch_spec, uniswap_v3_spec

    listings: dict[str, Callable[[], tuple[ChainSupport, ...]]] = {
        "uniswap_v3": uniswap_v3_spec.chains, "oneinch": oneinch_spec.chains}
    return {venue: listings[venue]() for venue in venues if venue in listings}


def chains_table(venue: str, chains: Sequence[ChainSupport]) -> Group:
    """One DEX venue's chains (name and id, the router crossbook sends to, what it trades there),
    then each router's address once, with the chains it serves (an address is never wrapped)."""
    table = Table(title=f"{venue}: chains crossbook trades on", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("chain", "id", "router", "crossbook supports"):
        table.add_column(col, justify="right" if col == "id" else "left")
    served: dict[tuple[str, str], list[str]] = {}
    for chain in chains:
        table.add_row(chain.chain, str(chain.chain_id), chain.router_name, ", ".join(chain.supports))
        served.setdefault((chain.router_name, chain.router), []).append(chain.chain)
    addresses = [Text(f"  {name} {address}: {', '.join(names)}") for (name, address), names in served.items()]
    return Group(table, *addresses)
