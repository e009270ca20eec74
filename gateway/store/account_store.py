"""The agents directory in Redis: one hash ``P:accounts``, agent id -> the agent as JSON (rules and shape:
gateway/contact/agents.py). Writes are compare-and-set (``swap_account``): two admins editing one agent at once
never lose an edit silently; the first start's agents go in all at once, only into an empty directory
(``seed_accounts``); an import is all or nothing (``import_accounts``)."""

from __future__ import annotations

from gateway.store.store import Store, _s


class AccountStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._swap = store.scripts["swap_account"]
        self._seed = store.scripts["seed_accounts"]
        self._import = store.scripts["import_accounts"]

    async def all(self) -> dict[str, str]:
        """Every agent's JSON, by id."""
        return {_s(k): _s(v) for k, v in (await self._redis.hgetall(self.keys.accounts)).items()}

    async def get(self, agent_id: str) -> str:
        """One agent's JSON ('' when there is none)."""
        value = await self._redis.hget(self.keys.accounts, agent_id)
        return _s(value) if value is not None else ""

    async def count(self) -> int:
        return int(await self._redis.hlen(self.keys.accounts))

    async def swap(self, agent_id: str, expected: str, new: str) -> bool:
        """Replace the agent's JSON if it is still ``expected`` ('' = absent; ``new`` '' = remove it)."""
        return int(await self._swap([self.keys.accounts], [agent_id, expected, new])) == 1

    async def seed(self, entries: dict[str, str]) -> int:
        """Store these agents if the directory is empty: how many (-1: it was not empty, nothing written)."""
        args = [part for pair in entries.items() for part in pair]
        return int(await self._seed([self.keys.accounts], args))

    async def import_all(self, entries: dict[str, str], *, replace: bool) -> tuple[int, list[str]]:
        """Store these agents (all or none): how many, and the ids that existed (none stored unless ``replace``)."""
        args = ["1" if replace else "0", *(part for pair in entries.items() for part in pair)]
        stored, exists = await self._import([self.keys.accounts], args)
        return int(stored), [_s(a) for a in exists]
