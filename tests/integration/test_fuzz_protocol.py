"""Protocol fuzz: thousands of junk frames and hundreds of mutated SDP offers against a real node.

Seeded and bounded (``tests/support/junk.py``). Over real customer and agent
sockets it asserts: no traceback in the node's log (no record with exc_info,
no aiohttp "Error handling request", no unraisable exception), no ``internal``
error, every error code documented in docs/protocol.md, every socket either
still usable (a probe frame after the junk gets its normal answer) or closed
with a documented close code after a documented error, nothing stored from
invalid frames, and the process RSS bounded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection

from media.telephone_event import enable_telephone_events
from tests.conftest import PASSWORDS
from tests.support.junk import CHROMIUM_OFFER, Junk
from tests.support.servers import Node

SEED = int(os.environ.get("FUZZ_SEED", "20261205"))  # another seed: FUZZ_SEED=7 pytest ...
CUSTOMER_SOCKETS, AGENTS = 4, ("alice", "bob", "carol")
BATCHES, BATCH = 24, 40  # per socket: 7 sockets x 24 x 40 = 6,720 frames after hello
HELLO_SOCKETS = 240  # fresh sockets whose first frame is junk (both roles)
CUSTOMER_OFFERS, AGENT_OFFERS, MONITOR_OFFERS = 200, 120, 80
CLOSE_AFTER = {"unauthorized", "token_expired", "session_revoked"}  # error codes a socket is closed after
DOCUMENTED_CLOSE = {1000, 1009}  # normal close after such an error; 1009: a frame over 256 KiB
RSS_GROWTH_LIMIT_MB = 60
DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_codes() -> set[str]:
    section = DOCS.read_text().split("## Error codes", 1)[1]
    return set(re.findall(r"`([a-z_]+)`", section))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class LogTrap(logging.Handler):
    """Every record a traceback would show in: exc_info set, or aiohttp's 'Error handling request'."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "Error handling request" in record.getMessage() or record.levelno >= logging.ERROR:
            self.bad.append(record)

    def summary(self) -> list[str]:
        """One line per kind of failure (logger, exception type, where it was raised), with a count."""
        kinds: dict[str, int] = {}
        for r in self.bad:
            exc = r.exc_info[1] if r.exc_info else None
            tb = exc.__traceback__ if exc is not None else None
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb is not None else ""
            what = re.sub(r"\d+", "N", str(exc)[:100])
            key = f"{r.name}: {type(exc).__name__ if exc else r.getMessage()[:80]} at {where}: {what}"
            kinds[key] = kinds.get(key, 0) + 1
        return [f"{n} x {key}" for key, n in sorted(kinds.items(), key=lambda kv: -kv[1])]


@dataclass
class Tally:
    frames: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)  # sockets that closed when they should not have
    closed_ok: int = 0
    unexpected: list[str] = field(default_factory=list)  # answers of the wrong kind

    def error(self, frame: dict[str, Any]) -> None:
        code = str(frame.get("code"))
        self.errors[code] = self.errors.get(code, 0) + 1


class Socket:
    """A raw client socket: sends anything, reads frames until a predicate matches."""

    def __init__(self, session: aiohttp.ClientSession, url: str, tally: Tally) -> None:
        self.session, self.url, self.tally = session, url, tally
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.last_error: dict[str, Any] | None = None
        self.stuck = False

    async def open(self) -> None:
        self.ws = await self.session.ws_connect(self.url, max_msg_size=0)

    async def send(self, data: str | bytes | dict[str, Any]) -> None:
        assert self.ws is not None
        if isinstance(data, dict):
            await self.ws.send_str(json.dumps(data))
        elif isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)
        self.tally.frames += 1

    async def until(self, match: Any, timeout: float = 5.0) -> dict[str, Any] | None:
        """Frames until one ``match``es (returned); None when the socket closes first or stays silent
        for ``timeout`` seconds (a stuck socket: its sender died)."""
        assert self.ws is not None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    msg = await self.ws.receive()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        return None
                    frame = json.loads(msg.data)
                    if frame.get("type") == "error":
                        self.tally.error(frame)
                        self.last_error = frame
                    if match(frame):
                        return frame
        except TimeoutError:
            self.stuck = True
            return None

    def closed_properly(self) -> bool:
        assert self.ws is not None
        code = self.ws.close_code
        if code == 1009 or (
            code in DOCUMENTED_CLOSE and self.last_error is not None and self.last_error.get("code") in CLOSE_AFTER
        ):
            self.tally.closed_ok += 1
            return True
        return False

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


