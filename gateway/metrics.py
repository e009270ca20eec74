"""The node's Prometheus metrics: every metric defined once, on the node's own registry, and recorded at the seams.

One :class:`Metrics` per node (the runtime builds it and passes it to the services that record into it); its
:class:`~prometheus_client.CollectorRegistry` is the node's own, never the process-wide default one (tests run
several nodes in one process). It lives in the base layer so that every layer may record into it without
importing ``ops/``; what is read at scrape time (live calls, queues in Redis, the event loop's lag) is collected
by ``gateway/ops/metrics.py``, and ``/metrics`` serves it (``gateway/wire/metrics_route.py``).

Names follow Prometheus' conventions: the ``contact_gateway_`` prefix, base units (seconds), ``_total`` for
counters. Labels are few and bounded (queue, kind, reason, outcome, author, channel): never a customer,
conversation, agent or call id. A label value is whatever the code or the operator's flows name (an end reason,
a queue); :class:`Bounded` turns anything that does not look like such a name, and any value past the first
:data:`MAX_LABEL_VALUES` of a label, into ``other``, so a bug or a hostile flow cannot blow up the series count.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from gateway import __version__

PREFIX = "contact_gateway"
MAX_LABEL_VALUES = 50  # distinct values one label may take on a node; later ones are counted as "other"
OTHER = "other"
#: How a flow webhook request can fail (gateway/flows/webhooks.py).
WEBHOOK_ERRORS = ("timeout", "refused", "connection", "redirect", "bad_response", "bad_request", "http_4xx", "http_5xx")

# a name a person chose (a queue, a flow's hang-up reason), not a generated id such as c_3f9a0b1c2d3e4f50
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,47}")
_ID_LIKE = re.compile(
    r"(?:^|[_-])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}$"  # a hex token (c_..., cb_..., u_..., a call id)
    r"|(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{16,}"  # a random url-safe token (s_...)
)


class Bounded:
    """The values one label may take: a name as it is, an id-like or odd value as ``other``, at most
    :data:`MAX_LABEL_VALUES` distinct ones (then ``other``). Thread-safe (speech decodes finish in workers)."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if not _NAME.fullmatch(value) or _ID_LIKE.search(value):
            return OTHER
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(value)
        return value


def looks_like_id(value: str) -> bool:
    """A label value that would name one customer, conversation, call or session (what no label may hold)."""
    return bool(_ID_LIKE.search(value))


