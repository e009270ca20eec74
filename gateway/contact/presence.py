"""Agent presence: which agents are connected (on any node), their status and load.

Each open desk connection is a session in ``P:agent:ID:sessions`` scored by its
expiry. The node holding the connection refreshes it every
``HEARTBEAT_SECONDS``; a node that dies stops refreshing, so its agents drop
out of routing within ``SESSION_TTL_SECONDS`` without anyone cleaning up.

A session is owned by its socket: ``join`` takes an ``alive()`` test, and the heartbeat refreshes only sessions
whose socket is alive; one whose socket is gone without leaving is removed. ``leave`` forgets the session on
this node first, whatever Redis does; when Redis cannot be told (down, restarting) the removal is tried again
every ``LEAVE_RETRY_SECONDS`` until it is, so a desk closed during an outage is out of routing as soon as Redis
is back (not ``SESSION_TTL_SECONDS`` later), and never refreshed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from gateway.contact.agents import Agent
from gateway.contact.routing import Router, format_skills, in_wrap_up, now_ms
from gateway.errors import BadRequest, Conflict
from gateway.protocol import bus
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentActivity, AgentStatus, Role
from gateway.store.node_store import NodeStore
from gateway.store.presence_store import PresenceStore
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SESSION_TTL_SECONDS = 30
HEARTBEAT_SECONDS = 10
LEAVE_RETRY_SECONDS = 0.5

Alive = Callable[[], bool]

# what an available agent is doing that keeps a transfer from them, as a refusal says it
DOING: dict[str, str] = {
    AgentActivity.NONE: "available",
    AgentActivity.RINGING: "ringing",
    AgentActivity.ON_CALL: "on a call",
    AgentActivity.WRAP_UP: "in after-call work",
}


def no_such_agent(agent_id: str) -> str:
    """What an agent is told who names an agent id nobody has signed in with (a typo, most likely)."""
    return f"there is no agent '{agent_id}' (nobody with that agent ID has signed in); check the ID"


class Presence:
    def __init__(
        self, store: Store, router: Router, *, roles_of: Callable[[str], Iterable[str] | None] = lambda agent_id: None
    ):
        self.store = store
        self.roles_of = roles_of  # an agent's roles (the directory's; None: no such account)
        self.db = PresenceStore(store)  # the desk connections
        self.router = router
        self._sessions: dict[str, tuple[str, Alive]] = {}  # session id -> (agent id, its socket is open), here
        self._leaving: dict[str, str] = {}  # session id -> agent id: left, but Redis could not be told yet
        self._lock = asyncio.Lock()  # a refresh never re-adds a session a leave has just removed
        self._wake = asyncio.Event()  # a removal to retry
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        for sid, (aid, _) in list(self._sessions.items()):
            await self.leave(sid, aid)
        await self._retry_leaves()  # once more; what Redis still refuses expires on its own

    async def join(self, agent: Agent, *, alive: Alive, login: str = "") -> str:
        """A desk connection opened: register the session, kept while ``alive()``; returns its id (which starts
        with ``login``, the login session it belongs to, so that a logout can tell its own desks from others)."""
        sid = f"{login}.{secrets.token_hex(8)}" if login else secrets.token_hex(8)
        self._sessions[sid] = (agent.id, alive)
        try:
            await self.db.agent_joined(
                agent.id,
                sid,
                {"name": agent.name, "capacity": agent.capacity, "skills": format_skills(agent.skills)},
                {"status": str(AgentStatus.AWAY), "idle_since": now_ms(), "status_since": now_ms()},
                expires_ms=now_ms() + SESSION_TTL_SECONDS * 1000,
            )
        except BaseException:
            await self.leave(sid, agent.id)  # the transaction may have gone through before the failure
            raise
        await self._changed()
        return sid

    async def leave(self, sid: str, agent_id: str) -> bool:
        """A desk connection closed: its session is never refreshed again, and removed from Redis now or, when
        Redis fails, as soon as it is back. False in that case."""
        self._sessions.pop(sid, None)
        try:
            async with self._lock:
                await self.db.agent_left(agent_id, sid, now_ms())
            self._leaving.pop(sid, None)
            await self._changed()
        except StoreError as exc:
            if sid not in self._leaving:  # once per session, not per retry
                log.warning(
                    "desk left while Redis is unavailable (%s); removing it when Redis is back",
                    exc,
                    extra={"agent_id": agent_id},
                )
            self._leaving[sid] = agent_id
            self._wake.set()
            return False
        return True

    async def desks_elsewhere(self, agent_id: str, login: str) -> bool:
        """The agent has a live desk connection of another login session than ``login`` (another browser or tab
        still signed in and open): a logout of ``login`` does not mean they left."""
        live = await self.db.live_agent_sessions(agent_id, now_ms())
        return any(not sid.startswith(f"{login}.") for sid in live)

    async def transfer_target(self, from_id: str, to_id: str) -> str:
        """The display name of the agent a call or a chat is handed to, once they can take it: BadRequest for oneself,
        Conflict ``transfer_refused`` naming why otherwise (no such agent; away, offline, ringing, on a call, in
        after-call work)."""
        if to_id == from_id:
            raise BadRequest("that is you", field="agent_id", code=ErrorCode.BAD_FIELD)
        self.require_takes_contacts(to_id)
        if not await self.known(to_id):
            raise Conflict(no_such_agent(to_id), field="agent_id", code=ErrorCode.TRANSFER_REFUSED)
        info = await self.info(to_id)
        if info["status"] != AgentStatus.AVAILABLE or info["activity"]:
            doing = (
                DOING.get(info["activity"], info["activity"])
                if info["status"] == AgentStatus.AVAILABLE
                else info["status"]
            )
            raise Conflict(f"{to_id} is {doing}, not available", field="agent_id", code=ErrorCode.TRANSFER_REFUSED)
        return str(info["name"])

    def require_takes_contacts(self, agent_id: str) -> None:
        """Conflict ``transfer_refused`` for an account without the agent role (a supervisor or an admin only: no
        desk of theirs is a presence; "there is no agent 'sue' (nobody ... has signed in)" was said of a supervisor
        signed in: an exploratory test)."""
        roles = self.roles_of(agent_id)
        if roles is not None and Role.AGENT not in set(roles):
            raise Conflict(
                f"{agent_id} takes no chats or calls (no agent role: {', '.join(sorted(roles)) or 'none'}); transfer "
                "to an agent or a queue",
                field="agent_id",
                code=ErrorCode.TRANSFER_REFUSED,
            )

    async def set_status(self, agent_id: str, status: AgentStatus, reason: str = "", *, tell: bool = False) -> None:
        """Available or away (``reason``: why, e.g. "break", or "missed_call" / "declined_call" when the gateway sets it);
        ``tell``: the agent's desks are told (all of them, on every node: the agent set it at one, or a supervisor)."""
        previous = await self.store.agent_field(agent_id, "status")
        before = await self.store.agent_field(agent_id, "away_reason") if status == AgentStatus.AWAY else ""
        mapping = {"status": str(status), "away_reason": reason if status == AgentStatus.AWAY else ""}
        # since when (the supervisors' wallboard and the desk show it): away for another reason is a new state (away
        # on "lunch" after an hour in a "meeting" read "away 1:00:05", a reports auditor found)
        if (previous or "") != status or (before or "") != mapping["away_reason"]:
            mapping["status_since"] = str(now_ms())
        if status == AgentStatus.AVAILABLE and (previous or "") != AgentStatus.AVAILABLE:
            mapping["idle_since"] = str(now_ms())
        await self.store.update_agent(agent_id, mapping)
        log.info("agent is %s", status, extra={"agent_id": agent_id})
        if tell:
            await self.store.publish(self.store.keys.agent_channel(agent_id), bus.PresenceChanged())
        await self._changed()

    async def set_activity(
        self, agent_id: str, activity: AgentActivity, *, until_ms: int = 0, owner: str = "", conversation: str = ""
    ) -> None:
        """What the agent is doing beyond their status: ``ringing``, ``on_call``, ``wrap_up`` (until
        ``until_ms``) or ``""``. Routing gives no new work while it lasts; every node sees it. ``owner``: the
        node whose call it is, for an activity only that node ends (ringing, on_call); if that node is lost,
        the node that takes it over ends the activity (gateway/calls/takeover.py). ``conversation``: the one
        after-call work is for (closing it ends the work; closing another chat does not)."""
        fields = {
            "activity": activity,
            "activity_until": str(until_ms),
            "activity_node": owner,
            "activity_since": str(now_ms()),
            "activity_conversation": conversation,
            "call_held_at": "",  # a call routing held her for rings now, or she does something else (assign_one.lua)
        }
        await self.store.update_agent(agent_id, fields)
        log.info("agent activity: %s", activity or "none", extra={"agent_id": agent_id})
        await self.activity_changed(agent_id)

    async def release_activity(
        self, agent_id: str, owner: str, activity: AgentActivity, *, until_ms: int = 0, conversation: str = ""
    ) -> bool:
        """End a call activity (ringing, on_call) that node ``owner`` set, to ``activity`` (for ``conversation``, as
        :meth:`set_activity`): only if that node still owns it (a node that took ``owner`` over freed the agent, who
        may be on another node's call now); False if not. ``owner`` '' (no call registry): set as
        :meth:`set_activity` does."""
        if not owner:
            await self.set_activity(agent_id, activity, until_ms=until_ms, conversation=conversation)
            return True
        released = await NodeStore(self.store).release_activity(
            agent_id, owner, activity, until_ms=until_ms, conversation=conversation
        )
        if released != "ok":
            log.info("agent activity not ours any more: left as it is", extra={"agent_id": agent_id})
            return False
        await self.store.update_agent(agent_id, {"activity_since": str(now_ms())})
        log.info("agent activity: %s", activity or "none", extra={"agent_id": agent_id})
        await self.activity_changed(agent_id)
        return True

    async def activity_changed(self, agent_id: str) -> None:
        """Tell the agent's desks and routing that the agent's activity changed (set here or by a takeover)."""
        await self.store.publish(self.store.keys.agent_channel(agent_id), bus.PresenceChanged())
        await self._changed()

    async def known(self, agent_id: str) -> bool:
        """Whether an agent of this id ever signed in (a transfer to a mistyped id says so, not "offline")."""
        return await self.store.agent_name(agent_id) is not None

    async def info(self, agent_id: str) -> dict[str, Any]:
        ((info, active, sessions),) = await self.store.agent_loads([agent_id], now_ms())
        status = info.get("status", AgentStatus.OFFLINE) if sessions else AgentStatus.OFFLINE
        activity = info.get("activity", "")
        if activity == AgentActivity.WRAP_UP and not in_wrap_up(info, now_ms()):
            activity = AgentActivity.NONE  # after-call work ran out
        return {
            "id": agent_id,
            "name": info.get("name", agent_id),
            "status": status,
            "capacity": int(info.get("capacity", 0)),
            "active": int(active),
            "activity": activity if sessions else "",
            "activity_until": int(info.get("activity_until", 0) or 0),
            # after-call work's conversation and start: a desk reloaded during it shows its bar again
            "activity_conversation": info.get("activity_conversation", "") if activity == AgentActivity.WRAP_UP else "",
            "activity_since": int(info.get("activity_since", 0) or 0),
            "away_reason": info.get("away_reason", "") if status == AgentStatus.AWAY else "",
        }

    async def _changed(self) -> None:
        self.router.kick()
        await self.store.publish(self.store.keys.queue_channel, bus.AgentsChanged())

    async def _retry_leaves(self) -> None:
        for sid, aid in list(self._leaving.items()):
            if not await self.leave(sid, aid):
                return  # still down: the next round
            log.info("desk that left during a Redis outage removed", extra={"agent_id": aid})

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + HEARTBEAT_SECONDS
        while True:
            self._wake.clear()
            wait = LEAVE_RETRY_SECONDS if self._leaving else due - loop.time()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, wait))
                await asyncio.sleep(LEAVE_RETRY_SECONDS)  # a failure just now: not again at once
            except TimeoutError:
                pass
            try:
                await self._retry_leaves()
                if loop.time() >= due:
                    due = loop.time() + HEARTBEAT_SECONDS
                    await self.refresh()
            except Exception:  # a bug: logged with its traceback; the heartbeat goes on
                log.exception("presence heartbeat failed")

    async def refresh(self) -> None:
        """Keep the sessions of this node's open desks live; a session whose socket is gone is removed."""
        for sid, (aid, alive) in list(self._sessions.items()):
            if not alive():
                log.warning("desk session without an open socket; removing it", extra={"agent_id": aid})
                await self.leave(sid, aid)
        try:
            async with self._lock:
                live = {sid: aid for sid, (aid, _) in self._sessions.items()}
                await self.db.refresh_agent_sessions(
                    live, expires_ms=now_ms() + SESSION_TTL_SECONDS * 1000, now=now_ms()
                )
        except StoreError as exc:  # the next round tries again; sessions live SESSION_TTL_SECONDS meanwhile
            log.warning("presence heartbeat failed: %s", exc)
