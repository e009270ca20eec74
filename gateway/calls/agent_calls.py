"""Agents answer calls: ring the assigned agent, connect their softphone, bridge, hold, hang up.

When the IVR hands a call to routing, the caller hears music on hold and the
call waits for its conversation to be assigned (routing is the same as for
chats: the longest-idle available agent with room). The assigned agent's desk
then *rings* (``call_status`` ``ringing`` with the agent's id) for
``ring_seconds``:

- the agent accepts by sending its own WebRTC offer for the call
  (``call_offer`` with the ``call_id``); the gateway answers it with a second
  :class:`~media.leg.AudioLeg` and, once that leg is connected, bridges the two
  legs (:class:`~media.bridge.Bridge`): the call stays anchored here, so hold
  and later recording or transcripts can tap it;
- on decline or no answer the agent is set *away* (so routing does not hand
  them the next call at once) and the conversation goes back into the queue at
  its first enqueue time, ahead of everyone who came later (ring-no-answer);
- a second accept for the same call (another tab, another agent) is refused:
  the first accept claims the call before anything awaits.

If the agent's leg drops mid-call (closed tab, ICE failure), the caller is
told and, by configuration, either goes back to the queue (``requeue``, the
default) or the call ends (``end``). A reconnect of the agent's WebSocket
alone does not touch the call: the media leg is what counts.

Calls are anchored on the node that answered the customer; a desk on another
node reaches them through :mod:`gateway.calls.commands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.calls.commands import CallCommands
from gateway.calls.consults import Consult, Consults
from gateway.calls.monitors import CallMonitors, Monitor
from gateway.calls.transcripts import CallTranscript, Transcripts
from gateway.contact.agents import Agent
from gateway.contact.routing import now_ms
from gateway.contact.wait_estimate import WaitEstimates, announcement, estimate_wait_ms
from gateway.errors import BadRequest, Conflict, Forbidden, GatewayError, NotFound
from gateway.protocol.bus import CallUpdate, EventAppended, Message
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentActivity, AgentStatus, CallStatus, ConversationState, EventType
from gateway.tasks import cancel_and_wait
from ivr.actions import Say
from media.aiortc_patches import RtcPortsExhausted
from media.asr import AsrError, SpeechEngine
from media.audio import Audio
from media.bridge import Bridge, Mix
from media.leg import AudioLeg, BadOffer, Samples, check_offer
from media.music import hold_music
from media.player import PromptPlayer
from media.recorder import StereoRecorder

if TYPE_CHECKING:
    from gateway.calls.manager import Call, CallManager
    from gateway.contact.presence import Presence
    from gateway.store.bus import Bus
    from gateway.store.store import Keys

log = logging.getLogger(__name__)

RING_SECONDS = 20.0
ANNOUNCE_SECONDS = 45.0
WRAP_UP_SECONDS = 60.0
RECONNECT_GRACE_SECONDS = 5.0
AGENT_CONNECT_SECONDS = 15.0
LOST_AGENT_PROMPT = "We lost the connection to your agent. Please hold while we connect you to someone else."
TRANSFER_PROMPT = "Please hold while I transfer your call."
LOST_AGENT_END_PROMPT = "We lost the connection to your agent. Please call us again. Goodbye."


@dataclass
class Handoff:
    """One waiting call's way to an agent (lives from 'queued' to the end of the call)."""

    call: Call
    queued_ms: int
    agent_id: str = ""
    agent_name: str = ""
    ring: asyncio.Task[None] | None = None
    leg: AudioLeg | None = None
    bridge: Bridge | None = None
    answered_ms: int = 0
    recorder: StereoRecorder | None = None
    answers: int = 0   # agents who answered so far (a re-queued call is answered again)
    announced: list[str] = field(default_factory=list)   # position / wait announcements played
    monitors: dict[str, Monitor] = field(default_factory=dict)   # supervisor id -> their leg
    consult: Consult | None = None       # a warm transfer in progress (gateway/calls/consults.py)
    consult_mix: Mix | None = None       # what the consulted agent hears (the first agent)
    transcript: CallTranscript | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


