"""Redis stopped for ~10 s under chat traffic, with customers on one node and agents on another (real node
processes, a real Redis restarted on its port with its append-only file):

- every acknowledged message reaches the other side live, exactly once and in order, without the test clients
  reconnecting (each node replays from the timelines what its sockets missed while its pub/sub was down);
- a desk closed during the outage leaves no ghost agent: its presence session is gone once Redis is back, and a
  new chat is not given to that agent;
- a hello refused because Redis is down gets ``store_unavailable`` and close code 4503 (the clients come back at
  once, without growing their backoff), and a customer retrying that way is back soon after Redis returns;
- no traceback in either node's log.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from gateway.store.keys import Keys
from gateway.tasks import cancel_and_wait
from tests.conftest import PASSWORDS
from tests.support.servers import GatewayProcess, RedisServer

OUTAGE_SECONDS = 10.0
RETRY_SECONDS = 0.3  # a sender tries a refused message again this soon (the widget's outbox does the same)
WITHIN = 30.0  # generous bound for anything to arrive
STORE_UNAVAILABLE_CLOSE = 4503

_ids = itertools.count(1)


def event_key(event_id: str) -> str:
    """An ack names ``conv/ms-seq`` or ``ms-seq``; events name ``ms-seq``."""
    return event_id.rsplit("/", 1)[-1]


def id_order(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_key(event_id).partition("-")
    return int(ms), int(seq)


@dataclass
class Side:
    """One open socket that sends chat messages and records every frame it receives (one reader task)."""

    name: str
    ws: aiohttp.ClientWebSocketResponse
    session: aiohttp.ClientSession
    frames: list[dict[str, Any]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # when each frame came (time.monotonic())
    acked: dict[str, tuple[str, str]] = field(default_factory=dict)  # client id -> (conversation id, event id)
    errors: Counter[str] = field(default_factory=Counter)
    closed: str = ""  # why the socket ended (the test clients must not need to reconnect)
    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name=f"reader-{self.name}")

    async def _read(self) -> None:
        while True:
            msg = await self.ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                self.closed = f"{msg.type.name} {msg.data!r} {msg.extra!r}"
                for fut in self._waiting.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError(self.closed))
                return
            frame = msg.json()
            self.frames.append(frame)
            self.arrived.append(time.monotonic())
            cid = frame.get("client_id")
            if frame["type"] in ("ack", "error") and cid in self._waiting and not self._waiting[cid].done():
                self._waiting[cid].set_result(frame)

    async def send_message(self, frame: dict[str, Any]) -> None:
        """Send until acknowledged: a refused frame (Redis down) is sent again, with the same client id."""
        client_id = frame["client_id"]
        while True:
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[client_id] = fut
            await self.ws.send_json(frame)
            reply = await asyncio.wait_for(fut, WITHIN)
            if reply["type"] == "ack":
                self.acked[client_id] = (reply["conversation_id"], event_key(reply["event_id"]))
                return
            self.errors[reply["code"]] += 1
            await asyncio.sleep(RETRY_SECONDS)

    def events(self) -> list[dict[str, Any]]:
        return [f["event"] for f in self.frames if f["type"] == "event"]

    def first(self, type_: str) -> dict[str, Any] | None:
        return next((f for f in self.frames if f["type"] == type_), None)

    async def wait_for(self, what: str, check: Any) -> None:
        try:
            async with asyncio.timeout(WITHIN):
                while not check():
                    if self.closed:
                        raise AssertionError(f"{self.name}: socket ended ({self.closed}) while waiting for {what}")
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {what} within {WITHIN} s") from None

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader
            self._reader = None
        await self.session.close()


async def open_side(name: str, url: str, hello: dict[str, Any]) -> Side:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(url)
    side = Side(name, ws, session)
    side.start()
    await ws.send_json(hello)
    await side.wait_for("welcome", lambda: side.first("welcome") or side.first("error"))
    assert side.first("welcome") is not None, side.frames
    return side


async def agent_side(gw: GatewayProcess, agent_id: str) -> Side:
    login = {"agent_id": agent_id, "password": PASSWORDS[agent_id]}
    async with aiohttp.ClientSession() as s, s.post(gw.url + "/api/agent/login", json=login) as r:
        token = (await r.json())["token"]
    side = await open_side(agent_id, gw.url.replace("http", "ws") + "/ws/agent", {"type": "hello", "token": token})
    await side.ws.send_json({"type": "status", "status": "available"})
    await side.wait_for(
        "available", lambda: any(f["type"] == "agent" and f["agent"]["status"] == "available" for f in side.frames)
    )
    return side


async def first_chat(gw: GatewayProcess, sides: list[Side], text: str, client_id: str = "c1") -> tuple[Side, Side, str]:
    """Alice signs in, a customer says ``text`` and alice is assigned the chat: (alice, customer, conversation id).
    Each side is added to ``sides`` as it opens, so the caller's ``finally`` closes it."""
    alice = await agent_side(gw, "alice")
    sides.append(alice)
    customer = await open_side("customer", gw.url.replace("http", "ws") + "/ws/customer", {"type": "hello"})
    sides.append(customer)
    await customer.send_message({"type": "message", "client_id": client_id, "text": text})
    await alice.wait_for("the chat", lambda: alice.first("assigned"))
    return alice, customer, customer.acked[client_id][0]


