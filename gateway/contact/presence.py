"""Agent presence: which agents are connected (on any node), their status and load.

Each open desk connection is a session in ``P:agent:ID:sessions`` scored by its
expiry. The node holding the connection refreshes it every
``HEARTBEAT_SECONDS``; a node that dies stops refreshing, so its agents drop
out of routing within ``SESSION_TTL_SECONDS`` without anyone cleaning up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from gateway.contact.agents import Agent
from gateway.contact.routing import Router, format_skills, is_busy, now_ms
from gateway.protocol import bus
from gateway.protocol.states import AgentActivity, AgentStatus
from gateway.store.store import Store
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SESSION_TTL_SECONDS = 30
HEARTBEAT_SECONDS = 10


def no_such_agent(agent_id: str) -> str:
    """What an agent is told who names an agent id nobody has signed in with (a typo, most likely)."""
    return f"there is no agent '{agent_id}' (nobody with that agent ID has signed in); check the ID"


class Presence:
    def __init__(self, store: Store, router: Router):
        self.store = store
        self.router = router
        self._sessions: dict[str, str] = {}  # session id -> agent id, on this node
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        for sid, aid in list(self._sessions.items()):
            await self.leave(sid, aid)

    async def join(self, agent: Agent) -> str:
        """A desk connection opened: register the session; returns its id."""
        sid = secrets.token_hex(8)
        self._sessions[sid] = agent.id
        await self.store.agent_joined(
            agent.id,
            sid,
            {"name": agent.name, "capacity": agent.capacity, "skills": format_skills(agent.skills)},
            {"status": str(AgentStatus.AWAY), "idle_since": now_ms()},
            expires_ms=now_ms() + SESSION_TTL_SECONDS * 1000,
        )
        await self._changed()
        return sid

    async def leave(self, sid: str, agent_id: str) -> None:
        self._sessions.pop(sid, None)
        await self.store.agent_left(agent_id, sid)
        await self._changed()

    async def set_status(self, agent_id: str, status: AgentStatus, reason: str = "") -> None:
        """Available or away (``reason``: why, e.g. "break", or "missed_call" when the gateway sets it)."""
        previous = await self.store.agent_field(agent_id, "status")
        mapping = {"status": str(status), "away_reason": reason if status == AgentStatus.AWAY else ""}
        if status == AgentStatus.AVAILABLE and (previous or "") != AgentStatus.AVAILABLE:
            mapping["idle_since"] = str(now_ms())
        await self.store.update_agent(agent_id, mapping)
        log.info("agent is %s", status, extra={"agent_id": agent_id})
        await self._changed()

    async def set_activity(self, agent_id: str, activity: AgentActivity, *, until_ms: int = 0, owner: str = "") -> None:
        """What the agent is doing beyond their status: ``ringing``, ``on_call``, ``wrap_up`` (until
        ``until_ms``) or ``""``. Routing gives no new work while it lasts; every node sees it. ``owner``: the
        node whose call it is, for an activity only that node ends (ringing, on_call); if that node is lost,
        the node that takes it over ends the activity (gateway/calls/takeover.py)."""
        fields = {"activity": activity, "activity_until": str(until_ms), "activity_node": owner}
        await self.store.update_agent(agent_id, fields)
        log.info("agent activity: %s", activity or "none", extra={"agent_id": agent_id})
        await self.activity_changed(agent_id)

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
        if activity == AgentActivity.WRAP_UP and not is_busy(info, now_ms()):
            activity = AgentActivity.NONE  # after-call work ran out
        return {
            "id": agent_id,
            "name": info.get("name", agent_id),
            "status": status,
            "capacity": int(info.get("capacity", 0)),
            "active": int(active),
            "activity": activity if sessions else "",
            "activity_until": int(info.get("activity_until", 0) or 0),
            "away_reason": info.get("away_reason", "") if status == AgentStatus.AWAY else "",
        }

    async def _changed(self) -> None:
        self.router.kick()
        await self.store.publish(self.store.keys.queue_channel, bus.AgentsChanged())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.store.refresh_agent_sessions(
                    dict(self._sessions), expires_ms=now_ms() + SESSION_TTL_SECONDS * 1000, now=now_ms()
                )
            except Exception:
                log.exception("presence heartbeat failed")
