"""media.dtmf: the Goertzel detector (tones, Opus, speech, music, noise) and RFC 4733 events."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
import pytest

from media.dtmf import (
    DIGITS,
    GoertzelDetector,
    TelephoneEvent,
    TelephoneEventPayloadError,
    TelephoneEventReceiver,
    build_telephone_event,
    dtmf_sequence,
    dtmf_tone,
    parse_telephone_event,
)
from media.tts import Synthesizer

SENTENCES = [
    "Thank you for calling customer support. Your call is important to us.",
    "Please say billing, technical support, or agent, or press one, two or three.",
    "Zero one two three four five six seven eight nine, star, pound.",
    "Hello? Hello! Can you hear me? I would like to speak to someone about my account, please.",
    "She sells sea shells by the sea shore, and Peter Piper picked a peck of pickled peppers.",
]
VOICES = ["en-us", "en-us+f3", "en-gb", "en-us+m7", "en-us+klatt", "en-gb-x-rp+Annie", "ko"]


def silence(ms: int, rate: int = 48000) -> np.ndarray:
    return np.zeros(rate * ms // 1000, dtype=np.int16)


def opus_round_trip(samples: np.ndarray, bitrate: int = 32000, layout: str = "mono") -> np.ndarray:
    """Encode 48 kHz int16 with libopus (20 ms frames) and decode it again; returns mono int16."""
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format, enc.bit_rate = 48000, layout, "s16", bitrate
    enc.time_base = fractions.Fraction(1, 48000)
    enc.options = {"application": "voip"}
    dec = av.CodecContext.create("libopus", "r")
    dec.sample_rate, dec.layout, dec.format = 48000, layout, "s16"
    packets = []
    for i in range(len(samples) // 960):
        block = samples[i * 960 : (i + 1) * 960]
        if layout == "stereo":
            block = np.repeat(block, 2)
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate, frame.pts = 48000, i * 960
        packets += enc.encode(frame)
    packets += enc.encode(None)
    out = []
    for packet in packets:
        for frame in dec.decode(packet):
            data = frame.to_ndarray().reshape(-1)
            out.append(data[0::2] if layout == "stereo" else data)
    return np.concatenate(out).astype(np.int16)


@pytest.fixture(scope="module")
def speech() -> list[np.ndarray]:
    """Every sentence in every voice at three speaking rates (about 4.5 minutes of speech)."""

    async def make() -> list[np.ndarray]:
        synth = Synthesizer(None)
        return [
            (await synth.synthesize(text, voice=voice, rate_wpm=rate)).samples
            for voice in VOICES
            for rate in (120, 175, 260)
            for text in SENTENCES
        ]

    return asyncio.run(make())


def music(seconds: float, harmonics: int, seed: int) -> np.ndarray:
    """Random triads and seventh chords, each note with decaying harmonics, 250 ms per chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(48000 * 0.25)) / 48000
    out = []
    for _ in range(int(seconds * 4)):
        root = int(rng.integers(40, 76))
        chord = [root, root + 4, root + 7, root + 10] if rng.random() < 0.5 else [root, root + 3, root + 7]
        sig = np.zeros_like(t)
        for note in chord:
            f = 440 * 2 ** ((note - 69) / 12)
            for h in range(1, harmonics + 1):
                sig += 0.6 ** (h - 1) * np.sin(2 * np.pi * f * h * t + rng.random() * 6)
        out.append(sig * np.minimum(1, np.arange(len(t)) / 200) * np.exp(-t * 3))
    x = np.concatenate(out)
    return (x / np.abs(x).max() * 20000).astype(np.int16)


