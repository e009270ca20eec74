"""The supervisors' wallboard under load: what 50 watching supervisors cost with 1,000 live conversations.

A Redis and a gateway process; 100 agents (capacity 10) take 1,000 chat conversations whose customers keep
writing (chat_load's load, one message per conversation every ``--interval`` s); a probe agent switches between
available and away every ``--every`` s: each switch is an event the wallboard must show. Two windows of
``--seconds`` each, the same load in both:

- nobody watching: the gateway's CPU (the wallboard reads nothing then);
- ``--supervisors`` supervisors watching (``hello`` with ``presence: false``, then ``wallboard``): the gateway's
  CPU, and for every probe switch and every supervisor the delay from sending the switch to receiving the first
  frame that shows it (p50 / p95 / p99 / max), frames per supervisor and their size.

    ./bin/bench wallboard                        # 50 supervisors, 1,000 conversations, 20 s windows
    ./bin/bench wallboard --supervisors 10 --conversations 200 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bench.chat_load import SECRET, Load, address, cpu_seconds, pct, wait_ready
from bench.run_folder import add_keep_logs, run_folder
from gateway.contact.agents import Agent
from gateway.contact.agents_file import render_agent
from gateway.contact.callbacks import Callbacks
from gateway.contact.passwords import hash_password
from gateway.contact.routing import Router
from gateway.ops.rollups import Reports
from gateway.ops.wallboard import Thresholds, Wallboard
from gateway.store.bus import Bus
from gateway.store.rollup_store import RollupStore
from gateway.store.store import Keys, Store
from tests.support.servers import RedisServer, free_port

PROBE = "probe"


class Watchers:
    def __init__(self) -> None:
        self.switches: list[tuple[float, str]] = []  # (sent at, the probe's new state)
        self.delays: list[float] = []
        self.frames = 0
        self.bytes = 0
        self.measuring = False

    def sent_at(self, state: str) -> float | None:
        for at, wanted in reversed(self.switches):
            if wanted == state:
                return at
        return None

    async def supervisor(self, session: aiohttp.ClientSession, base: str, sid: str, index: int) -> None:
        headers = {"X-Forwarded-For": address(2_000_000 + index)}
        async with session.post(
            base + "/api/agent/login", json={"agent_id": sid, "password": "bench"}, headers=headers
        ) as r:
            token = (await r.json())["token"]
        ws = await session.ws_connect(base.replace("http", "ws") + "/ws/agent", max_msg_size=0, headers=headers)
        await ws.send_json({"type": "hello", "token": token, "presence": False})
        await ws.send_json({"type": "wallboard", "watch": True})
        shown = ""
        async for msg in ws:
            now = time.perf_counter()
            if '"type":"wallboard"' not in msg.data[:40]:
                continue
            frame = json.loads(msg.data)
            if self.measuring:
                self.frames += 1
                self.bytes += len(msg.data)
            probe = next((a for a in frame["agents"] if a["id"] == PROBE), None)
            state = probe["state"] if probe else ""
            if state != shown:
                shown = state
                at = self.sent_at(state)
                if at is not None and self.measuring:
                    self.delays.append((now - at) * 1000)


async def probe(
    session: aiohttp.ClientSession, base: str, watchers: Watchers, every: float, stop: asyncio.Event
) -> None:
    headers = {"X-Forwarded-For": address(3_000_000)}
    async with session.post(
        base + "/api/agent/login", json={"agent_id": PROBE, "password": "bench"}, headers=headers
    ) as r:
        token = (await r.json())["token"]
    ws = await session.ws_connect(base.replace("http", "ws") + "/ws/agent", max_msg_size=0, headers=headers)
    await ws.send_json({"type": "hello", "token": token})
    available = False
    while not stop.is_set():
        available = not available
        watchers.switches.append((time.perf_counter(), "available" if available else "away"))
        await ws.send_json({"type": "status", "status": "available" if available else "away"})
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
    await ws.close()


async def snapshot_cost(url: str, n: int) -> dict[str, float]:
    """One node's snapshot (read from Redis, composed, serialized once for every supervisor) over the same data, in
    this process: wall and CPU ms per snapshot (p50), what each node spends once per tick however many watch."""
    redis = aioredis.Redis.from_url(url)
    store = Store(redis, Keys())
    router = Router(store)
    board = Wallboard(
        store,
        Bus(redis),
        router,
        Callbacks(store, router.queue, wake_router=router.kick, ring_seconds=60),
        Thresholds(),
        reports=Reports(RollupStore(store), sl_threshold_s=20),
    )
    walls, cpus, size = [], [], 0
    try:
        for _ in range(n):
            w0, c0 = time.perf_counter(), time.process_time()
            size = len(json.dumps((await board.snapshot()).as_dict(), separators=(",", ":")))
            walls.append((time.perf_counter() - w0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
    finally:
        await redis.aclose()
    return {"wall_p50": round(pct(walls, 50), 1), "cpu_p50": round(pct(cpus, 50), 1), "bytes": size}


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    redis_server = RedisServer()
    redis_server.start()
    agents = [f"agent{i:03d}" for i in range(args.agents)]
    supervisors = [f"sup{i:02d}" for i in range(args.supervisors)]
    cheap = hash_password("bench", n=2**10)
    (tmp / "agents.toml").write_text(
        "".join(render_agent(Agent(a, a, cheap, capacity=args.capacity)) for a in agents)
        + render_agent(Agent(PROBE, "Probe", cheap, capacity=1))
        + "".join(render_agent(Agent(s, s, cheap, roles=("agent", "supervisor"))) for s in supervisors)
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp / "gateway.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--redis-url", redis_server.url,
             "--agents-file", str(tmp / "agents.toml"), "--secret", SECRET, "--log-format", "text",
             "--data-dir", str(tmp / "data"), "--trusted-proxies", "127.0.0.1/32",
             "--limit-connections-per-ip", "1000000", "--limit-messages-per-minute", "100000",
             "--limit-conversations-per-hour", "100000"],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    tasks: list[asyncio.Task[None]] = []
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_ready(session, base)
            load = Load(base, agents, args.conversations)
            tasks += [asyncio.create_task(load.agent(session, a)) for a in agents]
            stop, ready = asyncio.Event(), asyncio.Event()
            for i in range(args.conversations):
                tasks.append(asyncio.create_task(load.customer(session, i, stop, args.interval, ready)))
                if i % 50 == 49:
                    await asyncio.sleep(0.05)
            await asyncio.wait_for(load.all_assigned.wait(), timeout=180)
            ready.set()
            watchers = Watchers()
            tasks.append(asyncio.create_task(probe(session, base, watchers, args.every, stop)))
            await asyncio.sleep(args.interval + 1)

            async def window() -> tuple[float, float]:
                gw0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                await asyncio.sleep(args.seconds)
                elapsed = time.perf_counter() - t0
                return 100 * (cpu_seconds(proc.pid) - gw0) / elapsed, elapsed

            idle_cpu, _ = await window()
            tasks += [asyncio.create_task(watchers.supervisor(session, base, s, i)) for i, s in enumerate(supervisors)]
            await asyncio.sleep(3)  # every supervisor has its first frame
            watchers.measuring = True
            watched_cpu, elapsed = await window()
            watchers.measuring = False
            stop.set()
            compute = await snapshot_cost(redis_server.url, args.snapshots)
            switches = sum(1 for at, _ in watchers.switches if at >= time.perf_counter() - elapsed - args.every)
            d = watchers.delays
            return {
                "conversations": args.conversations,
                "agents": args.agents,
                "supervisors": args.supervisors,
                "window_seconds": args.seconds,
                "gateway_cpu_percent_nobody_watching": round(idle_cpu, 1),
                "gateway_cpu_percent_supervisors_watching": round(watched_cpu, 1),
                "probe_switches": switches,
                "event_to_frame_ms": {
                    "n": len(d),
                    "p50": round(pct(d, 50), 1),
                    "p95": round(pct(d, 95), 1),
                    "p99": round(pct(d, 99), 1),
                    "max": round(max(d), 1) if d else None,
                },
                "frames_per_supervisor_per_second": round(watchers.frames / args.supervisors / elapsed, 2),
                "frame_bytes_avg": round(watchers.bytes / watchers.frames) if watchers.frames else 0,
                "snapshot_ms": compute,
                "chat_errors": len(load.errors),
            }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        proc.terminate()
        proc.wait(timeout=20)
        flush = aioredis.Redis.from_url(redis_server.url)
        await flush.aclose()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--supervisors", type=int, default=50)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a customer's messages")
    parser.add_argument("--every", type=float, default=1.3, help="seconds between the probe agent's switches")
    parser.add_argument("--seconds", type=float, default=20.0, help="each measuring window")
    parser.add_argument("--snapshots", type=int, default=30, help="snapshots timed in this process at the end")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    add_keep_logs(parser)
    args = parser.parse_args()
    with run_folder("wallboard", args.keep_logs) as tmp:
        result = asyncio.run(run(args, tmp))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    d = result["event_to_frame_ms"]
    print(
        f"wallboard: {result['supervisors']} supervisors, {result['conversations']} live conversations, "
        f"{result['agents']} agents\n"
        f"  gateway CPU       nobody watching {result['gateway_cpu_percent_nobody_watching']}% of a core, "
        f"{result['supervisors']} watching {result['gateway_cpu_percent_supervisors_watching']}%\n"
        f"  event -> frame    p50 {d['p50']} ms, p95 {d['p95']} ms, p99 {d['p99']} ms, max {d['max']} ms "
        f"({d['n']} deliveries of {result['probe_switches']} switches)\n"
        f"  frames            {result['frames_per_supervisor_per_second']} per supervisor per second, "
        f"{result['frame_bytes_avg']} bytes each; chat errors {result['chat_errors']}\n"
        f"  one snapshot      {result['snapshot_ms']['wall_p50']} ms wall, {result['snapshot_ms']['cpu_p50']} ms CPU "
        f"(p50, once per node per tick whatever the number of supervisors)"
    )


if __name__ == "__main__":
    main()
