"""What the agent and supervisor legs of this node share: answering a desk's offer, music on hold, frame counters,
and telling a call's sockets or one agent's desk where the call stands.

Used by the hand-off (:mod:`gateway.calls.ringing`, :mod:`gateway.calls.agent_calls`), warm transfers
(:mod:`gateway.calls.consults`) and supervisors (:mod:`gateway.calls.monitors`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from gateway.calls.handoff import Handoff
from gateway.calls.hold_music import HoldMusic, Music
from gateway.calls.manager import Call, Publish, status_message
from gateway.errors import BadRequest, Conflict
from gateway.protocol.bus import Message
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import CallStatus
from gateway.store.bus import Bus
from gateway.store.store import Keys
from media.aiortc_patches import PacketRelay, RtcPortsExhausted
from media.bridge import Bridge
from media.ice import IceConfig
from media.leg import AudioLeg, BadOffer, Samples, check_offer
from media.opus import OpusPrompts
from media.player import FRAME_COUNTERS, PromptPlayer

log = logging.getLogger(__name__)

MUSIC_PROMPT = "music-on-hold"  # the player's id of a waiting caller's music (announcements cancel it, then loop it)


class AgentLegs:
    def __init__(
        self,
        *,
        ice: IceConfig,
        opus: OpusPrompts,
        publish: Publish,
        bus: Bus,
        keys: Keys,
        music: HoldMusic | None = None,
        relay: bool = True,
        inband_dtmf: bool = False,
    ) -> None:
        self.ice = ice
        self.relay = relay  # bridges relay Opus packets while nothing needs the audio (--bridge-relay)
        self.inband_dtmf = inband_dtmf  # bridged callers' tones are detected (--bridge-inband-dtmf)
        self.opus = opus
        self.publish = publish
        self.bus = bus
        self.keys = keys
        self.music = music or HoldMusic(opus)  # the caller's queue's, or the generated music
        self.ended = dict.fromkeys(FRAME_COUNTERS, 0)  # counters of the legs closed so far

    async def answer_leg(
        self,
        offer_sdp: str,
        *,
        name: str,
        claim: Callable[[AudioLeg | None], None],
        on_audio: Callable[[AudioLeg, Samples], None],
        on_closed: Callable[[AudioLeg, str], object],
        packets: bool = True,
    ) -> tuple[AudioLeg, str]:
        """A new leg answering an agent's (or supervisor's) offer. ``claim(leg)`` runs before the first await,
        so a second request sees the place taken, and ``claim(None)`` if answering fails; a bad offer is a
        BadRequest naming the field."""
        try:
            check_offer(offer_sdp)
        except BadOffer as exc:
            raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None

        def closed(why: str) -> None:
            on_closed(leg, why)

        leg: AudioLeg = AudioLeg(
            on_audio=lambda samples: on_audio(leg, samples),
            on_closed=closed,
            ice_servers=self.ice.for_leg(name, time.time()),
            opus_silence=self.opus.silence if packets else None,
            name=name,
        )
        claim(leg)
        try:
            answer = await leg.accept(offer_sdp)
        except BaseException as exc:
            claim(None)
            await leg.close()
            if isinstance(exc, BadOffer):
                raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None
            if isinstance(exc, RtcPortsExhausted):  # --rtc-port-range is full
                log.error("%s refused: %s", name, exc.message)
                raise Conflict(
                    f"the gateway cannot take the call now: {exc.message}", code=ErrorCode(exc.code)
                ) from None
            raise
        return leg, answer

    def relays(self, caller: AudioLeg, agent: AudioLeg) -> tuple[PacketRelay | None, PacketRelay | None]:
        """The relay points a :class:`~media.bridge.Bridge` of these two legs uses (none: it always decodes)."""
        return (caller.relay, agent.relay) if self.relay else (None, None)

    async def answer_agent(
        self,
        handoff: Handoff,
        offer_sdp: str,
        *,
        name: str,
        claim: Callable[[AudioLeg | None], None],
        lost: Callable[[Handoff, AudioLeg, str], Coroutine[Any, Any, None]],
    ) -> tuple[AudioLeg, str]:
        """The call's agent's leg (:meth:`answer_leg`): what it hears goes to the caller (and a consulted
        colleague); ``lost(handoff, leg, why)`` runs in the hand-off's tasks when it fails or closes."""
        return await self.answer_leg(
            offer_sdp,
            name=name,
            claim=claim,
            on_audio=lambda _leg, samples: handoff.from_agent(samples),
            on_closed=lambda leg, why: handoff.tasks.spawn(lost(handoff, leg, why), "agent-lost"),
        )

    def bridge(self, call: Call, leg: AudioLeg, *, replacing: Bridge | None = None) -> Bridge:
        """The caller's leg bridged to ``leg`` (an agent's), relaying when it can. The taps of the bridge it
        replaces (a warm transfer) carry over; a first bridge gets the caller's in-band DTMF detector as a tap
        of the caller's side when ``--bridge-inband-dtmf`` is on (relaying, that side is then decoded beside)."""
        bridge = Bridge(call.player, leg.player, relays=self.relays(call.leg, leg))
        if replacing is not None:
            for tap, sides in replacing.tapped:
                bridge.add_tap(tap, sides)
        elif self.inband_dtmf:
            bridge.add_tap(call.detect_digits, "a")
        return bridge

    def count_ended(self, player: PromptPlayer) -> None:
        """Keep a closed leg's frame counters."""
        for name, count in player.stats.counts().items():
            self.ended[name] += count

    def frame_stats(self, live: list[PromptPlayer]) -> dict[str, int]:
        """The counters of the closed legs plus those of ``live`` ones."""
        out = dict(self.ended)
        for player in live:
            for name, count in player.stats.counts().items():
                out[name] += count
        return out

    async def hold_music(self, call: Call, *, queue: str | None = None) -> Music:
        """What ``call``'s caller hears on hold: the music of the queue they wait in (``queue``: that one's)."""
        return await self.music.for_conversation(call.conversation_id, packets=call.player.sends_packets, queue=queue)

    async def play_hold_music(
        self, call: Call, *, queue: str | None = None, still: Callable[[], bool] = lambda: True
    ) -> None:
        """Loop the music of ``call``'s queue (``queue``: that one's) if, once it is known (a store read), ``still()``
        says the caller is still to hear it: an agent who answered meanwhile is not talked over by music."""
        music = await self.hold_music(call, queue=queue)
        if still() and not call.ended.is_set():
            call.player.loop(music.audio, MUSIC_PROMPT, music.packets)

    async def status(self, handoff: Handoff, status: CallStatus, reason: str = "") -> None:
        """Tell the conversation's sockets (customer and agent desks) where the call stands, with its agent."""
        call = handoff.call
        if call.ended.is_set():
            return
        call.status = status
        await self.publish(
            call.conversation_id,
            status_message(call, status, reason, agent_id=handoff.agent_id, agent_name=handoff.agent_name),
        )

    async def tell_conversation(self, conversation_id: str, message: Message) -> None:
        """A message on a conversation's channel: its customer's sockets and the desks following it."""
        await self.bus.publish(self.keys.conv_channel(conversation_id), message)

    async def tell_agent(self, agent_id: str, message: Message) -> None:
        """A message on one agent's own channel: their desk may not follow the conversation (yet)."""
        await self.bus.publish(self.keys.agent_channel(agent_id), message)
