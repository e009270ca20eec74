"""Voice calls from the browser: one aiortc leg per call, attached to the customer's conversation.

A :class:`Call` owns its peer connection, its outgoing prompt track, the task
that drains and inspects the caller's audio (in-band DTMF), and the flow that
runs the IVR. Everything it starts it stops: a call ends on hang-up (either
side), ICE failure, a connection that never comes up, the flow hanging up, or
gateway shutdown, and ending it closes the peer connection, the tracks and
every task. :class:`CallManager` is the registry of live calls with the
concurrency limit; beyond the limit a caller is refused cleanly ("all lines
busy") instead of degrading every call.

Digits arrive three ways, all into :meth:`Call.on_digit`: the widget's keypad
over signaling, RFC 4733 telephone-events (Chromium's RTCDTMFSender), and
in-band tones found by a Goertzel detector on the decoded audio. Spoken
answers go through the call's :class:`~gateway.flows.call_speech.CallSpeech` when
the flow listens for speech (see ``gateway/flows/speech.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from gateway.calls.admission import Admission, Load
from gateway.calls.anchors import CallAnchors, caller_view, listed
from gateway.calls.call_slots import CallSlots, LinesBusy
from gateway.calls.frame_counts import NodeFrames
from gateway.contact.callbacks import CallbackAnswer, Callbacks
from gateway.contact.conversations import Conversations
from gateway.contact.limits import Limits
from gateway.errors import BadRequest, Conflict, GatewayError, NotFound
from gateway.flows.call_speech import CallSpeech
from gateway.flows.captions import CaptionedHooks, Captions
from gateway.flows.live import Entry, LiveFlows
from gateway.flows.runner import FlowHooks, FlowRunner
from gateway.flows.speech import SpeechRecognition
from gateway.flows.test_runs import TEST_QUEUED, TestHooks, TestRun
from gateway.flows.voice_channel import AudioFiles, VoiceChannel
from gateway.metrics import Metrics
from gateway.protocol.bus import CallCaption, CallUpdate
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import CallEndReason, CallStatus, CaptionKind, ConversationState, EventType
from gateway.store.store import StoreError
from gateway.tasks import Tasks, cancel_and_wait
from ivr.actions import Say
from ivr.events import Digits, Disconnected
from ivr.interpreter import Interpreter
from ivr.machine import Waiting
from ivr.model import Channel, Flow
from media.aiortc_patches import RtcPortsExhausted
from media.bridge import Bridge
from media.dtmf import GoertzelDetector
from media.ice import IceConfig
from media.leg import AudioLeg, BadOffer, Samples, check_offer
from media.opus import OpusPrompts
from media.player import PromptPlayer
from media.tts import Synthesizer

log = logging.getLogger(__name__)

#: A page whose socket closed mid-call (a caller's, an agent's desk) went with it if its leg stays silent this long
#: (:meth:`~media.leg.AudioLeg.silent_for`).
SILENT_SECONDS = 2.0

CONNECT_TIMEOUT = 20.0  # seconds from the answer to an established connection
#: the ends of a call whose caller left (hung up, their page or connection gone), not the flow's own end
CALLER_LEFT = frozenset({"caller_hangup", "connection_closed", "ice_failed"})


Publish = Callable[[str, CallUpdate | CallCaption], Awaitable[None]]  # (conversation id, bus message)


class CallAgents(Protocol):
    """The hand-off to agents (gateway/calls/agent_calls.py), as a call sees it."""

    async def waiting(
        self, call: Call, *, callback: CallbackAnswer | None = None, chat_agent: str = "", routed: bool = False
    ) -> None:
        """The call waits for an agent (the flow queued it: ``routed``, or it goes straight to the chat's agent,
        ``chat_agent``); ``callback``: it answers that agent's callback (their desk connects at once)."""

    async def call_ended(self, call: Call) -> dict[str, Any]:
        """The call ended: release whatever it had on the agent side; returns what ``call_ended`` tells of it."""

    def frame_stats(self) -> dict[str, int]:
        """Outgoing frame counters of the agent and supervisor legs, ended and live."""

    def live_players(self) -> list[PromptPlayer]:
        """The outgoing tracks of the live agent-side legs (agents, consultants, supervisors)."""

    def where(self, call: Call) -> dict[str, str]:
        """Where the call stands on the agent side (its hand-off), for the call registry; {} before the queue."""


