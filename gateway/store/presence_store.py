"""The agents' desk connections (presence sessions, gateway/contact/presence.py): one sorted set per agent, each
connection scored by when it expires unless its node refreshes it; the agent's hash keeps ``desk_left_ms``, when a
desk of theirs last closed (with the sessions' expiries: since when they have had no desk open)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.store.store import Store, _s


@dataclass(frozen=True, slots=True)
class DeskAbsence:
    """An agent's desks as the sweeper of absent agents sees them (gateway/contact/absent_agents.py)."""

    agent_id: str
    chats: int  # conversations assigned to them
    live: bool  # a desk connection of theirs has not expired
    last_seen_ms: int  # when their last desk closed or expired (0: nothing on record)


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

    async def agent_left(self, agent_id: str, sid: str, now: int) -> None:
        """The desk connection ``sid`` closed (at ``now``)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._keys.agent_sessions(agent_id), sid)
            pipe.hset(self._keys.agent(agent_id), "desk_left_ms", now)
            await pipe.execute()

    async def absences(self, agent_ids: list[str], now: int) -> list[DeskAbsence]:
        """For each agent: how many chats they hold, whether a desk of theirs is live, since when none is."""
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for aid in agent_ids:
                pipe.scard(k.agent_convs(aid))
                pipe.zrange(k.agent_sessions(aid), -1, -1, withscores=True)  # the latest expiry
                pipe.hget(k.agent(aid), "desk_left_ms")
            replies = await pipe.execute()
        out = []
        for i, aid in enumerate(agent_ids):
            chats, latest, left = replies[3 * i : 3 * i + 3]
            expires = int(latest[0][1]) if latest else 0
            out.append(DeskAbsence(aid, int(chats), expires >= now, max(expires, int(left or 0))))
        return out

    async def absent_from(self, agent_id: str, now: int) -> None:
        """Start the clock of an agent with chats and nothing on record of their desks (the data predates it)."""
        await self._redis.hsetnx(self._keys.agent(agent_id), "desk_left_ms", now)

    async def refresh_agent_sessions(self, sessions: dict[str, str], *, expires_ms: int, now: int) -> None:
        """Keep this node's desk connections (session id -> agent id) live until ``expires_ms``; drop expired ones."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid, aid in sessions.items():
                pipe.zadd(self._keys.agent_sessions(aid), {sid: expires_ms})
                pipe.zremrangebyscore(self._keys.agent_sessions(aid), "-inf", now)
            await pipe.execute()
