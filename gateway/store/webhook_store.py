"""Event webhooks' Redis side (rules: gateway/ops/webhooks.py and gateway/ops/webhook_delivery.py): the
subscriptions, the per-conversation outboxes, their leases and attempts, the delivery logs, and the fan-out from
the event log. Keys: gateway/store/keys.py; scripts: ``lua/webhook_*-N.lua`` and ``lua/take_lock-1.lua``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.store.store import Store, _s


@dataclass(frozen=True, slots=True)
class Outbox:
    """One subscription's queue of payloads for one conversation, as ``P:webhooks:due`` names it."""

    subscription: str
    conversation: str

    @property
    def member(self) -> str:
        return f"{self.subscription} {self.conversation}"

    @classmethod
    def parse(cls, member: str) -> Outbox:
        subscription, _, conversation = member.partition(" ")
        return cls(subscription, conversation)


@dataclass(frozen=True, slots=True)
class Head:
    """The payload an outbox delivers next, and the failed attempts recorded on the outbox: of which event (the
    head's, unless it left meanwhile), how many, and since when."""

    payload: str
    failed_event: str
    failed: int
    first_failed_ms: int = 0  # when the first of those failed attempts was made (0: none, or an older record)


class WebhookStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._update = store.scripts["webhook_update"]
        self._take_lock = store.scripts["take_lock"]
        self._release_lock = store.scripts["release_lock"]
        self._fan_out = store.scripts["webhook_fanout"]
        self._skip = store.scripts["webhook_skip"]
        self._claim = store.scripts["webhook_claim"]
        self._settle = store.scripts["webhook_settle"]

    # ---------------------------------------------------------------- subscriptions

    async def subscriptions(self) -> dict[str, str]:
        """Every subscription: id -> JSON."""
        return {_s(k): _s(v) for k, v in (await self._redis.hgetall(self.keys.webhooks)).items()}

    async def subscription(self, sub_id: str) -> str | None:
        found = await self._redis.hget(self.keys.webhooks, sub_id)
        return None if found is None else _s(found)

    async def count(self) -> int:
        return int(await self._redis.hlen(self.keys.webhooks))

    async def create(self, sub_id: str, doc: str) -> bool:
        """Store a new subscription; False if the id is taken."""
        return bool(await self._redis.hsetnx(self.keys.webhooks, sub_id, doc))

    async def put(self, sub_id: str, doc: str) -> None:
        """Store a subscription, new or not (seeding from the settings file)."""
        await self._redis.hset(self.keys.webhooks, sub_id, doc)

    async def replace(self, sub_id: str, doc: str) -> bool:
        """Replace a subscription that still exists; False if it was deleted meanwhile."""
        return bool(await self._update([self.keys.webhooks], [sub_id, doc]))

    async def delete(self, sub_id: str) -> bool:
        """Delete a subscription and its delivery log (its outboxes go as each falls due: nobody to deliver to)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.webhooks, sub_id)
            pipe.delete(self.keys.webhook_log(sub_id))
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def drop_outboxes(self, cid: str) -> int:
        """Every subscription's outbox for conversation ``cid``, gone undelivered (an erasure): how many payloads."""
        k, dropped = self.keys, 0
        for sub_id in await self.subscriptions():
            outbox = Outbox(sub_id, cid)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.llen(k.webhook_outbox(sub_id, cid))
                pipe.delete(k.webhook_outbox(sub_id, cid))
                pipe.zrem(k.webhooks_due, outbox.member)
                pipe.hdel(k.webhooks_leases, outbox.member)
                pipe.hdel(k.webhooks_attempts, outbox.member)
                dropped += int((await pipe.execute())[0])
        return dropped

    async def deliveries(self, sub_id: str, limit: int) -> list[str]:
        """The subscription's latest delivery log entries (JSON), newest first."""
        return [_s(e) for e in await self._redis.lrange(self.keys.webhook_log(sub_id), 0, limit - 1)]

    # ---------------------------------------------------------------- fan-out from the event log

    async def take_fanout_lock(self, owner: str, ms: int) -> str:
        """'taken' (it was free), 'held' (already ``owner``'s: renewed) or '' (another node holds it)."""
        return _s(await self._take_lock([self.keys.webhooks_fanout_lock], [owner, ms]))

    async def release_fanout_lock(self, owner: str) -> None:
        await self._release_lock([self.keys.webhooks_fanout_lock], [owner])

    async def claim_pending(self, group: str, consumer: str, *, batch: int = 100) -> int:
        """Make every entry pending in ``group`` (read by any consumer, not acknowledged) ``consumer``'s own, so that
        its next read returns them, oldest first; the number claimed. Only the fan-out lock's holder calls this:
        whoever read those entries is dead or lost the lock, and can no longer copy them."""
        key, start, claimed = self.keys.event_log, "0-0", 0
        while True:
            # not JUSTID: redis-py then drops the cursor from the reply
            reply = await self._redis.xautoclaim(key, group, consumer, 0, start_id=start, count=batch)
            start = _s(reply[0])
            claimed += len(reply[1])
            if start == "0-0":
                return claimed

    async def skip_unsubscribed(self, owner: str, group: str) -> bool:
        """With no subscription and nothing pending, move ``group`` to the end of the event log unread (in one step
        with the check, webhook_skip-3.lua); whether it did (False: read the log as usual)."""
        k = self.keys
        return _s(await self._skip([k.webhooks_fanout_lock, k.event_log, k.webhooks], [owner, group])) == "skipped"

    async def fan_out(
        self,
        owner: str,
        group: str,
        *,
        now: int,
        lock_ms: int,
        ids: Sequence[str],
        deliveries: Sequence[tuple[Outbox, str]],
        outbox_max: int = 1000,
    ) -> tuple[str, int]:
        """Append each payload to its outbox (an outbox over ``outbox_max`` loses its oldest) and acknowledge ``ids``
        (ascending), in one step (webhook_fanout-4.lua; nothing of a conversation an admin erased): ('ok', payloads dropped), or ('lost', 0) when the lock is
        not ``owner``'s, ('gap', 0) when pending entries must be claimed first."""
        k = self.keys
        args: list[str | int] = [owner, group, now, lock_ms, outbox_max, len(ids), *ids]
        for outbox, payload in deliveries:
            args += [outbox.member, payload]
        keys = [k.webhooks_fanout_lock, k.event_log, k.webhooks_due, k.erased_convs]
        keys += [k.webhook_outbox(o.subscription, o.conversation) for o, _ in deliveries]
        status, dropped = await self._fan_out(keys, args)
        return _s(status), int(dropped)

    # ---------------------------------------------------------------- delivery

    async def claim(self, *, now: int, lease_until: int, limit: int, token: str) -> list[Outbox]:
        """Lease up to ``limit`` outboxes whose head is due (webhook_claim-2.lua)."""
        found = await self._claim([self.keys.webhooks_due, self.keys.webhooks_leases], [now, lease_until, limit, token])
        return [Outbox.parse(_s(m)) for m in found]

    async def head(self, outbox: Outbox) -> Head | None:
        """The outbox's next payload and its failed attempts so far (None: the outbox is empty)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lindex(self.keys.webhook_outbox(outbox.subscription, outbox.conversation), 0)
            pipe.hget(self.keys.webhooks_attempts, outbox.member)
            payload, record = await pipe.execute()
        if payload is None:
            return None
        event_id, count, since = (_s(record or "").split(" ") + ["", ""])[:3]
        return Head(_s(payload), event_id, int(count) if count.isdigit() else 0, int(since) if since.isdigit() else 0)

    async def settle(
        self,
        outbox: Outbox,
        *,
        token: str,
        outcome: str,
        event_id: str = "",
        now: int,
        retry_at: int = 0,
        failed: int = 0,
        first_failed_ms: int = 0,
        entry: str = "",
        log_cap: int = 200,
    ) -> str:
        """What became of the head's delivery (webhook_settle-5.lua): the outcome, or 'stale' when the lease ran
        out meanwhile (the delivery log entry is written either way)."""
        k = self.keys
        keys = [
            k.webhooks_due,
            k.webhooks_leases,
            k.webhooks_attempts,
            k.webhook_outbox(outbox.subscription, outbox.conversation),
            k.webhook_log(outbox.subscription),
        ]
        record = f"{event_id} {failed} {first_failed_ms}"  # the attempts so far at the head (webhook_settle-5.lua)
        args: list[Any] = [outbox.member, token, outcome, event_id, now, retry_at, record]
        return _s(await self._settle(keys, [*args, entry, log_cap]))

    async def due_count(self) -> int:
        """How many outboxes hold something to deliver (due now, later, or leased): the backlog, for /metrics."""
        return int(await self._redis.zcard(self.keys.webhooks_due))

    async def leases(self) -> dict[str, str]:
        """Outboxes leased now -> the lease's token: for tests and diagnostics."""
        return {_s(k): _s(v) for k, v in (await self._redis.hgetall(self.keys.webhooks_leases)).items()}

    async def due(self) -> dict[str, float]:
        """Every outbox with something to deliver -> when (ms): for tests and diagnostics."""
        rows: list[Any] = await self._redis.zrange(self.keys.webhooks_due, 0, -1, withscores=True)
        return {_s(row[0]): float(row[1]) for row in rows}
