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

Relay: when both legs send Opus packets (their :class:`~media.aiortc_patches.PacketRelay` is given), and
nothing has to change what a side hears (no hold, no whisper, barge or consultation), each received packet
goes to the other leg's sender the moment it arrives, untouched: no jitter buffer, no decode, no 20 ms
tick, no second encode (an SFU's forwarding). It leaves from the receive path itself: the other leg's
sender is a :class:`~media.direct_send.DirectSender` whose ``send_now`` numbers, protects and sends it
there and then (:meth:`media.player.PromptPlayer.relay`), without waking that sender's task (one event-loop
iteration fewer between arrival and departure); the task keeps sending whatever the player makes on its
own clock (prompts, mixed audio, music on hold), in the same RTP stream. A tap or a listening supervisor only adds decoding beside
the relay, on the directions it listens to: the leg decodes each packet of that side as it is relayed
(:meth:`media.leg.AudioLeg._decode_beside`: no jitter buffer, no decoder thread), and the decoded audio
reaches the tap, not the other side (the forwarded packets, and so what the other side hears and when, do
not change). A tap names its sides (:meth:`Bridge.add_tap`): the recording and the live
transcript take both, the caller's in-band DTMF detector (``--bridge-inband-dtmf``) only ``a``, so the
agent's direction stays undecoded for it; a listening supervisor hears both. Hold, whisper and barge
switch to the decoding path (the players go back to their clock and mix); it switches back when they
end. RTP sequence numbers are the sender's own and timestamps continue across every switch
(:meth:`media.player.PromptPlayer.start_relay`). :attr:`Bridge.mode` says which path is on and
:attr:`Bridge.decoding` which sides are decoded. A side nothing decodes is deaf to everything else that
reads its leg's decoded audio (while only relaying, the caller's in-band DTMF and speech detection hear
nothing); RFC 4733 key presses are separate packets taken before the relay and always arrive.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from media.aiortc_patches import PacketRelay
from media.audio import Audio
from media.player import SAMPLES_PER_FRAME, PlaybackOutcome, PromptPlayer

Samples = npt.NDArray[np.int16]
BLOCK_BYTES = SAMPLES_PER_FRAME * 2
HOLD_PROMPT = "music-on-hold"
#: A tap sees every block that crosses or would cross: (side "a" or "b", 48 kHz mono int16 samples).
Tap = Callable[[str, Samples], None]
SIDES = "ab"  # a tap of both sides (the caller "a", the agent "b")


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


RELAY = "relay"  # packets forwarded as they arrive, nothing decoded
RELAY_AND_TAP = "relay+tap"  # forwarded, and decoded beside for taps and listeners
DECODE = "decode"  # decoded, mixed, re-encoded on each player's clock


