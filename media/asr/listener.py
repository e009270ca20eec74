"""What a call uses to listen: VAD endpointing in front of a recognizer, off the event loop.

One :class:`SpeechListener` per call; each listening window (a gather or
menu node waiting for an answer) opens with :meth:`~SpeechListener.start`
and runs until its terminal event:

1. The call's decoded audio (48 kHz mono int16, any chunk size, usually
   20 ms) goes to :meth:`~SpeechListener.feed`, which resamples it to 16 kHz
   (PyAV, ``pts`` cleared) and runs the speech detector (webrtcvad, or Silero:
   ``detector``) and the :class:`~media.asr.vad.Endpointer` on it, on the event loop.
   Outside a window ``feed`` does nothing at all.
2. Until speech starts, audio only fills a small pre-roll ring
   (``pre_roll_ms``); the recognizer sees nothing, so silence costs no
   decoding. :class:`~media.asr.vad.SpeechStarted` is *returned by the
   very ``feed`` call whose frame decided it* (barge-in: stop the prompt
   now) and the pre-roll plus everything after it goes to the recognizer
   in ``chunk_ms`` pieces.
3. All recognizer work (creating it, ``accept``, ``final``, ``reset``)
   runs in this call's :class:`~media.asr.pool.SerialLane` of the shared
   :class:`~media.asr.pool.RecognitionPool`, never on the event loop.
4. **Early end, decoded speculatively.** A short pause (``speculate_ms``,
   100 ms counted after the VAD's 120 ms hangover) starts a decode of what
   was said *while the silence keeps being measured*. That decode is given
   the audio padded to the whole ``trailing_silence_ms`` (700 ms) with the
   pause's quietest frame repeated (the line's background), so it sees what
   the decode at the end of the trailing silence would see if the caller
   stays quiet (byte for byte on a digitally silent line): the early end
   does not change an outcome, it brings it sooner (the old early decode of
   a 320 ms tail moved confidences by up to 0.06 either way: "billing"
   0.85 early against 0.80 at the full silence). Once
   the pause reaches ``early_silence_ms`` (200 ms, :class:`~media.asr.vad.SpeechPaused`)
   and that result is back, the utterance ends there (``SpeechEnded``
   reason ``early``) if the result is *complete* (:func:`complete`: a menu
   phrase no longer phrase starts with, or a digit string of
   ``max_digits``) and either confident (:class:`Recognized`) or within
   :data:`EARLY_NO_MATCH_MARGIN` under the threshold (a :class:`NoMatch`
   ``low_confidence``: VoiceXML's ``completetimeout``, which applies to
   any complete grammar match, confident or not). If the caller speaks
   again the speculative result is dropped; the recognizer then no longer
   holds the utterance (``final`` consumed it), so the next decode replays
   the window's audio (kept by the listener, bounded by ``max_speech_ms``).
   If the silence runs to ``trailing_silence_ms`` with no speech since the
   speculation and sounds exactly like the padding (digital silence), the
   speculative result *is* the outcome (the decoder's input was the same
   bytes); otherwise the whole window is decoded as before.
5. Every window ends with exactly one terminal event:
   :class:`Recognized` (in grammar, confidence >= ``min_confidence``),
   :class:`NoMatch` (empty, out of grammar, low confidence, or longer than
   ``max_speech_ms``: the flow should re-prompt, never route) or
   :class:`~media.asr.vad.NoInputTimeout`.

Events: ``feed``/``poll`` return the synchronous ones (speech started or
ended, no-input) and :meth:`~SpeechListener.next_event` yields *every*
event (those too, plus :class:`PartialText` and the outcome). Partials come
from the worker and may arrive after ``SpeechEnded``; the terminal event is
always the last of its window.

Thread-safety: call every method from the event loop thread that called
:meth:`~SpeechListener.start`. Worker threads only touch the recognizer
and hand events back with ``loop.call_soon_threadsafe``; results of a
window that was stopped or replaced meanwhile are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from media.asr.engine import SAMPLE_RATE, Recognizer, Result, SpeechEngine
from media.asr.grammar import Grammar
from media.asr.pool import RecognitionPool
from media.asr.silero_vad import VadKind, classifier_for
from media.asr.vad import (
    FROM_SETTINGS,
    Endpointer,
    EndReason,
    NoInputTimeout,
    SpeechEnded,
    SpeechPaused,
    SpeechStarted,
    UseSettings,
    VadSettings,
    VadState,
)

log = logging.getLogger(__name__)


class NoMatchReason(StrEnum):
    EMPTY = "empty"  # the recognizer heard no word
    OUT_OF_GRAMMAR = "out_of_grammar"  # it heard words, but not exactly an allowed phrase
    LOW_CONFIDENCE = "low_confidence"  # an allowed phrase, below min_confidence
    MAX_DURATION = "max_duration"  # the caller spoke longer than max_speech_ms (not decoded)


@dataclass(frozen=True)
class PartialText:
    """An interim hypothesis (Vosk only); informational, never act on it."""

    text: str


@dataclass(frozen=True)
class Recognized:
    """The answer: ``result.text`` is an allowed phrase with ``result.confidence >= min_confidence``."""

    result: Result


@dataclass(frozen=True)
class NoMatch:
    """Something was said, but it must not route: re-prompt. ``result`` is None for ``max_duration``."""

    reason: NoMatchReason
    result: Result | None = None


#: A complete answer this close under the window's threshold ends early too, as a no-match (see the module docstring).
EARLY_NO_MATCH_MARGIN = 0.1


@dataclass
class DecodeTimes:
    """One decode job, monotonic seconds: submitted to the call's lane, started by a worker, done."""

    queued: float
    started: float | None = None
    done: float | None = None


