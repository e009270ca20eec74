"""Chaos: chat and calls over several gateway nodes on one Redis while nodes are killed and Redis restarts.

Starts one real Redis (append-only file, fsync always: a restart keeps what it acknowledged) and ``--nodes``
gateway nodes as child processes (``contact-gateway serve`` with the test flow line: press 1 for billing).
Then, for ``--minutes``:

- ``--customers`` chat customers each send a message every ``--interval`` s; ``--agents`` agents answer every
  customer message once. Clients behave like the widget and the desk: a message waits in an outbox until its
  ``ack``, and everything unacknowledged goes again (same client id) after a reconnect; a customer resumes
  from the last event id it saw, an agent re-opens its conversations from the last event it saw. A client
  whose socket drops reconnects to a random live node.
- ``--callers`` aiortc callers dial, press 1 in the IVR, wait for an agent; the agent's aiortc softphone
  answers; after a few seconds the caller hangs up and the agent closes the conversation; again.
- every ``--kill-every`` s a random node is killed with SIGKILL and restarted ``--restart-after`` s later;
  every ``--redis-every`` s Redis is stopped (SIGTERM and SIGKILL in turn) and started again on its port.

At the end the faults stop, the load runs ``--settle`` s more, then it reports:

- lost: customer messages acknowledged and never delivered to an agent (live or in a re-opened history), and
  agent replies acknowledged and never delivered to their customer; duplicated: one event delivered twice to
  the same client (customers and agents keep every event id they saw)
- wedged: agents whose activity is still ``ringing`` / ``on_call`` with no call left; conversations still
  queued whose only customer was a caller (nobody behind them); call registry entries (``call:*``) naming a killed node
- takeover: for each call whose node was killed, the time from the kill to its ``call_ended`` on the
  timeline (p50 / p95 / max, and how many never got one)

All counts should be 0. Not a test: it prints numbers (and ``--json`` writes them).

    ./bin/bench chaos --minutes 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from bench.chat_load import pct, wait_ready
from bench.ivr_calls import pin_loopback
from gateway.contact.agents import Agent
from gateway.contact.agents_file import render_agent
from gateway.contact.passwords import hash_password
from gateway.store.embedded_redis import redis_server_binary
from gateway.store.keys import Keys
from media.loopback import TrackRecorder
from media.player import PromptPlayer
from tests.support.servers import free_port

SECRET = "chaos-secret-0123456789abcdef"
FLOWS = Path(__file__).resolve().parents[1] / "tests" / "flows"  # the test line: 1 queues for billing
PASSWORD = "chaos"
KEYS = Keys()


class Redis:
    """A redis-server child on a fixed port, persisted (AOF, fsync always), stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
            + ["--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = aioredis.Redis.from_url(self.url)
        try:
            for _ in range(200):
                with contextlib.suppress(aioredis.ConnectionError, aioredis.BusyLoadingError):
                    await client.ping()
                    return
                await asyncio.sleep(0.05)
            raise RuntimeError("redis did not start")
        finally:
            await client.aclose()

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            await asyncio.to_thread(self.proc.wait, 20)
            self.proc = None


class Node:
    """One gateway node (a child process) on a fixed port; killed and started again as a new process."""

    def __init__(self, slot: int, folder: Path, redis_url: str, agents_file: Path) -> None:
        self.slot = slot
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            *("--port", str(self.port), "--redis-url", redis_url, "--agents-file", str(agents_file)),
            *("--secret", SECRET, "--flows-dir", str(FLOWS), "--log-format", "text", "--rtc-addresses", "127.0.0.1"),
            *("--wrap-up-seconds", "1", "--announce-seconds", "0", "--trusted-proxies", "127.0.0.1/32"),
            *("--limit-connections-per-ip", "1000000", "--limit-messages-per-minute", "100000"),
            *("--limit-conversations-per-hour", "100000", "--limit-calls-per-ip", "100000"),
            # failover is measured here, not admission: a node's late frames must not turn calls away
            *("--admission-max-late-percent", "0", "--admission-max-loop-cpu-percent", "0"),
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self.up = False
        self.pids: list[int] = []  # every process this slot ran (node ids are node-PID-...)

    async def start(self, session: aiohttp.ClientSession) -> None:
        data = self.folder / f"data-{len(self.pids)}"
        with open(self.folder / "gateway.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--data-dir", str(data), *self.args],
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.pids.append(self.proc.pid)
        deadline = time.monotonic() + 30
        while self.proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError):
                await wait_ready(session, self.url, 1)
                self.up = True
                return
        self.proc.kill()  # it gave up (Redis was down while it started) or hangs: the caller may try again
        await asyncio.to_thread(self.proc.wait, 20)
        self.proc = None
        raise RuntimeError(f"node {self.slot} did not become ready")

    async def kill(self) -> None:
        self.up = False
        if self.proc is not None:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 20)
            self.proc = None

    async def stop(self) -> None:
        self.up = False
        if self.proc is not None:
            self.proc.terminate()
            await asyncio.to_thread(self.proc.wait, 30)
            self.proc = None


