"""An erasure's Redis side (rules: gateway/ops/erasure.py): a customer's conversations, the customer's own keys
deleted, and the mark that refuses the customer tokens the gateway gave them. Keys: gateway/store/keys.py."""

from __future__ import annotations

from gateway.store.keys import Keys
from gateway.store.store import Store, _s

#: the rate buckets named after a customer (gateway/contact/limits.py: messages, conversations, files, TURN pairs)
BUCKET_KINDS = ("msg", "conv", "file", "ice", "icew")


def _limit_keys(k: Keys, customer_id: str) -> list[str]:
    """The short-lived limit keys named after a customer (their rate buckets, TURN pair, call slots)."""
    buckets = [k.rate_bucket(kind, "c", customer_id) for kind in BUCKET_KINDS]
    return [*buckets, k.turn_pair("c", customer_id), k.call_slots("c", customer_id)]


class ErasureStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis

    async def conversations_of(self, customer_id: str) -> list[str]:
        """The customer's conversations, newest first."""
        return [_s(c) for c in await self._redis.zrevrange(self.keys.customer_convs(customer_id), 0, -1)]

    async def known(self, customer_id: str) -> bool:
        """Whether anything of the customer is kept: a record or a conversation."""
        k = self.keys
        return bool(await self._redis.exists(k.customer(customer_id), k.customer_convs(customer_id)))

    async def forget_customer(self, customer_id: str, *, at_ms: int, mark_seconds: int) -> None:
        """The customer's own keys go (their record, client-message ids, list of conversations, limit counters); the mark that
        they were erased stays ``mark_seconds`` (as long as a customer token the gateway gave them lives)."""
        k = self.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(
                k.customer(customer_id),
                k.customer_client_ids(customer_id),
                k.customer_convs(customer_id),
                *_limit_keys(k, customer_id),
            )
            pipe.set(k.customer_erased(customer_id), at_ms, ex=max(1, mark_seconds))
            await pipe.execute()

    async def mark_erased(self, customer_id: str, *, at_ms: int, mark_seconds: int) -> None:
        """The mark alone (an erasure starting): the customer tokens the gateway gave them are refused from now."""
        await self._redis.set(self.keys.customer_erased(customer_id), at_ms, ex=max(1, mark_seconds))

    async def erased_at(self, customer_id: str) -> int | None:
        """When the customer's data was erased (ms), while the mark lives."""
        at = await self._redis.get(self.keys.customer_erased(customer_id))
        return int(_s(at)) if at is not None else None

    async def note_erased(self, cid: str, *, at_ms: int, keep_ms: int) -> None:
        """An erased conversation, for every node's recordings (entries older than ``keep_ms`` go)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.erased_convs, {cid: at_ms})
            pipe.zremrangebyscore(self.keys.erased_convs, "-inf", at_ms - keep_ms)
            await pipe.execute()

    async def erased_conversations(self) -> set[str]:
        """The conversations erased lately (:meth:`note_erased`)."""
        return {_s(c) for c in await self._redis.zrange(self.keys.erased_convs, 0, -1)}
