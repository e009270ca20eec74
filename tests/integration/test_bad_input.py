"""Bad input gets a clear error naming what was wrong; nothing is stored; others are unaffected."""

from __future__ import annotations

import json
import time

import aiohttp

from gateway.wire import tokens
from tests.conftest import Clients
from tests.support.servers import Node


async def _timeline_lengths(node: Node) -> dict[str, int]:
    redis = node.services.store.redis
    out = {}
    async for key in redis.scan_iter(match=node.services.keys.timeline("*")):
        out[key.decode()] = await redis.xlen(key)
    return out


async def test_malformed_frames_get_error_frames_and_store_nothing(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("valid")
    await alice.assigned()
    before = await _timeline_lengths(node)

    cases = [
        ("{not json", "bad_json", None),
        ("[1,2,3]", "bad_json", None),
        (json.dumps({"type": "explode"}), "unknown_type", "type"),
        (json.dumps({"type": "message", "text": "no id"}), "missing_field", "client_id"),
        (json.dumps({"type": "message", "client_id": "x", "text": ""}), "bad_field", "text"),
        (json.dumps({"type": "message", "client_id": "x", "text": "y" * 5000}), "bad_field", "text"),
        (
            json.dumps({"type": "close", "conversation_id": ack["conversation_id"], "disposition": "resolved"}),
            "unknown_type",
            "type",
        ),
        (json.dumps({"type": "message", "client_id": "big", "text": "z" * 20000}), "frame_too_large", None),
    ]
    for raw, code, field in cases:
        await cust.send_raw(raw)
        err = await cust.expect("error")
        assert err["code"] == code, (raw[:60], err)
        assert err.get("field") == field, (raw[:60], err)
        assert err["message"]
    assert await _timeline_lengths(node) == before
    # the same connection still works, and so does the agent's
    await cust.say("still here")
    got = await alice.event("message", lambda e: e["text"] == "still here")
    assert got["conversation_id"] == ack["conversation_id"]


async def test_huge_frame_closes_only_that_socket(clients: Clients) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    other = clients.customer()
    await other.hello()
    await other.say("bystander")
    await alice.assigned()
    attacker = clients.customer()
    await attacker.hello()
    await attacker.send_raw("x" * (300 * 1024))
    assert attacker.ws is not None
    msg = await attacker.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    assert attacker.ws.close_code == 1009
    await other.say("I am unaffected")
    await alice.event("message", lambda e: e["text"] == "I am unaffected")


async def test_forged_expired_and_wrong_kind_tokens(clients: Clients, node: Node) -> None:
    signer = node.services.signer
    expired = signer.sign("u_old", tokens.CUSTOMER, now=time.time() - 10, ttl=5)
    cases = [
        ("not-a-token", "unauthorized", "malformed"),
        (signer.sign("u_1", tokens.CUSTOMER, now=time.time(), ttl=60)[:-3] + "abc", "unauthorized", "signature"),
        (expired, "token_expired", "expired"),
        (signer.sign("alice", tokens.AGENT, now=time.time(), ttl=60), "unauthorized", "not a customer token"),
    ]
    for token, code, words in cases:
        cust = clients.customer(token)
        await cust.connect()
        await cust.send({"type": "hello", "token": token})
        err = await cust.expect("error")
        assert err["code"] == code and words in err["message"] and err["field"] == "token"
        assert cust.ws is not None
        msg = await cust.ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    # a customer token does not open the agent desk
    customer_token = signer.sign("u_1", tokens.CUSTOMER, now=time.time(), ttl=60)
    agent = clients.agent("alice")
    await agent.connect()
    await agent.send({"type": "hello", "token": customer_token})
    err = await agent.expect("error")
    assert err["code"] == "unauthorized" and "not a agent token" in err["message"]
    assert await _timeline_lengths(node) == {}


async def test_first_frame_must_be_hello(clients: Clients) -> None:
    cust = clients.customer()
    await cust.connect()
    await cust.send({"type": "message", "client_id": "m", "text": "hi"})
    err = await cust.expect("error")
    assert err["code"] == "hello_required"
    await cust.send({"type": "hello", "token": None})
    assert (await cust.expect("welcome"))["customer_id"].startswith("u_")


async def test_login_errors_are_problem_json(node: Node) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(node.url + "/api/agent/login", data="{oops") as r:
            assert r.status == 400 and (await r.json())["code"] == "bad_json"
        async with s.post(node.url + "/api/agent/login", json={"agent_id": "alice"}) as r:
            body = await r.json()
            assert r.status == 400 and body == {
                "code": "missing_field",
                "message": "'password' is required",
                "field": "password",
            }
        async with s.post(node.url + "/api/agent/login", json={"agent_id": "nobody", "password": "x"}) as r:
            assert r.status == 401 and (await r.json())["code"] == "unauthorized"
        frozen = time.time()  # the backoff's first wait (1 s) does not run out on a slow machine
        node.services.login_limits.clock = lambda: frozen
        for _ in range(5):  # 5 failures per (agent id, address), then backoff (gateway/wire/login_limits.py)
            async with s.post(node.url + "/api/agent/login", json={"agent_id": "bob", "password": "wrong"}) as r:
                assert r.status == 401
        async with s.post(node.url + "/api/agent/login", json={"agent_id": "bob", "password": "bob-secret-22"}) as r:
            body = await r.json()
            assert r.status == 429 and body["code"] == "rate_limited" and body["retry_after"] == 1
            assert r.headers["Retry-After"] == "1"
        async with s.post(node.url + "/api/agent/login", data="x" * 70000) as r:
            assert r.status in (400, 413)
