"""Agent login on real nodes and a real Redis: limits counted before the password check, revocable
sessions, short-lived access tokens.

Addresses are simulated the way a reverse proxy reports them: the nodes trust 127.0.0.1 as a proxy,
and each request names its client in ``X-Forwarded-For``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.protocol.limits import REFRESH_GRACE_SECONDS
from gateway.protocol.server import CloseCode
from gateway.wire import tokens
from gateway.wire.login_limits import Backoff, LoginLimitConfig
from tests.conftest import PASSWORDS, bounded
from tests.support.clients import Agent
from tests.support.servers import Node, start_node

PROXY = ("127.0.0.1/32",)


@pytest.fixture
def proxied(settings: Settings) -> Settings:
    return replace(settings, trusted_proxies=PROXY)


@pytest.fixture
async def node_a(proxied: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(proxied, node_id="node-a"))
    yield started
    await bounded(started.stop(), "stopping node A")


@pytest.fixture
async def node_b(proxied: Settings) -> AsyncIterator[Node]:
    started = await start_node(replace(proxied, node_id="node-b"))
    yield started
    await bounded(started.stop(), "stopping node B")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Reply:
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]):
        self.status, self.body, self.headers = status, body, headers


async def login(http: aiohttp.ClientSession, node: Node, agent_id: str, password: str, address: str) -> Reply:
    async with http.post(
        node.url + "/api/agent/login",
        json={"agent_id": agent_id, "password": password},
        headers={"X-Forwarded-For": address},
    ) as r:
        return Reply(r.status, await r.json(), dict(r.headers))


async def post(http: aiohttp.ClientSession, node: Node, path: str, token: str) -> Reply:
    async with http.post(node.url + path, headers={"Authorization": f"Bearer {token}"}) as r:
        return Reply(r.status, await r.json(), dict(r.headers))


async def get(http: aiohttp.ClientSession, node: Node, path: str, token: str) -> Reply:
    async with http.get(node.url + path, headers={"Authorization": f"Bearer {token}"}) as r:
        return Reply(r.status, await r.json(), dict(r.headers))


async def desk(node: Node, agent_id: str, token: str) -> Agent:
    """An agent socket said hello with this token (no login of its own)."""
    agent = Agent(node.url, agent_id, PASSWORDS[agent_id])
    agent.token = token
    await agent.hello(available=False)
    return agent


async def expect_revoked(agent: Agent, within: float = 10.0) -> None:
    """The socket gets the session_revoked error frame, then is closed with the no-reconnect code: pushed, long
    before its 15-minute access token would expire (the bound is generous for a loaded machine, not a timing claim)."""
    err = await agent.expect("error", timeout=within)
    assert (err["code"], err["field"]) == ("session_revoked", "token")
    assert agent.ws is not None
    msg = await agent.ws.receive(timeout=within)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, CloseCode.SESSION_REVOKED)


def freeze(node: Node) -> None:
    """The limits' clock stops: a wait of 1 s does not run out while a slow machine hashes."""
    now = time.time()
    node.services.login_limits.clock = lambda: now


async def still_open(agent: Agent) -> None:
    """No error, no close: the socket still answers."""
    assert [f for f in await agent.quiet(0.3) if f["type"] == "error"] == []
    await agent.send({"type": "status", "status": "away"})
    assert (await agent.expect("agent"))["agent"]["status"] == "away"


# ------------------------------------------------------------------ limits


async def test_concurrent_guesses_are_counted_before_the_password_check(
    node_a: Node, http: aiohttp.ClientSession
) -> None:
    """Old code: all 40 were checked with scrypt (40 x 401): the counter was read before the hash."""
    freeze(node_a)
    replies = await asyncio.gather(*(login(http, node_a, "alice", f"guess-{i}", "203.0.113.7") for i in range(40)))
    assert Counter(r.status for r in replies) == {401: 5, 429: 35}  # 5 scrypt checks, not 40
    limited = [r for r in replies if r.status == 429]
    assert {r.body["code"] for r in limited} == {"rate_limited"}
    assert all(r.body["retry_after"] >= 1 and r.headers["Retry-After"] == str(r.body["retry_after"]) for r in limited)
    # the right password from that address waits too: it is refused before it is checked
    assert (await login(http, node_a, "alice", PASSWORDS["alice"], "203.0.113.7")).status == 429


