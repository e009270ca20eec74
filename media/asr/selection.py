"""Which engine a flow gets: the configured Vosk model(s), else pocketsphinx en-us.

:class:`SpeechEngines` is the process's set of engines (the gateway keeps
one in its app state). Engines are made on first use and shared by every
call: a Vosk model is loaded once per path, pocketsphinx keeps one small
decoder pool. Construction only resolves and checks paths; loading happens
in :meth:`SpeechEngines.get`, which blocks (seconds for a Vosk model): call
it from a worker thread, e.g. when validating flows at startup.

A flow may pin ``engine`` (``"vosk"`` or ``"pocketsphinx"``) and
``language``; with neither it gets the configured Vosk model if there is
one, else pocketsphinx (English only). A flow that asks for something not
configured fails at validation with an :class:`AsrError` saying what to
configure, never at call time. Every choice is logged with the engine and
model path.

With ``asr_url`` (a Wyoming speech server, ``tcp://host:10300``) every
engine handed out is a :class:`~media.asr.wyoming_engine.WyomingEngine` in
front of the local one chosen as above: the server recognises, the local
engine answers when it fails. One circuit breaker (``asr_breaker``) covers
the server for every language.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from media.asr.engine import SpeechEngine
from media.asr.errors import AsrError
from media.asr.grammar import base_language
from media.asr.models import resolve
from media.breaker import CircuitBreaker
from media.cores import usable_cores

log = logging.getLogger(__name__)

VOSK = "vosk"
POCKETSPHINX = "pocketsphinx"
ENGINE_NAMES = (VOSK, POCKETSPHINX)
_ALIASES = {"sphinx": POCKETSPHINX, "pocketsphinx": POCKETSPHINX, "vosk": VOSK}


def _guess(path: Path) -> str | None:
    from media.asr.vosk_engine import guess_language

    return guess_language(path)


class SpeechEngines:
    """The engines of one process. Thread-safe.

    ``vosk_models``: model directories or names of installed models
    (``DATA_DIR/models/NAME``), e.g. from ``VOSK_MODEL`` split on
    ``os.pathsep``; each one's language comes from its name unless
    ``vosk_languages`` gives it (same order). ``sphinx_pool_size``: at most
    this many pocketsphinx decoders (default: the CPU count);
    ``sphinx_processes``: run pocketsphinx's grammar searches in that many
    worker processes instead (media/asr/sphinx_procs.py; :meth:`close` stops them).
    """

    def __init__(
        self,
        vosk_models: Sequence[str | os.PathLike[str]] = (),
        *,
        vosk_languages: Sequence[str | None] = (),
        data_dir: str | os.PathLike[str] | None = None,
        sphinx_pool_size: int | None = None,
        sphinx_processes: int = 0,
        asr_url: str | None = None,
        asr_timeout_s: float | None = None,
        asr_breaker: CircuitBreaker | None = None,
    ) -> None:
        if asr_url:
            from media.asr.wyoming_engine import parse_url

            parse_url(asr_url)  # a bad URL fails at startup
        self.asr_url = asr_url or None
        self.asr_timeout_s = asr_timeout_s
        self.asr_breaker = (asr_breaker or CircuitBreaker(f"asr {asr_url}")) if asr_url else None
        self._lock = threading.Lock()
        self._engines: dict[tuple[str, str], SpeechEngine] = {}
        self._sphinx_pool_size = sphinx_pool_size or usable_cores()
        self._sphinx_processes = sphinx_processes
        self.vosk_paths: dict[str, Path] = {}
        for i, model in enumerate(vosk_models):
            path = resolve(model, data_dir)
            given = vosk_languages[i] if i < len(vosk_languages) else None
            language = given or _guess(path)
            if not language:
                raise AsrError(
                    f"cannot tell the language of the Vosk model {str(path)!r}: configure it",
                    code="asr_unknown_language",
                )
            lang = base_language(language)
            if lang in self.vosk_paths:
                raise AsrError(
                    f"two Vosk models for language {lang!r}: {self.vosk_paths[lang]} and {path}",
                    code="asr_duplicate_language",
                )
            self.vosk_paths[lang] = path

    def choose(self, engine: str | None = None, language: str | None = None) -> tuple[str, str]:
        """``(engine name, base language)`` a flow with these pins gets; raises AsrError if none fits. Cheap."""
        if engine is not None and engine.lower() not in _ALIASES:
            raise AsrError(
                f"unknown speech engine {engine!r}: use one of {', '.join(ENGINE_NAMES)}", code="asr_unknown_engine"
            )
        name = _ALIASES[engine.lower()] if engine else None
        lang = base_language(language) if language else None
        if name in (VOSK, None):
            if lang is not None and lang in self.vosk_paths:
                return VOSK, lang
            if lang is None and self.vosk_paths:
                return VOSK, next(iter(self.vosk_paths))
            if name == VOSK:
                have = ", ".join(self.vosk_paths) or "none"
                raise AsrError(
                    f"the flow wants Vosk{f' for {lang!r}' if lang else ''} but no such model is "
                    f"configured (Vosk languages configured: {have}); set VOSK_MODEL",
                    code="asr_engine_unavailable",
                )
        if lang in (None, "en"):
            return POCKETSPHINX, "en"
        raise AsrError(
            f"no speech engine for language {lang!r}: pocketsphinx only has English; set VOSK_MODEL "
            f"to a {lang!r} Vosk model (e.g. `models install` one)",
            code="asr_engine_unavailable",
        )

    def get(self, engine: str | None = None, language: str | None = None, *, flow: str = "") -> SpeechEngine:
        """The shared engine for these pins, loaded on first use (blocks). Logs which one the flow uses."""
        key = self.choose(engine, language)
        with self._lock:
            found = self._engines.get(key)
            if found is None:
                found = self._make(*key)
                self._engines[key] = found
        log.info("speech recognition for %s: %s", f"flow {flow!r}" if flow else "default", found.describe())
        return found

    def _make(self, name: str, lang: str) -> SpeechEngine:
        local = self._make_local(name, lang)
        if self.asr_url is None:
            return local
        from media.asr.wyoming_engine import DEFAULT_TIMEOUT_S, WyomingEngine

        return WyomingEngine(
            self.asr_url, local, timeout_s=self.asr_timeout_s or DEFAULT_TIMEOUT_S, breaker=self.asr_breaker
        )

    def _make_local(self, name: str, lang: str) -> SpeechEngine:
        if name == VOSK:
            from media.asr.vosk_engine import VoskEngine

            return VoskEngine(self.vosk_paths[lang], lang)
        if self._sphinx_processes > 0:
            from media.asr.sphinx_procs import SphinxProcessEngine

            return SphinxProcessEngine(self._sphinx_processes)
        from media.asr.sphinx_engine import SphinxEngine

        return SphinxEngine(self._sphinx_pool_size)

    def close(self) -> None:
        """Stop what the engines run beside this process (pocketsphinx's decoding processes)."""
        if self._sphinx_processes <= 0:
            return
        from media.asr.sphinx_procs import SphinxProcessEngine

        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            local = getattr(engine, "fallback", engine)  # a Wyoming engine's local fallback
            if isinstance(local, SphinxProcessEngine):
                local.close()


def default_engine(
    vosk_model: str | os.PathLike[str] | None,
    language: str | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> SpeechEngine:
    """Vosk if a model path or installed name is given, else pocketsphinx en-us; logs which (blocks).

    ``language`` None takes whatever the model speaks; a language the
    chosen model does not speak is an :class:`AsrError`.
    """
    engines = SpeechEngines([vosk_model] if vosk_model else [], data_dir=data_dir)
    return engines.get(language=language)
