"""A supervisor barges into a connected call: real aiortc caller, agent softphone and supervisor softphone.

The supervisor joins with ``call_monitor`` mode ``barge``: both the caller and the agent hear their voice
(a 700 Hz tone, found by frequency), besides each other. Switching back to ``listen`` silences them for both, and
only them: while the supervisor and the agent both speak, the caller hears the agent (520 Hz) and not the supervisor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from tests.conftest import Clients
from tests.support.caller import SAMPLE_RATE
from tests.support.queue_calls import hears, queued_call, strongest_hz, tone
from tests.support.servers import Node
from tests.support.softphone import Softphone


def level_at(samples: np.ndarray, hz: float) -> float:
    """The energy of ``samples`` within 20 Hz of ``hz`` (48 kHz, Hann window)."""
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float(np.sum(spectrum[np.abs(freqs - hz) <= 20] ** 2))


async def hears_only(recording: Callable[[], np.ndarray], hz: float, absent: float, timeout: float = 10.0) -> None:
    """Wait until the last 0.5 s of what a side recorded is dominated by ``hz`` with ``absent`` at least 20 dB
    below it: a side that hears nothing, or both tones mixed, never gets there."""
    async with asyncio.timeout(timeout):
        while True:
            window = recording()[-SAMPLE_RATE // 2 :]
            if abs(strongest_hz(window) - hz) < 15 and level_at(window, absent) < level_at(window, hz) / 100:
                return
            await asyncio.sleep(0.05)


async def test_supervisor_barges_in_and_both_the_caller_and_the_agent_hear_them(clients: Clients, node: Node) -> None:
    alice, carol = clients.agent("alice"), clients.agent("carol")  # carol is a supervisor
    await alice.hello()
    await carol.hello(available=False)
    caller = await queued_call(clients)
    phone, boss = Softphone(alice), Softphone(carol)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await boss.monitor(phone.call_id, "barge")
        boss.mic.play(tone(700, 3.0), "barge")
        await hears(lambda: caller.heard, 700)  # the caller hears the supervisor ...
        await hears(lambda: phone.heard, 700)  # ... and so does the agent
        caller.mic.play(tone(440), "caller")
        await hears(lambda: boss.heard, 440)  # the supervisor hears the caller
        await carol.send({"type": "call_monitor", "call_id": phone.call_id, "mode": "listen"})
        await carol.expect("call_status", lambda f: f["reason"] == "listen" and f.get("monitor") is True)
        boss.mic.play(tone(700, 6.0), "silent")  # the supervisor speaks on ...
        phone.mic.play(tone(520, 6.0), "agent")  # ... while the agent does: the caller hears the agent alone
        await hears_only(lambda: caller.heard, 520, absent=700)
        assert abs(strongest_hz(phone.heard[-SAMPLE_RATE // 2 :]) - 700) > 50  # nor does the agent hear them
        modes = [
            e["mode"] for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_monitored"
        ]
        assert modes == ["barge", "listen"]
    finally:
        await boss.close()
        await phone.close()
        await caller.close()
