"""The early end with real speech (pocketsphinx en-us, espeak-ng voices): sooner, never a different answer.

The listener starts decoding at a short pause, padded to the whole trailing
silence with the pause's own audio, and ends a complete answer once the
pause reaches ``early_silence_ms`` (media/asr/listener.py). These tests
compare what the listener decides with the early end against what it
decides when it waits for the whole trailing silence, on the same audio,
and check that a caller who goes on after a pause is heard to the end.
Nothing here is timed: the assertions are on the events and the audio
positions the VAD reports.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest

from media.asr.grammar import Grammar
from media.asr.harness import listen, silence
from media.asr.listener import NoMatch, Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import SphinxEngine
from media.asr.vad import EndReason, VadSettings
from media.tts import Synthesizer

MENU = Grammar.of(["billing", "support", "sales"])
WORDS = ("billing", "support", "sales")
VOICES = ("en-us", "en-gb", "en-us+m3", "en-us+f3")  # bench speech's callers
EARLY = VadSettings()
FULL = replace(EARLY, early_silence_ms=None)  # no early end: the whole 700 ms trailing silence


async def say(tts: Synthesizer, text: str, voice: str = "en-us", rate_wpm: int = 160) -> np.ndarray:
    samples = (await tts.synthesize(text, voice=voice, rate_wpm=rate_wpm)).samples
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 64)[0]
    return samples[int(loud[0]) : int(loud[-1]) + 1]


def decided(outcome: object) -> tuple[str, str, float]:
    if isinstance(outcome, Recognized):
        return ("recognized", outcome.result.text, round(outcome.result.confidence, 6))
    assert isinstance(outcome, NoMatch)
    result = outcome.result
    return (str(outcome.reason), result.text if result else "", round(result.confidence, 6) if result else 0.0)


async def test_the_early_end_gives_the_answer_the_whole_trailing_silence_gives(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    async def one_voice(voice: str) -> int:
        """The voice's words, one after the other; how many ended early."""
        early = SpeechListener(sphinx, pool, vad=EARLY, label=f"early {voice}")
        full = SpeechListener(sphinx, pool, vad=FULL, label=f"full {voice}")
        try:
            ended_early = 0
            for word in WORDS:
                audio = await say(tts, word, voice)
                # fed in real time, as a call does (so a decode can come back while the pause goes on), both at once
                a, b = await asyncio.gather(
                    listen(early, MENU, audio, no_input_ms=None, paced=True),
                    listen(full, MENU, audio, no_input_ms=None, paced=True),
                )
                assert b.speech_ended is not None and b.speech_ended.reason is EndReason.SILENCE
                assert a.speech_ended is not None
                ended_early += a.speech_ended.reason is EndReason.EARLY
                # the same answer, with the same confidence, whether it ended early or not
                assert decided(a.outcome) == decided(b.outcome), (voice, word)
            return ended_early
        finally:
            await early.close()
            await full.close()

    # the voices at once, as calls at once are (each listener hears one caller): 12 real-time utterances in the
    # time of 3
    async with asyncio.TaskGroup() as group:  # (a failing voice cancels the others)
        voices = [group.create_task(one_voice(voice)) for voice in VOICES]
    ended_early = sum(task.result() for task in voices)
    # the early end was taken (how often is a matter of time: a decode that comes back after the early
    # silence, on a loaded machine, leaves the utterance to the whole trailing silence; bench speech times it)
    assert ended_early >= 1, "no utterance ended early"


@pytest.mark.parametrize("pause_ms", [260, 300])
async def test_a_caller_who_goes_on_after_a_short_pause_is_heard_to_the_end(
    sphinx: SphinxEngine, pool: RecognitionPool, tts: Synthesizer, pause_ms: int
) -> None:
    """A pause past the speculative decode's start (120 ms hangover + 100 ms) but under the early end's: the
    decode of the first word is dropped and the answer is the whole phrase, decoded once the caller is done."""
    grammar = Grammar.of(["sales", "sales support", "billing"])
    first, second = await say(tts, "sales", "en-us", 150), await say(tts, "support", "en-us", 150)
    listener = SpeechListener(sphinx, pool, vad=EARLY, label="resumed")
    try:
        trace = await listen(listener, grammar, np.concatenate([first, silence(pause_ms), second]), no_input_ms=None)
    finally:
        await listener.close()
    assert listener.turn.speculations >= 2  # a decode started in the pause, another after the last word
    assert trace.speech_ended is not None
    # the utterance runs to the end of "support" (the VAD's speech span covers both words and the pause)
    spoken_ms = (len(first) + len(second)) * 1000 // 48000 + pause_ms
    assert trace.speech_ended.speech_ms >= spoken_ms - 100
    assert isinstance(trace.outcome, Recognized) and trace.outcome.result.text == "sales support"
