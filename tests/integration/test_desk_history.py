"""The desk's history, search and canned responses over HTTP, on a real node and Redis: what agents read, what
they find, who may write what, and every hostile input refused with the field named."""

from __future__ import annotations

from typing import Any

import aiohttp

from gateway.contact.canned import MAX_PERSONAL
from gateway.contact.routing import DEFAULT_QUEUE
from tests.conftest import Clients
from tests.support.clients import Agent
from tests.support.servers import Node


async def _get(node: Node, path: str, token: str, **params: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(node.url + path, params=params, headers=headers) as r:
        return r.status, await r.json()


async def _send(node: Node, method: str, path: str, token: str, body: Any = None, raw: bytes | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.url + path, json=body if raw is None else None, data=raw, headers=headers) as r,
    ):
        return r.status, await r.json()


async def _chat(alice: Agent, clients: Clients, lines: list[str], *, close: str | None = "resolved") -> tuple[Any, str]:
    """A customer writes ``lines``; alice gets it, answers, and closes it with ``close``."""
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say(lines[0]))["conversation_id"]
    assert (await alice.assigned())["id"] == cid
    for line in lines[1:]:
        await cust.say(line)
    await alice.say(cid, "Thanks, looking into it")
    await alice.say(cid, "internal: VIP customer", note=True)
    if close:
        await alice.send({"type": "close", "conversation_id": cid, "disposition": close})
        await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    return cust, cid


async def test_an_agent_reads_a_customers_earlier_conversations_whole_and_a_customer_never(
    clients: Clients, node: Node
) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    await bob.login()
    cust, first = await _chat(alice, clients, ["My parcel to Norway is late"], close="follow-up")
    second = (await cust.say("Hello again, about that parcel"))["conversation_id"]
    await alice.assigned()
    assert second != first

    status, page = await _get(node, "/api/conversations", bob.token, customer=cust.customer_id)
    assert status == 200, page
    rows = page["conversations"]
    assert [r["id"] for r in rows] == [second, first] and page["next"] is None  # newest first
    old = rows[1]
    assert (old["state"], old["agent_id"], old["agent_name"], old["disposition"], old["channels"]) == (
        "closed",
        "alice",
        "Alice Smith",
        "follow-up",
        ["chat"],
    )
    assert old["messages"] == 2 and old["last_text"] == "Thanks, looking into it"

    status, body = await _get(node, f"/api/conversations/{first}", bob.token)  # bob never handled it: still reads
    assert status == 200
    assert body["conversation"]["id"] == first and body["conversation"]["disposition"] == "follow-up"
    assert [(e["type"], e.get("text")) for e in body["events"] if e["type"] in ("message", "note", "closed")] == [
        ("message", "My parcel to Norway is late"),
        ("message", "Thanks, looking into it"),
        ("note", "internal: VIP customer"),
        ("closed", None),
    ]
    # a customer's own token opens nothing; neither does none, nor a conversation that is not there
    assert (await _get(node, f"/api/conversations/{first}", cust.token))[0] == 401
    assert (await _get(node, "/api/conversations", cust.token, customer=cust.customer_id))[0] == 401
    assert (await _get(node, f"/api/conversations/{first}", ""))[0] == 401
    status, missing = await _get(node, "/api/conversations/c_0000000000000000", bob.token)
    assert (status, missing["code"]) == (404, "not_found")


