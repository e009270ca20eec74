"""The customer's WebSocket: hello with (or without) a token, messages, typing."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.calls.call_slots import LinesBusy
from gateway.calls.manager import Call
from gateway.client_ip import client_ip, limit_key
from gateway.contact.chat_end import end_chat
from gateway.contact.conversations import customer_view, customer_visible
from gateway.errors import BadRequest, Conflict, Forbidden, GatewayError, NotFound, Unauthorized
from gateway.flows.test_runs import TestRun, load_test_run
from gateway.protocol import bus, client, server
from gateway.protocol.client import TestChannel
from gateway.protocol.states import (
    Author,
    CallbackState,
    CallStatus,
    ConversationState,
    EventType,
    MonitorMode,
    Role,
)
from gateway.store.store import StoreError, to_event
from gateway.wire import tokens
from gateway.wire.connection import Connection, Step, serve_socket, store_unavailable
from gateway.wire.queue_routes import line_hours_open
from gateway.wire.services import SERVICES, Services
from gateway.wire.sessions import authenticate
from gateway.wire.site_tokens import VerifiedCustomer, is_verified_id, verified_customer_id
from gateway.wire.welcome_ice import agent_welcome_ice, customer_welcome_ice

log = logging.getLogger(__name__)

TYPING_MIN_INTERVAL = 0.1


class CustomerConnection(Connection):
    role = "customer"

    def __init__(self, ws: web.WebSocketResponse, services: Services, address: str = "unknown"):
        super().__init__(ws, services.bus)
        self.s = services
        self.address = address  # the client's address (gateway/client_ip.py): per-address limits
        self.customer_id = ""
        self.conversation_id: str | None = None  # where typing goes; set as soon as a message opens one
        self.followed: str | None = None  # whose channel this connection listens to
        self.context: dict[str, str] = {}
        self._last_typing = 0.0
        self._typing = False  # the last typing frame relayed said "typing" (a "stopped" follows only that)
        self.barging: dict[str, int] = {}  # call id -> supervisors barging in, as last told (only changes are told)
        self.test: TestRun | None = None  # an admin's test run of a flow version (hello with test_flow)
        self.present = False  # counted in the customer's presence (a socket with a conversation, not a test run)
        self.closed_at_hello: str | None = None  # the conversation the welcome showed closed (not counted for)

    # ---------------------------------------------------------------- test runs (the flow console)

    async def hello(self) -> client.Hello | None:
        """The first frame; a test run's hello is admitted only with an admin's access token. A refused one is
        answered with an error frame (field ``admin_token`` or ``test_flow``) and the socket stays open for another
        hello, as for any hello that does not parse."""
        while True:
            frame = await super().hello()
            if frame is None or frame.test_flow is None:
                return frame
            try:
                self.test = await self._admit_test(frame.test_flow, frame.admin_token)
                return frame
            except GatewayError as exc:
                await self.send_error(exc)
            except StoreError as exc:
                await self.send_error(store_unavailable(exc, "a test run's hello", self.log_extra))
                await self.ws.close(code=server.CloseCode.STORE_UNAVAILABLE, message=b"store unavailable")
                return None
            if self.ws.closed:
                return None

    async def _admit_test(self, test_flow: client.TestFlow, admin_token: str | None) -> TestRun:
        s = self.s
        try:
            agent, _ = await authenticate(
                admin_token, signer=s.signer, sessions=s.sessions, directory=s.directory, now=time.time()
            )
        except Unauthorized as exc:  # the same refusal as the desk's, about this frame's field
            raise Unauthorized(exc.message, field="admin_token", code=exc.code) from None
        if Role.ADMIN not in agent.roles:
            raise Forbidden("only admins run test flows", field="test_flow")
        run = await load_test_run(s.flow_versions, test_flow.name, test_flow.version, agent.id, test_flow.channel)
        log.info("test run of %s by %s", run.mark, agent.id, extra={"agent_id": agent.id})
        return run

    async def _start_test(self, hello: client.Hello, run: TestRun) -> bool:
        """A test run's socket: a throwaway customer, and a new test conversation (never anyone's current one) in
        which the chat bot runs the version at once (not for ``channel`` voice: a test call runs it)."""
        self.customer_id = "test_" + secrets.token_hex(8)
        self.log_extra = {"customer_id": self.customer_id, "agent_id": run.admin}
        self.context = run.context({f"context.{key}": value for key, value in hello.context.items()})
        await self.subscribe(self.s.keys.customer_channel(self.customer_id))
        cid, _ = await self.s.conversations.open_test(self.customer_id, self.context)
        self.conversation_id = self.followed = cid
        await self.subscribe(self.s.keys.conv_channel(cid))
        events = await self.s.conversations.history(cid, for_customer=True, steps=True)
        for e in events:
            self.mark_sent(cid, e["id"])
        widget = await self.s.widget.get()
        await self.send(
            server.CustomerWelcome(
                token="",  # a test run is not resumed: a new hello starts a new one
                customer_id=self.customer_id,
                conversation=_public(await self.s.conversations.summary(cid)),
                events=events,
                queue_position=None,
                calls=[],
                callback=None,
                hours_open=await self._test_hours_open(run),
                widget=widget.to_json(),
                # the admin's TURN pair (kept, as their desk's): the console's test call asks for one of its own
                ice_servers=await agent_welcome_ice(self.s, run.admin),
            )
        )
        if run.channel == TestChannel.CHAT:
            await self.s.bots.start(cid, test=run)
        return True

    async def _test_hours_open(self, run: TestRun) -> bool | None:
        """Whether the tested version's line is open now: its ``hours`` node nearest the start (its own schedule, or
        its queue's); None without one."""
        node = run.flow.hours_node()
        if node is None:
            return None
        if node.schedule is not None:
            return node.schedule.check(datetime.now(UTC))[0]
        queue = await self.s.queues.get(node.queue)
        return queue.is_open(datetime.now(UTC)) if queue is not None else None

    async def _test_call(self, frame: client.CallOffer, run: TestRun) -> tuple[Call, str]:
        """A test call into the run's version, in its conversation (or a new test conversation when that one
        ended). A chat bot running there stops: the call runs the flow from its start."""
        if frame.test_flow is not None and not run.same(frame.test_flow.name, frame.test_flow.version):
            raise BadRequest(f"this test socket runs {run.mark}: a test call runs the same version", field="test_flow")
        self.s.calls.check_offer(frame.call_id, frame.sdp, test=True)
        await self.s.calls.slots.reserve(frame.call_id, self.customer_id, self.address)  # CallLimit
        try:
            cid, _ = await self.s.conversations.open_test(self.customer_id, self.context)
            await self.subscribe(self.s.keys.conv_channel(cid))  # before the answer: no call status is missed
            await self.s.bots.stop(cid)
            return await self.s.calls.start(self.customer_id, cid, frame.call_id, frame.sdp, test=run)
        except BaseException:
            await self.s.calls.slots.release(frame.call_id)  # no call took it
            raise

    async def _test_message(self, frame: client.SendMessage) -> None:
        """The admin writes as the customer would, into the test run's conversation only (never a new one)."""
        if self.conversation_id is None:
            raise Conflict("this test run has ended: start a new test", field="conversation_id")
        stored = await self.s.conversations.test_message(
            self.customer_id, self.conversation_id, frame.client_id, frame.text
        )
        self.push(server.Ack(frame.client_id, stored.event_id, stored.conversation_id))

    async def stop(self) -> None:
        """A test run ends with its socket: its calls end and its conversation closes (its chat bot with it). A
        customer's call here whose leg has been silent since ends (the page with the call closed)."""
        if self.followed is not None:
            self.s.queue_board.unwatch_position(self.followed, self._on_position)
        if self.present:
            self.present = False
            self.s.customer_presence.closed(self.customer_id)
        if self.test is None and self.customer_id:  # a call whose page closed with this socket ends (its leg silent)
            self.s.calls.customer_socket_closed(self.customer_id)
        if self.test is None or not self.customer_id:
            return
        for live in self.s.calls.live_calls(self.customer_id):
            await self.s.calls.get(live["call_id"], self.customer_id).end("caller_hangup")
        if self.conversation_id is not None:
            await self.s.conversations.close_without_agent(self.conversation_id, "test_ended")

    async def start(self, hello: client.Hello) -> bool:
        if self.test is not None:
            return await self._start_test(hello, self.test)
        now = time.time()
        ttl = self.s.settings.customer_token_days * 86400
        verified, token_error = self._verified(hello, now)
        if verified is not None:  # the site vouches for who this is: the same customer on every device
            self.customer_id = verified_customer_id(verified)
        elif hello.token:
            try:
                claims = self.s.signer.verify(hello.token, tokens.CUSTOMER, now=now)
            except GatewayError as exc:
                await self.send_error(exc)
                return False
            self.customer_id = claims.sub
            if await self._erased():  # an admin erased them: this browser is a new customer
                self.customer_id = ""
        if not self.customer_id or (is_verified_id(self.customer_id) and verified is None):
            # A site's user is that customer only while the page vouches for them: after a logout on the site
            # (a page without a customer token, on a shared computer) the next visitor starts afresh.
            self.customer_id = "u_" + secrets.token_hex(8)
            log.info("new customer", extra={"customer_id": self.customer_id})
        self.log_extra = {"customer_id": self.customer_id}
        # The browser's word and the site's: never the same variables (see gateway/wire/site_tokens.py).
        self.context = {f"context.{key}": value for key, value in hello.context.items()}
        if verified is not None:
            self.context.update(verified.variables())
            # Our token for a site's user lives no longer than the site vouches: after a logout on the site
            # (no fresh token) this device stops being that customer once the site's token has expired.
            ttl = max(60.0, min(ttl, verified.expires - now))
        await self.subscribe(self.s.keys.customer_channel(self.customer_id))
        if verified is None and await self._erased():  # erased between the token's check and this subscription
            await self.unsubscribe(self.s.keys.customer_channel(self.customer_id))
            self.customer_id = "u_" + secrets.token_hex(8)
            self.log_extra = {"customer_id": self.customer_id}
            await self.subscribe(self.s.keys.customer_channel(self.customer_id))
        token = self.s.signer.sign(self.customer_id, tokens.CUSTOMER, now=now, ttl=ttl)  # (for the id it ends on)
        cid = await self.s.conversations.current_for_customer(self.customer_id)
        summary = events = position = None
        if cid is not None:
            events, summary, position = await self._resume(cid, hello, verified)
        widget = await self.s.widget.get()  # the admin's title, colours, greeting (gateway/contact/widget_settings.py)
        calls = await self.s.calls.calls_of_customer(self.customer_id)  # on every node (the call registry)
        # what the welcome says of supervisors barging in: a later call_supervisors is told when it differs
        self.barging = {c["call_id"]: len(c["supervisors"]) for c in calls if c.get("supervisors")}
        await self.send(
            server.CustomerWelcome(
                token=token,
                customer_id=self.customer_id,
                conversation=_public(summary),
                events=events or [],
                queue_position=position,
                calls=calls,
                callback=await self.s.callbacks.of_conversation(cid) if cid else None,
                hours_open=await line_hours_open(self.s, widget),
                widget=widget.to_json(),
                ice_servers=await customer_welcome_ice(self.s, self.customer_id, self.address),
            )
        )
        if token_error is not None:  # said after the welcome: the customer chats on, unverified
            await self.send_error(token_error)
        self._count_present()
        return True

    def _count_present(self) -> None:
        """Once the socket follows a conversation that is not closed (its own frames opened it, or another tab's, an
        upload, a call: followed here), the customer counts as present (gateway/contact/customer_presence.py): what
        keeps a waiting chat of theirs from being closed as abandoned. A returning visitor whose last conversation is
        over is not counted until a new one opens."""
        cid = self.conversation_id
        if not self.present and cid is not None and cid != self.closed_at_hello and self.test is None:
            self.present = True
            self.s.customer_presence.opened(self.customer_id)

    async def _resume(
        self, cid: str, hello: client.Hello, verified: VerifiedCustomer | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int | None]:
        """Follow the customer's current conversation at their hello: (what the welcome shows of it, its summary,
        its place in the queue)."""
        self.conversation_id = self.followed = cid
        await self.subscribe(self.s.keys.conv_channel(cid))
        events = await self.s.conversations.history(cid, hello.last_event_id, for_customer=True)
        summary = await self.s.conversations.summary(cid)
        position = await self.s.conversations.queue_position(cid)
        for e in events:
            self.mark_sent(cid, e["id"])
        if hello.last_event_id:
            self.mark_sent(cid, hello.last_event_id)
        state = summary["state"] if summary is not None else None
        if state == ConversationState.QUEUED:
            self.s.queue_board.watch_position(cid, self._on_position, position)
        if state == ConversationState.CLOSED:
            self.closed_at_hello = cid  # (a returning visitor: not counted present until a new one opens)
        elif verified is not None and summary is not None:
            await self._record_verified(cid, verified.variables(), summary["context"])
        return events, summary, position

    def _verified(self, hello: client.Hello, now: float) -> tuple[VerifiedCustomer | None, GatewayError | None]:
        """The site's signed customer token, checked; a bad one is reported and the customer goes on unverified."""
        if not hello.customer_token:
            return None, None
        try:
            return self.s.site_keys.verify(hello.customer_token, now=now), None
        except Unauthorized as exc:
            log.info("customer token refused: %s", exc.message)
            return None, exc

    async def _record_verified(self, cid: str, values: dict[str, str], known: dict[str, str] | None) -> None:
        """A customer who logged in on the site mid-conversation: the agent sees who it is (once, not per reconnect)."""
        changed = {k: v for k, v in values.items() if (known or {}).get(k) != v}
        if not changed:
            return
        try:
            await self.s.conversations.set_context(cid, changed)
        except GatewayError as exc:  # e.g. a full timeline: the customer connects all the same
            log.info("verified context not recorded: %s", exc.message, extra={"conversation_id": cid})

    async def handle(self, frame: client.Frame) -> None:
        try:
            await self._handle(frame)
        finally:
            self._count_present()  # a message or a call may have opened its first conversation

    async def _handle(self, frame: client.Frame) -> None:
        match frame:
            case client.SendMessage() if self.test is not None:
                await self._test_message(frame)
            case client.SendMessage():
                stored = await self.s.conversations.customer_message(  # over a limit: rate_limited, nothing stored
                    self.customer_id,
                    frame.client_id,
                    frame.text,
                    self.context,
                    self.s.limits.buckets(self.customer_id, self.address),
                    current=self.conversation_id,
                )
                if stored.for_bot:
                    # greets after the first message, which answers the first menu when it names a choice
                    await self.s.bots.greet(stored.conversation_id, opening=frame.text)
                if not stored.duplicate and stored.state == ConversationState.OPEN:
                    await self._route_if_unattended(stored.conversation_id)
                if stored.conversation_id != self.conversation_id:
                    self.conversation_id = stored.conversation_id
                    self.push(self._follow(stored.conversation_id))
                self.push(server.Ack(frame.client_id, stored.event_id, stored.conversation_id))
            case client.CallIceRequest() | client.CallOffer():
                await self._call_offer(frame)
            case client.SendDtmf():
                call = self.s.calls.get(frame.call_id, self.customer_id)
                for digit in frame.digits:
                    call.on_digit(digit, "keypad")
            case client.HangupCall():
                await self.s.calls.get(frame.call_id, self.customer_id).end("caller_hangup")
            case client.CancelCallback():
                cb = await self.s.callbacks.get(frame.callback_id)
                ringing = cb is not None and cb.get("state") == CallbackState.RINGING
                await self.s.callbacks.cancel(
                    self.customer_id, frame.callback_id, "declined" if ringing else "cancelled"
                )
            case client.DeclineCallInvite():
                await self._decline_invite(frame.conversation_id)
            case client.EndChat():
                await end_chat(self.s.conversations, self.customer_id, frame.conversation_id)
            case client.RateConversation():
                event = await self.s.conversations.rate(
                    self.customer_id, frame.conversation_id, frame.score, frame.comment
                )
                # the event reaches this socket itself: it may follow a newer conversation than the one rated
                self.push(server.Event(frame.conversation_id, customer_view(event)))
            case client.Typing():
                await self._relay_typing(frame)

    async def _relay_typing(self, frame: client.Typing) -> None:
        """The customer's typing (and live draft) to the agent: "typing" at most every TYPING_MIN_INTERVAL, a
        "stopped" only after a "typing" (60,000 "stopped" frames were all relayed: a security tester's finding)."""
        now = time.monotonic()
        if self.conversation_id is None or (frame.active and now - self._last_typing < TYPING_MIN_INTERVAL):
            return
        if not frame.active and not self._typing:
            return
        self._last_typing, self._typing = now, frame.active
        await self.bus.publish(
            self.s.keys.conv_channel(self.conversation_id),
            bus.Typing(Author.CUSTOMER, frame.active, draft=(frame.draft or "") if frame.active else ""),
        )

    async def _decline_invite(self, cid: str) -> None:
        """The customer does not take the agent's invitation to a call: the agent's desk is told (a timeline event,
        once per invitation; the customer's other tabs stop ringing on it too)."""
        store = self.s.store
        if cid != await store.customer_current(self.customer_id):
            raise NotFound(f"no conversation {cid} of yours", field="conversation_id")
        invite = await store.last_event(cid, EventType.CALL_INVITE)
        declined = await store.last_event(cid, EventType.CALL_INVITE_DECLINED)
        if invite is None or (declined is not None and declined.get("invite_id") == invite["id"]):
            raise Conflict("there is no call invitation to decline", field="conversation_id")
        await self.s.conversations.record(cid, EventType.CALL_INVITE_DECLINED, {"invite_id": invite["id"]})

    async def _route_if_unattended(self, cid: str) -> None:
        """A message in a conversation left open (its state when the message was stored) with nobody answering it
        goes to the agents' queue instead of reaching nobody: its IVR call hung up, its callback was cancelled or
        expired, or a callback is booked for later. That last one is the rule for writing while a callback waits:
        the chat is answered now, like any chat, and the callback stays booked (it rides along with the
        conversation; the agent sees it and may cancel it or keep it). In charge, so nothing changes: a call of
        this customer in its IVR, or the chat bot (a bot that booked a callback has finished; without a booked
        callback the bot's flow decides). ``enqueue`` takes only an open conversation, so a state changed
        meanwhile is kept."""
        conversations = self.s.conversations
        if self.s.calls.in_charge(self.customer_id):
            return
        callback = await self.s.callbacks.of_conversation(cid)
        if conversations.bot_first() and (callback is None or cid in self.s.bots.bots):
            return
        queue = callback["queue"] if callback is not None and callback["queue"] else conversations.queue
        if await conversations.enqueue(cid, queue):
            log.info(
                "message in an unattended open conversation%s: queued for the agents",
                " (its callback stays booked)" if callback is not None else "",
                extra={"conversation_id": cid},
            )

    async def _call_offer(self, frame: client.CallOffer | client.CallIceRequest) -> None:
        if isinstance(frame, client.CallIceRequest):  # before its offer: a TURN pair bound to this call
            ice_config = self.s.calls.config.ice
            if ice_config.turn is not None:  # asked before the call exists: counted, or anyone could mint pairs
                await self.s.limits.take_call_ice(self.customer_id, self.address)  # over: rate_limited, call_id
            ice = ice_config.for_call(f"customer-{self.customer_id}", frame.call_id, time.time())
            self.push(server.CallIce(frame.call_id, ice))
            return
        if frame.test_flow is not None and self.test is None:
            raise Forbidden(
                "a test call needs a test run's socket (a hello with test_flow and an admin's token)", field="test_flow"
            )
        try:
            if self.test is not None:
                call, answer = await self._test_call(frame, self.test)
            else:
                call, answer = await self._customer_call(frame)
        except LinesBusy as exc:
            self.push(server.CallStatusFrame(frame.call_id, CallStatus.ENDED, exc.code, message=exc.message))
            return
        if call.conversation_id != self.followed:
            self.conversation_id = call.conversation_id
            self.push(self._follow(call.conversation_id))
        self.push(server.CallAnswer(call.id, answer, conversation_id=call.conversation_id))
        self.push(server.CallStatusFrame(call.id, call.status, ""))

    async def _customer_call(self, frame: client.CallOffer) -> tuple[Call, str]:
        """A customer's call: into their open conversation (or a new one), running the live voice flow."""
        self.s.calls.check_offer(frame.call_id, frame.sdp)
        await self.s.calls.slots.reserve(frame.call_id, self.customer_id, self.address)  # CallLimit
        try:
            cid, _ = await self.s.conversations.open_for_flow(  # over the new-conversation rate: refused
                self.customer_id, self.context, self.s.limits.buckets(self.customer_id, self.address)
            )
            await self.subscribe(self.s.keys.conv_channel(cid))  # before the answer: no call status is missed
            return await self.s.calls.start(self.customer_id, cid, frame.call_id, frame.sdp)
        except BaseException:
            await self.s.calls.slots.release(frame.call_id)  # no call took it
            raise

    def _follow(self, cid: str) -> Step:
        """Follow the customer into a new conversation: subscribe first, then send its history."""

        async def step() -> None:
            old = self.followed
            if old == cid:
                return
            self.followed = self.conversation_id = cid
            self._count_present()  # (a conversation another tab, an upload or a call opened)
            await self.subscribe(self.s.keys.conv_channel(cid))
            if old is not None and old != cid:
                await self.unsubscribe(self.s.keys.conv_channel(old))
                self.s.queue_board.unwatch_position(old, self._on_position)
            self.s.queue_board.watch_position(cid, self._on_position)
            history = await self.s.conversations.history(cid, for_customer=True, steps=self.test is not None)
            await self.send_fresh(cid, history)
            await self._position_step(cid)()

        return step

    async def resync(self) -> int:
        """After a pub/sub outage: follow the customer's current conversation (a new one may have opened), send
        what they missed of it, and their place in the queue."""
        cid = await self.s.conversations.current_for_customer(self.customer_id)
        if cid is not None and cid != self.followed:
            self.conversation_id = cid
            self._count_present()
            await self._follow(cid)()
            return 0
        if self.followed is None:
            return 0
        missed = await self.s.conversations.history(
            self.followed, self.watermark(self.followed), for_customer=True, steps=self.test is not None
        )
        sent = await self.send_fresh(self.followed, missed)
        if any(e["type"] in (EventType.ASSIGNED, EventType.CLOSED) for e in sent):
            self.s.queue_board.unwatch_position(self.followed, self._on_position)  # as on_bus does for these live
        # a place read now is the truth: back in the queue meanwhile (its state event is not the customer's to see)
        await self._position_step(self.followed, back=True)()
        return len(sent)

    def on_bus(self, channel: str, message: bus.Message) -> None:
        match message:
            case bus.EventAppended():
                cid = channel.rsplit(":", 1)[1]
                if message.type == EventType.STATE:  # (queued again after an agent had it: the widget says so)
                    self.push(self._position_step(cid, back=message.data.get("state") == ConversationState.QUEUED))
                elif message.type in (EventType.ASSIGNED, EventType.CLOSED):
                    self.s.queue_board.unwatch_position(cid, self._on_position)
                if not customer_visible(message.type, steps=self.test is not None):
                    return
                event = customer_view(to_event(cid, message.id, message.type, message.data))
                self.push(server.Event(cid, event))
            case bus.Typing(author=Author.AGENT) if self.conversation_id:
                self.push(server.AgentTyping(self.conversation_id, message.active, message.name or ""))
            case bus.CallUpdate():
                self.push(
                    server.CallStatusFrame(
                        message.call_id, message.status, message.reason, agent_name=message.agent_name or ""
                    )
                )
            case bus.CallSupervisors():  # the caller hears only supervisors barging in: told that, without names
                barging = sum(1 for s in message.supervisors if s.get("mode") == MonitorMode.BARGE)
                if barging != self.barging.get(message.call_id, 0):
                    self.barging[message.call_id] = barging
                    if not barging:
                        del self.barging[message.call_id]
                    self.push(server.CallSupervisorsFrame(message.call_id, [{"mode": MonitorMode.BARGE}] * barging))
            case bus.CallCaption():
                self.push(server.Caption(message.call_id, message.caption, message.text))
            case bus.Follow() if message.conversation_id != self.followed:
                self.push(self._follow(message.conversation_id))
            case bus.CustomerErased():  # reconnects at once, as a new customer (the token is refused now)
                self.push(self._close_erased)

    async def _erased(self) -> bool:
        """Whether an admin erased this customer (the browser's word only: a site's user, whom the site vouches for,
        stays that customer, afresh). No token for an erased browser's id is ever signed again, so every one is
        refused, whenever it was signed."""
        return not is_verified_id(self.customer_id) and await self.s.erasure.erased(self.customer_id)

    async def _close_erased(self) -> None:
        log.info("customer data erased: socket closed", extra=self.log_extra)
        await self.ws.close(code=server.CloseCode.RESTARTING, message=b"customer data erased")

    def _on_position(self, cid: str, position: int) -> None:
        """The queue board's word that the customer's place moved (gateway/contact/queue_board.py)."""
        if cid == self.conversation_id:
            self.push(server.QueuePosition(cid, position))

    def _position_step(self, cid: str, *, back: bool = False) -> Step:
        """Send the place of ``cid`` in its queue if it waits; ``back``: it waits again (an agent let it go), so the
        queue board tells its place from now on (assigned, it had stopped: a reviewer saw "number 2" stay)."""

        async def step() -> None:
            position = await self.s.conversations.queue_position(cid)
            if position is not None:
                if back and cid == self.followed:
                    self.s.queue_board.watch_position(cid, self._on_position, position)
                await self.send(server.QueuePosition(cid, position, back=back or None))

        return step


def _public(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {k: v for k, v in summary.items() if k not in ("agent_id", "context", "queue")}


async def handler(request: web.Request) -> web.WebSocketResponse:
    services = request.app[SERVICES]
    address = limit_key(client_ip(request, services.limits.config.trusted_proxies))
    return await serve_socket(request, lambda ws: CustomerConnection(ws, services, address), role="customer")
