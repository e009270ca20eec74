"""A menu that asks back what it heard, in a real call: an aiortc caller on loopback speaks espeak-ng audio to the
gateway (pocketsphinx, the engine of a fresh install). "billing" is asked back ("Did you say Billing?"); the
caller's spoken "no" asks the menu again and routes nowhere; "billing" again, then key 1 for yes, queues the call
for billing. (``confirm_below: 1`` asks back every spoken answer, so the test does not hang on a confidence.)"""

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
from tests.integration.test_call_speech import ivr_steps
from tests.support.caller import WHOLE_PROMPT_GAP_MS, Caller, in_ivr
from tests.support.servers import Node, start_node

FLOW = """\
start: menu
defaults: {voice: en-us, timeout: 6s}
nodes:
  menu:
    type: menu
    prompt: "Say billing or support."
    confirm: speech
    confirm_below: 1
    retries: 2
    choices:
      - {key: 1, label: Billing, value: billing, words: [billing], next: billing}
      - {key: 2, label: Support, value: support, words: [support], next: bye}
    fallback: bye
  billing: {type: queue, queue: billing, prompt: "Connecting you to billing."}
  bye: {type: hangup, prompt: "Goodbye.", reason: bye}
"""


@pytest.fixture
async def confirming_node(settings, tmp_path: Path) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "default.yaml").write_text(FLOW, encoding="utf-8")
    started = await start_node(replace(settings, flows_dir=flows))
    yield started
    await bounded(started.stop(), "stopping the node")


async def step_seen(node: Node, caller: Caller, kind: str, detail: str, timeout: float = 30, times: int = 1) -> float:
    """Wait for the ``times``-th step of ``kind`` whose detail starts with ``detail``; the caller's recorded seconds
    then."""
    steps: list[tuple[str, str, str]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                steps = await ivr_steps(node, caller.conversation_id)
                if sum(k == kind and d.startswith(detail) for k, _, d in steps) >= times:
                    return caller.recorded_seconds()
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"no step {kind} {detail!r} in {steps}") from None


async def test_a_spoken_answer_is_asked_back_no_asks_again_and_yes_routes(
    confirming_node: Node, tmp_path: Path
) -> None:
    node = confirming_node
    synth = Synthesizer(cache_dir=tmp_path / "tts")

    async def speak(text: str) -> Audio:
        return await synth.synthesize(text, voice="en-us", rate_wpm=150)

    clients = Clients(node.url)
    try:
        async with in_ivr(clients.customer(), store=node.services.store) as caller:
            await caller.heard_prompt(min_gap_ms=WHOLE_PROMPT_GAP_MS)  # the menu
            await caller.say(await speak("billing"))
            asked = await step_seen(node, caller, "confirm", "Billing?")
            # what the caller hears: the question, whole (three sentences), then it answers
            await caller.heard_prompt(after=asked - 0.5, min_gap_ms=WHOLE_PROMPT_GAP_MS)
            await caller.say(await speak("no"))
            again = await step_seen(node, caller, "confirm", "Billing rejected")
            await caller.heard_prompt(after=again, min_gap_ms=WHOLE_PROMPT_GAP_MS)  # the menu, asked again
            conv = await node.services.store.conversation(caller.conversation_id)
            assert conv is not None and conv["state"] == "open", conv  # routed nowhere: not queued
            await caller.say(await speak("billing"))
            await step_seen(node, caller, "confirm", "Billing?", times=2)
            await caller.press("1")  # yes
            await caller.status(CallStatus.WAITING)
            conv = await node.services.store.conversation(caller.conversation_id)
            assert conv is not None and (conv["state"], conv["queue"]) == ("queued", "billing"), conv
            steps = await ivr_steps(node, caller.conversation_id)
            assert [(k, d) for k, _, d in steps if k in ("confirm", "no_match", "choice")] == [
                ("confirm", "Billing?"),
                ("confirm", "Billing rejected"),
                ("no_match", "the caller said Billing is wrong (attempt 1 of 3)"),
                ("confirm", "Billing?"),
                ("confirm", "Billing confirmed"),
                ("choice", "1 (Billing) -> billing"),
            ], steps
    finally:
        await clients.close()