async def test_the_real_agent_logs_in_from_elsewhere_during_a_spray(node_a: Node, http: aiohttp.ClientSession) -> None:
    """Old code: 10 failures from anywhere locked 'alice' out everywhere (429 for the real agent)."""
    for _ in range(3):
        await asyncio.gather(*(login(http, node_a, "alice", "wrong", "198.51.100.66") for _ in range(15)))
    real = await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.10")
    assert real.status == 200, real.body
    assert real.body["agent"]["id"] == "alice"
    on_desk = await desk(node_a, "alice", real.body["token"])
    assert on_desk.welcome["agent"]["id"] == "alice"
    await on_desk.close()


async def test_unknown_id_spraying_is_limited_per_address(node_a: Node, http: aiohttp.ClientSession) -> None:
    """Old code: unlimited (40 x 401, each a dummy scrypt)."""
    freeze(node_a)
    replies = await asyncio.gather(*(login(http, node_a, f"nobody-{i}", "pw", "203.0.113.99") for i in range(40)))
    assert Counter(r.status for r in replies) == {401: 20, 429: 20}
    # the address is in backoff whatever id it tries next; another address is not
    assert (await login(http, node_a, "nobody-else", "pw", "203.0.113.99")).status == 429
    assert (await login(http, node_a, "nobody-else", "pw", "203.0.113.100")).status == 401
    assert (await login(http, node_a, "bob", PASSWORDS["bob"], "203.0.113.100")).status == 200


async def test_backoff_doubles_and_a_success_clears_it(node_a: Node, http: aiohttp.ClientSession) -> None:
    clock = [time.time()]
    node_a.services.login_limits.clock = lambda: clock[0]
    where = "203.0.113.50"

    async def attempt(password: str) -> tuple[int, int | None]:
        r = await login(http, node_a, "bob", password, where)
        return r.status, r.body.get("retry_after")

    seen = [await attempt("wrong") for _ in range(6)]
    clock[0] += 1.01
    seen += [await attempt("wrong"), await attempt("wrong")]
    clock[0] += 2.01
    seen += [await attempt("wrong"), await attempt("wrong")]
    clock[0] += 4.01
    seen.append(await attempt(PASSWORDS["bob"]))
    seen += [await attempt("wrong") for _ in range(6)]  # the success gave the pair its allowance back
    assert seen == [(401, None)] * 5 + [(429, 1)] + [(401, None), (429, 2)] + [(401, None), (429, 4)] + [
        (200, None)
    ] + [(401, None)] * 5 + [(429, 1)]


