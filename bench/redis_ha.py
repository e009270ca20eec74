"""Redis high availability: what the durability wait costs per message, and how soon writes resume after the
master is SIGKILLed under Sentinel (tests/support/redis_ha.py: a master, two replicas, three Sentinels from
Debian's packages, on loopback).

- ``durable``: chat messages stored the way a node stores them (``Store.append``, then ``Store.durable``) by
  ``--senders`` concurrent senders for ``--messages`` messages each, with ``--redis-durable-replicas`` 0 and 1;
  reports the latency of one message (p50, p95) and messages per second, and the difference;
- ``failover``: ``--runs`` times: a writer stores a message every 20 ms through the Sentinel-managed client (a
  node's), the master is SIGKILLed, and the time from the kill to the first message stored (and confirmed by a
  replica) on the new master is reported (p50 over the runs), with the Sentinels' promotion time. Each run uses a
  fresh deployment.

    ./bin/bench redis --runs 5 --messages 2000 --senders 1,20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any

import redis.asyncio as aioredis

from gateway.config import from_sources
from gateway.store import connect
from gateway.store.store import Keys, Store, StoreError
from tests.support.redis_ha import SentinelSet


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def store_messages(store: Store, senders: int, messages: int) -> dict[str, Any]:
    latencies: list[float] = []

    async def sender(n: int) -> None:
        cid = f"bench-{n}"
        for i in range(messages):
            started = time.perf_counter()
            await store.append(
                cid, "message", {"author": "customer", "text": f"message {i}"}, now=int(time.time() * 1000)
            )
            await store.durable()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(sender(n) for n in range(senders)))
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "per_second": round(len(latencies) / elapsed),
    }


async def durable(messages: int, senders_list: list[int]) -> list[dict[str, Any]]:
    deployment = SentinelSet()
    deployment.start()
    results = []
    try:
        settings = from_sources({"redis_sentinel": deployment.sentinels, "redis_master": deployment.name}, {})
        redis = connect.client(settings)
        try:
            for senders in senders_list:
                row: dict[str, Any] = {"senders": senders}
                for replicas in (0, 1):
                    await redis.flushall()
                    store = Store(redis, Keys("bench"), durable_replicas=replicas, durable_wait_ms=1000)
                    row[f"replicas_{replicas}"] = await store_messages(store, senders, messages)
                row["added_p50_ms"] = round(row["replicas_1"]["p50_ms"] - row["replicas_0"]["p50_ms"], 3)
                results.append(row)
                print(json.dumps(row), flush=True)
        finally:
            await redis.aclose()
    finally:
        deployment.stop()
    return results


async def failover_run() -> dict[str, float]:
    deployment = SentinelSet()
    deployment.start()
    try:
        settings = from_sources({"redis_sentinel": deployment.sentinels, "redis_master": deployment.name}, {})
        redis: aioredis.Redis = connect.client(settings)
        store = Store(redis, Keys("bench"), durable_replicas=1, durable_wait_ms=500)
        stored_after: list[float] = []
        killed: list[float] = []
        stop = asyncio.Event()

        async def writer() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    await store.append("bench", "message", {"text": f"m{i}"}, now=int(time.time() * 1000))
                    await store.durable()
                    if killed and not stored_after:
                        stored_after.append(time.monotonic() - killed[0])
                except (StoreError, OSError):
                    pass
                await asyncio.sleep(0.02)

        task = asyncio.create_task(writer())
        try:
            await asyncio.sleep(1)
            old = deployment.kill_master()
            killed.append(time.monotonic())
            await asyncio.to_thread(deployment.wait_for_new_master, old)
            promoted = time.monotonic() - killed[0]
            async with asyncio.timeout(30):
                while not stored_after:
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await task
            await redis.aclose()
    finally:
        deployment.stop()
    return {"promoted_s": round(promoted, 2), "writes_back_s": round(stored_after[0], 2)}


async def main_async(args: argparse.Namespace) -> None:
    load = os.getloadavg()[0]
    senders = [int(n) for n in args.senders.split(",")]
    report: dict[str, Any] = {"load_average": load, "durable": await durable(args.messages, senders)}
    runs = []
    for _ in range(args.runs):
        runs.append(await failover_run())
        print(json.dumps(runs[-1]), flush=True)
    if runs:
        report["failover"] = {
            "runs": runs,
            "promoted_p50_s": statistics.median(r["promoted_s"] for r in runs),
            "writes_back_p50_s": statistics.median(r["writes_back_s"] for r in runs),
        }
    print(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="failovers (a fresh deployment each)")
    parser.add_argument("--messages", type=int, default=2000, help="messages per sender, per setting")
    parser.add_argument("--senders", default="1,20", help="concurrent senders (comma-separated: one row each)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