class AgentCalls:
    def __init__(self, calls: CallManager, presence: Presence, bus: Bus, keys: Keys, *,
                 ring_seconds: float = RING_SECONDS, agent_drop: str = "requeue",
                 music: Audio | None = None, recordings: Path | None = None,
                 waits: WaitEstimates | None = None, announce_seconds: float = ANNOUNCE_SECONDS,
                 wrap_up_seconds: float = WRAP_UP_SECONDS) -> None:
        if agent_drop not in ("requeue", "end"):
            raise ValueError(f"agent_drop must be 'requeue' or 'end', not {agent_drop!r}")
        self.calls = calls
        self.presence = presence
        self.bus = bus
        self.keys = keys
        self.ring_seconds = ring_seconds
        self.agent_drop = agent_drop
        self.music = music or hold_music()
        self.recordings = recordings   # where recorded calls go (None: recording is off on this node)
        self.waits = waits
        self.announce_seconds = announce_seconds  # 0: no position / wait announcements
        self.wrap_up_seconds = wrap_up_seconds    # after-call work before routing offers new work
        self.connect_seconds = AGENT_CONNECT_SECONDS  # an answering leg that is not up by then counts as lost
        self._music_packets: list[bytes] | None = None
        self.handoffs: dict[str, Handoff] = {}   # call id -> handoff
        self.monitors = CallMonitors(self)       # supervisors listening in
        self.consults = Consults(self)           # warm transfers
        self.anchor: CallCommands | None = None  # set by the runtime: records which node holds each call
        self.transcripts: Transcripts | None = None   # set by the runtime: live transcripts (opt-in per queue)

    # ---------------------------------------------------------------- the call's side

    async def waiting(self, call: Call) -> None:
        """The flow queued the call: music on hold, and ring the agent as soon as routing assigns one."""
        handoff = Handoff(call, queued_ms=now_ms())
        self.handoffs[call.id] = handoff
        if self.anchor is not None:
            await self.anchor.anchored(call.id)   # desks on other nodes find the call here
        await self._play_hold_music(call)
        if self.waits is not None and self.announce_seconds > 0:
            self.spawn(handoff, self._announce_every(handoff))
        await self.bus.subscribe(self.keys.conv_channel(call.conversation_id), self._on_conversation)
        conv = await self.calls.conversations.store.conversation(call.conversation_id)
        if conv is not None and conv.get("state") == ConversationState.ASSIGNED and conv.get("agent_id"):
            # assigned before we listened: ring now
            self.spawn(handoff, self._ring(handoff, conv["agent_id"], conv.get("agent_name", "")))

    async def call_ended(self, call: Call) -> None:
        """Release everything the call had on the agent side (called once by :meth:`Call.end`)."""
        handoff = self.handoffs.pop(call.id, None)
        if handoff is None:
            return
        if self.anchor is not None:
            with contextlib.suppress(Exception):
                await self.anchor.released(call.id)
        if handoff.answers == 0 and handoff.leg is None:   # hung up before any agent answered
            waited = now_ms() - handoff.queued_ms
            log.info("call abandoned after %d ms in the queue", waited, extra={"conversation_id": call.conversation_id})
            with contextlib.suppress(GatewayError):
                await self.calls.conversations.record(call.conversation_id, EventType.CALL_ABANDONED, {
                    "call_id": call.id, "wait_ms": waited, "reason": call.end_reason,
                    "ringing_agent_id": handoff.agent_id})
        with contextlib.suppress(Exception):
            await self.bus.unsubscribe(self.keys.conv_channel(call.conversation_id), self._on_conversation)
        await self._disconnect(handoff)
        current = asyncio.current_task()
        await cancel_and_wait(*[t for t in handoff.tasks if t is not current])

    def _on_conversation(self, channel: str, message: Message) -> None:
        if not isinstance(message, EventAppended) or message.type != EventType.ASSIGNED:
            return
        cid = channel.rsplit(":", 1)[1]
        for handoff in self.handoffs.values():
            if handoff.call.conversation_id == cid and not handoff.agent_id and handoff.leg is None:
                data = message.data
                self.spawn(handoff, self._ring(handoff, str(data.get("agent_id", "")),
                                                str(data.get("agent_name", ""))))

    async def _ring(self, handoff: Handoff, agent_id: str, agent_name: str) -> None:
        if not agent_id or handoff.agent_id:
            return
        handoff.agent_id = agent_id
        handoff.agent_name = agent_name or (await self.presence.info(agent_id))["name"]
        if handoff.leg is not None or handoff.call.ended.is_set():
            return
        call = handoff.call
        log.info("ringing agent %s", agent_id, extra={"conversation_id": call.conversation_id})
        await self.presence.set_activity(agent_id, AgentActivity.RINGING)
        # On the agent's own channel: their desk may not follow the conversation yet (just assigned).
        call.status = CallStatus.RINGING
        await self.bus.publish(self.keys.agent_channel(agent_id), CallUpdate(
            call.id, CallStatus.RINGING, "", conversation_id=call.conversation_id, agent_id=agent_id,
            agent_name=handoff.agent_name, ring_seconds=self.ring_seconds))

        async def no_answer() -> None:
            await asyncio.sleep(self.ring_seconds)
            await self._missed(handoff, "no_answer")
        handoff.ring = self.spawn(handoff, no_answer())

    async def _missed(self, handoff: Handoff, reason: str) -> None:
        """Ring-no-answer or decline: the agent goes away, the call goes back to the head of the queue."""
        agent_id = handoff.agent_id
        if not agent_id or handoff.leg is not None:
            return
        if handoff.ring is not None and handoff.ring is not asyncio.current_task():
            handoff.ring.cancel()
        handoff.ring = None
        handoff.agent_id = handoff.agent_name = ""
        call = handoff.call
        log.info("agent %s missed the call (%s)", agent_id, reason, extra={"conversation_id": call.conversation_id})
        await self.presence.set_status(agent_id, AgentStatus.AWAY, "missed_call")   # not offered it again
        await self.presence.set_activity(agent_id, AgentActivity.NONE)
        await self.calls.conversations.record(call.conversation_id, EventType.CALL_MISSED,
                                              {"call_id": call.id, "agent_id": agent_id, "reason": reason})
        # The missed agent's desk hears it on their own channel, before the conversation leaves them.
        await self.bus.publish(self.keys.agent_channel(agent_id), CallUpdate(
            call.id, CallStatus.WAITING, reason, conversation_id=call.conversation_id, agent_id="", agent_name=""))
        await self.status(handoff, CallStatus.WAITING, reason)
        await self.calls.conversations.requeue(call.conversation_id, agent_id, f"call_{reason}",
                                               score=handoff.queued_ms)

    # ---------------------------------------------------------------- the agent's side

    def for_agent(self, agent: Agent, call_id: str, *, answering: bool = False) -> Handoff:
        handoff = self.handoffs.get(call_id)
        if handoff is None:
            if call_id in self.calls.calls:
                raise Conflict("the call is not waiting for an agent", field="call_id", code=ErrorCode.NOT_RINGING)
            raise NotFound(f"no call {call_id} on this node (it ended, or it is anchored on another node)",
                           field="call_id")
        if handoff.agent_id != agent.id:
            if handoff.leg is not None and not answering:   # another agent's call in progress: not theirs to touch
                raise Forbidden("this call is another agent's", field="call_id")
            raise Conflict("this call is not for you", field="call_id", code=ErrorCode.NOT_RINGING)
        return handoff

    async def accept(self, agent: Agent, call_id: str, offer_sdp: str) -> str:
        """The agent answers with its softphone's offer; returns the SDP answer. Exactly one accept wins."""
        found = self.handoffs.get(call_id)
        if found is not None and self.consults.is_consultant(found, agent):
            return await self.consults.accept(found, agent, offer_sdp)
        handoff = self.for_agent(agent, call_id, answering=True)
        if handoff.leg is not None:
            raise Conflict("the call was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)
        call = handoff.call

        def claim(leg: AudioLeg | None) -> None:   # before the first await: a second accept is refused
            handoff.leg = leg
            if leg is not None and handoff.ring is not None:
                handoff.ring.cancel()
                handoff.ring = None

        leg, answer = await self.answer_leg(
            offer_sdp, name=f"agent-{call_id}", claim=claim,
            on_audio=lambda _leg, samples: self.from_agent(handoff, samples),
            on_closed=lambda leg, why: self.spawn(handoff, self.agent_lost(handoff, leg, why)))
        log.info("agent %s answered", agent.id, extra={"conversation_id": call.conversation_id})
        self.spawn(handoff, self._connect(handoff, leg))
        return answer

    async def answer_leg(self, offer_sdp: str, *, name: str, claim: Callable[[AudioLeg | None], None],
                         on_audio: Callable[[AudioLeg, Samples], None], on_closed: Callable[[AudioLeg, str], object],
                         packets: bool = True) -> tuple[AudioLeg, str]:
        """A new leg answering an agent's (or supervisor's) offer. ``claim(leg)`` runs before the first await,
        so a second request sees the place taken, and ``claim(None)`` if answering fails; a bad offer is a
        BadRequest naming the field."""
        try:
            check_offer(offer_sdp)
        except BadOffer as exc:
            raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None
        def closed(why: str) -> None:
            on_closed(leg, why)

        leg: AudioLeg = AudioLeg(on_audio=lambda samples: on_audio(leg, samples), on_closed=closed,
                                 ice_servers=self.calls.config.ice_servers,
                                 opus_silence=self.calls.opus.silence if packets else None, name=name)
        claim(leg)
        try:
            answer = await leg.accept(offer_sdp)
        except BaseException as exc:
            claim(None)
            await leg.close()
            if isinstance(exc, BadOffer):
                raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None
            if isinstance(exc, RtcPortsExhausted):   # --rtc-port-range is full
                log.error("%s refused: %s", name, exc.message)
                raise Conflict(f"the gateway cannot take the call now: {exc.message}",
                               code=ErrorCode(exc.code)) from None
            raise
        return leg, answer

    async def _connect(self, handoff: Handoff, leg: AudioLeg) -> None:
        if not await leg.wait_connected(self.connect_seconds):
            await self.agent_lost(handoff, leg, "agent_ice_timeout")
            return
        call = handoff.call
        call.player.stop()                     # music on hold (and any announcement) ends
        handoff.bridge = call.bridge = Bridge(call.player, leg.player)
        handoff.answered_ms = now_ms()
        handoff.answers += 1
        action = call.channel.enqueued_action if call.channel is not None else None
        if action is not None and action.record and self.recordings is not None:
            name = f"{call.id}-{handoff.answers}.ogg"
            handoff.recorder = StereoRecorder(self.recordings / call.conversation_id / name)
            handoff.bridge.taps.append(handoff.recorder)
        if action is not None and action.transcribe and self.transcripts is not None and handoff.transcript is None:
            handoff.transcript = await self.transcripts.start(
                self._speech_engine(call), self._recorder_of(call), call.id)
            if handoff.transcript is not None:
                handoff.bridge.taps.append(handoff.transcript)
        await self.calls.conversations.record(call.conversation_id, EventType.CALL_ANSWERED, {
            "call_id": call.id, "agent_id": handoff.agent_id, "agent_name": handoff.agent_name,
            "wait_ms": handoff.answered_ms - handoff.queued_ms})
        await self.presence.set_activity(handoff.agent_id, AgentActivity.ON_CALL)
        await self.status(handoff, CallStatus.CONNECTED)
        callbacks = self.calls.conversations.callbacks
        if callbacks is not None:    # a callback being delivered: the customer is reached
            await callbacks.reached(call.conversation_id)

    def from_agent(self, handoff: Handoff, samples: Samples) -> None:
        if handoff.bridge is not None:
            handoff.bridge.from_b(samples)
        if handoff.consult_mix is not None:   # consulting: the other agent hears this one
            handoff.consult_mix.push("agent", samples)

    async def decline(self, agent: Agent, call_id: str) -> None:
        found = self.handoffs.get(call_id)
        if found is not None and self.consults.is_consultant(found, agent):
            await self.consults.cancel_by(agent, call_id)
            return
        handoff = self.for_agent(agent, call_id)
        if handoff.leg is not None:
            raise Conflict("the call was already answered", field="call_id", code=ErrorCode.ALREADY_ANSWERED)
        await self._missed(handoff, "declined")

    async def hold(self, agent: Agent, call_id: str, on: bool) -> None:
        handoff = self.for_agent(agent, call_id)
        bridge = handoff.bridge
        if bridge is None:
            raise Conflict("the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED)
        if on == bridge.held:   # nothing to change; say where things stand
            await self.status(handoff, CallStatus.CONNECTED, "held" if on else "")
            return
        if on:
            bridge.hold(self.music, await self.hold_packets(handoff.call))
        else:
            bridge.resume()
        await self.calls.conversations.record(handoff.call.conversation_id,
                                              EventType.CALL_HELD if on else EventType.CALL_RESUMED,
                                              {"call_id": call_id, "agent_id": agent.id})
        await self.status(handoff, CallStatus.CONNECTED, "held" if on else "")

    async def transfer(self, agent: Agent, call_id: str, *, queue: str | None = None,
                       to_agent: str | None = None) -> None:
        """Blind transfer: the caller holds (music) while the call rings ``to_agent``, or waits in ``queue``.

        The conversation (chat, IVR answers, notes) goes with it. A target agent who is not available is
        refused before anything changes; if the hand-over still fails, the caller goes back to the queue.
        """
        handoff = self.for_agent(agent, call_id)
        if handoff.bridge is None:
            raise Conflict("the call is not connected", field="call_id", code=ErrorCode.NOT_CONNECTED)
        call = handoff.call
        target_name = ""
        if to_agent is not None:
            if to_agent == agent.id:
                raise BadRequest("that is you", field="agent_id", code=ErrorCode.BAD_FIELD)
            info = await self.presence.info(to_agent)
            if info["status"] != AgentStatus.AVAILABLE or info["activity"]:
                doing = info["activity"].replace("_", " ") if info["status"] == AgentStatus.AVAILABLE \
                    else info["status"]
                raise Conflict(f"{to_agent} is {doing}, not available", field="agent_id",
                               code=ErrorCode.TRANSFER_REFUSED)
            target_name = info["name"]
        await self.calls.conversations.record(call.conversation_id, EventType.CALL_TRANSFERRED, {
            "call_id": call_id, "agent_id": agent.id, "to_agent_id": to_agent or "", "to_queue": queue or ""})
        await self._disconnect(handoff, release=True)
        await self._say(call, TRANSFER_PROMPT, wait=False)
        await self._play_hold_music(call)
        moved = False
        if to_agent is not None:
            try:
                await self.calls.conversations.transfer(call.conversation_id, agent.id, to_agent, target_name)
                moved = True
            except Conflict:
                log.warning("transfer to %s failed; back to the queue", to_agent,
                            extra={"conversation_id": call.conversation_id})
        if not moved:
            await self.calls.conversations.requeue(call.conversation_id, agent.id, "transferred",
                                                   score=handoff.queued_ms, queue_name=queue or "")
        if not handoff.agent_id:   # (the new agent may be ringing already)
            await self.status(handoff, CallStatus.WAITING, "transferred")

    async def hangup(self, agent: Agent, call_id: str) -> None:
        found = self.handoffs.get(call_id)
        if found is not None and agent.id in found.monitors:   # a supervisor leaves; the call goes on
            await self.monitors.end(found, agent.id, "supervisor_hangup")
            return
        if found is not None and self.consults.is_consultant(found, agent):   # the consultant leaves
            await self.consults.cancel_by(agent, call_id)
            return
        handoff = self.for_agent(agent, call_id)
        await handoff.call.end("agent_hangup")

    def _speech_engine(self, call: Call) -> SpeechEngine | None:
        speech = self.calls.speech
        if speech is None or call.flow is None:
            return None
        try:
            return speech.engine_for(call.flow)
        except AsrError:
            return None

    def _recorder_of(self, call: Call) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
        async def record(typ: str, data: dict[str, Any]) -> None:
            with contextlib.suppress(GatewayError):
                await self.calls.conversations.record(call.conversation_id, EventType(typ), data)
        return record

    def live_players(self) -> list[PromptPlayer]:
        """Outgoing players of the agent and supervisor legs of this node (for the frame counters)."""
        players = [h.leg.player for h in self.handoffs.values() if h.leg is not None]
        for h in self.handoffs.values():
            players += [m.leg.player for m in h.monitors.values()]
            if h.consult is not None and h.consult.leg is not None:
                players.append(h.consult.leg.player)
        return players

    @property
    def wrap_up_ms(self) -> int:
        return int(self.wrap_up_seconds * 1000)

    async def add_handle_time(self, handoff: Handoff) -> None:
        """An agent's part of the call is over: its length feeds the wait estimates."""
        if self.waits is not None and handoff.answered_ms:
            with contextlib.suppress(Exception):
                await self.waits.add_handle_time(now_ms() - handoff.answered_ms)

    async def wrap_up_done(self, agent_id: str) -> None:
        """The agent closed a conversation: after-call work is over if that is what they were doing."""
        if (await self.presence.info(agent_id))["activity"] == AgentActivity.WRAP_UP:
            await self.presence.set_activity(agent_id, AgentActivity.NONE)

    async def agent_gone(self, agent_id: str) -> None:
        """The agent's last desk connection closed: a call ringing for them is missed unless the desk is back
        within ``RECONNECT_GRACE_SECONDS`` (a live leg stays whatever happens to the socket)."""
        for handoff in list(self.handoffs.values()):
            if handoff.agent_id == agent_id and handoff.leg is None:
                self.spawn(handoff, self._missed_unless_back(handoff, agent_id))

    async def _missed_unless_back(self, handoff: Handoff, agent_id: str) -> None:
        await asyncio.sleep(RECONNECT_GRACE_SECONDS)
        if handoff.agent_id == agent_id and handoff.leg is None and \
                (await self.presence.info(agent_id))["status"] == AgentStatus.OFFLINE:
            await self._missed(handoff, "agent_disconnected")

    def calls_of(self, agent_id: str) -> list[dict[str, Any]]:
        """What is ringing for or connected to ``agent_id`` on this node (for a desk that reconnects)."""
        return [{"call_id": h.call.id, "conversation_id": h.call.conversation_id,
                 "status": "ringing" if h.leg is None else str(h.call.status),
                 "held": bool(h.bridge and h.bridge.held), "ring_seconds": self.ring_seconds}
                for h in self.handoffs.values() if h.agent_id == agent_id]

    async def agent_lost(self, handoff: Handoff, leg: AudioLeg, why: str) -> None:
        """The agent's leg failed or closed while the caller is still there."""
        if handoff.leg is not leg or handoff.call.ended.is_set():
            return
        call = handoff.call
        agent_id = handoff.agent_id
        log.warning("agent leg lost (%s)", why, extra={"conversation_id": call.conversation_id, "agent_id": agent_id})
        await self._disconnect(handoff, release=True)
        await self.calls.conversations.record(call.conversation_id, EventType.CALL_AGENT_LOST,
                                              {"call_id": call.id, "agent_id": agent_id, "reason": why})
        if self.agent_drop == "end":
            await self._say(call, LOST_AGENT_END_PROMPT)
            await call.end("agent_lost")
            return
        await self._say(call, LOST_AGENT_PROMPT)
        await self._play_hold_music(call)
        await self.presence.set_status(agent_id, AgentStatus.AWAY, "call_lost")
        await self.calls.conversations.requeue(call.conversation_id, agent_id, "call_agent_lost",
                                               score=handoff.queued_ms)
        await self.status(handoff, CallStatus.WAITING, "agent_lost")

    # ---------------------------------------------------------------- helpers

    async def _disconnect(self, handoff: Handoff, *, release: bool = False) -> None:
        """Close the agent side (ring, bridge, leg, recording); ``release``: the agent lets go of the call
        at once (before any await), so nothing else treats it as theirs meanwhile."""
        agent_id = handoff.agent_id
        if release:
            handoff.agent_id = handoff.agent_name = ""
        if handoff.consult is not None:
            await self.consults.cancel(handoff, "call_ended")
        if handoff.ring is not None:
            handoff.ring.cancel()
            handoff.ring = None
        if handoff.bridge is not None:
            await self.add_handle_time(handoff)
        if agent_id and (handoff.bridge is not None or handoff.leg is not None):
            await self.presence.set_activity(agent_id, AgentActivity.WRAP_UP,
                                             until_ms=now_ms() + self.wrap_up_ms)
        elif agent_id:
            await self.presence.set_activity(agent_id, AgentActivity.NONE)
        for sid in list(handoff.monitors):
            await self.monitors.end(handoff, sid, "call_ended")
        transcript, handoff.transcript = handoff.transcript, None
        if transcript is not None and self.transcripts is not None:
            await self.transcripts.stop(transcript)
        if handoff.bridge is not None:
            handoff.bridge.close()
            handoff.bridge = handoff.call.bridge = None
        leg, handoff.leg = handoff.leg, None
        if leg is not None:
            self.calls.count_ended(leg.player)
            await leg.close()
        recorder, handoff.recorder = handoff.recorder, None
        if recorder is not None:
            await self._finish_recording(handoff, recorder, agent_id)

    async def _finish_recording(self, handoff: Handoff, recorder: StereoRecorder, agent_id: str) -> None:
        call = handoff.call
        try:
            path = await asyncio.to_thread(recorder.close)
        except Exception:  # a failed recording must not break the call's cleanup
            log.exception("recording failed", extra={"conversation_id": call.conversation_id})
            return
        if path is None:
            return
        with contextlib.suppress(GatewayError):
            await self.calls.conversations.record(call.conversation_id, EventType.RECORDING, {
                "call_id": call.id, "agent_id": agent_id, "file": path.name,
                "url": f"/api/recordings/{call.conversation_id}/{path.name}",
                "duration_ms": recorder.duration_ms, "bytes": path.stat().st_size})

    async def _announce_every(self, handoff: Handoff) -> None:
        """While nobody answers: the caller's place and the expected wait, now and every ``announce_seconds``."""
        while True:
            if handoff.leg is None and not handoff.agent_id:
                await self._announce(handoff)
            await asyncio.sleep(self.announce_seconds)

    async def _announce(self, handoff: Handoff) -> None:
        assert self.waits is not None
        call = handoff.call
        position = await self.calls.conversations.queue_position(call.conversation_id)
        if not position or call.channel is None:
            return
        wait = estimate_wait_ms(position, await self.waits.agents_online(), await self.waits.handle_times())
        text = announcement(position, wait)
        handoff.announced.append(text)
        call.player.cancel_prompt("music-on-hold")       # whatever is still playing (the queue prompt) finishes
        done = await call.channel.say(Say(f"position-{len(handoff.announced)}", text))
        if done is not None:
            await done
        if handoff.leg is None and not call.ended.is_set():
            await self._play_hold_music(call)

    async def status(self, handoff: Handoff, status: CallStatus, reason: str = "") -> None:
        call = handoff.call
        if call.ended.is_set():
            return
        call.status = status
        await self.calls.publish_status(call, status, reason, agent_id=handoff.agent_id,
                                        agent_name=handoff.agent_name)

    async def hold_packets(self, call: Call) -> list[bytes] | None:
        if not call.player.sends_packets:
            return None
        if self._music_packets is None:
            self._music_packets = await asyncio.to_thread(self.calls.opus.packets, self.music)
        return self._music_packets

    async def _play_hold_music(self, call: Call) -> None:
        call.player.loop(self.music, "music-on-hold", await self.hold_packets(call))

    async def _say(self, call: Call, text: str, *, wait: bool = True) -> None:
        if call.channel is None:
            return
        call.player.stop()
        with contextlib.suppress(GatewayError, Exception):
            done = await call.channel.say(Say(f"agent-{now_ms()}", text))
            if done is not None and wait:
                await done

    def spawn(self, handoff: Handoff, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        handoff.tasks.add(task)
        task.add_done_callback(handoff.tasks.discard)
        task.add_done_callback(_log_failure)
        return task


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("agent call task failed", exc_info=task.exception())