async def agent_answers(alice: Side, customer: Side, cid: str) -> None:
    """Alice answers in ``cid`` and the customer receives it live."""
    await alice.send_message({"type": "message", "client_id": "a1", "conversation_id": cid, "text": "hi"})
    await customer.wait_for(
        "the agent's answer",
        lambda: any(e["type"] == "message" and e.get("author") == "agent" for e in customer.events()),
    )


@pytest.fixture
async def outage_redis() -> AsyncIterator[RedisServer]:
    server = RedisServer(persist=True)
    server.start()
    yield server
    server.stop()


def gateway(tmp_path: Path, name: str, agents_file: Path, redis_url: str, *extra: str) -> GatewayProcess:
    return GatewayProcess(
        tmp_path / name,
        "--redis-url",
        redis_url,
        "--agents-file",
        str(agents_file),
        "--log-format",
        "text",
        "--limit-messages-per-minute",
        "6000",
        *extra,
        env={"CG_SECRET": "test-secret-0123456789abcdef"},
    )


async def customer_retrying_hello(url: str, redis_up: list[float]) -> tuple[list[int | None], float]:
    """A widget-like customer that connects while Redis is down: each refused hello is retried after a short
    pause (what the widget does on close code 4503). Returns the close codes it got and how long after Redis came
    back its welcome arrived."""
    codes: list[int | None] = []
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.ws_connect(url + "/ws/customer") as ws:
                await ws.send_json({"type": "hello", "token": None})
                welcome = False
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT and msg.json()["type"] == "welcome":
                        welcome = True
                        break
                if welcome:
                    return codes, time.monotonic() - redis_up[0]
                codes.append(ws.close_code)
            await asyncio.sleep(0.25)


def messages(side: Side, cid: str, author: str) -> Counter[str]:
    """How many times each message event of ``author`` in ``cid`` reached ``side`` (by event id)."""
    return Counter(
        e["id"]
        for e in side.events()
        if e["type"] == "message" and e["author"] == author and e["conversation_id"] == cid
    )


async def check_delivered(sender: Side, receiver: Side, cid: str, author: str, *, failover: bool = False) -> None:
    """Every message ``sender`` had acknowledged in ``cid`` reached ``receiver`` live, once, in order.

    ``failover`` (a replica promoted, asynchronous replication): a message published live by the old master but not
    yet on the replica is lost with it, and its sender, never acknowledged, sends it again: it is stored anew under
    another id. The receiver may then hold both ids for that one message, with the same client id (the desk and the
    widget show a message once per client id), so an unacknowledged id is allowed when its client id was
    acknowledged."""
    # (the first message opened the conversation before it was assigned: the desk reads it in the history)
    sent = {
        event_id for client_id, (conv, event_id) in sender.acked.items() if conv == cid and "first" not in client_id
    }
    try:
        await receiver.wait_for(f"{sender.name}'s messages", lambda: sent <= set(messages(receiver, cid, author)))
    except AssertionError as exc:
        missing = sorted(sent - set(messages(receiver, cid, author)), key=id_order)
        got = [(e["id"], e["type"], e.get("author")) for e in receiver.events() if e["conversation_id"] == cid]
        raise AssertionError(
            f"{exc}: {len(missing)} of {len(sent)} acknowledged never arrived: {missing}; received: {got}"
        ) from None
    counts = messages(receiver, cid, author)
    assert {k: n for k, n in counts.items() if n > 1} == {}, f"{receiver.name} got some twice"
    unacknowledged = set(counts) - {event_id for conv, event_id in sender.acked.values()}
    if failover:
        client_ids = {e["id"]: e.get("client_id") for e in receiver.events() if e["conversation_id"] == cid}
        unacknowledged = {i for i in unacknowledged if client_ids.get(i) not in sender.acked}
    assert unacknowledged == set(), "unacknowledged messages"
    ids = [e["id"] for e in receiver.events() if e["conversation_id"] == cid]
    assert ids == sorted(ids, key=id_order), f"{receiver.name}: events out of order"


