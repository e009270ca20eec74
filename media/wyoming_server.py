"""A Wyoming speech server wrapping this project's local engines: ``python -m media.wyoming_server``.

For tests, and for a deployment that wants its recognition and prompts on
another machine without Whisper or Piper: one process serves

- **ASR** (``transcribe``, ``audio-start``, ``audio-chunk``\\*,
  ``audio-stop`` -> ``transcript``) with the engine the gateway would use
  locally (pocketsphinx en-us, or the Vosk model of ``--vosk-model``). The
  window's grammar arrives in the ``transcribe`` context (see
  :func:`~media.asr.wyoming_engine.grammar_context`); the transcript is the
  phrase the engine recognised at its own threshold, or ``""`` (no match).
  Without a grammar it is free dictation.
- **TTS** (``synthesize`` -> ``audio-start``, ``audio-chunk``\\*,
  ``audio-stop``) with espeak-ng at 22,050 Hz; the voice name is an espeak-ng
  voice (default ``--voice``).
- ``describe`` -> ``info`` listing both.

Decoding and synthesis run in worker threads, never on the event loop.
Serve on a port: ``python -m media.wyoming_server --uri tcp://0.0.0.0:10300``;
point the gateway's ``--asr-url`` and ``--tts-url`` at it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from functools import partial

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize

from media.asr.engine import SAMPLE_RATE, SpeechEngine
from media.asr.errors import AsrError
from media.asr.grammar import Grammar
from media.asr.listener import Recognized, judge
from media.asr.selection import SpeechEngines
from media.asr.wyoming_engine import MAX_AUDIO_MS, grammar_from_context
from media.errors import TtsError
from media.tts import Synthesizer

log = logging.getLogger(__name__)

TTS_RATE = 22050
TTS_CHUNK_SAMPLES = 1024
TTS_WPM = 170


class SpeechService:
    """What the handlers share: the ASR engine and the espeak-ng synthesizer of this process."""

    def __init__(self, engine: SpeechEngine, voice: str = "en-us") -> None:
        self.engine = engine
        self.voice = voice
        self.synthesizer = Synthesizer()
        self.version = "1"

    def transcribe(self, pcm: bytes, grammar: Grammar | None) -> str:
        """The engine's answer for one utterance (blocks): the recognised phrase, or ``""``."""
        recognizer = self.engine.recognizer(grammar)
        try:
            recognizer.accept(pcm)
            result = recognizer.final()
        finally:
            recognizer.close()
        if grammar is None:
            return result.text
        return result.text if isinstance(judge(result, self.engine.min_confidence), Recognized) else ""

    def warm(self) -> float:
        """Decode a moment of silence once, so the engine's first decoder is made (and its model read) before the
        port is open: a client's first request then takes what any request takes, not the model's load too (a
        loaded machine took longer than a client's deadline over it). The seconds it took."""
        started = time.monotonic()
        self.transcribe(bytes(SAMPLE_RATE // 10 * 2), Grammar.of([], digits=True, min_digits=1, max_digits=1))
        return time.monotonic() - started

    def info(self) -> Info:
        attribution = Attribution(name="contact gateway", url="")
        return Info(
            asr=[
                AsrProgram(
                    name="contact-gateway-asr",
                    description=self.engine.describe(),
                    attribution=attribution,
                    installed=True,
                    version=self.version,
                    models=[
                        AsrModel(
                            name=self.engine.name,
                            description=self.engine.describe(),
                            attribution=attribution,
                            installed=True,
                            languages=[self.engine.language],
                            version=self.version,
                        )
                    ],
                )
            ],
            tts=[
                TtsProgram(
                    name="contact-gateway-tts",
                    description="espeak-ng",
                    attribution=attribution,
                    installed=True,
                    version=self.version,
                    voices=[
                        TtsVoice(
                            name=self.voice,
                            description=f"espeak-ng {self.voice}",
                            attribution=attribution,
                            installed=True,
                            languages=[self.voice.split("-")[0]],
                            version=self.version,
                        )
                    ],
                )
            ],
        )


class SpeechHandler(AsyncEventHandler):
    """One client connection: any number of requests, one at a time."""

    def __init__(self, service: SpeechService, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.service = service
        self._grammar: Grammar | None = None
        self._audio = bytearray()
        self._converter = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self._max_bytes = MAX_AUDIO_MS * SAMPLE_RATE // 1000 * 2

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.service.info().event())
        elif Transcribe.is_type(event.type):
            try:
                self._grammar = grammar_from_context(Transcribe.from_event(event).context)
            except AsrError as exc:
                await self.write_event(Error(text=exc.message, code=exc.code).event())
                return False
            self._audio.clear()
        elif AudioStart.is_type(event.type):
            self._audio.clear()
        elif AudioChunk.is_type(event.type):
            chunk = self._converter.convert(AudioChunk.from_event(event))
            self._audio += chunk.audio[: max(self._max_bytes - len(self._audio), 0)]
        elif AudioStop.is_type(event.type):
            audio, grammar = bytes(self._audio), self._grammar
            self._audio.clear()
            try:
                text = await asyncio.to_thread(self.service.transcribe, audio, grammar)
            except AsrError as exc:
                await self.write_event(Error(text=exc.message, code=exc.code).event())
                return False
            await self.write_event(Transcript(text=text, language=self.service.engine.language).event())
        elif Synthesize.is_type(event.type):
            request = Synthesize.from_event(event)
            voice = request.voice.name if request.voice is not None and request.voice.name else self.service.voice
            try:
                speech = await self.service.synthesizer.synthesize(
                    request.text, voice=voice, rate_wpm=TTS_WPM, sample_rate=TTS_RATE
                )
            except TtsError as exc:
                await self.write_event(Error(text=exc.message, code=exc.code).event())
                return False
            await self.write_event(AudioStart(rate=TTS_RATE, width=2, channels=1).event())
            pcm = speech.samples.astype("<i2").tobytes()
            step = TTS_CHUNK_SAMPLES * 2
            for at in range(0, len(pcm), step):
                await self.write_event(
                    AudioChunk(rate=TTS_RATE, width=2, channels=1, audio=pcm[at : at + step]).event()
                )
            await self.write_event(AudioStop().event())
        return True


async def serve(uri: str, service: SpeechService) -> None:
    """Serve until cancelled (or SIGTERM)."""
    server = AsyncServer.from_uri(uri)
    log.info("wyoming speech server on %s: ASR %s; TTS espeak-ng %s", uri, service.engine.describe(), service.voice)
    await server.run(partial(SpeechHandler, service))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m media.wyoming_server", description=__doc__.split("\n")[0])
    parser.add_argument("--uri", default="tcp://127.0.0.1:10300", help="where to listen (tcp://host:port)")
    parser.add_argument("--vosk-model", default=None, help="a Vosk model directory (default: pocketsphinx en-us)")
    parser.add_argument("--language", default=None, help="the recognition language (default: the model's)")
    parser.add_argument("--voice", default="en-us", help="the espeak-ng voice when a request names none")
    parser.add_argument("--workers", type=int, default=None, help="pocketsphinx decoders (default: the CPU count)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        engines = SpeechEngines([args.vosk_model] if args.vosk_model else [], sphinx_pool_size=args.workers)
        engine = engines.get(language=args.language)
    except AsrError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    service = SpeechService(engine, args.voice)
    log.info("speech engine ready in %.2f s", service.warm())
    asyncio.run(serve(args.uri, service))
    return 0


if __name__ == "__main__":
    sys.exit(main())
