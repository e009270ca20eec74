"""Real Chromium (Debian's package) driven by Playwright; never a downloaded browser.

The browser tests run on one event loop per test process (tests/support/browser_loop.py): one Playwright driver
and one Chromium per kind (plain, or with the quiet microphone) serve every test, each test in browser contexts of
its own that are closed after it. A Chromium that died is launched again for the next test.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import shutil
import struct
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Playwright, async_playwright

from gateway.config import Settings
from gateway.store.store import Store
from tests.conftest import Clients, bounded, clients_of, running_node, store_on
from tests.support.browser_loop import BROWSER_LOOP, browser_fixture
from tests.support.servers import Node

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed; bin/test installs it when run as root")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test on another loop than the shared one, or using an async fixture declared for another loop,
    is refused here with its name: otherwise it fails later, in ways that look like timeouts."""
    here = Path(__file__).parent
    wrong = []
    for item in items:
        if not isinstance(item, pytest.Function) or here not in item.path.parents:
            continue
        marker = item.get_closest_marker("asyncio")
        if marker is None or marker.kwargs.get("loop_scope") != BROWSER_LOOP:
            wrong.append(f"{item.nodeid}: its module's pytestmark is not BROWSER_TESTS (tests/support/browser_loop.py)")
        for name, defs in item._fixtureinfo.name2fixturedefs.items():
            func = defs[-1].func
            if (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)) and getattr(
                func, "_loop_scope", None
            ) != BROWSER_LOOP:
                wrong.append(f"{item.nodeid}: its async fixture {name!r} is not declared with @browser_fixture")
    if wrong:
        raise pytest.UsageError("browser tests off the browser tests' loop:\n" + "\n".join(sorted(set(wrong))))


# ---------------------------------------------------------------- the shared loop, its driver and its browsers


@pytest_asyncio.fixture(scope="session", loop_scope=BROWSER_LOOP, autouse=True)
async def browser_loop_executor() -> AsyncIterator[None]:
    """The shared loop's default executor, made before any test (the leak check counts its threads as the
    session's, not as a test's), shut down with the loop."""
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(thread_name_prefix="browser-loop"))
    yield


@pytest_asyncio.fixture(scope="session", loop_scope=BROWSER_LOOP)
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as pw:
        yield pw


class Chromiums:
    """The shared Chromiums, one per set of flags, launched when first asked for (again if one died)."""

    def __init__(self, pw: Playwright) -> None:
        self.pw = pw
        self._running: dict[tuple[str, ...], Browser] = {}

    async def get(self, args: list[str]) -> Browser:
        key = tuple(args)
        running = self._running.get(key)
        if running is None or not running.is_connected():
            running = await self.pw.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
            self._running[key] = running
        return running

    async def close(self) -> None:
        for running in self._running.values():
            if running.is_connected():
                await running.close()
        self._running.clear()


@pytest_asyncio.fixture(scope="session", loop_scope=BROWSER_LOOP)
async def chromiums(playwright: Playwright) -> AsyncIterator[Chromiums]:
    shared = Chromiums(playwright)
    try:
        yield shared
    finally:
        await shared.close()


async def own_contexts(shared: Browser) -> AsyncIterator[Browser]:
    """``shared`` for one test: the contexts (and pages) it opened are closed after it."""
    yield shared
    if shared.is_connected():
        await bounded(
            asyncio.gather(*(context.close() for context in shared.contexts)), "closing the test's browser contexts"
        )


@browser_fixture
async def browser(chromiums: Chromiums) -> AsyncIterator[Browser]:
    async for shared in own_contexts(await chromiums.get(CHROMIUM_FLAGS)):
        yield shared


def write_quiet_noise(path: Path, seconds: float = 2.0, rate: int = 48000, peak: int = 300) -> Path:
    """A 48 kHz mono 16-bit WAV of quiet noise (about -45 dBFS): a microphone in a quiet room."""
    rng = random.Random(4733)
    samples = [rng.randint(-peak, peak) for _ in range(int(seconds * rate))]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


@pytest.fixture(scope="session")
def quiet_mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_quiet_noise(tmp_path_factory.mktemp("mic") / "mic.wav")


@browser_fixture
async def mic_browser(chromiums: Chromiums, quiet_mic_wav: Path) -> AsyncIterator[Browser]:
    """Chromium whose fake microphone plays a WAV file of quiet noise (loops), for calls from the widget."""
    args = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={quiet_mic_wav}"]
    async for shared in own_contexts(await chromiums.get(args)):
        yield shared


#: Launches a Chromium whose fake microphone plays (and loops) the given WAV file.
LaunchWithMic = Callable[[Path], Awaitable[Browser]]


@browser_fixture
async def speaking_browser(playwright: Playwright) -> AsyncIterator[LaunchWithMic]:
    """A factory: ``await speaking_browser(wav)`` is a Chromium whose microphone says what ``wav`` says.

    Chromium loops the file for as long as the capture runs. Every browser it launched is closed after the test.
    """
    launched: list[Browser] = []

    async def launch(wav: Path) -> Browser:
        args = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={wav}"]
        browser = await playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        launched.append(browser)
        return browser

    try:
        yield launch
    finally:
        await bounded(asyncio.gather(*(browser.close() for browser in launched)), "closing the speaking browsers")


# ---------------------------------------------------------------- tests/conftest.py's async fixtures, on this loop


@browser_fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    async with store_on(redis_url) as made:
        yield made


@browser_fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    async with running_node(settings) as started:
        yield started


@browser_fixture
async def clients(node: Node) -> AsyncIterator[Clients]:
    async with clients_of(node) as made:
        yield made
