"""The crash-free edges one by one (issue 11): a bad message stores nothing and holds no agent's slot; a bug while
handling a frame, a queued step, a hello or an HTTP request is an ``internal`` error with a request id, logged once
with its traceback, and the socket goes on. Faults are injected into one method of a real node."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from gateway.protocol.bus import CallCommand, CallReply, Message
from tests.conftest import Clients
from tests.support.servers import Node


async def stored_conversations(node: Node) -> list[str]:
    redis = node.services.store.redis
    return [key.decode() async for key in redis.scan_iter(match=node.services.keys.conv("*"))]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info]


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_a_surrogate_message_stores_nothing_and_holds_no_agent_slot(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello(context={"page": "/shop"})
    for raw in (
        '{"type": "message", "client_id": "m1", "text": "hi \\ud800"}',
        '{"type": "message", "client_id": "m\\udfff", "text": "hi"}',
        '{"type": "message", "client_id": "m\\u0000", "text": "hi"}',
        '{"type": "message", "client_id": "m2", "text": "escape \\u001b[31m"}',
    ):
        await cust.send_raw(raw)
        err = await cust.expect("error")
        assert err["code"] == "bad_field" and err["field"] in ("text", "client_id"), err
    assert await stored_conversations(node) == []
    assert await node.services.store.redis.scard(node.services.keys.agent_convs("alice")) == 0
    assert await node.services.conversations.current_for_customer(cust.customer_id) is None
    # the socket goes on, and the agent's slot was never taken: the real message is assigned to her
    ack = await cust.say("hello, real text\nwith a second line")
    assert (await alice.assigned())["id"] == ack["conversation_id"]
    await cust.say("tab\tand newline\n kept")
    got = await alice.event("message", lambda e: e["author"] == "customer")
    assert got["text"] == "tab\tand newline\n kept"
    # the agent's side of the same conversation: refused, nothing appended, the conversation stays open
    cid = ack["conversation_id"]
    timeline = await node.services.store.redis.xlen(node.services.keys.timeline(cid))
    for frame in (
        {"type": "message", "conversation_id": cid, "client_id": "a1", "text": "hi \ud800"},
        {"type": "note", "conversation_id": cid, "client_id": "a\u0007", "text": "note"},
        {"type": "close", "conversation_id": cid, "disposition": "resolved\udfff"},
    ):
        await alice.send(frame)  # json.dumps writes the surrogate as the escape \\ud800
        err = await alice.expect("error")
        assert err["code"] == "bad_field", err
    assert await node.services.store.redis.xlen(node.services.keys.timeline(cid)) == timeline
    assert (await node.services.store.conversation(cid) or {}).get("state") == "assigned"
    await alice.say(cid, "a real answer")


async def test_an_unexpected_error_in_a_frame_is_internal_and_the_socket_goes_on(
    clients: Clients, node: Node, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    cust = clients.customer()
    await cust.hello()

    def broken(call_id: str, customer_id: str) -> Any:
        raise RuntimeError("injected bug")

    monkeypatch.setattr(node.services.calls, "get", broken)
    await cust.send({"type": "hangup", "call_id": "call-7"})
    err = await cust.expect("error")
    assert err["code"] == "internal" and err["call_id"] == "call-7" and re.fullmatch(r"[0-9a-f]{12}", err["request_id"])
    assert "injected" not in err["message"] and err["request_id"] in err["message"]
    logged = records.tracebacks()
    assert len(logged) == 1 and err["request_id"] in logged[0].getMessage(), [r.getMessage() for r in logged]
    assert isinstance(logged[0].exc_info[1], RuntimeError)  # type: ignore[index]
    monkeypatch.undo()
    await cust.say("still served")  # the next frame gets its normal answer


async def test_an_unexpected_error_in_a_queued_step_is_internal_and_sending_goes_on(
    clients: Clients, node: Node, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    cust = clients.customer()
    await cust.hello()

    async def broken(cid: str) -> Any:
        raise RuntimeError("injected bug in a step")

    monkeypatch.setattr(node.services.conversations, "queue_position", broken)  # the follow step ends with it
    await cust.send({"type": "message", "client_id": "first", "text": "opens a conversation"})
    err = await cust.expect("error")
    assert err["code"] == "internal" and err["request_id"]
    await cust.expect("ack", lambda f: f["client_id"] == "first")
    monkeypatch.undo()
    await cust.say("second")
    assert [r.getMessage() for r in records.tracebacks()] == [
        f"unexpected RuntimeError in a queued step (request_id {err['request_id']})"
    ]


async def test_an_unexpected_error_at_hello_is_internal_then_closes_1011(
    clients: Clients, node: Node, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(customer_id: str) -> Any:
        raise RuntimeError("injected bug at start")

    monkeypatch.setattr(node.services.conversations, "current_for_customer", broken)
    cust = clients.customer()
    await cust.connect()
    await cust.send({"type": "hello", "token": None})
    err = await cust.expect("error")
    assert err["code"] == "internal" and err["request_id"]
    assert cust.ws is not None
    msg = await cust.ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.CLOSE and cust.ws.close_code == 1011
    assert len(records.tracebacks()) == 1


async def test_http_errors_are_problem_json_never_a_bare_500(
    node: Node, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with aiohttp.ClientSession() as s:
        deep = '{"agent_id": "alice", "password": ' + "[" * 5000 + "]" * 5000 + "}"
        async with s.post(node.url + "/api/agent/login", data=deep) as r:
            body = await r.json()
            assert r.status == 400 and body["code"] == "bad_json" and "limit is 32" in body["message"], body
        for agent_id in ("al\\ud800ice", "al\\u0000ice", "al\\nice"):
            async with s.post(
                node.url + "/api/agent/login", data='{"agent_id": "' + agent_id + '", "password": "x"}'
            ) as r:
                body = await r.json()
                assert r.status == 400 and (body["code"], body["field"]) == ("bad_field", "agent_id"), body
        async with s.post(node.url + "/api/agent/login", data='{"agent_id": NaN, "password": "x"}') as r:
            assert r.status == 400 and (await r.json())["code"] == "bad_json"
        async with s.get(node.url + "/no/such/page") as r:
            assert r.status == 404  # aiohttp's own answers pass through

        def broken() -> Any:
            raise RuntimeError("injected bug in a handler")

        monkeypatch.setattr(node.services.calls.frames, "stats", broken)
        async with s.get(node.url + "/api/stats") as r:
            body = await r.json()
            assert r.status == 500 and body["code"] == "internal" and "injected" not in body["message"], body
    logged = records.tracebacks()
    assert len(logged) == 1 and body["request_id"] in logged[0].getMessage()
    assert not [r for r in records.records if "Error handling request" in r.getMessage()]


async def test_a_bug_in_a_call_command_from_another_node_is_answered_internal(
    node: Node, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk on another node asked this one to act on a call: a bug here is answered 'internal' with a request
    id (logged once here), not with the exception's text."""
    services = node.services
    replies: list[CallReply] = []
    got = asyncio.Event()

    def on_reply(channel: str, message: Message) -> None:
        assert isinstance(message, CallReply)
        replies.append(message)
        got.set()

    async def broken(*args: Any) -> Any:
        raise RuntimeError("secret detail of the bug")

    await services.bus.subscribe(services.keys.node_channel("asking-node"), on_reply)
    monkeypatch.setattr(services.call_commands, "_local", broken)
    await services.bus.publish(
        services.keys.node_channel(services.settings.node_id),
        CallCommand("r1", reply_to="asking-node", agent_id="alice", op="hangup", call_id="call-9", args={}),
    )
    async with asyncio.timeout(5):
        await got.wait()
    await services.bus.unsubscribe(services.keys.node_channel("asking-node"), on_reply)
    error = replies[0].error
    assert error is not None
    assert replies[0].ok is False and error["code"] == "internal" and "secret" not in error["message"]
    assert [r.getMessage() for r in records.tracebacks()] == [
        f"unexpected RuntimeError in call command 'hangup' (request_id {error['request_id']})"
    ]
