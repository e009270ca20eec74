"""What ``/metrics`` reads when it is scraped, and the node's own health: live calls, queues, the event loop.

:class:`NodeMetrics` owns the scrape side of the node's :class:`~gateway.metrics.Metrics`:

- the process, platform and garbage-collector collectors of ``prometheus_client``, on the node's registry;
- a collector of what is live on this node, read when scraped (never counted up and down, so never wrong after
  a missed decrement): calls, calls in the IVR, bridged calls, agent legs by kind, the prompt players'
  frame counters (``late`` frames: sent more than 20 ms behind their time) and their relayed-packet counters
  (relayed, of those sent at once from the receive path, dropped);
- the queues and callbacks every node shares, read from Redis at most once a :data:`CACHE_SECONDS` (several
  scrapers, or a scrape storm, cost one read): waiting conversations and the oldest wait per queue, open
  callbacks by state, event webhook outboxes with something left to deliver. When Redis does not answer the scrape still succeeds, without those gauges, and
  ``contact_gateway_scrape_store_errors_total`` counts it;
- a sampler task (started and stopped with the node) that measures the event loop's lag (how late a sleep of
  :data:`SAMPLE_SECONDS` wakes up) and shares the process's CPU time equally among the live calls: the per-call
  CPU figure (gateway/metrics.py, ``call_cpu``). One process runs every call on one event loop plus codec and
  speech threads, so a call's own CPU cannot be measured apart; the equal share is exact for the total and fair
  between calls of one kind, and ``rate(process_cpu_seconds_total) / rate(contact_gateway_call_seconds_total)``
  gives the same figure over any range in PromQL. Each lag sample also goes to the node's admission
  (gateway/calls/admission.py): new calls are refused while the loop runs late.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import GCCollector, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.calls.admission import Admission
from gateway.calls.agent_calls import AgentCalls
from gateway.calls.manager import CallManager
from gateway.contact.callbacks import Callbacks
from gateway.metrics import PREFIX, Metrics
from gateway.protocol.states import CallStatus
from gateway.store.store import Store, StoreError
from gateway.store.webhook_store import WebhookStore
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 0.25  # the sampler's period: lag and CPU are measured this often
CACHE_SECONDS = 1.0  # the queues and callbacks are read from Redis at most this often
MAX_WAITING = 10_000  # waiting conversations read per scrape (beyond: the count is exact, the oldest too)


@dataclass
class SharedState:
    """The queues and callbacks as Redis held them at ``read_at`` (monotonic)."""

    read_at: float
    waiting: dict[str, int] = field(default_factory=dict)  # queue -> conversations waiting
    oldest_ms: dict[str, int] = field(default_factory=dict)  # queue -> when its longest-waiting one was queued
    callbacks: dict[str, int] = field(default_factory=dict)  # state -> open callbacks
    webhook_outboxes: int = 0  # event webhook outboxes holding something to deliver
    now_ms: int = 0


class _LiveCollector(Collector):
    """Reads this node's live objects and the last :class:`SharedState` whenever the registry is collected."""

    def __init__(self, owner: NodeMetrics) -> None:
        self.owner = owner

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration: these families are made fresh on every scrape

    def collect(self) -> Iterator[Metric]:
        o = self.owner
        calls = list(o.calls.calls.values())
        yield _gauge("calls_active", "Calls live on this node", len(calls))
        yield _gauge(
            "ivr_sessions_active", "Calls in the IVR (a flow running)", sum(c.status == CallStatus.IVR for c in calls)
        )
        yield _gauge("calls_bridged", "Calls bridged to an agent", sum(c.bridge is not None for c in calls))
        legs = GaugeMetricFamily(
            f"{PREFIX}_agent_legs", "Agent-side call legs live on this node, by kind", labels=["kind"]
        )
        handoffs = list(o.agent_calls.handoffs.values())
        legs.add_metric(["agent"], sum(h.leg is not None for h in handoffs))
        legs.add_metric(["monitor"], sum(len(h.monitors) for h in handoffs))
        legs.add_metric(["consult"], sum(h.consult is not None and h.consult.leg is not None for h in handoffs))
        yield legs
        frames = o.calls.frames.stats()
        for name, what in (
            ("frames_sent", "Prompt and audio frames sent to callers and agents"),
            ("late_frames", "Frames sent more than 20 ms behind their time"),
            ("skipped_frames", "Frames skipped to catch up after the sender fell behind"),
        ):
            yield CounterMetricFamily(f"{PREFIX}_prompt_{name}", what, value=frames.get(name, 0))
        for key, name, what in (
            ("relayed", "bridge_relayed_packets", "Opus packets relayed untouched between bridged legs"),
            (
                "relayed_at_once",
                "bridge_relayed_at_once",
                "Relayed packets sent from the receive path at once (the others waited for the leg's sender task)",
            ),
            ("relay_dropped", "bridge_relay_dropped", "Relayed packets dropped because the sending leg fell behind"),
        ):
            yield CounterMetricFamily(f"{PREFIX}_{name}", what, value=frames.get(key, 0))
        yield from _shared(o.shared, o.recorder, o.queues_seen)


