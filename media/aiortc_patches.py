"""Process-wide speed-ups for aiortc hot paths (opt-in, version-checked).

aiortc computes the RFC 6465 audio level of every frame it sends with a pure
Python loop over the samples (``aiortc.rtp.compute_audio_level_dbov``):
about 0.1 ms per 20 ms frame, a large share of a sending leg's CPU.
:func:`speed_up_aiortc` replaces it with the same arithmetic in numpy. The
result is identical (same formula, same rounding); the unit tests compare
both on random and edge-case frames.
"""

from __future__ import annotations

import math

import numpy as np
from aiortc import rtp
from aiortc.rtcrtpsender import RTCRtpSender
from av import AudioFrame

from media.errors import UnsupportedAiortcVersion

_MAX_SAMPLE_VALUE = 32767
_MIN_AUDIO_LEVEL = -127
_MAX_AUDIO_LEVEL = 0

#: aiortc's own implementation, kept for comparison and :func:`restore_aiortc`.
ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV = rtp.compute_audio_level_dbov


def compute_audio_level_dbov(frame: AudioFrame) -> int:
    """RFC 6465 Appendix A level of an s16 frame, in -dBov (0 loudest, -127 silence); numpy version.

    Same arithmetic as aiortc's: the sum of squares over the first plane
    divided by ``frame.samples`` (so a packed stereo frame counts both
    channels, exactly like aiortc).
    """
    samples = np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16)
    x = samples.astype(np.float64)
    rms = math.sqrt(float(np.dot(x, x)) / (frame.samples * _MAX_SAMPLE_VALUE * _MAX_SAMPLE_VALUE))
    if rms > 0:
        db = min(max(20 * math.log10(rms), _MIN_AUDIO_LEVEL), _MAX_AUDIO_LEVEL)
    else:
        db = _MIN_AUDIO_LEVEL
    return round(db)


def speed_up_aiortc() -> None:
    """Install the numpy audio level in aiortc (idempotent, process-wide).

    Raises :class:`UnsupportedAiortcVersion` if aiortc no longer calls
    ``rtp.compute_audio_level_dbov`` from ``RTCRtpSender``, so a silent no-op
    cannot hide after an upgrade.
    """
    code = RTCRtpSender._next_encoded_frame.__code__
    if "compute_audio_level_dbov" not in code.co_names or not hasattr(rtp, "compute_audio_level_dbov"):
        raise UnsupportedAiortcVersion(
            "aiortc's RTCRtpSender no longer calls rtp.compute_audio_level_dbov; review media/aiortc_patches.py")
    rtp.compute_audio_level_dbov = compute_audio_level_dbov


def restore_aiortc() -> None:
    """Put aiortc's own implementation back (for tests and before/after measurements)."""
    rtp.compute_audio_level_dbov = ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV


def is_sped_up() -> bool:
    return rtp.compute_audio_level_dbov is compute_audio_level_dbov
