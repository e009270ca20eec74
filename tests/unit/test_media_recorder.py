"""StereoRecorder: both sides of a call in one file, in time, written atomically."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np
import pytest

from media.recorder import RecordingError, StereoRecorder

RATE = 48000
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux
BLOCK = 960


def tone(hz: float, block: int) -> np.ndarray:
    t = (np.arange(BLOCK) + block * BLOCK) / RATE
    return (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)


def read(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = [f.to_ndarray() for f in container.decode(container.streams.audio[0])]
    pcm = np.concatenate(frames, axis=1)
    return pcm.reshape(-1, 2).T if pcm.shape[0] == 1 else pcm  # packed WAV -> (2, n)


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64)))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[int(np.argmax(spectrum))]) if np.any(x) else 0.0


@pytest.mark.parametrize("suffix", [".wav", ".ogg"])
def test_each_side_on_its_own_channel_and_a_silent_side_is_padded(tmp_path: Path, suffix: str) -> None:
    now = [0.0]
    path = tmp_path / f"call{suffix}"
    rec = StereoRecorder(path, clock=lambda: now[0])
    for i in range(100):  # 2 s of caller, the agent only for the first second
        now[0] = (i + 1) * 0.02
        rec("a", tone(440, i))
        if i < 50:
            rec("b", tone(1000, i))
    assert not path.exists() and (tmp_path / f"call{suffix}.part").exists()  # complete or absent
    assert rec.close() == path and not (tmp_path / f"call{suffix}.part").exists()
    pcm = read(path)
    assert abs(pcm.shape[1] - 2 * RATE) < RATE // 10
    first, second = slice(RATE // 4, RATE * 3 // 4), slice(RATE * 5 // 4, RATE * 7 // 4)
    assert abs(peak_hz(pcm[0][first]) - 440) < 10 and abs(peak_hz(pcm[1][first]) - 1000) < 10
    assert abs(peak_hz(pcm[0][second]) - 440) < 10
    assert np.abs(pcm[1][second]).max() < 0.02 * (32767 if pcm.dtype == np.int16 else 1)
    assert rec.duration_ms == pytest.approx(2000, abs=100)


def test_a_side_that_pauses_is_placed_at_its_time(tmp_path: Path) -> None:
    now = [0.0]
    rec = StereoRecorder(tmp_path / "gap.wav", clock=lambda: now[0])
    for i in range(100):
        now[0] = (i + 1) * 0.02
        rec("a", tone(440, i))
        if i < 25 or i >= 75:  # the agent is silent (nothing sent) from 0.5 s to 1.5 s
            rec("b", tone(1000, i))
    pcm = read(rec.close() or tmp_path / "missing")
    # after the pause the agent's audio is at 1.5 s, not pulled forward to 0.5 s
    assert np.abs(pcm[1][int(0.7 * RATE) : int(1.3 * RATE)]).max() == 0
    assert abs(peak_hz(pcm[1][int(1.55 * RATE) : int(1.95 * RATE)]) - 1000) < 10


def test_nothing_recorded_leaves_no_file(tmp_path: Path) -> None:
    rec = StereoRecorder(tmp_path / "empty.ogg")
    assert rec.close() is None
    assert list(tmp_path.iterdir()) == []


def test_only_ogg_or_wav(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="mp3"):
        StereoRecorder(tmp_path / "call.mp3")


@pytest.mark.parametrize("suffix", [".wav", ".ogg"])
def test_a_recording_is_private(tmp_path: Path, suffix: str) -> None:
    """The file 0600 (while written too) and the directories it needed 0700, whatever the umask."""
    old_umask = os.umask(0o022)
    try:
        rec = StereoRecorder(tmp_path / "recordings" / "c_1" / f"call{suffix}")
        part = tmp_path / "recordings" / "c_1" / f"call{suffix}.part"
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
        for i in range(10):
            rec("a", tone(440, i))
            rec("b", tone(1000, i))
        path = rec.close()
    finally:
        os.umask(old_umask)
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (tmp_path / "recordings", tmp_path / "recordings" / "c_1"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


#: Reads the pipe only when told on stdin (or after a generous bound: the process that should tell it may be frozen),
#: into a file; prints whether it was told.
DRAIN = """
import select, sys
told = bool(select.select([sys.stdin], [], [], 30)[0])
with open(sys.argv[1], "rb") as pipe, open(sys.argv[2], "wb") as out:
    while chunk := pipe.read(65536):
        out.write(chunk)