class Metrics:
    """The metrics the services record into, on the node's registry. Recording is a counter bump or a histogram
    observation: cheap enough for every message and every call."""

    def __init__(self, node: str = "", registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._reason, self._queue, self._outcome, self._kind = Bounded(), Bounded(), Bounded(), Bounded()
        self._cpu_lock = threading.Lock()
        self._cpu_per_call = 0.0  # CPU seconds each live call was given so far, summed over the samples

        self.node_info = Info(f"{PREFIX}_node", "This node: its id and the gateway's version", registry=r)
        self.node_info.info({"node": node or "unnamed", "version": __version__})

        # calls (gateway/calls/manager.py); the live gauges are read at scrape time (gateway/ops/metrics.py)
        self.calls_offered = Counter(
            f"{PREFIX}_calls_offered", "Calls from the widget this node answered (an SDP answer given)", registry=r
        )
        self.calls_refused = Counter(
            f"{PREFIX}_calls_refused",
            "Calls refused before they started (lines busy, the caller's call limit), by reason",
            ["reason"],
            registry=r,
        )
        self.calls_ended = Counter(f"{PREFIX}_calls_ended", "Calls ended, by reason", ["reason"], registry=r)
        self.call_duration = Histogram(
            f"{PREFIX}_call_duration_seconds",
            "Length of ended calls, from the answer to the end",
            buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600),
            registry=r,
        )
        self.call_cpu = Histogram(
            f"{PREFIX}_call_cpu_seconds_per_second",
            "Process CPU seconds per second of call, per ended call: the process's CPU time while it lasted, shared "
            "equally by the calls live at each moment",
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
            registry=r,
        )
        self.call_seconds = Counter(
            f"{PREFIX}_call_seconds",
            "Seconds of calls on this node (live calls times time); rate(process_cpu_seconds_total) / "
            "rate(this) is CPU per call-second",
            registry=r,
        )

        # chat (gateway/wire/connection.py, gateway/contact/conversations.py)
        self.sockets_open = Gauge(
            f"{PREFIX}_sockets_open", "Open customer and agent WebSockets on this node", ["kind"], registry=r
        )
        for kind in ("customer", "agent"):
            self.sockets_open.labels(kind)
        self.messages = Counter(
            f"{PREFIX}_messages", "Messages stored, by author kind and channel", ["author", "channel"], registry=r
        )
        self._message_counters: dict[tuple[str, str], Counter] = {}  # (author, channel) as given: its child

        # routing and callbacks (gateway/contact/routing.py, callbacks.py)
        self.assignments = Counter(
            f"{PREFIX}_routing_assignments",
            "Conversations routing assigned to an agent, by the conversation's queue",
            ["queue"],
            registry=r,
        )
        self.callbacks_booked = Counter(f"{PREFIX}_callbacks_booked", "Callbacks booked", registry=r)
        self.callbacks_finished = Counter(
            f"{PREFIX}_callbacks_finished",
            "Callback attempts finished on this node, by outcome (reached, no_answer, expired, cancelled, ...)",
            ["outcome"],
            registry=r,
        )

        # flows (gateway/flows/webhooks.py, call_speech.py)
        self.webhook_duration = Histogram(
            f"{PREFIX}_webhook_duration_seconds",
            "Flow webhook requests: time to the response's headers (or to the failure)",
            buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.webhook_errors = Counter(
            f"{PREFIX}_webhook_errors",
            "Flow webhook requests that failed, by kind (timeout, refused, connection, http_4xx, http_5xx, redirect)",
            ["kind"],
            registry=r,
        )
        # event webhooks (gateway/ops/webhook_delivery.py); their outbox backlog is read at scrape time
        self.event_webhook_deliveries = Counter(
            f"{PREFIX}_event_webhook_deliveries",
            "Event webhook delivery attempts this node made, by outcome (delivered, retry, gave_up)",
            ["outcome"],
            registry=r,
        )
        self.event_webhook_gave_up = Counter(
            f"{PREFIX}_event_webhook_gave_up",
            "Event webhook events given up after --webhook-retry-hours of failed attempts (never delivered)",
            registry=r,
        )
        self.event_webhook_dropped = Counter(
            f"{PREFIX}_event_webhook_dropped",
            "Event webhook payloads dropped before any attempt: their outbox held --webhook-outbox-max already",
            registry=r,
        )
        self.speech_decodes = Counter(
            f"{PREFIX}_speech_decodes",
            "Spoken answers decoded, by outcome (recognized, or why they did not match)",
            ["outcome"],
            registry=r,
        )
        self.speech_decode_seconds = Histogram(
            f"{PREFIX}_speech_decode_seconds",
            "From the end of the caller's speech to the recognizer's answer",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
            registry=r,
        )
        self.speech_server_open = Gauge(
            f"{PREFIX}_speech_server_breaker_open",
            "1 while the circuit breaker of a Wyoming speech server (kind asr or tts) is open or probing: the local engine "
            "answers without asking it",
            ["kind"],
            registry=r,
        )

        # recordings (gateway/calls/taps.py)
        self.recording_dropped = Counter(
            f"{PREFIX}_recording_dropped_seconds",
            "Seconds of recorded calls written as silence: the recorder's writer fell behind and its blocks were "
            "dropped (each recording's own figure is its timeline event's dropped_ms)",
            registry=r,
        )

        # the node itself (gateway/ops/metrics.py)
        self.loop_lag = Histogram(
            f"{PREFIX}_event_loop_lag_seconds",
            "How late the event loop woke a sleeping task (sampled several times a second)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.store_errors = Counter(
            f"{PREFIX}_scrape_store_errors",
            "Scrapes that could not read the queues or callbacks from Redis (those gauges were left out)",
            registry=r,
        )

        # the common label values start at 0: a rate over a series that appears only at its first event is wrong
        for metric, values in (
            (self.calls_refused, ("lines_busy", "call_limit")),
            (self.callbacks_finished, ("reached", "no_answer", "expired", "cancelled")),
            (self.webhook_errors, WEBHOOK_ERRORS),
            (self.event_webhook_deliveries, ("delivered", "retry", "gave_up")),
        ):
            for each in values:
                metric.labels(each)

    # ---------------------------------------------------------------- recording at the seams

    def call_refused(self, reason: str) -> None:
        self.calls_refused.labels(self._reason(reason)).inc()

    def call_ended(self, reason: str, seconds: float, cpu_mark: float) -> None:
        """A call ended after ``seconds``; ``cpu_mark`` is :meth:`cpu_mark` taken when it started."""
        self.calls_ended.labels(self._reason(reason)).inc()
        self.call_duration.observe(seconds)
        if seconds >= 1.0:  # shorter ones (refused, never connected) say nothing about a call's cost
            self.call_cpu.observe((self.cpu_mark() - cpu_mark) / seconds)

    def message(self, author: str, channel: str = "chat") -> None:
        # every message: the labelled counter found once per (author, channel) (prometheus_client's ``labels``
        # checks and locks on each call: 5 of the 7 us a message's count cost); a raw pair's labels never change
        counter = self._message_counters.get((author, channel))
        if counter is None:
            counter = self.messages.labels(self._kind(author), self._kind(channel))
            if len(self._message_counters) < MAX_LABEL_VALUES:
                self._message_counters[(author, channel)] = counter
        counter.inc()

    def assigned(self, queue: str) -> None:
        self.assignments.labels(self._queue(queue or "default")).inc()

    def callback_finished(self, outcome: str) -> None:
        self.callbacks_finished.labels(self._outcome(outcome)).inc()

    def webhook(self, seconds: float, error: str = "") -> None:
        self.webhook_duration.observe(seconds)
        if error:
            self.webhook_errors.labels(self._kind(error)).inc()

    def speech_decoded(self, outcome: str, seconds: float | None) -> None:
        self.speech_decodes.labels(self._outcome(outcome)).inc()
        if seconds is not None:
            self.speech_decode_seconds.observe(seconds)

    def speech_server_breaker(self, kind: str, state: str) -> None:
        """A speech server's circuit breaker changed state (``kind`` ``asr`` or ``tts``)."""
        self.speech_server_open.labels(self._kind(kind)).set(0 if state == "closed" else 1)

    def queue_label(self, queue: str) -> str:
        """A queue's name as a label value (the scrape's queue gauges use the same bound as the counters)."""
        return self._queue(queue or "default")

    # ---------------------------------------------------------------- per-call CPU

    def cpu_mark(self) -> float:
        """The CPU seconds each live call has been given so far; a call's share is the difference between its
        end's mark and its start's."""
        with self._cpu_lock:
            return self._cpu_per_call

    def share_cpu(self, cpu_seconds: float, live_calls: int, elapsed: float) -> None:
        """``cpu_seconds`` of process CPU went by in ``elapsed`` seconds with ``live_calls`` calls: each is given
        an equal share (the sampler in gateway/ops/metrics.py calls this a few times a second)."""
        if live_calls <= 0:
            return
        with self._cpu_lock:
            self._cpu_per_call += cpu_seconds / live_calls
        self.call_seconds.inc(live_calls * elapsed)
