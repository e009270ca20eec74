"""An agent's call commands reach the node the call is anchored on, whichever node the desk is on.

A call's media lives on the node that answered the customer. While it waits
for or talks to an agent, that node is written in Redis (``P:call:ID:node``).
A desk on another node sends its commands (accept with its offer, decline,
hold, hang up, transfer, consult, listen in) over the bus to that node's
channel and waits for the reply (the SDP answer, or the error as the owning
node raised it), so both paths give the desk exactly the same frames.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from gateway.calls.agent_calls import AgentCalls
from gateway.calls.anchors import CallAnchors
from gateway.calls.handoff import HandoffState
from gateway.contact.agents import Agent, AgentDirectory
from gateway.errors import Forbidden, GatewayError, InternalError, NotFound
from gateway.protocol.bus import CallCommand, CallReply, Message
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import ConsultAction
from gateway.store.bus import Bus
from gateway.store.store import Keys
from gateway.tasks import Tasks

log = logging.getLogger(__name__)
REPLY_SECONDS = 10.0


class RemoteError(GatewayError):
    """An error raised on the node that holds the call, passed on as it was."""


class CallCommands:
    def __init__(
        self, agent_calls: AgentCalls, anchors: CallAnchors, bus: Bus, keys: Keys, directory: AgentDirectory
    ) -> None:
        self.agent_calls = agent_calls
        self.anchors = anchors
        self.bus = bus
        self.keys = keys
        self.directory = directory
        self.node_id = anchors.node_id
        self._pending: dict[str, asyncio.Future[CallReply]] = {}
        self._tasks = Tasks(f"call-commands-{self.node_id}", log)  # commands from other nodes being served

    async def start(self) -> None:
        await self.bus.subscribe(self.keys.node_channel(self.node_id), self._on_message)
        self.directory.watch(self._on_agent_changed)

    async def stop(self) -> None:
        self.directory.unwatch(self._on_agent_changed)
        await self.bus.unsubscribe(self.keys.node_channel(self.node_id), self._on_message)
        await self._tasks.close()

    def _on_agent_changed(self, agent_id: str) -> None:
        """An agent changed anywhere (this node's directory read them again): a supervisor who may no longer listen
        (role taken away, disabled, removed) leaves every call of this node they listen to, whisper or barge into,
        at once (an open leg is not asked again otherwise)."""
        agent = self.directory.get(agent_id)
        if agent is not None and agent.supervises and not agent.disabled:
            return
        if any(agent_id in h.monitors for h in self.agent_calls.handoffs.values()):
            self._tasks.spawn(self.agent_calls.monitors.end_all_of(agent_id, "role_removed"), f"unmonitor-{agent_id}")

    async def check_ice(self, agent: Agent, call_id: str) -> None:
        """A TURN pair (``call_ice``) only for a call the agent is about to send audio into: one that rings for
        them or that they are on (a consulted colleague included), or a supervisor's connected call to listen to,
        whisper or barge into; else Forbidden ``not_your_call`` (any agent could mint relay credentials for any
        call id). The call's state is this node's when it holds the call, the call registry's otherwise."""
        handoff = self.agent_calls.handoffs.get(call_id)
        if handoff is not None:
            state, first, consultant = (
                handoff.state,
                handoff.agent_id,
                handoff.consult.agent_id if handoff.consult is not None else "",
            )
        else:
            entry = await self.anchors.entry(call_id) or {}
            try:
                state = HandoffState(entry.get("state", ""))
            except ValueError:  # no such call, or one not waiting for an agent yet (its IVR): nobody's to join
                state = HandoffState.ENDED
            first, consultant = entry.get("agent_id", ""), entry.get("consult_agent_id", "")
        if may_join(agent, state, first, consultant):
            return
        raise Forbidden(
            f"call {call_id} does not ring for you, is not yours and is not one you may listen to",
            field="call_id",
            code=ErrorCode.NOT_YOUR_CALL,
        )

    async def desk_closed(self, agent: Agent, *, offline: bool, for_good: bool = False) -> None:
        """A desk socket of the agent's (on this node) closed: this node and every node holding a call of theirs
        look at those calls (a leg silent since is dropped; ``offline``, their last desk: a ring is missed unless
        a desk is back soon)."""
        await self.agent_calls.desk_closed(agent.id, offline=offline, for_good=for_good)
        nodes = {await self.anchors.node_of(c["call_id"]) for c in await self.anchors.calls_of_agent(agent.id)}
        for node in sorted(n for n in nodes if n and n != self.node_id):
            try:
                await self._remote(node, agent, "desk_closed", "", {"offline": offline, "for_good": for_good})
            except GatewayError as exc:
                log.warning("node %s not told that %s's desk closed: %s", node, agent.id, exc.message)

    async def run(self, agent: Agent, op: str, call_id: str, **args: Any) -> Any:
        """Do ``op`` on the call where it lives; returns its result (an SDP answer for accept / monitor)."""
        if call_id not in self.agent_calls.handoffs:
            node = await self.anchors.node_of(call_id)
            if node and node != self.node_id:
                return await self._remote(node, agent, op, call_id, args)
        return await self._local(agent, op, call_id, args)

    async def _local(self, agent: Agent, op: str, call_id: str, args: dict[str, Any]) -> Any:
        ac = self.agent_calls
        match op:
            case "accept":
                return await ac.accept(agent, call_id, args["sdp"])
            case "decline":
                await ac.decline(agent, call_id)
            case "went_away":
                await ac.went_away(agent, call_id)
            case "hold":
                await ac.hold(agent, call_id, bool(args["hold"]))
            case "hangup":
                await ac.hangup(agent, call_id)
            case "transfer":
                await ac.transfer(agent, call_id, queue=args.get("queue"), to_agent=args.get("agent_id"))
            case "consult":
                action = args["action"]
                if action == ConsultAction.START:
                    await ac.consults.start(agent, call_id, args["agent_id"])
                elif action == ConsultAction.COMPLETE:
                    await ac.consults.complete(agent, call_id)
                else:
                    await ac.consults.cancel_by(agent, call_id)
            case "monitor":
                return await ac.monitors.monitor(agent, call_id, args["mode"], args.get("sdp"))
            case "desk_closed":  # (no call id: every call of the agent's on this node)
                await ac.desk_closed(agent.id, offline=bool(args.get("offline")), for_good=bool(args.get("for_good")))
            case _:
                raise NotFound(f"unknown call command {op!r}")
        return None

    async def _remote(self, node: str, agent: Agent, op: str, call_id: str, args: dict[str, Any]) -> Any:
        request_id = secrets.token_hex(8)
        future: asyncio.Future[CallReply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self.bus.publish(
                self.keys.node_channel(node),
                CallCommand(request_id, reply_to=self.node_id, agent_id=agent.id, op=op, call_id=call_id, args=args),
            )
            try:
                reply = await asyncio.wait_for(future, REPLY_SECONDS)
            except TimeoutError:
                raise NotFound(f"the node holding call {call_id} did not answer", field="call_id") from None
        finally:
            self._pending.pop(request_id, None)
        if reply.ok:
            return reply.result
        error = reply.error or {}
        raise RemoteError(
            str(error.get("message", "failed")), field=error.get("field"), code=ErrorCode.of(error.get("code"))
        )

    def _on_message(self, channel: str, message: Message) -> None:
        match message:
            case CallReply():
                future = self._pending.get(message.id)
                if future is not None and not future.done():
                    future.set_result(message)
            case CallCommand():
                self._tasks.spawn(self._serve(message), f"serve-{message.op[:20]}")

    async def _serve(self, message: CallCommand) -> None:
        agent = self.directory.get(message.agent_id)
        try:
            if agent is None:
                raise NotFound(f"unknown agent {message.agent_id!r}", field="agent_id")
            result = await self._local(agent, message.op, message.call_id, dict(message.args))
            reply = CallReply(message.id, ok=True, result=result)
        except GatewayError as exc:
            reply = CallReply(message.id, ok=False, error=exc.to_dict())
        except Exception as exc:  # noqa: BLE001 - the asking desk gets an answer ('internal', with a request id)
            internal = InternalError.logged(exc, log, f"call command {message.op[:40]!a}")
            reply = CallReply(message.id, ok=False, error=internal.to_dict())
        await self.bus.publish(self.keys.node_channel(message.reply_to), reply)


def may_join(agent: Agent, state: HandoffState, first: str, consultant: str) -> bool:
    """Whether ``agent`` may bring audio to a call in ``state`` whose agent is ``first`` (ringing for them or on
    it) and whose consulted colleague is ``consultant``: theirs while it rings for them or they are on it, a
    supervisor's while it is bridged (listen, whisper, barge)."""
    if state.has_agent and agent.id == first:
        return True
    if state.consulting and agent.id == consultant:
        return True
    return agent.supervises and state.bridged
