"""Routing passes on a real Redis (gateway/contact/routing.py, Router): a queue longer than one pass is drained
pass after pass at once, not one pass per sweep."""

from __future__ import annotations

import asyncio

from gateway.contact.routing import Router
from gateway.store.store import Store

WITHIN = 30.0  # generous: an hour-long sweep means only the passes' own kicks can drain the queue in time


async def test_a_queue_longer_than_a_pass_is_drained_by_passes_that_follow_at_once(store: Store) -> None:
    k, r = store.keys, store.redis
    for i in range(23):
        await r.hset(k.conv(f"c{i:02d}"), mapping={"state": "queued", "queued_at": 1000 + i})
        await r.zadd(k.queue("default"), {f"c{i:02d}": 1000 + i})
    for aid in ("alice", "bob", "carol"):
        await r.sadd(k.agents, aid)
        await r.hset(k.agent(aid), mapping={"status": "available", "capacity": 10, "name": aid.title()})
        await r.zadd(k.agent_sessions(aid), {f"s-{aid}": 10**13})
    router = Router(store, sweep_seconds=3600, pass_size=5)
    await router.start()
    try:
        router.kick()
        async with asyncio.timeout(WITHIN):
            while await r.zcard(k.queue("default")):
                await asyncio.sleep(0.05)
    finally:
        await router.stop()
    held = [len(await store.agent_conversations(a)) for a in ("alice", "bob", "carol")]
    assert sum(held) == 23 and max(held) <= 10
