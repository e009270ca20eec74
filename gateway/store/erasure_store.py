"""An erasure's Redis side (rules: gateway/ops/erasure.py): a customer's conversations, the customer's own keys
deleted, and the mark that refuses the customer tokens the gateway gave them. Keys: gateway/store/keys.py."""

from __future__ import annotations

import redis.exceptions

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
        self._unmark = store.scripts["release_lock"]  # delete the key if it still holds this value

    async def conversations_of(self, customer_id: str) -> list[str]:
        """The customer's conversations, newest first."""
        return [_s(c) for c in await self._redis.zrevrange(self.keys.customer_convs(customer_id), 0, -1)]

    async def known(self, customer_id: str) -> bool:
        """Whether anything of the customer is kept: a record, a conversation, or an erasure not finished."""
        k = self.keys
        keys = (k.customer(customer_id), k.customer_convs(customer_id), k.customer_erasing(customer_id))
        return bool(await self._redis.exists(*keys))

    async def begin(self, customer_id: str, conversations: dict[str, int], *, at_ms: int, keep_ms: int) -> None:
        """An erasure's journal: the conversations it deletes (id -> when created, ms), kept until it is done (a
        retry finishes what a failed run left), and listed in ``P:erased`` (every node's recordings; the webhook
        fan-out copies nothing of them from now on; entries older than ``keep_ms`` go)."""
        if not conversations:
            return
        k = self.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(k.customer_erasing(customer_id), conversations)  # type: ignore[arg-type]
            pipe.pexpire(k.customer_erasing(customer_id), keep_ms)  # one never retried does not stay for ever
            pipe.zadd(k.erased_convs, dict.fromkeys(conversations, at_ms))  # type: ignore[arg-type]
            pipe.zremrangebyscore(k.erased_convs, "-inf", at_ms - keep_ms)
            await pipe.execute()

    async def journal(self, customer_id: str) -> dict[str, int]:
        """The conversations an erasure of the customer that has not finished deletes (id -> created ms)."""
        rows: list[tuple[bytes, float]] = await self._redis.zrange(  # type: ignore[assignment]
            self.keys.customer_erasing(customer_id), 0, -1, withscores=True
        )
        return {_s(cid): int(score) for cid, score in rows}

    async def drop_listed(self, customer_id: str, cid: str) -> None:
        """A conversation gone already (its hash deleted some other way) leaves the customer's list."""
        await self._redis.zrem(self.keys.customer_convs(customer_id), cid)

    async def conversations_left(self, customer_id: str) -> int:
        return int(await self._redis.zcard(self.keys.customer_convs(customer_id)))

    async def forget_customer(self, customer_id: str) -> None:
        """The customer's own keys go (their record, client-message ids, limit counters), their presence entry, and
        the erasure's journal (it is done). Their list of conversations is not deleted: each deleted conversation left
        it, and one opened meanwhile stays in it, for the next erasure to find."""
        k = self.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(
                k.customer(customer_id),
                k.customer_client_ids(customer_id),
                k.customer_erasing(customer_id),
                *_limit_keys(k, customer_id),
            )
            pipe.zrem(k.customers_seen, customer_id)
            await pipe.execute()

    async def unmark(self, customer_id: str, at_ms: int) -> None:
        """Take back the mark this erasure made (it was refused before deleting anything), unless another one's
        replaced it since (one compare-and-delete)."""
        await self._unmark([self.keys.customer_erased(customer_id)], [str(at_ms)])

    async def mark_erased(self, customer_id: str, *, at_ms: int, mark_seconds: int) -> bool:
        """The mark alone (an erasure starting): the customer tokens the gateway gave them are refused from now.
        Whether this made it (False: an earlier or concurrent erasure's was there; it is renewed)."""
        before = await self._redis.set(self.keys.customer_erased(customer_id), at_ms, ex=max(1, mark_seconds), get=True)
        return before is None

    async def erased_at(self, customer_id: str) -> int | None:
        """When the customer's data was erased (ms), while the mark lives."""
        at = await self._redis.get(self.keys.customer_erased(customer_id))
        return int(_s(at)) if at is not None else None

    async def trim_erased(self, before_ms: int) -> None:
        """``P:erased`` entries older than ``before_ms`` go (retention's pass)."""
        await self._redis.zremrangebyscore(self.keys.erased_convs, "-inf", before_ms)

    async def erased_conversations(self) -> set[str]:
        """The conversations erased lately (:meth:`begin`)."""
        return {_s(c) for c in await self._redis.zrange(self.keys.erased_convs, 0, -1)}

    async def rewrite_aof(self) -> str:
        """Ask Redis to rewrite its append-only file (deleted values leave it): '' when started, else why not."""
        try:
            await self._redis.bgrewriteaof()
        except redis.exceptions.ResponseError as exc:  # one in progress already (it writes what is there now)
            return str(exc)
        return ""
