"""Spoken digits in the wideband recordings of the prompt voice: "six" is heard as "six" again.

Debian ships Allison Smith's prompts twice: 8 kHz WAV (asterisk-core-sounds-en-wav, the telephone band) and
16 kHz G.722 (asterisk-core-sounds-en-g722, decoded by PyAV as ``adpcm_g722``), read in place
(tests/support/prompt_voice.py). pocketsphinx's en-us model is a 16 kHz model and a WebRTC caller's Opus audio
is wideband: on the 8 kHz recordings every string with a "six" was read as another number ("6203" -> 8203,
"2468" -> 2488), on the 16 kHz ones they are right once the comfort noise no longer buries the 4-8 kHz band
(media/asr/sphinx_engine.py, "Wideband": with the old white noise 30 dB under the speech, "2468" -> 2488 and
"3960" -> 3980 in the wideband audio too, "6203" and "8642" no-matches). On the 8 kHz recordings those strings
are no-matches now, not wrong numbers. Through the real listener and engine.
"""

from __future__ import annotations

import numpy as np
import pytest

from media.asr.engine import SAMPLE_RATE
from media.asr.grammar import Grammar
from media.asr.harness import listen
from media.asr.listener import Recognized, SpeechListener
from media.asr.loudness import high_band_db, is_wideband
from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import SphinxEngine
from media.audio import Audio, resample
from tests.support import prompt_voice
from tests.support.prompt_voice import NARROW, WIDE

PIN = Grammar.of([], digits=True, min_digits=4, max_digits=4)
#: "o" is zero said "oh"; every string but the first has a "six" (measured: all read wrong on 8 kHz audio).
WIDE_RIGHT = ("9o51", "6203", "2468", "8642", "3960")


@pytest.fixture(scope="module", autouse=True)
def wideband() -> None:
    missing = prompt_voice.ensure_installed(wide=True)
    if missing:
        pytest.skip(missing)


def pcm16k(samples48k: np.ndarray) -> bytes:
    return resample(Audio(samples48k, 48000), SAMPLE_RATE).samples.tobytes()


def test_the_wideband_recordings_load_and_carry_the_band_above_4_khz() -> None:
    wide = prompt_voice.recording_audio("digits/6", WIDE)
    narrow = prompt_voice.recording_audio("digits/6", NARROW)
    assert (wide.sample_rate, narrow.sample_rate) == (16000, 8000)
    # the same take: the same length within 10 ms
    assert abs(len(wide.samples) / 16000 - len(narrow.samples) / 8000) < 0.01
    said_wide, said_narrow = prompt_voice.spoken_number("6", band=WIDE), prompt_voice.spoken_number("6")
    print(
        f"\n'six' above 4.2 kHz: wideband {high_band_db(pcm16k(said_wide)):.1f} dB, 8 kHz {high_band_db(pcm16k(said_narrow)):.1f} dB"
    )
    assert is_wideband(pcm16k(said_wide))
    assert not is_wideband(pcm16k(said_narrow))


async def heard(sphinx: SphinxEngine, pool: RecognitionPool, said: str, band: str) -> str | None:
    listener = SpeechListener(sphinx, pool, label="wideband-digits")
    try:
        trace = await listen(listener, PIN, prompt_voice.spoken_number(said, band=band))
    finally:
        await listener.close()
    return trace.outcome.result.digits if isinstance(trace.outcome, Recognized) else None


async def test_wideband_spoken_digits_are_right_where_the_telephone_band_hears_six_as_eight(
    sphinx: SphinxEngine, pool: RecognitionPool
) -> None:
    got = {s: await heard(sphinx, pool, s, WIDE) for s in WIDE_RIGHT}
    print(f"\nwideband, exact 4-digit grammar: {got}")
    assert got == {s: s.replace("o", "0") for s in WIDE_RIGHT}
    # the 8 kHz recordings of the same strings were read as 8203, 2488, 8842, 3980: now a no-match, never a
    # different number (a string with an "eight" in the telephone band is under min_confidence)
    narrow = {s: await heard(sphinx, pool, s, NARROW) for s in WIDE_RIGHT[1:]}
    print(f"8 kHz, exact 4-digit grammar: {narrow}")
    assert narrow == dict.fromkeys(WIDE_RIGHT[1:])
