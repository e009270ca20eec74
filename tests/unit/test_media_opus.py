"""Prompts encoded to Opus once: one packet per 20 ms block, decodable, cached by content."""

from __future__ import annotations

import av
import numpy as np

from media.audio import Audio, rms_dbfs
from media.opus import SAMPLES_PER_BLOCK, OpusPrompts, encode_blocks


def tone(seconds: float, hz: float = 440.0) -> Audio:
    t = np.arange(int(48000 * seconds)) / 48000
    return Audio((np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16), 48000)


def decode(packets: list[bytes]) -> np.ndarray:
    decoder = av.CodecContext.create("libopus", "r")
    out = []
    for data in packets:
        for frame in decoder.decode(av.Packet(data)):
            out.append(frame.to_ndarray().reshape(-1)[:: len(frame.layout.channels)])
    return np.concatenate(out)


def test_one_packet_per_block_and_the_sound_survives() -> None:
    audio = tone(1.01)  # 50.5 blocks -> 51 packets, the last one padded
    packets = encode_blocks(audio.samples.tobytes())
    assert len(packets) == 51
    decoded = decode(packets)
    assert len(decoded) == 51 * SAMPLES_PER_BLOCK
    # same loudness after the round trip (within 1.5 dB), away from the edges
    middle = slice(48000 // 10, 48000 * 9 // 10)
    assert abs(rms_dbfs(decoded[middle]) - rms_dbfs(audio.samples[middle])) < 1.5


def test_cache_by_content_and_silence_packet() -> None:
    cache = OpusPrompts()
    first = cache.packets(tone(0.2))
    again = cache.packets(tone(0.2))  # another object, same samples
    assert again is first and (cache.hits, cache.misses) == (1, 1)
    assert cache.packets(tone(0.2, hz=880)) is not first
    assert rms_dbfs(decode([cache.silence] * 10)) < -80


def test_cache_is_bounded() -> None:
    cache = OpusPrompts(max_bytes=4000)
    for hz in (300, 400, 500, 600):
        cache.packets(tone(0.5, hz))
    assert cache._bytes <= 4000 or len(cache._cache) == 1


def test_a_prompt_object_encoded_before_is_ready_without_hashing_or_a_thread() -> None:
    cache = OpusPrompts()
    audio = tone(0.2)
    assert cache.ready(audio) is None  # never encoded: the caller hands packets() to a thread
    first = cache.packets(audio)
    assert cache.ready(audio) is first
    assert cache.ready(tone(0.2)) is None  # the same samples in another object: only packets() knows it
