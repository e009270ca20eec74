"""One call's ears: the caller's audio into a speech listener, its outcomes into the flow.

The flow opens a listening window with ``Listen`` (a menu or a gather node
waiting for an answer); :meth:`CallSpeech.listen` opens the listener's
window with the grammar of that node. The call's audio task hands every
decoded frame to :meth:`CallSpeech.feed`, which costs nothing outside a
window. When the VAD decides the caller started speaking, ``feed`` calls
``on_speech`` at once, from that very frame: the call cuts a barge-in prompt
and the flow runner stops its no-input timer, so a long answer is not cut
short. The window's outcome becomes a ``Speech`` event for the interpreter:
the matched phrase (or a spoken number's digits) with its confidence, or
``Speech("")`` for anything that must not route (out of grammar, unsure,
too long). A window whose answer the flow confirms with the caller (a gather
read back, a menu that asks back) is judged at the engine's lower, confirmed
operating point; an answer under its usual threshold is marked ``unsure``,
so the flow asks it back whatever its confidence. If the flow is still listening after that (the answer came during
a prompt that cannot be interrupted, so the interpreter ignored it), the
window reopens.

Each question has a hard maximum for one answer (:func:`max_answer_ms`): a
menu word or a phrase is said in a few seconds, a number takes longer the more
digits it may have; anything longer is a no-match, so a caller on a line the
VAD keeps hearing as speech waits seconds, not the listener's 10 s default.

The clock is the call's own audio: milliseconds of audio fed, so VAD times
do not depend on how late the event loop is.

**Turn trace.** For every answer the call logs one line ``speech turn {json}``
when the next prompt is queued on the player: the listener's
:class:`~media.asr.listener.TurnTimes` (speculative decode, pause, end of the
utterance, the decode's queue wait and run, the outcome on the event loop),
when the answer went to the flow (``posted``) and when its next prompt was
queued (``prompt``), all monotonic seconds (one clock for every process of the
host: ``bench speech`` lines them up with the caller's own end of speech).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from gateway.flows.speech import grammar_for
from gateway.metrics import Metrics
from ivr.actions import Listen, ListenMode
from ivr.events import Event, Speech
from media.asr import NoMatch, Recognized, SpeechEnded, SpeechListener, SpeechStarted

log = logging.getLogger(__name__)

#: The longest answer to a menu (a word or a short phrase), and to a spoken number: a base plus per digit.
MENU_MAX_ANSWER_MS = 5_000
DIGITS_MAX_ANSWER_BASE_MS = 2_000
DIGITS_MAX_ANSWER_PER_DIGIT_MS = 750
MAX_ANSWER_MS = 10_000


def max_answer_ms(action: Listen) -> int:
    """The hard maximum of one spoken answer to this question (ms from its onset)."""
    if action.mode is ListenMode.MENU:
        return MENU_MAX_ANSWER_MS
    per_digit = DIGITS_MAX_ANSWER_BASE_MS + DIGITS_MAX_ANSWER_PER_DIGIT_MS * max(1, action.max_digits)
    return min(MAX_ANSWER_MS, max(MENU_MAX_ANSWER_MS, per_digit))


class CallSpeech:
    def __init__(
        self,
        listener: SpeechListener,
        *,
        post: Callable[[Event], None],
        on_speech: Callable[[], None],
        on_reopen: Callable[[], None],
        sample_rate: int = 48000,
        conversation_id: str = "",
        metrics: Metrics | None = None,
        strict: bool = False,
    ) -> None:
        self.listener = listener
        self._strict = strict  # the flow's speech_strictness: strict
        self.metrics = metrics if metrics is not None else Metrics()
        self._speech_ended: float | None = None  # monotonic time the VAD heard the answer end (decode latency)
        self._post = post
        self._on_speech = on_speech
        self._on_reopen = on_reopen
        self._rate = sample_rate
        self._samples = 0
        self._listen: Listen | None = None
        self._closed = False  # the call ended: its flow may still be on its way to a Listen it will never hear
        self._extra = {"conversation_id": conversation_id}
        self._conversation_id = conversation_id
        self._trace: dict[str, object] | None = None  # the last answer's turn, until its next prompt is queued
        self._pump = asyncio.create_task(self._run(), name=f"speech-{listener.label}")

    @property
    def now_ms(self) -> int:
        return self._samples * 1000 // self._rate

    def feed(self, samples: npt.NDArray[np.int16]) -> None:
        """A frame of the caller's audio (48 kHz mono int16)."""
        at = self.now_ms
        self._samples += len(samples)
        if self._listen is None:
            return
        for event in self.listener.feed(samples, at):
            if isinstance(event, SpeechStarted):
                self._on_speech()
            elif isinstance(event, SpeechEnded):
                self._speech_ended = time.monotonic()

    def listen(self, action: Listen) -> None:
        """Open a window for this ``Listen`` (replacing any open one); nothing to say for it: no window."""
        if self._closed:  # the call's end closed the listener while its runner was still executing a step
            return
        grammar = grammar_for(action, strict=self._strict)
        if grammar is None:
            self.stop_listening()
            return
        self._listen = action
        # The flow runner owns the no-input timer. An answer the flow reads back is taken at the engine's
        # confirmed operating point: the caller's "yes" is the last gate.
        threshold = self.listener.engine.confirm_confidence if action.confirm else None
        self.listener.start(
            self.now_ms, grammar, no_input_ms=None, min_confidence=threshold, max_speech_ms=max_answer_ms(action)
        )

    def stop_listening(self, listen_id: str | None = None) -> None:
        if self._listen is not None and listen_id in (None, self._listen.listen_id):
            self._listen = None
            self.listener.stop()

    async def _run(self) -> None:
        while True:
            try:
                event = await self.listener.next_event()
            except Exception as exc:  # noqa: BLE001 - a recognizer job failed: this window hears nothing, the call goes on
                log.error("speech recognition failed: %s", exc, extra=self._extra)
                self.stop_listening()
                continue
            if isinstance(event, SpeechEnded) and self._speech_ended is None:  # ended early, from a decode
                self._speech_ended = time.monotonic()
            listen = self._listen
            if listen is None or not isinstance(event, (Recognized, NoMatch)):
                continue
            ended, self._speech_ended = self._speech_ended, None
            self._trace = {
                "conversation_id": self._conversation_id,
                "kind": "recognized" if isinstance(event, Recognized) else str(event.reason),
                **self.listener.turn.as_dict(),
            }
            self.metrics.speech_decoded(
                "recognized" if isinstance(event, Recognized) else str(event.reason),
                None if ended is None else time.monotonic() - ended,
            )
            if isinstance(event, Recognized):
                got = event.result
                digits = listen.mode is ListenMode.DIGITS and got.digits
                # Taken only because the window was opened at the confirmed operating point: to be confirmed.
                unsure = listen.confirm and got.confidence < self.listener.min_confidence
                text = got.digits if digits and got.digits else got.text
                self._post(Speech(text, got.confidence, got.heard, unsure=unsure))
            else:
                guess = event.result
                self._post(
                    Speech(
                        "",
                        guess.confidence if guess is not None else 0.0,
                        guess.heard if guess is not None else "",
                        reason=str(event.reason),
                    )
                )
            self._trace["posted"] = time.monotonic()
            if self._listen is listen:  # still listening for the same node: reopen the window
                self.listen(listen)
                self._on_reopen()

    def prompt_queued(self) -> None:
        """The call queued a prompt: the first one after an answer ends that answer's turn trace (logged)."""
        trace, self._trace = self._trace, None
        if trace is not None:
            trace["prompt"] = time.monotonic()
            log.info("speech turn %s", json.dumps(trace), extra=self._extra)

    async def close(self) -> None:
        """Stop listening, end the pump, release the recognizer; a later :meth:`listen` opens nothing."""
        self._closed = True
        self._listen = None
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)
        await self.listener.close()
