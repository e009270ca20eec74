"""Two legs' audio crossed on the gateway: what the caller says the agent hears, and back.

The call stays anchored on the gateway, so everything can tap the audio:
hold, transfer, recording, transcripts. Each direction is a
:class:`LiveAudio` buffer read by the receiving leg's
:class:`~media.player.PromptPlayer` on its own 20 ms clock whenever it has no
prompt to play; prompts (music on hold, announcements) take precedence.

Latency: a block pushed by one leg is sent by the other on its next 20 ms
tick. The buffer holds at most ``max_blocks`` (60 ms by default); when the two
clocks drift or the sender bursts, the oldest blocks are dropped rather than
letting delay build up (counted in :attr:`LiveAudio.dropped`).

Hold: the caller (side ``a``) hears music on hold looped from a file, the
agent (side ``b``) hears silence, and neither side's audio crosses.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from media.audio import Audio
from media.player import SAMPLES_PER_FRAME, PlaybackOutcome, PromptPlayer

Samples = npt.NDArray[np.int16]
BLOCK_BYTES = SAMPLES_PER_FRAME * 2
HOLD_PROMPT = "music-on-hold"
#: A tap sees every block that crosses or would cross: (side "a" or "b", 48 kHz mono int16 samples).
Tap = Callable[[str, Samples], None]


class LiveAudio:
    """A short FIFO of 20 ms blocks (48 kHz mono s16) between two clocks; never grows past ``max_blocks``."""

    def __init__(self, max_blocks: int = 3) -> None:
        self.max_blocks = max_blocks
        self._blocks: deque[bytes] = deque()
        self._partial = bytearray()
        self.pushed = 0
        self.dropped = 0

    def push(self, samples: Samples) -> None:
        self._partial += np.ascontiguousarray(samples, dtype="<i2").tobytes()
        while len(self._partial) >= BLOCK_BYTES:
            self._blocks.append(bytes(self._partial[:BLOCK_BYTES]))
            del self._partial[:BLOCK_BYTES]
            self.pushed += 1
        while len(self._blocks) > self.max_blocks:
            self._blocks.popleft()
            self.dropped += 1

    def pull(self) -> bytes | None:
        """The oldest block, or None when nothing arrived in time (the player sends silence)."""
        return self._blocks.popleft() if self._blocks else None

    def clear(self) -> None:
        self._blocks.clear()
        self._partial.clear()


class Bridge:
    """Side ``a`` (the caller) and side ``b`` (the agent), each with its outgoing player."""

    def __init__(self, a: PromptPlayer, b: PromptPlayer, *, max_blocks: int = 3) -> None:
        self.a = a
        self.b = b
        self.to_a = LiveAudio(max_blocks)
        self.to_b = LiveAudio(max_blocks)
        a.live = self.to_a
        b.live = self.to_b
        self.taps: list[Tap] = []
        self._hold: asyncio.Future[PlaybackOutcome] | None = None
        self.closed = False

    @property
    def held(self) -> bool:
        return self._hold is not None

    def from_a(self, samples: Samples) -> None:
        """The caller's audio (call it with every decoded frame of leg ``a``)."""
        for tap in self.taps:
            tap("a", samples)
        if self._hold is None and not self.closed:
            self.to_b.push(samples)

    def from_b(self, samples: Samples) -> None:
        """The agent's audio."""
        for tap in self.taps:
            tap("b", samples)
        if self._hold is None and not self.closed:
            self.to_a.push(samples)

    def hold(self, music: Audio, packets: list[bytes] | None = None) -> None:
        """The caller hears ``music`` looped, the agent silence; no audio crosses until :meth:`resume`."""
        if self._hold is not None or self.closed:
            return
        self.to_a.clear()
        self.to_b.clear()
        self._hold = self.a.loop(music, HOLD_PROMPT, packets)

    def resume(self) -> None:
        if self._hold is None:
            return
        self._hold = None
        self.a.cancel_prompt(HOLD_PROMPT)

    def close(self) -> None:
        """Unhook both players (they go back to prompts and silence)."""
        self.resume()
        self.closed = True
        if self.a.live is self.to_a:
            self.a.live = None
        if self.b.live is self.to_b:
            self.b.live = None
