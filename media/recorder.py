"""Both sides of a bridged call into one stereo file: left the caller, right the agent, in time.

A :class:`StereoRecorder` is a :data:`~media.bridge.Tap`: the bridge hands it
every 20 ms block of each side as it arrives. The two sides run on different
clocks and either may pause (a muted or held side, a network stall), so each
block is placed by its arrival time: a side that fell more than
``max_skew_ms`` behind where the clock says it should be is padded with
silence first. Stereo frames are written as soon as both channels have them
(or one has waited ``max_skew_ms`` for the other), encoded by PyAV as Opus in
Ogg (``.ogg``, about 64 kb/s) or as 16-bit PCM WAV (``.wav``).

Writes go to ``PATH.part`` and the file is renamed to ``PATH`` by
:meth:`close`, so a recording is either complete or absent, never half there.
A recording is private: the file is created 0600 and missing directories 0700.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from media.errors import MediaError

SAMPLE_RATE = 48000
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
FRAME = 960
Samples = npt.NDArray[np.int16]


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
        self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.monotonic, max_skew_ms: int = 200
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
        self._clock = clock
        self._start = clock()
        self._skew = max_skew_ms * SAMPLE_RATE // 1000
        self._pending: list[list[Samples]] = [[], []]
        self._pending_len = [0, 0]
        self._received = [0, 0]  # samples placed on each channel since the start (padding included)
        self.frames_written = 0
        self._container = av.open(str(self._part), "w", format="ogg" if suffix == ".ogg" else "wav")
        codec = "libopus" if suffix == ".ogg" else "pcm_s16le"
        stream = self._container.add_stream(codec, rate=SAMPLE_RATE, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        self._stream: av.AudioStream = stream
        if suffix == ".ogg":
            self._stream.bit_rate = 64000
        self._pts = 0
        self.closed = False

    @property
    def duration_ms(self) -> int:
        return self.frames_written * 1000 // SAMPLE_RATE

    def __call__(self, side: str, samples: Samples) -> None:
        """The bridge tap: ``side`` "a" (caller, left) or "b" (agent, right)."""
        if self.closed:
            return
        ch = 0 if side == "a" else 1
        due = int((self._clock() - self._start) * SAMPLE_RATE) - len(samples)
        if due - self._received[ch] > self._skew:  # this side paused: fill the gap with silence
            self._add(ch, np.zeros(due - self._received[ch], np.int16))
        self._add(ch, np.asarray(samples, dtype=np.int16).reshape(-1))
        self._flush()

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

    def _flush(self, final: bool = False) -> None:
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
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        self.frames_written += n

    def close(self) -> Path | None:
        """Write what is pending, finish the file, and move it into place; None if nothing was recorded."""
        if self.closed:
            return self.path if self.path.exists() else None
        self.closed = True
        try:
            if self._pending_len[0] or self._pending_len[1]:
                self._flush(final=True)
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
        if self.frames_written == 0:
            self._part.unlink(missing_ok=True)
            return None
        os.replace(self._part, self.path)
        return self.path