class Bridge:
    """Side ``a`` (the caller) and side ``b`` (the agent), each with its outgoing player.

    ``relays``: the legs' :attr:`~media.leg.AudioLeg.relay` points (a's, b's); without both (or when either
    player sends frames rather than packets) the bridge always decodes.
    """

    def __init__(
        self,
        a: PromptPlayer,
        b: PromptPlayer,
        *,
        max_blocks: int = 3,
        relays: tuple[PacketRelay | None, PacketRelay | None] = (None, None),
    ) -> None:
        self.a = a
        self.b = b
        self.to_a = Mix(max_blocks, "b")
        self.to_b = Mix(max_blocks, "a")
        a.live = self.to_a
        b.live = self.to_b
        self._taps: list[tuple[Tap, str]] = []  # (tap, the sides it sees)
        self.listeners: dict[PromptPlayer, Mix] = {}
        self._max_blocks = max_blocks
        self._hold: asyncio.Future[PlaybackOutcome] | None = None
        self.closed = False
        self._relays = relays
        self.mode = ""  # RELAY, RELAY_AND_TAP or DECODE (set below)
        self.decoded = 0  # decoded 20 ms frames that reached the bridge (either side)
        self.switches = 0  # changes of mode after the first
        self._refresh()

    # -- which path -------------------------------------------------------------------------------

    @property
    def can_relay(self) -> bool:
        ra, rb = self._relays
        return ra is not None and rb is not None and self.a.sends_packets and self.b.sends_packets

    def _wanted(self) -> str:
        if self.closed or not self.can_relay:
            return DECODE
        mixing = self._hold is not None or set(self.to_a.sources) - {"b"} or set(self.to_b.sources) - {"a"}
        if mixing:
            return DECODE
        return RELAY_AND_TAP if self._tapped_sides() else RELAY

    def _tapped_sides(self) -> str:
        """The sides something listens to beside the relay: taps by their sides, supervisors both."""
        wanted = set("".join(sides for _, sides in self._taps))
        if self.listeners:
            wanted |= set(SIDES)
        return "".join(side for side in SIDES if side in wanted)

    @property
    def decoding(self) -> str:
        """The sides whose audio is decoded now ("ab", "a", "b" or "": only relayed)."""
        if self.mode == DECODE:
            return SIDES
        return self._tapped_sides() if self.mode == RELAY_AND_TAP else ""

    def _refresh(self) -> None:
        """Put the path in line with what needs the audio now (after every change that may alter it)."""
        mode = self._wanted()
        ra, rb = self._relays
        if mode != self.mode:
            if self.mode:
                self.switches += 1
            self.mode = mode
            relaying = mode != DECODE
            if relaying:
                self.to_a.clear()
                self.to_b.clear()
                self.a.start_relay()
                self.b.start_relay()
            else:
                self.a.stop_relay()
                self.b.stop_relay()
            for relay, to in ((ra, self.b), (rb, self.a)):
                if relay is not None:
                    relay.sink = _forward(to) if relaying else None
        decoding = self.decoding  # a relayed side goes on to its decoder only when a tap listens to it
        for relay, side in ((ra, "a"), (rb, "b")):
            if relay is not None:
                relay.decode = side in decoding

    def add_tap(self, tap: Tap, sides: str = SIDES) -> None:
        """``tap`` sees the decoded audio of ``sides`` ("ab": both, "a": the caller's, "b": the agent's) from
        now on (decoding of those sides starts beside a relay)."""
        if not sides or set(sides) - set(SIDES):
            raise ValueError(f"a tap's sides are 'a', 'b' or 'ab', not {sides!r}")
        self._taps.append((tap, sides))
        self._refresh()

    def remove_tap(self, tap: Tap) -> None:
        """``tap`` sees nothing more (a side no other tap listens to stops being decoded beside a relay)."""
        self._taps = [(t, sides) for t, sides in self._taps if t != tap]
        self._refresh()

    @property
    def taps(self) -> tuple[Tap, ...]:
        """What sees the decoded audio (add one with :meth:`add_tap`)."""
        return tuple(tap for tap, _ in self._taps)

    @property
    def tapped(self) -> tuple[tuple[Tap, str], ...]:
        """Each tap with the sides it sees (what a bridge replacing this one takes over)."""
        return tuple(self._taps)

    @property
    def held(self) -> bool:
        return self._hold is not None

    def from_a(self, samples: Samples) -> None:
        """The caller's audio (call it with every decoded frame of leg ``a``)."""
        self.decoded += 1
        for tap, sides in self._taps:
            if "a" in sides:
                tap("a", samples)
        for mix in self.listeners.values():
            mix.push("a", samples)
        if self._hold is None and not self.closed and self.mode == DECODE:
            self.to_b.push("a", samples)

    def from_b(self, samples: Samples) -> None:
        """The agent's audio."""
        self.decoded += 1
        for tap, sides in self._taps:
            if "b" in sides:
                tap("b", samples)
        for mix in self.listeners.values():
            mix.push("b", samples)
        if self._hold is None and not self.closed and self.mode == DECODE:
            self.to_a.push("b", samples)

    def listen(self, player: PromptPlayer) -> None:
        """``player`` (a supervisor's) hears both sides mixed, neither side hears it."""
        mix = self.listeners[player] = Mix(self._max_blocks, "a", "b")
        player.live = mix
        self._refresh()

    def unlisten(self, player: PromptPlayer) -> None:
        if self.listeners.pop(player, None) is not None and player.live is not None:
            player.live = None
        self._refresh()

    def whisper(self, samples: Samples, source: str = "whisper") -> None:
        """Audio only the agent hears (a supervisor coaching), mixed with the caller."""
        if not self.closed:
            fresh = source not in self.to_b.sources
            self.to_b.push(source, samples)
            if fresh:
                self._refresh()

    def barge(self, samples: Samples, source: str = "barge") -> None:
        """Audio both sides hear (a supervisor who joined the call), mixed with what each hears of the other."""
        if not self.closed:
            fresh = source not in self.to_a.sources or source not in self.to_b.sources
            self.to_a.push(source, samples)
            self.to_b.push(source, samples)
            if fresh:
                self._refresh()

    def drop_source(self, source: str) -> None:
        """Forget a whisper or barge source (the supervisor left or changed mode): neither side hears it."""
        self.to_a.remove(source)
        self.to_b.remove(source)
        self._refresh()

    def hold(self, music: Audio, packets: list[bytes] | None = None) -> None:
        """The caller hears ``music`` looped, the agent silence; no audio crosses until :meth:`resume`."""
        if self._hold is not None or self.closed:
            return
        self.to_a.clear()
        self.to_b.clear()
        self._hold = self.a.loop(music, HOLD_PROMPT, packets)
        self._refresh()

    def resume(self) -> None:
        if self._hold is None:
            return
        self._hold = None
        self.a.cancel_prompt(HOLD_PROMPT)
        self._refresh()

    def close(self) -> None:
        """Unhook both players (they go back to prompts and silence)."""
        self.resume()
        self.closed = True
        self._refresh()  # the legs decode for themselves again (prompts, speech, digits)
        if self.a.live is self.to_a:
            self.a.live = None
        if self.b.live is self.to_b:
            self.b.live = None
        for player in list(self.listeners):
            self.unlisten(player)


def _forward(player: PromptPlayer) -> Callable[[Any], None]:
    """A relay sink: each received RTP packet to ``player``'s sender, as it is."""

    def forward(packet: Any) -> None:
        player.relay(packet.timestamp, packet.payload)

    return forward
