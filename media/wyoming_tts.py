"""Prompts from a text-to-speech server over the Wyoming protocol (wyoming-piper, or :mod:`media.wyoming_server`).

One prompt is one connection: ``synthesize`` (the text, and the configured
voice name if any: otherwise the server's default voice), answered by
``audio-start``, ``audio-chunk``\\*, ``audio-stop``. The audio (16-bit, any
rate, mono or interleaved channels, which are mixed down) comes back as
:class:`~media.audio.Audio` at its own rate; :class:`~media.tts.Synthesizer`
resamples it, caches it on disk like espeak-ng's prompts, and falls back to
espeak-ng when the server fails or its :class:`~media.breaker.CircuitBreaker`
is open. The whole exchange has one deadline (``timeout_s``).

Wyoming has no speaking rate: a flow's ``rate`` only changes espeak-ng's
prompts. A flow's espeak ``voice`` is not sent either (server voices have
other names, e.g. Piper's ``en_US-lessac-medium``): the server speaks with
``voice`` from the settings.
"""

from __future__ import annotations

import asyncio

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.tts import Synthesize, SynthesizeVoice

from media.asr.wyoming_engine import WyomingError, parse_url
from media.audio import Audio
from media.breaker import CircuitBreaker

DEFAULT_TIMEOUT_S = 10.0
MAX_SECONDS = 600  # a prompt longer than this is a broken server, not a prompt


class WyomingTts:
    """A Wyoming TTS server. ``served`` / ``failed`` count requests (the fallback is the Synthesizer's)."""

    def __init__(
        self,
        url: str,
        *,
        voice: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.url = url
        self.host, self.port = parse_url(url)
        self.voice = voice or None
        self.timeout_s = timeout_s
        self.breaker = breaker or CircuitBreaker(f"tts {url}")
        self.served = 0
        self.failed = 0

    @property
    def version(self) -> str:
        """What goes into the prompt cache key instead of espeak-ng's version."""
        return f"wyoming {self.url} voice {self.voice or '(server default)'}"

    async def synthesize(self, text: str) -> Audio:
        """The server's audio for ``text``; raises :class:`WyomingError`, OSError or TimeoutError."""
        async with asyncio.timeout(self.timeout_s):
            client = AsyncTcpClient(self.host, self.port)
            await client.connect()
            try:
                voice = SynthesizeVoice(name=self.voice) if self.voice else None
                await client.write_event(Synthesize(text=text, voice=voice).event())
                return await self._receive(client)
            finally:
                await client.disconnect()

    async def _receive(self, client: AsyncTcpClient) -> Audio:
        rate = channels = 0
        parts: list[bytes] = []
        size = 0
        while True:
            event = await client.read_event()
            if event is None:
                raise WyomingError("the TTS server closed the connection before audio-stop")
            if Error.is_type(event.type):
                raise WyomingError(f"the TTS server said: {Error.from_event(event).text}")
            if AudioStart.is_type(event.type):
                start = AudioStart.from_event(event)
                if start.width != 2 or start.channels < 1 or start.rate < 8000:
                    raise WyomingError(
                        f"the TTS server sends {start.width * 8}-bit audio, {start.channels} channels at "
                        f"{start.rate} Hz: only 16-bit audio at 8 kHz or more is supported"
                    )
                rate, channels = start.rate, start.channels
            elif AudioChunk.is_type(event.type):
                if not rate:
                    raise WyomingError("the TTS server sent audio before audio-start")
                chunk = AudioChunk.from_event(event)
                size += len(chunk.audio)
                if size > MAX_SECONDS * rate * channels * 2:
                    raise WyomingError(f"the TTS server sent more than {MAX_SECONDS} s of audio")
                parts.append(chunk.audio)
            elif AudioStop.is_type(event.type):
                if not rate:
                    raise WyomingError("the TTS server stopped without audio-start")
                break
        data = b"".join(parts)
        frames = np.frombuffer(data[: len(data) // (2 * channels) * 2 * channels], dtype="<i2")
        if channels > 1:
            frames = frames.reshape(-1, channels).mean(axis=1).astype(np.int16)
        if len(frames) == 0:
            raise WyomingError("the TTS server sent no audio")
        return Audio(frames.astype(np.int16), rate)
