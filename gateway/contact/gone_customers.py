"""Customers who left a chat waiting: it is closed as abandoned.

A customer who closes the page while their chat waits for an agent says nothing; their widget's socket just closes.
Left alone, the chat waited on, the next free agent got it and wrote to nobody, and reports counted it as handled
with its whole wait (a reports auditor saw ASA 51.9 s for a true 12.3 s, and 1 abandoned chat of 3).

So every ``SWEEP_SECONDS`` one node (the holder of a lock, renewed while it lives; each close is one atomic script
anyway, so two nodes sweeping at once would act once) checks the chats waiting in the routing queue against their
customer's presence (gateway/contact/customer_presence.py), on Redis's clock (the one presence is written in):
one whose customer has had no widget open for ``--customer-gone-seconds`` is closed with disposition ``abandoned``
(reports count it abandoned, with its wait up to when the customer left, not to when the gateway noticed). A page reload, a move to another page of the site or a network blip
keeps the chat and its place: the clock starts when the last widget closed and stops as soon as one opens.

Left alone: a conversation waiting with a call in progress (the caller hanging up is its abandonment), one waiting as
a booked callback (the customer expects a call, not to keep a page open), test runs (they end with their socket), and
one whose customer has no presence on record at all: written by no node (one of a version before this, during a
rolling upgrade; data from before it), their absence is unknown, not proven.

Redis keeps when a node last saw each customer: while Redis is down, or the only node restarts, nobody refreshes it,
and when it is back every customer looks gone since then. So the times alone never decide: this node must also have
seen the customer without a widget itself, sweep after sweep, for ``CONFIRM_SECONDS`` (longer than a node's presence
heartbeat and a widget's reconnection), counting again from zero after a sweep that could not read Redis and after
its own start. Just before a close the customer's presence is read once more.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.contact.customer_presence import FAILED, HEARTBEAT_SECONDS
from gateway.store.customer_presence_store import CustomerPresenceStore
from gateway.store.store import Store
from gateway.tasks import Every

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15.0
CONFIRM_SECONDS = 30.0
STALE_MS = int(2.5 * HEARTBEAT_SECONDS * 1000)  # no refresh for this long: no widget open (two heartbeats missed)
MAX_WAITING = 10_000  # conversations read per sweep, first in line first
REASON = "customer_gone"


class Abandon(Protocol):
    """Conversations.abandon: close a conversation nobody is behind; its wait counted to ``away_ms`` ago (a length:
    presence is on Redis's clock, a conversation's times on its node's)."""

    async def __call__(self, cid: str, agent_id: str, reason: str, *, away_ms: int = 0) -> bool: ...


Clock = Callable[[], Awaitable[int]]  # now (ms)


@dataclass(frozen=True, slots=True)
class Waiter:
    """A chat waiting in the routing queue, and its customer."""

    cid: str
    customer_id: str


class GoneCustomers:
    def __init__(
        self,
        store: Store,
        abandon: Abandon,
        routing_queue: str,
        *,
        gone_seconds: float,
        sweep_seconds: float = SWEEP_SECONDS,
        confirm_seconds: float = CONFIRM_SECONDS,
        clock: Clock | None = None,
    ):
        self.store = store
        self.db = CustomerPresenceStore(store)
        self.abandon = abandon  # Conversations.abandon
        self.routing_queue = routing_queue
        self.gone_ms = int(gone_seconds * 1000)  # 0: a waiting chat waits whether its customer is there or not
        self.confirm_ms = min(self.gone_ms, int(confirm_seconds * 1000))
        # a few sweeps per limit: closed within a quarter of it after it passed
        self.sweep_seconds = min(sweep_seconds, gone_seconds / 4) if gone_seconds else sweep_seconds
        self.clock: Clock = clock or self.db.now  # Redis's clock: the one presence is written in
        self.owner = secrets.token_hex(8)  # this sweeper, as the sweep's lock names it
        self._absent: dict[str, int] = {}  # customer id -> since when this node has seen them without a widget
        self._every = Every(self.sweep_seconds, self.round, "gone-customers sweep", log, expected=FAILED)

    async def start(self) -> None:
        if self.gone_ms:
            await self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def round(self) -> list[str]:
        """One round of the node's sweep: only by the node holding the lock (one node reads the queue, not all)."""
        if not await self.db.take_sweep(self.owner, int(self.sweep_seconds * 2000)):
            self._absent.clear()  # another node sweeps: what this one saw grows stale
            return []
        return await self.sweep()

    async def sweep(self) -> list[str]:
        """Close every waiting chat whose customer left (above): the conversations closed. A StoreError (Redis down)
        forgets every absence seen so far: what was seen before says nothing of after (the docstring)."""
        try:
            return await self._sweep()
        except FAILED:
            self._absent.clear()
            raise

    async def waiters(self) -> list[Waiter]:
        """The chats waiting in the routing queue that a customer's absence may close (the module's docstring)."""
        rows = await self.store.waiting(self.routing_queue, MAX_WAITING)
        fields = await self.store.conversation_fields(
            [cid for cid, _ in rows], "state", "customer_id", "callback_id", "calls", "calls_ended"
        )
        out = []
        for (cid, _), (state, customer, callback, calls, ended) in zip(rows, fields, strict=True):
            if state != "queued" or not customer or customer.startswith("test_") or callback:
                continue
            if int(calls or 0) > int(ended or 0):  # a call in progress: the caller is there (or hangs up)
                continue
            out.append(Waiter(cid, customer))
        return out

    async def _sweep(self) -> list[str]:
        if not self.gone_ms:
            return []
        now = await self.clock()
        waiters = await self.waiters()
        customers = sorted({w.customer_id for w in waiters})
        seen = dict(zip(customers, await self.db.last_seen(customers), strict=True))
        absent = {c for c in customers if seen[c] is not None and now - (seen[c] or 0) >= STALE_MS}
        for c in list(self._absent):
            if c not in absent:
                del self._absent[c]  # back, or no chat waiting any more
        for c in absent:
            self._absent.setdefault(c, now)
        closed = []
        for w in waiters:
            last = seen[w.customer_id]
            if w.customer_id not in absent or last is None:
                continue
            if now - last < self.gone_ms or now - self._absent[w.customer_id] < self.confirm_ms:
                continue
            if await self._close(w, now):
                closed.append(w.cid)
        return closed

    async def _close(self, w: Waiter, now: int) -> bool:
        (last,) = await self.db.last_seen([w.customer_id])  # a widget of theirs opened just now
        away = await self.clock() - last if last is not None else 0  # (a length: presence's clock, not the node's)
        if last is None or away < self.gone_ms:
            return False
        if not await self.abandon(w.cid, "", REASON, away_ms=away):  # assigned, closed or left the queue meanwhile
            return False
        log.info(
            "the customer has had no widget open for %d s (the limit is %d s): their waiting chat closed as abandoned",
            (now - last) // 1000,
            self.gone_ms // 1000,
            extra={"conversation_id": w.cid, "customer_id": w.customer_id},
        )
        return True
