"""Recognition by a speech server over the Wyoming protocol, with the local engine as fallback.

`Wyoming <https://github.com/OHF-Voice/wyoming>`_ is Home Assistant's
protocol for speech servers (wyoming-faster-whisper on a GPU box, or this
project's own :mod:`media.wyoming_server`): JSON lines with binary payloads
over TCP. One utterance is one connection: ``transcribe`` (language, and
the window's grammar in ``context``), ``audio-start``, ``audio-chunk``\\*,
``audio-stop``; the server answers ``transcript``.

:class:`WyomingEngine` is a :class:`~media.asr.engine.SpeechEngine` in front
of a local one (pocketsphinx or Vosk, whatever the flow would get without a
server). Its recognizer buffers the utterance like the pocketsphinx one and
sends it in :meth:`~WyomingRecognizer.final` (an utterance is a few seconds
of 16 kHz audio, about 64 kB: on a LAN the upload costs less than a
millisecond, and the local fallback needs the whole utterance anyway).

**Deciding locally.** A server returns free text with no confidence
(Whisper: ``"Billing."``, ``"9051"``). It is normalised (punctuation off,
each digit character spelled as the language's digit word) and matched
against the window's grammar with :meth:`~media.asr.grammar.Grammar.match`,
the rule every local engine routes by: only a transcript that *is* an
allowed phrase or a digit string of an allowed length is recognised
(``"billing please"`` is out of grammar: a re-prompt, never a route). A
server transcript that matches gets :data:`SERVER_CONFIDENCE`.

**Failures.** Every request has one deadline (``timeout_s``, connecting
included). A refused connection, a timeout, a closed connection or an
``error`` event makes the utterance go to the local engine (same audio, same
grammar: the caller notices only the wait) and counts for the
:class:`~media.breaker.CircuitBreaker`; while that is open the server is not
asked at all. The engine counts ``served`` and ``fell_back`` utterances.

Threading: like every engine, :meth:`WyomingRecognizer.final` blocks (a
socket, or the local decode); it runs in the listener's worker lane.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import read_event, write_event

from media.asr.engine import SAMPLE_RATE, Partial, Recognizer, Result, SpeechEngine, Word
from media.asr.errors import AsrError
from media.asr.grammar import Grammar, base_language, digit_words, normalize
from media.breaker import CircuitBreaker

log = logging.getLogger(__name__)

#: The confidence of a server transcript that matched the grammar exactly (servers send none).
SERVER_CONFIDENCE = 1.0
DEFAULT_TIMEOUT_S = 3.0
CHUNK_BYTES = SAMPLE_RATE // 10 * 2  # 100 ms per audio-chunk event
MAX_AUDIO_MS = 30_000
MIN_AUDIO_BYTES = 2 * 160 * 5  # under 50 ms: nothing to decode (as pocketsphinx)


class WyomingError(AsrError):
    """The speech server failed this request (the local engine answers instead)."""

    code = "asr_server_failed"


def parse_url(url: str) -> tuple[str, int]:
    """``tcp://host:port`` -> ``(host, port)``; anything else is an :class:`AsrError` naming the URL."""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "tcp" or not parsed.hostname or port is None:
        raise AsrError(f"a speech server URL looks like tcp://host:10300, not {url!r}", code="asr_bad_server_url")
    return parsed.hostname, port


def grammar_context(grammar: Grammar | None) -> dict[str, Any] | None:
    """The window's grammar as the ``transcribe`` event's context (our server decodes with it; others ignore it)."""
    if grammar is None:
        return None
    return {
        "grammar": {
            "phrases": list(grammar.phrases),
            "digits": grammar.digits,
            "min_digits": grammar.min_digits,
            "max_digits": grammar.max_digits,
        }
    }


def grammar_from_context(context: dict[str, Any] | None) -> Grammar | None:
    """The inverse of :func:`grammar_context` (None: free dictation); a malformed one is an :class:`AsrError`."""
    if not context or "grammar" not in context:
        return None
    spec = context["grammar"]
    if not isinstance(spec, dict) or not isinstance(spec.get("phrases", []), list):
        raise AsrError("the transcribe context's grammar must be an object with a phrases list", code="asr_bad_grammar")
    try:
        return Grammar.of(
            [str(p) for p in spec.get("phrases", [])],
            digits=bool(spec.get("digits", False)),
            min_digits=int(spec.get("min_digits", 1)),
            max_digits=int(spec.get("max_digits", 16)),
        )
    except (TypeError, ValueError) as exc:
        raise AsrError(f"bad grammar in the transcribe context: {exc}", code="asr_bad_grammar") from exc


def transcript_words(text: str, language: str) -> list[str]:
    """A free transcript as grammar words: normalised, each digit character spelled (``"9051."`` -> nine zero ...)."""
    spell = {digit: word for word, digit in reversed(digit_words(language).items())}  # the first word per digit
    out: list[str] = []
    for word in normalize(text).split():
        if word.isdigit() and all(c in spell for c in word):
            out.extend(spell[c] for c in word)
        else:
            out.append(word)
    return out