print("told" if told else "not told")
"""


def test_the_event_loop_serves_while_the_recording_cannot_be_written(tmp_path: Path) -> None:
    """The file is a pipe nobody reads yet (a file system that stalls): the tap still returns at once, the loop
    keeps serving, blocks the writer has no room for are dropped and counted, and once the file system moves
    again the recording is a valid stereo Ogg/Opus as long as the audio fed (the dropped blocks silent).

    The pipe is drained by another process, told to start once every block was fed: the old recorder encoded
    and wrote on the tap's thread (the loop's), and FFmpeg's blocked write held the GIL, freezing this whole
    process until that process gave up waiting."""
    part, written = tmp_path / "stalled.ogg.part", tmp_path / "written.ogg"
    os.mkfifo(part, 0o600)
    idle_reader = os.open(part, os.O_RDONLY | os.O_NONBLOCK)  # so opening for writing does not wait; never read
    fcntl.fcntl(idle_reader, F_SETPIPE_SZ, 4096)  # the smallest pipe: the writer stalls after a few seconds of audio
    drainer = subprocess.Popen(
        [sys.executable, "-c", DRAIN, str(part), str(written)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    now = [0.0]
    rec: StereoRecorder | None = None

    async def feed_with_a_heartbeat(rec: StereoRecorder) -> int:
        ticks = 0

        async def heartbeat() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        beating = asyncio.create_task(heartbeat())
        try:
            for i in range(500):  # 10 s of both sides, as fast as the loop goes
                now[0] = (i + 1) * 0.02
                rec("a", tone(440, i))
                rec("b", tone(1000, i))
                await asyncio.sleep(0)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        return ticks

    try:
        rec = StereoRecorder(tmp_path / "stalled.ogg", clock=lambda: now[0], queue_blocks=50)
        ticks = asyncio.run(feed_with_a_heartbeat(rec))
        dropped = rec.blocks_dropped
        assert drainer.stdin is not None
        drainer.stdin.write(b"go\n")  # only now is the pipe read
        drainer.stdin.close()
        path = rec.close()
        assert drainer.stdout is not None
        verdict = drainer.stdout.read()  # it has written the file and ended
    finally:
        if rec is not None and not rec.closed:
            drainer.kill()
            rec.close()
        drainer.kill()
        drainer.wait()
        for pipe in (drainer.stdin, drainer.stdout):
            if pipe is not None:
                pipe.close()
        os.close(idle_reader)
    assert verdict.strip() == b"told", "the event loop froze while the recording could not be written"
    assert ticks >= 500 and dropped > 0
    assert path == tmp_path / "stalled.ogg"
    with av.open(str(written)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus" and stream.channels == 2
    pcm = read(written)
    assert abs(pcm.shape[1] - 10 * RATE) < RATE // 10  # the dropped blocks are silence in their place
    assert rec.duration_ms == pytest.approx(10_000, abs=100)
    assert abs(peak_hz(pcm[0][RATE // 4 : RATE * 3 // 4]) - 440) < 10


def test_handing_blocks_over_wakes_no_thread(tmp_path: Path) -> None:
    """The tap runs on the event loop for every recorded block: a hand-over is an append to the queue, never a
    notify that wakes the writer (the futex call and the woken writer's demand for the GIL cost the loop more than
    the hand-over; see the module's docstring). The writer polls, so it never waits on the queue's condition."""
    rec = StereoRecorder(tmp_path / "call.wav")
    try:
        for i in range(40):
            rec("a", tone(440, i))
            rec("b", tone(660, i))
        for _ in range(500):  # the writer took every batch (bounded wait)
            if rec._queue.empty() and rec.frames_written >= 30 * BLOCK:
                break
            threading.Event().wait(0.01)
        assert rec._queue.empty()
        for _ in range(30):  # and then waits for more without a waiter on the queue's condition
            assert not rec._queue.not_empty._waiters  # type: ignore[attr-defined]
            threading.Event().wait(0.01)
    finally:
        rec.close()
