"""The built-in dashboard at ``/``: one hand-written page, its script and style, and the chart
library (uPlot) served from the project's node_modules. None of it carries data, so none of it
needs the token: the page reads the token from the URL fragment and calls the API with it."""

from __future__ import annotations

import os
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PAGE_FILES = {"dashboard.js": "application/javascript", "dashboard.css": "text/css"}
# what /vendor/ serves: the name the page asks for -> the file inside node_modules
VENDOR_FILES = {
    "uPlot.iife.min.js": ("uplot/dist/uPlot.iife.min.js", "application/javascript"),
    "uPlot.min.css": ("uplot/dist/uPlot.min.css", "text/css"),
}
CHART_PACKAGE = "uplot/package.json"
# the page talks to its own origin only (the API and WS /stream); inline styles are set by uPlot
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class ChartLibraryMissing(LookupError):
    """The chart library is not installed: ``npm ci`` at the project root installs it."""


def node_modules() -> Path:
    """The node_modules that holds the chart library: ``CROSSBOOK_NODE_MODULES``, else beside the
    working directory or any parent of it or of this package."""
    configured = os.environ.get("CROSSBOOK_NODE_MODULES")
    if configured:
        if not (Path(configured) / CHART_PACKAGE).exists():
            raise ChartLibraryMissing(f"CROSSBOOK_NODE_MODULES={configured} has no uplot: run `npm ci` at the project root")
        return Path(configured)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "node_modules" / CHART_PACKAGE).exists():
                return folder / "node_modules"
    raise ChartLibraryMissing("the dashboard's chart library (npm uplot) is not installed: run `npm ci` at the project root")


def _file_response(path: Path, content_type: str) -> web.Response:
    return web.Response(body=path.read_bytes(), content_type=content_type, charset="utf-8", headers=SECURITY_HEADERS)


async def _index(_request: web.Request) -> web.Response:
    return _file_response(STATIC / "index.html", "text/html")


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in PAGE_FILES:
        raise web.HTTPNotFound(text=f"no dashboard file {name}")
    return _file_response(STATIC / name, PAGE_FILES[name])


async def _vendor(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in VENDOR_FILES:
        raise web.HTTPNotFound(text=f"no vendor file {name}")
    inside, content_type = VENDOR_FILES[name]
    try:
        folder = node_modules()
    except ChartLibraryMissing as missing:
        raise web.HTTPNotFound(text=str(missing)) from missing
    return _file_response(folder / inside, content_type)


def add_dashboard_routes(app: web.Application) -> None:
    """``/`` (the page), ``/static/{name}`` (its script and style) and ``/vendor/{name}`` (uPlot),
    each an explicit list of files, none behind the token."""
    app.router.add_get("/", _index)
    app.router.add_get("/static/{name}", _static)
    app.router.add_get("/vendor/{name}", _vendor)
