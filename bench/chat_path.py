"""The CPU of a chat message's path through the node, measured in one process (robust on a busy machine).

Starts a real Redis and one in-process node (tests/support/servers.py ``start_node``), opens ``--conversations``
conversations assigned to one agent, then runs ``--rounds`` rounds in which every customer sends a message and
the agent answers it (``Conversations.customer_message`` and ``agent_message``: the rate limits, the scripts, the
node's event-log consumers that follow every event), ``--concurrency`` at a time. It reports this process's CPU
per message (``time.process_time``: what the messages cost, whatever else the machine runs) and the Redis round
trips per message (Redis's own command counters). The WebSocket edge and the fan-out to sockets are not in it:
``bench chat`` measures those end to end.

``--src DIR`` is not an option: to measure another checkout (e.g. main), run this file with ``PYTHONPATH=DIR``.

    .venv/bin/python -m bench.chat_path --conversations 200 --rounds 20
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bench.run_folder import add_keep_logs, run_folder
from gateway.config import Settings
from gateway.contact.agents import Agent
from gateway.contact.agents_file import render_agent
from gateway.contact.passwords import hash_password
from tests.support.servers import RedisServer, start_node


async def commands(redis: aioredis.Redis) -> int:
    stats = await redis.info("commandstats")
    return sum(int(v.get("calls", 0)) for v in stats.values() if isinstance(v, dict))


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    redis_server = RedisServer()
    redis_server.start()
    (tmp / "agents.toml").write_text(render_agent(Agent("a0", "Agent", hash_password("x", n=2**10), capacity=50)))
    settings = Settings(
        data_dir=tmp / "data",
        redis_url=redis_server.url,
        agents_file=tmp / "agents.toml",
        secret="bench-secret-0123456789abcdef",
        log_format="text",
        admission_max_lag_ms=0,
        admission_max_late_percent=0,
        admission_max_loop_cpu_percent=0,
        limit_messages_per_minute=100000,
        limit_conversations_per_hour=100000,
    )
    node = await start_node(settings)
    redis = aioredis.Redis.from_url(redis_server.url)
    try:
        conv = node.services.conversations
        cids = []
        for i in range(args.conversations):
            stored = await conv.customer_message(f"u{i}", f"c{i}-0", "hello", {})
            cids.append(stored.conversation_id)
            # assigned to the agent as the assign script leaves it (the router needs the agent online)
            await redis.hset(f"cg:conv:{stored.conversation_id}", mapping={"state": "assigned", "agent_id": "a0"})
        # the socket's hint (its current conversation), where the code takes one (older code: not)
        takes_hint = "current" in inspect.signature(conv.customer_message).parameters

        def hint(cid: str) -> dict[str, str]:
            return {"current": cid} if takes_hint else {}

        await asyncio.sleep(1)  # the consumers catch up with the setup's events
        n = 0
        commands0, cpu0, t0 = await commands(redis), time.process_time(), time.perf_counter()
        for r in range(1, args.rounds + 1):
            for start in range(0, len(cids), args.concurrency):
                batch = list(enumerate(cids))[start : start + args.concurrency]
                await asyncio.gather(
                    *(conv.customer_message(f"u{i}", f"c{i}-{r}", f"t={r}", {}, **hint(cid)) for i, cid in batch)
                )
                await asyncio.gather(
                    *(conv.agent_message("a0", "Agent", cid, f"a{i}-{r}", f"r={r}") for i, cid in batch)
                )
                n += 2 * len(batch)
        await asyncio.sleep(1)  # the event-log consumers follow the messages: their share counts
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        used = await commands(redis) - commands0
    finally:
        await redis.aclose()
        await node.stop()
        redis_server.stop()
    return {
        "messages": n,
        "cpu_us_per_message": round(1e6 * cpu / n, 1),
        "wall_us_per_message": round(1e6 * (wall - 1) / n, 1),
        "redis_commands_per_message": round(used / n, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="repeat, report each (the lowest CPU is the cost)")
    add_keep_logs(parser)
    args = parser.parse_args()
    for _ in range(args.runs):
        with run_folder("path", args.keep_logs) as tmp:
            print(json.dumps(asyncio.run(run(args, tmp))), flush=True)


if __name__ == "__main__":
    main()
