"""Spoken digit strings in a real human voice: Allison Smith's professional prompt recordings.

Debian's ``asterisk-core-sounds-en-wav`` (CC-BY-SA-3.0, read in place under
/usr/share/asterisk/sounds, never copied into the repository) holds one file
per digit (``digits/0.wav`` "zero" ... ``digits/9.wav``) and ``digits/oh.wav``
("oh"), 8 kHz 16-bit mono. :func:`spoken_number` splices them into a number
the way a caller reads one out: each word trimmed to its sound, a short pause
between words. The voice is the telephone band already (8 kHz recordings).
bench/human_set.py reads the same package through this module (:data:`SOUNDS`,
:func:`ensure_installed`, :func:`trim`, :func:`splice`).

**Wideband.** Debian ships the same recordings at 16 kHz as
``asterisk-core-sounds-en-g722`` (same upstream, same CC-BY-SA-3.0 copyright
file, the same 568 names under the same directory with ``.g722`` for ``.wav``):
raw G.722 at 64 kbit/s, which FFmpeg (through PyAV, :func:`media.audiofile.load_audio`)
decodes as ``adpcm_g722``. That is the band a WebRTC caller's Opus audio has and
the band pocketsphinx's en-us model was trained on; :func:`recording_audio`
and :func:`spoken_number` take ``band="wide"`` for it (:data:`WIDE`), and
:func:`ensure_installed` installs it with ``wide=True``.

:func:`ensure_installed` installs the package when the tests run as root (as
``./bin/test`` installs chromium), else the tests that need it are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from media.audio import Audio
from media.audiofile import load_audio, read_wav

PACKAGE = "asterisk-core-sounds-en-wav"
WIDE_PACKAGE = "asterisk-core-sounds-en-g722"
SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
#: The two recordings of every prompt: ``narrow`` 8 kHz wav (the telephone band), ``wide`` 16 kHz G.722.
NARROW, WIDE = "narrow", "wide"
BANDS = (WIDE, NARROW)
PACKAGES = {NARROW: PACKAGE, WIDE: WIDE_PACKAGE}
EXTENSIONS = {NARROW: ".wav", WIDE: ".g722"}
RATE = 48000
#: Digit character -> the file that says it; "o" is zero spoken as "oh".
FILES = {**{str(d): f"digits/{d}" for d in range(10)}, "o": "digits/oh"}
#: Sound starts and ends where the 10 ms level is within this many dB of the file's loudest frame.
TRIM_DB = 35.0

Samples = npt.NDArray[np.int16]


def ensure_installed(wide: bool = False) -> str | None:
    """None when the recordings are there (installing them as root if needed), else why not; ``wide``: the
    16 kHz G.722 recordings as well."""
    wanted = [PACKAGE, WIDE_PACKAGE] if wide else [PACKAGE]
    missing = [p for p in wanted if not (SOUNDS / "digits" / f"oh{EXTENSIONS[_band_of(p)]}").is_file()]
    if not missing:
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        names = " ".join(missing)
        return f"the human digit recordings need Debian's {names} (sudo apt-get install {names})"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=False, capture_output=True, env=env)
    if done.returncode != 0 or any(not (SOUNDS / "digits" / f"oh{EXTENSIONS[_band_of(p)]}").is_file() for p in missing):
        return f"installing {' '.join(missing)} failed: {done.stderr.decode(errors='replace')[-300:]}"
    return None


def _band_of(package: str) -> str:
    return WIDE if package == WIDE_PACKAGE else NARROW


def recording_audio(name: str, band: str = NARROW) -> Audio:
    """``digits/9`` -> that recording at its own rate: 8 kHz from the wav package, 16 kHz from the G.722 one."""
    path = SOUNDS / f"{name}{EXTENSIONS[band]}"
    return load_audio(path, 16000) if band == WIDE else read_wav(path)


def trim(x: Samples, rate: int, below_peak_db: float = TRIM_DB, floor_dbfs: float | None = None) -> Samples:
    """``x`` cut to where its sound starts and ends: the 10 ms blocks within ``below_peak_db`` of the loudest one
    (and over ``floor_dbfs``, if given); ``x`` itself when no block is."""
    n = rate // 100
    blocks = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    level = 10 * np.log10(np.mean(blocks * blocks, axis=1) / 32768.0**2 + 1e-12)
    threshold = level.max() - below_peak_db
    loud = np.flatnonzero(level > (threshold if floor_dbfs is None else max(floor_dbfs, threshold)))
    if len(loud) == 0:
        return x
    return x[loud[0] * n : (loud[-1] + 1) * n]


def trimmed(name: str, band: str = NARROW) -> Samples:
    """The recording at 48 kHz, cut to where its sound starts and ends."""
    return trim(load_audio(SOUNDS / f"{name}{EXTENSIONS[band]}", RATE).samples, RATE)


def splice(words: Iterable[Samples], gaps: Iterable[int]) -> Samples:
    """The words one after another, ``gaps`` samples of silence between each two (one gap fewer than words)."""
    parts: list[Samples] = []
    gap = iter(gaps)
    for i, word in enumerate(words):
        if i:
            parts.append(np.zeros(next(gap), np.int16))
        parts.append(word)
    return np.concatenate(parts)


def spoken_number(digits: str, gap_ms: int = 80, band: str = NARROW) -> Samples:
    """``"9o51"`` -> "nine oh five one" in the prompt voice, ``gap_ms`` of silence between words; ``band``:
    from the 8 kHz (``narrow``) or the 16 kHz G.722 (``wide``) recordings."""
    gap = RATE * gap_ms // 1000
    return splice((trimmed(FILES[d], band) for d in digits), (gap for _ in digits))