async def test_search_by_words_and_filters_pages_with_a_cursor_without_repeats(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    _, norway = await _chat(alice, clients, ["Do you ship to Norway?", "Shipping cost please"])
    _, sweden = await _chat(alice, clients, ["Do you ship to Sweden?"], close="spam")
    _, refund = await _chat(alice, clients, ["I want a REFUND for my shipping"], close=None)
    token = alice.token

    async def found(**params: str) -> list[str]:
        status, page = await _get(node, "/api/conversations", token, **params)
        assert status == 200, page
        return [r["id"] for r in page["conversations"]]

    assert await found(q="norway") == [norway]
    assert await found(q="NORWAY!") == [norway]  # casefolded, punctuation is no word
    assert await found(q="ship") == [sweden, norway]  # newest first
    assert await found(q="ship sweden") == [sweden]  # every word must be there
    assert await found(q="shipping") == [refund, norway]
    assert await found(q="refund shipping", state="assigned") == [refund]
    assert await found(q="shipping", state="closed") == [norway]
    assert await found(q="vip") == [refund, sweden, norway]  # notes are searchable by agents
    assert await found(q="nowhere") == []
    assert await found(agent="bob") == []
    assert await found(queue=DEFAULT_QUEUE, state="closed") == [sweden, norway]
    assert await found(queue="billing") == []
    created = {
        cid: int((await node.services.store.conversation(cid) or {})["created_at"]) for cid in (norway, sweden, refund)
    }
    assert await found(**{"from": str(created[sweden]), "to": str(created[sweden])}) == [sweden]
    assert await found(**{"to": str(created[sweden] - 1)}) == [norway]

    # one a page: every conversation once, then no cursor; a new conversation meanwhile does not shift the pages
    seen: list[str] = []
    cursor = ""
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, page = await _get(node, "/api/conversations", token, **params)
        assert status == 200, page
        seen += [r["id"] for r in page["conversations"]]
        if len(seen) == 1:
            await _chat(alice, clients, ["a newer one"], close="resolved")
        if page["next"] is None:
            break
        cursor = page["next"]
    assert seen == [refund, sweden, norway]


async def test_an_agents_open_conversations_and_a_queues_waiting_ones_are_read_from_their_live_sets(
    clients: Clients, node: Node
) -> None:
    """``agent`` with ``state=assigned`` and ``queue`` with ``state=queued`` read the agent's conversations and the
    queue's waiting ones, not every conversation: ``scanned`` counts only those (it was every conversation)."""
    alice = clients.agent("alice")
    await alice.hello()
    older = [(await _chat(alice, clients, [f"order {n} question"]))[1] for n in range(3)]
    _, mine = await _chat(alice, clients, ["still talking"], close=None)
    await alice.send({"type": "status", "status": "away"})
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    cust = clients.customer()
    await cust.hello()
    waiting = (await cust.say("anyone there?"))["conversation_id"]
    conv = await node.services.store.conversation(waiting)
    assert conv is not None and conv["state"] == "queued"

    status, page = await _get(node, "/api/conversations", alice.token, agent="alice", state="assigned")
    assert status == 200, page
    assert ([r["id"] for r in page["conversations"]], page["scanned"], page["next"]) == ([mine], 1, None)
    status, page = await _get(node, "/api/conversations", alice.token, queue=DEFAULT_QUEUE, state="queued")
    assert ([r["id"] for r in page["conversations"]], page["scanned"], page["next"]) == ([waiting], 1, None)
    assert (await _get(node, "/api/conversations", alice.token, agent="bob", state="assigned"))[1]["scanned"] == 0
    assert (await _get(node, "/api/conversations", alice.token, queue="billing", state="queued"))[1]["scanned"] == 0
    created = int(conv["created_at"])  # the time range bounds these sources too
    status, page = await _get(
        node, "/api/conversations", alice.token, queue=DEFAULT_QUEUE, state="queued", **{"to": str(created - 1)}
    )
    assert page["conversations"] == []
    status, page = await _get(node, "/api/conversations", alice.token, agent="alice", state="closed")
    assert [r["id"] for r in page["conversations"]] == older[::-1] and page["scanned"] == 5  # the hash check


async def test_search_refuses_hostile_parameters_naming_the_field(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.login()
    cases: list[tuple[str, str]] = [
        ("?q=" + "a" * 201, "q"),
        ("?q=!!", "q"),
        ("?q=" + "+".join(f"w{i}" for i in range(9)), "q"),
        ("?state=gone", "state"),
        ("?limit=0", "limit"),
        ("?limit=51", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=%D9%A3", "limit"),  # an Arabic-Indic digit is no ASCII number
        ("?from=20&to=10", "from"),
        ("?from=1e3", "from"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?cursor=1.c_x%0A", "cursor"),
        ("?sort=asc", "sort"),
        ("?q=a&q=b", "q"),
        ("?q=%FF%FE", "q"),  # not UTF-8
        ("?customer=%00", "customer"),
        ("?customer=" + "x" * 129, "customer"),
        ("?agent=%ED%A0%80", "agent"),  # an encoded surrogate: not UTF-8
    ]
    async with aiohttp.ClientSession() as http:
        for query, field in cases:
            url = node.url + "/api/conversations" + query
            async with http.get(url, headers={"Authorization": f"Bearer {alice.token}"}) as r:
                body = await r.json()
                assert (r.status, body.get("field")) == (400, field), (query, body)
                assert body["code"] in ("bad_field", "missing_field"), (query, body)
    assert (await _get(node, "/api/conversations/..%2F..%2Fetc", alice.token))[0] == 404


async def test_canned_responses_shared_by_supervisors_personal_per_agent_validated(
    clients: Clients, node: Node
) -> None:
    alice, bob, carol = clients.agent("alice"), clients.agent("bob"), clients.agent("carol")
    for a in (alice, bob, carol):
        await a.login()
    greeting = {"title": "Greeting", "text": "Hi {{ customer.name | there }}, I'm {{agent.name}}."}
    assert (await _send(node, "PUT", "/api/canned/shared/hello", alice.token, greeting))[0] == 403
    status, stored = await _send(node, "PUT", "/api/canned/shared/hello", carol.token, greeting)
    assert status == 200 and stored["scope"] == "shared" and stored["updated_by"] == "carol"
    mine = {
        "title": "Refund policy",
        "text": "Refunds take 5 days, {{ customer.name }}.\nConversation {{conversation.id}}",
    }
    assert (await _send(node, "PUT", "/api/canned/personal/refund", alice.token, mine))[0] == 200

    status, listing = await _get(node, "/api/canned", alice.token)
    assert status == 200
    assert [(c["shortcut"], c["scope"]) for c in listing["shared"] + listing["personal"]] == [
        ("hello", "shared"),
        ("refund", "personal"),
    ]
    _, bobs = await _get(node, "/api/canned", bob.token)
    assert bobs["personal"] == [] and [c["shortcut"] for c in bobs["shared"]] == ["hello"]  # alice's stay hers
    assert (await _send(node, "DELETE", "/api/canned/personal/refund", bob.token))[0] == 404
    assert (await _send(node, "DELETE", "/api/canned/shared/hello", bob.token))[0] == 403

    bad: list[tuple[str, Any, str]] = [
        ("Bad_Case", greeting, "shortcut"),
        ("-x", greeting, "shortcut"),
        ("x" * 33, greeting, "shortcut"),
        ("ok", {"title": "T"}, "text"),
        ("ok", {"title": "", "text": "x"}, "title"),
        ("ok", {"title": 5, "text": "x"}, "title"),
        ("ok", {"title": "T", "text": ["x"]}, "text"),
        ("ok", {"title": "T\n2", "text": "x"}, "title"),
        ("ok", {"title": "T" * 81, "text": "x"}, "title"),
        ("ok", {"title": "T", "text": "x" * 2001}, "text"),
        ("ok", {"title": "T", "text": "bell \x07"}, "text"),
        ("ok", {"title": "T", "text": "   "}, "text"),
        ("ok", {"title": "T", "text": "Hi {{ customer.email }}"}, "text"),
        ("ok", {"title": "T", "text": "Hi {{ customer.name"}, "text"),
        ("ok", {"title": "T", "text": "Hi {{ customer.name | " + "x" * 41 + " }}"}, "text"),
        ("ok", {"title": "T", "text": "x", "scope": "shared"}, "scope"),
    ]
    for shortcut, body, field in bad:
        status, err = await _send(node, "PUT", f"/api/canned/personal/{shortcut}", alice.token, body)
        assert (status, err.get("field")) == (400, field), (shortcut, body, err)
    status, err = await _send(
        node, "PUT", "/api/canned/personal/ok", alice.token, raw=b'{"title": "T", "text": "\xff"}'
    )
    assert (status, err["code"]) == (400, "bad_json")
    status, err = await _send(node, "PUT", "/api/canned/personal/ok", alice.token, raw=b"[1]")
    assert (status, err["code"]) == (400, "bad_json")

    # a set holds at most MAX_PERSONAL; replacing one is always fine
    for i in range(MAX_PERSONAL - 1):
        assert (await _send(node, "PUT", f"/api/canned/personal/r{i}", alice.token, greeting))[0] == 200
    status, err = await _send(node, "PUT", "/api/canned/personal/one-more", alice.token, greeting)
    assert (status, err["code"], err["field"]) == (409, "conflict", "shortcut")
    assert (await _send(node, "PUT", "/api/canned/personal/r0", alice.token, mine))[0] == 200
    assert (await _send(node, "DELETE", "/api/canned/personal/refund", alice.token))[0] == 200
    assert (await _send(node, "PUT", "/api/canned/personal/one-more", alice.token, greeting))[0] == 200