def transcript_result(text: str, grammar: Grammar | None, language: str) -> Result:
    """A server transcript judged by the grammar's exact-match rule (see the module docstring)."""
    words = transcript_words(text, language)
    heard = " ".join(words)
    if not words:
        return Result.nothing()
    if grammar is None:
        return Result(heard, SERVER_CONFIDENCE, tuple(Word(w, SERVER_CONFIDENCE) for w in words), heard)
    match = grammar.match(words, language)
    if match is None:
        return Result.nothing(heard, tuple(Word(w, 0.0) for w in words))
    return Result(match.text, SERVER_CONFIDENCE, tuple(Word(w, SERVER_CONFIDENCE) for w in words), heard, match.digits)


class WyomingEngine:
    """A Wyoming ASR server in front of ``fallback`` (see the module docstring). Thread-safe."""

    name = "wyoming"

    def __init__(
        self,
        url: str,
        fallback: SpeechEngine,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.url = url
        self.host, self.port = parse_url(url)
        if timeout_s <= 0:
            raise AsrError("the speech server timeout must be above 0 s", code="asr_bad_server_url")
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.breaker = breaker or CircuitBreaker(f"asr {url}")
        self.language = base_language(fallback.language)
        self.model_path = fallback.model_path
        # The gate for the fallback's results; a server match has SERVER_CONFIDENCE, above any of them.
        self.min_confidence = fallback.min_confidence
        self.confirm_confidence = fallback.confirm_confidence
        self._lock = threading.Lock()
        self.served = 0  # utterances the server answered
        self.fell_back = 0  # utterances the local engine answered (server failed, or breaker open)

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        """The local engine's vocabulary: whatever the server knows, the fallback must be able to hear it."""
        return self.fallback.unknown_words(words)

    def recognizer(self, grammar: Grammar | None = None) -> WyomingRecognizer:
        return WyomingRecognizer(self, grammar)

    def describe(self) -> str:
        return f"wyoming server {self.url} (timeout {self.timeout_s:g} s); fallback {self.fallback.describe()}"

    def transcribe(self, pcm: bytes, grammar: Grammar | None) -> str:
        """One request to the server (blocks up to ``timeout_s``); raises :class:`WyomingError` or OSError."""
        deadline = time.monotonic() + self.timeout_s
        with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as sock:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            with sock.makefile("wb") as out, sock.makefile("rb") as into:
                write_event(Transcribe(language=self.language, context=grammar_context(grammar)).event(), out)
                write_event(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event(), out)
                for at in range(0, len(pcm), CHUNK_BYTES):
                    chunk = AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm[at : at + CHUNK_BYTES])
                    write_event(chunk.event(), out)
                write_event(AudioStop().event(), out)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"no transcript within {self.timeout_s:g} s")
                    sock.settimeout(left)
                    event = read_event(into)
                    if event is None:
                        raise WyomingError("the server closed the connection without a transcript")
                    if Transcript.is_type(event.type):
                        return Transcript.from_event(event).text
                    if Error.is_type(event.type):
                        raise WyomingError(f"the server said: {Error.from_event(event).text}")
                    # transcript-start / transcript-chunk of a streaming server: the transcript event follows

    def decode(self, pcm: bytes, grammar: Grammar | None) -> Result | None:
        """The server's result, or None when it failed or the breaker is open (the caller then decodes locally)."""
        if not self.breaker.allow():
            return None
        try:
            text = self.transcribe(pcm, grammar)
        except (OSError, WyomingError) as exc:  # refused, timed out, reset, closed early, an error event
            reason = exc.message if isinstance(exc, WyomingError) else f"{type(exc).__name__}: {exc}"
            self.breaker.failure(reason)
            log.info("speech server %s failed (%s): the local engine decodes this utterance", self.url, reason)
            return None
        self.breaker.success()
        result = transcript_result(text, grammar, self.language)
        log.debug("speech server %s: transcript %r -> %r", self.url, text, result.text)
        return result

    def count(self, served: bool) -> None:
        with self._lock:
            if served:
                self.served += 1
            else:
                self.fell_back += 1


class WyomingRecognizer:
    """Buffers one utterance and has the server decode it in :meth:`final`, else the local engine."""

    def __init__(self, engine: WyomingEngine, grammar: Grammar | None) -> None:
        self._engine = engine
        self._grammar = grammar
        self._audio = bytearray()
        self._max_bytes = MAX_AUDIO_MS * SAMPLE_RATE // 1000 * 2
        self._local: Recognizer | None = None  # made on the first fallback
        self._local_grammar: Grammar | None = None

    def accept(self, pcm16k: bytes) -> Partial | None:
        room = self._max_bytes - len(self._audio)
        self._audio += pcm16k[: max(room, 0)]
        return None

    def final(self) -> Result:
        audio, self._audio = bytes(self._audio), bytearray()
        if len(audio) < MIN_AUDIO_BYTES:
            return Result.nothing()
        result = self._engine.decode(audio, self._grammar)
        if result is not None:
            self._engine.count(served=True)
            return result
        self._engine.count(served=False)
        return self._decode_locally(audio)

    def _decode_locally(self, audio: bytes) -> Result:
        if self._local is None:
            self._local = self._engine.fallback.recognizer(self._grammar)
        elif self._local_grammar != self._grammar:
            self._local.reset(self._grammar)
        self._local_grammar = self._grammar
        self._local.accept(audio)
        return self._local.final()

    def reset(self, grammar: Grammar | None = None) -> None:
        self._audio = bytearray()
        if grammar is not None:
            self._grammar = grammar
        if self._local is not None:
            self._local.reset()

    def close(self) -> None:
        self._audio = bytearray()
        if self._local is not None:
            self._local.close()
            self._local = None
