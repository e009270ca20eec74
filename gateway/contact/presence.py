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
from gateway.protocol import AgentStatus
from gateway.store.store import Store, _s
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SESSION_TTL_SECONDS = 30
HEARTBEAT_SECONDS = 10


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
        k = self.store.keys
        sid = secrets.token_hex(8)
        self._sessions[sid] = agent.id
        pipe = self.store.redis.pipeline(transaction=True)
        pipe.sadd(k.agents, agent.id)
        pipe.hset(k.agent(agent.id), mapping={"name": agent.name, "capacity": agent.capacity,
                                              "skills": format_skills(agent.skills)})
        pipe.hsetnx(k.agent(agent.id), "status", AgentStatus.AWAY)
        pipe.hsetnx(k.agent(agent.id), "idle_since", now_ms())
        pipe.zadd(k.agent_sessions(agent.id), {sid: now_ms() + SESSION_TTL_SECONDS * 1000})
        await pipe.execute()
        await self._changed()
        return sid

    async def leave(self, sid: str, agent_id: str) -> None:
        self._sessions.pop(sid, None)
        await self.store.redis.zrem(self.store.keys.agent_sessions(agent_id), sid)
        await self._changed()

    async def set_status(self, agent_id: str, status: AgentStatus, reason: str = "") -> None:
        """Available or away (``reason``: why, e.g. "break", or "missed_call" when the gateway sets it)."""
        k = self.store.keys
        previous = await self.store.redis.hget(k.agent(agent_id), "status")
        mapping = {"status": str(status), "away_reason": reason if status == AgentStatus.AWAY else ""}
        if status == AgentStatus.AVAILABLE and _s(previous or b"") != AgentStatus.AVAILABLE:
            mapping["idle_since"] = str(now_ms())
        await self.store.redis.hset(k.agent(agent_id), mapping=mapping)  # type: ignore[arg-type]
        log.info("agent is %s", status, extra={"agent_id": agent_id})
        await self._changed()

    async def set_activity(self, agent_id: str, activity: str, *, until_ms: int = 0) -> None:
        """What the agent is doing beyond their status: ``ringing``, ``on_call``, ``wrap_up`` (until
        ``until_ms``) or ``""``. Routing gives no new work while it lasts; every node sees it."""
        await self.store.redis.hset(self.store.keys.agent(agent_id),
                                    mapping={"activity": activity, "activity_until": str(until_ms)})
        log.info("agent activity: %s", activity or "none", extra={"agent_id": agent_id})
        await self.store.redis.publish(self.store.keys.agent_channel(agent_id), '{"kind":"presence"}')
        await self._changed()

    async def info(self, agent_id: str) -> dict[str, Any]:
        k = self.store.keys
        pipe = self.store.redis.pipeline(transaction=False)
        pipe.hgetall(k.agent(agent_id))
        pipe.scard(k.agent_convs(agent_id))
        pipe.zcount(k.agent_sessions(agent_id), now_ms(), "+inf")
        raw, active, sessions = await pipe.execute()
        info = {_s(a): _s(b) for a, b in raw.items()}
        status = info.get("status", AgentStatus.OFFLINE) if sessions else AgentStatus.OFFLINE
        activity = info.get("activity", "")
        if activity == "wrap_up" and not is_busy(info, now_ms()):
            activity = ""   # after-call work ran out
        return {"id": agent_id, "name": info.get("name", agent_id), "status": status,
                "capacity": int(info.get("capacity", 0)), "active": int(active),
                "activity": activity if sessions else "", "activity_until": int(info.get("activity_until", 0) or 0),
                "away_reason": info.get("away_reason", "") if status == AgentStatus.AWAY else ""}

    async def _changed(self) -> None:
        self.router.kick()
        await self.store.redis.publish(self.store.keys.queue_channel, '{"kind":"agents"}')

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            expiry = now_ms() + SESSION_TTL_SECONDS * 1000
            pipe = self.store.redis.pipeline(transaction=False)
            for sid, aid in self._sessions.items():
                pipe.zadd(self.store.keys.agent_sessions(aid), {sid: expiry})
                pipe.zremrangebyscore(self.store.keys.agent_sessions(aid), "-inf", now_ms())
            try:
                await pipe.execute()
            except Exception:
                log.exception("presence heartbeat failed")
