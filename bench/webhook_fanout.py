"""Event webhooks under a steady chat flow: the Redis commands a message costs and how soon a receiver gets it.

Starts a real Redis and one in-process node (tests/support/servers.py ``start_node``), a real local HTTP receiver
(aiohttp on 127.0.0.1, answering 204), and ``--subscriptions`` event webhook subscriptions (``message.created``) to
it. Then ``--messages`` customer messages arrive at a steady ``--rate`` per second, spread over
``--conversations`` conversations (``Conversations.customer_message``, what a socket's message runs). Reported:

- Redis commands per message (Redis's own commandstats, a script's inner commands included) from the first message
  until every payload was delivered and nothing is due, and the commands that grew most;
- the delivery delay per payload: from just before the message was stored to the receiver's answer (one clock,
  one process), p50 / p95 / max.

Run with ``--subscriptions 0`` too: the difference is what the webhooks cost. ``--src`` is not an option: to
measure another checkout, run this file by path with ``PYTHONPATH=DIR`` (it imports nothing from ``bench``).

    .venv/bin/python bench/webhook_fanout.py --messages 400 --rate 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from bench.run_folder import add_keep_logs, run_folder
from gateway.config import Settings
from tests.support.http_receiver import serve_posts
from tests.support.servers import RedisServer, start_node


async def command_calls(redis: aioredis.Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v.get("calls", 0)) for k, v in stats.items() if isinstance(v, dict)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    arrived: dict[str, float] = {}  # message text -> when the receiver got it (perf_counter)
    posts = [0]

    async def handle(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        posts[0] += 1
        arrived.setdefault(str(body["data"].get("text")), time.perf_counter())
        return web.Response(status=204)

    hooks_url, runner = await serve_posts("/hooks", handle)

    redis_server = RedisServer()
    redis_server.start()
    settings = Settings(
        data_dir=tmp / "data",
        redis_url=redis_server.url,
        secret="bench-secret-0123456789abcdef",
        log_format="text",
        admission_max_lag_ms=0,
        admission_max_late_percent=0,
        admission_max_loop_cpu_percent=0,
        limit_messages_per_minute=100000,
        limit_conversations_per_hour=100000,
        webhook_allow=("127.0.0.1",),
    )
    node = await start_node(settings)
    redis = aioredis.Redis.from_url(redis_server.url)
    sent: dict[str, float] = {}
    try:
        for _ in range(args.subscriptions):
            await node.services.webhooks.create({"url": hooks_url, "events": ["message.created"]})
        conv = node.services.conversations
        cids = []
        for i in range(args.conversations):
            text = f"open {i}"
            sent[text] = time.perf_counter()
            cids.append((await conv.customer_message(f"u{i}", f"c{i}-0", text, {})).conversation_id)
        await settle(node, arrived, sent, args.subscriptions)  # the setup's events are out of the way
        before, posts_before, t0 = await command_calls(redis), posts[0], time.perf_counter()
        timed: dict[str, float] = {}
        interval = 1 / args.rate
        for n in range(args.messages):
            i = n % args.conversations
            text = f"m{n}"
            at = t0 + n * interval
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            sent[text] = timed[text] = time.perf_counter()
            await conv.customer_message(f"u{i}", f"c{i}-{n + 1}", text, {}, current=cids[i])
        await settle(node, arrived, sent, args.subscriptions)
        after = await command_calls(redis)
    finally:
        await redis.aclose()
        await node.stop()
        redis_server.stop()
        await runner.cleanup()
    grown = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = sum(grown.values())
    out: dict[str, Any] = {
        "subscriptions": args.subscriptions,
        "messages": args.messages,
        "rate_per_s": args.rate,
        "payloads_received": posts[0] - posts_before,
        "redis_commands_per_message": round(total / args.messages, 2),
        "event_log_reads_per_message": round(grown.get("xreadgroup", 0) / args.messages, 3),
        "top_commands_per_message": {
            k: round(v / args.messages, 2) for k, v in sorted(grown.items(), key=lambda kv: -kv[1])[:8] if v
        },
    }
    if args.subscriptions:
        delays = [(arrived[t] - timed[t]) * 1000 for t in timed]
        out |= {
            "delay_ms_p50": round(percentile(delays, 50), 1),
            "delay_ms_p95": round(percentile(delays, 95), 1),
            "delay_ms_max": round(max(delays), 1),
        }
    return out


async def settle(node: Any, arrived: dict[str, float], sent: dict[str, float], subscriptions: int) -> None:
    """Until every message sent so far has reached the receiver (with a subscription) and nothing is due."""
    delivery = node.services.webhook_delivery
    async with asyncio.timeout(120):
        while True:
            done = not subscriptions or all(t in arrived for t in sent)
            if done and not delivery.in_flight and await delivery.db.due() == {}:
                break
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)  # the consumers' idle reads after the last batch belong to the flow too


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40.0, help="messages per second")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--subscriptions", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    add_keep_logs(parser)
    args = parser.parse_args()
    for _ in range(args.runs):
        with run_folder("webhooks", args.keep_logs) as tmp:
            print(json.dumps(asyncio.run(run(args, tmp))), flush=True)


if __name__ == "__main__":
    main()
