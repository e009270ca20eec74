"""When each customer last had a widget open on any node (``P:customers:seen``, gateway/contact/customer_presence.py):
one sorted set, customer id -> ms. Only customers with a conversation are in it (not every page view)."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.store.store import Store

KEEP_MS = 86_400_000  # an entry not refreshed for a day is trimmed (its customer long gone)


class CustomerPresenceStore:
    def __init__(self, store: Store):
        self._key = store.keys.customers_seen
        self._redis = store.redis

    async def seen(self, customer_ids: Iterable[str], now: int) -> None:
        """These customers have a widget open (or closed their last one) at ``now``; older entries are trimmed. A
        time only moves forward: a write that arrives late (a node's close after another's heartbeat) changes
        nothing."""
        members = dict.fromkeys(customer_ids, now)
        async with self._redis.pipeline(transaction=False) as pipe:
            if members:
                pipe.zadd(self._key, members, gt=True)  # type: ignore[arg-type]
            pipe.zremrangebyscore(self._key, "-inf", now - KEEP_MS)
            await pipe.execute()

    async def last_seen(self, customer_ids: list[str]) -> list[int | None]:
        """When each customer last had a widget open (None: nothing on record)."""
        if not customer_ids:
            return []
        scores = await self._redis.zmscore(self._key, customer_ids)  # type: ignore[arg-type]
        return [None if s is None else int(s) for s in scores]

    async def forget(self, customer_id: str) -> None:
        """The customer's entry goes (their data erased)."""
        await self._redis.zrem(self._key, customer_id)
