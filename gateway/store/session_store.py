"""Agents' login sessions in Redis (rules: gateway/wire/sessions.py). Keys: ``P:login:session:SID`` and
``P:login:agent:ID`` (gateway/store/keys.py)."""

from __future__ import annotations

from typing import Any

from gateway.store.store import Store, _s

REVOKE_ROUNDS = 10  # revoking all of an agent's sessions reads the set again while logins keep adding to it


class SessionStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._revoke_one = store.scripts["revoke_session"]
        self._revoke_some = store.scripts["revoke_sessions"]

    async def create(
        self, sid: str, agent_id: str, *, created_ms: int, expires_ms: int, node: str = "", address: str = ""
    ) -> None:
        """Store the session (expiring with it) and add it to the agent's set, dropping the ones that ended."""
        k = self.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            fields: dict[Any, Any] = {
                "agent_id": agent_id,
                "created": created_ms,
                "expires": expires_ms,
                "node": node,
                "address": address,
            }
            pipe.hset(k.login_session(sid), mapping=fields)
            pipe.pexpireat(k.login_session(sid), expires_ms)
            pipe.zremrangebyscore(
                k.login_sessions_of(agent_id), "-inf", created_ms
            )  # the ones that ended by themselves
            pipe.zadd(k.login_sessions_of(agent_id), {sid: expires_ms})
            pipe.pexpireat(k.login_sessions_of(agent_id), expires_ms)  # the newest lives longest
            await pipe.execute()

    async def get(self, sid: str) -> dict[str, str]:
        """The session's fields (empty when it ended)."""
        return {_s(k): _s(v) for k, v in (await self._redis.hgetall(self.keys.login_session(sid))).items()}

    async def live(self, agent_id: str, *, now_ms: int) -> list[str]:
        """Ids of the agent's sessions that have not expired (oldest first)."""
        return [_s(s) for s in await self._redis.zrangebyscore(self.keys.login_sessions_of(agent_id), now_ms, "+inf")]

    async def details(self, sids: list[str]) -> list[dict[str, str]]:
        """The fields of these sessions, in order (an empty dict for one that ended meanwhile)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in sids:
                pipe.hgetall(self.keys.login_session(sid))
            return [{_s(k): _s(v) for k, v in row.items()} for row in await pipe.execute()]

    async def revoke(self, sid: str) -> str:
        """End one session; its agent id, '' when it had already ended."""
        agent_id = _s(await self._revoke_one([self.keys.login_session(sid)]))
        if agent_id:
            await self._redis.zrem(self.keys.login_sessions_of(agent_id), sid)
        return agent_id

    async def revoke_all(self, agent_id: str) -> list[str]:
        """End every session of the agent; the ids of those ended (expired ones included)."""
        k = self.keys
        ended: list[str] = []
        for _ in range(REVOKE_ROUNDS):
            sids = [_s(s) for s in await self._redis.zrange(k.login_sessions_of(agent_id), 0, -1)]
            if not sids:
                break
            left = await self._revoke_some([k.login_sessions_of(agent_id), *(k.login_session(s) for s in sids)], sids)
            ended += sids
            if int(left) == 0:
                break
        return ended