_TOKENS: dict[str, str] = {}


async def agent_token(session: aiohttp.ClientSession, node: Node, agent_id: str) -> str:
    """A real login (once per agent for the whole test)."""
    if agent_id not in _TOKENS:
        async with session.post(
            node.url + "/api/agent/login", json={"agent_id": agent_id, "password": PASSWORDS[agent_id]}
        ) as r:
            body = await r.json()
            assert r.status == 200, body
            _TOKENS[agent_id] = body["token"]
    return _TOKENS[agent_id]


async def greet(sock: Socket, node: Node, role: str, agent_id: str = "") -> str:
    """A valid hello; returns the customer id (or the agent id)."""
    await sock.open()
    token = await agent_token(sock.session, node, agent_id) if role == "agent" else None
    await sock.send({"type": "hello", "token": token})
    welcome = await sock.until(lambda f: f.get("type") == "welcome")
    assert welcome is not None, (role, sock.last_error)
    return str(welcome.get("customer_id") or agent_id)


async def probe(sock: Socket, n: int) -> bool:
    """A valid frame with a known answer: hanging up a call that does not exist -> not_found for that call (after
    waiting out the socket's frame rate when the probe itself was refused as one frame too many)."""
    for attempt in range(3):
        call_id = f"probe-{n}-{attempt}"
        await sock.send({"type": "hangup", "call_id": call_id})
        got = await sock.until(lambda f, c=call_id: f.get("type") == "error" and f.get("call_id") == c)
        if got is None or got.get("code") != "rate_limited":
            return got is not None and got.get("code") == "not_found"
        await asyncio.sleep(float(got.get("retry_after") or 1))
    return False


async def fuzz_socket(
    session: aiohttp.ClientSession, node: Node, role: str, agent_id: str, seed: int, tally: Tally, customers: list[str]
) -> None:
    junk = Junk(seed)
    url = f"{node.ws_url}/ws/{role}"
    sock = Socket(session, url, tally)
    customers.append(await greet(sock, node, role, agent_id))
    for batch in range(BATCHES):
        for _ in range(BATCH):
            await sock.send(junk.frame(role))
        if not await probe(sock, seed * 1000 + batch):
            assert sock.ws is not None
            tally.killed.append(
                f"{role} socket after batch {batch}: close {sock.ws.close_code}, stuck {sock.stuck}, "
                f"last error {sock.last_error}"
            )
            await sock.close()
            sock = Socket(session, url, tally)
            customers.append(await greet(sock, node, role, agent_id))
    await sock.close()


async def junk_hello(session: aiohttp.ClientSession, node: Node, role: str, junk: Junk, tally: Tally) -> None:
    sock = Socket(session, f"{node.ws_url}/ws/{role}", tally)
    await sock.open()
    await sock.send(junk.hello())
    first = await sock.until(lambda f: f.get("type") in ("welcome", "error"))
    if first is None or (first["type"] == "error" and first.get("code") in CLOSE_AFTER):
        closed = await sock.until(lambda f: False) if first is not None else None
        assert closed is None
        if not sock.closed_properly():
            assert sock.ws is not None
            tally.killed.append(f"{role} hello: close {sock.ws.close_code}, last error {sock.last_error}")
    else:
        if first["type"] == "error":  # still waiting for a hello: a valid one is welcome
            token = await agent_token(session, node, "bob") if role == "agent" else None
            await sock.send({"type": "hello", "token": token})
            if await sock.until(lambda f: f.get("type") == "welcome") is None:
                assert sock.ws is not None
                tally.killed.append(f"{role} after a junk hello: close {sock.ws.close_code}, {sock.last_error}")
        if sock.ws is not None and not sock.ws.closed and not await probe(sock, 0):
            tally.killed.append(f"{role} after hello: probe unanswered, {sock.last_error}")
    await sock.close()