class LiveCalls(dict[str, "Call"]):
    """This node's live calls by id: the manager adds and forgets them, the hand-off looks them up."""


def status_message(
    call: Call, status: CallStatus, reason: str, *, agent_id: str | None = None, agent_name: str | None = None
) -> CallUpdate:
    """The bus message that tells the conversation's sockets where the call stands."""
    return CallUpdate(call.id, status, reason or "", agent_id=agent_id, agent_name=agent_name)


@dataclass
class CallConfig:
    ice: IceConfig = field(default_factory=IceConfig)  # STUN / TURN for the call legs (a fresh TURN pair each)
    max_calls: int = 50
    flow: str = "default"  # --voice-flow: new calls start in it until an admin chooses one (LiveFlows.answering)
    voice: str = "en-us"
    connect_timeout: float = CONNECT_TIMEOUT


class Call:
    def __init__(
        self, call_id: str, customer_id: str, conversation_id: str, manager: CallManager, test: TestRun | None = None
    ):
        self.id = call_id
        self.test = test  # an admin's test call into that flow version (gateway/flows/test_runs.py); None: live
        self.customer_id = customer_id
        self.conversation_id = conversation_id
        self.m = manager
        self.tasks = Tasks(f"call-{call_id}", log)  # what the call starts besides its run (the end on a closed leg)
        self.leg = AudioLeg(
            on_audio=self._hear,
            on_closed=self._leg_closed,
            ice_servers=manager.config.ice.for_leg(f"call-{call_id}", time.time()),
            opus_silence=manager.opus.silence,
            on_digit=lambda digit: self.on_digit(digit, "rfc4733"),
            name=f"call-{call_id}",
        )
        self.detector = GoertzelDetector(sample_rate=48000)
        self.runner: FlowRunner | None = None
        self.flow_hooks: CaptionedHooks | None = None  # a live call's flow hooks (what its flow set, and whether it
        # reached a queue)
        self.channel: VoiceChannel | None = None
        self.flow: Flow | None = None  # the flow version this call runs (speech engine, transcripts)
        self.speech: CallSpeech | None = None
        self.started = time.monotonic()
        self.cpu_mark = manager.metrics.cpu_mark()  # its share of the process's CPU counts from here
        self._status = CallStatus.CONNECTING
        self.ended = asyncio.Event()
        self.end_reason = ""
        self._ending: asyncio.Task[None] | None = None  # the one run of _end(), whoever asked first
        self.digits_heard: list[tuple[str, str]] = []  # (digit, source): keypad / rfc4733 / inband
        self.bridge: Bridge | None = None  # set while an agent is connected (gateway/calls/agent_calls.py)
        self.captions = Captions(self._caption, self.tasks)  # the prompts' text and the answers, for the widget

    @property
    def player(self) -> PromptPlayer:
        return self.leg.player

    @property
    def status(self) -> CallStatus:
        return self._status

    @status.setter
    def status(self, status: CallStatus) -> None:
        """Where the call stands as the customer sees it; the call registry follows."""
        self._status = status
        self.m.moved(self)

    def _leg_closed(self, why: str) -> None:
        self.tasks.spawn(self.end(why), "end")

    def socket_gone(self) -> None:
        """A socket of the caller's closed: if the leg has received (next to) nothing since, the page with the call
        went with it (a closed tab sends no DTLS close: aiortc would notice after its 30 s consent timeout, while
        the IVR went on and an agent was rung for nobody). The call ends ``connection_closed``."""
        if not self.ended.is_set():
            self.tasks.spawn(self._end_if_silent(), "socket-gone")

    async def _end_if_silent(self) -> None:
        if await self.leg.silent_for(SILENT_SECONDS) and not self.ended.is_set():
            log.info(
                "the caller's page closed and their leg is silent", extra={"conversation_id": self.conversation_id}
            )
            await self.end("connection_closed")

    # ---------------------------------------------------------------- signaling

    async def accept(self, offer_sdp: str) -> str:
        """Answer the browser's offer (non-trickle: the answer carries every candidate)."""
        try:
            return await self.leg.accept(offer_sdp)
        except BadOffer as exc:
            raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None
        except RtcPortsExhausted as exc:  # --rtc-port-range is full: the operator must hear of it
            log.error("call %s refused: %s", self.id, exc.message)
            self.m.metrics.call_refused(exc.code)
            raise LinesBusy(
                "All our lines are busy right now. Please try again in a few minutes.", code=ErrorCode(exc.code)
            ) from None

    # ---------------------------------------------------------------- the call

    async def run(self) -> None:
        """From the answer to the end: wait for media, run the flow, then wait for hang-up."""
        try:
            if not await self.leg.wait_connected(self.m.config.connect_timeout):
                await self.end("ice_timeout")
                return
            if self.test is None and await self._straight_to_agent():
                await self.ended.wait()
                return
            await self.set_status(CallStatus.IVR)
            reason = await self._run_flow()
            if reason == "queued" and self.test is not None and not self.ended.is_set():
                await self._test_queued()  # a test call never reaches agents
            elif reason == "queued" and self.m.agents is not None and not self.ended.is_set():
                await self.m.agents.waiting(self, routed=True)
            elif reason != "queued" and not self.ended.is_set():
                await self.end(reason)
            await self.ended.wait()
        except asyncio.CancelledError:
            await self.end(CallEndReason.GATEWAY_SHUTDOWN)
            raise
        except Exception:
            log.exception("call failed", extra={"conversation_id": self.conversation_id})
            await self.end("error")

    def _voice_channel(self) -> VoiceChannel:
        self.channel = VoiceChannel(
            self.player,
            self.m.synthesizer,
            self.m.files,
            self.m.opus,
            default_voice=self.m.config.voice,
            set_status=lambda status, reason: self.set_status(status, reason),
            hangup=self.end,
            captions=self.captions,
        )
        return self.channel

    async def _straight_to_agent(self) -> bool:
        """A customer already talking with an agent in the chat presses Call: no IVR, ring that agent
        (sticky); if they do not answer, the call goes to the queue like any other."""
        if self.m.agents is None:
            return False
        conv = await self.m.conversations.get(self.conversation_id)
        if conv is None or conv.get("state") != ConversationState.ASSIGNED or not conv.get("agent_id"):
            return False
        channel = self._voice_channel()
        log.info(
            "call from a chat with agent %s: ringing them first",
            conv["agent_id"],
            extra={"conversation_id": self.conversation_id},
        )
        callbacks = self.m.callbacks
        # answering the callback ringing in the widget: the agent holding it took the task, no second ring
        callback = await callbacks.answering(self.conversation_id) if callbacks is not None else None
        await self.set_status(CallStatus.WAITING, "your_agent")
        await channel.say(Say("to-agent", "Connecting you to your agent.", voice=None))
        chat_agent = "" if callback is not None else conv["agent_id"]
        await self.m.agents.waiting(self, callback=callback, chat_agent=chat_agent)
        return True

    async def _test_queued(self) -> None:
        """A test call's flow reached a queue node: the caller hears that a customer would wait there, then the
        call ends (reason ``test_queued``); the timeline has the same as a system line (TestHooks)."""
        queue = self.channel.enqueued_action.queue if self.channel and self.channel.enqueued_action else ""
        if self.channel is not None:
            text = f"This test call would now wait in queue {queue} for an agent. The test ends here."
            done = await self.channel.say(Say("test-queued", text, voice=None))
            if done is not None:
                await done
        await self.end(TEST_QUEUED)

    async def _run_flow(self) -> str:
        test = self.test
        flow = self.flow = test.flow if test is not None else self.m.flows.get(self.m.entry_flow())
        context = await self.m.conversations.context(self.conversation_id)
        queue_hours = await self.m.conversations.queue_hours()  # for hours nodes that name a queue
        if self.ended.is_set():  # ended meanwhile: end() found no speech to close, so start none (no await below)
            return "ended"
        flows = test.flows(self.m.flows.snapshot()) if test is not None else self.m.flows.snapshot()
        interp = Interpreter(
            flow,
            context,
            channel=Channel.VOICE,
            flows=flows,
            conversation_id=self.conversation_id,
            queue_hours=queue_hours,
        )
        channel = self._voice_channel()
        captioned = CaptionedHooks(
            self.m.conversations, self.conversation_id, "voice", self.captions, started_with=context
        )
        hooks: FlowHooks = captioned
        if test is None:
            self.flow_hooks = captioned
        else:
            hooks = TestHooks(hooks, self.m.conversations, self.conversation_id, chat=False)
        self.runner = runner = FlowRunner(interp, channel, hooks, self.m.http, metrics=self.m.metrics)
        listener = self.m.speech.listener(flow, self.id) if self.m.speech is not None else None
        if listener is not None:
            self.speech = channel.speech = CallSpeech(
                listener,
                post=runner.post,
                on_speech=self._on_speech,
                on_reopen=runner.rearm_no_input,
                conversation_id=self.conversation_id,
                metrics=self.m.metrics,
                strict=flow.defaults.speech_strict,
            )
        log.info(
            "call in flow %s (version %s%s), speech: %s",
            flow.name,
            flow.version,
            ", a test call" if test is not None else "",
            f"{listener.engine.name} {listener.engine.language}" if listener is not None else "off",
            extra={"conversation_id": self.conversation_id},
        )
        return await runner.run()

    def _on_speech(self) -> None:
        """The VAD heard the caller start speaking (called from the frame that decided it)."""
        if self.channel is not None and self.channel.barge_in():
            log.info("barge-in: prompt cut by speech", extra={"conversation_id": self.conversation_id})
        if self.runner is not None:
            self.runner.input_started()

    def on_digit(self, digit: str, source: str) -> None:
        self.digits_heard.append((digit, source))
        log.info("digit %s (%s)", digit, source, extra={"conversation_id": self.conversation_id})
        if self.runner is not None and not self.ended.is_set():
            self.runner.post(Digits(digit))

    def _hear(self, samples: Samples) -> None:
        """Every 20 ms of the caller's audio: in-band DTMF, speech, and the agent when one is connected.
        Bridged, the DTMF detector is one of the bridge's taps (``--bridge-inband-dtmf``), or off: a relaying
        bridge decodes the caller's audio only for what taps it."""
        if self.bridge is None:
            self.detect_digits("a", samples)
        if self.speech is not None:
            self.speech.feed(samples)
        if self.bridge is not None:
            self.bridge.from_a(samples)

    def detect_digits(self, side: str, samples: Samples) -> None:
        """In-band DTMF in the caller's audio (a :data:`media.bridge.Tap` of the caller's side ``a``)."""
        for digit in self.detector.feed(samples):
            self.on_digit(digit, "inband")

    async def _caption(self, kind: CaptionKind, text: str) -> None:
        await self.m.publish_caption(self, kind, text)

    async def set_status(self, status: CallStatus, reason: str = "") -> None:
        self.status = status
        await self.m.publish_status(self, status, reason)

    async def end(self, reason: str) -> None:
        """End the call once: stop the flow, close media, record it. Safe to call from anywhere, and as often as
        wanted: the first call starts the ending (``reason``) in a task of its own and every call waits for it.

        A task of its own because whoever asks may be cancelled meanwhile (an agent's socket handler that the
        server's shutdown cancels, a hand-off task the ending itself closes): cut in the middle, an ending left
        the call half released for good (its hand-off, recording and agent never let go). A failure of the
        ending is logged there, not raised here."""
        if self._ending is None:
            self.ended.set()
            self.end_reason = reason
            self._ending = asyncio.get_running_loop().create_task(self._end(reason), name=f"call-{self.id}-end")
            self._ending.add_done_callback(self._ended)
        if asyncio.current_task() is not self._ending:  # (a step of the ending that ends the call: it is ending)
            await asyncio.wait({self._ending})  # cancelling this wait leaves the ending running

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("the call's end failed", exc_info=exc, extra={"conversation_id": self.conversation_id})

    async def _end(self, reason: str) -> None:
        # the caller left at an unanswered question of its flow (before the flow hears of it): its answers so far
        # are forgotten below (a caller who hangs up while "Connecting you to billing." plays has chosen)
        at_question = self.runner is not None and self.runner.interp.waiting is Waiting.INPUT
        try:
            if self.runner is not None:
                self.runner.post(Disconnected())
            if self.speech is not None:
                await self.speech.close()
            facts: dict[str, Any] = {"ivr": self.runner is not None}  # what call_ended tells of the call
            if self.m.agents is not None:
                try:
                    facts.update(await self.m.agents.call_ended(self))
                except Exception:  # the caller's leg, slot and registry entry must still go: logged, ending goes on
                    log.exception(
                        "the agent side of the call was not released cleanly",
                        extra={"conversation_id": self.conversation_id},
                    )
            callbacks = self.m.callbacks
            if callbacks is not None:
                try:
                    await callbacks.call_ended(self.conversation_id)
                except (GatewayError, StoreError) as exc:
                    log.warning(
                        "callback not told the call ended: %s", exc, extra={"conversation_id": self.conversation_id}
                    )
            await self.leg.close()
            await self.tasks.close()
            duration_ms = int((time.monotonic() - self.started) * 1000)
            log.info("call ended: %s after %d ms", reason, duration_ms, extra={"conversation_id": self.conversation_id})
            self.m.metrics.call_ended(reason, duration_ms / 1000, self.cpu_mark)
            await self.m.record_end(self, {"call_id": self.id, "reason": reason, "duration_ms": duration_ms, **facts})
            if reason in CALLER_LEFT and at_question and self.flow_hooks is not None:  # (before a new call can start)
                await self._forget_unfinished(self.flow_hooks)
            await self.m.slots.release(self.id)  # before 'ended' is told: the customer may call again at once
            await self._messages_left()
            self.status = CallStatus.ENDED
            try:
                await self.m.publish_status(self, CallStatus.ENDED, reason)
            except StoreError as exc:  # the widget learns it from the registry (welcome.calls) when it is back
                log.warning("'ended' not published: %s", exc, extra={"conversation_id": self.conversation_id})
        finally:  # whatever failed above: not counted live for ever (--max-calls, the customer's live calls)
            self.m.forget(self)

    async def _forget_unfinished(self, hooks: CaptionedHooks) -> None:
        try:
            await hooks.forget_unfinished()
        except (GatewayError, StoreError) as exc:
            log.warning("answers of the unfinished flow kept: %s", exc, extra={"conversation_id": self.conversation_id})

    async def _messages_left(self) -> None:
        """What the customer wrote while its flow had the call (and no agent) is not left unread: to the agents."""
        if self.test is not None or self.m.in_charge(self.customer_id, besides=self.id):
            return  # (another call of theirs is in charge: its own end looks again)
        try:
            await self.m.conversations.route_left_messages(self.conversation_id, self.id)
        except (GatewayError, StoreError) as exc:
            log.warning(
                "messages written during the call not routed: %s", exc, extra={"conversation_id": self.conversation_id}
            )

    async def wait_ended(self) -> None:
        """After :meth:`end` was called: wait for the ending and for every task of the call (a failed one is
        logged by its owner)."""
        if self._ending is not None:
            await asyncio.wait({self._ending})
        await self.tasks.wait()


