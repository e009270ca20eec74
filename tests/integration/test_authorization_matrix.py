"""Who may do what, over every HTTP route and every client frame type, on a real node with a live call.

The two tables below are checked against the gateway's own lists: the app's route table and the
protocol's ``ClientFrame`` enum. A new route or a new frame type without a rule here fails this test,
so nobody adds a door without saying who may open it.

The scene: customer A is on a call that agent alice answered (A's conversation is alice's);
customer B is someone else; bob is another agent; carol is a supervisor. Every cross-party attempt
(B on A's call, bob on alice's conversation and call, a customer token on the agent socket, ...) must be
refused with the code the rule names, and leave A's conversation and call exactly as they were.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from gateway.protocol.client import ClientFrame
from gateway.protocol.states import CallStatus
from tests.conftest import Clients
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.servers import Node
from tests.support.softphone import Softphone

Frame = dict[str, Any]


@dataclass
class Scene:
    node: Node
    a: Customer
    b: Customer
    alice: Agent
    bob: Agent
    carol: Agent
    caller: Caller
    phone: Softphone
    cid: str  # A's conversation, alice's
    call_id: str  # A's call, connected to alice
    phone_sdp: str = ""  # an offer bob could send to take alice's call


TEST_FLOW = {"name": "default", "version": "0123456789ab"}  # a test run's flow version (customer socket)

# ---------------------------------------------------------------- socket frames
# frame type -> list of (who sends it, the frame, the error code it must get). Every ClientFrame has a row.


def frame_rules(s: Scene) -> dict[ClientFrame, list[tuple[Agent | Customer, Frame, str]]]:
    cid, call = s.cid, s.call_id
    return {
        ClientFrame.HELLO: [],  # checked on fresh sockets below: wrong kind of token, forged, none on the desk
        ClientFrame.MESSAGE: [
            (s.bob, {"type": "message", "conversation_id": cid, "client_id": "x1", "text": "hi"}, "forbidden"),
            # a supervisor writes to a customer only in a chat they joined
            (s.carol, {"type": "message", "conversation_id": cid, "client_id": "x4", "text": "hi"}, "forbidden"),
        ],
        ClientFrame.NOTE: [
            (s.bob, {"type": "note", "conversation_id": cid, "client_id": "x2", "text": "n"}, "forbidden"),
            (s.b, {"type": "note", "conversation_id": cid, "client_id": "x3", "text": "n"}, "unknown_type"),
        ],
        ClientFrame.TYPING: [
            (s.bob, {"type": "typing", "conversation_id": cid, "active": True}, "forbidden"),
            (s.carol, {"type": "typing", "conversation_id": cid, "active": True}, "forbidden"),  # not joined
        ],
        ClientFrame.STATUS: [(s.b, {"type": "status", "status": "available"}, "unknown_type")],
        ClientFrame.OPEN: [
            (s.bob, {"type": "open", "conversation_id": cid}, "forbidden"),
            (s.b, {"type": "open", "conversation_id": cid}, "unknown_type"),
        ],
        ClientFrame.CLOSE: [
            (s.bob, {"type": "close", "conversation_id": cid, "disposition": "resolved"}, "forbidden"),
            (s.b, {"type": "close", "conversation_id": cid, "disposition": "resolved"}, "unknown_type"),
        ],
        # a customer asks before its own new call (the pair is bound to it and the call id); an agent only for a
        # call that rings for them or is theirs (a supervisor: a connected one)
        ClientFrame.CALL_ICE: [
            (s.b, {"type": "call_ice"}, "missing_field"),
            (s.bob, {"type": "call_ice", "call_id": call}, "not_your_call"),
        ],
        ClientFrame.CALL_OFFER: [
            (s.bob, {"type": "call_offer", "call_id": call, "sdp": s.phone_sdp}, "not_ringing"),
            # a test call (the flow console) only on a test run's socket, which only an admin opens
            (s.b, {"type": "call_offer", "call_id": "t1", "sdp": s.phone_sdp, "test_flow": TEST_FLOW}, "forbidden"),
        ],
        ClientFrame.DTMF: [
            (s.b, {"type": "dtmf", "call_id": call, "digits": "1"}, "not_found"),
            (s.bob, {"type": "dtmf", "call_id": call, "digits": "1"}, "unknown_type"),
        ],
        ClientFrame.HANGUP: [
            (s.b, {"type": "hangup", "call_id": call}, "not_found"),
            (s.bob, {"type": "hangup", "call_id": call}, "forbidden"),
        ],
        ClientFrame.CALL_DECLINE: [
            (s.bob, {"type": "call_decline", "call_id": call}, "forbidden"),
            (s.b, {"type": "call_decline", "call_id": call}, "unknown_type"),
        ],
        ClientFrame.CALL_HOLD: [(s.bob, {"type": "call_hold", "call_id": call, "hold": True}, "forbidden")],
        ClientFrame.CALL_TRANSFER: [
            (s.bob, {"type": "call_transfer", "call_id": call, "queue": "support"}, "forbidden")
        ],
        ClientFrame.CALL_MONITOR: [
            (s.bob, {"type": "call_monitor", "call_id": call, "mode": "listen", "sdp": s.phone_sdp}, "forbidden"),
            (s.b, {"type": "call_monitor", "call_id": call, "mode": "listen"}, "unknown_type"),
        ],
        ClientFrame.CALL_CONSULT: [
            (s.bob, {"type": "call_consult", "call_id": call, "action": "start", "agent_id": "carol"}, "forbidden")
        ],
        ClientFrame.CALL_INVITE: [
            (s.bob, {"type": "call_invite", "conversation_id": cid}, "forbidden"),
            (s.b, {"type": "call_invite", "conversation_id": cid}, "unknown_type"),
        ],
        ClientFrame.CALLBACK_OUTCOME: [
            (s.bob, {"type": "callback_outcome", "callback_id": "cb_nothere", "outcome": "reached"}, "not_found")
        ],
        ClientFrame.WALLBOARD: [  # supervisors and admins only (carol watches it in tests/integration/test_wallboard.py)
            (s.bob, {"type": "wallboard", "watch": True}, "forbidden"),
            (s.b, {"type": "wallboard", "watch": True}, "unknown_type"),
        ],
        ClientFrame.RATING: [
            (s.b, {"type": "rating", "conversation_id": cid, "score": 1}, "forbidden"),
            (s.bob, {"type": "rating", "conversation_id": cid, "score": 1}, "unknown_type"),
        ],
        ClientFrame.CALL_INVITE_DECLINE: [
            (s.b, {"type": "call_invite_decline", "conversation_id": cid}, "not_found"),
            (s.bob, {"type": "call_invite_decline", "conversation_id": cid}, "unknown_type"),
        ],
        ClientFrame.END_CHAT: [  # a customer ends only their own chat; an agent closes with a disposition
            (s.b, {"type": "end_chat", "conversation_id": cid}, "forbidden"),
            (s.bob, {"type": "end_chat", "conversation_id": cid}, "unknown_type"),
        ],
        ClientFrame.CALLBACK_CANCEL: [
            (s.b, {"type": "callback_cancel", "callback_id": "cb_nothere"}, "not_found"),
            (s.bob, {"type": "callback_cancel", "callback_id": "cb_nothere"}, "not_found"),
        ],
        ClientFrame.WRAP_UP_DONE: [  # an agent's own after-call work: it names nobody else's anything
            (s.b, {"type": "wrap_up_done"}, "unknown_type"),
        ],
        ClientFrame.TRANSFER: [  # alice's chat: bob cannot hand it to himself, nor to a queue
            (s.bob, {"type": "transfer", "conversation_id": cid, "agent_id": "carol"}, "forbidden"),
            (s.bob, {"type": "transfer", "conversation_id": cid, "queue": "support"}, "forbidden"),
            (s.b, {"type": "transfer", "conversation_id": cid, "queue": "support"}, "unknown_type"),
            # a supervisor moves an agent's chat, but not while its call is on (the call's transfer takes it along)
            (s.carol, {"type": "transfer", "conversation_id": cid, "queue": "support"}, "transfer_refused"),
        ],
        ClientFrame.CHAT_WATCH: [  # supervisors and admins only (tests/integration/test_chat_supervision.py)
            (s.bob, {"type": "chat_watch", "conversation_id": cid, "watch": True}, "forbidden"),
            (s.b, {"type": "chat_watch", "conversation_id": cid, "watch": True}, "unknown_type"),
            (s.carol, {"type": "chat_watch", "conversation_id": "c_nothere", "watch": True}, "not_found"),
        ],
        ClientFrame.HELP: [  # an agent asks in their own chat; only they or a supervisor end it (test_help_requests.py)
            (s.bob, {"type": "help", "conversation_id": cid, "active": True}, "forbidden"),
            (s.b, {"type": "help", "conversation_id": cid, "active": True}, "unknown_type"),
        ],
        ClientFrame.CHAT_JOIN: [
            (s.bob, {"type": "chat_join", "conversation_id": cid, "join": True}, "forbidden"),
            (s.b, {"type": "chat_join", "conversation_id": cid, "join": True}, "unknown_type"),
        ],
    }


async def _refusal(who: Agent | Customer, frame: Frame) -> Frame:
    await who.send(frame)
    return await who.expect("error", timeout=10)


async def _snapshot(s: Scene) -> tuple[Any, ...]:
    store = s.node.services.store
    events = await store.events(s.cid)
    conv = await store.conversation(s.cid)
    assert conv is not None
    handoff = s.node.services.agent_calls.handoffs.get(s.call_id)
    assert handoff is not None
    return (
        len(events),
        conv["state"],
        conv["agent_id"],
        handoff.agent_id,
        str(handoff.call.status),
        handoff.consult is None,
        sorted(handoff.monitors),
    )


# ---------------------------------------------------------------- HTTP routes
# (method, route) -> request to make, and the status each role gets. Every route of the app has a row.

ROLES = ("anonymous", "customer", "alice", "bob", "carol")


@dataclass(frozen=True)
class RouteRule:
    path: str  # concrete path to request ({cid} is A's conversation)
    statuses: dict[str, int]  # role -> HTTP status
    body: Frame | None = None


def route_rules(cid: str) -> dict[tuple[str, str], RouteRule]:
    everyone = dict.fromkeys(ROLES, 200)
    agents_only = {"anonymous": 401, "customer": 401, "alice": 403, "bob": 403, "carol": 200}
    supervisors = agents_only
    admins = {**agents_only, "carol": 403}  # nobody in this scene is an admin
    any_agent = {"anonymous": 401, "customer": 401, "alice": 200, "bob": 200, "carol": 200}
    admins = {"anonymous": 401, "customer": 401, "alice": 403, "bob": 403, "carol": 403}
    flow_read_missing = {"anonymous": 401, "customer": 401, "alice": 403, "bob": 403, "carol": 404}
    attachment_read = {"anonymous": 401, "customer": 404, "alice": 404, "bob": 404, "carol": 404}
    canned = {"title": "Greeting", "text": "Hello {{ customer.name | there }}"}
    return {
        ("GET", "/"): RouteRule("/", everyone),
        ("GET", "/agent"): RouteRule("/agent", everyone),
        ("GET", "/admin"): RouteRule("/admin", everyone),  # the page; its data asks for a role
        ("GET", "/supervisor/reports"): RouteRule("/supervisor/reports", everyone),  # the page; its data asks a role
        ("GET", "/admin/flows"): RouteRule("/admin/flows", everyone),  # the page; its data asks for the admin role
        ("GET", "/supervisor"): RouteRule("/supervisor", everyone),  # the page; its data only on a supervisor's socket
        ("GET", "/widget.js"): RouteRule("/widget.js", everyone),
        ("GET", "/static/"): RouteRule("/static/desk/main.js", everyone),
        ("GET", "/healthz"): RouteRule("/healthz", everyone),
        ("GET", "/readyz"): RouteRule("/readyz", everyone),
        ("GET", "/api/stats"): RouteRule("/api/stats", everyone),  # loopback only: this test runs on loopback
        ("GET", "/api/openapi.json"): RouteRule("/api/openapi.json", everyone),  # public: describes, holds no secret
        # the scraper's: loopback without --metrics-token (this test runs on loopback; the token and a forwarded
        # stranger are checked in tests/integration/test_metrics.py); an agent's token changes nothing
        ("GET", "/metrics"): RouteRule("/metrics", everyone),
        ("POST", "/api/agent/login"): RouteRule(
            "/api/agent/login", dict.fromkeys(ROLES, 401), {"agent_id": "alice", "password": "wrong-password"}
        ),
        ("GET", "/api/recordings/{cid}/{name}"): RouteRule(
            f"/api/recordings/{cid}/none.ogg",
            {"anonymous": 401, "customer": 401, "alice": 404, "bob": 403, "carol": 404},
        ),
        # the sockets: every frame type is in frame_rules(); a plain GET that is no upgrade is refused
        ("GET", "/ws/customer"): RouteRule("/ws/customer", dict.fromkeys(ROLES, 400)),
        ("GET", "/ws/agent"): RouteRule("/ws/agent", dict.fromkeys(ROLES, 400)),
        # the desk's history and search: any agent reads any conversation (a shared desk), customers never
        ("GET", "/api/conversations"): RouteRule("/api/conversations?q=hello", any_agent),
        ("GET", "/api/conversations/{cid}"): RouteRule(f"/api/conversations/{cid}", any_agent),
        ("GET", "/api/canned"): RouteRule("/api/canned", any_agent),
        # shared canned responses: supervisors write them; personal ones: each agent their own (then deletes it)
        ("PUT", "/api/canned/shared/{shortcut}"): RouteRule("/api/canned/shared/hi", supervisors, canned),
        ("DELETE", "/api/canned/shared/{shortcut}"): RouteRule("/api/canned/shared/hi", supervisors),
        ("PUT", "/api/canned/personal/{shortcut}"): RouteRule("/api/canned/personal/hi", any_agent, canned),
        ("DELETE", "/api/canned/personal/{shortcut}"): RouteRule("/api/canned/personal/hi", any_agent),
        ("GET", "/api/calls"): RouteRule("/api/calls", agents_only),
        ("GET", "/api/reports"): RouteRule("/api/reports?from=2026-01-01&to=2026-01-02", supervisors),
        ("GET", "/api/reports/zone"): RouteRule("/api/reports/zone", supervisors),
        ("GET", "/api/reports/flows/{flow}"): RouteRule(
            "/api/reports/flows/support?from=2026-01-01&to=2026-01-02", supervisors
        ),
        # event webhooks: admins write (tests/integration/test_event_webhooks.py has one), supervisors read
        ("GET", "/api/webhooks"): RouteRule("/api/webhooks", supervisors),
        ("POST", "/api/webhooks"): RouteRule(
            "/api/webhooks", admins, {"url": "https://crm.example.com/hooks", "events": ["call.ended"]}
        ),
        ("PATCH", "/api/webhooks/{id}"): RouteRule("/api/webhooks/wh_none", admins, {"enabled": False}),
        ("DELETE", "/api/webhooks/{id}"): RouteRule("/api/webhooks/wh_none", admins),
        ("GET", "/api/webhooks/{id}/deliveries"): RouteRule(
            "/api/webhooks/wh_none/deliveries", {**supervisors, "carol": 404}
        ),
        # queues and the widget's settings: admins write (no admin here: tests/integration/test_queues.py), supervisors
        # read; the widget's settings as every widget sees them are public
        ("GET", "/api/admin/queues"): RouteRule("/api/admin/queues", supervisors),
        ("PUT", "/api/admin/queues/{name}"): RouteRule("/api/admin/queues/default", admins, {"version": 1}),
        ("DELETE", "/api/admin/queues/{name}"): RouteRule("/api/admin/queues/default", admins),
        ("GET", "/api/admin/music"): RouteRule("/api/admin/music", supervisors),
        ("GET", "/api/away-reasons"): RouteRule("/api/away-reasons", any_agent),
        ("GET", "/api/dispositions"): RouteRule("/api/dispositions", any_agent),
        ("PUT", "/api/admin/dispositions"): RouteRule(
            "/api/admin/dispositions", admins, {"dispositions": [{"code": "sale", "label": "Sale"}], "version": 0}
        ),
        ("PUT", "/api/admin/away-reasons"): RouteRule(
            "/api/admin/away-reasons", admins, {"reasons": [{"code": "break", "label": "Break"}], "version": 0}
        ),
        ("GET", "/api/admin/music/{name}"): RouteRule("/api/admin/music/none.wav", flow_read_missing),
        ("GET", "/api/admin/widget"): RouteRule("/api/admin/widget", supervisors),
        ("PUT", "/api/admin/widget"): RouteRule("/api/admin/widget", admins, {"title": "Hi"}),
        ("GET", "/api/widget/settings"): RouteRule("/api/widget/settings", everyone),
        # a customer's data on request: admins only (their export and erasure: tests/integration/test_customer_erasure.py)
        ("GET", "/api/admin/customers"): RouteRule("/api/admin/customers?subject=someone", admins),
        ("GET", "/api/admin/customers/{customer_id}"): RouteRule("/api/admin/customers/u_0000000000000000", admins),
        ("DELETE", "/api/admin/customers/{customer_id}"): RouteRule("/api/admin/customers/u_0000000000000000", admins),
        ("GET", "/api/callbacks"): RouteRule("/api/callbacks", agents_only),
        # attachments: a customer uploads into their own conversation, an agent into one assigned to them (an empty
        # body is then refused as a file); a file is read by its conversation's customer and agents, anyone else
        # gets the 404 of a missing file; the preflights answer anyone (the widget runs on other sites)
        ("POST", "/api/attachments"): RouteRule(
            f"/api/attachments?name=x.png&client_id=m-1&conversation_id={cid}",
            {"anonymous": 401, "customer": 400, "alice": 400, "bob": 403, "carol": 403},
        ),
        ("GET", "/api/attachments/{cid}/{aid}"): RouteRule(f"/api/attachments/{cid}/a_none", attachment_read),
        ("GET", "/api/attachments/{cid}/{aid}/thumbnail"): RouteRule(
            f"/api/attachments/{cid}/a_none/thumbnail", attachment_read
        ),
        ("OPTIONS", "/api/attachments"): RouteRule("/api/attachments", dict.fromkeys(ROLES, 204)),
        ("OPTIONS", "/api/attachments/{cid}/{aid}"): RouteRule(
            f"/api/attachments/{cid}/a_none", dict.fromkeys(ROLES, 204)
        ),
        ("OPTIONS", "/api/attachments/{cid}/{aid}/thumbnail"): RouteRule(
            f"/api/attachments/{cid}/a_none/thumbnail", dict.fromkeys(ROLES, 204)
        ),
        # flows (gateway/wire/flow_routes.py): admins write, supervisors read; nobody here is an admin (the admin's
        # own writes are in tests/integration/test_flow_versions.py)
        ("GET", "/api/admin/flows"): RouteRule("/api/admin/flows", supervisors),
        ("GET", "/api/admin/flows/{name}"): RouteRule("/api/admin/flows/default", supervisors),
        ("GET", "/api/admin/flows/{name}/versions/{vid}"): RouteRule(
            "/api/admin/flows/default/versions/000000000000", flow_read_missing
        ),
        ("GET", "/api/admin/flows/{name}/versions/{vid}/graph"): RouteRule(
            "/api/admin/flows/default/versions/000000000000/graph", flow_read_missing
        ),
        ("GET", "/api/admin/flows/{name}/diff"): RouteRule(
            "/api/admin/flows/default/diff?from=000000000000&to=000000000000", flow_read_missing
        ),
        ("POST", "/api/admin/flows/validate"): RouteRule(
            "/api/admin/flows/validate", supervisors, {"yaml": "start: a\nnodes: {}"}
        ),
        ("POST", "/api/admin/flows/{name}/versions"): RouteRule(
            "/api/admin/flows/default/versions", admins, {"yaml": "start: a", "parent": ""}
        ),
        ("DELETE", "/api/admin/flows/{name}"): RouteRule("/api/admin/flows/default", admins),
        ("POST", "/api/admin/flows/{name}/publish"): RouteRule(
            "/api/admin/flows/default/publish", admins, {"version": "000000000000"}
        ),
        ("PUT", "/api/admin/flows/answers/{entry}"): RouteRule(
            "/api/admin/flows/answers/chats", admins, {"flow": "default"}
        ),
        ("POST", "/api/admin/flows/{name}/replay"): RouteRule(
            "/api/admin/flows/default/replay", flow_read_missing, {"version": "000000000000"}
        ),
        # agents and the audit log (gateway/wire/admin_agents.py): admins write (nobody here is one: their rights are
        # tests/integration/test_admin_agents.py's), supervisors read; an agent's own password needs the current one
        ("GET", "/api/admin/agents"): RouteRule("/api/admin/agents", supervisors),
        ("GET", "/api/admin/audit"): RouteRule("/api/admin/audit", supervisors),
        ("POST", "/api/admin/agents"): RouteRule(
            "/api/admin/agents", admins, {"id": "zed", "password": "a-long-passphrase-1"}
        ),
        ("PATCH", "/api/admin/agents/{agent_id}"): RouteRule("/api/admin/agents/bob", admins, {"capacity": 1}),
        ("DELETE", "/api/admin/agents/{agent_id}"): RouteRule("/api/admin/agents/bob", admins),
        ("POST", "/api/admin/agents/{agent_id}/password"): RouteRule(
            "/api/admin/agents/bob/password", admins, {"password": "a-long-passphrase-1"}
        ),
        # supervisors act on agents (their effects: tests/integration/test_supervisor_agents.py); on no agent here
        ("POST", "/api/supervisor/agents/{agent_id}/status"): RouteRule(
            "/api/supervisor/agents/zed/status", {**supervisors, "carol": 404}, {"status": "away"}
        ),
        ("POST", "/api/supervisor/agents/{agent_id}/logout"): RouteRule(
            "/api/supervisor/agents/zed/logout", {**supervisors, "carol": 404}
        ),
        ("POST", "/api/agent/password"): RouteRule(  # a wrong current password; without a token, no agent_id
            "/api/agent/password",
            {"anonymous": 400, "customer": 401, "alice": 401, "bob": 401, "carol": 401},
            {"current": "not-her-password", "new": "a-long-passphrase-1"},
        ),
        ("POST", "/api/agent/refresh"): RouteRule(
            "/api/agent/refresh", {"anonymous": 401, "customer": 401, "alice": 200, "bob": 200, "carol": 200}
        ),
        ("POST", "/api/agent/logout"): RouteRule(  # checked last: it ends the session it is sent with
            "/api/agent/logout", {"anonymous": 401, "customer": 401, "alice": 200, "bob": 200, "carol": 200}
        ),
    }


def app_routes(node: Node) -> set[tuple[str, str]]:
    out = set()
    for route in node.runner.app.router.routes():
        if route.method == "HEAD":
            continue  # aiohttp adds one to every GET
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if path.startswith("/static"):
            path = "/static/"
        out.add((route.method, path))
    return out


async def _check_routes(s: Scene, clients: Clients) -> None:
    rules = route_rules(s.cid)
    assert app_routes(s.node) == set(rules), "a route without an authorization rule (or a rule for no route)"
    tokens = {"anonymous": "", "customer": s.a.token}
    for agent_id in ("alice", "bob", "carol"):  # fresh logins: logout below must not end the sockets' sessions
        tokens[agent_id] = await clients.agent(agent_id).login()
    order = sorted(rules, key=lambda k: k[1] == "/api/agent/logout")
    async with aiohttp.ClientSession() as http:
        for method, route in order:
            rule = rules[(method, route)]
            for role in ROLES:
                headers = {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
                async with http.request(method, s.node.url + rule.path, json=rule.body, headers=headers) as r:
                    assert r.status == rule.statuses[role], (method, rule.path, role, r.status, await r.text())


# ---------------------------------------------------------------- the test


async def _scene(clients: Clients, node: Node) -> Scene:
    alice, bob, carol = clients.agent("alice"), clients.agent("bob"), clients.agent("carol")
    await alice.hello()
    await bob.hello(available=False)
    await carol.hello(available=False)
    a, b = clients.customer(), clients.customer()
    await a.hello()
    await b.hello()
    caller = Caller(a)
    await caller.dial()
    await caller.status(CallStatus.IVR)
    await caller.menu_asked()
    await caller.press("1")
    await caller.status(CallStatus.WAITING)
    phone = Softphone(alice)
    ring = await phone.ringing()
    await phone.answer(ring["call_id"])
    await caller.status(CallStatus.CONNECTED)
    scene = Scene(node, a, b, alice, bob, carol, caller, phone, ring["conversation_id"], ring["call_id"])
    return scene


async def test_every_frame_type_and_route_has_a_rule_and_cross_party_attempts_change_nothing(
    clients: Clients, node: Node
) -> None:
    s = await _scene(clients, node)
    spare = Softphone(s.bob)
    try:
        s.phone_sdp = await spare.offer()
        rules = frame_rules(s)
        assert set(rules) == set(ClientFrame), "a client frame type without an authorization rule"
        before = await _snapshot(s)
        assert before[3:] == ("alice", "connected", True, [])
        wrong = []
        for attempts in rules.values():
            for who, frame, code in attempts:
                got = await _refusal(who, frame)
                if got["code"] != code:
                    wrong.append((type(who).__name__, frame["type"], code, got))
        assert not wrong, wrong
        await _check_hellos(s, clients)
        await asyncio.sleep(0.3)  # anything an attempt set off would have landed by now
        assert await _snapshot(s) == before
        status = s.caller.customer
        assert not [f for f in status.seen if f.get("type") == "call_status" and f.get("status") == "ended"]
        await _check_routes(s, clients)
    finally:
        await spare.close()
        await s.phone.close()
        await s.caller.close()


async def _check_hellos(s: Scene, clients: Clients) -> None:
    async def first_answer(make: Callable[[], Agent | Customer], hello: Frame) -> Frame:
        client = make()
        await client.connect()
        await client.send(hello)
        return await client.expect(("error", "welcome"))

    cases: list[tuple[Callable[[], Agent | Customer], Frame, str]] = [
        (lambda: clients.agent("bob"), {"type": "hello", "token": s.a.token}, "unauthorized"),  # customer token
        (lambda: clients.agent("bob"), {"type": "hello", "token": None}, "unauthorized"),  # anonymous
        (lambda: clients.customer(), {"type": "hello", "token": s.alice.token}, "unauthorized"),  # agent token
        (lambda: clients.customer(), {"type": "hello", "token": s.a.token[:-4] + "AAAA"}, "unauthorized"),
        # a test run of a flow version needs an admin's access token: not a customer's, nor a non-admin agent's
        (lambda: clients.customer(), {"type": "hello", "token": s.a.token, "test_flow": TEST_FLOW}, "unauthorized"),
        (
            lambda: clients.customer(),
            {"type": "hello", "admin_token": s.a.token, "test_flow": TEST_FLOW},
            "unauthorized",
        ),
        (
            lambda: clients.customer(),
            {"type": "hello", "admin_token": s.alice.token, "test_flow": TEST_FLOW},
            "forbidden",
        ),
        (
            lambda: clients.customer(),
            {"type": "hello", "admin_token": s.carol.token, "test_flow": TEST_FLOW},
            "forbidden",
        ),
    ]
    for make, hello, code in cases:
        answer = await first_answer(make, hello)
        assert (answer["type"], answer.get("code")) == ("error", code), (hello, answer)
