"""Spoken digit strings in a real human voice: Allison Smith's professional prompt recordings.

Debian's ``asterisk-core-sounds-en-wav`` (CC-BY-SA-3.0, read in place under
/usr/share/asterisk/sounds, never copied into the repository) holds one file
per digit (``digits/0.wav`` "zero" ... ``digits/9.wav``) and ``digits/oh.wav``
("oh"), 8 kHz 16-bit mono. :func:`spoken_number` splices them into a number
the way a caller reads one out: each word trimmed to its sound, a short pause
between words. The voice is the telephone band already (8 kHz recordings).

:func:`ensure_installed` installs the package when the tests run as root (as
``./bin/test`` installs chromium), else the tests that need it are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt

from media.audiofile import load_audio

PACKAGE = "asterisk-core-sounds-en-wav"
SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
RATE = 48000
#: Digit character -> the file that says it; "o" is zero spoken as "oh".
FILES = {**{str(d): f"digits/{d}.wav" for d in range(10)}, "o": "digits/oh.wav"}
#: Sound starts and ends where the 10 ms level is within this many dB of the file's loudest frame.
TRIM_DB = 35.0

Samples = npt.NDArray[np.int16]


def ensure_installed() -> str | None:
    """None when the recordings are there (installing them as root if needed), else why not."""
    if (SOUNDS / "digits" / "oh.wav").is_file():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"the human digit recordings need Debian's {PACKAGE} (sudo apt-get install {PACKAGE})"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", PACKAGE], check=False, capture_output=True, env=env)
    if done.returncode != 0 or not (SOUNDS / "digits" / "oh.wav").is_file():
        return f"installing {PACKAGE} failed: {done.stderr.decode(errors='replace')[-300:]}"
    return None


def trimmed(path: Path) -> Samples:
    """The recording at 48 kHz, cut to where its sound starts and ends."""
    x = load_audio(path, RATE).samples
    n = RATE // 100
    blocks = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    level = 10 * np.log10(np.mean(blocks * blocks, axis=1) / 32768.0**2 + 1e-12)
    loud = np.flatnonzero(level > level.max() - TRIM_DB)
    return x[loud[0] * n : (loud[-1] + 1) * n]


def spoken_number(digits: str, gap_ms: int = 80) -> Samples:
    """``"9o51"`` -> "nine oh five one" in the prompt voice, ``gap_ms`` of silence between words."""
    gap = np.zeros(RATE * gap_ms // 1000, np.int16)
    parts: list[Samples] = []
    for i, d in enumerate(digits):
        if i:
            parts.append(gap)
        parts.append(trimmed(SOUNDS / FILES[d]))
    return np.concatenate(parts)
