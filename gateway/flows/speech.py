"""Speech recognition for the IVR: which engine a flow gets, each listening window's grammar, the flow check.

The node keeps one :class:`SpeechRecognition`: the process's
:class:`~media.asr.SpeechEngines` (each model loaded once, shared by every
call) and its :class:`~media.asr.RecognitionPool` (decoding never runs on
the event loop, at most one decode per core at a time).

A flow gets the engine its ``defaults`` pin (``speech_engine``,
``speech_language`` or ``language``), else the configured Vosk model, else
the pocketsphinx en-us model bundled in its wheel; ``speech_engine: none``
turns speech off (keys only). :meth:`SpeechRecognition.check` runs when a
flow file is loaded: a flow that wants an engine the node does not have, or
whose ``words`` / ``speech`` hints hold words the model cannot recognise, is
refused with ``file:line: node 'x': ...`` like any invalid flow, so nothing
fails at call time. Words of choice *labels* the model lacks are only
logged: callers can still press the key, and the engines leave such phrases
out of the grammar.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ivr.actions import Listen, ListenMode
from ivr.errors import ErrorCode, FlowError
from ivr.matching import spoken_phrases
from ivr.model import Channel, Confirm, Flow, GatherNode, MenuNode
from ivr.readback import confirm_choices
from media.asr import AsrError, Grammar, RecognitionPool, SpeechEngine, SpeechEngines, SpeechListener, VadKind
from media.asr.grammar import MAX_DIGITS, normalize
from media.asr.silero_vad import MODELS
from media.breaker import BreakerState, CircuitBreaker
from media.cores import usable_cores

log = logging.getLogger(__name__)


def grammar_for(listen: Listen, *, strict: bool = False) -> Grammar | None:
    """What the caller may say in this window: the menu's phrases, or a spoken number (plus any hints); None:
    nothing (keys only). ``strict``: the flow's ``speech_strictness: strict`` (the engine's stricter decision)."""
    if not listen.speech:
        return None
    if listen.mode is ListenMode.MENU:
        return Grammar.of(listen.speech_hints, strict=strict) if listen.speech_hints else None
    low = max(1, listen.min_digits)
    high = max(low, min(listen.max_digits, MAX_DIGITS))
    return Grammar.of(listen.speech_hints, digits=True, min_digits=low, max_digits=high, strict=strict)


class SpeechRecognition:
    """The node's engines and worker pool. ``engine_for`` and ``check`` may block (model loading)."""

    def __init__(self, engines: SpeechEngines, pool: RecognitionPool, vad: VadKind = VadKind.WEBRTC) -> None:
        self.engines = engines
        self.pool = pool
        self.vad = vad  # the speech detector every listener uses (setting ``vad``)
        self._by_pins: dict[tuple[str | None, str | None], SpeechEngine] = {}  # logged once per flow pins

    @classmethod
    def configure(
        cls,
        vosk_models: Sequence[str],
        data_dir: str | os.PathLike[str] | Path,
        workers: int | None = None,
        *,
        processes: int = 0,
        asr_url: str | None = None,
        asr_timeout_s: float | None = None,
        on_breaker: Callable[[str, BreakerState], None] | None = None,
        vad: str = VadKind.WEBRTC,
    ) -> SpeechRecognition:
        """From the settings: Vosk model paths or installed names (may be empty), the data directory, pocketsphinx's
        decoding processes (0: threads of this process, media/asr/sphinx_procs.py), the Wyoming speech server that
        recognises first (None: the local engine only) and the speech detector (``vad``: webrtc or silero; Silero's
        model is loaded here once); ``on_breaker("asr", state)`` is told when that server's circuit breaker opens
        or closes."""
        breaker = None
        if asr_url:
            report = on_breaker
            breaker = CircuitBreaker(
                f"asr {asr_url}", on_change=(lambda state: report("asr", state)) if report is not None else None
            )
        engines = SpeechEngines(
            vosk_models,
            data_dir=data_dir,
            sphinx_processes=processes,
            asr_url=asr_url,
            asr_timeout_s=asr_timeout_s,
            asr_breaker=breaker,
        )
        kind = VadKind(vad)
        if kind is VadKind.SILERO:
            MODELS.warm()
        # With decoding processes a lane's thread only waits for its process: one more thread per process, so the
        # other calls' cheap jobs (audio for their recognizer, a new window) never wait behind those waits.
        return cls(engines, RecognitionPool(workers or usable_cores() + max(processes, 0)), kind)

    def engine_for(self, flow: Flow) -> SpeechEngine | None:
        """The shared engine this flow listens with (None: the flow takes keys only). Raises AsrError."""
        if not flow.defaults.speech_enabled:
            return None
        pins = (flow.defaults.speech_engine, flow.defaults.recognition_language)
        found = self._by_pins.get(pins)
        if found is None:
            found = self._by_pins[pins] = self.engines.get(*pins, flow=flow.name)
        return found

    def listener(self, flow: Flow, label: str) -> SpeechListener | None:
        """A listener for one call in ``flow`` (None when the flow takes keys only or its engine is gone)."""
        try:
            engine = self.engine_for(flow)
        except AsrError as exc:  # checked when the flow was loaded; only a changed configuration gets here
            log.error("flow %s: no speech recognition: %s", flow.name, exc.message)
            return None
        return None if engine is None else SpeechListener(engine, self.pool, detector=self.vad, label=label)

    def check(self, flow: Flow) -> list[FlowError]:
        """Problems that make ``flow`` unusable for speech on this node (empty: fine). Blocks on a first load."""
        where = str(flow.source)
        try:
            engine = self.engine_for(flow)
        except AsrError as exc:
            return [
                FlowError(
                    where,
                    flow.defaults.line or None,
                    None,
                    f"{exc.message} (or set 'speech_engine: none' in defaults for keys only)",
                    ErrorCode.SPEECH,
                )
            ]
        if engine is None:
            return []
        errors: list[FlowError] = []
        for node in flow.nodes.values():
            if isinstance(node, MenuNode):
                choices = [c for c in node.choices if c.only is not Channel.CHAT]
                explicit = spoken_phrases(choices, node.input.speech, labels=False)
            elif isinstance(node, GatherNode):
                choices = []
                explicit = tuple(node.input.speech)
                if node.confirm is not Confirm.NEVER:  # the read-back question's yes / no words
                    explicit += spoken_phrases(confirm_choices(flow.defaults.recognition_language), labels=False)
            else:
                continue
            unknown = engine.unknown_words(normalize(p) for p in explicit)
            if unknown:
                listed = ", ".join(f"'{w}'" for w in unknown)
                errors.append(
                    FlowError(
                        where,
                        node.line,
                        node.name,
                        f"the speech recognizer ({engine.name} {engine.language}) does not know {listed}: callers "
                        f"could never say {'it' if len(unknown) == 1 else 'them'}; use other words, or pin "
                        f"another speech_engine / speech_language",
                        ErrorCode.SPEECH,
                    )
                )
            # A label is said only when the recognizer knows all its words ("After 5 PM": not the "5"). That matters
            # only for a choice with no other phrase: its callers must press the key.
            for choice in choices:
                phrases = spoken_phrases([choice])
                if phrases and all(engine.unknown_words([normalize(p)]) for p in phrases):
                    log.warning(
                        "%s:%d: node '%s': choice %s (%r) cannot be said: the recognizer (%s %s) does not know %s; "
                        "callers can press the key, or give the choice words",
                        where,
                        node.line,
                        node.name,
                        choice.key,
                        choice.label,
                        engine.name,
                        engine.language,
                        ", ".join(f"'{w}'" for w in engine.unknown_words(normalize(p) for p in phrases)),
                    )
        return errors

    def close(self) -> None:
        self.pool.shutdown()
        self.engines.close()
