"""Customer presence: whether a customer still has a widget open, on any node.

A customer's socket counts once it follows a conversation that is not closed (a page view of someone who never
wrote, or whose last conversation is over, is not recorded). This node keeps how many such sockets each customer has
open here, and writes when it last saw each of them with one open into ``P:customers:seen``, by Redis's clock: within
``FLUSH_SECONDS`` when one opens or the last one closes (the moment they left), batched into one write, and every
``HEARTBEAT_SECONDS`` for all of them while one is open. A node that dies stops writing, so its customers look gone
from their last heartbeat; their widgets reconnect to another node within seconds (at most 15 s of backoff) and are
seen again.

What reads it: the sweep that closes a waiting chat whose customer left (gateway/contact/gone_customers.py).
"""

from __future__ import annotations

import logging
from collections import Counter

from gateway.store.customer_presence_store import CustomerPresenceStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Every

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
FLUSH_SECONDS = 0.5
FAILED = (StoreError, OSError, TimeoutError)  # Redis did not answer (what a store operation may raise)


class CustomerPresence:
    def __init__(
        self, store: Store, *, heartbeat_seconds: float = HEARTBEAT_SECONDS, flush_seconds: float = FLUSH_SECONDS
    ):
        self.db = CustomerPresenceStore(store)
        self._open: Counter[str] = Counter()  # customer id -> their counted sockets on this node
        self._changed: set[str] = set()  # customers whose first socket opened or last one closed, not written yet
        self._failing = False  # the last flush could not write (said once, not every half second)
        self._every = Every(heartbeat_seconds, self.heartbeat, "customer-presence heartbeat", log, FAILED)
        self._flush = Every(flush_seconds, self.flush, "customer-presence flush", log, FAILED)

    async def start(self) -> None:
        await self._every.start()
        await self._flush.start()

    async def stop(self) -> None:
        await self._flush.stop()
        await self._every.stop()
        left = sorted(set(self._open) | self._changed)
        self._open.clear()
        self._changed.clear()
        try:  # the node stops: its customers were here until now (their widgets reconnect elsewhere)
            if left:
                await self.db.seen_now(left)
        except FAILED as exc:
            log.warning("customer presence not written at stop: %s", exc)

    def opened(self, customer_id: str) -> None:
        """A socket of the customer's follows a conversation that is not closed (counted once per socket)."""
        self._open[customer_id] += 1
        if self._open[customer_id] == 1:
            self._changed.add(customer_id)

    def closed(self, customer_id: str) -> None:
        """A socket counted by :meth:`opened` closed."""
        n = self._open.get(customer_id, 0)
        if n == 0:
            return
        if n == 1:
            del self._open[customer_id]
            self._changed.add(customer_id)  # the moment they left (if no other node has them: the sweep reads it)
        else:
            self._open[customer_id] -= 1

    def here(self, customer_id: str) -> bool:
        """A counted socket of the customer's is open on this node."""
        return self._open[customer_id] > 0

    async def heartbeat(self) -> None:
        if self._open:
            await self.db.seen_now(list(self._open))

    async def flush(self) -> None:
        """Write the opens and last closes since the last flush, in one round trip; kept for the next when Redis
        does not answer (the heartbeat repeats the open ones anyway)."""
        if not self._changed:
            return
        ids = sorted(self._changed)
        self._changed.clear()
        try:
            await self.db.seen_now(ids)
        except FAILED as exc:
            self._changed.update(ids)
            if not self._failing:
                log.info("customer presence not written (tried again every %.1f s): %s", FLUSH_SECONDS, exc)
            self._failing = True
            return
        self._failing = False
