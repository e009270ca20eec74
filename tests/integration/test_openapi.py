"""The OpenAPI document on a real node: served, valid OpenAPI 3.1, describing exactly the app's routes, and true:
every documented GET path is called with real logins over real data (a chat with an attachment, a booked
callback, a live call, a recording) and each answer is checked against what the document says for its status
(the media type, and the body against its JSON Schema); error answers (400, 401, 403, 404) likewise."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from gateway.wire import api
from tests.conftest import PASSWORDS, Clients, bounded
from tests.support.caller import Caller
from tests.support.files import image
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route of an aiohttp app as OpenAPI writes it (static files: ``/static/{path}``)."""
    out = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info["prefix"].rstrip("/") + "/{path}"
        out.add((route.method, path))
    return out


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


class Checker:
    """Calls the node and checks each answer against the document; remembers which operations it called."""

    def __init__(self, node: Node, doc: dict[str, Any], http: aiohttp.ClientSession):
        self.node, self.doc, self.http = node, doc, http
        self.called: set[tuple[str, str]] = set()

    def schema(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": self.doc["components"]})

    async def call(
        self, method: str, template: str, path: str, token: str = "", status: int = 200, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.node.url + path, headers=headers, **kwargs) as r:
            raw = await r.read()
            assert r.status == status, (method, path, r.status, raw[:300])
            answers = self.doc["paths"][template][method.lower()]["responses"]
            answer = answers.get(str(status)) or answers.get(f"{str(status)[0]}XX")
            assert answer is not None, f"{method} {template} answered {status}, which the document does not list"
            body: Any = raw
            if "content" not in answer:
                assert not raw, (method, path, raw[:100])
            else:
                media, content = next(iter(answer["content"].items()))
                if media == "application/json":
                    assert r.content_type == "application/json", (method, path, r.content_type)
                    body = json.loads(raw)
                    errors = [e.message for e in self.schema(content["schema"]).iter_errors(body)]
                    assert not errors, (method, path, status, errors, body)
                elif media != "application/octet-stream":  # a file of any sniffed type
                    assert r.content_type.split("/")[0] == media.split("/")[0], (method, path, r.content_type)
        self.called.add((method, template))
        return body


@pytest.fixture
async def api_node(settings: Settings) -> AsyncIterator[Node]:
    """Chats first meet the callback test line (tests/flows/callback.yaml): it books a callback when nobody is free."""
    started = await start_node(replace(settings, chat_flow="callback"))
    yield started
    await bounded(started.stop(), "stopping the node")


@pytest.fixture
async def api_clients(api_node: Node) -> AsyncIterator[Clients]:
    made = Clients(api_node.url)
    yield made
    await bounded(made.close(), "closing the clients")


async def test_the_document_is_valid_openapi_3_1_and_describes_exactly_the_apps_routes(api_node: Node) -> None:
    async with aiohttp.ClientSession() as http, http.get(api_node.url + "/api/openapi.json") as r:
        assert r.status == 200 and r.content_type == "application/json"
        assert r.headers["Cache-Control"] == "public, max-age=300" and r.headers["ETag"]
        raw = await r.text()
        doc = json.loads(raw)
        async with http.get(api_node.url + "/api/openapi.json", headers={"If-None-Match": r.headers["ETag"]}) as again:
            assert again.status == 304
    validate(doc)  # openapi-spec-validator: OpenAPI 3.1 and its JSON Schemas
    assert doc["openapi"] == "3.1.0"
    assert documented(doc) == app_routes(api_node.runner.app), "a route without a description, or one for no route"
    assert ("HEAD", "/healthz") in documented(doc) and ("HEAD", "/api/reports") not in documented(doc)
    assert "content" not in doc["paths"]["/healthz"]["head"]["responses"]["200"]
    assert api_node.services.settings.secret not in raw
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["code", "message"] and "field" in problem["properties"]
    assert "store_unavailable" in doc["components"]["schemas"]["ErrorCode"]["enum"]
    for path, ops in doc["paths"].items():  # every operation that takes a token says what a missing one gets
        for method, op in ops.items():
            if any(op["security"]) and {} not in op["security"]:
                assert "401" in op["responses"], (method, path)


async def test_the_check_finds_a_route_missing_from_the_document(api_node: Node) -> None:
    doc = api.document(api_node.runner.app[api.OPERATIONS])
    extra = aiohttp.web.Application()

    async def undescribed(request: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(text="")

    extra.router.add_get("/api/undescribed", undescribed, allow_head=False)
    assert app_routes(extra) - documented(doc) == {("GET", "/api/undescribed")}
    assert ("GET", "/api/openapi.json") in documented(doc) - app_routes(extra)


async def test_every_documented_get_answers_as_documented_with_real_data(api_clients: Clients, api_node: Node) -> None:
    node, clients = api_node, api_clients
    async with aiohttp.ClientSession() as http:
        async with http.get(node.url + "/api/openapi.json") as r:
            doc = await r.json()
        check = Checker(node, doc, http)
        carol_token = (
            await check.call(
                "POST",
                "/api/agent/login",
                "/api/agent/login",
                json={"agent_id": "carol", "password": PASSWORDS["carol"]},
            )
        )["token"]
        alice = clients.agent("alice")
        await alice.hello(available=False)

        # a callback booked in chat while nobody is free (tests/flows/callback.yaml)
        booker = clients.customer()
        await booker.hello()
        booked_cid = (await booker.say("hello"))["conversation_id"]
        await booker.event("choices")
        await booker.say("At five")
        await booker.event("callback", lambda e: e["action"] == "requested")

        # a chat alice answers, with a note, an attachment, a recording file; then closed
        await alice.send({"type": "status", "status": "available"})
        await alice.expect("agent", lambda f: f["agent"]["status"] == "available")
        cust = clients.customer()
        await cust.hello()
        cid = (await cust.say("My parcel to Norway is late"))["conversation_id"]
        assert (await alice.assigned())["id"] == cid
        await alice.say(cid, "Looking into it")
        await alice.say(cid, "internal: VIP", note=True)
        stored = await check.call(
            "POST",
            "/api/attachments",
            "/api/attachments?name=label.png&client_id=f-1",
            cust.token,
            data=image(),
        )
        aid = (await alice.event("attachment"))["attachment_id"]
        assert stored["conversation_id"] == cid
        # the recorder writes recordings here (tests/integration/test_agent_calls.py records real ones)
        recordings = node.services.settings.data_dir / "recordings" / cid
        recordings.mkdir(parents=True)
        (recordings / "call-1.ogg").write_bytes(b"OggS" + bytes(60))
        await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
        await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
        canned = {"title": "Greeting", "text": "Hello {{ customer.name | there }}"}
        await check.call("PUT", "/api/canned/shared/{shortcut}", "/api/canned/shared/hi", carol_token, json=canned)

        # a live call alice answered
        caller_customer = clients.customer()
        await caller_customer.hello()
        caller, phone = Caller(caller_customer), Softphone(alice)
        try:
            await caller.dial()
            await caller.status(CallStatus.IVR)
            await caller.menu_asked()
            await caller.press("1")
            ring = await phone.ringing()
            await phone.answer(ring["call_id"])
            await caller.status(CallStatus.CONNECTED)
            call_cid = ring["conversation_id"]
            await _every_get(check, carol_token, alice.token, cust.token, cid, aid, booked_cid, call_cid)
            await _errors(check, alice.token, cust.token, cid)
        finally:
            await phone.close()
            await caller.close()
    gets = {(m, p) for m, p in documented(doc) if m == "GET"}
    assert gets - check.called == set(), "documented GET paths this test did not call"


async def _every_get(
    check: Checker, carol: str, alice: str, customer: str, cid: str, aid: str, booked: str, call_cid: str
) -> None:
    for path in (
        "/",
        "/agent",
        "/supervisor",
        "/supervisor/reports",
        "/admin",
        "/admin/flows",
        "/widget.js",
        "/healthz",
        "/readyz",
        "/api/stats",
        "/metrics",
    ):
        await check.call("GET", path, path)
    await check.call("GET", "/static/{path}", "/static/desk/main.js")
    await check.call("GET", "/api/openapi.json", "/api/openapi.json")
    ready = await check.call("GET", "/readyz", "/readyz", carol)
    assert ready["redis"] == "ok"  # loopback and a supervisor see the details
    for path in ("/ws/customer", "/ws/agent"):  # a plain GET that is no upgrade
        await check.call("GET", path, path, status=400)

    calls = await check.call("GET", "/api/calls", "/api/calls", carol)
    assert [(c["conversation_id"], c["agent_id"], c["status"]) for c in calls["calls"]] == [
        (call_cid, "alice", "connected")
    ]
    callbacks = await check.call("GET", "/api/callbacks", "/api/callbacks", carol)
    assert [(c["conversation_id"], c["state"]) for c in callbacks["callbacks"]] == [(booked, "scheduled")]
    # event webhooks (none here: only admins create them; tests/integration/test_event_webhooks.py checks full answers)
    assert await check.call("GET", "/api/webhooks", "/api/webhooks", carol) == {"webhooks": []}
    hooks = "/api/webhooks/{id}/deliveries"
    assert (await check.call("GET", hooks, "/api/webhooks/wh_none/deliveries", carol, status=404))["field"] == "id"
    canned = await check.call("GET", "/api/canned", "/api/canned", alice)
    assert [c["shortcut"] for c in canned["shared"]] == ["hi"]
    day = datetime.now(UTC).date().isoformat()
    report = await check.call("GET", "/api/reports", f"/api/reports?from={day}&to={day}&interval=hour", carol)
    assert report["from"] == day and all(len(s["points"]) == 24 for s in report["series"])
    assert (await check.call("GET", "/api/reports/zone", "/api/reports/zone", carol)) == {"zone": "UTC", "today": day}
    paths = f"/api/reports/flows/default?from={day}&to={day}"
    assert (await check.call("GET", "/api/reports/flows/{flow}", paths, carol))["flow"] == "default"
    odd = f"/api/reports/flows/%C2%84?from={day}&to={day}"  # not a flow's name (was a report of it, echoing it)
    assert (await check.call("GET", "/api/reports/flows/{flow}", odd, carol, status=400))["field"] == "flow"
    queues = await check.call("GET", "/api/admin/queues", "/api/admin/queues", carol)  # made from the flows' names
    assert {"default", "support"} <= {q["name"] for q in queues["queues"]}
    assert await check.call("GET", "/api/admin/music", "/api/admin/music", carol) == {"files": []}  # (test flows)
    assert (await check.call("GET", "/api/away-reasons", "/api/away-reasons", alice))["version"] == 0
    assert (await check.call("GET", "/api/dispositions", "/api/dispositions", alice))["version"] == 0
    await check.call("GET", "/api/admin/music/{name}", "/api/admin/music/none.wav", carol, status=404)
    widget = await check.call("GET", "/api/admin/widget", "/api/admin/widget", carol)
    assert widget["title"] == "Contact us"
    public = await check.call("GET", "/api/widget/settings", "/api/widget/settings")
    assert public == {**widget, "hours_open": public["hours_open"]}

    flows = "/api/admin/flows"  # a supervisor reads them (admins write)
    listed = await check.call("GET", flows, flows, carol)
    live = {f["name"]: f["live_version"] for f in listed["flows"]}["default"]
    assert [v["author"] for v in (await check.call("GET", f"{flows}/{{name}}", f"{flows}/default", carol))["versions"]]
    version = f"{flows}/default/versions/{live}"
    assert (await check.call("GET", f"{flows}/{{name}}/versions/{{vid}}", version, carol))["id"] == live
    graph = await check.call("GET", f"{flows}/{{name}}/versions/{{vid}}/graph", version + "/graph", carol)
    assert graph["start"] in [n["id"] for n in graph["nodes"]]
    diff = f"{flows}/default/diff?from={live}&to={live}"
    assert (await check.call("GET", f"{flows}/{{name}}/diff", diff, carol))["diff"] == ""
    # a customer's data is for admins only (an admin's export: tests/integration/test_customer_erasure.py)
    customers = "/api/admin/customers"
    assert (await check.call("GET", customers, customers + "?subject=x", carol, status=403))["code"] == "forbidden"
    await check.call("GET", customers + "/{customer_id}", customers + "/u_0000000000000000", carol, status=403)
    agents = await check.call("GET", "/api/admin/agents", "/api/admin/agents", carol)  # a supervisor reads
    assert [(a["id"], len(a["sessions"]) > 0) for a in agents["agents"]] == [
        ("alice", True),
        ("bob", False),
        ("carol", True),
    ]
    audit = await check.call("GET", "/api/admin/audit", "/api/admin/audit?limit=1&target=alice", carol)
    assert [(e["actor"], e["action"]) for e in audit["entries"]] == [("system", "agent.import")]
    await check.call("GET", "/api/admin/audit", "/api/admin/audit?limit=5&before=" + audit["next"], carol)

    search = "/api/conversations"
    every = await check.call("GET", search, search, alice)
    assert [r["id"] for r in every["conversations"]] == [call_cid, cid, booked]
    row = every["conversations"][1]
    assert (row["state"], row["agent_id"], row["disposition"], row["channels"]) == (
        "closed",
        "alice",
        "resolved",
        ["chat"],
    )
    created = row["created_at"]
    for params, expected in (
        ("?q=norway", [cid]),
        ("?q=vip&state=closed", [cid]),
        ("?agent=alice&state=assigned", [call_cid]),
        ("?queue=support&state=closed", [cid]),
        (f"?from={created}&to={created}", [cid]),
        ("?limit=1", [call_cid]),
    ):
        page = await check.call("GET", search, search + params, alice)
        assert [r["id"] for r in page["conversations"]] == expected, params
    page = await check.call("GET", search, search + "?limit=1&cursor=" + page["next"], alice)
    assert [r["id"] for r in page["conversations"]] == [cid]

    whole = await check.call("GET", "/api/conversations/{cid}", f"/api/conversations/{cid}", carol)
    said = [(e["type"], e.get("text") or e.get("name")) for e in whole["events"] if e.get("author") != "bot"]
    assert [x for x in said if x[0] in ("message", "note", "attachment")] == [
        ("message", "My parcel to Norway is late"),
        ("message", "Looking into it"),
        ("note", "internal: VIP"),
        ("attachment", "label.png"),
    ]
    await check.call("GET", "/api/conversations/{cid}", f"/api/conversations/{booked}", alice)
    await check.call("GET", "/api/conversations/{cid}", f"/api/conversations/{call_cid}", alice)

    for suffix, template in (
        ("", "/api/attachments/{cid}/{aid}"),
        ("/thumbnail", "/api/attachments/{cid}/{aid}/thumbnail"),
    ):
        await check.call("GET", template, f"/api/attachments/{cid}/{aid}{suffix}", customer)
        await check.call("GET", template, f"/api/attachments/{cid}/{aid}{suffix}", alice)
    recording = "/api/recordings/{cid}/{name}"
    audio = await check.call("GET", recording, f"/api/recordings/{cid}/call-1.ogg", alice)
    assert audio.startswith(b"OggS")
    await check.call("GET", recording, f"/api/recordings/{cid}/call-1.ogg?token={carol}")


async def _errors(check: Checker, alice: str, customer: str, cid: str) -> None:
    """Problem JSON as documented: the status is one the operation lists, the body the Problem schema."""
    search = "/api/conversations"
    unauthorized = await check.call("GET", search, search, status=401)
    assert (unauthorized["code"], unauthorized["field"]) == ("unauthorized", "token")
    assert (await check.call("GET", search, search, customer, status=401))["code"] == "unauthorized"
    bad = await check.call("GET", search, search + "?state=gone", alice, status=400)
    assert (bad["code"], bad["field"]) == ("bad_field", "state")
    for params, field in (
        ("?limit=0", "limit"),
        ("?from=x", "from"),
        ("?cursor=nope", "cursor"),
        ("?sort=new", "sort"),
    ):
        assert (await check.call("GET", search, search + params, alice, status=400))["field"] == field
    forbidden = await check.call("GET", "/api/calls", "/api/calls", alice, status=403)
    assert forbidden["code"] == "forbidden"
    await check.call("GET", "/api/callbacks", "/api/callbacks", alice, status=403)
    await check.call("GET", "/api/reports", "/api/reports?from=2026-01-01&to=2026-01-01", alice, status=403)
    missing = await check.call(
        "GET", "/api/conversations/{cid}", "/api/conversations/c_0000000000000000", alice, status=404
    )
    assert missing["code"] == "not_found"
    await check.call("GET", "/api/recordings/{cid}/{name}", f"/api/recordings/{cid}/none.ogg", alice, status=404)
    await check.call("GET", "/api/attachments/{cid}/{aid}", f"/api/attachments/{cid}/a_none", alice, status=404)
    login = await check.call("POST", "/api/agent/login", "/api/agent/login", json={"agent_id": "alice"}, status=400)
    assert (login["code"], login["field"]) == ("missing_field", "password")
    wrong = {"agent_id": "alice", "password": "wrong-password"}
    assert (await check.call("POST", "/api/agent/login", "/api/agent/login", json=wrong, status=401))[
        "field"
    ] == "password"
    put = await check.call("PUT", "/api/canned/shared/{shortcut}", "/api/canned/shared/hi", alice, status=403, json={})
    assert put["code"] == "forbidden"
