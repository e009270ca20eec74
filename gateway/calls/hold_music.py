"""What a caller on hold hears: the music of the queue they wait in, or the generated music.

A queue's ``music`` names a .wav, .mp3 or .ogg file of the flows directory (where the flows' ``play`` prompts are;
every node reads its own copy). It is played to a caller waiting in that queue, to one their agent holds, and while
a transfer or a consultation keeps them waiting; a queue without music, a file that is gone or does not decode, or a
store that cannot say which queue the caller is in gives the generated music (:func:`media.music.hold_music`):
a caller on hold never hears silence, which callers take for a dropped line. A file that cannot be played is logged
once (per file and change), not at every caller.

**Never waiting on a file.** Asking for music never decodes: a file not ready yet gives the generated music at once
and is decoded and encoded to Opus in the background (once, whoever asks meanwhile; owned here, cancelled by
:meth:`HoldMusic.close`); the next caller (or the same one at their next announcement) hears the file. A queue's
save decodes its new file anyway to check it, which makes it ready. At most :data:`MAX_MUSIC_SECONDS` of a file are
decoded (the rest is never read into memory), and the decoded files kept are bounded by :data:`MAX_CACHED_BYTES`.
:meth:`HoldMusic.check` is the queue editor's check (a name of a file that exists, decodes and lasts 1 s to 10
minutes): a save that names something else is refused at the field.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.contact.queues import MUSIC_NAME
from gateway.store.store import StoreError
from gateway.tasks import Tasks
from media.audio import Audio
from media.audiofile import load_audio
from media.errors import AudioFileError
from media.music import hold_music
from media.opus import OpusPrompts

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
MAX_MUSIC_SECONDS = 600  # longer files are refused when a queue names them (and cut there if they grew since)
MIN_MUSIC_SECONDS = 1.0  # it loops: a blip repeated is no music
MAX_MUSIC_BYTES = 100 * 1024 * 1024  # bigger files are not even opened
MAX_CACHED_BYTES = 200 * 1024 * 1024  # decoded music kept (48 kHz 16-bit: about 35 minutes in all)
MAX_REFUSED = 256  # unplayable files remembered (logged once each)

#: The queue a conversation waits in (conversation id -> queue name, None when it has none).
QueueOf = Callable[[str], Awaitable[str | None]]
#: A queue's music (queue name -> its file, "" for the generated music; None when there is no such queue).
MusicOf = Callable[[str], Awaitable[str | None]]
FileKey = tuple[str, int, int, int]  # name, size, mtime ns, inode: a replaced file is another file


@dataclass(frozen=True, slots=True)
class Music:
    """Music to loop: ``name`` is its file ("" for the generated music); ``packets`` its Opus packets, when asked."""

    name: str
    audio: Audio
    packets: list[bytes] | None


@dataclass(frozen=True, slots=True)
class MusicFile:
    """An audio file of the flows directory, as the queue editor lists them."""

    name: str
    bytes: int


class HoldMusic:
    """The node's music on hold: per queue (its file, decoded once in the background) or the generated one."""

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
        self.generated = hold_music()
        self._default: Music | None = None  # the generated music with its packets, once encoded
        self._files: OrderedDict[FileKey, Music] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._loading: dict[FileKey, asyncio.Task[None]] = {}
        self._refused: OrderedDict[FileKey, str] = OrderedDict()  # file -> why it cannot play (logged once each)
        self._tasks = Tasks("hold-music", log)

    async def close(self) -> None:
        await self._tasks.close()

    # ---------------------------------------------------------------- what a caller hears

    async def for_conversation(self, cid: str, *, packets: bool, queue: str | None = None) -> Music:
        """The music of the queue conversation ``cid`` waits in (``queue``: of that queue instead, one the caller is
        being moved to), with its Opus packets when ``packets``. Only reads the store: a file not decoded yet plays
        the generated music this time."""
        name = ""
        if self.queue_of is not None and self.music_of is not None:
            try:
                queue = queue or await self.queue_of(cid)
                name = (await self.music_of(queue) if queue else None) or ""
            except StoreError as exc:  # the caller is not left in silence for it
                log.warning("music on hold: the queue's music is not known (%s)", exc, extra={"conversation_id": cid})
        music = self.ready(name, cid) or await self._generated()
        return music if packets else Music(music.name, music.audio, None)

    def ready(self, name: str, cid: str = "") -> Music | None:
        """File ``name``'s music if it is decoded, else None (its decoding started, or it cannot be played)."""
        if not name:
            return None
        try:
            key, path = self._locate(name)
        except AudioFileError as exc:
            self._refuse((name, 0, 0, 0), exc.message, cid)
            return None
        music = self._files.get(key)
        if music is not None:
            self._files.move_to_end(key)
            return music
        if key not in self._loading and key not in self._refused:
            self._loading[key] = self._tasks.spawn(self._load(key, path, cid), f"load-{name}")
        return None

    async def _generated(self) -> Music:
        if self._default is None:
            packets = await asyncio.to_thread(self.opus.packets, self.generated)
            self._default = Music("", self.generated, packets)
        return self._default

    async def _load(self, key: FileKey, path: Path, cid: str) -> None:
        try:
            audio = await asyncio.to_thread(_decode, path)
            packets = await asyncio.to_thread(self.opus.packets, audio)
        except AudioFileError as exc:
            self._refuse(key, exc.message, cid)
            return
        finally:
            self._loading.pop(key, None)
        self._keep(key, Music(key[0], audio, packets))
        log.info("music on hold %s ready (%.0f s)", key[0], audio.duration, extra={"conversation_id": cid})

    def _keep(self, key: FileKey, music: Music) -> None:
        for old in [k for k in self._files if k[0] == key[0]]:  # an older version of the same file
            self._bytes -= self._files.pop(old).audio.samples.nbytes
        self._files[key] = music
        self._bytes += music.audio.samples.nbytes
        while self._bytes > MAX_CACHED_BYTES and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self._bytes -= dropped.audio.samples.nbytes

    def _refuse(self, key: FileKey, why: str, cid: str) -> None:
        if self._refused.get(key) == why:
            return
        self._refused[key] = why
        while len(self._refused) > MAX_REFUSED:
            self._refused.popitem(last=False)
        log.warning(
            "music on hold %s cannot be played (%s): callers hear the generated music",
            key[0],
            why,
            extra={"conversation_id": cid},
        )

    # ---------------------------------------------------------------- files

    def _locate(self, name: str) -> tuple[FileKey, Path]:
        """The file ``name`` of the flows directory and its key; AudioFileError when it is not a file there."""
        if self.flows_dir is None:
            raise AudioFileError("this node has no flows directory")
        if not MUSIC_NAME.fullmatch(name):
            raise AudioFileError(f"'{name}' is not a music file name (letters, digits, _ . - and .wav, .mp3 or .ogg)")
        try:
            path = (self.flows_dir / name).resolve()
            st = path.stat()
        except (OSError, RuntimeError):  # (RuntimeError: a loop of links)
            raise AudioFileError(f"there is no file '{name}' in the flows directory") from None
        if path.parent != self.flows_dir or path.name != name:  # a link elsewhere, or to another name
            raise AudioFileError(f"'{name}' is not an audio file of the flows directory")
        if not path.is_file():
            raise AudioFileError(f"'{name}' in the flows directory is not a file")
        if st.st_size > MAX_MUSIC_BYTES:
            raise AudioFileError(f"'{name}' is {st.st_size // 2**20} MB: at most {MAX_MUSIC_BYTES // 2**20} MB")
        return (name, st.st_size, st.st_mtime_ns, st.st_ino), path

    async def check(self, name: str) -> str | None:
        """Why a queue may not name ``name`` as its music (None: it may): the file must be in the flows directory,
        decode as audio and last :data:`MIN_MUSIC_SECONDS` to :data:`MAX_MUSIC_SECONDS`. A file that passes is kept
        decoded: callers hear it from the first."""
        if not name:
            return None
        try:
            key, path = self._locate(name)
        except AudioFileError as exc:
            return exc.message
        try:
            audio = await asyncio.to_thread(load_audio, path, SAMPLE_RATE, MAX_MUSIC_SECONDS + 1)
        except AudioFileError as exc:  # FFmpeg's words (and the server's path) for the log, plain ones for the admin
            log.info("music on hold %s refused: %s", name, exc.message)
            return f"'{name}' is not sound the gateway can read (a .wav, .mp3 or .ogg file of audio)"
        if audio.duration > MAX_MUSIC_SECONDS:
            return f"'{name}' lasts more than {_length(MAX_MUSIC_SECONDS)}: music on hold is at most that"
        if audio.duration < MIN_MUSIC_SECONDS:
            return f"'{name}' lasts {audio.duration:.1f} s: music on hold loops, so it must last a second at least"
        self._keep(key, Music(name, audio, await asyncio.to_thread(self.opus.packets, audio)))
        return None

    def files(self) -> list[MusicFile]:
        """The audio files of the flows directory a queue may name (their names follow the rule), by name."""
        if self.flows_dir is None or not self.flows_dir.is_dir():
            return []
        found = []
        try:
            with os.scandir(self.flows_dir) as entries:
                for entry in entries:
                    if not MUSIC_NAME.fullmatch(entry.name) or entry.is_symlink() or not entry.is_file():
                        continue
                    found.append(MusicFile(entry.name, entry.stat().st_size))
        except OSError as exc:
            log.warning("music on hold: the flows directory cannot be listed (%s)", exc)
        return sorted(found, key=lambda f: f.name)


def _decode(path: Path) -> Audio:
    """``path`` decoded at 48 kHz, at most :data:`MAX_MUSIC_SECONDS` of it (a file that grew after its queue was
    saved is cut there)."""
    audio = load_audio(path, SAMPLE_RATE, MAX_MUSIC_SECONDS)
    if audio.duration < 0.1:
        raise AudioFileError(f"'{path.name}' is too short to loop")
    return audio


def _length(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} s"
