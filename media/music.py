"""Music on hold made from numbers: a soft, slow arpeggio, generated once (no audio file to ship).

Admins can play a file per queue instead (its ``music``: gateway/calls/hold_music.py); this is the default so a
fresh install never leaves a waiting caller in silence, which callers take
for a dropped line.
"""

from __future__ import annotations

import numpy as np

from media.audio import Audio

SAMPLE_RATE = 48000
#: C major 7 - A minor 7 - F major 7 - G6, one chord per two seconds, notes as frequencies (Hz).
_CHORDS = (
    (261.63, 329.63, 392.00, 493.88),
    (220.00, 261.63, 329.63, 392.00),
    (174.61, 220.00, 261.63, 329.63),
    (196.00, 246.94, 293.66, 329.63),
)
NOTE_SECONDS = 0.5


def hold_music(level_dbfs: float = -20.0) -> Audio:
    """Eight seconds that loop seamlessly: each note a decaying sine with a soft octave, at ``level_dbfs`` peak."""
    n = int(NOTE_SECONDS * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-3.0 * t)
    notes = []
    for chord in _CHORDS:
        for f in chord:
            tone = np.sin(2 * np.pi * f * t) + 0.25 * np.sin(2 * np.pi * 2 * f * t)
            notes.append(tone * envelope)
    x = np.concatenate(notes)
    x = x / np.max(np.abs(x)) * 32767 * 10 ** (level_dbfs / 20)
    return Audio(np.round(x).astype(np.int16), SAMPLE_RATE)