# WebSocket-level junk and the close code the WebSocket layer answers it with (docs/protocol.md)
TRANSPORT_JUNK: list[tuple[str, bytes, aiohttp.WSMsgType, int]] = [
    ("text frame that is not UTF-8", b'{"type": "\xff"}', aiohttp.WSMsgType.TEXT, 1007),
    ("text frame with a UTF-8 surrogate", b'{"type": "\xed\xa0\x80"}', aiohttp.WSMsgType.TEXT, 1007),
    ("continuation without a start", b"x", aiohttp.WSMsgType.CONTINUATION, 1002),
    ("frame over 256 KiB", b"[" * (300 * 1024), aiohttp.WSMsgType.BINARY, 1009),
]


async def transport_junk(session: aiohttp.ClientSession, node: Node, tally: Tally) -> None:
    for role in ("customer", "agent"):
        for what, payload, opcode, code in TRANSPORT_JUNK:
            sock = Socket(session, f"{node.ws_url}/ws/{role}", tally)
            await greet(sock, node, role, "alice")
            assert sock.ws is not None
            await sock.ws._writer.send_frame(payload, opcode)  # the public API sends only well-formed frames
            tally.frames += 1
            if await sock.until(lambda f: False) is not None or sock.ws.close_code != code:
                tally.killed.append(f"{role} {what}: close {sock.ws.close_code}, expected {code}")
            else:
                tally.closed_ok += 1
            await sock.close()


HTTP_BODIES = 200


async def http_junk(session: aiohttp.ClientSession, node: Node, tally: Tally) -> None:
    """Junk login bodies: every answer is problem JSON with a documented code, never a 500."""
    junk = Junk(SEED + 77)
    for i in range(HTTP_BODIES):
        body = junk.encode(junk.mutate({"agent_id": "nobody", "password": "x"}))
        async with session.post(
            node.url + "/api/agent/login", data=body, headers={"Content-Type": "application/json"}
        ) as r:
            tally.frames += 1
            try:
                problem = await r.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                problem = None
            if r.status >= 500 or not isinstance(problem, dict) or "code" not in problem:
                tally.unexpected.append(f"login body {i}: HTTP {r.status} {problem!r:.200}")
            else:
                tally.error(problem)


