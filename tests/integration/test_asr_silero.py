"""Silero VAD (``--vad silero``) on real speech: Allison Smith's prompt voice (Debian's asterisk-core-sounds-en-wav,
read in place, see bench/human_set.py) inside steady noise that covers the whole window.

The detector and the Endpointer are driven directly on 16 kHz (and 8 kHz) audio; the last test goes
through the real listener and recognizer. webrtcvad alone (without its noise-floor gate) runs the same
windows to the maximum: that contrast shows the tests can fail.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.human_set import ensure_installed, recording
from media.asr.grammar import Grammar
from media.asr.harness import listen, white_noise
from media.asr.listener import Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.silero_vad import MODELS, SileroClassifier, VadKind
from media.asr.sphinx_engine import SphinxEngine
from media.asr.vad import (
    Endpointer,
    EndReason,
    FrameClassifier,
    NoInputTimeout,
    SpeechEnded,
    SpeechStarted,
    VadEvent,
    VadSettings,
)
from media.audio import Audio, resample

S = VadSettings(max_speech_ms=4000, early_silence_ms=None)
LEAD_MS, TAIL_MS = 1000, 5000


@pytest.fixture(scope="module", autouse=True)
def sounds() -> None:
    ensure_installed()


def level_dbfs(x: np.ndarray) -> float:
    f = x.astype(np.float64)
    return float(10 * np.log10(np.mean(f * f) / 32768.0**2))


def in_noise(word: str, snr_db: float, rate: int = 16000, *, with_word: bool = True) -> tuple[np.ndarray, int, int]:
    """The word (at ``rate``) after LEAD_MS, then TAIL_MS, white noise ``snr_db`` under it over everything;
    also where the word starts and ends (ms)."""
    voice = resample(Audio(recording(word), 48000), rate).samples
    n_lead, n_tail = rate * LEAD_MS // 1000, rate * TAIL_MS // 1000
    clean = np.concatenate([np.zeros(n_lead, np.int16), voice, np.zeros(n_tail, np.int16)])
    noise = white_noise(len(clean) * 1000 // rate, level_dbfs(voice) - snr_db, rate=rate, seed=11)
    mix = noise[: len(clean)].astype(np.int32) + (clean if with_word else 0)
    return np.clip(mix, -32768, 32767).astype(np.int16), LEAD_MS, LEAD_MS + len(voice) * 1000 // rate


def run(classifier: FrameClassifier | SileroClassifier, signal: np.ndarray, rate: int = 16000) -> list[VadEvent]:
    ep = Endpointer(S)
    ep.start(0)
    n = rate * S.frame_ms // 1000
    events: list[VadEvent] = []
    try:
        for i in range(len(signal) // n):
            events += ep.frame(classifier.is_speech(signal[i * n : (i + 1) * n].tobytes()), i * S.frame_ms)
            if any(isinstance(e, (SpeechEnded, NoInputTimeout)) for e in events):
                break
    finally:
        classifier.close()
    return events


@pytest.mark.parametrize("snr_db", [20, 10])
def test_steady_noise_ends_the_utterance(snr_db: int) -> None:
    signal, start, end = in_noise("digits/day-1", snr_db)  # "monday"
    events = run(SileroClassifier(S), signal)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    started, ended = events
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert ended.reason is EndReason.SILENCE
    assert end <= ended.at_ms <= end + S.trailing_silence_ms + 300  # after the word, well before the maximum
    # webrtcvad alone calls this noise speech to the maximum (10 dB under; at 20 dB it ends late or not at all)
    alone = run(FrameClassifier(replace(S, noise_margin_db=None)), signal)
    if snr_db == 10:
        assert alone[-1] == SpeechEnded(alone[-1].at_ms, EndReason.MAX_DURATION, alone[-1].speech_ms)  # type: ignore[union-attr]


@pytest.mark.parametrize("word", ["digits/day-1", "digits/mon-3", "phonetic/t_p", "digits/7"])
def test_speech_inside_noise_is_found_where_it_is(word: str) -> None:
    signal, start, end = in_noise(word, 10)
    events = run(SileroClassifier(S), signal)
    started = next(e for e in events if isinstance(e, SpeechStarted))
    assert start - 100 <= started.onset_ms <= start + 150  # the pre-roll (300 ms) covers the rest
    ended = next(e for e in events if isinstance(e, SpeechEnded))
    assert ended.reason is EndReason.SILENCE and ended.at_ms >= end


def test_noise_alone_is_no_input() -> None:
    signal, _, _ = in_noise("digits/day-1", 10, with_word=False)
    assert run(SileroClassifier(S), signal) == [NoInputTimeout(at_ms=S.no_input_ms)]  # type: ignore[arg-type]


def test_at_8_khz() -> None:
    signal, start, end = in_noise("digits/day-1", 10, rate=8000)
    events = run(SileroClassifier(S, rate=8000), signal, rate=8000)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert events[1].reason is EndReason.SILENCE  # type: ignore[union-attr]


async def test_the_listener_with_silero_recognises_a_word_in_noise_and_gives_the_model_back(
    pool: RecognitionPool,
) -> None:
    engine = SphinxEngine(pool_size=1)
    noisy, _, _ = in_noise("digits/day-1", 10, rate=48000)
    grammar = Grammar.of(["monday", "tuesday", "friday"])
    loaded = None
    for _ in range(2):  # the second listener reuses the first one's model
        listener = SpeechListener(engine, pool, detector=VadKind.SILERO, label="test-silero")
        try:
            trace = await listen(listener, grammar, noisy, lead_ms=0, tail_ms=0)
        finally:
            await listener.close()
        assert isinstance(trace.outcome, Recognized) and trace.text == "monday"
        assert trace.speech_ended is not None and trace.speech_ended.reason is EndReason.SILENCE
        loaded = MODELS.loaded if loaded is None else loaded
    assert MODELS.loaded == loaded
