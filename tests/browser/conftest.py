"""Real Chromium (Debian's package) driven by Playwright; never a downloaded browser."""

from __future__ import annotations

import random
import shutil
import struct
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

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


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


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


@pytest.fixture
async def mic_browser(tmp_path: Path) -> AsyncIterator[Browser]:
    """Chromium whose fake microphone plays a WAV file (loops), for calls from the widget."""
    wav = write_quiet_noise(tmp_path / "mic.wav")
    args = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={wav}"]
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        try:
            yield launched
        finally:
            await launched.close()


#: Launches a Chromium whose fake microphone plays (and loops) the given WAV file.
LaunchWithMic = Callable[[Path], Awaitable[Browser]]


@pytest.fixture
async def speaking_browser() -> AsyncIterator[LaunchWithMic]:
    """A factory: ``await speaking_browser(wav)`` is a Chromium whose microphone says what ``wav`` says.

    Chromium loops the file for as long as the capture runs. Every browser it launched is closed after the test.
    """
    launched: list[Browser] = []
    async with async_playwright() as pw:

        async def launch(wav: Path) -> Browser:
            args = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={wav}"]
            browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
            launched.append(browser)
            return browser

        try:
            yield launch
        finally:
            for browser in launched:
                await browser.close()
