"""media.audio and media.audiofile: the Audio value, resampling, reading and writing files."""

from __future__ import annotations

import fractions
import os
from pathlib import Path

import av
import numpy as np
import pytest

from media.audio import Audio, FrameConverter, resample, rms_dbfs
from media.audiofile import load_audio, read_wav, write_wav
from media.errors import AudioFileError, MediaError


def tone(freq: float, seconds: float, rate: int, amplitude: float = 10000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def encode_file(
    path: Path, samples: np.ndarray, rate: int, channels: int, codec: str, options: dict[str, str] | None = None
) -> None:
    """Write ``samples`` (mono int16) with PyAV's encoders, duplicated to ``channels``."""
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if options:
            stream.codec_context.options = options
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        data = np.repeat(samples, channels).reshape(1, -1) if channels == 2 else samples.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout=layout)
        frame.sample_rate = rate
        frame.time_base = fractions.Fraction(1, rate)
        frame.pts = 0
        for f in resampler.resample(frame) + resampler.resample(None):
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))


# -- Audio ------------------------------------------------------------------------------------------


def test_audio_value_and_helpers() -> None:
    a = Audio(np.zeros(48000, dtype=np.int16), 48000)
    assert (a.duration, a.duration_ms, len(a)) == (1.0, 1000, 48000)
    s = Audio.silence(250, 16000)
    assert (len(s), s.sample_rate) == (4000, 16000)
    joined = Audio.concat([Audio.silence(100), Audio(tone(440, 0.1, 48000), 48000)])
    assert joined.duration == pytest.approx(0.2)
    assert "48000 Hz" in repr(joined)


@pytest.mark.parametrize(
    "samples, rate",
    [
        (np.zeros(10, dtype=np.float32), 48000),
        (np.zeros((2, 10), dtype=np.int16), 48000),
        (np.zeros(10, dtype=np.int16), 0),
    ],
)
def test_audio_rejects_bad_values(samples: np.ndarray, rate: int) -> None:
    with pytest.raises(ValueError):
        Audio(samples, rate)


def test_concat_needs_one_rate() -> None:
    with pytest.raises(ValueError, match="one sample rate"):
        Audio.concat([Audio.silence(10, 8000), Audio.silence(10, 16000)])


def test_rms_dbfs() -> None:
    assert rms_dbfs(np.zeros(100, dtype=np.int16)) == -120.0
    assert rms_dbfs(np.zeros(0, dtype=np.int16)) == -120.0
    full = tone(1000, 1.0, 48000, amplitude=32767)
    assert rms_dbfs(full) == pytest.approx(-3.01, abs=0.05)


@pytest.mark.parametrize("src, dst", [(22050, 48000), (48000, 8000), (8000, 16000), (44100, 48000)])
def test_resample_keeps_pitch_and_length(src: int, dst: int) -> None:
    audio = Audio(tone(700, 1.5, src), src)
    out = resample(audio, dst)
    assert out.sample_rate == dst
    assert abs(len(out) - 1.5 * dst) <= dst * 0.005
    assert peak_frequency(out.samples, dst) == pytest.approx(700, abs=5)
    assert rms_dbfs(out.samples) == pytest.approx(rms_dbfs(audio.samples), abs=0.5)


def test_resample_same_rate_is_identity() -> None:
    audio = Audio(tone(440, 0.1, 48000), 48000)
    assert resample(audio, 48000) is audio


def test_resample_long_buffer_in_chunks_is_continuous() -> None:
    audio = Audio(tone(500, 25.0, 22050), 22050)  # longer than one 10 s chunk
    out = resample(audio, 48000)
    assert abs(len(out) - 25 * 48000) < 100
    # no clicks at the chunk joins: the sample-to-sample step of a 500 Hz tone stays small
    assert np.abs(np.diff(out.samples.astype(np.int32))).max() < 1000


# -- files ------------------------------------------------------------------------------------------


def test_write_wav_then_read_wav_round_trip(tmp_path: Path) -> None:
    audio = Audio(tone(440, 0.5, 16000), 16000)
    path = tmp_path / "a.wav"
    write_wav(path, audio)
    back = read_wav(path)
    assert back.sample_rate == 16000
    assert np.array_equal(back.samples, audio.samples)
    assert os.listdir(tmp_path) == ["a.wav"]  # no temporary file left behind