@dataclass
class TurnTimes:
    """Where one window's answer spent its time (monotonic seconds, comparable across processes on a host).

    ``speculated``: the speculative decode was submitted; ``paused``: the pause reached ``early_silence_ms``;
    ``ended``: the utterance was declared over (``early`` or not); ``decode``: the decode whose result became
    the outcome (``reused``: the speculative one served the full trailing silence); ``outcome``: the terminal
    event was queued on the event loop. Filled by the listener; the call adds what follows (flow, prompt).
    """

    speculated: float | None = None
    paused: float | None = None
    ended: float | None = None
    early: bool = False
    reused: bool = False
    decode: DecodeTimes | None = None
    outcome: float | None = None
    speculations: int = 0  # speculative decodes started this window (more than one: the caller went on)

    def as_dict(self) -> dict[str, float | bool | int | None]:
        d = self.decode
        return {
            "speculated": self.speculated,
            "paused": self.paused,
            "ended": self.ended,
            "early": self.early,
            "reused": self.reused,
            "decode_queued": d.queued if d else None,
            "decode_started": d.started if d else None,
            "decode_done": d.done if d else None,
            "outcome": self.outcome,
            "speculations": self.speculations,
        }


ListenerEvent = SpeechStarted | SpeechEnded | NoInputTimeout | PartialText | Recognized | NoMatch
#: The events that end a window (exactly one per window).
TERMINAL_EVENTS = (Recognized, NoMatch, NoInputTimeout)


def complete(grammar: Grammar | None, result: Result) -> bool:
    """Whether ``result`` is a whole answer the caller cannot be about to extend (early end allowed).

    A phrase is complete unless a longer allowed phrase starts with it ("sales" when "sales support"
    is allowed too); a digit string only at the grammar's ``max_digits``. Free dictation never is.
    """
    if grammar is None or not result.in_grammar:
        return False
    if result.text in grammar.phrases:
        return not any(p.startswith(result.text + " ") for p in grammar.phrases)
    return grammar.digits and result.digits is not None and len(result.digits) >= grammar.max_digits


def judge(result: Result, min_confidence: float) -> Recognized | NoMatch:
    """Turn a recognizer result into the window's outcome: a misroute is worse than a retry."""
    if not result.in_grammar:
        return NoMatch(NoMatchReason.OUT_OF_GRAMMAR if result.heard else NoMatchReason.EMPTY, result)
    if result.confidence < min_confidence:
        return NoMatch(NoMatchReason.LOW_CONFIDENCE, result)
    return Recognized(result)


