"""Customer satisfaction: the customer rates a closed conversation once; the agent who had it is told; hostile
ratings are refused with a code naming why and store nothing."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Clients
from tests.support.clients import Agent, Customer
from tests.support.servers import Node


async def _closed_chat(clients: Clients, agent: Agent) -> tuple[Customer, str]:
    cust = clients.customer()
    await cust.hello()
    ack = await cust.say("my parcel never came")
    conv = await agent.assigned()
    await agent.send({"type": "close", "conversation_id": conv["id"], "disposition": "resolved"})
    await cust.event("closed")
    await agent.expect("unassigned", lambda f: f["conversation_id"] == conv["id"])
    return cust, ack["conversation_id"]


async def _rating_state(node: Node, cid: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    conv = await node.services.store.conversation(cid)
    assert conv is not None
    ratings = [e for e in await node.services.store.events(cid) if e["type"] == "rating"]
    return {k: v for k, v in conv.items() if k.startswith("rat")}, ratings


async def test_a_customer_rates_a_closed_conversation_once_and_its_agent_sees_it(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust, cid = await _closed_chat(clients, alice)

    await cust.send({"type": "rating", "conversation_id": cid, "score": 4, "comment": "Quick and kind 👍\nthanks"})
    mine = await cust.event("rating")
    assert (mine["conversation_id"], mine["score"], mine["comment"]) == (cid, 4, "Quick and kind 👍\nthanks")
    # the desk left the conversation's channel at the close; the rating reaches it on the agent's own
    seen = await alice.event("rating")
    assert seen == mine

    stored, events = await _rating_state(node, cid)
    assert stored == {"rating": "4", "rating_comment": "Quick and kind 👍\nthanks", "rated_at": str(mine["ts"])}
    assert [(e["id"], e["score"]) for e in events] == [(mine["id"], 4)]
    summary = await node.services.conversations.summary(cid)
    assert summary is not None and summary["rating"] == {
        "score": 4,
        "comment": "Quick and kind 👍\nthanks",
        "rated_at": mine["ts"],
    }

    # once: a second rating (another score, or the same again) is refused and changes nothing
    for score in (1, 4):
        await cust.send({"type": "rating", "conversation_id": cid, "score": score})
        err = await cust.expect("error")
        assert (err["code"], err["field"]) == ("already_rated", "conversation_id"), err
    assert await _rating_state(node, cid) == (stored, events)

    # a reconnecting widget gets the rating in its history (and so does not ask again)
    again = Customer(cust.base_url, cust.token)
    try:
        welcome = await again.hello()
        assert [(e["type"], e.get("score")) for e in welcome["events"] if e["type"] in ("closed", "rating")] == [
            ("closed", None),
            ("rating", 4),
        ]
    finally:
        await again.close()


async def test_the_customer_can_rate_after_starting_a_new_conversation(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust, first = await _closed_chat(clients, alice)
    second = (await cust.say("one more question"))["conversation_id"]
    assert second != first
    await cust.send({"type": "rating", "conversation_id": first, "score": 5})
    rated = await cust.event("rating")
    assert (rated["conversation_id"], rated["score"], rated["comment"]) == (first, 5, "")
    assert (await _rating_state(node, first))[0]["rating"] == "5"


async def test_hostile_ratings_are_refused_and_store_nothing(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust, cid = await _closed_chat(clients, alice)
    stranger = clients.customer()
    await stranger.hello()
    open_conv = (await stranger.say("still talking"))["conversation_id"]
    await alice.assigned()

    def rating(**fields: Any) -> str:
        return json.dumps({"type": "rating", "conversation_id": cid, **fields})

    cases: list[tuple[Customer, str | bytes, str, str | None]] = [
        (cust, rating(), "bad_field", "score"),
        (cust, rating(score="5"), "bad_field", "score"),
        (cust, rating(score=4.0), "bad_field", "score"),
        (cust, rating(score=4.5), "bad_field", "score"),
        (cust, rating(score=True), "bad_field", "score"),
        (cust, rating(score=0), "bad_field", "score"),
        (cust, rating(score=6), "bad_field", "score"),
        (cust, rating(score=-1), "bad_field", "score"),
        (cust, rating(score=[5]), "bad_field", "score"),
        (cust, rating(score=10**30), "bad_field", "score"),
        (cust, rating(score=5, comment=7), "bad_field", "comment"),
        (cust, rating(score=5, comment="x" * 1001), "bad_field", "comment"),
        (cust, rating(score=5, comment="lone \ud800 surrogate"), "bad_field", "comment"),
        (cust, rating(score=5, comment="bell \x07"), "bad_field", "comment"),
        (cust, json.dumps({"type": "rating", "score": 5}), "missing_field", "conversation_id"),
        (cust, rating(score=5, conversation_id=""), "bad_field", "conversation_id"),
        (cust, rating(score=5, conversation_id="c_" + "0" * 16), "not_found", "conversation_id"),
        # bad UTF-8 in the frame's bytes: refused before parsing
        (
            cust,
            b'{"type":"rating","conversation_id":"' + cid.encode() + b'","score":5,"comment":"\xff\xfe"}',
            "bad_json",
            None,
        ),
        # someone else's conversation, and one still open
        (stranger, rating(score=1, comment="ha"), "forbidden", "conversation_id"),
        (
            stranger,
            json.dumps({"type": "rating", "conversation_id": open_conv, "score": 5}),
            "conflict",
            "conversation_id",
        ),
    ]
    for who, raw, code, field in cases:
        await who.send_raw(raw)
        err = await who.expect("error")
        assert (err["code"], err.get("field")) == (code, field), (raw[:90], err)
        assert err["message"]
    # an agent may not rate
    await alice.send({"type": "rating", "conversation_id": cid, "score": 5})
    assert (await alice.expect("error"))["code"] == "unknown_type"

    assert await _rating_state(node, cid) == ({}, [])
    assert await _rating_state(node, open_conv) == ({}, [])
    # exactly 1000 characters (code points: emoji count once) is fine
    await cust.send({"type": "rating", "conversation_id": cid, "score": 2, "comment": "é" * 999 + "😀"})
    assert (await cust.event("rating"))["comment"] == "é" * 999 + "😀"
