"""Read and write audio files.

:func:`load_audio` decodes anything FFmpeg (through PyAV) understands, in
practice wav, mp3, ogg/vorbis, opus, flac, downmixes to mono and resamples to
the rate the caller asks for (48 kHz for prompts). :func:`write_wav` and
:func:`read_wav` are small stdlib ``wave`` helpers for 16-bit mono PCM, used
by the TTS cache and by tests. All of these block: run them in a thread when
called from the event loop (the files can be large).
"""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import av
import numpy as np

from media.audio import Audio, frames_to_samples
from media.errors import AudioFileError

StrPath = str | os.PathLike[str]


def load_audio(path: StrPath, sample_rate: int = 48000, max_seconds: float | None = None) -> Audio:
    """Decode the first audio stream of ``path`` into mono int16 at ``sample_rate``; with ``max_seconds``, decoding
    stops once that much is decoded (the rest of a long file is never held in memory) and the audio is cut there.

    Raises :class:`AudioFileError` naming the file when it is missing, is not
    audio, or decodes to nothing.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(f"audio file {str(p)!r} does not exist or is not a file", code="audio_file_missing")
    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    frames: list[av.AudioFrame] = []
    try:
        with av.open(str(p), mode="r") as container:
            if not container.streams.audio:
                raise AudioFileError(f"audio file {str(p)!r} has no audio stream", code="audio_file_invalid")
            stream = container.streams.audio[0]
            limit = None if max_seconds is None else int(max_seconds * sample_rate)
            decoded = 0
            for frame in container.decode(stream):
                # Decoded frames carry pts; swresample then tries to honour them and
                # PyAV's resampler fails on gaps/overlaps. Timing is ours to decide.
                frame.pts = None
                out = resampler.resample(frame)
                frames.extend(out)
                decoded += sum(f.samples for f in out)
                if limit is not None and decoded > limit:
                    break
            else:
                frames.extend(resampler.resample(None))
    except AudioFileError:
        raise
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioFileError(f"cannot decode audio file {str(p)!r}: {exc}", code="audio_file_invalid") from exc
    samples = frames_to_samples(frames)
    if max_seconds is not None:
        samples = samples[: int(max_seconds * sample_rate)]
    if len(samples) == 0:
        raise AudioFileError(f"audio file {str(p)!r} contains no audio samples", code="audio_file_empty")
    return Audio(samples, sample_rate)


def write_wav(path: StrPath, audio: Audio) -> None:
    """Write ``audio`` as a 16-bit mono PCM wav, atomically (temporary file + rename).

    A reader never sees a half-written file, so concurrent writers of the same
    cache entry are harmless.
    """
    p = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(audio.sample_rate)
            w.writeframes(audio.samples.astype("<i2", copy=False).tobytes())
        os.replace(tmp_name, p)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def read_wav(path: StrPath) -> Audio:
    """Read a 16-bit mono PCM wav (what :func:`write_wav` writes) without FFmpeg.

    For anything else (stereo, 8/24-bit, compressed) use :func:`load_audio`.
    """
    p = Path(path)
    try:
        with wave.open(str(p), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                raise AudioFileError(
                    f"{str(p)!r} is not 16-bit mono PCM wav (use load_audio for other formats)",
                    code="audio_file_invalid",
                )
            rate = w.getframerate()
            data = w.readframes(w.getnframes())
    except FileNotFoundError as exc:
        raise AudioFileError(f"audio file {str(p)!r} does not exist", code="audio_file_missing") from exc
    except (wave.Error, EOFError) as exc:
        raise AudioFileError(f"cannot read wav file {str(p)!r}: {exc}", code="audio_file_invalid") from exc
    samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
    return Audio(samples, rate)