def noise(seconds: float, pink: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(48000 * seconds)
    if not pink:
        return np.clip(rng.normal(0, 8000, n), -32768, 32767).astype(np.int16)
    spectrum = np.fft.rfft(rng.normal(0, 1, n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    x = np.fft.irfft(spectrum, n)
    return (x / np.abs(x).max() * 20000).astype(np.int16)


# -- generator and detector on clean tones ------------------------------------------------------------


def test_dtmf_tone_shape_and_level() -> None:
    t = dtmf_tone("5", 100, 8000, level_dbfs=-6)
    assert (t.dtype, len(t)) == (np.int16, 800)
    assert np.abs(t).max() <= 32767 * 2 * 10 ** (-6 / 20) + 1
    with pytest.raises(ValueError):
        dtmf_tone("x", 100)


@pytest.mark.parametrize("rate", [48000, 16000, 8000])
def test_detects_all_sixteen_keys(rate: int) -> None:
    assert GoertzelDetector(rate).feed(dtmf_sequence(DIGITS, rate)) == list(DIGITS)


@pytest.mark.parametrize("bitrate, layout", [(32000, "mono"), (96000, "stereo"), (12000, "mono")])
def test_detects_all_keys_after_opus(bitrate: int, layout: str) -> None:
    decoded = opus_round_trip(dtmf_sequence(DIGITS, 48000), bitrate, layout)
    assert GoertzelDetector(48000).feed(decoded) == list(DIGITS)


@pytest.mark.parametrize("offset", range(0, 960, 120))
def test_60ms_tone_detected_whatever_the_alignment(offset: int) -> None:
    signal = np.concatenate(
        [silence(0) if offset == 0 else np.zeros(offset, np.int16), dtmf_tone("7", 60), silence(60)]
    )
    assert GoertzelDetector().feed(signal) == ["7"]


def test_short_blip_is_ignored() -> None:
    signal = np.concatenate([np.zeros(480, np.int16), dtmf_tone("1", 20), silence(100)])
    assert GoertzelDetector().feed(signal) == []


def test_long_press_reported_once_and_repeats_after_a_gap() -> None:
    signal = np.concatenate(
        [dtmf_tone("9", 1500), silence(60), dtmf_tone("9", 100), silence(60), dtmf_tone("9", 100), silence(60)]
    )
    assert GoertzelDetector().feed(signal) == ["9", "9", "9"]


def test_key_change_without_gap_reports_both() -> None:
    signal = np.concatenate([dtmf_tone("1", 100), dtmf_tone("2", 100), silence(40)])
    assert GoertzelDetector().feed(signal) == ["1", "2"]


def test_feeding_in_odd_chunks_equals_feeding_at_once() -> None:
    signal = np.concatenate([silence(37), dtmf_sequence("159#D", 48000)])
    detector = GoertzelDetector()
    got: list[str] = []
    for start in range(0, len(signal), 333):
        got += detector.feed(signal[start : start + 333])
    assert got == GoertzelDetector().feed(signal) == list("159#D")


def test_reset_forgets_partial_state() -> None:
    detector = GoertzelDetector()
    assert detector.feed(dtmf_tone("3", 30)) == []
    detector.reset()
    assert detector.feed(dtmf_tone("3", 30)) == []  # 30 + 30 ms would have been two blocks without reset


@pytest.mark.parametrize("level, expected", [(-10, ["4"]), (-30, ["4"]), (-45, [])])
def test_minimum_level(level: float, expected: list[str]) -> None:
    assert GoertzelDetector().feed(np.concatenate([dtmf_tone("4", 100, level_dbfs=level), silence(40)])) == expected


@pytest.mark.parametrize("twist, expected", [(0, ["6"]), (6, ["6"]), (-6, ["6"]), (12, []), (-12, [])])
def test_twist_limit(twist: float, expected: list[str]) -> None:
    tone = dtmf_tone("6", 100, level_dbfs=-10, twist_db=twist)
    assert GoertzelDetector().feed(np.concatenate([tone, silence(40)])) == expected


def test_tone_in_moderate_noise_still_detected() -> None:
    rng = np.random.default_rng(7)
    tone = dtmf_sequence("258", 48000).astype(np.float64)
    noisy = tone + rng.normal(0, 32767 * 10 ** (-10 / 20) / 10 ** (20 / 20), len(tone))  # 20 dB SNR
    assert GoertzelDetector().feed(np.clip(noisy, -32768, 32767).astype(np.int16)) == list("258")


def test_a_single_tone_is_not_a_key() -> None:
    t = np.arange(48000) / 48000
    assert GoertzelDetector().feed((10000 * np.sin(2 * np.pi * 697 * t)).astype(np.int16)) == []


# -- no false digits ------------------------------------------------------------------------------------


def test_no_digits_in_speech(speech: list[np.ndarray]) -> None:
    assert sum(len(s) for s in speech) / 48000 > 200
    false = [(i, GoertzelDetector().feed(s)) for i, s in enumerate(speech)]
    assert [f for f in false if f[1]] == []


def test_no_digits_in_speech_through_opus(speech: list[np.ndarray]) -> None:
    half = np.concatenate(speech[::2])  # every voice and rate; half the sentences keeps it quick
    assert GoertzelDetector().feed(opus_round_trip(half)) == []


def test_no_digits_in_speech_at_8k_and_16k(speech: list[np.ndarray]) -> None:
    from media.audio import Audio, resample

    everything = Audio(np.concatenate(speech[::3]), 48000)
    for rate in (8000, 16000):
        assert GoertzelDetector(rate).feed(resample(everything, rate).samples) == []


@pytest.mark.parametrize(
    "name, signal",
    [
        ("chords with 6 harmonics", lambda: music(30, 6, 0)),
        ("chords with 3 harmonics", lambda: music(30, 3, 1)),
        ("pure sine chords", lambda: music(30, 1, 2)),
        ("white noise", lambda: noise(15, False, 3)),
        ("pink noise", lambda: noise(15, True, 4)),
    ],
)
def test_no_digits_in_music_and_noise(name: str, signal: object) -> None:
    x = signal()  # type: ignore[operator]
    assert GoertzelDetector().feed(x) == [], name
    assert GoertzelDetector().feed(opus_round_trip(x)) == [], name + " through opus"


# -- RFC 4733 -------------------------------------------------------------------------------------------


def test_parse_and_build_telephone_event() -> None:
    payload = build_telephone_event("#", end=True, duration=4800, volume=10)
    assert payload == bytes([11, 0x80 | 10, 0x12, 0xC0])
    ev = parse_telephone_event(payload)
    assert ev == TelephoneEvent(event=11, end=True, volume=10, duration=4800)
    assert ev.digit == "#"
    assert [parse_telephone_event(build_telephone_event(d, False, 0)).digit for d in DIGITS] == list(DIGITS)
    assert parse_telephone_event(bytes([16, 0, 0, 0])).digit is None  # flash
    assert parse_telephone_event(bytes([3, 0x40 | 5, 0, 1]) + b"extra").volume == 5  # R bit ignored
    with pytest.raises(TelephoneEventPayloadError):
        parse_telephone_event(b"\x01\x02")
    with pytest.raises(ValueError):
        build_telephone_event("x", False, 0)


def chromium_press(digit: str, timestamp: int, packets: int = 5, step: int = 960) -> list[tuple[int, bytes]]:
    """What Chromium sends for one key: growing durations, then the end packet three times."""
    out = [(timestamp, build_telephone_event(digit, False, step * (i + 1))) for i in range(packets - 1)]
    out += [(timestamp, build_telephone_event(digit, True, step * packets))] * 3
    return out


def test_receiver_reports_each_press_once_in_order() -> None:
    rx = TelephoneEventReceiver()
    got = []
    for i, d in enumerate("123#"):
        for ts, payload in chromium_press(d, 1000 + i * 8160):
            digit = rx.feed(0xABC, ts, payload)
            if digit:
                got.append(digit)
    assert got == list("123#")


def test_receiver_reports_on_the_first_packet() -> None:
    rx = TelephoneEventReceiver()
    packets = chromium_press("5", 77)
    assert rx.feed(1, *packets[0]) == "5"
    assert [rx.feed(1, *p) for p in packets[1:]] == [None] * (len(packets) - 1)


def test_receiver_survives_losing_the_start_or_all_but_one_end_packet() -> None:
    rx = TelephoneEventReceiver()
    assert rx.feed(1, 500, build_telephone_event("7", True, 4800)) == "7"  # only an end packet arrived
    assert rx.feed(1, 500, build_telephone_event("7", True, 4800)) is None
    assert rx.feed(1, 9000, build_telephone_event("7", False, 2880)) == "7"  # same key again, start lost


def test_receiver_same_key_twice_and_two_streams() -> None:
    rx = TelephoneEventReceiver()
    seen = [
        rx.feed(ssrc, ts, p)
        for ssrc, base in ((1, 0), (2, 0))
        for k in range(2)
        for ts, p in chromium_press("0", base + k * 8160)
    ]
    assert [d for d in seen if d] == ["0", "0", "0", "0"]


def test_receiver_does_not_repeat_a_long_press_split_into_segments() -> None:
    rx = TelephoneEventReceiver()
    # RFC 4733 2.5.1.3: a press longer than 65535 samples continues at a new timestamp
    assert rx.feed(1, 1000, build_telephone_event("8", False, 960)) == "8"
    assert rx.feed(1, 1000, build_telephone_event("8", False, 0xFFFF)) is None
    assert rx.feed(1, 1000 + 0xFFFF, build_telephone_event("8", False, 960)) is None
    assert rx.feed(1, 1000 + 0xFFFF, build_telephone_event("8", True, 2000)) is None
    assert rx.feed(1, 1000 + 0xFFFF + 10000, build_telephone_event("8", False, 960)) == "8"  # a new press


def test_receiver_ignores_non_dtmf_events_and_rejects_short_payloads() -> None:
    rx = TelephoneEventReceiver()
    assert rx.feed(1, 10, bytes([16, 0x80, 0, 100])) is None
    with pytest.raises(TelephoneEventPayloadError):
        rx.feed(1, 20, b"\x00")


def test_receiver_memory_is_bounded() -> None:
    rx = TelephoneEventReceiver(memory=8)
    for i in range(100):
        rx.feed(1, i * 10000, build_telephone_event("1", True, 800))
    assert len(rx._seen) == 8