async def test_agent_ceiling_spares_addresses_the_agent_used(node_a: Node, http: aiohttp.ClientSession) -> None:
    limits = node_a.services.login_limits
    limits.config = replace(LoginLimitConfig(), agent=Backoff(free=6))  # 100 in production: kept small here
    assert (await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.1")).status == 200
    botnet = [await login(http, node_a, "alice", "guess", f"198.51.100.{i}") for i in range(1, 9)]
    assert [r.status for r in botnet] == [401] * 6 + [429] * 2  # one guess per address, stopped by the ceiling
    assert (await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.1")).status == 200  # known address
    assert (await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.2")).status == 429  # a new one waits
    assert (await login(http, node_a, "bob", PASSWORDS["bob"], "198.51.100.9")).status == 200  # others unaffected


async def test_a_password_that_is_not_text_is_a_bad_field(node_a: Node, http: aiohttp.ClientSession) -> None:
    async with http.post(
        node_a.url + "/api/agent/login",
        data='{"agent_id": "alice", "password": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    ) as r:
        assert (r.status, (await r.json())["code"]) == (400, "bad_field")


# ------------------------------------------------------------------ sessions and tokens


async def test_logout_on_one_node_closes_the_desk_on_another_at_once(
    node_a: Node, node_b: Node, http: aiohttp.ClientSession
) -> None:
    """Old code: no logout route (404) and the 12 h token kept working."""
    first = await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.10")
    second = await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.10")  # another desk of hers
    token, other = first.body["token"], second.body["token"]
    on_b = await desk(node_b, "alice", token)
    on_a = await desk(node_a, "alice", token)
    untouched = await desk(node_b, "alice", other)
    try:
        out = await post(http, node_a, "/api/agent/logout", token)
        assert (out.status, out.body) == (200, {"status": "logged_out", "requeued": 0})  # no chat was open
        await asyncio.gather(expect_revoked(on_b), expect_revoked(on_a))  # pushed: not waiting for a token expiry
        for node in (node_a, node_b):
            r = await get(http, node, "/api/callbacks", token)
            assert (r.status, r.body["code"]) == (401, "session_revoked")
            r = await post(http, node, "/api/agent/refresh", token)
            assert (r.status, r.body["code"]) == (401, "session_revoked")
            again = Agent(node.url, "alice", PASSWORDS["alice"])
            await again.connect()
            await again.send({"type": "hello", "token": token})
            assert (await again.expect("error"))["code"] == "session_revoked"
            await again.close()
        await still_open(untouched)  # her other session lives on
        assert (await post(http, node_a, "/api/agent/refresh", other)).status == 200
    finally:
        for a in (on_a, on_b, untouched):
            await a.close()


async def test_refresh_gives_a_later_token_while_the_session_lives(
    proxied: Settings, http: aiohttp.ClientSession
) -> None:
    node = await start_node(replace(proxied, agent_access_minutes=1))
    try:
        first = await login(http, node, "carol", PASSWORDS["carol"], "192.0.2.20")
        assert first.body["expires_in"] == 60
        signer = node.services.signer
        old = signer.verify(first.body["token"], tokens.AGENT, now=time.time())
        await asyncio.sleep(1.1)
        fresh = await post(http, node, "/api/agent/refresh", first.body["token"])
        assert fresh.status == 200 and fresh.body["expires_in"] == 60
        assert fresh.body["session_expires_at"] == first.body["session_expires_at"]  # the session is not extended
        new = signer.verify(fresh.body["token"], tokens.AGENT, now=time.time())
        assert (new.sub, new.sid) == (old.sub, old.sid) and new.exp > old.exp
        assert (await get(http, node, "/api/callbacks", fresh.body["token"])).status == 200  # carol: supervisor
        welcome = await desk(node, "carol", fresh.body["token"])
        assert welcome.welcome["agent"]["id"] == "carol"
        await welcome.close()
    finally:
        await bounded(node.stop(), "stopping the node")


async def test_an_expired_or_sessionless_access_token_is_refused(node_a: Node, http: aiohttp.ClientSession) -> None:
    ok = await login(http, node_a, "carol", PASSWORDS["carol"], "192.0.2.30")
    signer = node_a.services.signer
    sid = signer.verify(ok.body["token"], tokens.AGENT, now=time.time()).sid
    expired = signer.sign("carol", tokens.AGENT, now=time.time() - 120, ttl=60, sid=sid)
    long_expired = signer.sign("carol", tokens.AGENT, now=time.time() - REFRESH_GRACE_SECONDS - 120, ttl=60, sid=sid)
    sessionless = signer.sign("carol", tokens.AGENT, now=time.time(), ttl=12 * 3600)  # a token of the old kind
    refreshed = await post(http, node_a, "/api/agent/refresh", expired)  # within the grace: a laptop that slept
    assert refreshed.status == 200 and signer.verify(refreshed.body["token"], tokens.AGENT, now=time.time()).sid == sid
    cases = (
        (expired, "token_expired", 200),
        (long_expired, "token_expired", 401),
        (sessionless, "session_revoked", 401),
    )
    for token, code, refresh_status in cases:
        for path in ("/api/callbacks", "/api/calls"):
            r = await get(http, node_a, path, token)
            assert (r.status, r.body["code"]) == (401, code)
        r = await post(http, node_a, "/api/agent/refresh", token)
        assert r.status == refresh_status and (refresh_status == 200 or r.body["code"] == code)
        agent = Agent(node_a.url, "carol", PASSWORDS["carol"])
        await agent.connect()
        await agent.send({"type": "hello", "token": token})
        assert (await agent.expect("error"))["code"] == code
        await agent.close()
    assert (await get(http, node_a, "/api/callbacks", ok.body["token"])).status == 200
    # an expired (genuine) token may still log its session out
    assert (await post(http, node_a, "/api/agent/logout", expired)).status == 200
    assert (await get(http, node_a, "/api/callbacks", ok.body["token"])).body["code"] == "session_revoked"


async def test_revoke_agent_ends_all_of_her_sessions_on_every_node(
    node_a: Node, node_b: Node, http: aiohttp.ClientSession
) -> None:
    tokens_of_alice = [
        (await login(http, node_a, "alice", PASSWORDS["alice"], "192.0.2.40")).body["token"] for _ in range(2)
    ]
    bob_token = (await login(http, node_b, "bob", PASSWORDS["bob"], "192.0.2.41")).body["token"]
    desks = [await desk(node_a, "alice", tokens_of_alice[0]), await desk(node_b, "alice", tokens_of_alice[1])]
    bob = await desk(node_b, "bob", bob_token)
    try:
        assert await node_a.services.sessions.revoke_agent("alice", reason="password_changed") == 2
        await asyncio.gather(*(expect_revoked(d) for d in desks))
        for token in tokens_of_alice:
            assert (await post(http, node_b, "/api/agent/refresh", token)).body["code"] == "session_revoked"
        await still_open(bob)
        assert (await post(http, node_a, "/api/agent/refresh", bob_token)).status == 200
        assert (await login(http, node_b, "alice", PASSWORDS["alice"], "192.0.2.40")).status == 200  # logs in again
    finally:
        for a in (*desks, bob):
            await a.close()


async def test_an_open_desk_is_closed_when_its_session_expires(proxied: Settings, http: aiohttp.ClientSession) -> None:
    node = await start_node(replace(proxied, agent_token_hours=1.5 / 3600))  # a 1.5 s session
    try:
        ok = await login(http, node, "alice", PASSWORDS["alice"], "192.0.2.50")
        assert ok.body["expires_in"] == 1  # an access token never outlives its session
        on_desk = await desk(node, "alice", ok.body["token"])
        await expect_revoked(on_desk, within=3.0)
        await on_desk.close()
    finally:
        await bounded(node.stop(), "stopping the node")


async def test_secret_rotation_keeps_desks_logged_in(proxied: Settings, http: aiohttp.ClientSession) -> None:
    """--secret new,old: tokens signed with the old secret still work, fresh ones are signed with the new."""
    old, new = "old-secret-0123456789abcdef", "new-secret-0123456789abcdef"
    before = await start_node(replace(proxied, secret=old))
    rotating = await start_node(replace(proxied, secret=f"{new},{old}"))
    after = await start_node(replace(proxied, secret=new))
    try:
        token = (await login(http, before, "alice", PASSWORDS["alice"], "192.0.2.60")).body["token"]
        fresh = await post(http, rotating, "/api/agent/refresh", token)  # the old signature verifies
        assert fresh.status == 200
        assert (await post(http, after, "/api/agent/refresh", fresh.body["token"])).status == 200  # signed: new
        r = await post(http, after, "/api/agent/refresh", token)
        assert (r.status, r.body["code"]) == (401, "unauthorized")  # once the old secret is dropped
    finally:
        for n in (before, rotating, after):
            await bounded(n.stop(), "stopping a node")
