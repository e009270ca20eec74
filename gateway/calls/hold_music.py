"""What a caller on hold hears: the music of the queue they wait in, or the generated music.

A queue's ``music`` names a .wav, .mp3 or .ogg file of the flows directory (where the flows' ``play`` prompts are;
every node reads its own copy). It is played to a caller waiting in that queue, to one their agent holds, and while
a transfer or a consultation keeps them waiting; a queue without music, a file that is gone or does not decode, or a
store that cannot say which queue the caller is in gives the generated music (:func:`media.music.hold_music`):
a caller on hold never hears silence, which callers take for a dropped line. A file that cannot be played is logged
once (per file and change), not at every caller.

Files are decoded once per change (name, size and time of the file) off the event loop, and encoded to Opus once
(the node's prompt cache); at most :data:`MAX_MUSIC_SECONDS` of a file are played (in a loop), at most
:data:`CACHED_FILES` files are kept decoded. :meth:`HoldMusic.check` is the queue editor's check (a name of a file
that exists, decodes and is not too long): a save that names something else is refused at the field.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.store.store import StoreError
from media.audio import Audio
from media.audiofile import load_audio
from media.errors import AudioFileError
from media.music import hold_music
from media.opus import OpusPrompts

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
MAX_MUSIC_SECONDS = 600  # longer files are refused when a queue names them (and cut there if they grew since)
MAX_MUSIC_BYTES = 100 * 1024 * 1024  # bigger files are not even opened
CACHED_FILES = 8
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg")

#: The queue a conversation waits in (conversation id -> queue name, None when it has none).
QueueOf = Callable[[str], Awaitable[str | None]]
#: A queue's music (queue name -> its file, "" for the generated music; None when there is no such queue).
MusicOf = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Music:
    """Music to loop: ``name`` is its file ("" for the generated music); ``packets`` its Opus packets when asked."""

    name: str
    audio: Audio
    packets: list[bytes] | None


@dataclass(frozen=True, slots=True)
class MusicFile:
    """An audio file of the flows directory, as the queue editor lists them."""

    name: str
    bytes: int


class HoldMusic:
    """The node's music on hold: per queue (its file, decoded once) or the generated one."""

    def __init__(
        self,
        opus: OpusPrompts,
        *,
        flows_dir: Path | None = None,
        queue_of: QueueOf | None = None,
        music_of: MusicOf | None = None,
    ) -> None:
        self.opus = opus
        self.flows_dir = flows_dir.resolve() if flows_dir is not None else None
        self.queue_of = queue_of  # (None, or music_of None: every caller hears the generated music)
        self.music_of = music_of
        self.default = Music("", hold_music(), None)
        self._files: OrderedDict[tuple[str, int, int], Audio] = OrderedDict()  # (name, size, mtime ns) -> audio
        self._refused: set[tuple[str, int, int]] = set()  # files logged as unplayable once
        self._lock = asyncio.Lock()

    async def for_conversation(self, cid: str, *, packets: bool, queue: str | None = None) -> Music:
        """The music of the queue conversation ``cid`` waits in (``queue``: of that queue instead, one the caller is
        being moved to), with its Opus packets when ``packets``."""
        name = ""
        if self.queue_of is not None and self.music_of is not None:
            try:
                queue = queue or await self.queue_of(cid)
                name = (await self.music_of(queue) if queue else None) or ""
            except StoreError as exc:  # the caller is not left in silence for it
                log.warning("music on hold: the queue's music is not known (%s)", exc, extra={"conversation_id": cid})
        music = await self._named(name, cid)
        if not packets:
            return music
        encoded = self.opus.ready(music.audio) or await asyncio.to_thread(self.opus.packets, music.audio)
        return Music(music.name, music.audio, encoded)

    async def _named(self, name: str, cid: str) -> Music:
        if not name:
            return self.default
        try:
            key, path = self._locate(name)
        except AudioFileError as exc:
            self._refuse((name, 0, 0), exc.message, cid)
            return self.default
        if key in self._refused:
            return self.default
        audio = self._files.get(key)
        if audio is None:
            async with self._lock:
                audio = self._files.get(key)
                if audio is None:
                    try:
                        audio = await asyncio.to_thread(_decode, path)
                    except AudioFileError as exc:
                        self._refuse(key, exc.message, cid)
                        return self.default
                    self._files[key] = audio
                    while len(self._files) > CACHED_FILES:
                        self._files.popitem(last=False)
        self._files.move_to_end(key)
        return Music(name, audio, None)

    def _refuse(self, key: tuple[str, int, int], why: str, cid: str) -> None:
        if key not in self._refused:
            self._refused.add(key)
            log.warning(
                "music on hold %s cannot be played (%s): callers hear the generated music",
                key[0],
                why,
                extra={"conversation_id": cid},
            )

    def _locate(self, name: str) -> tuple[tuple[str, int, int], Path]:
        """The file ``name`` of the flows directory and its key; AudioFileError when it is not a file there."""
        if self.flows_dir is None:
            raise AudioFileError("this node has no flows directory")
        path = (self.flows_dir / name).resolve()
        if path.parent != self.flows_dir or not name.lower().endswith(AUDIO_SUFFIXES):
            raise AudioFileError(f"'{name}' is not an audio file of the flows directory")
        try:
            st = path.stat()
        except OSError:
            raise AudioFileError(f"there is no file '{name}' in the flows directory") from None
        if not path.is_file():
            raise AudioFileError(f"'{name}' in the flows directory is not a file")
        if st.st_size > MAX_MUSIC_BYTES:
            raise AudioFileError(
                f"'{name}' is {st.st_size // (1024 * 1024)} MB: at most {MAX_MUSIC_BYTES // (1024 * 1024)} MB"
            )
        return (name, st.st_size, st.st_mtime_ns), path

    async def check(self, name: str) -> str | None:
        """Why a queue may not name ``name`` as its music (None: it may): the file must be in the flows directory,
        decode as audio and last at most :data:`MAX_MUSIC_SECONDS`."""
        if not name:
            return None
        try:
            _, path = self._locate(name)
            audio = await asyncio.to_thread(load_audio, path, SAMPLE_RATE)
        except AudioFileError as exc:
            return exc.message.replace(f"{self.flows_dir}{os.sep}", "")  # no server path told: the name says it
        if audio.duration > MAX_MUSIC_SECONDS:
            return f"'{name}' lasts {_length(audio.duration)}: music on hold is at most {_length(MAX_MUSIC_SECONDS)}"
        if audio.duration < 1.0:
            return f"'{name}' lasts {audio.duration:.1f} s: music on hold loops, so it must last a second at least"
        return None

    def files(self) -> list[MusicFile]:
        """The audio files of the flows directory a queue may name, by name."""
        if self.flows_dir is None or not self.flows_dir.is_dir():
            return []
        found = []
        with os.scandir(self.flows_dir) as entries:
            for entry in entries:
                if not entry.name.lower().endswith(AUDIO_SUFFIXES) or not entry.is_file():
                    continue
                if Path(entry.path).resolve().parent == self.flows_dir:  # (a link out of it is not offered)
                    found.append(MusicFile(entry.name, entry.stat().st_size))
        return sorted(found, key=lambda f: f.name)


def _decode(path: Path) -> Audio:
    """``path`` decoded at 48 kHz, cut at :data:`MAX_MUSIC_SECONDS` (a file that grew after its queue was saved)."""
    audio = load_audio(path, SAMPLE_RATE)
    limit = MAX_MUSIC_SECONDS * SAMPLE_RATE
    if len(audio.samples) > limit:
        return Audio(audio.samples[:limit], SAMPLE_RATE)
    if audio.duration < 0.1:
        raise AudioFileError(f"'{path.name}' is too short to loop")
    return audio


def _length(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} s"