def test_write_wav_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, Audio.silence(100))
    write_wav(path, Audio(tone(440, 0.2, 48000), 48000))
    assert read_wav(path).duration == pytest.approx(0.2)
    assert os.listdir(tmp_path) == ["a.wav"]


@pytest.mark.parametrize(
    "name, codec, rate, channels, options",
    [
        ("stereo44.wav", "pcm_s16le", 44100, 2, None),
        ("mono8k.wav", "pcm_s16le", 8000, 1, None),
        ("clip.flac", "flac", 48000, 2, None),
        ("clip.mp3", "libmp3lame", 44100, 2, None),
        ("clip.ogg", "libopus", 48000, 1, None),
        ("clip.opus", "libopus", 48000, 2, None),
        ("vorbis.ogg", "vorbis", 44100, 2, {"strict": "experimental"}),
    ],
)
def test_load_audio_decodes_formats_to_mono(
    tmp_path: Path, name: str, codec: str, rate: int, channels: int, options: dict[str, str] | None
) -> None:
    path = tmp_path / name
    encode_file(path, tone(1000, 1.0, rate), rate, channels, codec, options)
    audio = load_audio(path, sample_rate=48000)
    assert audio.sample_rate == 48000
    assert audio.duration == pytest.approx(1.0, abs=0.1)  # codecs add priming/padding
    assert peak_frequency(audio.samples, 48000) == pytest.approx(1000, abs=5)
    assert rms_dbfs(audio.samples) == pytest.approx(rms_dbfs(tone(1000, 1.0, rate)), abs=1.5)


def test_load_audio_to_other_rate(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_wav(path, Audio(tone(440, 1.0, 48000), 48000))
    audio = load_audio(path, sample_rate=16000)
    assert (audio.sample_rate, len(audio)) == (16000, pytest.approx(16000, abs=40))


def test_load_audio_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wav"
    with pytest.raises(AudioFileError, match="nope.wav") as info:
        load_audio(missing)
    assert info.value.code == "audio_file_missing"
    assert isinstance(info.value, MediaError)


def test_load_audio_corrupt_file_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.mp3"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioFileError, match="garbage.mp3") as info:
        load_audio(bad)
    assert info.value.code in ("audio_file_invalid", "audio_file_empty")


def test_load_audio_truncated_wav(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    write_wav(path, Audio(tone(440, 1.0, 48000), 48000))
    path.write_bytes(path.read_bytes()[:30])  # header cut short
    with pytest.raises(AudioFileError, match="cut.wav"):
        load_audio(path)


def test_read_wav_rejects_stereo_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    encode_file(path, tone(440, 0.2, 48000), 48000, 2, "pcm_s16le")
    with pytest.raises(AudioFileError, match="16-bit mono"):
        read_wav(path)
    with pytest.raises(AudioFileError, match="missing.wav"):
        read_wav(tmp_path / "missing.wav")


# -- received frames ----------------------------------------------------------------------------------


def test_frame_converter_fast_path_for_decoded_opus() -> None:
    left = np.arange(960, dtype=np.int16)
    right = -left
    packed = np.stack([left, right + 100], axis=1).reshape(1, -1)  # L R L R ...
    frame = av.AudioFrame.from_ndarray(packed, format="s16", layout="stereo")
    frame.sample_rate = 48000
    assert np.array_equal(FrameConverter().convert(frame), np.full(960, 50, dtype=np.int16))
    mono = av.AudioFrame.from_ndarray(left.reshape(1, -1), format="s16", layout="mono")
    mono.sample_rate = 48000
    assert np.array_equal(FrameConverter().convert(mono), left)


def test_frame_converter_resamples_other_formats() -> None:
    converter = FrameConverter(48000)
    source = tone(440, 1.0, 16000).astype(np.float32) / 32768
    out = []
    for i in range(50):  # 20 ms planar float stereo frames at 16 kHz, with pts set
        block = source[i * 320 : (i + 1) * 320]
        frame = av.AudioFrame.from_ndarray(np.stack([block, block]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 16000, i * 320
        out.append(converter.convert(frame))
    samples = np.concatenate(out)
    assert abs(len(samples) - 48000) < 200
    assert peak_frequency(samples, 48000) == pytest.approx(440, abs=5)
