"""Music on hold per queue, on a real node with real calls: a caller hears the music file their queue names (waiting,
after an overflow to another queue, held by the agent), a queue names only a file that plays, and a file gone since
gives the generated music, never silence.

The music files are tones (700 Hz, 1.1 kHz) in a copy of the test flows directory, told apart by frequency: the
generated music's notes and their octaves stay under 1 kHz and on other frequencies.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from media.audiofile import write_wav
from tests.conftest import PASSWORDS, TEST_FLOWS, Clients, bounded
from tests.support.admin_api import ADA, Admin, admin_token, agents_with_an_admin
from tests.support.caller import SAMPLE_RATE
from tests.support.queue_calls import hears, queued_call, strongest_hz, tone
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alice (an agent), Carol (a supervisor) and Ada (an admin)."""
    return agents_with_an_admin(tmp_path_factory.mktemp("agents") / "agents.toml", PASSWORDS)


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """The test flows, with music files beside them (and two files that are no music)."""
    flows = tmp_path / "flows"
    shutil.copytree(TEST_FLOWS, flows)
    write_wav(flows / "tone700.wav", tone(700, 2.0))
    write_wav(flows / "tone1100.wav", tone(1100, 2.0))
    write_wav(flows / "blip.wav", tone(500, 0.3))
    (flows / "notes.wav").write_text("these are no sounds")
    return flows


@pytest.fixture
async def node(settings: Settings, flows_dir: Path) -> AsyncIterator[Node]:
    started = await start_node(replace(settings, flows_dir=flows_dir))
    yield started
    await bounded(started.stop(), "stopping the node")


@pytest.fixture
async def admin(node: Node) -> Admin:
    return Admin(node, await admin_token(node, "ada", ADA))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


async def test_a_caller_hears_the_queue_s_music_then_the_overflow_queue_s_and_on_hold(
    node: Node, clients: Clients, admin: Admin
) -> None:
    await admin.put_queue("overflow", music="tone1100.wav", announce_seconds=0)
    await admin.put_queue(
        "billing",
        music="tone700.wav",
        announce_seconds=0,
        max_wait_seconds=4,
        on_max_wait={"action": "overflow", "target": "overflow"},
    )
    caller = await queued_call(clients)  # pressed 1: billing (tests/flows/default.yaml)
    phone: Softphone | None = None
    try:
        await hears(lambda: caller.heard, 700)  # billing's music
        await hears(lambda: caller.heard, 1100)  # moved to the overflow queue after 4 s: its music, on hold still
        conv = await node.services.store.conversation(caller.conversation_id)
        assert conv is not None and (conv["queue"], conv["state"]) == ("overflow", "queued")
        alice = clients.agent("alice")
        await alice.hello()
        phone = Softphone(alice)
        await phone.answer((await phone.ringing())["call_id"])
        await caller.status(CallStatus.CONNECTED)
        phone.mic.play(tone(1000, 1.5), "agent-tone")
        await hears(lambda: caller.heard, 1000)  # the agent, not music
        await alice.send({"type": "call_hold", "call_id": phone.call_id, "hold": True})
        assert (await phone.status(CallStatus.CONNECTED))["reason"] == "held"
        await hears(lambda: caller.heard, 1100)  # held: the music of the queue the call came from
        await alice.send({"type": "call_hold", "call_id": phone.call_id, "hold": False})
        phone.mic.play(tone(1000, 1.5), "agent-tone-2")
        await hears(lambda: caller.heard, 1000)
    finally:
        if phone is not None:
            await phone.close()
        await caller.close()


async def test_a_queue_names_only_music_that_plays_and_a_file_gone_since_gives_the_generated_music(
    node: Node, clients: Clients, admin: Admin, flows_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    listing = await admin.call("GET", "/api/admin/music")
    assert listing == {
        "files": [
            {"name": name, "bytes": (flows_dir / name).stat().st_size}
            for name in ("blip.wav", "notes.wav", "tone1100.wav", "tone700.wav")
        ]
    }
    async with (
        aiohttp.ClientSession() as http,
        http.get(node.url + "/api/admin/music/tone700.wav", headers={"Authorization": f"Bearer {admin.token}"}) as r,
    ):
        assert (r.status, r.headers["Content-Type"]) == (200, "audio/wav")
        assert await r.read() == (flows_dir / "tone700.wav").read_bytes()
    await admin.call("GET", "/api/admin/music/default.yaml", status=400)  # no audio file name
    await admin.call("GET", "/api/admin/music/gone.ogg", status=404)

    billing = await admin.queue("billing")
    refusals = {
        "gone.wav": "music on hold: there is no file 'gone.wav' in the flows directory",
        "notes.wav": "music on hold: ",  # whatever FFmpeg says of it, and its name
        "blip.wav": "music on hold: 'blip.wav' lasts 0.3 s: music on hold loops, so it must last a second at least",
    }
    for name, message in refusals.items():
        bad = await admin.call("PUT", "/api/admin/queues/billing", {**billing, "music": name}, status=400)
        assert bad["field"] == "music" and bad["message"].startswith(message), bad
        assert name in bad["message"] and str(flows_dir) not in bad["message"], bad  # no server path told
    assert (await admin.queue("billing"))["version"] == billing["version"]  # nothing was written

    await admin.put_queue("billing", music="tone700.wav", announce_seconds=0)
    (flows_dir / "tone700.wav").unlink()  # an operator tidied the directory
    await admin.put_queue("billing", priority=3)  # a save that keeps the music is not refused for it

    with caplog.at_level(logging.WARNING, logger="gateway.calls.hold_music"):
        caller = await queued_call(clients)
        try:
            mark = len(caller.heard)
            async with asyncio.timeout(10):  # two seconds of what the caller hears while waiting
                while len(caller.heard) - mark < 2 * SAMPLE_RATE:
                    await asyncio.sleep(0.05)
            heard = caller.heard[-SAMPLE_RATE:]
            assert rms(heard) > 100  # music, not silence
            assert abs(strongest_hz(heard) - 700) > 50  # and not the file that is gone
        finally:
            await caller.close()
    warnings = [r.getMessage() for r in caplog.records if "tone700.wav cannot be played" in r.getMessage()]
    assert len(warnings) == 1, warnings
