"""The agent desk's WebSocket: presence, the waiting queue, assigned conversations."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from gateway.contact.agents import Agent
from gateway.contact.chat_supervision import joined, require_supervisor
from gateway.contact.conversations import Stored
from gateway.errors import Conflict, Forbidden, GatewayError, Unauthorized
from gateway.protocol import bus, client, server
from gateway.protocol.client import parse_event_id
from gateway.protocol.limits import MAX_WATCHED_CHATS
from gateway.protocol.states import AgentActivity, AgentStatus, Author, CallStatus, ConversationState, Role
from gateway.store.store import StoreError, to_event
from gateway.wire.agent_status import status_set
from gateway.wire.connection import Connection, Step, serve_socket
from gateway.wire.services import SERVICES, Services
from gateway.wire.sessions import LoginSession, authenticate, revoked
from gateway.wire.welcome_ice import agent_welcome_ice

log = logging.getLogger(__name__)
WRAP_UP_TOLD_LATE_SECONDS = 0.2  # after-call work is over by then however the clocks of Redis and this node round


class AgentConnection(Connection):
    role = "agent"

    def __init__(self, ws: web.WebSocketResponse, services: Services):
        super().__init__(ws, services.bus)
        self.s = services
        self.agent: Agent | None = None
        self.session = ""  # presence: this open desk connection
        self.gone_for_good = False  # an admin removed or disabled the agent: no desk of theirs comes back
        self.login: LoginSession | None = None  # the login session its token belongs to
        self._session_end: asyncio.TimerHandle | None = None  # closes the socket when the session expires
        self._wrap_up_end: asyncio.TimerHandle | None = None  # tells the desk when after-call work runs out
        self.assigned: set[str] = set()  # the conversations the desk was told are theirs (welcome, assigned)
        self.rings: dict[str, str] = {}  # call id -> conversation: told ringing for this agent last (no consults)
        self.watching = False  # gets the wallboard (a supervisor asked for it)
        self.watched: set[str] = set()  # conversations a supervisor follows live (chat_watch), theirs or not
        self.joined: set[str] = set()  # chats this socket's supervisor joined (left when it closes)
        self._assigning: list[str] = []  # given to this agent, a step to tell the desk queued (one for all of them)
        self._names: dict[str, str] = {}  # the agent names the desk was told last (welcome, agent_names)
        self._takers: list[str] = []  # the transfer targets the desk was told last (takes_contacts)
        self._names_pending = False  # a step to tell the desk the names again is queued

    @property
    def me(self) -> Agent:
        """The agent as this node's directory has them now (roles taken away count before the revocation that
        follows reaches the socket), or as they logged in if the directory has dropped them."""
        assert self.agent is not None
        return self.s.directory.get(self.agent.id) or self.agent

    async def start(self, hello: client.Hello) -> bool:
        s = self.s
        try:
            if not hello.token:
                raise Unauthorized("an agent token is required; log in first", field="token")
            agent, login = await authenticate(
                hello.token, signer=s.signer, sessions=s.sessions, directory=s.directory, now=time.time()
            )
            self.agent = agent
            self.log_extra = {"agent_id": agent.id}
            # Listen for revocations first, then look again: a logout between the two checks is seen by
            # the second, one after it arrives on the bus. No window where this socket would miss it.
            await self.subscribe(s.keys.agent_channel(agent.id))
            self.login = await s.sessions.check(login.id, agent.id)
            self._session_end = asyncio.get_running_loop().call_later(
                self.login.seconds_left(time.time()), self.push, self._revoked_step("expired")
            )
        except GatewayError as exc:
            await self.send_error(exc)
            return False
        self.s.queue_board.watch(self._on_queue)
        # a page that only watches (the wallboard) is no desk, nor the desk of someone who is no agent (a supervisor
        # only, who watches and listens in): not online, not routed to (a supervisor-only account got chats: a user
        # test)
        if hello.presence and Role.AGENT in agent.roles:
            self.session = await self.s.presence.join(agent, alive=lambda: not self.ws.closed, login=login.id)
        conversations = await self.s.conversations.assigned_to(agent.id)
        for conv in conversations:
            await self._follow(conv["id"])
        self.assigned = {conv["id"] for conv in conversations}
        info = await self.s.presence.info(agent.id)
        self._watch_wrap_up(info)
        await self.send(
            server.AgentWelcome(
                agent=info,
                conversations=conversations,
                queue=await self.s.queue_board.current(self._on_queue),
                calls=await self.s.agent_calls.calls_of(agent.id),  # on every node (the call registry)
                roles=list(agent.roles),
                dispositions=(await self.s.dispositions.get()).entries(),
                agent_names=self._agent_names(),
                queue_names=sorted(await self.s.queues.names() or ()),
                takes_contacts=self._remember_takers(),
                away_reasons=(await self.s.away_reasons.get()).entries(),
                ice_servers=await agent_welcome_ice(self.s, agent.id),
            )
        )
        self.s.directory.watch(self._on_directory)
        self.s.code_watch.watch(self._on_codes)
        return True

    def _agent_names(self) -> dict[str, str]:
        self._names = {a.id: a.name for a in self.s.directory.agents.values()}
        return self._names

    def _remember_takers(self) -> list[str]:
        self._takers = self._takes_contacts()
        return self._takers

    def _takes_contacts(self) -> list[str]:
        """Who a transfer can go to: enabled accounts with the agent role (a supervisor-only account was suggested,
        then refused: an exploratory test)."""
        return sorted(a.id for a in self.s.directory.agents.values() if a.has(Role.AGENT) and not a.disabled)

    def _on_codes(self, name: str) -> None:
        """An admin saved a code list on some node: the desk gets both lists as they are now."""

        async def step() -> None:
            away, dispositions = await self.s.away_reasons.get(), await self.s.dispositions.get()
            await self.send(server.Codes(away_reasons=away.entries(), dispositions=dispositions.entries()))

        self.push(step)

    def _on_directory(self, agent_id: str) -> None:
        """An agent changed on any node: the desk gets the names again if they changed (one step for a burst)."""
        if self._names_pending:
            return
        self._names_pending = True

        async def step() -> None:
            self._names_pending = False
            before = (self._names, self._takers)
            self._takers = self._takes_contacts()
            if (self._agent_names(), self._takers) != before:
                await self.send(server.AgentNames(agent_names=self._names, takes_contacts=self._takers))

        self.push(step)

    async def stop(self) -> None:
        for timer in (self._session_end, self._wrap_up_end):
            if timer is not None:
                timer.cancel()
        for cid in sorted(self.joined):  # the supervisor's page closed: the customer is told they left
            try:
                await self.s.supervision.join(self.me, cid, False, reason="page_closed")
            except (GatewayError, StoreError) as exc:
                log.warning("a joined chat not left: %s", exc, extra={**self.log_extra, "conversation_id": cid})
        self.s.queue_board.unwatch(self._on_queue)
        self.s.wallboard.unwatch(self._on_wallboard)
        self.s.directory.unwatch(self._on_directory)
        self.s.code_watch.unwatch(self._on_codes)
        if self.agent is not None and self.session:
            if not await self.s.presence.leave(self.session, self.agent.id):
                return  # Redis is down: presence removes the session once it is back (gateway/contact/presence.py)
            try:
                offline = (await self.s.presence.info(self.agent.id))["status"] == AgentStatus.OFFLINE
                # every node with a call of theirs; an agent removed or disabled: their calls go on without them
                await self.s.call_commands.desk_closed(self.me, offline=offline, for_good=self.gone_for_good)
            except StoreError as exc:
                log.warning("desk closed; its calls not checked (Redis: %s)", exc, extra=self.log_extra)

    async def _follow(self, cid: str) -> None:
        """Listen to a conversation's live events. What came before is the desk's to ask for (``open``): a replay
        after an outage (:meth:`resync`) starts from the newest event once subscribed, or a later one sent."""
        channel = self.s.keys.conv_channel(cid)
        if channel in self.channels:
            return
        await self.subscribe(channel)
        last = parse_event_id(await self.s.store.last_event_id(cid) or "")
        if last is not None:
            self.replay_from[cid] = last

    async def resync(self) -> int:
        """After a pub/sub outage: the events the desk missed in the conversations it follows, the conversations
        assigned to or taken from the agent meanwhile, the agent's presence, and the rings (call status messages
        are in no timeline: a ring published meanwhile is read from the call registry, a ring that ended
        meanwhile is told ended)."""
        keys = self.s.keys
        replayed = 0
        for channel in sorted(self.channels):
            cid = channel.rsplit(":", 1)[1]
            if channel == keys.conv_channel(cid):
                missed = await self.s.conversations.history(cid, self.watermark(cid), for_customer=False)
                replayed += len(await self.send_fresh(cid, missed))
        now = [conv["id"] for conv in await self.s.conversations.assigned_to(self.me.id)]
        for cid in now:
            if cid not in self.assigned:
                await self._assigned_step(cid)()
        for cid in sorted(self.assigned - set(now)):
            summary = await self.s.conversations.summary(cid)
            closed = summary is None or summary["state"] == ConversationState.CLOSED
            await self._unassigned_step(cid, "closed" if closed else "transferred")()
        await self._send_agent_info()
        await self._resync_rings()
        return replayed

    async def _resync_rings(self) -> None:
        listed = {c["call_id"]: c for c in await self.s.agent_calls.calls_of(self.me.id)}
        for call_id, cid in sorted(self.rings.items()):
            if call_id not in listed:  # over meanwhile (its call_ended, if it ended, is in the timeline)
                del self.rings[call_id]
                await self.send(server.CallStatusFrame(call_id, CallStatus.ENDED, "", conversation_id=cid))
            elif listed[call_id]["status"] != CallStatus.RINGING:  # answered meanwhile
                del self.rings[call_id]
                await self.send(self._status_of(call_id, listed[call_id]))
        for call_id, call in listed.items():
            if call["status"] == CallStatus.RINGING:
                self.rings[call_id] = call["conversation_id"]
                await self.send(self._status_of(call_id, call))

    def _status_of(self, call_id: str, call: dict[str, Any]) -> server.CallStatusFrame:
        """A call of the agent's as the registry lists it (:meth:`~gateway.calls.anchors.CallAnchors.calls_of_agent`)."""
        ringing = call["status"] == CallStatus.RINGING
        return server.CallStatusFrame(
            call_id,
            CallStatus(call["status"]),
            "held" if call.get("held") else "",
            conversation_id=call["conversation_id"],
            agent_id=self.me.id,
            agent_name=self.me.name,
            ring_seconds=call["ring_seconds"] if ringing else None,
        )

    async def handle(self, frame: client.Frame) -> None:
        conversations = self.s.conversations
        commands = self.s.call_commands
        match frame:
            case client.SetStatus():
                await self._set_status(frame)
            case client.OpenConversation():
                await conversations.require_agent(self.me.id, frame.conversation_id)
                self.push(self._history_step(frame.conversation_id, frame.last_event_id))
            case client.SendMessage() | client.SendNote():
                stored = await self._write(frame)
                self.push(server.Ack(frame.client_id, stored.event_id, stored.conversation_id))
            case client.Typing():
                assert frame.conversation_id is not None
                await self._require_writer(frame.conversation_id)
                await self.bus.publish(
                    self.s.keys.conv_channel(frame.conversation_id),
                    bus.Typing(Author.AGENT, frame.active, name=self.me.name),
                )
            case client.CloseConversation():
                await self.s.agent_calls.require_no_call_in(self.me.id, frame.conversation_id)
                await conversations.close(self.me.id, frame.conversation_id, frame.disposition)
                await self.s.agent_calls.wrap_up_done(self.me.id, frame.conversation_id)
            case client.CallIceRequest():  # before an accept's or a monitor's offer: a TURN pair bound to the call
                await commands.check_ice(self.me, frame.call_id)  # a call that rings for them, theirs, or to listen to
                ice = self.s.calls.config.ice.for_call(f"agent-{self.me.id}", frame.call_id, time.time())
                self.push(server.CallIce(frame.call_id, ice))
            case client.CallOffer():  # calls may live on another node: see gateway/calls/commands.py
                answer = await commands.run(self.me, "accept", frame.call_id, sdp=frame.sdp)
                self.push(server.CallAnswer(frame.call_id, answer))
            case client.DeclineCall():
                await commands.run(self.me, "decline", frame.call_id)
            case client.HoldCall():
                await commands.run(self.me, "hold", frame.call_id, hold=frame.hold)
            case client.HangupCall():
                await commands.run(self.me, "hangup", frame.call_id)
            case client.MonitorCall():
                joined = await commands.run(self.me, "monitor", frame.call_id, mode=frame.mode, sdp=frame.sdp)
                if joined is not None:
                    self.push(server.CallAnswer(frame.call_id, joined))
            case client.ConsultCall():
                await commands.run(self.me, "consult", frame.call_id, action=frame.action, agent_id=frame.agent_id)
            case client.CallbackOutcome():
                await self.s.callbacks.record_outcome(self.me.id, frame.callback_id, frame.outcome)
            case client.CancelCallback():
                await self.s.callbacks.cancel_by_agent(self.me.id, frame.callback_id)
            case client.InviteToCall():
                await conversations.invite_to_call(self.me.id, self.me.name, frame.conversation_id)
            case client.TransferCall():
                await commands.run(self.me, "transfer", frame.call_id, queue=frame.queue, agent_id=frame.agent_id)
            case client.WatchWallboard():
                self._watch_wallboard(frame.watch)
            case client.WrapUpDone():  # "Done" after a call handed on: nothing of theirs to close ends it
                await self.s.agent_calls.wrap_up_done(self.me.id)
            case client.TransferChat():
                await self._transfer_chat(frame)
            case client.WatchChat():
                await self._watch_chat(frame.conversation_id, frame.watch)
            case client.JoinChat():
                await self._join_chat(frame.conversation_id, frame.join)
            case client.AskHelp():
                await self._help(frame)

    async def _transfer_chat(self, frame: client.TransferChat) -> None:
        cid = frame.conversation_id
        if await self._not_mine(cid):  # a supervisor moves an agent's chat (gateway/contact/chat_supervision.py)
            owner = await self.s.supervision.transfer(
                self.me, cid, to_agent=frame.agent_id or "", queue=frame.queue or ""
            )
            await self.s.agent_calls.wrap_up_done(owner, cid)
            return
        await self.s.conversations.require_agent(self.me.id, cid)  # theirs, before anything else
        name = "" if frame.agent_id is None else await self.s.presence.transfer_target(self.me.id, frame.agent_id)
        await self.s.handover.transfer_chat(
            self.me.id, cid, to_agent=frame.agent_id or "", to_name=name, queue=frame.queue or ""
        )
        # handed on, as a close: the after-call work for it ends
        await self.s.agent_calls.wrap_up_done(self.me.id, cid)

    async def _help(self, frame: client.AskHelp) -> None:
        """Ask for help with a chat of theirs, cancel it, or (a supervisor) answer it; every wallboard reads again."""
        if frame.active:
            await self.s.help.ask(self.me, frame.conversation_id, frame.text)
        else:
            await self.s.help.end(self.me, frame.conversation_id)
        self.s.wallboard.local_change()

    async def _join_chat(self, cid: str, join: bool) -> None:
        """Join or leave a chat. The socket that joined it leaves it when it closes; one whose join changed nothing
        (another tab of theirs is in it) does not, nor does the supervisor's take-over."""
        if not join:
            self.joined.discard(cid)
        if await self.s.supervision.join(self.me, cid, join) and join:
            self.joined.add(cid)

    async def _write(self, frame: client.SendMessage | client.SendNote) -> Stored:
        """An agent's message or note in their conversation; a supervisor's in another's: a note coaches its agent,
        a message goes to the customer of a chat they joined (gateway/contact/chat_supervision.py)."""
        cid = frame.conversation_id
        assert cid is not None
        note = isinstance(frame, client.SendNote)
        try:
            return await self.s.conversations.agent_message(
                self.me.id, self.me.name, cid, frame.client_id, frame.text, note=note
            )
        except Forbidden:  # not theirs
            if not self.me.supervises:
                raise
        if note:
            return await self.s.supervision.coach(self.me, cid, frame.client_id, frame.text)
        return await self.s.supervision.message(self.me, cid, frame.client_id, frame.text)

    async def _require_writer(self, cid: str) -> None:
        """Forbidden unless the conversation is the agent's or a chat they joined as a supervisor."""
        try:
            await self.s.conversations.require_agent(self.me.id, cid)
        except Forbidden:
            if not self.me.supervises:
                raise
            conv = await self.s.supervision.conversation(self.me, cid, "type in others' chats")
            if not joined(conv, self.me.id) or conv.get("state") != ConversationState.ASSIGNED:
                raise Forbidden("join the chat first (beside its agent)", field="conversation_id") from None

    async def _not_mine(self, cid: str) -> bool:
        """A supervisor's frame about a conversation another agent (or nobody) has."""
        if not self.me.supervises:
            return False
        return (await self.s.conversations.store.conversation(cid) or {}).get("agent_id") != self.me.id

    async def _watch_chat(self, cid: str, watch: bool) -> None:
        """Supervisors and admins: follow a conversation live (its history first, then its events and the customer's
        typing), silently; or stop. At most MAX_WATCHED_CHATS at once."""
        require_supervisor(self.me, "watch others' chats")
        if not watch:
            if cid in self.watched:
                self.watched.discard(cid)
                self.push(self._unwatched_step(cid))
            return
        await self.s.supervision.conversation(self.me, cid, "watch others' chats")
        if cid not in self.watched and len(self.watched) >= MAX_WATCHED_CHATS:
            raise Conflict(
                f"you watch {MAX_WATCHED_CHATS} chats already: stop watching one first", field="conversation_id"
            )
        self.watched.add(cid)
        self.push(self._history_step(cid, None))

    def _unwatched_step(self, cid: str) -> Step:
        async def step() -> None:
            if cid not in self.watched and cid not in self.assigned:
                await self.unsubscribe(self.s.keys.conv_channel(cid))
                self.last_sent.pop(cid, None)  # (a wallboard open all day watches many)
                self.replay_from.pop(cid, None)

        return step

    def _watch_wallboard(self, watch: bool) -> None:
        """Supervisors and admins: the wallboard frames from now on (the first one at once), or no more."""
        if not self.me.supervises:
            raise Forbidden("only supervisors and admins can watch the wallboard", field="type")
        if watch and not self.watching:
            self.watching = True
            self.s.wallboard.watch(self._on_wallboard)
        elif not watch and self.watching:
            self.watching = False
            self.s.wallboard.unwatch(self._on_wallboard)

    def _on_wallboard(self, text: str) -> None:
        """The node's snapshot, serialized once for every supervisor: sent as it is."""

        async def step() -> None:
            if self.watching and not self.me.supervises:  # the role was taken away meanwhile
                self.watching = False
                self.s.wallboard.unwatch(self._on_wallboard)
            if self.watching:
                await self.ws.send_str(text)

        self.push(step)

    def _history_step(self, cid: str, after: str | None) -> Step:
        async def step() -> None:
            await self._follow(cid)
            events = await self.s.conversations.history(cid, after, for_customer=False)
            for event in events:
                self.mark_sent(cid, event["id"])
            await self.send(server.History(await self.s.conversations.summary(cid), events))

        return step

    def _assigned_step(self, cid: str) -> Step:
        async def step() -> None:
            await self._tell_assigned([cid])

        return step

    def _on_assigned(self, cid: str) -> None:
        """A conversation given to this agent: told together with the others given before the step runs (a routing
        pass gives an agent several at once): one read of their summaries, one ``agent_info``."""
        if not self._assigning:
            self.push(self._assigned_batch)
        self._assigning.append(cid)

    async def _assigned_batch(self) -> None:
        cids, self._assigning = self._assigning, []
        await self._tell_assigned(cids)

    async def _tell_assigned(self, cids: list[str]) -> None:
        # as _follow does, with each newest event's id read with the summaries (one round trip for all)
        fresh = []
        for cid in cids:
            channel = self.s.keys.conv_channel(cid)
            fresh.append(channel not in self.channels)
            await self.subscribe(channel)
            self.assigned.add(cid)
        known = {self.me.id: self.me.name}  # the agent they went to: no read of their name
        rows = await self.s.conversations.summaries_and_newest(cids, names=known)
        for cid, was_new, (summary, newest) in zip(cids, fresh, rows, strict=True):
            last = parse_event_id(newest or "")
            if was_new and last is not None:
                self.replay_from[cid] = last
            await self.send(server.Assigned(summary))
        await self._send_agent_info()

    def _unassigned_step(self, cid: str, reason: str) -> Step:
        async def step() -> None:
            self.assigned.discard(cid)
            if cid not in self.watched:  # a supervisor who watches it goes on seeing it
                await self.unsubscribe(self.s.keys.conv_channel(cid))
            await self.send(server.Unassigned(cid, reason))
            await self._send_agent_info()

        return step

    async def _set_status(self, frame: client.SetStatus) -> None:
        if Role.AGENT not in self.me.roles:
            raise Forbidden(
                "you are no agent (your roles: supervisor or admin): no chats or calls come to you", field="status"
            )
        await self.s.away_reasons.allow(frame.reason)  # one of the center's, or none (never the gateway's own)
        # every desk of theirs is told, this one and another tab or browser (on any node), before the calls: a node
        # slow to answer delays nothing of it (another tab went on saying "Available": an exploratory test)
        await self.s.presence.set_status(self.me.id, frame.status, frame.reason, tell=True)
        await status_set(self.s, self.me, frame.status)

    async def _send_agent_info(self) -> None:
        info = await self.s.presence.info(self.me.id)
        self._watch_wrap_up(info)
        await self.send(server.AgentInfo(info))

    def _watch_wrap_up(self, info: dict[str, Any]) -> None:
        """After-call work that runs out by itself (``--wrap-up-seconds``) changes nothing in Redis (it is read as
        over once past ``activity_until``): the desk is told then, with a fresh ``agent`` frame; it went on saying
        "After-call work" while calls rang again (an exploratory test)."""
        if self._wrap_up_end is not None:
            self._wrap_up_end.cancel()
            self._wrap_up_end = None
        until = int(info.get("activity_until") or 0)
        if info.get("activity") == AgentActivity.WRAP_UP and until:
            delay = max(0.0, until / 1000 - time.time()) + WRAP_UP_TOLD_LATE_SECONDS
            self._wrap_up_end = asyncio.get_running_loop().call_later(delay, self.push, self._send_agent_info)

    def _on_queue(self, waiting: list[dict[str, Any]]) -> None:
        text = self.s.queue_board.frame_text(waiting)  # the same text for every desk

        async def step() -> None:
            await self.ws.send_str(text)

        self.push(step)

    def on_bus(self, channel: str, message: bus.Message) -> None:
        mine = channel == self.s.keys.agent_channel(self.me.id)
        match message:
            case bus.EventAppended():
                cid = channel.rsplit(":", 1)[1]
                self.push(server.Event(cid, to_event(cid, message.id, message.type, message.data)))
            case bus.Typing(author=Author.CUSTOMER):
                self.push(server.CustomerTyping(channel.rsplit(":", 1)[1], message.active, message.draft or ""))
            case bus.CallUpdate():
                if message.status == CallStatus.RINGING and message.agent_id == self.me.id and not message.consult:
                    self.rings[message.call_id] = message.conversation_id or channel.rsplit(":", 1)[1]
                elif not message.consult:
                    self.rings.pop(message.call_id, None)
                self.push(
                    server.CallStatusFrame(
                        message.call_id,
                        message.status,
                        message.reason,
                        conversation_id=message.conversation_id or channel.rsplit(":", 1)[1],
                        agent_id=message.agent_id or "",
                        agent_name=message.agent_name or "",
                        ring_seconds=message.ring_seconds,
                        consult=message.consult,
                        from_agent_id=message.from_agent_id,
                        from_agent_name=message.from_agent_name,
                        monitor=message.monitor,
                    )
                )
            case bus.CallSupervisors():  # the supervisors the agent of this call hears (never a silent listener)
                cid = channel.rsplit(":", 1)[1]
                self.push(server.CallSupervisorsFrame(message.call_id, message.supervisors, conversation_id=cid))
            case bus.PresenceChanged() if mine:
                self.push(self._send_agent_info)
            case bus.Assigned() if mine:
                self._on_assigned(message.conversation_id)
            case bus.Unassigned() if mine:
                self.push(self._unassigned_step(message.conversation_id, message.reason))
            case bus.Rated() if mine:  # a conversation they closed, rated by its customer afterwards
                self.push(server.Event(message.conversation_id, message.event))
            case bus.SessionRevoked() if mine and self.login is not None and self.login.id in message.session_ids:
                self.push(self._revoked_step(message.reason))

    def _revoked_step(self, reason: str) -> Step:
        """The login session was revoked (logout on any node, password change, roles taken away, agent disabled or
        removed): say so, then close
        with a code the desk does not reconnect on (it shows the login screen)."""

        self.gone_for_good = self.gone_for_good or reason in ("agent_removed", "agent_disabled")

        async def step() -> None:
            if self.gone_for_good and self.agent is not None:
                # their calls go back to the queue first: told, the desk closes its media, and the caller heard
                # "please hold while your agent reconnects" before the loss (a verifying user test)
                try:
                    await self.s.call_commands.desk_closed(self.agent, offline=False, for_good=True)
                except (GatewayError, StoreError) as exc:
                    log.warning("calls of an agent gone for good not let go yet: %s", exc, extra=self.log_extra)
            why = {
                "logout": "you logged out",
                "expired": "your session has expired",
                "roles_changed": "an admin changed your roles",
                "signed_out_by_supervisor": "a supervisor signed you out",
            }.get(reason, "your session was revoked")
            await self.send_error(revoked(f"{why}; log in again"))
            await self.ws.close(code=server.CloseCode.SESSION_REVOKED, message=b"session revoked")

        return step


async def handler(request: web.Request) -> web.WebSocketResponse:
    services = request.app[SERVICES]
    return await serve_socket(request, lambda ws: AgentConnection(ws, services), role="agent")
