"""A caller queued for an agent, and what tests of bridged calls hear: tones and their frequencies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from gateway.protocol.states import CallStatus
from media.audio import Audio
from tests.conftest import Clients
from tests.support.caller import SAMPLE_RATE, Caller


def tone(hz: float, seconds: float = 1.5, dbfs: float = -12.0) -> Audio:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return Audio((np.sin(2 * np.pi * hz * t) * 32767 * 10 ** (dbfs / 20)).astype(np.int16), SAMPLE_RATE)


def strongest_hz(samples: np.ndarray) -> float:
    """The frequency with the most energy in ``samples`` (48 kHz), or 0 for silence."""
    x = samples.astype(np.float64)
    if len(x) < 4800 or np.sqrt(np.mean(x * x)) < 100:
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


async def hears(recording: Callable[[], np.ndarray], hz: float, timeout: float = 10.0) -> None:
    """Wait until the last 0.5 s of what a side recorded is dominated by ``hz``."""
    async with asyncio.timeout(timeout):
        while True:
            heard = recording()
            if abs(strongest_hz(heard[-SAMPLE_RATE // 2 :]) - hz) < 15:
                return
            await asyncio.sleep(0.05)


async def queued_call(clients: Clients) -> Caller:
    customer = clients.customer()
    await customer.hello()
    caller = Caller(customer)
    await caller.dial()
    await caller.status(CallStatus.IVR)
    await caller.menu_asked()  # after the greeting (keys then are ignored): a key cuts the menu's question
    await caller.press("1")
    await caller.status(CallStatus.WAITING)
    return caller
