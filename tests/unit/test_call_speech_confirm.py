"""A call's window for a question that confirms its answer with the caller (a gather read back, a menu with
``confirm: speech``) is judged at the engine's confirmed operating point, and what it takes only there reaches the
flow marked ``unsure`` (the flow then asks it back whatever its confidence); other windows keep the usual threshold.
The listener runs for real (VAD, windows, the decoding pool); the engine is scripted to answer one result."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from gateway.flows.call_speech import CallSpeech
from ivr.actions import Listen, ListenChoice, ListenMode
from ivr.events import Event, Speech
from media.asr.engine import Result, Word
from media.asr.harness import silence, voiced_tone
from media.asr.listener import SpeechListener
from media.asr.pool import RecognitionPool
from tests.unit.test_asr_listener import ScriptedEngine


@pytest.fixture(scope="module")
def pool() -> Iterator[RecognitionPool]:
    p = RecognitionPool(1)
    yield p
    p.shutdown()


def menu(*, confirm: bool) -> Listen:
    choices = (ListenChoice("1", "Billing", ("billing",)), ListenChoice("2", "Support", ("support",)))
    return Listen("l1", ListenMode.MENU, 5.0, choices=choices, speech_hints=("billing", "support"), confirm=confirm)


async def answer_to(pool: RecognitionPool, confidence: float, *, confirm: bool) -> Speech:
    engine = ScriptedEngine(Result("billing", confidence, (Word("billing", confidence),), "billing"))
    posted: list[Event] = []
    speech = CallSpeech(
        SpeechListener(engine, pool, label="confirm-window"),  # type: ignore[arg-type]
        post=posted.append,
        on_speech=lambda: None,
        on_reopen=lambda: None,
    )
    try:
        speech.listen(menu(confirm=confirm))
        audio = np.concatenate([silence(300), voiced_tone(600), silence(1500)])
        for at in range(0, len(audio), 960):  # 20 ms frames, as the call's audio task hands them over
            speech.feed(audio[at : at + 960])
        async with asyncio.timeout(10):
            while not posted:
                await asyncio.sleep(0.01)
    finally:
        await speech.close()
    assert len(posted) == 1 and isinstance(posted[0], Speech)
    return posted[0]


async def test_an_answer_taken_only_at_the_confirmed_operating_point_is_marked_unsure(pool: RecognitionPool) -> None:
    # the scripted engine's usual threshold is 0.5, its confirmed operating point 0.2
    assert await answer_to(pool, 0.3, confirm=True) == Speech("billing", 0.3, "billing", unsure=True)
    assert await answer_to(pool, 0.9, confirm=True) == Speech("billing", 0.9, "billing")


async def test_a_window_that_does_not_confirm_keeps_the_usual_threshold(pool: RecognitionPool) -> None:
    assert await answer_to(pool, 0.3, confirm=False) == Speech("", 0.3, "billing", reason="low_confidence")
    assert await answer_to(pool, 0.1, confirm=True) == Speech("", 0.1, "billing", reason="low_confidence")
