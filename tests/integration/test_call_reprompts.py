"""A real caller on the shipped default flow: words outside the menu get the escalation, then keys only.

An aiortc caller on loopback speaks espeak-ng audio to the gateway (pocketsphinx, the engine of a fresh
install); what the caller hears and the flow's timeline show the re-prompt said instead of the question, then
the switch to keys, then a key press routes.
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
from tests.support.caller import Caller, in_ivr, sound_segments
from tests.support.servers import Node, start_node

SHIPPED = Path(__file__).resolve().parents[2] / "ivr" / "flows"
REPROMPT = "Sorry, I didn't get that. You can say billing, support or sales, or press 1, 2 or 3."
KEYS = "Let's use the keypad instead. For billing, press 1. For technical support, press 2. For sales, press 3."


@pytest.fixture
async def shipped_node(settings) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    started = await start_node(replace(settings, flows_dir=SHIPPED))
    yield started
    await bounded(started.stop(), "stopping the node with the shipped flows")


async def ivr_steps(node: Node, cid: str) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["node"], e["detail"]) for e in await node.services.store.events(cid) if e["type"] == "ivr"]


async def step_seen(node: Node, caller: Caller, wanted: tuple[str, str, str], timeout: float = 30) -> float:
    """Wait until the flow made ``wanted`` (kind, node, part of its detail); returns the caller's recorded seconds then."""
    steps: list[tuple[str, str, str]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                steps = await ivr_steps(node, caller.conversation_id)
                if any(s[:2] == wanted[:2] and wanted[2] in s[2] for s in steps):
                    return caller.recorded_seconds()
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"no step {wanted} in {steps}") from None


async def heard_whole_prompt(caller: Caller, after: float, timeout: float = 20) -> None:
    """Wait until a prompt that started after ``after`` has ended, pauses between its sentences bridged."""
    async with asyncio.timeout(timeout):
        while not any(
            start >= after and end < caller.recorded_seconds() - 0.8
            for start, end in sound_segments(caller.heard, min_gap_ms=700)
        ):
            await asyncio.sleep(0.05)


async def test_out_of_grammar_speech_is_reprompted_then_keys_are_offered_and_a_key_routes(
    shipped_node: Node, tmp_path: Path
) -> None:
    synth = Synthesizer(cache_dir=tmp_path / "tts")

    async def speak(text: str) -> Audio:
        return await synth.synthesize(text, voice="en-us", rate_wpm=150)

    clients = Clients(shipped_node.url)
    try:
        async with in_ivr(clients.customer()) as caller:
            node = shipped_node
            asked = await step_seen(node, caller, ("enter", "main_menu", "menu"))
            await caller.heard_prompt(after=asked)  # the menu (after the greeting and the chime)
            await caller.say(await speak("what is the weather like"))
            missed = await step_seen(node, caller, ("no_match", "main_menu", "(attempt 1 of"))
            await heard_whole_prompt(caller, after=missed)  # the re-prompt: two sentences
            await caller.say(await speak("what is the weather like today"))
            switched = await step_seen(node, caller, ("keys_only", "main_menu", "after 2 failed spoken answers"))
            await caller.heard_prompt(after=switched)  # "Let's use the keypad instead. ..."
            await caller.press("3")
            await caller.status(CallStatus.WAITING, timeout=20)
            conv = await node.services.store.conversation(caller.conversation_id)
            assert conv is not None and conv["queue"] == "sales"
            steps = [s for s in await ivr_steps(node, caller.conversation_id) if s[1] == "main_menu"]
            kinds = [k for k, _, _ in steps]
            # the question once, then the escalation said instead of it, then the keys prompt, then the key
            prompts = [d for k, _, d in steps if k == "prompt"]
            assert prompts[1:] == [REPROMPT, KEYS], prompts
            assert kinds.index("keys_only") < kinds.index("choice")
            assert ("input", "main_menu", "digits 3") in steps
            assert kinds[: kinds.index("keys_only")].count("no_match") == 2, steps
            assert not any(k == "choice" and not d.startswith("3 ") for k, _, d in steps), steps
    finally:
        await clients.close()
