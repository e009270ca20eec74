"""StereoRecorder: both sides of a call in one file, in time, written atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import av
import numpy as np
import pytest

from media.recorder import RecordingError, StereoRecorder

RATE = 48000
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
