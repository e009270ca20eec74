"""Retention's Redis side (rules: gateway/ops/retention.py): the pass lock, the ``P:closed`` index and the
deletion of a closed conversation with the keys only it owns. Keys: gateway/store/keys.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gateway.protocol.states import ConversationState
from gateway.store.store import Store, _s


class RetentionStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._delete = store.scripts["delete_closed_conversation"]
        self._unlock = store.scripts["release_lock"]

    async def lock(self, owner: str, *, ms: int) -> bool:
        """Take the retention lock for ``ms`` unless another node holds it."""
        return bool(await self._redis.set(self.keys.retention_lock, owner, nx=True, px=ms))

    async def unlock(self, owner: str) -> None:
        """Release the lock if ``owner`` still holds it."""
        await self._unlock([self.keys.retention_lock], [owner])

    async def closed_before(self, cutoff: int, limit: int) -> list[str]:
        """The conversations closed before ``cutoff`` (ms), oldest first."""
        return [
            _s(c) for c in await self._redis.zrangebyscore(self.keys.closed_index, "-inf", cutoff, start=0, num=limit)
        ]

    async def customer_of(self, cid: str) -> str:
        customer = await self._redis.hget(self.keys.conv(cid), "customer_id")
        return _s(customer) if customer is not None else ""

    async def delete_conversation(self, cid: str, customer_id: str, cutoff: int) -> tuple[str, bool]:
        """Delete a closed conversation unchanged since ``cutoff`` (delete_closed_conversation-10.lua), with its entries in
        the search indexes: (status,
        whether the customer's record went too)."""
        k = self.keys
        indexed = sorted(_s(w) for w in await self._redis.smembers(k.conv_words(cid)))
        status, whole = await self._delete(
            [
                k.conv(cid),
                k.ctx(cid),
                k.timeline(cid),
                k.client_ids(cid),
                k.customer(customer_id),
                k.customer_client_ids(customer_id),
                k.closed_index,
                k.customer_convs(customer_id),
                k.all_convs,
                k.conv_words(cid),
                *(k.word(w) for w in indexed),
            ],
            [cid, cutoff, customer_id],
        )
        return _s(status), _s(whole) == "customer"

    async def delete_callbacks(self, cb_ids: list[str]) -> None:
        """Callbacks of a deleted conversation, from their hashes and every index."""
        if not cb_ids:
            return
        k = self.keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for cb_id in cb_ids:
                pipe.delete(k.callback(cb_id))
                pipe.zrem(k.callbacks_due, cb_id)
                pipe.zrem(k.callbacks_open, cb_id)
                pipe.zrem(k.callbacks_ringing, cb_id)
                pipe.srem(k.callbacks_queued, cb_id)
            await pipe.execute()

    async def forget_client_ids(self, customer_id: str, cid: str) -> None:
        """The customer's client-id entries that point into ``cid``."""
        cids_key = self.keys.customer_client_ids(customer_id)
        stale = [_s(f) async for f, ref in self._redis.hscan_iter(cids_key) if _s(ref).startswith(cid + "/")]
        if stale:
            await self._redis.hdel(cids_key, *stale)

    async def index_closed(self, batch: int) -> int | None:
        """Once per Redis: index the conversations closed before ``P:closed`` existed; how many (None: done before)."""
        redis, k = self._redis, self.keys
        if await redis.exists(k.closed_indexed):
            return None
        prefix = k.conv("")
        found = 0
        async for chunk in _chunks(redis.scan_iter(match=prefix + "*", count=batch, _type="hash"), batch):
            ids = [rest for rest in (_s(key)[len(prefix) :] for key in chunk) if ":" not in rest]
            async with redis.pipeline(transaction=False) as pipe:
                for cid in ids:
                    pipe.hmget(k.conv(cid), "state", "updated_at")
                rows = await pipe.execute() if ids else []
            closed = {
                cid: int(_s(at))
                for cid, (state, at) in zip(ids, rows, strict=True)
                if state is not None and _s(state) == ConversationState.CLOSED and at is not None
            }
            if closed:
                await redis.zadd(k.closed_index, closed, nx=True)  # type: ignore[arg-type]
                found += len(closed)
        await redis.set(k.closed_indexed, "1")
        return found


async def _chunks(items: AsyncIterator[Any], size: int) -> AsyncIterator[list[Any]]:
    chunk: list[Any] = []
    async for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