async def aiortc_offer() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    enable_telephone_events(pc)
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def sdp_fuzz(
    session: aiohttp.ClientSession, node: Node, tally: Tally, answered: set[str], refused: set[str]
) -> None:
    """Mutated offers: customers' call_offer (real legs for usable ones, hung up at once), agents' call_offer
    and a supervisor's call_monitor (no such call: a usable offer is not_found, a bad one bad_sdp)."""
    junk = Junk(SEED + 99)
    bases = [CHROMIUM_OFFER, await aiortc_offer()]
    sock = Socket(session, f"{node.ws_url}/ws/customer", tally)
    customer = await greet(sock, node, "customer")
    for i in range(CUSTOMER_OFFERS):
        call_id = f"sdp-{i}"
        await sock.send({"type": "call_offer", "call_id": call_id, "sdp": junk.sdp(junk.rng.choice(bases))})
        got = await sock.until(lambda f, c=call_id: f.get("call_id") == c and f.get("type") in ("error", "call_answer"))
        if got is not None and got["type"] == "error":
            if got["code"] not in ("bad_sdp", "no_audio", "bad_field"):
                tally.unexpected.append(f"customer call_offer {i}: {got}")
            continue
        if got is None:
            assert sock.ws is not None
            tally.killed.append(f"customer call_offer {i}: close {sock.ws.close_code}, {sock.last_error}")
        else:  # a usable offer: a real call, hung up at once
            answered.add(customer)
            await sock.send({"type": "hangup", "call_id": call_id})
            await probe(sock, i)
        if customer not in answered:
            refused.add(customer)
        await sock.close()  # a fresh customer for the next offers
        sock = Socket(session, f"{node.ws_url}/ws/customer", tally)
        customer = await greet(sock, node, "customer")
    if customer not in answered:
        refused.add(customer)
    await sock.close()
    for agent_id, frame_type, count in (
        ("alice", "call_offer", AGENT_OFFERS),
        ("carol", "call_monitor", MONITOR_OFFERS),
    ):
        sock = Socket(session, f"{node.ws_url}/ws/agent", tally)
        await greet(sock, node, "agent", agent_id)
        for i in range(count):
            call_id = f"{frame_type}-{i}"
            frame = {"type": frame_type, "call_id": call_id, "sdp": junk.sdp(junk.rng.choice(bases))}
            if frame_type == "call_monitor":
                frame["mode"] = "listen"
            await sock.send(frame)
            got = await sock.until(lambda f, c=call_id: f.get("call_id") == c and f.get("type") == "error")
            if got is None:
                assert sock.ws is not None
                tally.killed.append(f"{agent_id} {frame_type} {i}: close {sock.ws.close_code}, {sock.last_error}")
                sock = Socket(session, f"{node.ws_url}/ws/agent", tally)
                await greet(sock, node, "agent", agent_id)
            elif got["code"] not in ("bad_sdp", "no_audio", "bad_field", "not_found", "not_connected"):
                tally.unexpected.append(f"{agent_id} {frame_type} {i}: {got}")
        await sock.close()


async def warm_up(session: aiohttp.ClientSession, node: Node, tally: Tally) -> None:
    """What is allocated once (codecs, the flow's prompts, aiortc's tables, the allocator's high-water mark for
    frames up to 64 KiB) stays out of the RSS bound: a few real calls and a first round of junk."""
    await asyncio.gather(
        fuzz_socket(session, node, "customer", "", SEED - 1, tally, []),
        fuzz_socket(session, node, "agent", "bob", SEED - 2, tally, []),
    )
    for _ in range(3):
        sock = Socket(session, f"{node.ws_url}/ws/customer", tally)
        await greet(sock, node, "customer")
        await sock.send({"type": "call_offer", "call_id": "warm-up", "sdp": await aiortc_offer()})
        answer = await sock.until(lambda f: f.get("type") in ("call_answer", "error"))
        assert answer is not None and answer["type"] == "call_answer", answer
        await sock.send({"type": "hangup", "call_id": "warm-up"})
        assert await probe(sock, 0)
        await sock.close()


async def stored_conversations(node: Node) -> list[str]:
    redis = node.services.store.redis
    return [key.decode() async for key in redis.scan_iter(match=node.services.keys.conv("*"))]


