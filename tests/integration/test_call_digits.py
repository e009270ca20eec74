"""A caller says a PIN with "oh" for zero in a real voice, over a real WebRTC call on loopback.

The voice is Allison Smith's professional prompt recordings (Debian's
asterisk-core-sounds-en-wav, read in place; see tests/support/prompt_voice.py),
spliced into "nine oh five one"; the gather asks for exactly four digits and reads
the number back. Before "oh" was a grammar word this came out as 9451.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.protocol.states import CallStatus
from media.audio import Audio
from media.tts import Synthesizer
from tests.conftest import Clients, bounded
from tests.support import prompt_voice
from tests.support.caller import in_ivr
from tests.support.servers import Node, start_node

FLOWS = Path(__file__).resolve().parents[1] / "flows_digits"


@pytest.fixture(scope="module")
def recordings() -> None:
    missing = prompt_voice.ensure_installed()
    if missing:
        pytest.skip(missing)


@pytest.fixture
async def digits_node(settings, tmp_path) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    started = await start_node(replace(settings, flows_dir=FLOWS))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_nine_oh_five_one_is_taken_as_9051(recordings: None, digits_node: Node, tmp_path: Path) -> None:
    clients = Clients(digits_node.url)
    yes = await Synthesizer(cache_dir=tmp_path / "tts").synthesize("yes", voice="en-us", rate_wpm=150)
    pin = Audio(prompt_voice.spoken_number("9o51"), prompt_voice.RATE)
    try:
        async with in_ivr(clients.customer()) as caller:
            await caller.heard_prompt()  # "Say or enter your four digit PIN."
            asked = caller.recorded_seconds()
            await caller.say(pin)
            await caller.heard_prompt(after=asked + 0.5)  # "I heard 9 0 5 1. Is that right? ..."
            steps = await ivr_steps(digits_node, caller.conversation_id)
            assert ("confirm", "pin", "9051?") in steps, steps
            await caller.say(yes)
            ended = await caller.status(CallStatus.ENDED, timeout=20)
            assert ended["reason"] == "pin_taken"
            assert (await digits_node.services.store.context(caller.conversation_id))["pin"] == "9051"
            steps = await ivr_steps(digits_node, caller.conversation_id)
            assert [d for k, n, d in steps if n == "pin" and k == "confirm"] == ["9051?", "9051 confirmed"], steps
    finally:
        await clients.close()


async def ivr_steps(node: Node, cid: str) -> list[tuple[str, str, str]]:
    async with asyncio.timeout(10):
        return [
            (e["kind"], e["node"], e["detail"]) for e in await node.services.store.events(cid) if e["type"] == "ivr"
        ]
