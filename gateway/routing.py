"""Routing v1: one queue, longest-idle available agent with free capacity first.

:func:`plan` is the pure decision (tested without Redis). :class:`Router`
runs it against Redis whenever something may allow an assignment (a
conversation queued, an agent became available or freed capacity) and once a
second as a sweep. Each planned assignment is committed by an atomic script
that re-checks the conversation and the agent, so several nodes routing at
once never assign a conversation twice or overfill an agent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from .protocol import AgentStatus
from .store import Store, _s
from .tasks import cancel_and_wait

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"


@dataclass(frozen=True, slots=True)
class AgentLoad:
    id: str
    name: str
    status: AgentStatus
    online: bool
    capacity: int
    active: int
    idle_since: int  # ms; last time the agent was given work or freed capacity

    @property
    def eligible(self) -> bool:
        return self.online and self.status == AgentStatus.AVAILABLE and self.active < self.capacity


def choose_agent(agents: list[AgentLoad]) -> AgentLoad | None:
    """The eligible agent idle the longest; ties broken by id so the choice is repeatable."""
    eligible = [a for a in agents if a.eligible]
    return min(eligible, key=lambda a: (a.idle_since, a.id)) if eligible else None


def plan(waiting: list[str], agents: list[AgentLoad], now: int) -> list[tuple[str, AgentLoad]]:
    """Pair waiting conversations (oldest first) with agents until either runs out."""
    loads = {a.id: a for a in agents}
    pairs: list[tuple[str, AgentLoad]] = []
    for conv_id in waiting:
        agent = choose_agent(list(loads.values()))
        if agent is None:
            break
        pairs.append((conv_id, agent))
        loads[agent.id] = replace(agent, active=agent.active + 1, idle_since=now)
    return pairs


def now_ms() -> int:
    return int(time.time() * 1000)


class Router:
    def __init__(self, store: Store, queue: str = DEFAULT_QUEUE, sweep_seconds: float = 1.0):
        self.store = store
        self.queue = queue
        self.sweep_seconds = sweep_seconds
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._kick.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="router")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=self.sweep_seconds)
            except TimeoutError:
                pass
            self._kick.clear()
            try:
                await self.dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routing pass failed")
                await asyncio.sleep(self.sweep_seconds)

    async def agent_loads(self, now: int) -> list[AgentLoad]:
        k = self.store.keys
        redis = self.store.redis
        ids = sorted(_s(a) for a in await redis.smembers(k.agents))
        if not ids:
            return []
        pipe = redis.pipeline(transaction=False)
        for aid in ids:
            pipe.hgetall(k.agent(aid))
            pipe.scard(k.agent_convs(aid))
            pipe.zcount(k.agent_sessions(aid), now, "+inf")
        rows = await pipe.execute()
        loads = []
        for i, aid in enumerate(ids):
            info = {_s(a): _s(b) for a, b in rows[3 * i].items()}
            if not info:
                continue
            loads.append(AgentLoad(
                id=aid, name=info.get("name", aid),
                status=AgentStatus(info.get("status", AgentStatus.AWAY)),
                online=rows[3 * i + 2] > 0, capacity=int(info.get("capacity", 0)),
                active=int(rows[3 * i + 1]), idle_since=int(info.get("idle_since", 0) or 0)))
        return loads

    async def waiting(self, limit: int = 200) -> list[str]:
        return [_s(c) for c in await self.store.redis.zrange(self.store.keys.queue(self.queue), 0, limit - 1)]

    async def dispatch(self) -> int:
        """One routing pass; returns how many conversations were assigned."""
        waiting = await self.waiting()
        if not waiting:
            return 0
        now = now_ms()
        assigned = 0
        for conv_id, agent in plan(waiting, await self.agent_loads(now), now):
            result = await self.store.assign(conv_id, self.queue, agent.id, agent.name, now=now)
            if result == "ok":
                assigned += 1
                log.info("assigned to %s", agent.id, extra={"conversation_id": conv_id, "agent_id": agent.id})
                await self.store.redis.publish(self.store.keys.agent_channel(agent.id),
                                               f'{{"kind":"assigned","conversation_id":"{conv_id}"}}')
            else:  # the world changed since the plan was made; the next pass sees it
                log.info("assignment to %s skipped: %s", agent.id, result, extra={"conversation_id": conv_id})
                self.kick()
                break
        if assigned:
            await self.store.redis.publish(self.store.keys.queue_channel, '{"kind":"queue"}')
        return assigned
