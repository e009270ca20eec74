"""Both sides of a bridged call into one stereo file: left the caller, right the agent, in time.

A :class:`StereoRecorder` is a :data:`~media.bridge.Tap`: the bridge hands it
every 20 ms block of each side as it arrives. The two sides run on different
clocks and either may pause (a muted or held side, a network stall), so each
block is placed by its arrival time: a side that fell more than
``max_skew_ms`` behind where the clock says it should be is padded with
silence first. Stereo frames are written as soon as both channels have them
(or one has waited ``max_skew_ms`` for the other), encoded by PyAV as Opus in
Ogg (``.ogg``, about 64 kb/s) or as 16-bit PCM WAV (``.wav``).

The encoding and writing happen in the recorder's own writer thread, never on the event loop that relays
every call's packets (an Opus encode and a file write per 20 ms frame, or a file system that stalls, would delay
every packet of every call on the node). The tap only stamps each block with its arrival time and puts it on a
bounded queue (``queue_blocks``, 5 s of both sides by default, handed over ``BATCH_BLOCKS`` at a time). The tap
never wakes the writer: the writer looks at the queue every ``WRITER_POLL`` seconds on its own clock. A wake-up from
the loop (a condition's notify per hand-over) cost the loop more than the hand-over itself: the futex call, and the
woken writer then asking for the GIL while the loop has packets waiting in its sockets; with ten recorded calls the
loop spent about 9 % of its GIL time in that notify. When the writer has fallen that far behind, the blocks are
dropped rather than the loop blocked: counted (:attr:`StereoRecorder.blocks_dropped`, and the time they held,
:attr:`StereoRecorder.dropped_ms`), logged, and replaced by silence of its length, so what follows stays in time.
:meth:`close` drains the queue and joins the thread (call it off the event loop).

Writes go to ``PATH.part`` and the file is renamed to ``PATH`` by
:meth:`close`, so a recording is either complete or absent, never half there.
A recording is private: the file is created 0600 and missing directories 0700.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from av.container import OutputContainer

from media.errors import MediaError

SAMPLE_RATE = 48000
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
FRAME = 960
QUEUE_BLOCKS = 500  # 5 s of both sides' 20 ms blocks waiting for the writer
BATCH_BLOCKS = 10  # blocks handed to the writer at once (100 ms of both sides)
WRITER_POLL = 0.1  # seconds the writer sleeps when it finds the queue empty (the tap never wakes it)
Samples = npt.NDArray[np.int16]
#: A queued block: channel, arrival time (the clock's), samples, samples dropped on that channel just before it
#: (placed by its arrival time, so the dropped ones become silence)
Block = tuple[int, float, Samples, int]
log = logging.getLogger(__name__)


class RecordingError(MediaError):
    code = "recording_error"


def _private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents as 0700 (an existing one is left as it is)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # made by another recorder at the same moment
        os.chmod(d, PRIVATE_DIR)  # mkdir's mode passes through the umask


class StereoRecorder:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_skew_ms: int = 200,
        queue_blocks: int = QUEUE_BLOCKS,
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".ogg", ".wav"):
            raise RecordingError(f"recordings are .ogg or .wav files, not {self.path.name!r}")
        _private_dirs(self.path.parent)
        self._part = self.path.with_name(self.path.name + ".part")
        # Created 0600 before PyAV opens it (opening an existing file for writing keeps its mode).
        os.close(os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
        os.chmod(self._part, PRIVATE_FILE)
        self._ogg = suffix == ".ogg"
        self._clock = clock
        self._start = clock()
        self._skew = max_skew_ms * SAMPLE_RATE // 1000
        # the tap's side (the event loop's thread)
        self._queue: queue.Queue[list[Block] | None] = queue.Queue(maxsize=max(1, queue_blocks // BATCH_BLOCKS))
        self._batch: list[Block] = []
        self._gap = [0, 0]  # samples dropped on each channel since its last block queued
        self._dropped_at = [0.0, 0.0]  # when each channel's last dropped block arrived
        self.blocks_dropped = 0
        self._samples_dropped = [0, 0]  # on each channel, since the start
        self.closed = False
        # the writer's side (its thread only, until close() joined it)
        self._pending: list[list[Samples]] = [[], []]
        self._pending_len = [0, 0]
        self._received = [0, 0]  # samples placed on each channel since the start (padding included)
        self.frames_written = 0
        self._pts = 0
        self._error: BaseException | None = None
        self._writer = threading.Thread(target=self._write, name=f"recorder-{self.path.name}", daemon=True)
        self._writer.start()

    @property
    def duration_ms(self) -> int:
        return self.frames_written * 1000 // SAMPLE_RATE

    @property
    def dropped_ms(self) -> int:
        """How much of the call is silence in the file because its blocks were dropped (the side that lost more)."""
        return max(self._samples_dropped) * 1000 // SAMPLE_RATE

    def __call__(self, side: str, samples: Samples) -> None:
        """The bridge tap: ``side`` "a" (caller, left) or "b" (agent, right). Never blocks: a block the writer has
        no room for is dropped (and becomes silence of its length in the file)."""
        if self.closed:
            return
        ch = 0 if side == "a" else 1
        block = np.array(samples, dtype=np.int16).reshape(-1)  # a copy: the caller may reuse its buffer
        self._batch.append((ch, self._clock(), block, self._gap[ch]))
        self._gap[ch] = 0
        if len(self._batch) >= BATCH_BLOCKS:
            self._hand_over()

    def _hand_over(self) -> None:
        batch, self._batch = self._batch, []
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            for ch, at, block, gap in batch:
                self._gap[ch] += gap + len(block)
                self._dropped_at[ch] = at
                self._samples_dropped[ch] += len(block)
            if not self.blocks_dropped:
                log.warning(
                    "recording %s: the writer fell behind, blocks dropped (silence in the file)", self.path.name
                )
            self.blocks_dropped += len(batch)

    # ---- the writer thread

    def _write(self) -> None:
        ended = False
        try:
            # Through a Python file object, not FFmpeg's own file I/O: a write that blocks (a stalled file system)
            # then blocks without the GIL, and the event loop's thread goes on (FFmpeg writing the trailer itself
            # would hold the GIL while it waits, freezing the whole process).
            with open(self._part, "wb") as file:
                container = av.open(file, "w", format="ogg" if self._ogg else "wav")
                try:
                    stream = container.add_stream(
                        "libopus" if self._ogg else "pcm_s16le", rate=SAMPLE_RATE, layout="stereo"
                    )
                    assert isinstance(stream, av.AudioStream)
                    if self._ogg:
                        stream.bit_rate = 64000
                    while (batch := self._next_batch()) is not None:
                        for item in batch:
                            self._place(container, stream, *item)
                    ended = True
                    if self._pending_len[0] or self._pending_len[1]:
                        self._flush(container, stream, final=True)
                    for packet in stream.encode(None):
                        container.mux(packet)
                finally:
                    container.close()
        except (OSError, av.FFmpegError) as exc:  # the file system failed: close() raises it
            self._error = exc
            log.warning("recording %s failed: %s", self.path.name, exc)
        while not ended:  # after a failure: take what is queued until close() says the end (never blocks the tap)
            ended = self._next_batch() is None

    def _next_batch(self) -> list[Block] | None:
        """The next handed-over batch (None: the end), polled: the writer never waits on the queue's condition,
        so a hand-over (``put_nowait``) finds no waiter to wake."""
        while True:
            try:
                return self._queue.get_nowait()
            except queue.Empty:
                time.sleep(WRITER_POLL)

    def _place(
        self, container: OutputContainer, stream: av.AudioStream, ch: int, at: float, samples: Samples, gap: int
    ) -> None:
        due = int((at - self._start) * SAMPLE_RATE) - len(samples)
        behind = due - self._received[ch]
        # this side paused, or blocks of it were dropped just before this one: fill the gap with silence (up to
        # where the clock says this block belongs: the other side's lead may have padded this one already)
        if behind > self._skew or (gap and behind > 0):
            self._add(ch, np.zeros(behind, np.int16))
        self._add(ch, samples)
        self._flush(container, stream)

    def _add(self, ch: int, samples: Samples) -> None:
        self._pending[ch].append(samples)
        self._pending_len[ch] += len(samples)
        self._received[ch] += len(samples)

    def _take(self, ch: int, n: int) -> Samples:
        joined = np.concatenate(self._pending[ch]) if self._pending[ch] else np.zeros(0, np.int16)
        head, rest = joined[:n], joined[n:]
        self._pending[ch] = [rest] if len(rest) else []
        self._pending_len[ch] = len(rest)
        return head

    def _flush(self, container: OutputContainer, stream: av.AudioStream, final: bool = False) -> None:
        lead, lag = (0, 1) if self._pending_len[0] >= self._pending_len[1] else (1, 0)
        if self._pending_len[lead] - self._pending_len[lag] > self._skew or final:
            missing = self._pending_len[lead] - self._pending_len[lag]
            self._add(lag, np.zeros(missing, np.int16))  # the other side is silent: do not hold this one back
        n = min(self._pending_len) if not final else max(self._pending_len)
        n -= n % FRAME if not final else 0
        if n <= 0:
            return
        left, right = self._take(0, n), self._take(1, n)
        stereo = np.empty(2 * n, np.int16)
        stereo[0::2], stereo[1::2] = left, right
        for start in range(0, n, FRAME):
            chunk = stereo[2 * start : 2 * min(n, start + FRAME)]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate = SAMPLE_RATE
            frame.pts, frame.time_base = self._pts, Fraction(1, SAMPLE_RATE)
            self._pts += len(chunk) // 2
            for packet in stream.encode(frame):
                container.mux(packet)
        self.frames_written += n

    def close(self) -> Path | None:
        """Write what is queued and pending, finish the file, and move it into place; None if nothing was recorded.
        Blocks until the writer is done: call it off the event loop."""
        if self.closed:
            self._writer.join()
            return self.path if self.path.exists() else None
        self.closed = True
        if self._batch:
            self._queue.put(self._batch)  # waits for room while the writer catches up
            self._batch = []
        for ch, gap in enumerate(self._gap):  # blocks dropped at the end: silence up to the last one's time
            if gap:
                self._queue.put([(ch, self._dropped_at[ch], np.zeros(0, np.int16), gap)])
        self._queue.put(None)
        self._writer.join()
        if self.blocks_dropped:
            log.warning(
                "recording %s: %d blocks dropped (%d ms of silence instead)",
                self.path.name,
                self.blocks_dropped,
                self.blocks_dropped * 20,
            )
        if self._error is not None:
            raise RecordingError(f"recording {self.path.name} failed: {self._error}") from self._error
        if self.frames_written == 0:
            self._part.unlink(missing_ok=True)
            return None
        os.replace(self._part, self.path)
        return self.path
