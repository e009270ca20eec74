"""Event webhooks when a node dies: the fan-out and the delivery leases, on a real Redis with a real receiver.

A "dead" node is a WebhookDelivery that took its step (read the event log, leased an outbox) and then never ran
again: no cleanup, its lock and leases left to run out, as when a process is killed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from gateway.ops.webhook_delivery import GROUP, WebhookDelivery
from gateway.ops.webhooks import Webhooks
from gateway.store.event_log_store import EventLogStore
from gateway.store.keys import Keys
from gateway.store.store import Store
from gateway.store.webhook_store import Outbox
from tests.support.servers import free_port

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

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    seen.append({"url": f"http://127.0.0.1:{port}/hooks"})
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
    assert await live.db.fan_out("not-the-holder", GROUP, now=0, lock_ms=1000, ids=[], deliveries=[]) == "lost"
    info = await store.redis.xinfo_groups(store.keys.event_log)
    assert [(g["name"], g["pending"]) for g in info] == [(GROUP.encode(), 0)]


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


async def _received(receiver: list[dict[str, Any]]) -> bool:
    return bool(receiver)


async def _nothing_due(delivery: WebhookDelivery) -> bool:
    return await delivery.db.due() == {}
