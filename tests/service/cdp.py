"""A small driver of headless Chromium over the DevTools protocol, with aiohttp's WebSocket client
(no browser-automation dependency): start the Debian ``chromium`` on a fresh profile, open a page,
evaluate JavaScript in it, collect what it logs as errors, take a screenshot.

    async with Chromium.start() as browser:
        page = await browser.page()
        await page.navigate(url)
        await page.wait_for("document.title === 'crossbook'", 30, "the title")
        assert not page.errors
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.system_packages import require_binary

START_TIMEOUT = 60.0  # seconds: a loaded CI machine starts a browser slowly
CALL_TIMEOUT = 30.0
WINDOW = (1440, 1100)
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
    "--remote-debugging-port=0", f"--window-size={WINDOW[0]},{WINDOW[1]}",
)
class CdpError(RuntimeError):
    """A DevTools call answered with an error, or a page's script threw."""


def chromium_binary() -> str:
    """The chromium executable, the Debian package installed when missing; one that cannot be
    installed is a failure (the dashboard test must run), never a skip."""
    return shutil.which("chromium-browser") or require_binary("chromium", "chromium")


@dataclass
class Page:
    """One tab, over its own DevTools WebSocket."""

    ws: aiohttp.ClientWebSocketResponse
    errors: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _loaded: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    def start_reading(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            else:
                self._event(data["method"], data.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CdpError("the DevTools connection closed"))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            self._loaded.set()
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append("console.error: " + " ".join(_describe(arg) for arg in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("uncaught: " + str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text')} ({entry.get('url', '')})")

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, CALL_TIMEOUT)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def enable(self) -> None:
        for domain in ("Page", "Runtime", "Log"):
            await self.call(f"{domain}.enable")

    async def navigate(self, url: str, timeout: float = 60.0) -> None:
        self._loaded.clear()
        result = await self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise CdpError(f"navigating to {url}: {result['errorText']}")
        await asyncio.wait_for(self._loaded.wait(), timeout)

    async def evaluate(self, expression: str) -> Any:
        """The expression's value (JSON-able), awaited if it is a promise."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(f"{expression!r} threw: {details.get('exception', {}).get('description') or details.get('text')}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        """Evaluate until the value is truthy; the last value on timeout is in the error."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} "
                                     f"(last value {value!r}; page errors {self.errors})")
            await asyncio.sleep(0.2)

    async def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (beyond the window if it is taller)."""
        metrics = await self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)


def _describe(arg: dict[str, Any]) -> str:
    return str(arg["value"]) if "value" in arg else str(arg.get("description", arg.get("type")))


@dataclass
class Chromium:
    """A headless Chromium on a fresh profile, its DevTools on a loopback port it chose itself."""

    process: asyncio.subprocess.Process
    profile: Path
    port: int
    session: aiohttp.ClientSession

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls) -> AsyncIterator[Chromium]:
        binary = chromium_binary()
        profile = Path(tempfile.mkdtemp(prefix="crossbook-chromium-"))
        process = await asyncio.create_subprocess_exec(
            binary, *FLAGS, f"--user-data-dir={profile}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        session = aiohttp.ClientSession()
        try:
            port = await _devtools_port(profile, process)
            yield cls(process, profile, port, session)
        finally:
            await session.close()
            await _stop(process)
            shutil.rmtree(profile, ignore_errors=True)

    async def page(self) -> Page:
        """A new tab, its Page, Runtime and Log events on."""
        async with self.session.put(f"http://127.0.0.1:{self.port}/json/new?about:blank") as response:
            target = await response.json()
        ws = await self.session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        page.start_reading()
        await page.enable()
        return page


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """The port Chromium wrote to DevToolsActivePort (first line) once its DevTools listen."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise AssertionError(f"chromium exited with code {process.returncode} before its DevTools listened")
        lines = marker.read_text().splitlines() if marker.exists() else []
        if lines and lines[0].strip().isdigit():
            return int(lines[0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"chromium wrote no DevToolsActivePort within {START_TIMEOUT:.0f} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the browser's process group (its renderers and helpers), SIGKILL if it lingers."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
