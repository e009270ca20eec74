"""What happens to a conversation that waited its queue's maximum (``max_wait_seconds``, ``on_max_wait``).

Once a second (any node; each move is one atomic script, so two nodes sweeping at once act once) the waiting
conversations are compared with their queue's maximum, counted from when they entered that queue:

- ``overflow``: it moves to the target queue keeping its place in line (a chat, or a caller who stays on hold and
  hears the new queue's announcements); the new queue's skills, priority and maximum apply from then on;
- ``callback``: a chat leaves the queue and a callback is booked as soon as an agent is free, at its place in line,
  with the queue's callback policy (the widget shows it; the customer may leave);
- ``flow``: a chat leaves the queue and the target flow runs as a bot in it (it may queue it again, book a
  callback, or end it).

A waiting *call* takes ``overflow`` only: a caller on hold is not sent a callback or a bot; they wait on (logged
once). A conversation waiting as a booked callback is left alone: the callback has its own attempts and expiry (and
one booked by this very rule would otherwise be booked anew at every maximum). An overflowed conversation leaves the
first queue's skills behind (the flow's or the queue's): the target queue's are what routing asks for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.contact.callbacks import Callbacks
from gateway.contact.queues import MaxWaitAction, Queue, QueueSettings
from gateway.contact.routing import now_ms
from gateway.protocol import bus
from gateway.store.node_store import NodeStore
from gateway.store.queue_store import QueueStore
from gateway.store.store import Store, StoreError
from gateway.tasks import Every

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0
CALLBACK_LABEL = "Call me back (waited too long)"

RunFlow = Callable[[str, str], Awaitable[bool]]  # (conversation id, flow name) -> started


@dataclass(frozen=True, slots=True)
class Overdue:
    cid: str
    queue: Queue
    since: int  # ms: when it entered this queue
    place: int  # ms: its place in line
    customer_id: str
    skills: str
    priority: int


class MaxWait:
    def __init__(
        self,
        store: Store,
        queues: QueueSettings,
        routing_queue: str,
        *,
        callbacks: Callbacks | None = None,
        run_flow: RunFlow | None = None,
        wake_router: Callable[[], None] = lambda: None,
        clock: Callable[[], int] = now_ms,
        sweep_seconds: float = SWEEP_SECONDS,
    ):
        self.store = store
        self.db = QueueStore(store)
        self.calls = NodeStore(store)
        self.queues = queues
        self.routing_queue = routing_queue
        self.callbacks = callbacks
        self.run_flow = run_flow
        self.wake_router = wake_router
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        self._told: set[str] = set()  # calls whose queue's action does not apply to calls (logged once)
        self._every = Every(sweep_seconds, self.sweep, "max-wait sweep", log, expected=(StoreError,))

    async def start(self) -> None:
        await self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def overdue(self, now: int) -> list[Overdue]:
        queues = {q.name: q for q in await self.queues.all() if q.max_wait_seconds and q.on_max_wait != "none"}
        if not queues:
            return []
        rows = await self.store.waiting(self.routing_queue, 1000)
        fields = await self.store.conversation_fields(
            [cid for cid, _ in rows],
            *("queue", "queued_at", "queue_since", "customer_id", "skills", "priority", "callback_id"),
        )
        out = []
        for (cid, place), row in zip(rows, fields, strict=True):
            name, queued_at, queue_since, customer, skills, prio, callback = row
            if callback:  # a booked callback waits (its own attempts and expiry): acting again would book it anew
                continue
            queue = queues.get(name or "")
            since = max(int(queued_at or 0), int(queue_since or 0))
            if queue is not None and since and now - since >= queue.max_wait_seconds * 1000:
                out.append(Overdue(cid, queue, since, place, customer or "", skills or "", int(prio or 0)))
        return out

    async def sweep(self) -> list[tuple[str, str]]:
        """Act on every overdue conversation; returns (conversation id, what was done) for those acted on."""
        now = self.clock()
        done = []
        for item in await self.overdue(now):
            on_call = any(
                e.get("conversation_id") == item.cid for _, e in await self.calls.calls_of_customer(item.customer_id)
            )
            action = item.queue.on_max_wait
            if on_call and action != MaxWaitAction.OVERFLOW:
                if item.cid not in self._told:
                    self._told.add(item.cid)
                    log.info(
                        "queue %s: a caller waited the maximum; %s is for chats, the caller waits on",
                        item.queue.name,
                        action,
                        extra={"conversation_id": item.cid},
                    )
                continue
            result = await self._act(item, now)
            if result:
                done.append((item.cid, result))
        if done:
            self.wake_router()
            await self.store.publish(self.store.keys.queue_channel, bus.QueueChanged())
        return done

    async def _act(self, item: Overdue, now: int) -> str:
        queue, reason = item.queue, f"max_wait_{item.queue.on_max_wait}"
        if queue.on_max_wait == MaxWaitAction.OVERFLOW:
            target = queue.on_max_wait_target
            moved = await self.db.move(
                item.cid,
                self.routing_queue,
                from_queue=queue.name,
                to_queue=target,
                skills="",  # the target queue's skills apply from now (routing's rules): not this queue's too
                priority=item.priority,
                now=now,
                reason=reason,
            )
            if moved == "ok":
                log.info(
                    "waited %d s in %s: overflow to %s",
                    (now - item.since) // 1000,
                    queue.name,
                    target,
                    extra={"conversation_id": item.cid},
                )
                return f"overflow:{target}"
            return ""
        if queue.on_max_wait == MaxWaitAction.CALLBACK and self.callbacks is None:
            return ""
        if queue.on_max_wait == MaxWaitAction.FLOW and self.run_flow is None:
            return ""
        left = await self.db.leave(item.cid, self.routing_queue, from_queue=queue.name, now=now, reason=reason)
        if left != "ok":  # another node took it, or it was assigned meanwhile
            return ""
        if queue.on_max_wait == MaxWaitAction.CALLBACK:
            assert self.callbacks is not None
            policy = queue.callback
            await self.callbacks.request(
                item.cid,
                queue=queue.name,
                due=None,
                label=CALLBACK_LABEL,
                priority=item.priority,
                skills=item.skills,
                attempts=policy.attempts,
                retry_after=policy.spacing_seconds,
                expire_after=policy.expiry_hours * 3600,
                place_ms=item.place,
            )
            log.info("waited the maximum in %s: callback booked", queue.name, extra={"conversation_id": item.cid})
            return "callback"
        assert self.run_flow is not None
        if not await self.run_flow(item.cid, queue.on_max_wait_target):
            log.warning(
                "flow %s did not start; the conversation goes back to %s",
                queue.on_max_wait_target,
                queue.name,
                extra={"conversation_id": item.cid},
            )
            await self.store.enqueue(
                item.cid, self.routing_queue, queue.name, now=item.place, skills=item.skills, priority=item.priority
            )
            return ""
        return f"flow:{queue.on_max_wait_target}"
