"""``serve --workers 2``: two real node processes on one port, sharing the embedded Redis the parent started.

The real command in a child process (gateway/workers.py), real aiortc callers and softphones on loopback. The
kernel spreads new connections over the workers (SO_REUSEPORT); a test does not steer it: it opens customers until
calls sit on both workers (the call registry in Redis says which node holds each), then bridges each to the same
agent, so at least one call, its chat and its agent are on different workers.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from gateway import listen_port
from gateway.protocol.states import CallStatus
from gateway.store.keys import Keys
from tests.conftest import PASSWORDS, TEST_FLOWS
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.servers import SINGLE_NODE, GatewayProcess
from tests.support.softphone import Softphone

KEYS = Keys("cg")
TRIES = 16  # customers opened at most to find calls on both workers (each lands on one at random: 2 * 2**-16)


def workers(tmp_path: Path, agents_file: Path) -> GatewayProcess:
    return GatewayProcess(
        tmp_path / "data",
        *("--agents-file", str(agents_file), "--flows-dir", str(TEST_FLOWS), "--wrap-up-seconds", "0"),
        *("--secret", "test-secret-0123456789abcdef", "--log-format", "text", "--rtc-addresses", "127.0.0.1"),
        env={"CG_WORKERS": "2"},
    )


async def serving_nodes(url: str, count: int, seconds: float = 60) -> set[str]:
    """The node ids answering /readyz on ``url`` (each request a new connection) once ``count`` differ."""
    seen: set[str] = set()
    async with asyncio.timeout(seconds):
        while len(seen) < count:
            async with aiohttp.ClientSession() as http, http.get(url + "/readyz") as r:
                if r.status == 200:
                    seen.add((await r.json())["node"])
            await asyncio.sleep(0.05)
    return seen


def embedded_redis(gw: GatewayProcess) -> aioredis.Redis:
    return aioredis.Redis(unix_socket_path=str(gw.data_dir / "redis.sock"), decode_responses=True)


async def test_workers_share_a_port_and_calls_chats_and_an_agent_work_across_them(
    tmp_path: Path, agents_file: Path
) -> None:
    gw = workers(tmp_path, agents_file)
    await gw.start()
    db = embedded_redis(gw)
    alice = Agent(gw.url, "alice", PASSWORDS["alice"])
    customers: list[Customer] = []
    callers: list[Caller] = []
    phones: list[Softphone] = []
    try:
        nodes = await serving_nodes(gw.url, 2)
        assert len(nodes) == 2 and await db.smembers(KEYS.nodes) >= nodes  # both nodes of the one Redis
        await alice.hello()
        on: dict[str, Caller] = {}  # node -> a call it holds
        for _ in range(TRIES):
            customer = Customer(gw.url)
            customers.append(customer)
            await customer.hello()
            caller = Caller(customer)
            callers.append(caller)
            await caller.dial()
            await caller.status(CallStatus.IVR)
            node = await db.hget(KEYS.call(caller.call_id), "node")
            if node in on:  # that worker has one already
                await caller.hangup()
                continue
            on[node] = caller
            if len(on) == 2:
                break
        assert set(on) == nodes
        for node, caller in on.items():  # the agent's socket is on one worker: one of these crosses over
            await caller.heard_prompt()
            await caller.press("1")
            phone = Softphone(alice)
            phones.append(phone)
            assert (await phone.ringing())["call_id"] == caller.call_id
            await phone.answer(caller.call_id)
            await caller.status(CallStatus.CONNECTED)
            await caller.customer.say(f"still here on {node}")  # the conversation is the agent's now
            await alice.event("message", lambda e, n=node: e["text"] == f"still here on {n}", timeout=15)
            await alice.say(caller.conversation_id, f"hello {node}")
            await caller.customer.event("message", lambda e, n=node: e["text"] == f"hello {n}", timeout=15)
            await caller.hangup()
            await caller.status(CallStatus.ENDED)
        # whichever worker a scrape reaches, it answers for both, each sample labelled with its worker (a scrape
        # had one worker's figures, another scrape the other's: series came and went; an operator's finding)
        for _ in range(6):
            async with aiohttp.ClientSession() as http, http.get(gw.url + "/metrics") as r:
                assert r.status == 200
                text = await r.text()
            info = re.findall(r'contact_gateway_node_info\{node="([^"]+)",version="[^"]+",worker="(\d)"\}', text)
            assert {node for node, _ in info} == nodes and {w for _, w in info} == {"0", "1"}, info
            offered = re.findall(r'contact_gateway_calls_offered_total\{worker="(\d)"\} ([0-9.]+)', text)
            assert sum(float(v) for _, v in offered) >= 2, offered  # the calls of both workers
    finally:
        for closing in (*callers, *phones):
            await closing.close()
        for client in (*customers, alice):
            await client.close()
        await db.aclose()
        assert await gw.stop() == 0
    assert not list((gw.data_dir / "metrics").glob("worker-*.prom"))  # stopped workers serve no figures


async def test_a_killed_worker_is_restarted_and_its_calls_taken_over(tmp_path: Path, agents_file: Path) -> None:
    gw = workers(tmp_path, agents_file)
    await gw.start()
    db = embedded_redis(gw)
    customers: list[Customer] = []
    callers: list[Caller] = []
    try:
        first = await serving_nodes(gw.url, 2)
        customer = Customer(gw.url)
        customers.append(customer)
        await customer.hello()
        caller = Caller(customer)
        callers.append(caller)
        await caller.dial()
        await caller.status(CallStatus.IVR)
        victim = await db.hget(KEYS.call(caller.call_id), "node")
        assert victim in first
        os.kill(int(victim.split("-")[1]), signal.SIGKILL)  # node ids are node-PID-random

        async with asyncio.timeout(60):  # taken over by the surviving worker: the call leaves the registry
            while await db.exists(KEYS.call(caller.call_id)) or not await db.exists(KEYS.node_lost(victim)):
                await asyncio.sleep(0.2)
        now = await serving_nodes(gw.url, 2, seconds=90)  # the parent started a new worker on the port
        assert victim not in now and len(now & first) == 1
        again = Customer(gw.url)
        customers.append(again)
        await again.hello()
        assert gw.proc is not None and gw.proc.returncode is None
        log = gw.log.read_text()
        assert "worker" in log and "restarting it in" in log
    finally:
        for closing in callers:
            await closing.close()
        for client in customers:
            await client.close()
        await db.aclose()
        assert await gw.stop() == 0


def held_port(*, reuse_port: bool) -> socket.socket:
    """A loopback port something listens on: with ``reuse_port`` as a running gateway's workers hold theirs. Taken
    below the ephemeral range (32768 and up), so that it is never a port another test was just given by
    ``free_port()`` and is about to bind (a CI run met "address already in use" there)."""
    for port in random.sample(range(20000, 30000), 50):
        sock = socket.socket()
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen()
        return sock
    raise RuntimeError("no free port in 20000-29999")


async def serve(tmp_path: Path, port: int, workers: int, *python: str) -> tuple[int | None, str]:
    """``serve`` on ``port`` (``python``: run through ``-c`` instead of ``-m gateway``): its status and stderr."""
    command = python or ("-m", "gateway")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        *("serve", "--port", str(port), "--workers", str(workers), "--data-dir", str(tmp_path / f"data-{workers}")),
        *("--flows-dir", str(TEST_FLOWS)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **SINGLE_NODE, "CG_WORKERS": str(workers)},
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=45)
    except TimeoutError:  # it served (or hung) instead of refusing the port
        proc.kill()
        await proc.wait()
        return None, ""
    return proc.returncode, err.decode()


async def test_a_port_another_gateway_serves_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    # a gateway's workers hold their port with SO_REUSEPORT: a second `serve --workers 2` (another data directory)
    # would bind beside them and the kernel would split new connections between the two centers
    with held_port(reuse_port=True) as sock:
        port = sock.getsockname()[1]
        for workers in (2, 1):
            status, err = await serve(tmp_path, port, workers)
            assert (status, f"port {port} is already in use" in err) == (2, True), (workers, err)
        # taken between the check and the bind: the node stops what it started and says so (it used to hang,
        # its services running, its error never printed)
        unchecked = (
            "import sys, gateway.listen_port as p; p.check_free = lambda h, n: None; "
            "from gateway.cli import main; sys.exit(main())"
        )
        status, err = await serve(tmp_path, port, 1, "-c", unchecked)
    assert (status, f"port {port} is already in use" in err) == (2, True), err


async def test_a_port_claimed_by_a_gateway_starting_in_the_same_instant_is_refused(tmp_path: Path) -> None:
    # two `serve` started together both passed the bind check before either bound (a review): the first one's claim
    # on the address (held while it starts and serves) makes the second stop with the same clear error
    with held_port(reuse_port=False) as sock:
        port = sock.getsockname()[1]
    # as a gateway starting on it holds it (nothing listens yet); on all addresses, this one on 127.0.0.1: one port
    with listen_port.claim("0.0.0.0", port):
        status, err = await serve(tmp_path, port, 1)
    assert (status, f"port {port} is already in use" in err) == (2, True), err
    with listen_port.claim("127.0.0.1", port):  # freed with its holder: claimed again
        pass


async def test_a_node_taken_over_says_so_and_stops_to_be_started_again(tmp_path: Path, agents_file: Path) -> None:
    """A worker that stalled past its heartbeat was taken over by its sibling, came back and kept serving: /readyz
    said ready and it cut every call it took with node_lost, for good (an operator's finding). Now it answers
    503 taken_over and stops with status 1 (a lone node: its supervisor, systemd or Kubernetes, starts it again)."""
    gw = GatewayProcess(
        tmp_path / "data",
        *("--agents-file", str(agents_file), "--flows-dir", str(TEST_FLOWS), "--log-format", "text"),
    )
    await gw.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(gw.url + "/readyz") as r:
            node = (await r.json())["node"]
        redis = embedded_redis(gw)
        try:
            await redis.set(KEYS.node_lost(node), "another-node")  # as a node that took it over writes
        finally:
            await redis.aclose()
        assert gw.proc is not None
        async with asyncio.timeout(15):
            code = await gw.proc.wait()
        assert code == 1, gw.log.read_text()[-2000:]
        assert "another node took this one over" in gw.log.read_text()
    finally:
        if gw.proc is not None and gw.proc.returncode is None:
            await gw.stop()


async def test_a_closed_terminal_stops_a_node_as_sigterm_does(tmp_path: Path, agents_file: Path) -> None:
    """SIGHUP (the terminal or SSH session closed) killed the node at once, nothing logged, its calls left for a
    takeover (an operator's finding): now it stops as after SIGTERM, status 0."""
    gw = GatewayProcess(tmp_path / "data", *("--agents-file", str(agents_file), "--log-format", "text"))
    await gw.start()
    assert gw.proc is not None
    gw.proc.send_signal(signal.SIGHUP)
    async with asyncio.timeout(20):
        code = await gw.proc.wait()
    log_text = gw.log.read_text()
    assert code == 0 and "SIGHUP: stopping" in log_text and "shutting down" in log_text, log_text[-2000:]
