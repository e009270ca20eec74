"""SpeechListener with a scripted engine: VAD gating, pre-roll, outcomes, windows, threads, errors."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from media.asr.engine import Partial, Result, SpeechEngine, Word
from media.asr.grammar import Grammar
from media.asr.harness import listen, silence, voiced_tone, white_noise
from media.asr.listener import (
    NoMatch,
    NoMatchReason,
    PartialText,
    Recognized,
    SpeechListener,
    complete,
    judge,
)
from media.asr.pool import RecognitionPool
from media.asr.vad import EndReason, NoInputTimeout, SpeechEnded, SpeechStarted, VadSettings

GRAMMAR = Grammar.of(["billing", "support"])
VAD = VadSettings(no_input_ms=3000, max_speech_ms=2000, early_silence_ms=None)
EARLY = VadSettings(no_input_ms=3000, max_speech_ms=2000)  # the default early end: 120 ms hangover + 200 ms


class ScriptedRecognizer:
    def __init__(self, engine: ScriptedEngine) -> None:
        self.engine = engine
        self.audio = bytearray()
        self.resets = 0

    def _note(self) -> None:
        self.engine.threads.add(threading.get_ident())

    def accept(self, pcm16k: bytes) -> Partial | None:
        self._note()
        first = len(self.audio) <= 3200
        self.audio += pcm16k
        return Partial("bil") if first and len(self.audio) > 3200 else None

    def final(self) -> Result:
        self._note()
        self.engine.finals += 1
        self.engine.heard.append(bytes(self.audio))
        self.audio.clear()
        if isinstance(self.engine.answer, Exception):
            raise self.engine.answer
        return self.engine.answer

    def reset(self, grammar: Grammar | None = None) -> None:
        self._note()
        self.resets += 1
        self.audio.clear()

    def close(self) -> None:
        self._note()


class ScriptedEngine:
    name = "scripted"
    language = "en"
    model_path = Path("/nonexistent")
    min_confidence = 0.5
    confirm_confidence = 0.2

    def __init__(self, answer: Result | Exception) -> None:
        self.answer = answer
        self.made: list[ScriptedRecognizer] = []
        self.threads: set[int] = set()
        self.finals = 0
        self.heard: list[bytes] = []

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        return []

    def recognizer(self, grammar: Grammar | None = None) -> ScriptedRecognizer:
        self.threads.add(threading.get_ident())
        self.made.append(ScriptedRecognizer(self))
        return self.made[-1]

    def describe(self) -> str:
        return "scripted engine"

    @property
    def accepted(self) -> int:
        return sum(len(r.audio) for r in self.made) + sum(len(h) for h in self.heard)


def without_partials(kinds: list[str]) -> list[str]:
    return [k for k in kinds if k != "PartialText"]


BILLING = Result("billing", 0.9, (Word("billing", 0.9),), "billing")


@pytest.fixture(scope="module")
def pool() -> Iterator[RecognitionPool]:
    p = RecognitionPool(2)
    yield p
    p.shutdown()


@pytest.fixture
async def make(pool: RecognitionPool) -> AsyncIterator[object]:
    made: list[SpeechListener] = []

    def factory(engine: ScriptedEngine, **kw: object) -> SpeechListener:
        listener = SpeechListener(engine, pool, vad=kw.pop("vad", VAD), **kw)  # type: ignore[arg-type]
        made.append(listener)
        return listener

    yield factory
    for listener in made:
        await listener.close()


def test_engine_is_a_speech_engine() -> None:
    assert isinstance(ScriptedEngine(BILLING), SpeechEngine)


async def test_utterance_sequence_and_no_work_on_the_event_loop(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    trace = await listen(make(engine), GRAMMAR, voiced_tone(600))
    # partials come from the worker, so they may arrive before or after SpeechEnded; the outcome is last
    assert without_partials(trace.kinds()) == ["SpeechStarted", "SpeechEnded", "Recognized"]
    assert [e for e in trace.events if isinstance(e, PartialText)] == [PartialText("bil")]
    assert trace.outcome == Recognized(BILLING)
    assert trace.speech_started == SpeechStarted(at_ms=620, onset_ms=500)
    assert trace.speech_ended is not None and trace.speech_ended.reason is EndReason.SILENCE
    assert threading.get_ident() not in engine.threads and engine.threads


async def test_speech_started_comes_from_the_deciding_feed_call(make) -> None:  # type: ignore[no-untyped-def]
    listener = make(ScriptedEngine(BILLING))
    listener.start(0, GRAMMAR)
    audio = np.concatenate([silence(500), voiced_tone(600), silence(1000)])
    returned: dict[int, list[object]] = {}
    for i in range(0, len(audio), 960):
        events = listener.feed(audio[i : i + 960], i // 48)
        if events:
            returned[i // 48] = events
    # The frame [600, 620) is the sixth speech frame: the barge-in signal comes out of the call that
    # completes it (the resampler's few samples of delay put its last samples in the chunk starting at 620).
    assert returned == {
        620: [SpeechStarted(at_ms=620, onset_ms=500)],
        1920: [SpeechEnded(at_ms=1920, reason=EndReason.SILENCE, speech_ms=720)],
    }


async def test_silence_costs_no_recognition_and_ends_as_no_input(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    trace = await listen(make(engine), GRAMMAR, silence(4000), lead_ms=0, tail_ms=0)
    assert trace.kinds() == ["NoInputTimeout"]
    assert trace.outcome == NoInputTimeout(at_ms=3000)
    assert engine.accepted == 0 and engine.finals == 0


async def test_pre_roll_reaches_the_recognizer(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    await listen(make(engine), GRAMMAR, voiced_tone(600), lead_ms=1000)
    audio = np.frombuffer(engine.heard[0], dtype=np.int16)
    first_sound = int(np.argmax(np.abs(audio) > 100))
    # 300 ms of pre-roll (4800 samples at 16 kHz) before the onset, give or take the resampler's delay
    assert 4780 <= first_sound <= 4820
    # pre-roll + 600 ms of tone (+120 ms VAD hangover) + 700 ms trailing silence, nothing of the lead before it
    assert len(audio) == pytest.approx(16 * (300 + 720 + 700), abs=16 * 20)


@pytest.mark.parametrize(
    "answer, reason",
    [
        (Result("billing", 0.3, (Word("billing", 0.3),), "billing"), NoMatchReason.LOW_CONFIDENCE),
        (Result.nothing("bill in", (Word("bill", 0.9), Word("in", 0.9))), NoMatchReason.OUT_OF_GRAMMAR),
        (Result.nothing(), NoMatchReason.EMPTY),
    ],
)
async def test_what_must_not_route_is_a_no_match(make, answer: Result, reason: NoMatchReason) -> None:  # type: ignore[no-untyped-def]
    trace = await listen(make(ScriptedEngine(answer)), GRAMMAR, voiced_tone(600))
    assert trace.outcome == NoMatch(reason, answer)
    assert judge(answer, 0.5) == NoMatch(reason, answer)


async def test_per_window_min_confidence(make) -> None:  # type: ignore[no-untyped-def]
    listener = make(ScriptedEngine(BILLING))
    assert (await listen(listener, GRAMMAR, voiced_tone(600), min_confidence=0.95)).outcome == NoMatch(
        NoMatchReason.LOW_CONFIDENCE, BILLING
    )
    assert (await listen(listener, GRAMMAR, voiced_tone(600))).outcome == Recognized(BILLING)


async def test_too_long_is_a_no_match_without_decoding(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    # webrtcvad alone: to the noise-floor gate a 3 s steady tone is a steady background, not speech
    trace = await listen(make(engine, vad=replace(VAD, noise_margin_db=None)), GRAMMAR, voiced_tone(3000))
    assert without_partials(trace.kinds()) == ["SpeechStarted", "SpeechEnded", "NoMatch"]
    assert trace.speech_ended == SpeechEnded(at_ms=2500, reason=EndReason.MAX_DURATION, speech_ms=2000)
    assert trace.outcome == NoMatch(NoMatchReason.MAX_DURATION)
    assert engine.finals == 0


async def test_one_recognizer_per_call_reset_per_window(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    listener = make(engine)
    for _ in range(3):
        assert (await listen(listener, GRAMMAR, voiced_tone(400))).outcome == Recognized(BILLING)
    assert len(engine.made) == 1 and engine.made[0].resets == 2 and engine.finals == 3


async def test_stop_drops_the_window_and_feed_outside_a_window_does_nothing(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    listener = make(engine)
    assert listener.feed(voiced_tone(200), 0) == []
    listener.start(0, GRAMMAR)
    audio = np.concatenate([silence(500), voiced_tone(400)])
    events = [e for i in range(0, len(audio), 960) for e in listener.feed(audio[i : i + 960], i // 48)]
    assert events == [SpeechStarted(620, 500)]
    listener.stop()  # e.g. the caller pressed a key
    assert not listener.listening
    assert listener.feed(voiced_tone(2000), 900) == []
    trace = await listen(listener, GRAMMAR, voiced_tone(400), start_ms=5000)
    assert without_partials(trace.kinds()) == ["SpeechStarted", "SpeechEnded", "Recognized"]
    assert engine.finals == 1


async def test_recognizer_errors_are_raised_by_next_event(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="decoder exploded"):
        await listen(make(ScriptedEngine(RuntimeError("decoder exploded"))), GRAMMAR, voiced_tone(400))


async def test_audio_stall_fires_no_input_through_poll(make) -> None:  # type: ignore[no-untyped-def]
    listener = make(ScriptedEngine(BILLING))
    listener.start(0, GRAMMAR)
    assert listener.poll(2999) == []
    assert listener.poll(3000) == [NoInputTimeout(3000)]
    assert await asyncio.wait_for(listener.next_event(), 1) == NoInputTimeout(3000)


async def test_16k_input_skips_resampling(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    listener = make(engine, input_rate=16000)
    trace = await listen(listener, GRAMMAR, voiced_tone(600, rate=16000), rate=16000)
    assert trace.outcome == Recognized(BILLING)
    assert 4800 <= int(np.argmax(np.abs(np.frombuffer(engine.heard[0], np.int16)) > 100)) <= 4802


def over_noise(signal: np.ndarray, noise_dbfs: float, seed: int) -> np.ndarray:
    noise = white_noise(len(signal) * 1000 // 48000, noise_dbfs, seed=seed).astype(np.float64)
    return np.clip(signal.astype(np.float64) + noise, -32768, 32767).astype(np.int16)


async def test_a_louder_background_in_the_next_window_is_not_speech(make) -> None:  # type: ignore[no-untyped-def]
    """webrtcvad learns the background; each window starts afresh, so a line that got 20 dB noisier
    is not taken for speech (it used to be, for seconds: the window ended on max duration)."""
    listener = make(ScriptedEngine(BILLING), vad=VadSettings(no_input_ms=3000, max_speech_ms=5000))
    answer = np.concatenate([silence(1000), voiced_tone(600, dbfs=-12), silence(1500)])
    quiet = await listen(listener, GRAMMAR, over_noise(answer, -60, 1), lead_ms=0, tail_ms=0)
    loud = await listen(listener, GRAMMAR, over_noise(answer, -40, 2), lead_ms=0, tail_ms=0)
    for trace in (quiet, loud):
        assert trace.outcome == Recognized(BILLING)
        assert trace.speech_started is not None and 980 <= trace.speech_started.onset_ms <= 1020
        assert trace.speech_ended is not None and trace.speech_ended.reason is EndReason.SILENCE


# ----- early end: a short pause after a complete, confident answer --------------------------------------------


def feed_all(listener: SpeechListener, audio: np.ndarray, start_ms: int = 0) -> list[object]:
    return [e for i in range(0, len(audio) - 959, 960) for e in listener.feed(audio[i : i + 960], start_ms + i // 48)]


async def events_until_outcome(listener: SpeechListener) -> list[object]:
    out: list[object] = []
    async with asyncio.timeout(5):
        while not isinstance(out[-1] if out else None, (Recognized, NoMatch, NoInputTimeout)):
            out.append(await listener.next_event())
    return [e for e in out if not isinstance(e, PartialText)]


async def test_a_complete_confident_answer_ends_after_a_short_pause(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    listener = make(engine, vad=EARLY)
    listener.start(0, GRAMMAR)
    # 600 ms of speech, then only 400 ms of silence: less than the 700 ms trailing silence
    assert [type(e) for e in feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(400)]))] == [
        SpeechStarted
    ]
    events = await events_until_outcome(listener)
    assert events[1:] == [SpeechEnded(at_ms=1480, reason=EndReason.EARLY, speech_ms=720), Recognized(BILLING)]
    assert not listener.listening and engine.finals == 1
    # the recognizer got pre-roll + speech + webrtcvad's hangover + the pause so far, padded with that pause's own
    # audio to the whole 700 ms trailing silence: what the decode at the end of the trailing silence would get
    assert len(engine.heard[0]) == pytest.approx(2 * 16 * (300 + 600 + 120 + 700), abs=2 * 16 * 20)


async def test_speech_after_the_pause_goes_on_and_the_whole_answer_is_decoded(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    listener = make(engine, vad=replace(EARLY, max_speech_ms=5000))
    listener.start(0, GRAMMAR)
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(400)]))
    # the caller goes on before the early decode is back: that decode is dropped
    feed_all(listener, np.concatenate([voiced_tone(400), silence(900)]), start_ms=1500)
    events = await events_until_outcome(listener)
    assert events[1:] == [SpeechEnded(at_ms=2720, reason=EndReason.SILENCE, speech_ms=1520), Recognized(BILLING)]
    # the final decode replayed the whole window: pre-roll, both parts, the pause and 700 ms of trailing silence
    assert len(engine.heard[-1]) == pytest.approx(2 * 16 * (300 + 1520 + 700), abs=2 * 16 * 40)


@pytest.mark.parametrize(
    "grammar, answer",
    [
        (Grammar.of(["sales", "sales support"]), Result("sales", 0.9, (Word("sales", 0.9),), "sales")),
        (Grammar.of([], digits=True, min_digits=2, max_digits=4), Result("one two", 0.9, (), "one two", "12")),
        (GRAMMAR, Result("billing", 0.3, (Word("billing", 0.3),), "billing")),  # not confident
    ],
)
async def test_an_answer_that_may_go_on_or_is_unsure_waits_for_the_trailing_silence(  # type: ignore[no-untyped-def]
    make, grammar: Grammar, answer: Result
) -> None:
    engine = ScriptedEngine(answer)
    listener = make(engine, vad=EARLY)
    listener.start(0, grammar)
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(400)]))
    async with asyncio.timeout(5):
        while engine.finals == 0:  # the early decode ran ...
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert listener.listening  # ... and did not end the window
    ended = feed_all(listener, silence(500), start_ms=1500)
    assert ended == [SpeechEnded(at_ms=1920, reason=EndReason.SILENCE, speech_ms=720)]
    assert (await events_until_outcome(listener))[-1] == judge(answer, 0.5)


async def wait_finals(engine: ScriptedEngine, n: int) -> None:
    async with asyncio.timeout(5):
        while engine.finals < n:
            await asyncio.sleep(0.01)


async def test_the_decode_starts_during_the_pause_and_the_answer_ends_when_the_pause_is_long_enough(  # type: ignore[no-untyped-def]
    make,
) -> None:
    engine = ScriptedEngine(BILLING)
    listener = make(engine, vad=EARLY)
    listener.start(0, GRAMMAR)
    # speech, webrtcvad's 120 ms hangover, then 100 ms of the pause: the speculative decode runs already ...
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(240)]))
    await wait_finals(engine, 1)
    await asyncio.sleep(0.05)
    assert listener.listening  # ... but a 100 ms pause does not end an answer
    assert len(engine.heard[0]) == pytest.approx(2 * 16 * (300 + 600 + 120 + 700), abs=2 * 16 * 20)  # padded
    # the pause reaches 200 ms: the result is already there, the answer ends on that very frame
    ended = feed_all(listener, silence(160), start_ms=1340)
    assert [type(e) for e in ended] == []  # (the early end is an event of next_event, not of feed)
    events = await events_until_outcome(listener)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded, Recognized]
    assert events[1].reason is EndReason.EARLY and events[1].at_ms <= 1480
    assert engine.finals == 1 and listener.turn.early and listener.turn.speculated is not None


async def test_speech_resumed_after_the_speculative_decode_is_not_cut_off(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(BILLING)
    listener = make(engine, vad=replace(EARLY, max_speech_ms=5000))
    listener.start(0, GRAMMAR)
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(260)]))
    await wait_finals(engine, 1)  # decoded "billing" during a 120 ms pause ...
    feed_all(listener, np.concatenate([voiced_tone(400), silence(900)]), start_ms=1360)  # ... then spoke on
    events = await events_until_outcome(listener)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded, Recognized]
    assert events[1].reason is not EndReason.EARLY
    # the outcome is a decode of the whole answer (replayed: pre-roll, both parts, the pauses)
    assert len(engine.heard[-1]) >= 2 * 16 * (300 + 600 + 260 + 400)


async def test_a_complete_answer_just_under_the_threshold_ends_early_as_a_no_match(make) -> None:  # type: ignore[no-untyped-def]
    marginal = Result("billing", 0.45, (Word("billing", 0.45),), "billing")
    engine = ScriptedEngine(marginal)
    listener = make(engine, vad=EARLY)
    listener.start(0, GRAMMAR)
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(400)]))
    events = await events_until_outcome(listener)
    assert events[1:] == [
        SpeechEnded(at_ms=events[1].at_ms, reason=EndReason.EARLY, speech_ms=720),
        NoMatch(NoMatchReason.LOW_CONFIDENCE, marginal),
    ]
    assert engine.finals == 1


async def test_the_speculative_result_is_the_outcome_at_the_end_of_the_trailing_silence(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(Result("billing", 0.3, (Word("billing", 0.3),), "billing"))  # too unsure to end early
    listener = make(engine, vad=EARLY)
    listener.start(0, GRAMMAR)
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600), silence(400)]))
    await wait_finals(engine, 1)
    assert feed_all(listener, silence(500), start_ms=1500) == [
        SpeechEnded(at_ms=1920, reason=EndReason.SILENCE, speech_ms=720)
    ]
    events = await events_until_outcome(listener)
    assert events[-1] == NoMatch(NoMatchReason.LOW_CONFIDENCE, engine.answer)  # type: ignore[arg-type]
    assert engine.finals == 1 and listener.turn.reused  # no second decode of the same audio


async def test_on_a_noisy_line_the_end_of_the_trailing_silence_is_decoded_again(make) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(Result("billing", 0.3, (Word("billing", 0.3),), "billing"))
    listener = make(engine, vad=EARLY)
    listener.start(0, GRAMMAR)
    line = white_noise(3000, -60.0, seed=3)  # a quiet hiss: never speech, never twice the same 20 ms
    feed_all(listener, np.concatenate([silence(500), voiced_tone(600) + line[: 48 * 600], line[: 48 * 400]]))
    await wait_finals(engine, 1)
    feed_all(listener, line[48 * 1000 : 48 * 1500], start_ms=1500)
    events = await events_until_outcome(listener)
    assert events[-1] == NoMatch(NoMatchReason.LOW_CONFIDENCE, engine.answer)  # type: ignore[arg-type]
    # the padding was the pause's quietest frame, not this hiss: the whole window was decoded again, as it was
    assert engine.finals == 2 and not listener.turn.reused
    assert len(engine.heard[-1]) == pytest.approx(2 * 16 * (300 + 600 + 120 + 700), abs=2 * 16 * 40)


def test_complete_answers() -> None:
    digits = Grammar.of(["operator"], digits=True, min_digits=2, max_digits=4)
    assert complete(GRAMMAR, BILLING)
    assert not complete(None, BILLING)
    assert not complete(Grammar.of(["billing", "billing question"]), BILLING)
    assert complete(digits, Result("one two three four", 0.9, (), "", "1234"))
    assert not complete(digits, Result("one two three", 0.9, (), "", "123"))
    assert complete(digits, Result("operator", 0.9, (), "operator"))
    assert not complete(GRAMMAR, Result.nothing("hello"))
