"""Supervisors act on agents over HTTP, on a real node with real Redis (and a real call for the ringing case): carol
(a supervisor) sets alice away or available and signs her out; alice's desk is told; her chats go back to the queue;
a call ringing for her goes to the next agent; a call she is on is never cut. Agents without the role cannot."""

from __future__ import annotations

import aiohttp

from gateway.protocol.states import CallStatus
from tests.conftest import Clients
from tests.integration import test_agent_leaves
from tests.integration.test_admin_agents import Api
from tests.support.queue_calls import queued_call
from tests.support.servers import Node
from tests.support.softphone import Softphone

node = test_agent_leaves.node  # this module's node: with an admin too (ada, roles agent and admin)


async def test_a_supervisor_sets_an_agent_away_and_available_and_their_desk_is_told(
    clients: Clients, node: Node
) -> None:
    alice, carol, bob = clients.agent("alice"), clients.agent("carol"), clients.agent("bob")
    await alice.hello()
    await carol.hello(available=False)
    await bob.login()  # signed in, no desk open
    async with aiohttp.ClientSession() as http:
        boss = Api(http, node, carol.token)
        status, body = await boss.call("POST", "/api/supervisor/agents/alice/status", {"status": "away"})
        assert (status, body["status"], body["away_reason"]) == (200, "away", "set_by_supervisor"), body
        told = await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
        assert told["agent"]["away_reason"] == "set_by_supervisor"
        status, body = await boss.call("POST", "/api/supervisor/agents/alice/status", {"status": "available"})
        assert (status, body["status"]) == (200, "available")
        await alice.expect("agent", lambda f: f["agent"]["status"] == "available")

        # refusals name what is wrong, and change nothing
        status, body = await boss.call("POST", "/api/supervisor/agents/bob/status", {"status": "available"})
        assert (status, "no desk open" in body["message"]) == (409, True), body
        status, body = await boss.call("POST", "/api/supervisor/agents/zed/status", {"status": "away"})
        assert status == 404, body
        status, body = await boss.call("POST", "/api/supervisor/agents/bob/status", {"status": "away"})
        assert (status, "offline" in body["message"]) == (409, True), body  # nothing to set away
        # a supervisor acts on neither herself nor an admin (a reviewer: she could keep the admins out)
        for target, code in (("carol", 400), ("ada", 403)):
            for path, payload in (("status", {"status": "away"}), ("logout", None)):
                status, body = await boss.call("POST", f"/api/supervisor/agents/{target}/{path}", payload)
                assert status == code, (target, path, body)
        status, body = await boss.call("POST", "/api/supervisor/agents/alice/status", {"status": "offline"})
        assert (status, body["field"]) == (400, "status"), body
        status, body = await Api(http, node, bob.token).call(
            "POST", "/api/supervisor/agents/alice/status", {"status": "away"}
        )
        assert status == 403, body
        status, body = await Api(http, node, bob.token).call("POST", "/api/supervisor/agents/alice/logout")
        assert status == 403, body
        assert (await node.services.presence.info("alice"))["status"] == "available"

        # who did it is in the audit log (supervisors read it)
        status, audit = await boss.call("GET", "/api/admin/audit?target=alice")
        assert status == 200, audit
        assert [(e["actor"], e["action"]) for e in audit["entries"]][:2] == [
            ("carol", "agent.status"),
            ("carol", "agent.status"),
        ]


async def test_a_supervisor_signs_an_agent_out_and_their_chat_goes_to_a_colleague(clients: Clients, node: Node) -> None:
    alice, carol, bob = clients.agent("alice"), clients.agent("carol"), clients.agent("bob")
    await alice.hello()
    await carol.hello(available=False)
    customer = clients.customer()
    await customer.hello()
    await customer.say("hello?")
    cid = (await alice.assigned())["id"]
    async with aiohttp.ClientSession() as http:
        boss = Api(http, node, carol.token)
        status, body = await boss.call("POST", "/api/supervisor/agents/alice/logout")
        assert (status, body) == (200, {"status": "signed_out", "sessions": 1, "requeued": 1}), body
        error = await alice.expect("error")
        assert (error["code"], "a supervisor signed you out" in error["message"]) == ("session_revoked", True)
        await bob.hello()
        assert (await bob.assigned())["id"] == cid  # at the place it had
        await customer.say("still there?")
        await bob.event("message", lambda e: e["text"] == "still there?")
        # her token is refused from now on
        status, _ = await Api(http, node, alice.token).call("GET", "/api/canned")
        assert status == 401


async def test_away_passes_a_ringing_call_on_and_an_agent_on_a_call_is_not_signed_out(
    clients: Clients, node: Node
) -> None:
    alice, carol, bob = clients.agent("alice"), clients.agent("carol"), clients.agent("bob")
    await alice.hello()
    await carol.hello(available=False)
    caller = await queued_call(clients)
    phone: Softphone | None = None
    try:
        ring = await Softphone(alice).ringing()
        async with aiohttp.ClientSession() as http:
            boss = Api(http, node, carol.token)
            status, _ = await boss.call("POST", "/api/supervisor/agents/alice/status", {"status": "away"})
            assert status == 200
            waiting = await caller.status(CallStatus.WAITING, timeout=5)  # (the ring is 20 s)
            assert waiting["reason"] == "agent_away"
            await alice.expect("call_status", lambda f: f["call_id"] == ring["call_id"] and f["status"] == "waiting")
            await bob.hello()
            phone = Softphone(bob)
            await phone.answer((await phone.ringing())["call_id"])
            await caller.status(CallStatus.CONNECTED)
            status, body = await boss.call("POST", "/api/supervisor/agents/bob/logout")
            assert (status, body["code"]) == (409, "call_in_progress"), body
            status, _ = await Api(http, node, bob.token).call("GET", "/api/canned")
            assert status == 200  # bob is still signed in
            assert (await node.services.presence.info("bob"))["activity"] == "on_call"
    finally:
        if phone is not None:
            await phone.close()
        await caller.close()
