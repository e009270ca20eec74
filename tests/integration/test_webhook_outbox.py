"""Event webhooks when a node dies: the fan-out and the delivery leases, on a real Redis with a real receiver.

A "dead" node is a WebhookDelivery that took its step (read the event log, leased an outbox) and then never ran
again: no cleanup, its lock and leases left to run out, as when a process is killed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from gateway.metrics import Metrics
from gateway.ops.webhook_delivery import GROUP, WebhookDelivery
from gateway.ops.webhooks import Webhooks
from gateway.store.event_log_store import EventLogStore
from gateway.store.keys import Keys
from gateway.store.store import Store
from gateway.store.webhook_store import Outbox
from tests.support.http_receiver import serve_posts

ALLOW = ("127.0.0.1",)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    client = aioredis.Redis.from_url(redis_url)
    made = Store(client, Keys("cg"))
    await EventLogStore.of(made).ensure_group(GROUP, start="0")
    yield made
    await made.aclose()


@pytest.fixture
async def receiver() -> AsyncIterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append({"id": request.headers["X-Gateway-Event-Id"], "body": json.loads(await request.read())})
        return web.Response(status=204)

    url, runner = await serve_posts("/hooks", handle)
    seen.append({"url": url})
    yield seen
    await runner.cleanup()


async def log_event(store: Store, cid: str, text: str) -> str:
    """What every timeline append adds to the event log (the contract's fields), here written directly."""
    fields = {
        "cid": cid,
        "event_id": "1-1",
        "type": "message",
        "data": json.dumps({"author": "customer", "text": text}),
        "ts": str(int(time.time() * 1000) + 1000),
        "queue": "default",
        "agent_id": "",
    }
    return (await store.redis.xadd(store.keys.event_log, fields)).decode()  # type: ignore[no-any-return]


async def outbox_texts(store: Store, outbox: Outbox) -> list[str]:
    key = store.keys.webhook_outbox(outbox.subscription, outbox.conversation)
    return [json.loads(p)["data"]["text"] for p in await store.redis.lrange(key, 0, -1)]


async def until(what: str, check: Callable[[], Any], seconds: float = 30) -> Any:
    try:
        async with asyncio.timeout(seconds):
            while not (value := await check()):
                await asyncio.sleep(0.05)
            return value
    except TimeoutError:
        pytest.fail(f"{what}: not within {seconds} s")


async def subscribe(store: Store, url: str) -> str:
    sub = await Webhooks(store, allow=ALLOW).create({"url": url, "events": ["message.created"]})
    return sub.id


async def test_entries_a_dead_node_read_are_claimed_by_the_next_lock_holder_and_copied_first(store: Store) -> None:
    sub_id = await subscribe(store, "http://127.0.0.1:9/hooks")
    outbox = Outbox(sub_id, "c_1")
    await log_event(store, "c_1", "m1")
    await log_event(store, "c_1", "m2")
    ghost = WebhookDelivery(store, node_id="ghost")
    assert await ghost.db.take_fanout_lock(ghost.token, 300) == "taken"
    assert len(await ghost.events.read(GROUP, "ghost", block_ms=10)) == 2  # ... and the node dies here
    await log_event(store, "c_1", "m3")
    live = WebhookDelivery(store, node_id="live")
    assert await live.fan_out_once() is False  # the dead node's lock has not run out yet
    await until("the lock ran out and the live node copied", live.fan_out_once)
    await live.fan_out_once()
    assert await outbox_texts(store, outbox) == ["m1", "m2", "m3"]

    # a node that lost the lock read m4 (it is pending there); the holder reads m5: the batch has a gap
    stale = EventLogStore.of(store)
    await log_event(store, "c_1", "m4")
    assert [e.data["text"] for e in await stale.read(GROUP, "stale", block_ms=10)] == ["m4"]
    await log_event(store, "c_1", "m5")
    await live.fan_out_once()  # 'gap': nothing copied, m4 claimed
    assert await outbox_texts(store, outbox) == ["m1", "m2", "m3"]
    await live.fan_out_once()
    assert await outbox_texts(store, outbox) == ["m1", "m2", "m3", "m4", "m5"]
    assert await live.db.fan_out("not-the-holder", GROUP, now=0, lock_ms=1000, ids=[], deliveries=[]) == ("lost", 0)
    info = await store.redis.xinfo_groups(store.keys.event_log)
    assert [(g["name"], g["pending"]) for g in info] == [(GROUP.encode(), 0)]

    # a node that lost the lock read m6, and nothing comes after it: the holder's empty batch finds it pending,
    # claims it and copies it (it used to wait for the next event)
    await log_event(store, "c_1", "m6")
    assert [e.data["text"] for e in await stale.read(GROUP, "stale", block_ms=10)] == ["m6"]
    await live.fan_out_once()  # an empty batch: 'gap', m6 claimed
    await live.fan_out_once()
    assert await outbox_texts(store, outbox) == ["m1", "m2", "m3", "m4", "m5", "m6"]


async def test_a_lease_of_a_dead_node_runs_out_and_another_node_delivers_the_same_event(
    store: Store, receiver: list[dict[str, Any]]
) -> None:
    url = receiver.pop()["url"]
    sub_id = await subscribe(store, url)
    event_id = await log_event(store, "c_2", "hello")
    ghost = WebhookDelivery(store, node_id="ghost")
    await ghost.fan_out_once()
    await ghost.db.release_fanout_lock(ghost.token)
    now = ghost.now_ms()
    leased = await ghost.db.claim(now=now, lease_until=now + 1000, limit=10, token=ghost.token)
    assert leased == [Outbox(sub_id, "c_2")]  # ... the request may be on its way when the node dies
    live = WebhookDelivery(store, node_id="live", allow=ALLOW, poll_seconds=0.1)
    await live.start()
    try:
        await until("delivered by the live node once the lease ran out", lambda: _received(receiver))
        assert [r["id"] for r in receiver] == [event_id]
        assert receiver[0]["body"]["data"] == {"author": "customer", "text": "hello"}
        await until("nothing left due", lambda: _nothing_due(live))
        late = await ghost.db.settle(leased[0], token=ghost.token, outcome="delivered", event_id=event_id, now=now)
        assert late == "stale"  # the dead node's answer, were it to come, changes nothing
        assert await live.db.due() == {}
        log = [json.loads(e) for e in await live.db.deliveries(sub_id, 10)]
        assert [(e["node"], e["attempt"], e["status"], e["outcome"]) for e in log] == [("live", 1, 204, "delivered")]
    finally:
        await live.stop()


async def xreadgroup_calls(store: Store) -> int:
    """XREADGROUP commands Redis ran so far (its own counter: every read of the event log, pending or new)."""
    stats = await store.redis.info("commandstats")
    return int(stats.get("cmdstat_xreadgroup", {}).get("calls", 0))


async def test_a_steady_flow_is_copied_by_the_batch_and_a_dead_nodes_entries_are_delivered_once_in_order(
    store: Store, receiver: list[dict[str, Any]]
) -> None:
    """Events arriving one by one (every 25 ms) while the fan-out keeps up: it reads them by the batch (it waits
    PACE_SECONDS once caught up), not one read per event as before (two: its pending entries, then new ones). A
    node that read the first entries and died holding the lock: the next holder copies those first; the receiver
    gets every event once, in order."""
    url = receiver.pop()["url"]
    await subscribe(store, url)
    sent = [await log_event(store, "c_9", f"m{n}") for n in range(5)]
    ghost = WebhookDelivery(store, node_id="ghost")
    assert await ghost.db.take_fanout_lock(ghost.token, 500) == "taken"
    assert len(await ghost.events.read(GROUP, "ghost", block_ms=10)) == 5  # ... and the node dies here
    reads_before = await xreadgroup_calls(store)
    live = WebhookDelivery(store, node_id="live", allow=ALLOW, poll_seconds=0.1)
    await live.start()
    try:
        for n in range(5, 45):
            sent.append(await log_event(store, "c_9", f"m{n}"))
            await asyncio.sleep(0.025)
        await until("every event delivered", lambda: _received_all(receiver, len(sent)))
        reads = await xreadgroup_calls(store) - reads_before
        await until("nothing left due", lambda: _nothing_due(live))
    finally:
        await live.stop()
    assert [r["id"] for r in receiver] == sent  # once each, in the log's order
    assert [r["body"]["data"]["text"] for r in receiver] == [f"m{n}" for n in range(45)]
    assert reads < 20, f"{reads} reads of the event log for 40 events arriving one by one"
    assert live.copied < 20


async def _received_all(receiver: list[dict[str, Any]], n: int) -> bool:
    return len(receiver) >= n


async def _received(receiver: list[dict[str, Any]]) -> bool:
    return bool(receiver)


async def _nothing_due(delivery: WebhookDelivery) -> bool:
    return await delivery.db.due() == {}


# ---------------------------------------------------------------- retrying by time (an injected clock)


class Clock:
    """The delivery's time: moved by the test, never by waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def flaky_receiver(accepts: Callable[[], bool]) -> AsyncIterator[tuple[str, list[tuple[str, bool]]]]:
    """A receiver answering 503 until ``accepts()``: (its URL, every request's text and whether it was accepted)."""
    seen: list[tuple[str, bool]] = []

    async def handle(request: web.Request) -> web.Response:
        ok = accepts()
        seen.append((json.loads(await request.read())["data"]["text"], ok))
        return web.Response(status=204 if ok else 503)

    url, runner = await serve_posts("/hooks", handle)
    try:
        yield url, seen
    finally:
        await runner.cleanup()


async def run_clock_until(delivery: WebhookDelivery, clock: Clock, done: Callable[[], bool]) -> None:
    """Let the node's own loops deliver; whenever nothing is leased or in flight, move the clock to the next outbox
    that falls due (a retry's backoff passes in no time). Returns when ``done()`` or when nothing is left to do."""
    await until("the fan-out copied the events", delivery.db.due)
    async with asyncio.timeout(60):
        while not done():
            leases = await _leases(delivery)
            due = await delivery.db.due()
            if not leases and not delivery.in_flight and not await _leases(delivery):
                if not due:
                    return  # settled: everything delivered or given up
                clock.now = max(clock.now, min(due.values()) / 1000)
            await asyncio.sleep(0.02)


async def test_a_receiver_down_for_ten_minutes_still_gets_every_event_in_order(store: Store) -> None:
    clock = Clock()
    back_at = clock.now + 600
    async with flaky_receiver(lambda: clock.now >= back_at) as (url, seen):
        await subscribe(store, url)
        for text in ("m1", "m2", "m3"):
            await log_event(store, "c_9", text)
        delivery = WebhookDelivery(
            store,
            node_id="solo",
            allow=ALLOW,
            clock=clock,
            rand=lambda: 1.0,
            max_backoff_seconds=300,
            poll_seconds=0.02,
        )
        await delivery.start()
        try:
            await run_clock_until(delivery, clock, lambda: sum(ok for _, ok in seen) == 3 or len(seen) > 50)
        finally:
            await delivery.stop()
    assert [text for text, ok in seen if ok] == ["m1", "m2", "m3"]  # every event, in order, none given up
    failed = [text for text, ok in seen if not ok]
    assert set(failed) == {"m1"} and len(failed) > 8  # 1, 2, 4, ... 256 s: ten minutes take nine failures


async def test_an_event_is_given_up_when_the_retry_time_is_up_counted_and_the_next_goes(store: Store) -> None:
    clock = Clock()
    async with flaky_receiver(lambda: False) as (url, seen):
        sub_id = await subscribe(store, url)
        m1 = await log_event(store, "c_8", "m1")
        await log_event(store, "c_8", "m2")
        metrics = Metrics("test")
        delivery = WebhookDelivery(
            store,
            node_id="solo",
            allow=ALLOW,
            clock=clock,
            rand=lambda: 1.0,
            retry_seconds=3600,
            max_backoff_seconds=300,
            poll_seconds=0.02,
            metrics=metrics,
        )
        await delivery.start()
        try:
            await run_clock_until(delivery, clock, lambda: any(text == "m2" for text, _ in seen))
        finally:
            await delivery.stop()
    log = [json.loads(e) for e in reversed(await delivery.db.deliveries(sub_id, 200))]
    tries = [e for e in log if e["event_id"] == m1]
    assert len(tries) == sum(text == "m1" for text, _ in seen) > 8  # more than the old fixed 8 attempts
    assert [e["outcome"] for e in tries] == ["retry"] * (len(tries) - 1) + ["gave_up"]
    assert _ms(tries[-1]["time"]) - _ms(tries[0]["time"]) == 3_600_000  # the last try when the hour is up, not later
    assert metrics.registry.get_sample_value("contact_gateway_event_webhook_gave_up_total") == 1
    gave_up = {"outcome": "gave_up"}
    assert metrics.registry.get_sample_value("contact_gateway_event_webhook_deliveries_total", gave_up) == 1


async def test_an_outbox_keeps_at_most_its_maximum_dropping_the_oldest_and_counting_them(store: Store) -> None:
    sub_id = await subscribe(store, "http://127.0.0.1:9/hooks")
    for n in range(1, 6):
        await log_event(store, "c_7", f"m{n}")
    metrics = Metrics("test")
    delivery = WebhookDelivery(store, node_id="solo", outbox_max=3, metrics=metrics)
    assert await delivery.fan_out_once() is True
    assert await outbox_texts(store, Outbox(sub_id, "c_7")) == ["m3", "m4", "m5"]
    assert metrics.registry.get_sample_value("contact_gateway_event_webhook_dropped_total") == 2


async def _leases(delivery: WebhookDelivery) -> dict[bytes, bytes]:
    store = delivery.db
    return await store._redis.hgetall(store.keys.webhooks_leases)  # type: ignore[no-any-return]


def _ms(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)


async def test_with_no_subscription_the_fan_out_reads_no_event_back_and_later_events_still_go_out(
    store: Store,
) -> None:
    """Nobody subscribed: the fan-out moves the group past the log without reading it (every event read back cost
    a reply per event for nothing). The check and the skip are one step, so an event logged once a subscription
    exists is copied to it."""
    last = [await log_event(store, "c_9", f"early {n}") for n in range(50)][-1]
    delivery = WebhookDelivery(store, node_id="solo")
    before = await _commands(store, "xreadgroup")
    assert await delivery.fan_out_once() is True
    assert await _commands(store, "xreadgroup") == before, "the fan-out read the log with nobody subscribed"
    (group,) = await store.redis.xinfo_groups(store.keys.event_log)
    assert group["last-delivered-id"].decode() == last and group["pending"] == 0
    sub_id = await subscribe(store, "http://127.0.0.1:9/hooks")
    await log_event(store, "c_9", "after")
    assert await delivery.fan_out_once() is True
    assert await outbox_texts(store, Outbox(sub_id, "c_9")) == ["after"]


async def _commands(store: Store, name: str) -> int:
    stats = await store.redis.info("commandstats")
    return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))


async def test_more_than_a_batch_left_pending_by_a_dead_node_is_all_delivered_on_a_quiet_log(
    store: Store, receiver: list[dict[str, Any]]
) -> None:
    """A node read 150 entries (two batches) and died holding the lock; nothing new comes. The next holder claims
    them and copies every one, in order: a full batch of pending entries means more may be pending (the first fix
    read the next batch only from new entries, and 50 waited for the next event to arrive)."""
    url = receiver.pop()["url"]
    await subscribe(store, url)
    sent = [await log_event(store, "c_8", f"m{n}") for n in range(150)]
    ghost = WebhookDelivery(store, node_id="ghost")
    assert await ghost.db.take_fanout_lock(ghost.token, 500) == "taken"
    assert len(await ghost.events.read(GROUP, "ghost", block_ms=10)) == 100
    assert len(await ghost.events.read(GROUP, "ghost", block_ms=10, pending=False)) == 50  # ... and it dies
    live = WebhookDelivery(store, node_id="live", allow=ALLOW, poll_seconds=0.1)
    await live.start()
    try:
        await until("every event delivered", lambda: _received_all(receiver, len(sent)), seconds=20)
    finally:
        await live.stop()
    assert [r["id"] for r in receiver] == sent  # once each, in the log's order
