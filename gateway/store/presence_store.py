"""The agents' desk connections (presence sessions, gateway/contact/presence.py): one sorted set per agent, each
connection scored by when it expires unless its node refreshes it."""

from __future__ import annotations

from gateway.store.store import Store, _s


class PresenceStore:
    def __init__(self, store: Store):
        self._keys = store.keys
        self._redis = store.redis

    async def agent_joined(
        self, agent_id: str, sid: str, fields: dict[str, str | int], defaults: dict[str, str | int], *, expires_ms: int
    ) -> None:
        """A desk connection ``sid`` opened: the agent's ``fields`` set, ``defaults`` where unset, the connection
        live until ``expires_ms``; in one transaction."""
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(k.agents, agent_id)
            pipe.hset(k.agent(agent_id), mapping=fields)  # type: ignore[arg-type]
            for name, value in defaults.items():
                pipe.hsetnx(k.agent(agent_id), name, value)
            pipe.zadd(k.agent_sessions(agent_id), {sid: expires_ms})
            await pipe.execute()

    async def live_agent_sessions(self, agent_id: str, now: int) -> list[str]:
        """The agent's desk connections (presence sessions) that have not expired."""
        return [_s(m) for m in await self._redis.zrangebyscore(self._keys.agent_sessions(agent_id), now, "+inf")]

    async def agent_left(self, agent_id: str, sid: str) -> None:
        """The desk connection ``sid`` closed."""
        await self._redis.zrem(self._keys.agent_sessions(agent_id), sid)

    async def refresh_agent_sessions(self, sessions: dict[str, str], *, expires_ms: int, now: int) -> None:
        """Keep this node's desk connections (session id -> agent id) live until ``expires_ms``; drop expired ones."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid, aid in sessions.items():
                pipe.zadd(self._keys.agent_sessions(aid), {sid: expires_ms})
                pipe.zremrangebyscore(self._keys.agent_sessions(aid), "-inf", now)
            await pipe.execute()
