"""Prompts encoded to Opus once, sent as packets by every call that plays them.

aiortc encodes each outgoing frame itself, in a thread-pool hop per frame,
at 96 kb/s stereo: about a quarter of a call leg's CPU goes there, spent
again for every caller who hears the same greeting. :class:`OpusPrompts`
encodes a prompt's 20 ms blocks once (mono, 48 kHz, 32 kb/s), keeps the
packets in a bounded cache keyed by the audio's content, and hands them to
:class:`~media.player.PromptPlayer`, whose track then returns ready packets
that aiortc only packetises. One block in, one packet out, so barge-in can
stop at any block exactly as with raw audio.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from fractions import Fraction

import av
import numpy as np

from media.audio import Audio

SAMPLE_RATE = 48000
SAMPLES_PER_BLOCK = 960
BITRATE = 32000


def _encoder() -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = BITRATE
    codec.time_base = Fraction(1, SAMPLE_RATE)
    return codec


def encode_blocks(pcm: bytes) -> list[bytes]:
    """20 ms blocks of 48 kHz mono s16 PCM (the last one zero-padded) -> one Opus packet each."""
    block_bytes = SAMPLES_PER_BLOCK * 2
    blocks = max(1, -(-len(pcm) // block_bytes))
    pcm = pcm.ljust(blocks * block_bytes, b"\x00")
    codec = _encoder()
    packets: list[bytes] = []
    for i in range(blocks):
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES_PER_BLOCK)
        frame.planes[0].update(pcm[i * block_bytes : (i + 1) * block_bytes])
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, i * SAMPLES_PER_BLOCK, codec.time_base
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    if len(packets) < blocks:  # never expected from libopus; keep the 1:1 mapping anyway
        packets += [packets[-1]] * (blocks - len(packets))
    return packets[:blocks]


class OpusPrompts:
    """A thread-safe cache of encoded prompts, bounded by total packet bytes (least recently used out)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._cache: OrderedDict[str, list[bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._known: weakref.WeakKeyDictionary[Audio, str] = weakref.WeakKeyDictionary()  # audio -> its key
        self.hits = 0
        self.misses = 0
        self.silence = encode_blocks(bytes(SAMPLES_PER_BLOCK * 2 * 3))[-1]  # a settled silent packet

    def packets(self, audio: Audio) -> list[bytes]:
        """The Opus packets of ``audio`` (48 kHz mono); encodes on a miss. Call it off the event loop."""
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"Opus prompts need {SAMPLE_RATE} Hz audio, not {audio.sample_rate} Hz")
        pcm = np.ascontiguousarray(audio.samples, dtype="<i2").tobytes()
        key = hashlib.sha1(pcm).hexdigest()
        with self._lock:
            self._known[audio] = key
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return found
        packets = encode_blocks(pcm)
        size = sum(len(p) for p in packets)
        with self._lock:
            self.misses += 1
            if key not in self._cache:
                self._cache[key] = packets
                self._bytes += size
                while self._bytes > self.max_bytes and len(self._cache) > 1:
                    _, dropped = self._cache.popitem(last=False)
                    self._bytes -= sum(len(p) for p in dropped)
        return packets

    def ready(self, audio: Audio) -> list[bytes] | None:
        """The packets of this very ``audio`` object if :meth:`packets` encoded it and they are still cached, else
        None. Cheap (no hashing): the event loop asks before handing :meth:`packets` to a thread, so a prompt that
        is played again (the TTS cache hands out the same object) starts without a thread hop."""
        with self._lock:
            key = self._known.get(audio)
            found = self._cache.get(key) if key is not None else None
            if found is not None:
                self._cache.move_to_end(key)  # type: ignore[arg-type]
                self.hits += 1
            return found


class OpusStream:
    """A streaming encoder for live audio (a bridged leg): one 20 ms block in, at most one packet out.

    libopus keeps its state across blocks (unlike prompts, live audio is never
    seen twice, so there is nothing to cache). Runs on the caller's thread:
    about 0.1 ms per block.
    """

    def __init__(self) -> None:
        self._codec = _encoder()
        self._pts = 0

    def encode(self, block: bytes) -> bytes | None:
        """A 1,920-byte block -> its packet (None while the encoder is still filling its look-ahead)."""
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES_PER_BLOCK)
        frame.planes[0].update(block)
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, self._pts, self._codec.time_base
        self._pts += SAMPLES_PER_BLOCK
        packets = self._codec.encode(frame)
        return bytes(packets[-1]) if packets else None
