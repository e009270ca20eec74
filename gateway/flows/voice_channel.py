"""A call as a flow channel: prompts become audio on the caller's outgoing track.

``Say`` is synthesised offline (espeak-ng, cached on disk by text, voice and
rate); ``Play`` decodes a file once and keeps it in memory. Every prompt is
queued on the call's :class:`~media.player.PromptPlayer`, which paces 20 ms
frames and stops at once on barge-in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.flows.call_speech import CallSpeech
from gateway.flows.captions import Captions
from gateway.protocol.states import CallStatus
from ivr.actions import Enqueue, Listen, Play, Say
from media.audio import Audio
from media.audiofile import load_audio
from media.opus import OpusPrompts
from media.player import PlaybackOutcome, PromptPlayer
from media.tts import Synthesizer

log = logging.getLogger(__name__)

WORDS_PER_MINUTE = 170  # espeak-ng speed for a Say rate of 1.0


class AudioFiles:
    """Decoded prompt files, shared by every call of this node (decoded off the event loop, once)."""

    def __init__(self, sample_rate: int = 48000):
        self.sample_rate = sample_rate
        self._cache: dict[tuple[str, float], Audio] = {}
        self._lock = asyncio.Lock()

    async def get(self, path: str) -> Audio:
        key = (path, Path(path).stat().st_mtime)
        if key not in self._cache:
            async with self._lock:
                if key not in self._cache:
                    self._cache[key] = await asyncio.to_thread(load_audio, path, self.sample_rate)
        return self._cache[key]


class VoiceChannel:
    def __init__(
        self,
        player: PromptPlayer,
        synthesizer: Synthesizer,
        files: AudioFiles,
        opus: OpusPrompts,
        *,
        default_voice: str,
        set_status: Callable[[CallStatus, str], Awaitable[None]],
        hangup: Callable[[str], Awaitable[None]],
        captions: Captions | None = None,
    ):
        self.player = player
        self.synthesizer = synthesizer
        self.files = files
        self.opus = opus
        self.default_voice = default_voice
        self._set_status = set_status
        self._hangup = hangup
        self.captions = captions  # each prompt's text for the caller's widget as it starts playing
        self.speech: CallSpeech | None = None  # set by the call when its flow listens for speech
        self.enqueued_action: Enqueue | None = None  # how the flow handed the call to routing (queue, record)
        self._pending: set[asyncio.Future[Any]] = set()
        self._uninterruptible: set[asyncio.Future[Any]] = set()

    def _queued(self, future: asyncio.Future[PlaybackOutcome], barge_in: bool) -> asyncio.Future[PlaybackOutcome]:
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        if not barge_in:
            self._uninterruptible.add(future)
            future.add_done_callback(self._uninterruptible.discard)
        return future

    async def say(self, action: Say) -> asyncio.Future[Any] | None:
        audio = await self.synthesizer.synthesize(
            action.text,
            voice=action.voice or self.default_voice,
            rate_wpm=max(80, min(450, int(WORDS_PER_MINUTE * action.rate))),
        )
        return await self._queue(audio, action.prompt_id, action.barge_in, action.text)

    async def play(self, action: Play) -> asyncio.Future[Any] | None:
        return await self._queue(await self.files.get(action.path), action.prompt_id, action.barge_in, action.text)

    async def _queue(self, audio: Audio, prompt_id: str, barge_in: bool, text: str) -> asyncio.Future[PlaybackOutcome]:
        # Encoded once per distinct prompt (a cache hit for every later caller), off the event loop; a prompt played
        # before starts without the thread hop (the next prompt after an answer: the caller is waiting for it).
        packets = None
        if self.player.sends_packets:
            packets = self.opus.ready(audio) or await asyncio.to_thread(self.opus.packets, audio)
        playing = self.player.play(audio, prompt_id, packets)
        if self.speech is not None:
            self.speech.prompt_queued()  # ends the turn trace of an answer (gateway/flows/call_speech.py)
        if self.captions is not None:
            self.captions.prompt_queued(text, playing)
        return self._queued(playing, barge_in)

    def stop_prompts(self) -> None:
        self.player.stop()  # the playing prompt and every queued one; silence from the next frame

    def barge_in(self) -> bool:
        """The caller started speaking: cut the prompts unless one of them may not be interrupted."""
        if self._uninterruptible or not self._pending:
            return False
        self.player.stop()
        return True

    async def prompts_done(self) -> None:
        while self._pending:
            await asyncio.wait(list(self._pending))

    async def listen(self, action: Listen) -> None:
        # Keys arrive on their own (keypad, RFC 4733, in-band); speech needs a listening window.
        if self.speech is not None:
            self.speech.listen(action)

    async def stop_listening(self, listen_id: str) -> None:
        if self.speech is not None:
            self.speech.stop_listening(listen_id)

    async def enqueued(self, action: Enqueue) -> None:
        self.enqueued_action = action
        await self._set_status(CallStatus.WAITING, action.queue)

    async def hangup(self, reason: str) -> None:
        await self.prompts_done()  # let the goodbye finish
        await self._hangup(reason)