CALL_NOT_STARTED = "not_started"  # the call's start could not be recorded: it ends at once


class CallManager:
    """The live calls of this node, the concurrency limit, and what every call shares."""

    def __init__(
        self,
        config: CallConfig,
        conversations: Conversations,
        flows: LiveFlows,
        synthesizer: Synthesizer,
        http: aiohttp.ClientSession,
        publish: Publish,
        speech: SpeechRecognition | None = None,
        limits: Limits | None = None,
        *,
        agents: CallAgents | None = None,
        callbacks: Callbacks | None = None,
        calls: LiveCalls | None = None,
        opus: OpusPrompts | None = None,
        registry: CallAnchors | None = None,
        metrics: Metrics | None = None,
        admission: Admission | None = None,
    ):
        self.config = config
        self.admission = admission if admission is not None else Admission(0)  # by load, and the drain
        self.metrics = metrics if metrics is not None else Metrics()  # the node's (gateway/metrics.py)
        self.speech = speech
        self.agents = agents  # waiting calls ring agents (None: calls never reach one)
        self.callbacks = callbacks  # a call may answer or deliver a callback (None: no callbacks)
        self.slots = CallSlots(limits, self.metrics)  # calls per customer / address, on every node
        self.conversations = conversations
        self.flows = flows
        self.synthesizer = synthesizer
        self.files = AudioFiles()
        self.opus = opus or OpusPrompts()  # shared with the agents' legs
        self.http = http
        self._publish = publish
        self.calls = calls if calls is not None else LiveCalls()
        self.registry = registry  # every node's live calls in Redis (None: this node's only, nothing written)
        self._runs: set[asyncio.Task[None]] = set()  # each call's run(), until it returns
        self.closing = False  # the node is shutting down: no new call (close_all)
        self.frames = NodeFrames(  # the node's outgoing frames: /api/stats, /metrics, admission by late frames
            lambda: [call.player for call in self.calls.values()],
            lambda: agents.live_players() if agents is not None else [],
            lambda: agents.frame_stats() if agents is not None else {},
        )

    def check_offer(self, call_id: str, offer_sdp: str, *, test: bool = False) -> None:
        """Refuse early (before any conversation is opened) a call this node cannot take or an unusable offer
        (``test``: an admin's test call, which needs no live voice flow)."""
        self.check_capacity(call_id, test=test)
        try:
            check_offer(offer_sdp)
        except BadOffer as exc:
            raise BadRequest(exc.message, field="sdp", code=ErrorCode(exc.code)) from None

    def customer_socket_closed(self, customer_id: str) -> None:
        """A socket of the customer's on this node closed: their calls here check that their page is still there."""
        for call in list(self.calls.values()):
            if call.customer_id == customer_id:
                call.socket_gone()

    def in_charge(self, customer_id: str, *, besides: str = "") -> bool:
        """A call of the customer's on this node that is not ending (``besides``: other than that one): its flow
        has the conversation (a message written meanwhile waits for it, gateway/wire/customer_socket.py). An ending
        call is in charge no more: a message written while it ends is routed by the socket, since the call's own
        look at its messages may be over (a review)."""
        return any(
            c.customer_id == customer_id and c.id != besides and not c.ended.is_set() for c in self.calls.values()
        )

    def live_calls(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's calls on this node."""
        return [
            {
                "call_id": c.id,
                "status": str(c.status),
                "conversation_id": c.conversation_id,
                "supervisors": caller_view(listed(self.where(c)["supervisors"])),
            }
            for c in self.calls.values()
            if c.customer_id == customer_id
        ]

    async def calls_of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's live calls on every node (from the call registry), for their ``welcome``."""
        if self.registry is None:
            return self.live_calls(customer_id)
        return await self.registry.calls_of_customer(customer_id)

    def where(self, call: Call) -> dict[str, str]:
        """The call's changing registry fields, the agent side's (its hand-off) over the call's own."""
        fields = {
            "status": str(call.status),
            "state": "",
            "agent_id": "",
            "consult_agent_id": "",
            "answered": "0",
            "answered_ms": "0",
            "held": "0",
            "queued_ms": "0",
            "ring_seconds": "0",
            "supervisors": "[]",
        }
        if self.agents is not None:
            fields.update(self.agents.where(call))
        return fields

    def moved(self, call: Call) -> None:
        """The call's status or hand-off changed: the registry follows."""
        if self.registry is not None:
            self.registry.moved(call.id)

    async def record_end(self, call: Call, data: dict[str, Any]) -> None:
        """``call_ended`` on the timeline, once: with the registry, in the step that removes the call from it
        (a node that took this one over may have ended it already)."""
        extra = {"conversation_id": call.conversation_id}
        if self.registry is not None:
            try:
                result = await self.registry.ended(call.id, data)
            except StoreError as exc:
                log.warning("call end not recorded yet (written when Redis is back): %s", exc, extra=extra)
                return
            if result is not None:
                if result != "ok":
                    log.info("call end not recorded here: %s", result, extra=extra)
                return
        try:
            await self.conversations.record(call.conversation_id, EventType.CALL_ENDED, data)
        except GatewayError as exc:  # a full or closed timeline
            log.info("call end not recorded: %s", exc.message, extra=extra)

    def check_capacity(self, call_id: str, *, test: bool = False) -> None:
        """Refuse early (before anything is created) a call this node cannot take."""
        try:
            self._check_capacity(call_id, test)
        except GatewayError as exc:
            self.metrics.call_refused(exc.code)
            raise

    def _check_capacity(self, call_id: str, test: bool) -> None:
        load = self.admission.state
        if self.closing or load == Load.DRAINING:
            raise LinesBusy("We are restarting. Please call again in a moment.")
        if call_id in self.calls:
            raise Conflict(f"call {call_id} already exists", field="call_id")
        if len(self.calls) >= self.config.max_calls or load == Load.FULL:
            if load == Load.FULL:
                log.warning("call refused: %s", self.admission.why_full())
            raise LinesBusy(
                "All our lines are busy right now. Please keep chatting with us here, "
                "or try calling again in a few minutes."
            )
        if not test and self.entry_flow() not in self.flows.snapshot():
            raise NotFound(f"the voice flow '{self.entry_flow()}' is not loaded", code=ErrorCode.FLOW_MISSING)

    def entry_flow(self) -> str:
        """The flow new calls start in: an admin's choice, else ``--voice-flow``."""
        return self.flows.answering(Entry.CALLS) or self.config.flow

    async def start(
        self, customer_id: str, cid: str, call_id: str, offer_sdp: str, *, test: TestRun | None = None
    ) -> tuple[Call, str]:
        """Accept a call into conversation ``cid``: returns it and the SDP answer; it runs on in its own task
        (``test``: an admin's test call into that flow version)."""
        self.check_capacity(call_id, test=test is not None)
        call = Call(call_id, customer_id, cid, self, test)
        self.calls[call_id] = call
        try:
            answer = await call.accept(offer_sdp)
            self.metrics.calls_offered.inc()
            if self.registry is not None:
                address = self.slots.address(call_id)
                await self.registry.register(call_id, customer_id, cid, lambda: self.where(call), address=address)
        except BaseException:
            self.calls.pop(call_id, None)
            await call.leg.close()
            raise
        try:
            # escalated: the customer was chatting in this conversation before they called (chat -> voice)
            escalated = await self.conversations.has_chat(cid)
            await self.conversations.record(
                cid, EventType.CALL_STARTED, {"call_id": call_id, "channel": "voice", "escalated": escalated}
            )
        except BaseException:  # registered but never run: ended like any call (leg, registry entry, slot)
            await call.end(CALL_NOT_STARTED)
            raise
        run = asyncio.create_task(call.run(), name=f"call-{call_id}")
        self._runs.add(run)  # until it returns: it can outlive forget() (ended before ICE, it waits out the timeout)
        run.add_done_callback(self._runs.discard)
        return call, answer

    def get(self, call_id: str, customer_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None or call.customer_id != customer_id:
            raise NotFound(f"no call {call_id} in progress", field="call_id")
        return call

    async def publish_status(
        self, call: Call, status: CallStatus, reason: str, *, agent_id: str | None = None, agent_name: str | None = None
    ) -> None:
        await self._publish(
            call.conversation_id, status_message(call, status, reason, agent_id=agent_id, agent_name=agent_name)
        )

    async def publish_caption(self, call: Call, kind: CaptionKind, text: str) -> None:
        """A caption for the caller's widget (gateway/flows/captions.py): on the conversation's channel, unstored."""
        await self._publish(call.conversation_id, CallCaption(call.id, kind, text))

    def forget(self, call: Call) -> None:
        if self.calls.pop(call.id, None) is not None:
            self.frames.call_ended(call.player)

    async def end_all(self, reason: str) -> None:
        """End every live call of this node (media closed, flow told) with ``reason``."""
        calls = list(self.calls.values())
        _log_failed(calls, await asyncio.gather(*(call.end(reason) for call in calls), return_exceptions=True))
        await asyncio.gather(*(call.wait_ended() for call in calls))  # a call already ending ends in its own task

    async def close_all(self) -> None:
        """Gateway shutdown: end every call (media closed, flow told), then reap their tasks; no new call starts."""
        self.closing = True
        runs = list(self._runs)
        calls = list(self.calls.values())
        ends = await asyncio.gather(
            *(call.end(CallEndReason.GATEWAY_SHUTDOWN) for call in calls), return_exceptions=True
        )
        _log_failed(calls, ends)
        await asyncio.gather(*(call.wait_ended() for call in calls))  # a call already ending ends in its own task
        await cancel_and_wait(*runs)


def _log_failed(calls: list[Call], results: Sequence[object]) -> None:
    """The ends that raised, of calls ended together (each is logged; the others went on)."""
    for call, result in zip(calls, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log.error("call end failed", exc_info=result, extra={"conversation_id": call.conversation_id})
