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

Supervisors: a listener's player gets both sides mixed (:meth:`Bridge.listen`),
a whisper (:meth:`Bridge.whisper`) is mixed into what the agent hears only, and a barge
(:meth:`Bridge.barge`) into what both sides hear.
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
    """A short FIFO of 20 ms blocks (48 kHz mono s16) between two clocks; never grows past ``max_blocks``.

    Both clocks tick every 20 ms, so a backlog left by one burst would otherwise stay for the rest of
    the call: when at least one block was left over after every pull for a whole second
    (``drain_window`` pulls), the oldest is dropped, and the standing delay shrinks block by block.
    """

    def __init__(self, max_blocks: int = 3, drain_window: int = 50) -> None:
        self.max_blocks = max_blocks
        self.drain_window = drain_window
        self._blocks: deque[bytes] = deque()
        self._partial = bytearray()
        self.pushed = 0
        self.dropped = 0
        self._pulls = 0
        self._least_left = max_blocks

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
        if not self._blocks:
            self._pulls, self._least_left = 0, self.max_blocks
            return None
        block = self._blocks.popleft()
        self._least_left = min(self._least_left, len(self._blocks))
        self._pulls += 1
        if self._pulls >= self.drain_window:
            if self._least_left >= 1 and self._blocks:
                self._blocks.popleft()
                self.dropped += 1
            self._pulls, self._least_left = 0, self.max_blocks
        return block

    def clear(self) -> None:
        self._blocks.clear()
        self._partial.clear()


class Mix:
    """Several :class:`LiveAudio` sources summed into one stream (a player's ``live``), clipped to 16 bits."""

    def __init__(self, max_blocks: int = 3, *sources: str) -> None:
        self.max_blocks = max_blocks
        self.sources: dict[str, LiveAudio] = {name: LiveAudio(max_blocks) for name in sources}

    def push(self, source: str, samples: Samples) -> None:
        found = self.sources.get(source)
        if found is None:
            found = self.sources[source] = LiveAudio(self.max_blocks)
        found.push(samples)

    def remove(self, source: str) -> None:
        self.sources.pop(source, None)

    def pull(self) -> bytes | None:
        blocks = [b for b in (s.pull() for s in list(self.sources.values())) if b is not None]
        if len(blocks) <= 1:
            return blocks[0] if blocks else None
        total = np.sum([np.frombuffer(b, dtype="<i2").astype(np.int32) for b in blocks], axis=0)
        return np.clip(total, -32768, 32767).astype("<i2").tobytes()

    def clear(self) -> None:
        for source in self.sources.values():
            source.clear()


class Bridge:
    """Side ``a`` (the caller) and side ``b`` (the agent), each with its outgoing player."""

    def __init__(self, a: PromptPlayer, b: PromptPlayer, *, max_blocks: int = 3) -> None:
        self.a = a
        self.b = b
        self.to_a = Mix(max_blocks, "b")
        self.to_b = Mix(max_blocks, "a")
        a.live = self.to_a
        b.live = self.to_b
        self.taps: list[Tap] = []
        self.listeners: dict[PromptPlayer, Mix] = {}
        self._max_blocks = max_blocks
        self._hold: asyncio.Future[PlaybackOutcome] | None = None
        self.closed = False

    @property
    def held(self) -> bool:
        return self._hold is not None

    def from_a(self, samples: Samples) -> None:
        """The caller's audio (call it with every decoded frame of leg ``a``)."""
        for tap in self.taps:
            tap("a", samples)
        for mix in self.listeners.values():
            mix.push("a", samples)
        if self._hold is None and not self.closed:
            self.to_b.push("a", samples)

    def from_b(self, samples: Samples) -> None:
        """The agent's audio."""
        for tap in self.taps:
            tap("b", samples)
        for mix in self.listeners.values():
            mix.push("b", samples)
        if self._hold is None and not self.closed:
            self.to_a.push("b", samples)

    def listen(self, player: PromptPlayer) -> None:
        """``player`` (a supervisor's) hears both sides mixed, neither side hears it."""
        mix = self.listeners[player] = Mix(self._max_blocks, "a", "b")
        player.live = mix

    def unlisten(self, player: PromptPlayer) -> None:
        if self.listeners.pop(player, None) is not None and player.live is not None:
            player.live = None

    def whisper(self, samples: Samples, source: str = "whisper") -> None:
        """Audio only the agent hears (a supervisor coaching), mixed with the caller."""
        if not self.closed:
            self.to_b.push(source, samples)

    def barge(self, samples: Samples, source: str = "barge") -> None:
        """Audio both sides hear (a supervisor who joined the call), mixed with what each hears of the other."""
        if not self.closed:
            self.to_a.push(source, samples)
            self.to_b.push(source, samples)

    def drop_source(self, source: str) -> None:
        """Forget a whisper or barge source (the supervisor left or changed mode): neither side hears it."""
        self.to_a.remove(source)
        self.to_b.remove(source)

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
        for player in list(self.listeners):
            self.unlisten(player)