async def chat(side: Side, stop: asyncio.Event, cid: str | None = None) -> None:
    """Messages every 0.1 s until ``stop``, each sent until acknowledged (the agent's side names ``cid``)."""
    for i in itertools.count():
        if stop.is_set():
            return
        frame = {"type": "message", "client_id": f"{side.name}-{next(_ids)}", "text": f"{side.name} #{i}"}
        if cid is not None:
            frame["conversation_id"] = cid
        await side.send_message(frame)
        await asyncio.sleep(0.1)


def live_sessions(url: str, agent_id: str) -> int:
    r = redis.Redis.from_url(url)
    try:
        return int(r.zcount(Keys().agent_sessions(agent_id), int(time.time() * 1000), "+inf"))
    finally:
        r.close()


def conversation(url: str, cid: str) -> dict[str, str]:
    r = redis.Redis.from_url(url, decode_responses=True)
    try:
        return dict(r.hgetall(Keys().conv(cid)))  # type: ignore[arg-type]
    finally:
        r.close()


async def wind_down(
    stop: asyncio.Event, traffic: list[asyncio.Task[None]], sides: list[Side], gw: GatewayProcess
) -> None:
    """A test's ``finally``: the chat traffic stopped, every socket closed, the gateway process stopped."""
    stop.set()
    for task in traffic:
        await cancel_and_wait(task)
    for side in sides:
        await side.close()
    if gw.proc is not None:
        await gw.stop()


def assert_clean_log(gw: GatewayProcess) -> str:
    """No traceback and no failed request in the gateway's log (returned, for more checks)."""
    text = gw.log.read_text()
    at = max(text.find("Traceback"), text.find("Error handling request"))
    assert at < 0, text[max(0, at - 1000) : at + 4000]
    return text


async def test_redis_outage_under_chat_traffic_loses_nothing_live_and_leaves_no_ghost(
    tmp_path: Path, agents_file: Path, outage_redis: RedisServer
) -> None:
    a = gateway(tmp_path, "a", agents_file, outage_redis.url)  # the customers' node
    b = gateway(tmp_path, "b", agents_file, outage_redis.url)  # the agents' node
    customer_ws = a.url.replace("http", "ws")
    sides: list[Side] = []
    late: asyncio.Task[tuple[list[int | None], float]] | None = None
    try:
        await a.start()
        await b.start()
        agents = [await agent_side(b, "alice"), await agent_side(b, "bob")]  # capacity 2 each
        sides += agents
        customers = [await open_side(f"customer{n}", customer_ws + "/ws/customer", {"type": "hello"}) for n in range(4)]
        sides += customers
        for c in customers:
            await c.send_message({"type": "message", "client_id": f"{c.name}-first", "text": "hello"})
        for agent in agents:  # alice and bob are full; then carol comes, available, with room
            await agent.wait_for(
                "two chats", lambda agent=agent: [f["type"] for f in agent.frames].count("assigned") == 2
            )
        assigned = {f["conversation"]["id"]: agent for agent in agents for f in agent.frames if f["type"] == "assigned"}
        carol = await agent_side(b, "carol")
        sides.append(carol)

        stop = asyncio.Event()
        traffic = [asyncio.create_task(chat(c, stop)) for c in customers]
        traffic += [asyncio.create_task(chat(agent, stop, cid)) for cid, agent in assigned.items()]
        redis_up: list[float] = []  # when Redis came back
        try:
            await asyncio.sleep(2)
            outage_redis.halt()
            down_at = time.monotonic()
            await asyncio.sleep(1)
            await carol.close()  # her desk closes while Redis is down
            late = asyncio.create_task(customer_retrying_hello(customer_ws, redis_up))
            await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - down_at))
            await asyncio.to_thread(outage_redis.start)
            redis_up.append(time.monotonic())
            await asyncio.sleep(3)
        finally:
            stop.set()
            await asyncio.gather(*traffic)
        close_codes, back_after = await asyncio.wait_for(late, WITHIN)

        # every message acknowledged to one side reached the other live, exactly once, in order
        for cust in customers:
            cid = cust.acked[f"{cust.name}-first"][0]
            await check_delivered(cust, assigned[cid], cid, "customer")
            await check_delivered(assigned[cid], cust, cid, "agent")
        assert [(s.name, s.closed) for s in sides if s.closed and s is not carol] == []
        refused = sum((s.errors for s in sides), Counter[str]())
        print(f"refused while Redis was down: {dict(refused)}")

        # the closed desk left no ghost: carol has no live presence session, and a new chat is not hers
        try:
            async with asyncio.timeout(WITHIN):
                while live_sessions(outage_redis.url, "carol"):
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError("carol's desk closed during the outage, but her presence session lives on") from None
        newcomer = await open_side("newcomer", customer_ws + "/ws/customer", {"type": "hello"})
        sides.append(newcomer)
        await newcomer.send_message({"type": "message", "client_id": "new-1", "text": "anyone?"})
        await newcomer.wait_for("queued", lambda: newcomer.first("queue"))  # alice and bob are full
        conv = conversation(outage_redis.url, newcomer.acked["new-1"][0])
        assert (conv["state"], conv.get("agent_id", "")) == ("queued", ""), conv

        # hellos refused while Redis was down said so with the close code clients retry at once on
        # (a reported figure, not asserted: bounded by WITHIN above; the close codes are checked below)
        print(f"customer back {back_after:.2f} s after Redis; refused hellos: {len(close_codes)}")
    finally:
        for side in sides:
            await side.close()
        await cancel_and_wait(late)
        for gw in (a, b):
            if gw.proc is not None:
                await gw.stop()
    for gw in (a, b):
        assert_clean_log(gw)
    assert close_codes and set(close_codes) == {STORE_UNAVAILABLE_CLOSE}, close_codes


