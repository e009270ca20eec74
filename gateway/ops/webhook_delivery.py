"""Event webhooks on the way out: at least once, in order per conversation, shared by every node, none twice at once.

Two jobs run on every node (:class:`WebhookDelivery`, started and stopped by the runtime):

1. **Fan-out** (one node at a time, the holder of ``P:webhooks:fanout``): reads the event log (the Redis stream
   every timeline append writes, gateway/store/event_log_store.py) in the consumer group ``webhooks`` under its
   node id, turns each entry into the payload of every enabled subscription that wants it
   (gateway/ops/webhooks.py; none for an admin's test run, a ``t_`` conversation), and in one script step appends each payload to that subscription's **outbox for the
   conversation** (``P:webhook:SUB:conv:CID``, a list), marks the outbox due, and acknowledges the entries
   (``webhook_fanout-4.lua``; an outbox over ``--webhook-outbox-max`` loses its oldest payloads, logged and
   counted in ``contact_gateway_event_webhook_dropped_total``: a receiver down for days costs bounded memory).
   The step runs only for the lock's holder and only for a batch that is every entry of
   the group still pending up to its newest one: a node that read entries and then died (or stalled past the
   lock's expiry) leaves them pending, and the next holder first claims them (XAUTOCLAIM) and copies them before
   anything newer, so outboxes get their payloads in log order. With no subscription at all the holder moves the
   group to the end of the log without reading it (``webhook_skip-3.lua``, the check and the move in one step).
   Copying is cheap (one script per batch of up to :data:`READ_COUNT` entries), so it is paced like the rollups'
   consumer: once caught up (a batch short of :data:`READ_COUNT`) the holder waits :data:`PACE_SECONDS` before
   reading again, so a steady flow of events is copied by the batch, not one by one, and no payload waits longer
   than that pace for its copy; it reads its own pending entries (one round trip more) only when it may hold some
   (at the start, after a claim, after a step that failed or found a gap, after a full batch: a claim can leave
   more than one batch pending). Pacing changes nothing about order or
   loss: the lock (:data:`LOCK_MS`, longer than the pace) and the step's checks are the same. The slow part, HTTP,
   is shared:
2. **Delivery** (every node): leases due outboxes (``webhook_claim-2.lua``: the outbox's score in ``P:webhooks:due``
   moves to the lease's end, its token is recorded) and posts each one's **head**, signed, with the event log id as
   idempotency key (``X-Gateway-Event-Id``). Only the head of an outbox is ever in flight, so one conversation's
   events arrive in order, and a failing one holds back only its own conversation's later events for that
   subscription. ``webhook_settle-5.lua`` records the outcome under the lease: a 2xx pops the head (the next is due
   at once); a failure keeps it, due again after an exponential backoff with jitter (:func:`backoff`), until
   ``--webhook-retry-hours`` have passed since its first failed attempt (or ``--webhook-attempts`` failed, when
   set), when it is given up (logged, counted in ``contact_gateway_event_webhook_gave_up_total``) and the next one
   goes. The last retry is made when that time is up, not a backoff after it. Every attempt is written to the
   subscription's delivery log (``P:webhook:SUB:log``, capped).

A node that dies mid-delivery holds leases that run out after :data:`LEASE_SECONDS` (longer than a request may
take); the outbox falls due again and another node posts the same head again: the receiver may see an event twice
(at least once), with the same ``X-Gateway-Event-Id``. A dead node's late settle is refused (``stale``). A node that
stops cleanly releases its leases (due at once, no attempt counted). Time is an input (``clock``), randomness too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiohttp

from gateway import __version__
from gateway.contact.conversations import is_test_conversation
from gateway.flows.webhooks import failure_text, guarded_session, refused_in
from gateway.metrics import Metrics
from gateway.ops.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    SUBSCRIPTION_HEADER,
    Subscription,
    occurred_at,
    payload,
    signature,
    url_origin,
    webhook_event,
)
from gateway.store.event_log_store import EventLogStore
from gateway.store.store import Store, StoreError
from gateway.store.webhook_store import Outbox, WebhookStore
from gateway.tasks import Tasks, cancel_and_wait

log = logging.getLogger(__name__)

GROUP = "webhooks"
LOCK_MS = 10_000  # the fan-out lock: renewed every batch (a read blocks at most READ_BLOCK_MS)
READ_BLOCK_MS = 1_000
READ_COUNT = 100
PACE_SECONDS = 0.25  # a fan-out that caught up (a batch short of READ_COUNT) waits this long before reading again
IDLE_CONSUMER_MS = 3_600_000  # a consumer (node) with nothing pending, unseen for an hour, leaves the group
LEASE_SECONDS = 30.0  # > REQUEST_SECONDS: a live node's lease never runs out under it
REQUEST_SECONDS = 10.0
BASE_BACKOFF_SECONDS = 1.0
POLL_SECONDS = 0.5  # how often a node looks for outboxes other nodes filled or retries that fell due
CONCURRENCY = 16  # requests in flight per node
LOG_CAP = 200  # delivery log entries kept per subscription
MAX_RESPONSE_READ = 64 * 1024
ERROR_PAUSE_SECONDS = 1.0


def backoff(failed: int, max_seconds: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds before attempt ``failed + 1``: 1, 2, 4, ... s capped at ``max_seconds``, each drawn from its upper
    half ("equal jitter": never less than half, so retries still spread out and still back off)."""
    ceiling = min(max_seconds, BASE_BACKOFF_SECONDS * 2 ** max(0, failed - 1))
    return ceiling / 2 + rand() * ceiling / 2


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt: the status (None: no answer), the error ('' for a 2xx), how long it took."""

    status: int | None
    error: str
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookDelivery:
    def __init__(
        self,
        store: Store,
        *,
        node_id: str,
        allow: Iterable[str] = (),
        retry_seconds: float = 72 * 3600.0,
        attempts: int = 0,
        max_backoff_seconds: float = 300.0,
        outbox_max: int = 1000,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        lease_seconds: float = LEASE_SECONDS,
        request_seconds: float = REQUEST_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        concurrency: int = CONCURRENCY,
        pace_seconds: float = PACE_SECONDS,
    ):
        self.db = WebhookStore(store)
        self.events = EventLogStore.of(store)
        self.node_id = node_id
        self.allow = tuple(allow)
        self.retry_ms = int(retry_seconds * 1000)  # how long a head is retried after its first failure
        self.attempts = attempts  # 0: no limit on the count
        self.max_backoff_seconds = max_backoff_seconds
        self.outbox_max = outbox_max
        self.metrics = metrics
        self.clock = clock
        self.rand = rand
        self.lease_seconds = lease_seconds
        self.request_seconds = request_seconds
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.pace_seconds = pace_seconds
        self.copied = 0  # fan-out batches this node copied (each one script step, whatever it held)
        self._short = True  # the last batch read was short of READ_COUNT: caught up with the log
        self._maybe_pending = True  # the group may hold entries this node read and did not copy: read those first
        self.token = f"{node_id}/{secrets.token_hex(4)}"  # this process's fan-out lock and leases
        self.tasks = Tasks("webhook", log)
        self.in_flight: set[Outbox] = set()
        self._cut_short: set[Outbox] = set()  # leased, their delivery cancelled by stop(): released there
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def start(self) -> None:
        await self.events.ensure_group(GROUP, start="$")  # from now on: a new installation posts no history
        self._http = guarded_session(allow=self.allow)
        self._loops = [
            asyncio.create_task(self._fan_out_loop(), name="webhook-fanout"),
            asyncio.create_task(self._deliver_loop(), name="webhook-delivery"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(*self._loops)
        self._loops = []
        await self.tasks.close()
        leased, self._cut_short = sorted(self._cut_short | self.in_flight, key=lambda o: o.member), set()
        try:
            for outbox in leased:  # cut short by the stop: due again at once, for any node, no attempt counted
                await self.db.settle(outbox, token=self.token, outcome="release", now=self.now_ms())
            await self.db.release_fanout_lock(self.token)
        except StoreError as exc:
            log.warning("webhook leases not released (they run out by themselves): %s", exc)
        finally:
            if self._http is not None:
                await self._http.close()
                self._http = None

    # ---------------------------------------------------------------- fan-out

    async def _ensure_group(self) -> None:
        try:
            await self.events.ensure_group(GROUP, start="$")
        except StoreError as exc:
            log.warning("webhook consumer group not created: %s", exc)

    async def _fan_out_loop(self) -> None:
        while True:
            try:
                if not await self.fan_out_once():
                    await asyncio.sleep(self.poll_seconds * 2)  # another node copies
                elif self._short and self.pace_seconds > 0:
                    await asyncio.sleep(self.pace_seconds)  # caught up: let the next batch gather
            except StoreError as exc:  # Redis down or restarting: try again shortly (no traceback)
                log.warning("webhook fan-out paused: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                if "NOGROUP" in str(exc):  # a Redis that came back empty: the group starts again from now
                    await self._ensure_group()
            except Exception:  # noqa: BLE001 - a bug: logged with its traceback; the loop must go on
                log.exception("webhook fan-out failed")
                await asyncio.sleep(ERROR_PAUSE_SECONDS)

    async def fan_out_once(self) -> bool:
        """Copy one batch from the event log to the outboxes if this node holds (or takes) the lock; whether it does."""
        held = await self.db.take_fanout_lock(self.token, LOCK_MS)
        if not held:
            return False
        if held == "taken":
            await self._claim_pending()
        if await self.db.skip_unsubscribed(self.token, GROUP):  # nobody subscribed: no event is read back
            self._short = False  # (no pace: the skip waited)
            await asyncio.sleep(READ_BLOCK_MS / 1000)  # as long as a read finding nothing would block
            return True
        try:
            batch = await self.events.read(
                GROUP, self.node_id, count=READ_COUNT, block_ms=READ_BLOCK_MS, pending=self._maybe_pending
            )
        except BaseException:  # Redis may have handed out entries whose reply was lost: they are pending now
            self._maybe_pending = True
            raise
        self._short = len(batch) < READ_COUNT
        self._maybe_pending = bool(batch)  # until the step below acknowledged them (it may fail, or find a gap)
        subs = [Subscription.loads(doc) for doc in (await self.db.subscriptions()).values()] if batch else []
        deliveries: list[tuple[Outbox, str]] = []
        for event in batch:
            if is_test_conversation(event.cid):
                continue  # an admin's test run of a flow (gateway/flows/test_runs.py) is nobody's business outside
            kind = webhook_event(event.type, event.data)
            targets = [sub for sub in subs if sub.wants(kind, event.ts)] if kind is not None else []
            if kind is not None and targets:
                body = payload(event, kind)
                deliveries += [(Outbox(sub.id, event.cid), body) for sub in targets]
        result, dropped = await self.db.fan_out(
            self.token,
            GROUP,
            now=self.now_ms(),
            lock_ms=LOCK_MS,
            ids=[e.id for e in batch],
            deliveries=deliveries,
            outbox_max=self.outbox_max,
        )
        if result == "ok":  # acknowledged; a full batch may have been a page of more pending entries (after a claim)
            self._maybe_pending = not self._short
            self.copied += 1
        if dropped:
            log.warning(
                "webhook fan-out: %d waiting payloads dropped: their outboxes held %d already (receiver down?)",
                dropped,
                self.outbox_max,
            )
            if self.metrics is not None:
                self.metrics.event_webhook_dropped.inc(dropped)
        if result == "gap":  # entries another node read are still pending: make them ours, copy them first
            log.info("webhook fan-out: older entries pending elsewhere; claiming them")
            await self._claim_pending()
            self._short = False  # the claimed entries are read at once, not after the pace
        elif result == "lost":
            log.info("webhook fan-out: the lock passed to another node mid-batch; it copies the batch")
            return False
        if deliveries:
            self._wake.set()
        return True

    async def _claim_pending(self) -> None:
        self._maybe_pending = True  # whatever is claimed (and anything read before) is read first
        claimed = await self.db.claim_pending(GROUP, self.node_id)
        if claimed:
            log.info("webhook fan-out: claimed %d event log entries another node had read but not copied", claimed)
        await self.events.forget_idle_consumers(GROUP, self.node_id, IDLE_CONSUMER_MS)

    # ---------------------------------------------------------------- delivery

    async def _deliver_loop(self) -> None:
        while True:
            try:
                await self.deliver_due()
            except StoreError as exc:
                log.warning("webhook delivery paused: %s: %s", type(exc).__name__, exc)
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
            except Exception:  # noqa: BLE001 - a bug: logged with its traceback; the loop must go on
                log.exception("webhook delivery failed")
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Lease the outboxes that are due, as many as there are free slots, and start their deliveries."""
        free = self.concurrency - len(self.in_flight)
        if free <= 0:
            return 0
        now = self.now_ms()
        leased = await self.db.claim(
            now=now, lease_until=now + int(self.lease_seconds * 1000), limit=free, token=self.token
        )
        for outbox in leased:
            self.in_flight.add(outbox)
            self.tasks.spawn(self._deliver(outbox), outbox.member.replace(" ", "/"))
        return len(leased)

    async def _deliver(self, outbox: Outbox) -> None:
        try:
            await self.deliver_head(outbox)
        except StoreError as exc:  # the lease runs out and the outbox falls due again
            log.warning("webhook delivery of %s not recorded: %s", outbox.member, exc)
        except asyncio.CancelledError:
            self._cut_short.add(outbox)
            raise
        finally:
            self.in_flight.discard(outbox)
            self._wake.set()

    async def deliver_head(self, outbox: Outbox) -> str:
        """Post the leased outbox's head once and record how it went; the outcome ('delivered', 'retry',
        'gave_up', 'drop', or 'stale' when the lease ran out meanwhile)."""
        doc = await self.db.subscription(outbox.subscription)
        sub = Subscription.loads(doc) if doc is not None else None
        if sub is None or not sub.enabled:
            why = "deleted" if sub is None else "disabled"
            log.info("webhook outbox %s dropped: subscription %s", outbox.member, why)
            return await self.db.settle(outbox, token=self.token, outcome="drop", now=self.now_ms())
        head = await self.db.head(outbox)
        if head is None:
            return await self.db.settle(outbox, token=self.token, outcome="delivered", now=self.now_ms())
        body = json.loads(head.payload)
        event_id = str(body["id"])
        same = head.failed_event == event_id
        failed = head.failed if same else 0
        attempt = await self.post(sub, head.payload.encode(), event_id, str(body["type"]))
        number = failed + 1
        now = self.now_ms()
        first_failed = head.first_failed_ms if same and failed and head.first_failed_ms else now
        give_up_at = first_failed + self.retry_ms
        if attempt.delivered:
            outcome = "delivered"
        elif now >= give_up_at or (self.attempts and number >= self.attempts):
            outcome = "gave_up"
            log.warning(
                "webhook %s gave up on event %s after %d attempts in %.1f h: %s",
                sub.id,
                event_id,
                number,
                (now - first_failed) / 3_600_000,
                attempt.error,
                extra={"conversation_id": outbox.conversation},
            )
            if self.metrics is not None:
                self.metrics.event_webhook_gave_up.inc()
        else:
            outcome = "retry"
        if self.metrics is not None:
            self.metrics.event_webhook_deliveries.labels(outcome).inc()
        entry = {
            "time": occurred_at(now),
            "event_id": event_id,
            "event": body["type"],
            "conversation_id": outbox.conversation,
            "attempt": number,
            "status": attempt.status,
            "latency_ms": attempt.latency_ms,
            "error": attempt.error or None,
            "outcome": outcome,
            "node": self.node_id,
        }
        retry_at = min(now + int(backoff(number, self.max_backoff_seconds, self.rand) * 1000), give_up_at)
        result = await self.db.settle(
            outbox,
            token=self.token,
            outcome=outcome,
            event_id=event_id,
            now=now,
            retry_at=retry_at,
            failed=number,
            first_failed_ms=first_failed,
            entry=json.dumps(entry, separators=(",", ":")),
            log_cap=LOG_CAP,
        )
        if result == "stale":
            log.warning("webhook %s: the lease on %s ran out during the request", sub.id, outbox.member)
        return result

    async def post(self, sub: Subscription, body: bytes, event_id: str, event_type: str) -> Attempt:
        """One signed POST; any failure is an Attempt with an error, never an exception. Redirects are not followed."""
        assert self._http is not None, "start() first"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"contact-gateway-webhooks/{__version__}",
            EVENT_ID_HEADER: event_id,
            EVENT_TYPE_HEADER: event_type,
            SUBSCRIPTION_HEADER: sub.id,
            SIGNATURE_HEADER: signature(sub.secret, int(self.clock()), body),
        }
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with self._http.post(
                sub.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.request_seconds),
                allow_redirects=False,
            ) as response:
                await response.content.read(MAX_RESPONSE_READ)
                status = response.status
                if 200 <= status < 300:
                    return Attempt(status, "", took())
                if 300 <= status < 400:
                    where = url_origin(response.headers.get("Location", "")[:2048])  # supervisors read the log
                    return Attempt(status, f"redirect to {where!r} not followed", took())
                return Attempt(status, f"HTTP {status}", took())
        except TimeoutError:
            return Attempt(None, "timeout", took())
        except aiohttp.ClientError as exc:
            refused = refused_in(exc)
            if refused is not None:
                return Attempt(None, refused.message, took())
            return Attempt(None, failure_text(exc), took())
