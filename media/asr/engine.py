"""The streaming speech recognizer interface every engine implements.

A :class:`SpeechEngine` holds a loaded model (shared by every call of the
process) and makes :class:`Recognizer` objects, one per call, reset between
listening windows. A recognizer is fed 16 kHz mono signed 16-bit PCM
(little-endian bytes) with :meth:`Recognizer.accept`, which may return a
:class:`Partial`; :meth:`Recognizer.final` ends the utterance and returns a
:class:`Result`.

Threading: engines are safe to share between threads. A recognizer is not:
one thread at a time (the listener runs all of a call's recognizer work in
one serial lane of the worker pool). ``recognizer()``, ``accept()``,
``final()`` and ``reset()`` block on CPU: never call them on the event loop.

Confidence: :attr:`Result.confidence` is in [0, 1] and each engine documents
how it gets there and where its accept threshold was calibrated
(:attr:`SpeechEngine.min_confidence`). Out-of-grammar results have
``text == ""`` and confidence 0, whatever the decoder said; what it said is
kept in :attr:`Result.heard` for the logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from media.asr.grammar import Grammar

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Partial:
    """An interim hypothesis while the caller is still speaking (may change or vanish)."""

    text: str


@dataclass(frozen=True)
class Word:
    """One word the decoder put in its best hypothesis, with its confidence in [0, 1]."""

    text: str
    confidence: float


@dataclass(frozen=True)
class Result:
    """The end of one utterance.

    ``text`` is the grammar phrase (or digit string words) the utterance
    matched exactly, normalised, or the free transcript when there was no
    grammar; ``""`` when nothing was heard or what was heard is out of
    grammar. ``digits`` holds ``"1234"`` when ``text`` is made of digit
    words. ``heard`` is the decoder's raw best hypothesis (garbage words
    included), for logs and timelines only: never route on it.
    """

    text: str
    confidence: float
    words: tuple[Word, ...] = ()
    heard: str = ""
    digits: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")

    @property
    def in_grammar(self) -> bool:
        """True when ``text`` is an allowed phrase (or a free transcript): something to act on."""
        return bool(self.text)

    @classmethod
    def nothing(cls, heard: str = "", words: tuple[Word, ...] = ()) -> Result:
        """Empty or out-of-grammar: no text, confidence 0."""
        return cls("", 0.0, words, heard)


@runtime_checkable
class Recognizer(Protocol):
    """One utterance at a time; not thread-safe; every method may block on CPU."""

    def accept(self, pcm16k: bytes) -> Partial | None:
        """Feed 16 kHz mono s16le audio; returns a new partial hypothesis when there is one."""
        ...

    def final(self) -> Result:
        """End the utterance and return its result; the recognizer is then ready for the next one."""
        ...

    def reset(self, grammar: Grammar | None = None) -> None:
        """Forget the current utterance; with ``grammar``, listen for that grammar from now on."""
        ...

    def close(self) -> None:
        """Release native resources; the recognizer cannot be used afterwards."""
        ...


@runtime_checkable
class SpeechEngine(Protocol):
    """A loaded model and what it can do. Safe to share between threads and calls."""

    #: Engine family: ``"vosk"`` or ``"pocketsphinx"``.
    name: str
    #: Base language code of the model, e.g. ``"en"``, ``"ko"``.
    language: str
    #: Directory the model was loaded from.
    model_path: Path
    #: Accept threshold calibrated for this engine's confidence (see the engine's docs).
    min_confidence: float
    #: The lower threshold for an answer that will be read back and confirmed by the caller ("I heard
    #: 4 2 7 1, is that right?"): a wrong one then costs a turn, not a misroute.
    confirm_confidence: float

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        """The words (normalised) that the model's vocabulary lacks, in the order given, no duplicates."""
        ...

    def recognizer(self, grammar: Grammar | None = None) -> Recognizer:
        """A new recognizer listening for ``grammar`` (None: free dictation, if the engine can)."""
        ...

    def describe(self) -> str:
        """One line for logs: engine, language, model."""
        ...
