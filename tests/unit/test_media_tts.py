"""media.tts: espeak-ng through ctypes, resampling, the disk cache and its errors."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

from media import tts
from media.audio import Audio, rms_dbfs
from media.audiofile import read_wav
from media.errors import MediaError, TtsError
from media.tts import Synthesizer, available_voices, cache_key, engine_version

PROMPT = "Thank you for calling. Please hold while we connect you to an agent."


def speech_span(audio: Audio, threshold_dbfs: float = -45.0) -> float:
    """Seconds between the first and last 20 ms block louder than the threshold."""
    n = audio.sample_rate // 50
    blocks = audio.samples[: len(audio.samples) // n * n].reshape(-1, n)
    loud = [i for i, b in enumerate(blocks) if rms_dbfs(b) > threshold_dbfs]
    return (loud[-1] - loud[0] + 1) / 50 if loud else 0.0


def envelope(audio: Audio) -> np.ndarray:
    """20 ms RMS levels in dBFS: what two renderings of one text must share."""
    n = audio.sample_rate // 50
    blocks = audio.samples[: len(audio.samples) // n * n].reshape(-1, n)
    return np.array([rms_dbfs(b) for b in blocks])


async def test_synthesize_speech_at_48k(tmp_path: Path) -> None:
    audio = await Synthesizer(tmp_path).synthesize(PROMPT)
    assert audio.sample_rate == 48000
    assert audio.samples.dtype == np.int16
    assert 2.5 < audio.duration < 6.0
    assert rms_dbfs(audio.samples) > -30
    assert speech_span(audio) > 0.8 * audio.duration


@pytest.mark.parametrize("rate", [8000, 16000, 22050])
async def test_synthesize_other_rates(rate: int) -> None:
    audio = await Synthesizer(None).synthesize("one two three", sample_rate=rate)
    reference = await Synthesizer(None).synthesize("one two three", sample_rate=48000)
    assert audio.sample_rate == rate
    assert audio.duration == pytest.approx(reference.duration, abs=0.01)


async def test_rate_changes_length() -> None:
    synth = Synthesizer(None)
    slow = await synth.synthesize(PROMPT, rate_wpm=100)
    fast = await synth.synthesize(PROMPT, rate_wpm=300)
    assert slow.duration > 2 * fast.duration


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "English (America)", "gmw/en-US", "en-us+f3", "ko"])
async def test_voice_spellings(voice: str) -> None:
    audio = await Synthesizer(None).synthesize("hello", voice=voice)
    assert audio.duration > 0.2


async def test_voices_differ() -> None:
    synth = Synthesizer(None)
    male = await synth.synthesize(PROMPT, voice="en-us")
    female = await synth.synthesize(PROMPT, voice="en-us+f3")
    assert len(male) != len(female) or not np.array_equal(male.samples, female.samples)
    assert "en-us" in available_voices()


async def test_cache_hit_costs_no_synthesis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synth = Synthesizer(tmp_path)
    first = await synth.synthesize(PROMPT)
    assert (synth.stats.hits, synth.stats.misses) == (0, 1)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".wav")

    def no_synthesis(*args: object) -> Audio:
        raise AssertionError("a cache hit must not synthesise")

    monkeypatch.setattr(tts, "_synthesize_and_store", no_synthesis)
    second = await Synthesizer(tmp_path).synthesize(PROMPT)  # a new instance: the cache is on disk
    assert np.array_equal(first.samples, second.samples)
    assert second.sample_rate == 48000


async def test_cache_key_covers_every_input(tmp_path: Path) -> None:
    version = engine_version()
    base = cache_key("hi", "en-us", 160, 48000, version)
    variants = [
        cache_key("hi!", "en-us", 160, 48000, version),
        cache_key("hi", "en-gb", 160, 48000, version),
        cache_key("hi", "en-us", 161, 48000, version),
        cache_key("hi", "en-us", 160, 16000, version),
        cache_key("hi", "en-us", 160, 48000, version + "x"),
    ]
    assert len({base, *variants}) == 6
    assert "espeak-ng 1." in version
    synth = Synthesizer(tmp_path)
    await synth.synthesize("hi")
    await synth.synthesize("hi", sample_rate=16000)
    await synth.synthesize("hi", rate_wpm=200)
    assert synth.stats.misses == 3 and len(os.listdir(tmp_path)) == 3


async def test_cache_file_is_a_plain_wav(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path)
    audio = await synth.synthesize("press one")
    path = synth.cache_file(cache_key("press one", "en-us", 160, 48000, engine_version()))
    assert path is not None and path.is_file()
    assert np.array_equal(read_wav(path).samples, audio.samples)


async def test_corrupt_cache_entry_is_synthesised_again(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path)
    audio = await synth.synthesize("press two")
    path = synth.cache_file(cache_key("press two", "en-us", 160, 48000, engine_version()))
    assert path is not None
    path.write_bytes(b"not a wav")
    again = await Synthesizer(tmp_path).synthesize("press two")
    assert again.duration == pytest.approx(
        audio.duration, rel=0.05
    )  # espeak-ng output varies a little between calls in one process
    assert np.array_equal(read_wav(path).samples, again.samples)


async def test_concurrent_requests_share_one_synthesis(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path)
    results = await asyncio.gather(*(synth.synthesize("for billing, press one") for _ in range(5)))
    assert synth.stats.misses == 1
    assert all(np.array_equal(r.samples, results[0].samples) for r in results)


async def test_concurrent_different_prompts_are_serialised_safely() -> None:
    synth = Synthesizer(None)
    texts = [f"option number {i}" for i in range(8)]
    together = await asyncio.gather(*(synth.synthesize(t) for t in texts))
    alone = [await synth.synthesize(t) for t in texts]
    # espeak-ng carries a little state (pitch flutter) from one utterance to the next, so the
    # same text differs by a few samples between calls; interleaved calls would differ wildly.
    for a, b in zip(together, alone, strict=True):
        assert a.duration == pytest.approx(b.duration, abs=0.005)
    for a, b in zip(together, alone, strict=True):
        ea, eb = envelope(a), envelope(b)
        n = min(len(ea), len(eb))
        assert np.corrcoef(ea[:n], eb[:n])[0, 1] > 0.95


async def test_unknown_voice_is_a_clear_error(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path)
    with pytest.raises(TtsError, match="unknown TTS voice 'zz-nonexistent'") as info:
        await synth.synthesize("hello", voice="zz-nonexistent")
    assert info.value.code == "tts_unknown_voice"
    assert isinstance(info.value, MediaError)
    with pytest.raises(TtsError, match="variant 'nosuchvariant'"):
        await synth.synthesize("hello", voice="en-us+nosuchvariant")
    assert os.listdir(tmp_path) == []


async def test_unknown_voice_suggests_similar() -> None:
    with pytest.raises(TtsError, match="similar: en, .*en-gb"):
        await Synthesizer(None).synthesize("hello", voice="en-xx")


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"text": ""}, "tts_bad_text"),
        ({"text": "   \n"}, "tts_bad_text"),
        ({"text": "x" * 5001}, "tts_bad_text"),
        ({"text": "hi", "rate_wpm": 20}, "tts_bad_rate"),
        ({"text": "hi", "rate_wpm": 1000}, "tts_bad_rate"),
        ({"text": "hi", "sample_rate": 100}, "tts_bad_rate"),
    ],
)
async def test_bad_requests(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(TtsError) as info:
        await Synthesizer(None).synthesize(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == code


async def test_text_with_nul_and_markup_is_spoken_literally() -> None:
    audio = await Synthesizer(None).synthesize("one\x00two <b>three</b>")
    assert audio.duration > 0.5


async def test_synthesis_runs_off_the_event_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await Synthesizer(None).synthesize(PROMPT * 6)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert ticks > 0


async def test_a_prompt_played_again_comes_from_memory_not_the_disk(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path)
    first = await synth.synthesize("for sales, press three")
    for entry in tmp_path.iterdir():  # the disk cache is gone: only the memory can answer now
        entry.unlink()
    again = await synth.synthesize("for sales, press three")
    assert again is first and (synth.stats.hits, synth.stats.misses) == (1, 1)
    small = Synthesizer(tmp_path, memory_bytes=first.samples.nbytes)  # room for one prompt only
    one = await small.synthesize("for sales, press three")
    await small.synthesize("for support, press two")
    assert await small.synthesize("for sales, press three") is not one  # the older one left the memory