async def test_protocol_fuzz(node: Node) -> None:
    trap = LogTrap()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(trap)
    root.setLevel(logging.WARNING)  # tracebacks come at ERROR; INFO lines would only fill memory
    unraisable: list[Any] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    tally = Tally()
    _TOKENS.clear()
    customers: list[str] = []
    answered: set[str] = set()
    refused: set[str] = set()
    try:
        async with aiohttp.ClientSession() as session:
            await warm_up(session, node, tally)
            before = set(await stored_conversations(node))
            rss_before = rss_mb()
            started = time.monotonic()
            # 1. junk after a valid hello, on both kinds of socket at once (customers send only invalid messages)
            await asyncio.gather(
                *(
                    fuzz_socket(session, node, "customer", "", SEED + i, tally, customers)
                    for i in range(CUSTOMER_SOCKETS)
                ),
                *(
                    fuzz_socket(session, node, "agent", a, SEED + 10 + i, tally, customers)
                    for i, a in enumerate(AGENTS)
                ),
            )
            # nothing stored from invalid frames: no conversation was opened
            stored_after_invalid = len(set(await stored_conversations(node)) - before)
            rss = [rss_mb() - rss_before]
            # 2. junk as the first frame
            junk = Junk(SEED + 50)
            for i in range(HELLO_SOCKETS):
                await junk_hello(session, node, "customer" if i % 2 else "agent", junk, tally)
            await transport_junk(session, node, tally)
            await http_junk(session, node, tally)
            stored_after_hello = len(set(await stored_conversations(node)) - before)
            rss.append(rss_mb() - rss_before)
            # 3. mutated SDP offers
            await sdp_fuzz(session, node, tally, answered, refused)
            half_opened = [c for c in refused if await node.services.conversations.current_for_customer(c)]
            rss.append(rss_mb() - rss_before)
            for _ in range(50):  # every call of the SDP phase was hung up: none is left behind
                if not node.services.calls.calls:
                    break
                await asyncio.sleep(0.1)
            calls_left = len(node.services.calls.calls)
            # 4. after all that, the node still works: a real conversation end to end
            sock = Socket(session, f"{node.ws_url}/ws/customer", tally)
            await greet(sock, node, "customer")
            await sock.send({"type": "message", "client_id": "after-fuzz", "text": "still works\n\tok"})
            assert await sock.until(lambda f: f.get("type") == "ack" and f.get("client_id") == "after-fuzz")
            await sock.close()
        await asyncio.sleep(0.2)
    finally:
        root.removeHandler(trap)
        root.setLevel(old_level)
        sys.unraisablehook = old_hook
    elapsed = time.monotonic() - started
    growth = rss_mb() - rss_before
    sdp_killed = sum(1 for k in tally.killed if "call_offer " in k or "call_monitor " in k)
    hello_killed = sum(1 for k in tally.killed if "hello" in k)
    report = (
        f"{tally.frames} frames in {elapsed:.1f} s; {len(trap.bad)} log records with tracebacks/errors; "
        f"{len(tally.killed)} killed sockets ({sdp_killed} by SDP offers, {hello_killed} by first frames); "
        f"{tally.closed_ok} closed properly; "
        f"{len(answered)} offers answered; errors by code {dict(sorted(tally.errors.items()))}; "
        f"RSS +{growth:.1f} MB (after each phase {[round(r, 1) for r in rss]}); conversation keys stored from invalid frames {stored_after_invalid}, "
        f"after junk hellos {stored_after_hello}; customers left with a conversation by a refused offer "
        f"{len(half_opened)}"
    )
    print(report, *trap.summary(), *tally.killed[:20], sep="\n")
    assert tally.frames >= 7000, report
    assert stored_after_invalid == stored_after_hello == 0, f"invalid frames stored conversations; {report}"
    assert not half_opened, f"refused offers left conversations; {report}"
    assert calls_left == 0, f"{calls_left} calls still live after every one was hung up; {report}"
    assert not trap.bad, f"{report}\n" + "\n".join(trap.summary())
    assert not unraisable, f"{report}\nunraisable: {unraisable[:3]}"
    assert not tally.killed, f"{report}\n" + "\n".join(tally.killed[:10])
    assert not tally.unexpected, f"{report}\n" + "\n".join(tally.unexpected[:10])
    assert "internal" not in tally.errors, report
    undocumented = set(tally.errors) - documented_codes()
    assert not undocumented, f"undocumented error codes {undocumented}; {report}"
    assert growth < RSS_GROWTH_LIMIT_MB, report