FROZEN_SECONDS = 8.0
FROZEN_TIMEOUT = "2"  # --redis-timeout of the node in the frozen Redis test


async def hello_answer(url: str) -> tuple[str, float]:
    """A customer's hello: ``welcome`` or the close code it was refused with, and how long that took."""
    start = time.monotonic()
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/ws/customer") as ws:
        await ws.send_json({"type": "hello", "token": None})
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT and msg.json()["type"] == "welcome":
                return "welcome", time.monotonic() - start
        return str(ws.close_code), time.monotonic() - start


async def test_a_redis_that_stops_answering_is_down_within_the_timeout_and_nothing_acknowledged_is_lost(
    tmp_path: Path, agents_file: Path, outage_redis: RedisServer
) -> None:
    """Redis frozen for 8 s (SIGSTOP: its connections stay open and nothing answers, as a frozen host or a network
    cut look to the node) while a customer and alice chat, the node's ``--redis-timeout`` 2 s: sends are refused
    with ``store_unavailable`` once the timeout has run out, not left waiting until Redis answers again; a new
    customer's hello is refused (4503) while Redis is still frozen; ``/readyz`` says ``unavailable``. Once Redis
    answers again, the chat goes on and every acknowledged message reached the other side live, once, in order."""
    gw = gateway(tmp_path, "a", agents_file, outage_redis.url, "--redis-timeout", FROZEN_TIMEOUT)
    sides: list[Side] = []
    stop = asyncio.Event()
    traffic: list[asyncio.Task[None]] = []
    try:
        await gw.start()
        alice, customer, cid = await first_chat(gw, sides, "hello", client_id="customer-first")
        traffic = [asyncio.create_task(chat(customer, stop)), asyncio.create_task(chat(alice, stop, cid))]
        await asyncio.sleep(1)
        outage_redis.freeze()
        frozen_at = time.monotonic()
        try:
            await asyncio.sleep(0.5)
            hello, hello_after = await asyncio.wait_for(
                hello_answer(gw.url.replace("http", "ws")), FROZEN_SECONDS - 1.5
            )
            async with aiohttp.ClientSession() as session, session.get(gw.url + "/readyz") as r:
                ready = (r.status, (await r.json())["status"])
            await asyncio.sleep(FROZEN_SECONDS - (time.monotonic() - frozen_at))
            refused = sum((s.errors for s in sides), Counter[str]())
        finally:
            outage_redis.thaw()
        thawed_at = time.monotonic()
        assert (hello, ready) == ("4503", (503, "unavailable")), (hello, ready)
        assert set(refused) == {"store_unavailable"}, f"no send was refused while Redis was frozen: {refused}"
        acked_before_thaw = {k for s in sides for k in s.acked}
        await asyncio.sleep(3)
        stop.set()
        await asyncio.gather(*traffic)
        assert {k for s in sides for k in s.acked} - acked_before_thaw, "nothing was acknowledged after the thaw"
        await check_delivered(customer, alice, cid, "customer")
        await check_delivered(alice, customer, cid, "agent")
        assert [(s.name, s.closed) for s in sides if s.closed] == []
        live = [at - thawed_at for s in sides for f, at in zip(s.frames, s.arrived, strict=True) if at > thawed_at]
        print(
            f"frozen Redis: hello refused after {hello_after:.2f} s; {sum(refused.values())} sends refused and sent "
            f"again; the first frame after the thaw came {min(live):.2f} s after it"
        )
    finally:
        outage_redis.thaw()
        await wind_down(stop, traffic, sides, gw)
    assert_clean_log(gw)