class SpeechListener:
    """Per-call listening: see the module docstring. ``min_confidence`` defaults to the engine's.

    ``detector`` flags the frames: webrtcvad with its noise-floor gate, or Silero (media/asr/silero_vad.py).
    """

    def __init__(
        self,
        engine: SpeechEngine,
        pool: RecognitionPool,
        *,
        min_confidence: float | None = None,
        vad: VadSettings | None = None,
        detector: VadKind = VadKind.WEBRTC,
        input_rate: int = 48000,
        chunk_ms: int = 100,
        speculate_ms: int | None = 100,
        label: str = "",
    ) -> None:
        self.engine = engine
        self.settings = vad or VadSettings()
        self.min_confidence = engine.min_confidence if min_confidence is None else min_confidence
        self.input_rate = input_rate
        self.label = label
        #: Consecutive silence (after the VAD's hangover) that starts the speculative decode; None or at least
        #: ``early_silence_ms``: decode when the pause reaches ``early_silence_ms`` (no speculation).
        self.speculate_ms = speculate_ms
        self._lane = pool.lane()
        self.detector = detector
        self._classifier = classifier_for(detector, self.settings)
        self._endpointer = Endpointer(self.settings)
        self._resampler: av.AudioResampler | None = None
        self._frame_bytes = self.settings.frame_samples * 2
        self._chunk_bytes = max(chunk_ms * SAMPLE_RATE // 1000 * 2, self._frame_bytes)
        ring = (self.settings.pre_roll_ms + self.settings.start_window_ms) // self.settings.frame_ms + 2
        self._preroll: deque[tuple[int, bytes]] = deque(maxlen=ring)
        self._pending = bytearray()
        self._chunk = bytearray()
        self._frame_t: int | None = None
        self._window = 0
        self._open = False
        self._speaking = False
        self._window_min_confidence = self.min_confidence
        self._grammar: Grammar | None = None
        self._audio = bytearray()  # everything given to the recognizer this window (for a replay)
        self._stale = False  # the recognizer's utterance was consumed by an early try: replay before decoding
        self._onset_ms = 0
        self._last_speech_end = 0  # end of the last speech frame (as the endpointer counts it)
        self._quiet_ms = 0  # consecutive non-speech while speaking
        self._spec_key: int | None = None  # the pause (its speech end) a speculative decode was started for
        self._spec_outcome: tuple[int, Recognized | NoMatch, DecodeTimes] | None = None  # its result, when back
        self._paused_key: int | None = None  # the pause that reached early_silence_ms
        self._spec_pad = b""  # the padding the speculative decode got, and where in the window's audio it began
        self._spec_at = 0
        self.turn = TurnTimes()  # this window's timings (a new object per window)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[ListenerEvent | BaseException] = asyncio.Queue()
        self._closed = False
        # Touched only by lane jobs (one at a time).
        self._recognizer: Recognizer | None = None
        self._spec_result: tuple[int, int, Recognized | NoMatch] | None = None  # (window, pause, outcome)
        log.info("speech listener %s: %s", label or "-", engine.describe())

    # ----- event loop side -------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """A window is open and has not produced its terminal event's cause yet."""
        return self._open and self._endpointer.state is not VadState.ENDED

    def start(
        self,
        now_ms: int,
        grammar: Grammar | None,
        *,
        no_input_ms: int | None | UseSettings = FROM_SETTINGS,
        min_confidence: float | None = None,
        max_speech_ms: int | None = None,
    ) -> None:
        """Open a listening window at ``now_ms`` for ``grammar`` (closing any open one).

        ``max_speech_ms``: this question's hard maximum for an utterance (default: the settings').
        """
        if self._closed:
            raise RuntimeError("the speech listener is closed")
        self._loop = asyncio.get_running_loop()
        self._close_window()  # the new window's _prepare resets the recognizer (one reset per window)
        self._window += 1
        self._open = True
        self._speaking = False
        self._window_min_confidence = self.min_confidence if min_confidence is None else min_confidence
        self._grammar = grammar
        self._audio.clear()
        self._stale = False
        self._spec_key = self._paused_key = self._spec_outcome = None
        self._quiet_ms = 0
        self.turn = TurnTimes()
        self._pending.clear()
        self._chunk.clear()
        self._preroll.clear()
        self._frame_t = None
        # A fresh resampler per window: nothing of the previous window's audio leaks into this one,
        # so the same audio always gives the same frames (and the same result).
        self._resampler = (
            av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE) if self.input_rate != SAMPLE_RATE else None
        )
        while not self._queue.empty():  # leftovers of an earlier window
            self._queue.get_nowait()
        self._classifier.reset()  # a fresh noise estimate per window (see vad.FrameClassifier)
        self._endpointer.start(now_ms, no_input_ms, max_speech_ms)
        self._job(self._prepare, grammar)
        log.debug("listener %s window %d opened at %d ms", self.label, self._window, now_ms)

    def arm_no_input(self, now_ms: int, timeout_ms: int | None) -> None:
        """(Re)start the no-input timer, e.g. when the prompts before the window have finished."""
        self._endpointer.arm_no_input(now_ms, timeout_ms)

    def feed(self, samples: npt.NDArray[np.int16], now_ms: int) -> list[ListenerEvent]:
        """Audio of the call starting at ``now_ms``; returns the VAD events it caused (cheap, non-blocking)."""
        if not self.listening:
            return []
        pcm = self._to_16k(samples)
        if not self._pending or self._frame_t is None:
            self._frame_t = now_ms
        self._pending += pcm
        events: list[ListenerEvent] = []
        fb = self._frame_bytes
        while len(self._pending) >= fb and self.listening:
            frame = bytes(self._pending[:fb])
            del self._pending[:fb]
            t = self._frame_t
            self._frame_t = t + self.settings.frame_ms
            speech = self._classifier.is_speech(frame)
            if self._speaking:
                self._chunk += frame
                if len(self._chunk) >= self._chunk_bytes:
                    self._send_chunk()
                self._count_silence(speech, t + self.settings.frame_ms)
            else:
                self._preroll.append((t, frame))
            for event in self._endpointer.frame(speech, t):
                if isinstance(event, SpeechPaused):
                    self._on_pause(event)
                else:
                    events.append(self._on_vad(event))
        return events

    def poll(self, now_ms: int) -> list[ListenerEvent]:
        """Fire timers when no audio arrives (the call's audio stalled)."""
        if not self.listening:
            return []
        return [self._on_vad(e) for e in self._endpointer.advance(now_ms) if not isinstance(e, SpeechPaused)]

    async def next_event(self) -> ListenerEvent:
        """The next event of the current window (raises what a recognizer job raised)."""
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        """Close the window now, without an outcome (the answer came as DTMF, the flow moved on)."""
        if self._close_window():
            self._job(self._reset)

    def _close_window(self) -> bool:
        """Close the open window (False: none was open); the recognizer is reset by the caller's next job."""
        if not self._open:
            return False
        self._open = False
        self._speaking = False
        self._audio.clear()
        self._endpointer.stop()
        self._window += 1  # anything still running for the old window is dropped on delivery
        return True

    async def close(self) -> None:
        """Stop, wait for this call's recognizer work to finish, and release the recognizer."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        self._classifier.close()
        await asyncio.wrap_future(self._lane.submit(self._release))

    # ----- internals (event loop) ------------------------------------------------------------------

    def _to_16k(self, samples: npt.NDArray[np.int16]) -> bytes:
        data = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        if self._resampler is None:
            return data.tobytes()
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.input_rate
        frame.pts = None  # swresample must not try to honour timing
        return b"".join(bytes(f.to_ndarray().reshape(-1).tobytes()) for f in self._resampler.resample(frame))

    def _on_vad(self, event: SpeechStarted | SpeechEnded | NoInputTimeout) -> ListenerEvent:
        if isinstance(event, SpeechStarted):
            self._speaking = True
            self._onset_ms = event.onset_ms
            self._last_speech_end = event.at_ms
            self._quiet_ms = 0
            first = event.onset_ms - self.settings.pre_roll_ms
            audio = b"".join(frame for t, frame in self._preroll if t >= first)
            self._preroll.clear()
            self._give(audio)
            log.debug("listener %s: speech started at %d ms (onset %d)", self.label, event.at_ms, event.onset_ms)
        elif isinstance(event, SpeechEnded):
            self._speaking = False
            self.turn.ended = time.monotonic()
            log.debug("listener %s: speech ended at %d ms (%s)", self.label, event.at_ms, event.reason)
            self._post(self._window, event)
            if event.reason is EndReason.SILENCE:
                self._send_chunk()
                # No speech since the speculative decode started: its result is this outcome (same audio).
                # (The rest of the silence must be byte for byte the padding it was decoded with: then the decoder's
                # input was the same, and so is its result. Digital silence is; a noisy line's background is not.)
                key = self._onset_ms + event.speech_ms
                same = self._spec_key == key and self._audio[self._spec_at :] == self._spec_pad
                reuse = key if same else None
                self._job(self._finish, self._window_min_confidence, self._replay(), reuse, self._times())
            else:
                self._chunk.clear()
                self._audio.clear()
                self._job(self._reset)
                self._post(self._window, NoMatch(NoMatchReason.MAX_DURATION))
            return event
        self._post(self._window, event)
        return event

    def _send_chunk(self) -> None:
        if self._chunk:
            self._give(bytes(self._chunk))
            self._chunk.clear()

    def _give(self, audio: bytes) -> None:
        """Audio of the utterance for the recognizer (kept for a replay; held back once it is stale)."""
        self._audio += audio
        if not self._stale:
            self._job(self._accept, audio)

    def _replay(self) -> bytes | None:
        """The window's audio when the recognizer must be fed it again before a decode, else None.

        Either way the recognizer's utterance is consumed by the decode that follows: stale from now on.
        """
        replay = bytes(self._audio) if self._stale else None
        self._stale = True
        return replay

    def _count_silence(self, speech: bool, frame_end: int) -> None:
        """Track the pause the endpointer counts; start the speculative decode when it reaches ``speculate_ms``."""
        if speech:
            self._last_speech_end = frame_end
            self._quiet_ms = 0
            return
        self._quiet_ms += self.settings.frame_ms
        early = self.settings.early_silence_ms
        if self.speculate_ms is not None and early is not None and self._quiet_ms == self.speculate_ms < early:
            self._speculate()

    def _speculate(self) -> None:
        """Decode what was said, padded to the whole trailing silence, while the pause goes on."""
        if self._grammar is None or self.settings.early_silence_ms is None or self._spec_key == self._last_speech_end:
            return
        self._send_chunk()
        self._spec_key = self._last_speech_end
        self._spec_outcome = None
        self.turn.speculated = time.monotonic()
        self.turn.speculations += 1
        pad = self._padding(self.settings.trailing_silence_ms - self._quiet_ms)
        self._spec_pad, self._spec_at = pad, len(self._audio)
        self._job(self._early, self._window_min_confidence, self._replay(), self._spec_key, pad, self._times())

    def _padding(self, ms: int) -> bytes:
        """``ms`` of what the rest of the silence will sound like: the quietest frame of the pause, repeated.

        The line's background, not digital silence (on a noisy line zeros would move the decoder's noise floor);
        the quietest frame, not the whole pause: its first frames still carry the tail of the last word.
        """
        want = max(ms, 0) * SAMPLE_RATE // 1000 * 2
        if not want:
            return b""
        fb = self._frame_bytes
        quiet_bytes = min(self._quiet_ms * SAMPLE_RATE // 1000 * 2, len(self._audio)) // fb * fb
        if not quiet_bytes:
            return bytes(want)
        frames = np.frombuffer(bytes(self._audio[-quiet_bytes:]), dtype=np.int16).reshape(-1, fb // 2)  # a copy
        energy = (frames.astype(np.float64) ** 2).sum(axis=1)
        quietest = frames[int(np.argmin(energy))].tobytes()
        return (quietest * (want // fb + 1))[:want]

    def _on_pause(self, paused: SpeechPaused) -> None:
        """The pause reached ``early_silence_ms``: end now if the speculative result allows it (else when it comes)."""
        if self._grammar is None or self.settings.early_silence_ms is None:
            return
        self.turn.paused = time.monotonic()
        self._paused_key = paused.speech_end_ms
        if self._spec_key != paused.speech_end_ms:  # no speculation for this pause (speculate_ms off or missed)
            self._last_speech_end = paused.speech_end_ms
            self._speculate()
        self._maybe_end_early()

    def _early_outcome(self, window: int, key: int, outcome: Recognized | NoMatch, times: DecodeTimes) -> None:
        """Back on the event loop: keep the speculative result; end now if the pause is long enough already."""
        if window != self._window or not self._open or key != self._spec_key:
            return
        self._spec_outcome = (key, outcome, times)
        self._maybe_end_early()

    def _ends_early(self, outcome: Recognized | NoMatch) -> bool:
        if isinstance(outcome, Recognized):
            return complete(self._grammar, outcome.result)
        result = outcome.result
        return (
            outcome.reason is NoMatchReason.LOW_CONFIDENCE
            and result is not None
            and result.confidence >= self._window_min_confidence - EARLY_NO_MATCH_MARGIN
            and complete(self._grammar, result)
        )

    def _maybe_end_early(self) -> None:
        spec = self._spec_outcome
        if spec is None or self._paused_key != spec[0] or not self._ends_early(spec[1]):
            return
        key, outcome, times = spec
        at = self._frame_t if self._frame_t is not None else key
        ended = self._endpointer.end_early(key, at)
        if ended is None:
            return  # the caller spoke again: the window goes on
        self._speaking = False
        self._chunk.clear()
        self._audio.clear()
        now = time.monotonic()
        self.turn.ended, self.turn.early, self.turn.decode, self.turn.outcome = now, True, times, now
        log.debug("listener %s: speech ended early at %d ms", self.label, ended.at_ms)
        self._post(self._window, ended)
        self._post(self._window, outcome)

    def _times(self) -> DecodeTimes:
        return DecodeTimes(time.monotonic())

    def _job(self, fn: Callable[..., None], *args: Any) -> None:
        self._lane.submit(self._guarded, self._window, fn, *args)

    def _post(self, window: int, item: ListenerEvent | BaseException) -> None:
        if window == self._window:
            self._queue.put_nowait(item)

    def _post_outcome(self, window: int, outcome: Recognized | NoMatch, times: DecodeTimes, reused: bool) -> None:
        if window == self._window:
            self.turn.decode, self.turn.reused, self.turn.outcome = times, reused, time.monotonic()
            self._queue.put_nowait(outcome)

    def _post_threadsafe(self, window: int, item: ListenerEvent | BaseException) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._post, window, item)

    # ----- internals (worker threads, one job at a time per listener) ------------------------------

    def _guarded(self, window: int, fn: Callable[..., None], *args: Any) -> None:
        if window != self._window and fn != self._reset:  # == : each self._reset is a new bound method object
            return  # the window was stopped or replaced: skip its work
        try:
            fn(window, *args)
        except Exception as exc:  # re-raised by next_event(), not swallowed
            log.exception("listener %s: recognizer job %s failed", self.label, getattr(fn, "__name__", fn))
            self._post_threadsafe(window, exc)

    def _prepare(self, window: int, grammar: Grammar | None) -> None:
        if self._recognizer is None:
            self._recognizer = self.engine.recognizer(grammar)
        else:
            self._recognizer.reset(grammar)

    def _accept(self, window: int, audio: bytes) -> None:
        if self._recognizer is None or not audio:
            return
        partial = self._recognizer.accept(audio)
        if partial is not None and partial.text:
            self._post_threadsafe(window, PartialText(partial.text))

    def _decode(self, replay: bytes | None, pad: bytes = b"") -> Result | None:
        if self._recognizer is None:
            return None
        if replay is not None:
            self._recognizer.reset()
            self._recognizer.accept(replay)
        if pad:
            self._recognizer.accept(pad)
        return self._recognizer.final()

    def _early(
        self, window: int, min_confidence: float, replay: bytes | None, key: int, pad: bytes, times: DecodeTimes
    ) -> None:
        times.started = time.monotonic()
        result = self._decode(replay, pad)
        times.done = time.monotonic()
        if result is None:
            return
        outcome = judge(result, min_confidence)
        self._spec_result = (window, key, outcome)
        self._log(outcome, result, "speculative ")
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._early_outcome, window, key, outcome, times)

    def _finish(
        self,
        window: int,
        min_confidence: float,
        replay: bytes | None = None,
        reuse: int | None = None,
        times: DecodeTimes | None = None,
    ) -> None:
        times = times or DecodeTimes(time.monotonic())
        spec = self._spec_result
        if reuse is not None and spec is not None and spec[:2] == (window, reuse):
            times.started = times.done = time.monotonic()
            self._post_outcome_threadsafe(window, spec[2], times, True)
            return
        times.started = time.monotonic()
        result = self._decode(replay)
        times.done = time.monotonic()
        if result is None:
            return
        outcome = judge(result, min_confidence)
        self._log(outcome, result, "")
        self._post_outcome_threadsafe(window, outcome, times, False)

    def _post_outcome_threadsafe(
        self, window: int, outcome: Recognized | NoMatch, times: DecodeTimes, reused: bool
    ) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._post_outcome, window, outcome, times, reused)

    def _log(self, outcome: Recognized | NoMatch, result: Result, what: str) -> None:
        log.info(
            "listener %s: %s%s %r confidence %.2f (heard %r) by %s %s",
            self.label,
            what,
            "recognized" if isinstance(outcome, Recognized) else f"no-match ({outcome.reason})",
            result.text,
            result.confidence,
            result.heard,
            self.engine.name,
            self.engine.language,
        )

    def _reset(self, window: int) -> None:
        if self._recognizer is not None:
            self._recognizer.reset()

    def _release(self) -> None:
        if self._recognizer is not None:
            self._recognizer.close()
            self._recognizer = None
