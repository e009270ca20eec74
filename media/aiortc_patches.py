"""Process-wide speed-ups for aiortc hot paths and delays (opt-in, version-checked).

aiortc computes the RFC 6465 audio level of every frame it sends with a pure
Python loop over the samples (``aiortc.rtp.compute_audio_level_dbov``):
about 0.1 ms per 20 ms frame, a large share of a sending leg's CPU.
:func:`speed_up_aiortc` replaces it with the same arithmetic in numpy. The
result is identical (same formula, same rounding); the unit tests compare
both on random and edge-case frames.

aiortc's receiver holds audio in a jitter buffer that releases a frame only
once 4 later packets have arrived (``prefetch=4``): 80 ms on every leg the
gateway receives, paid twice on a bridged call and once more before the VAD
hears the end of an answer. :func:`shorten_audio_jitter_buffer` makes audio
buffers release after :data:`AUDIO_PREFETCH` packet(s) instead (video keeps
aiortc's settings). The price: a packet arriving more than that late behind
its successor is dropped; the browsers at the ends keep their own adaptive
buffers.
"""

from __future__ import annotations

import math

import numpy as np
from aiortc import rtcrtpreceiver, rtp
from aiortc.jitterbuffer import JitterBuffer
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


#: Packets an audio jitter buffer waits for beyond the frame it releases (aiortc: 4, i.e. 80 ms).
AUDIO_PREFETCH = 1
ORIGINAL_JITTER_BUFFER = rtcrtpreceiver.JitterBuffer


class ShortAudioJitterBuffer(JitterBuffer):
    """aiortc's jitter buffer with at most :data:`AUDIO_PREFETCH` packets of prefetch for audio."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity, prefetch if is_video else min(prefetch, AUDIO_PREFETCH), is_video)


def shorten_audio_jitter_buffer() -> None:
    """Make every receiver created from now on use :class:`ShortAudioJitterBuffer` (idempotent, process-wide).

    Raises :class:`UnsupportedAiortcVersion` when aiortc's receiver no longer builds its buffer from
    ``rtcrtpreceiver.JitterBuffer`` with a ``prefetch`` argument.
    """
    code = rtcrtpreceiver.RTCRtpReceiver.__init__.__code__
    if "JitterBuffer" not in code.co_names or \
            "prefetch" not in ORIGINAL_JITTER_BUFFER.__init__.__code__.co_varnames:
        raise UnsupportedAiortcVersion(
            "aiortc's RTCRtpReceiver no longer makes rtcrtpreceiver.JitterBuffer(prefetch=...); "
            "review media/aiortc_patches.py")
    rtcrtpreceiver.JitterBuffer = ShortAudioJitterBuffer  # type: ignore[misc]


def restore_jitter_buffer() -> None:
    rtcrtpreceiver.JitterBuffer = ORIGINAL_JITTER_BUFFER  # type: ignore[misc]
