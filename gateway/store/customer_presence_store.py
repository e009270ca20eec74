"""When each customer last had a widget open on any node (``P:customers:seen``, gateway/contact/customer_presence.py):
one sorted set, customer id -> ms by Redis's clock (``lua/customers_seen-1.lua``), so that the nodes that write it
and the sweep that reads it (gateway/contact/gone_customers.py) share one clock whatever their own say."""

from __future__ import annotations

from gateway.store.store import Store, _s


class CustomerPresenceStore:
    def __init__(self, store: Store):
        self._keys = store.keys
        self._redis = store.redis
        self._seen = store.scripts["customers_seen"]
        self._take_lock = store.scripts["take_lock"]

    async def seen_now(self, customer_ids: list[str]) -> int:
        """These customers have a widget open (or closed their last one) now; returns now (ms, Redis's clock)."""
        return int(await self._seen([self._keys.customers_seen], customer_ids))

    async def now(self) -> int:
        """Redis's clock (ms): what the presence times are written in."""
        seconds, micros = await self._redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def last_seen(self, customer_ids: list[str]) -> list[int | None]:
        """When each customer last had a widget open (None: nothing on record)."""
        if not customer_ids:
            return []
        scores = await self._redis.zmscore(self._keys.customers_seen, customer_ids)  # type: ignore[arg-type]
        return [None if s is None else int(s) for s in scores]

    async def take_sweep(self, owner: str, ms: int) -> bool:
        """Whether ``owner`` (a node) sweeps this round: it holds the sweep's lock, taken or renewed for ``ms``."""
        return bool(_s(await self._take_lock([self._keys.customers_sweep], [owner, ms])))
