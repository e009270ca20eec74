"""Customer presence: whether a customer still has a widget open, on any node.

A customer's socket counts once it has a conversation (a page view that never wrote is not recorded). This node
keeps how many such sockets each customer has open here, and writes when it last saw each of them with one open into
``P:customers:seen``: at once when one opens, every ``HEARTBEAT_SECONDS`` while one is open, and when the last one
closes (the moment they left). A node that dies stops writing, so its customers look gone from their last heartbeat;
their widgets reconnect to another node within seconds (at most 15 s of backoff) and are seen again.

What reads it: the sweep that closes a waiting chat whose customer left (gateway/contact/gone_customers.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from gateway.contact.routing import now_ms
from gateway.store.customer_presence_store import CustomerPresenceStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Every

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0


class CustomerPresence:
    def __init__(
        self, store: Store, *, heartbeat_seconds: float = HEARTBEAT_SECONDS, clock: Callable[[], int] = now_ms
    ):
        self.db = CustomerPresenceStore(store)
        self.clock = clock
        self._open: Counter[str] = Counter()  # customer id -> their sockets with a conversation, on this node
        self._writes: set[asyncio.Task[None]] = set()  # an open's or a close's write in flight
        self._running = False  # between start and stop (a socket closing after the stop writes nothing)
        self._every = Every(heartbeat_seconds, self.heartbeat, "customer-presence heartbeat", log, (StoreError,))

    async def start(self) -> None:
        self._running = True
        await self._every.start()

    async def stop(self) -> None:
        self._running = False
        await self._every.stop()
        left = list(self._open)
        self._open.clear()
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        try:  # the node stops: its customers were here until now (their widgets reconnect elsewhere)
            await self.db.seen(left, self.clock())
        except StoreError as exc:
            log.warning("customer presence not written at stop: %s", exc)

    def opened(self, customer_id: str) -> None:
        """A socket of the customer's has a conversation now (once per socket)."""
        self._open[customer_id] += 1
        if self._open[customer_id] == 1:
            self._write(customer_id)

    def closed(self, customer_id: str) -> None:
        """A socket counted by :meth:`opened` closed."""
        n = self._open.get(customer_id, 0)
        if n == 0:
            return
        if n == 1:
            del self._open[customer_id]
            self._write(customer_id)  # the moment they left (if no other node has them: the sweep reads this)
        else:
            self._open[customer_id] -= 1

    def here(self, customer_id: str) -> bool:
        """A socket of the customer's with a conversation is open on this node."""
        return self._open[customer_id] > 0

    async def heartbeat(self) -> None:
        await self.db.seen(list(self._open), self.clock())

    def _write(self, customer_id: str) -> None:
        """Written in the background: a socket's open or close does not wait for Redis (the heartbeat repeats it)."""
        if not self._running:
            return
        task = asyncio.create_task(self._seen(customer_id), name="customer-presence write")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _seen(self, customer_id: str) -> None:
        try:
            await self.db.seen([customer_id], self.clock())
        except StoreError as exc:  # Redis down: the next heartbeat writes the open ones; a close reads as older
            log.info("customer presence not written: %s", exc, extra={"customer_id": customer_id})
