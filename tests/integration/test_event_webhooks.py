"""Event webhooks end to end: real nodes, a real Redis, a real HTTP receiver on 127.0.0.1 that fails, then accepts.

The receiver stands in for a CRM. Loopback is reachable only when allowed (``webhook_allow``, as flow webhook tests
do it); without it the subscription is refused when saved and the request is refused at delivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from tests.conftest import PASSWORDS, Clients, bounded
from tests.support.servers import Node, free_port, start_node

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
ALLOW = ("127.0.0.1",)
ADMIN, ADMIN_PASSWORD = "dana", "dana-secret-4444"
SECRET = "whsec_test_0123456789abcdef"
EVENTS = ["conversation.opened", "message.created", "conversation.assigned", "conversation.closed"]


def documented_verify() -> Callable[[str, str, bytes], bool]:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The usual agents (alice, carol the supervisor) and dana, an admin."""
    path = tmp_path_factory.mktemp("agents") / "agents.toml"
    add_agent(path, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(path, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    add_agent(path, ADMIN, "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    return path


@dataclass
class Receiver:
    """A tiny CRM: records every request; ``fail`` decides (per request) to answer 500 instead of 200."""

    fail: Callable[[dict[str, Any]], bool] = lambda request: False
    seen: list[dict[str, Any]] = field(default_factory=list)
    hold: asyncio.Event | None = None  # set: requests wait for it before answering
    port: int = 0
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.Response:
            raw = await request.read()
            seen = {"headers": dict(request.headers), "raw": raw, "body": json.loads(raw), "receiver": self}
            self.seen.append(seen)
            seen["failed"] = self.fail(seen)
            if self.hold is not None:
                await self.hold.wait()
            return web.Response(status=500 if seen["failed"] else 200)

        app = web.Application()
        app.router.add_post("/hooks", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self.runner is not None:
            await self.runner.cleanup()

    def accepted(self, cid: str | None = None) -> list[dict[str, Any]]:
        return [s["body"] for s in self.seen if not s["failed"] and cid in (None, s["body"]["conversation_id"])]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    await made.start()
    yield made
    await made.stop()


def fail_first(n: int) -> Callable[[dict[str, Any]], bool]:
    """The first ``n`` requests for the first event the receiver hears of fail; everything else is accepted."""

    def fail(request: dict[str, Any]) -> bool:
        first = [s for s in receiver_seen(request) if s["body"]["id"] == request["body"]["id"]]
        return request["body"]["id"] == receiver_seen(request)[0]["body"]["id"] and len(first) <= n

    return fail


def receiver_seen(request: dict[str, Any]) -> list[dict[str, Any]]:
    return request["receiver"].seen  # type: ignore[no-any-return]


async def until(what: str, check: Callable[[], Any], seconds: float = 30) -> Any:
    try:
        async with asyncio.timeout(seconds):
            while True:
                value = check()
                value = await value if isinstance(value, Awaitable) else value
                if value:
                    return value
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"{what}: not within {seconds} s")


async def login(url: str, agent_id: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url + "/api/agent/login", json={"agent_id": agent_id, "password": password}) as r,
    ):
        assert r.status == 200, await r.text()
        return str((await r.json())["token"])


async def api(node: Node, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.request(method, node.url + path, json=body, headers=headers) as r:
            return r.status, await r.json()


async def subscribe(node: Node, url: str, events: list[str] = EVENTS) -> str:
    token = await login(node.url, ADMIN, ADMIN_PASSWORD)
    status, body = await api(node, "POST", "/api/webhooks", token, {"url": url, "events": events, "secret": SECRET})
    assert status == 201, body
    return str(body["webhook"]["id"])


async def deliveries(node: Node, sub_id: str) -> list[dict[str, Any]]:
    token = await login(node.url, ADMIN, ADMIN_PASSWORD)
    status, body = await api(node, "GET", f"/api/webhooks/{sub_id}/deliveries", token)
    assert status == 200, body
    return list(reversed(body["deliveries"]))  # oldest first


async def conforms(node: Node, method: str, template: str, status: int, body: Any) -> None:
    """``body`` is what /api/openapi.json says ``method template`` answers with ``status``."""
    async with aiohttp.ClientSession() as http, http.get(node.url + "/api/openapi.json") as r:
        doc = await r.json()
    schema = doc["paths"][template][method.lower()]["responses"][str(status)]["content"]["application/json"]["schema"]
    errors = [e.message for e in Draft202012Validator({**schema, "components": doc["components"]}).iter_errors(body)]
    assert errors == [], (method, template, status, errors)


def fast(settings: Settings, **changes: Any) -> Settings:
    """Loopback allowed, retries within a fraction of a second."""
    return replace(settings, webhook_allow=ALLOW, webhook_max_backoff_seconds=0.3, **changes)


async def chat(clients: Clients, texts: list[str]) -> str:
    customer = clients.customer()
    await customer.hello()
    cid = ""
    for text in texts:
        cid = (await customer.say(text))["conversation_id"]
    return cid


async def settled(node: Node) -> bool:
    """Nothing left to deliver, on any node: no outbox due (now or later) and none leased (no request in flight).
    A delivery counted after this would be a duplicate nothing could cause any more."""
    db = node.services.webhook_delivery.db
    return await db.due() == {} and await db.leases() == {}


def in_log_order(bodies: list[dict[str, Any]]) -> bool:
    keys = [tuple(int(p) for p in b["id"].split("-")) for b in bodies]
    return keys == sorted(keys)


# ---------------------------------------------------------------- delivery


async def test_each_event_is_delivered_once_in_order_signed_after_two_failures(
    settings: Settings, receiver: Receiver
) -> None:
    receiver.fail = fail_first(2)
    node = await start_node(fast(settings))
    clients = Clients(node.url)
    try:
        sub_id = await subscribe(node, receiver.url)
        cid = await chat(clients, ["one", "two", "three"])
        got = await until("four events accepted", lambda: len(receiver.accepted(cid)) >= 4 and receiver.accepted(cid))
        await until("nothing left to deliver", lambda: settled(node))  # no duplicate can come after this
        accepted = receiver.accepted(cid)
        assert [(b["type"], b["data"].get("text")) for b in accepted] == [
            ("conversation.opened", None),
            ("message.created", "one"),
            ("message.created", "two"),
            ("message.created", "three"),
        ]
        assert len({b["id"] for b in got}) == 4 and in_log_order(accepted)
        assert [s["body"]["type"] for s in receiver.seen[:3]] == ["conversation.opened"] * 3  # held back, retried
        verify = documented_verify()
        for s in receiver.seen:
            h = s["headers"]
            assert verify(SECRET, h["X-Gateway-Webhook-Signature"], s["raw"])
            assert (h["X-Gateway-Event-Id"], h["X-Gateway-Event-Type"]) == (s["body"]["id"], s["body"]["type"])
            assert h["X-Gateway-Webhook-Id"] == sub_id
        assert not verify("another-secret-0123456", receiver.seen[0]["headers"]["X-Gateway-Webhook-Signature"], b"x")
        log = await deliveries(node, sub_id)
        await conforms(node, "GET", "/api/webhooks/{id}/deliveries", 200, {"deliveries": log})
        assert [(d["event"], d["attempt"], d["status"], d["outcome"]) for d in log] == [
            ("conversation.opened", 1, 500, "retry"),
            ("conversation.opened", 2, 500, "retry"),
            ("conversation.opened", 3, 200, "delivered"),
            ("message.created", 1, 200, "delivered"),
            ("message.created", 1, 200, "delivered"),
            ("message.created", 1, 200, "delivered"),
        ]
        assert log[0]["error"] == "HTTP 500" and log[2]["error"] is None
        assert all(d["conversation_id"] == cid and d["latency_ms"] >= 0 and d["time"].endswith("Z") for d in log)
        assert await node.services.webhook_delivery.db.due() == {}  # nothing left queued
    finally:
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_a_failing_conversation_holds_back_only_its_own_later_events(
    settings: Settings, receiver: Receiver
) -> None:
    released = asyncio.Event()

    def fail(request: dict[str, Any]) -> bool:  # the first conversation the receiver hears of fails until released
        return (
            request["body"]["conversation_id"] == receiver.seen[0]["body"]["conversation_id"] and not released.is_set()
        )

    receiver.fail = fail
    node = await start_node(fast(settings, webhook_attempts=100))
    clients = Clients(node.url)
    try:
        sub_id = await subscribe(node, receiver.url)
        first = clients.customer()
        await first.hello()
        ack = await first.say("a1")
        await until("a's first event failed", lambda: receiver.seen)
        await first.say("a2")
        cid_b = await chat(clients, ["b1", "b2"])
        await until("b's events delivered", lambda: len(receiver.accepted(cid_b)) == 3)
        a_cid = ack["conversation_id"]
        tried = [s["body"]["type"] for s in receiver.seen if s["body"]["conversation_id"] == a_cid]
        assert set(tried) == {"conversation.opened"} and len(tried) >= 1  # a1, a2 wait behind the failing one
        released.set()
        await until("a's events delivered", lambda: len(receiver.accepted(a_cid)) == 3)
        assert [b["data"].get("text") for b in receiver.accepted(a_cid)] == [None, "a1", "a2"]
        assert [b["data"].get("text") for b in receiver.accepted(cid_b)] == [None, "b1", "b2"]
        assert len(await deliveries(node, sub_id)) == len(receiver.seen)
    finally:
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_a_node_stopped_mid_retry_leaves_the_rest_to_another_node_and_nothing_is_delivered_twice(
    settings: Settings, receiver: Receiver
) -> None:
    receiver.fail = fail_first(2)
    first = await start_node(replace(fast(settings), webhook_max_backoff_seconds=5))
    clients = Clients(first.url)
    second: Node | None = None
    try:
        sub_id = await subscribe(first, receiver.url)
        cid = await chat(clients, ["before the restart"])
        await until("the first attempt failed", lambda: receiver.seen)
        await bounded(clients.close(), "closing the clients")
        await bounded(first.stop(), "stopping the first node")  # its retry is 0.5-1 s away
        assert len(receiver.accepted()) == 0
        second = await start_node(fast(settings))
        clients = Clients(second.url)
        cid_after = await chat(clients, ["after the restart"])
        await until("both conversations delivered", lambda: len(receiver.accepted()) == 4)
        await until("nothing left to deliver", lambda: settled(second))  # no duplicate can come after this
        assert len(receiver.accepted()) == len({b["id"] for b in receiver.accepted()}) == 4  # once each
        for conversation in (cid, cid_after):  # in order per conversation (conversations do not wait for each other)
            assert [b["type"] for b in receiver.accepted(conversation)] == ["conversation.opened", "message.created"]
        log = await deliveries(second, sub_id)
        first_event = [d for d in log if d["event_id"] == receiver.accepted(cid)[0]["id"]]
        assert [(d["attempt"], d["outcome"]) for d in first_event] == [(1, "retry"), (2, "retry"), (3, "delivered")]
        nodes = {d["node"] for d in first_event}
        assert first.services.settings.node_id in nodes and second.services.settings.node_id in nodes
        assert first_event[-1]["node"] == second.services.settings.node_id
    finally:
        await bounded(clients.close(), "closing the clients")
        if second is not None:
            await bounded(second.stop(), "stopping the second node")


# ---------------------------------------------------------------- what may be reached


async def test_a_private_destination_is_refused_when_saved_and_when_delivered(
    settings: Settings, receiver: Receiver
) -> None:
    strict = await start_node(settings)  # no --webhook-allow: public addresses only
    try:
        token = await login(strict.url, ADMIN, ADMIN_PASSWORD)
        for url in (receiver.url, "http://[::1]:9/x", "http://169.254.169.254/latest", "http://localhost:9/x"):
            status, body = await api(strict, "POST", "/api/webhooks", token, {"url": url, "events": EVENTS})
            assert (status, body["code"], body["field"]) == (400, "bad_field", "url"), (url, body)
            assert "not a destination webhooks may reach" in body["message"]
        status, body = await api(strict, "GET", "/api/webhooks", token)
        assert (status, body) == (200, {"webhooks": []})
    finally:
        await bounded(strict.stop(), "stopping the strict node")
    # saved where loopback was allowed, delivered by a node where it is not: refused at connect time
    lenient = await start_node(fast(settings))
    try:
        sub_id = await subscribe(lenient, receiver.url)
    finally:
        await bounded(lenient.stop(), "stopping the lenient node")
    strict = await start_node(replace(settings, webhook_attempts=2, webhook_max_backoff_seconds=0.2))
    clients = Clients(strict.url)
    try:
        await chat(clients, ["hello"])
        log = await until("two refused attempts logged", lambda: _refused(strict, sub_id))
        assert [(d["attempt"], d["status"], d["outcome"]) for d in log[:2]] == [
            (1, None, "retry"),
            (2, None, "gave_up"),
        ]
        assert log[0]["error"] == "destination not allowed: 127.0.0.1 is loopback"
        assert receiver.seen == []
    finally:
        await bounded(clients.close(), "closing the clients")
        await bounded(strict.stop(), "stopping the strict node")


async def _refused(node: Node, sub_id: str) -> list[dict[str, Any]] | None:
    log = await deliveries(node, sub_id)
    return log if len(log) >= 2 else None


# ---------------------------------------------------------------- managing subscriptions


async def test_subscriptions_are_managed_by_admins_read_by_supervisors_and_bad_input_names_the_field(
    settings: Settings, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    node = await start_node(fast(settings))
    try:
        admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
        supervisor = await login(node.url, "carol", PASSWORDS["carol"])
        agent = await login(node.url, "alice", PASSWORDS["alice"])
        credential = "tok-0123456789abcdef"  # like Slack's or Zapier's URLs: the URL is the credential
        url = f"{receiver.url}?token={credential}"
        good = {"url": url, "events": ["call.ended"], "description": "CRM"}
        assert (await api(node, "POST", "/api/webhooks", supervisor, good))[0] == 403
        assert (await api(node, "POST", "/api/webhooks", agent, good))[0] == 403
        assert (await api(node, "GET", "/api/webhooks", agent))[0] == 403
        status, created = await api(node, "POST", "/api/webhooks", admin, good)
        assert status == 201 and created["secret"].startswith("whsec_") and len(created["secret"]) > 32
        await conforms(node, "POST", "/api/webhooks", 201, created)
        sub = created["webhook"]
        assert {k: sub[k] for k in ("url", "events", "enabled", "description")} == {
            "url": url,
            "events": ["call.ended"],
            "enabled": True,
            "description": "CRM",
        }
        status, listed = await api(node, "GET", "/api/webhooks", supervisor)  # the URL only as far as its host
        assert status == 200 and listed["webhooks"] == [{**sub, "url": f"http://127.0.0.1:{receiver.port}/…"}]
        assert "secret" not in json.dumps(listed) and credential not in json.dumps(listed)
        await conforms(node, "GET", "/api/webhooks", 200, listed)
        assert (await api(node, "GET", "/api/webhooks", admin)) == (200, {"webhooks": [sub]})  # admins: all of it
        assert (await api(node, "GET", f"/api/webhooks/{sub['id']}/deliveries", supervisor)) == (
            200,
            {"deliveries": []},
        )
        assert (await api(node, "PATCH", f"/api/webhooks/{sub['id']}", supervisor, {"enabled": False}))[0] == 403
        status, changed = await api(node, "PATCH", f"/api/webhooks/{sub['id']}", admin, {"enabled": False})
        assert status == 200 and changed["webhook"]["enabled"] is False and "secret" not in changed
        await conforms(node, "PATCH", "/api/webhooks/{id}", 200, changed)
        bad = [
            ("POST", "/api/webhooks", {"events": ["call.ended"]}, "url"),
            ("POST", "/api/webhooks", {"url": receiver.url, "events": ["call.rang"]}, "events"),
            ("POST", "/api/webhooks", {"url": receiver.url, "events": ["call.ended"], "secret": "short"}, "secret"),
            ("POST", "/api/webhooks", {"url": receiver.url, "events": ["call.ended"], "retries": 3}, "retries"),
            ("PATCH", f"/api/webhooks/{sub['id']}", {"enabled": "no"}, "enabled"),
            ("PATCH", f"/api/webhooks/{sub['id']}", {"url": "gopher://x"}, "url"),
        ]
        for method, path, body, name in bad:
            status, problem = await api(node, method, path, admin, body)
            assert status == 400 and problem["field"] == name and problem["code"] in ("bad_field", "missing_field"), (
                body,
                problem,
            )
        assert (await api(node, "PATCH", "/api/webhooks/wh_nothere", admin, {"enabled": True}))[0] == 404
        assert (await api(node, "GET", "/api/webhooks/wh_nothere/deliveries", admin))[0] == 404
        assert (await api(node, "DELETE", f"/api/webhooks/{sub['id']}", supervisor))[0] == 403
        assert (await api(node, "DELETE", f"/api/webhooks/{sub['id']}", admin)) == (200, {"status": "deleted"})
        assert (await api(node, "DELETE", f"/api/webhooks/{sub['id']}", admin))[0] == 404
        assert (await api(node, "GET", "/api/webhooks", admin)) == (200, {"webhooks": []})
        # every write audited (supervisors read the audit log too): no secret, the URL only as far as its host
        status, audit = await api(node, "GET", f"/api/admin/audit?target={sub['id']}", supervisor)
        assert status == 200
        entries = [(e["actor"], e["action"], e["before"], e["after"]) for e in reversed(audit["entries"])]
        shown = {**sub, "url": f"http://127.0.0.1:{receiver.port}/…"}
        disabled = {**shown, "enabled": False, "updated_ms": changed["webhook"]["updated_ms"]}
        assert entries == [
            (ADMIN, "webhook.create", None, {**shown, "secret": "***"}),
            (ADMIN, "webhook.update", shown, disabled),
            (ADMIN, "webhook.delete", disabled, None),
        ]
        assert credential not in json.dumps(audit) and created["secret"] not in json.dumps(audit)
        assert credential not in caplog.text and created["secret"] not in caplog.text  # logs name the host only
    finally:
        await bounded(node.stop(), "stopping the node")


async def test_subscriptions_seeded_from_a_file_deliver(settings: Settings, receiver: Receiver, tmp_path: Path) -> None:
    seed = tmp_path / "webhooks.toml"
    seed.write_text(
        f'[[webhook]]\nid = "crm"\nurl = "{receiver.url}"\nsecret = "{SECRET}"\nevents = ["message.created"]\n',
        encoding="utf-8",
    )
    node = await start_node(fast(settings, webhooks_file=seed))
    clients = Clients(node.url)
    try:
        cid = await chat(clients, ["seeded"])
        await until("the message delivered", lambda: receiver.accepted(cid))
        assert [b["type"] for b in receiver.accepted(cid)] == ["message.created"]
        assert documented_verify()(
            SECRET, receiver.seen[0]["headers"]["X-Gateway-Webhook-Signature"], receiver.seen[0]["raw"]
        )
    finally:
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")