class ChatClient:
    """What one chat client keeps across reconnects: token, outbox (client id -> (conversation, text)), the last
    event id per conversation ("" for a customer's one) and every event id it saw."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.token = ""
        self.welcomed = False
        self.seq = 0
        self.outbox: dict[str, tuple[str, str]] = {}
        self.answered: set[str] = set()
        self.last: dict[str, str] = {}
        self.last_event = ""
        self.seen: set[str] = set()

    def fresh(self, conv: str, event_id: str) -> bool:
        key = f"{conv}/{event_id}"
        if key in self.seen:
            return False
        self.seen.add(key)
        if conv not in self.last or _after(event_id, self.last[conv]):
            self.last[conv] = event_id
        return True


class Chaos:
    def __init__(self, args: argparse.Namespace, nodes: list[Node]) -> None:
        self.args = args
        self.nodes = nodes
        self.stop = asyncio.Event()
        self.acked_customer: set[str] = set()  # customer client ids the gateway acknowledged
        self.acked_agent: dict[str, str] = {}  # agent reply client id -> the customer it answers
        self.agent_saw: set[str] = set()  # customer client ids some agent received
        self.customer_saw: set[str] = set()  # agent reply client ids their customer received
        self.dup_events = 0
        self.reconnects = 0
        self.calls_done = Counter[str]()  # how each call went
        self.call_conversations: set[str] = set()
        self.live_calls: dict[str, tuple[int, str]] = {}  # call id -> (node pid holding it, conversation id)
        self.kills: list[tuple[float, int, list[tuple[str, str]]]] = []  # (epoch s, pid, [(call, conversation)])
        self.errors = Counter[str]()
        self.restarts: set[asyncio.Task[None]] = set()

    def live_node(self) -> Node | None:
        up = [n for n in self.nodes if n.up]
        return random.choice(up) if up else None

    async def socket(
        self, session: aiohttp.ClientSession, path: str, who: str
    ) -> tuple[aiohttp.ClientWebSocketResponse, Node] | None:
        node = self.live_node()
        if node is None:
            return None
        try:
            ws = await session.ws_connect(node.url.replace("http", "ws") + path, heartbeat=5)
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None
        return ws, node

    # ---------------------------------------------------------------- chat customers

    async def customer(self, session: aiohttp.ClientSession, index: int) -> None:
        me = ChatClient(f"c{index}")
        while not self.stop.is_set():
            got = await self.socket(session, "/ws/customer", me.name)
            if got is None:
                await asyncio.sleep(0.3)
                continue
            ws, _ = got
            try:
                hello: dict[str, Any] = {"type": "hello", "token": me.token or None}
                if me.last_event:
                    hello["last_event_id"] = me.last_event
                await ws.send_json(hello)
                next_send = time.monotonic() + random.random() * self.args.interval
                while not self.stop.is_set():
                    try:
                        msg = await ws.receive(timeout=max(0.01, next_send - time.monotonic()))
                    except TimeoutError:
                        if me.welcomed:
                            me.seq += 1
                            cid = f"{me.name}-{me.seq}"
                            me.outbox[cid] = ("", f"m:{cid}")
                            await ws.send_json({"type": "message", "client_id": cid, "text": f"m:{cid}"})
                        next_send = time.monotonic() + self.args.interval
                        continue
                    if msg.type != aiohttp.WSMsgType.TEXT or not await self._customer_frame(
                        me, ws, json.loads(msg.data)
                    ):
                        break
            except Exception as exc:  # noqa: BLE001 - counted and reported; the customer reconnects
                self.errors[f"customer: {type(exc).__name__}"] += 1
            finally:
                me.welcomed = False
                await ws.close()
            self.reconnects += 1
            await asyncio.sleep(0.2)

    async def _customer_frame(self, me: ChatClient, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> bool:
        """Handle one frame; False: drop the socket and reconnect."""
        kind = frame.get("type")
        events: list[dict[str, Any]] = []
        if kind == "welcome":
            me.welcomed = True
            me.token = frame["token"]
            events = frame.get("events") or []
            for cid, (_, text) in me.outbox.items():
                await ws.send_json({"type": "message", "client_id": cid, "text": text})
        elif kind == "event":
            events = [frame["event"]]
        elif kind == "ack" and me.outbox.pop(frame["client_id"], None) is not None:
            self.acked_customer.add(frame["client_id"])
        elif kind == "error" and frame.get("field") == "last_event_id":
            me.last_event = ""
            return False
        for ev in events:
            if not me.fresh("", ev["id"]):
                self.dup_events += 1
                continue
            me.last_event = me.last.get("", "")
            text = ev.get("text") or ""
            if ev.get("type") == "message" and ev.get("author") == "agent" and text.startswith("r:"):
                self.customer_saw.add(text[2:].split(" ", 1)[0])
        return True

    # ---------------------------------------------------------------- agents

    async def agent(self, session: aiohttp.ClientSession, agent_id: str) -> None:
        me = ChatClient(agent_id)
        calls: dict[str, RTCPeerConnection] = {}
        while not self.stop.is_set():
            got = await self.socket(session, "/ws/agent", agent_id)
            if got is None:
                await asyncio.sleep(0.3)
                continue
            ws, node = got
            try:
                if not me.token:
                    me.token = await self._login(session, node, agent_id)
                await ws.send_json({"type": "hello", "token": me.token})
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT or self.stop.is_set():
                        break
                    frame = json.loads(msg.data)
                    if frame.get("type") in ("call_status", "call_answer"):
                        await self._agent_call(ws, agent_id, frame, calls)
                    else:
                        await self._agent_frame(me, ws, frame)
            except Exception as exc:  # noqa: BLE001 - counted and reported; the agent reconnects
                self.errors[f"agent: {type(exc).__name__}"] += 1
            finally:
                await ws.close()
            self.reconnects += 1
            await asyncio.sleep(0.2)
        for pc in calls.values():
            await pc.close()

    async def _login(self, session: aiohttp.ClientSession, node: Node, agent_id: str) -> str:
        async with session.post(node.url + "/api/agent/login", json={"agent_id": agent_id, "password": PASSWORD}) as r:
            if r.status != 200:
                raise RuntimeError(f"login {r.status}")
            return str((await r.json())["token"])

    async def _agent_frame(self, me: ChatClient, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        events: list[tuple[str, dict[str, Any]]] = []
        if kind == "welcome":
            await ws.send_json({"type": "status", "status": "available"})
            for conv in frame.get("conversations") or []:
                opening: dict[str, Any] = {"type": "open", "conversation_id": conv["id"]}
                if conv["id"] in me.last:
                    opening["last_event_id"] = me.last[conv["id"]]
                await ws.send_json(opening)
            for cid, (conv_id, text) in me.outbox.items():
                await ws.send_json({"type": "message", "conversation_id": conv_id, "client_id": cid, "text": text})
        elif kind == "agent" and (frame.get("agent") or {}).get("status") == "away":
            await ws.send_json({"type": "status", "status": "available"})  # back after a missed ring
        elif kind == "assigned":
            await ws.send_json({"type": "open", "conversation_id": frame["conversation"]["id"]})
        elif kind == "history":
            conv_id = (frame.get("conversation") or {}).get("id", "")
            events = [(conv_id, e) for e in frame.get("events") or []]
        elif kind == "event":
            events = [(frame["conversation_id"], frame["event"])]
        elif kind == "ack" and frame["client_id"] in me.outbox:
            self.acked_agent[frame["client_id"]] = me.outbox.pop(frame["client_id"])[1]
        for conv_id, ev in events:
            if not me.fresh(conv_id, ev["id"]):
                if kind == "event":  # a history asked for may overlap what came live; a live one twice is a dup
                    self.dup_events += 1
                continue
            text = ev.get("text") or ""
            if ev.get("type") != "message" or ev.get("author") != "customer" or not text.startswith("m:"):
                continue
            client_id = text[2:]
            self.agent_saw.add(client_id)
            if client_id not in me.answered:
                me.answered.add(client_id)
                reply = f"{me.name}-{client_id}"
                me.outbox[reply] = (conv_id, f"r:{reply} ({client_id})")
                await ws.send_json(
                    {"type": "message", "conversation_id": conv_id, "client_id": reply, "text": me.outbox[reply][1]}
                )

    async def _agent_call(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        agent_id: str,
        frame: dict[str, Any],
        calls: dict[str, RTCPeerConnection],
    ) -> None:
        call_id, status = frame["call_id"], frame.get("status")
        if frame["type"] == "call_answer":
            if call_id in calls:
                with contextlib.suppress(Exception):  # a call gone meanwhile: its status says so
                    await calls[call_id].setRemoteDescription(RTCSessionDescription(sdp=frame["sdp"], type="answer"))
            return
        if status == "ringing" and frame.get("agent_id") == agent_id and call_id not in calls:
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            calls[call_id] = pc
            pc.addTrack(PromptPlayer())
            pc.on("track", lambda track: TrackRecorder(track).start())
            await pc.setLocalDescription(await pc.createOffer())
            await ws.send_json({"type": "call_offer", "call_id": call_id, "sdp": pc.localDescription.sdp})
        elif status in ("ended", "waiting") and call_id in calls:
            await calls.pop(call_id).close()
            conv_id = frame.get("conversation_id")
            if status == "ended" and conv_id:
                await ws.send_json({"type": "close", "conversation_id": conv_id, "disposition": "resolved"})

    # ---------------------------------------------------------------- callers

    async def caller(self, session: aiohttp.ClientSession, index: int) -> None:
        token: str | None = None
        n = 0
        while not self.stop.is_set():
            got = await self.socket(session, "/ws/customer", f"caller{index}")
            if got is None:
                await asyncio.sleep(0.3)
                continue
            ws, node = got
            pid = node.pids[-1]  # the process this socket (and so the call's media) is on
            n += 1
            call_id = f"chaos-{index}-{n}"
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            outcome = "socket_lost"
            try:
                await ws.send_json({"type": "hello", "token": token})
                welcome = await _frame(ws, "welcome", 10)
                token = welcome["token"]
                pc.addTrack(PromptPlayer())
                pc.on("track", lambda track: TrackRecorder(track).start())
                await pc.setLocalDescription(await pc.createOffer())
                await ws.send_json({"type": "call_offer", "call_id": call_id, "sdp": pc.localDescription.sdp})
                answer = await _frame(ws, "call_answer", 15, call_id)
                conv_id = answer["conversation_id"]
                self.call_conversations.add(conv_id)
                self.live_calls[call_id] = (pid, conv_id)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
                await _status(ws, call_id, "ivr", 20)
                await asyncio.sleep(2.0)  # the greeting; the menu follows and the key cuts it
                await ws.send_json({"type": "dtmf", "call_id": call_id, "digits": "1"})
                await _status(ws, call_id, "connected", 60)
                await asyncio.sleep(random.uniform(2, 6))
                await ws.send_json({"type": "hangup", "call_id": call_id})
                await _status(ws, call_id, "ended", 10)
                outcome = "completed"
            except CallEnded as exc:
                outcome = f"ended: {exc}"
            except TimeoutError:
                outcome = "timed_out"
                with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                    await ws.send_json({"type": "hangup", "call_id": call_id})
            except (aiohttp.ClientError, ConnectionError, OSError, SocketClosed):
                outcome = "socket_lost"
            except Exception as exc:  # noqa: BLE001 - counted and reported: the load goes on
                outcome = f"error: {type(exc).__name__}"
            finally:
                self.live_calls.pop(call_id, None)
                self.calls_done[outcome] += 1
                await pc.close()
                await ws.close()
            await asyncio.sleep(0.5)

    # ---------------------------------------------------------------- faults

    async def faults(self, session: aiohttp.ClientSession, redis: Redis, until: float) -> None:
        next_kill = time.monotonic() + self.args.kill_every
        next_redis = time.monotonic() + self.args.redis_every
        redis_signals = [signal.SIGTERM, signal.SIGKILL]
        while time.monotonic() < until:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            up = [n for n in self.nodes if n.up and n.proc is not None]
            if now >= next_kill and up:
                next_kill = now + self.args.kill_every
                node = random.choice(up)
                pid = node.pids[-1]
                held = [(c, conv) for c, (p, conv) in self.live_calls.items() if p == pid]
                await node.kill()
                self.kills.append((time.time(), pid, held))
                print(f"  {now - START:6.1f}s kill -9 node {node.slot} (pid {pid}, {len(held)} calls)", flush=True)
                restart = asyncio.create_task(self._restart(session, node), name=f"restart-{node.slot}")
                self.restarts.add(restart)
                restart.add_done_callback(self.restarts.discard)
            if now >= next_redis:
                next_redis = now + self.args.redis_every
                sig = redis_signals[0]
                redis_signals.reverse()
                print(f"  {now - START:6.1f}s redis {signal.Signals(sig).name}", flush=True)
                await redis.stop(sig)
                await asyncio.sleep(self.args.redis_down)
                await redis.start()

    async def _restart(self, session: aiohttp.ClientSession, node: Node) -> None:
        await asyncio.sleep(self.args.restart_after)
        for _ in range(3):
            try:
                await node.start(session)
                return
            except RuntimeError as exc:
                self.errors[f"restart: {exc}"] += 1


class CallEnded(Exception):
    pass


class SocketClosed(Exception):
    pass


async def _frame(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float, call_id: str | None = None
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise SocketClosed(str(msg.type))
            frame = json.loads(msg.data)
            if call_id is not None and frame.get("call_id") not in (None, call_id):
                continue
            if frame.get("type") == kind:
                return frame  # type: ignore[no-any-return]
            if frame.get("type") == "error" and call_id is not None and frame.get("call_id") == call_id:
                raise CallEnded(f"refused {frame.get('code')}")


async def _status(ws: aiohttp.ClientWebSocketResponse, call_id: str, wanted: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            frame = await _frame(ws, "call_status", timeout, call_id)
            if frame["call_id"] != call_id:
                continue
            if frame["status"] == wanted:
                return
            if frame["status"] == "ended":
                raise CallEnded(frame.get("reason") or "?")


def _after(a: str, b: str) -> bool:
    return tuple(int(x) for x in a.split("-")) > tuple(int(x) for x in b.split("-"))


START = time.monotonic()


async def takeover_times(chaos: Chaos, redis_url: str) -> tuple[list[float], int]:
    """Per killed call: seconds from the kill to its call_ended on the timeline; and how many never ended."""
    client = aioredis.Redis.from_url(redis_url)
    times: list[float] = []
    missing = 0
    try:
        for killed_at, _pid, held in chaos.kills:
            for call_id, conv in held:
                ended_at = None
                for entry_id, fields in await client.xrange(KEYS.timeline(conv)):
                    data = json.loads(fields.get(b"data", b"{}"))
                    if fields.get(b"type") == b"call_ended" and data.get("call_id") == call_id:
                        ended_at = int(entry_id.split(b"-")[0]) / 1000
                if ended_at is None:
                    missing += 1
                    continue
                times.append(ended_at - killed_at)
    finally:
        await client.aclose()
    return times, missing


async def wedged(chaos: Chaos, redis_url: str, agents: list[str]) -> dict[str, Any]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        stuck = []
        for agent_id in agents:
            activity = await client.hget(KEYS.agent(agent_id), "activity")
            if activity in ("ringing", "on_call"):
                stuck.append(f"{agent_id}:{activity}")
        orphan = []
        async for key in client.scan_iter(KEYS.queue("*")):
            for conv in await client.zrange(key, 0, -1):
                if conv in chaos.call_conversations:
                    orphan.append(conv)
        dead = {str(pid) for _, pid, _ in chaos.kills}
        dead_keys = []
        async for key in client.scan_iter(KEYS.call("*")):  # the call registry's entries (P:call:ID)
            owner = await client.hget(key, "node") or ""
            if owner.split("-")[1:2] and owner.split("-")[1] in dead:
                dead_keys.append(key)
        return {"agents_stuck": stuck, "orphan_queued": orphan, "dead_node_call_keys": dead_keys}
    finally:
        await client.aclose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    global START
    pin_loopback()
    tmp = Path(tempfile.mkdtemp(prefix="cg-chaos-"))
    agents = [f"agent{i:02d}" for i in range(args.agents)]
    cheap = hash_password(PASSWORD, n=2**10)
    (tmp / "agents.toml").write_text(
        "".join(render_agent(Agent(a, a, cheap, capacity=args.capacity)) for a in agents), encoding="utf-8"
    )
    (tmp / "redis").mkdir()
    redis = Redis(tmp / "redis")
    await redis.start()
    nodes = [Node(i, tmp / f"node{i}", redis.url, tmp / "agents.toml") for i in range(args.nodes)]
    result: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        try:
            for node in nodes:
                node.folder.mkdir()
                await node.start(session)
            chaos = Chaos(args, nodes)
            START = time.monotonic()
            tasks = [asyncio.create_task(chaos.agent(session, a)) for a in agents]
            await asyncio.sleep(1.0)
            tasks += [asyncio.create_task(chaos.customer(session, i)) for i in range(args.customers)]
            tasks += [asyncio.create_task(chaos.caller(session, i)) for i in range(args.callers)]
            print(
                f"chaos: {args.nodes} nodes, {args.agents} agents, {args.customers} customers, "
                f"{args.callers} callers, {args.minutes} min of faults, then {args.settle} s to settle",
                flush=True,
            )
            await chaos.faults(session, redis, START + args.minutes * 60)
            if chaos.restarts:  # a node killed near the end is back before the settling starts
                await asyncio.wait(chaos.restarts)
            await asyncio.sleep(args.settle)
            chaos.stop.set()
            await asyncio.wait(tasks, timeout=30)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(2)  # the callers' last hang-ups land
            if chaos.restarts:
                await asyncio.wait(chaos.restarts)
            times, never = await takeover_times(chaos, redis.url)
            stuck = await wedged(chaos, redis.url, agents)
            lost_to_agents = sorted(chaos.acked_customer - chaos.agent_saw)
            lost_to_customers = sorted(k for k in chaos.acked_agent if k not in chaos.customer_saw)
            result = {
                "minutes": args.minutes,
                "node_kills": len(chaos.kills),
                "customer_messages_acked": len(chaos.acked_customer),
                "agent_replies_acked": len(chaos.acked_agent),
                "lost_customer_to_agent": len(lost_to_agents),
                "lost_agent_to_customer": len(lost_to_customers),
                "lost_examples": (lost_to_agents + lost_to_customers)[:5],
                "duplicated": chaos.dup_events,
                "wedged": {k: len(v) for k, v in stuck.items()},
                "wedged_examples": {k: v[:3] for k, v in stuck.items()},
                "calls": dict(chaos.calls_done),
                "calls_on_killed_nodes": sum(len(h) for _, _, h in chaos.kills),
                "takeover_seconds": {
                    "p50": round(pct(times, 50), 2) if times else None,
                    "p95": round(pct(times, 95), 2) if times else None,
                    "max": round(max(times), 2) if times else None,
                    "n": len(times),
                    "never_ended": never,
                },
                "reconnects": chaos.reconnects,
                "client_errors": dict(chaos.errors),
                "node_log_tracebacks": sum(
                    (n.folder / "gateway.log").read_text(errors="replace").count("Traceback") for n in nodes
                ),
                "logs": str(tmp),
            }
        finally:
            for node in nodes:
                await node.stop()
            await redis.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="how long faults are injected")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--capacity", type=int, default=8, help="chats per agent")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--callers", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a customer's messages")
    parser.add_argument("--kill-every", type=float, default=25.0)
    parser.add_argument("--restart-after", type=float, default=3.0)
    parser.add_argument("--redis-every", type=float, default=45.0)
    parser.add_argument("--redis-down", type=float, default=3.0, help="seconds Redis stays down")
    parser.add_argument("--settle", type=float, default=20.0, help="load without faults before counting")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    if args.agents * args.capacity < args.customers + args.callers:
        parser.error("agents x capacity must cover the customers and callers")
    result = asyncio.run(run(args))
    t = result["takeover_seconds"]
    print(f"chaos over {result['minutes']} min: {result['node_kills']} node kills, logs in {result['logs']}")
    print(
        f"  lost        {result['lost_customer_to_agent']} of {result['customer_messages_acked']} customer messages, "
        f"{result['lost_agent_to_customer']} of {result['agent_replies_acked']} agent replies "
        f"{result['lost_examples'] or ''}"
    )
    print(f"  duplicated  {result['duplicated']}")
    print(f"  wedged      {result['wedged']} {result['wedged_examples']}")
    print(f"  calls       {result['calls']} ({result['calls_on_killed_nodes']} on killed nodes)")
    if t["n"]:
        print(
            f"  takeover    p50 {t['p50']} s  p95 {t['p95']} s  max {t['max']} s  (n={t['n']}, never {t['never_ended']})"
        )
    else:
        print(f"  takeover    none: {t['never_ended']} calls of killed nodes never got call_ended")
    print(f"  reconnects  {result['reconnects']}  client errors {result['client_errors']}")
    print(f"  tracebacks  {result['node_log_tracebacks']} in the nodes' logs")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