def _gauge(name: str, what: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", what, value=value)


def _shared(state: SharedState | None, metrics: Metrics, seen: set[str]) -> Iterator[Metric]:
    """The shared gauges; a queue seen waiting once stays at 0 when empty (a series that vanishes reads as
    "unknown" in Prometheus, not as "nobody waits")."""
    if state is None:  # Redis did not answer this time
        return
    waiting = GaugeMetricFamily(
        f"{PREFIX}_queue_waiting", "Conversations waiting for an agent, by queue", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        f"{PREFIX}_queue_oldest_wait_seconds",
        "How long the longest-waiting conversation has waited, by queue",
        labels=["queue"],
    )
    by_label: dict[str, tuple[int, int]] = dict.fromkeys(seen, (0, state.now_ms))
    for queue, count in state.waiting.items():
        label = metrics.queue_label(queue)
        seen.add(label)
        had, first = by_label.get(label, (0, state.now_ms))
        by_label[label] = (had + count, min(first, state.oldest_ms[queue]))
    for label, (count, first) in sorted(by_label.items()):
        waiting.add_metric([label], count)
        oldest.add_metric([label], max(0, state.now_ms - first) / 1000)
    yield waiting
    yield oldest
    callbacks = GaugeMetricFamily(f"{PREFIX}_callbacks", "Open callbacks (every node's), by state", labels=["state"])
    for state_name, count in sorted(state.callbacks.items()):
        callbacks.add_metric([state_name], count)
    yield callbacks
    yield _gauge(
        "event_webhook_outbox_due",
        "Event webhook outboxes (a subscription and a conversation; every node's) holding events not delivered yet",
        state.webhook_outboxes,
    )


class NodeMetrics:
    """The node's metrics as ``/metrics`` serves them; :meth:`start` / :meth:`stop` run the sampler."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        store: Store,
        routing_queue: str,
        calls: CallManager,
        agent_calls: AgentCalls,
        callbacks: Callbacks,
        admission: Admission | None = None,
        sample_seconds: float = SAMPLE_SECONDS,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.recorder = metrics  # what the services record into
        self.store = store
        self.routing_queue = routing_queue
        self.calls = calls
        self.agent_calls = agent_calls
        self.callbacks = callbacks
        self.admission = admission  # fed each lag sample: it refuses calls while the loop runs late
        self.sample_seconds = sample_seconds
        self.cache_seconds = cache_seconds
        self.shared: SharedState | None = None
        self.queues_seen: set[str] = {metrics.queue_label("default")}  # reported at 0 when nobody waits
        self._reading: asyncio.Lock | None = None
        self._sampler: asyncio.Task[None] | None = None
        registry = metrics.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        registry.register(_LiveCollector(self))

    async def start(self) -> None:
        self._sampler = asyncio.create_task(self._sample(), name="metrics-sampler")
        self._sampler.add_done_callback(self._sampler_ended)

    async def stop(self) -> None:
        await cancel_and_wait(self._sampler)
        self._sampler = None

    def _sampler_ended(self, task: asyncio.Task[None]) -> None:
        """The sampler runs until the node stops it. If it fails, say so, and let admission forget its windows (a
        full node would stay full, with nothing left to tell it otherwise)."""
        if task.cancelled() or task.exception() is None:
            return
        log.error(
            "the metrics sampler failed: loop lag, late frames and loop CPU no longer reach admission or /metrics",
            exc_info=task.exception(),
        )
        if self.admission is not None:
            self.admission.serving()

    async def exposition(self) -> bytes:
        """The text a scrape gets (Prometheus text format 0.0.4), the shared state read first if it is stale."""
        await self.refresh()
        return generate_latest(self.recorder.registry)

    def as_last_read(self) -> bytes:
        """The same text with the shared state as last read (no Redis read: what a worker writes for its siblings
        every second, gateway/ops/worker_metrics.py)."""
        return generate_latest(self.recorder.registry)

    async def refresh(self, *, force: bool = False) -> None:
        """Read the queues and callbacks from Redis unless the last read is fresh (or ``force``); one at a time."""
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:
            last = self.shared
            if not force and last is not None and time.monotonic() - last.read_at < self.cache_seconds:
                return
            try:
                self.shared = await self.read_shared()
            except (StoreError, OSError) as exc:
                self.recorder.store_errors.inc()
                self.shared = None
                log.warning("metrics: queues and callbacks not read: %s: %s", type(exc).__name__, exc)

    async def read_shared(self) -> SharedState:
        rows = await self.store.waiting(self.routing_queue, MAX_WAITING)
        fields = await self.store.conversation_fields([cid for cid, _ in rows], "queue", "queued_at")
        state = SharedState(read_at=time.monotonic(), now_ms=int(time.time() * 1000))
        for (_, place), (queue, queued_at) in zip(rows, fields, strict=True):
            name = queue or "default"
            state.waiting[name] = state.waiting.get(name, 0) + 1
            since = int(queued_at) if queued_at else place
            state.oldest_ms[name] = min(state.oldest_ms.get(name, since), since)
        state.callbacks = await self.callbacks.db.counts()
        state.webhook_outboxes = await WebhookStore(self.store).due_count()
        return state

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        cpu = time.process_time()
        while True:
            began = loop.time()
            await asyncio.sleep(self.sample_seconds)
            woke = loop.time()
            lag = max(0.0, woke - began - self.sample_seconds)
            self.recorder.loop_lag.observe(lag)
            if self.admission is not None:
                self.admission.observe(lag)
                self.admission.observe_frames(*self.calls.frames.clocked_frames())
                # this task runs on the loop's thread: its thread_time is the loop's
                self.admission.observe_loop_cpu(woke, time.thread_time(), len(self.calls.calls))
            now_cpu = time.process_time()
            self.recorder.share_cpu(now_cpu - cpu, len(self.calls.calls), woke - began)
            cpu = now_cpu
