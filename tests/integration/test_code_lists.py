"""The center's code lists on a real node: away reasons and dispositions (defaults, then an admin's, with versions
and audit), the desk's welcome carrying them, an agent going away or closing only with a code of the list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.contact.dispositions import Dispositions
from gateway.errors import ConfigError
from tests.conftest import PASSWORDS, Clients
from tests.support.admin_api import ADA, Admin, admin_token, agents_with_an_admin
from tests.support.servers import Node

DEFAULTS = [
    {"code": "break", "label": "Break"},
    {"code": "lunch", "label": "Lunch"},
    {"code": "meeting", "label": "Meeting"},
    {"code": "training", "label": "Training"},
    {"code": "other", "label": "Other work"},
]


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alice (an agent), Carol (a supervisor) and Ada (an admin)."""
    return agents_with_an_admin(tmp_path_factory.mktemp("agents") / "agents.toml", PASSWORDS)


async def went_away(agent: Any, reason: str) -> dict[str, Any]:
    """The agent asks to be away with ``reason``: the ``agent`` frame that says so, or the ``error`` frame."""
    await agent.send({"type": "status", "status": "away", "reason": reason})
    frame = await agent.expect(
        ("agent", "error"), lambda f: f["type"] == "error" or f["agent"]["away_reason"] == reason
    )
    return dict(frame)


async def test_the_center_s_reasons_are_the_only_ones_an_agent_goes_away_with(clients: Clients, node: Node) -> None:
    admin = Admin(node, await admin_token(node, "ada", ADA))
    alice = clients.agent("alice")
    welcome = await alice.hello()
    assert welcome["away_reasons"] == DEFAULTS  # no admin wrote a list: the defaults
    mine = Admin(node, alice.token)
    assert await mine.call("GET", "/api/away-reasons") == {"reasons": DEFAULTS, "version": 0}  # any agent reads

    assert (await went_away(alice, "lunch"))["agent"]["status"] == "away"
    for reason in ("napping", "set_by_supervisor", "missed_call"):  # not the list's, nor the gateway's own
        refused = await went_away(alice, reason)
        assert (refused["type"], refused["field"]) == ("error", "reason"), refused
        assert refused["message"] == (
            f"'{reason}' is not an away reason of this center (reasons: break, lunch, meeting, training, other)"
        )
    info = await node.services.presence.info("alice")
    assert (info["status"], info["away_reason"]) == ("away", "lunch")  # nothing changed by the refusals
    assert (await went_away(alice, ""))["agent"]["status"] == "away"  # away without saying why is allowed

    new = [{"code": "coaching", "label": "Coaching"}, {"code": "break", "label": "Short break"}]
    stored = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": new, "version": 0})
    assert stored == {"reasons": new, "version": 1}
    told = await alice.expect("codes")  # the open desk is told at once (every node's are)
    assert (told["away_reasons"], told["dispositions"][0]["code"]) == (new, "resolved")
    stale = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": DEFAULTS, "version": 0}, status=409)
    assert (stale["code"], stale["field"]) == ("stale_version", "version")
    bad_bodies = {
        "reasons[1].code": [{"code": "a", "label": "A"}, {"code": "agent_absent", "label": "Gone"}],
        "reasons[0].code": [{"code": "Lunch Break", "label": "Lunch"}],
        "reasons[1].label": [{"code": "a", "label": "A"}, {"code": "b", "label": "x" * 41}],
        "reasons[0].label": [{"code": "a", "label": "tab\there"}],
        "reasons[2].label": [
            {"code": "a", "label": "A"},
            {"code": "b", "label": "B"},
            {"code": "c", "label": "\u200b "},
        ],
        "reasons": [],
    }
    for field, reasons in bad_bodies.items():
        bad = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": reasons, "version": 1}, status=400)
        assert bad["field"] == field, (reasons, bad)
    twice = [{"code": "a", "label": "A"}, {"code": "a", "label": "B"}]
    bad = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": twice, "version": 1}, status=400)
    assert bad["message"] == "reasons[1].code 'a' is in the list twice"
    await Admin(node, alice.token).call("PUT", "/api/admin/away-reasons", {"reasons": new, "version": 1}, status=403)
    assert (await admin.call("GET", "/api/away-reasons"))["version"] == 1  # none of those wrote anything

    # every node reads the list when it is used: the open desk's next choice is checked against the new list
    assert (await went_away(alice, "coaching"))["agent"]["away_reason"] == "coaching"
    assert (await went_away(alice, "lunch"))["type"] == "error"
    again = clients.agent("alice")
    assert (await again.hello())["away_reasons"] == new  # a desk opened now offers the new list
    entries = (await node.services.audit.page(target="away_reasons")).entries
    assert [(e["action"], e["actor"]) for e in entries] == [("away_reasons.update", "ada")]
    assert entries[0]["before"]["reasons"] == DEFAULTS and entries[0]["after"]["reasons"] == new


async def test_an_admin_s_dispositions_replace_the_node_s_and_an_agent_closes_only_with_one_of_them(
    clients: Clients, node: Node
) -> None:
    admin = Admin(node, await admin_token(node, "ada", ADA))
    alice = clients.agent("alice")
    welcome = await alice.hello()
    defaults = [  # --dispositions, labelled from their codes
        {"code": "resolved", "label": "Resolved"},
        {"code": "follow-up", "label": "Follow up"},
        {"code": "no-response", "label": "No response"},
        {"code": "spam", "label": "Spam"},
    ]
    assert welcome["dispositions"] == defaults
    assert await Admin(node, alice.token).call("GET", "/api/dispositions") == {"dispositions": defaults, "version": 0}
    for reserved in ("abandoned", "customer_ended", "agent_left", "erased"):  # the gateway's own
        body = {"dispositions": [{"code": reserved, "label": "Mine"}], "version": 0}
        bad = await admin.call("PUT", "/api/admin/dispositions", body, status=400)
        assert bad["field"] == "dispositions[0].code" and "the gateway closes conversations with" in bad["message"]
    mine = [{"code": "sale", "label": "Sale made"}, {"code": "resolved", "label": "Resolved"}]
    stored = await admin.call("PUT", "/api/admin/dispositions", {"dispositions": mine, "version": 0})
    assert stored == {"dispositions": mine, "version": 1}

    async def close_with(disposition: str) -> dict[str, Any]:
        customer = clients.customer()
        await customer.hello()
        cid = (await customer.say("I would like to buy"))["conversation_id"]
        await alice.assigned()
        await alice.send({"type": "close", "conversation_id": cid, "disposition": disposition})
        frame = await alice.expect(
            ("unassigned", "error"), lambda f: f["type"] == "error" or f["conversation_id"] == cid
        )
        conv = await node.services.store.conversation(cid)
        assert conv is not None
        return {**frame, "state": conv["state"], "disposition": conv.get("disposition", "")}

    refused = await close_with("follow-up")  # the node's, no longer the center's
    assert (refused["type"], refused["field"], refused["state"]) == ("error", "disposition", "assigned"), refused
    assert refused["message"] == "'follow-up' is not a disposition of this center (dispositions: sale, resolved)"
    assert (await close_with("agent_left"))["type"] == "error"  # nor one the gateway closes with
    alice2 = clients.agent("alice")  # a desk opened now offers the admin's list
    assert (await alice2.hello())["dispositions"] == mine
    await alice2.close()
    for conv in await node.services.conversations.assigned_to("alice"):  # (the refused ones: closed now)
        await alice.send({"type": "close", "conversation_id": conv["id"], "disposition": "sale"})
        await alice.expect("unassigned", lambda f, c=conv["id"]: f["conversation_id"] == c)
    done = await close_with("sale")
    assert (done["type"], done["state"], done["disposition"]) == ("unassigned", "closed", "sale")
    entries = (await node.services.audit.page(target="dispositions")).entries
    assert [(e["action"], e["actor"], e["after"]["dispositions"]) for e in entries] == [
        ("dispositions.update", "ada", mine)
    ]


async def test_labels_show_what_they_say_and_a_list_broken_in_the_store_gives_the_defaults_until_an_admin_saves(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Admin(node, await admin_token(node, "ada", ADA))
    twins = [{"code": "a", "label": "Lunch"}, {"code": "b", "label": "LUNCH "}]
    bad = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": twins, "version": 0}, status=400)
    assert (bad["field"], bad["message"]) == (
        "reasons[1].label",
        "reasons[1].label 'LUNCH' is in the list twice: agents could not tell them apart",
    )
    turned = [{"code": "a", "label": "Break \u202egnol"}]  # an override that would show it reversed: taken out
    stored = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": turned, "version": 0})
    assert stored["reasons"] == [{"code": "a", "label": "Break gnol"}]
    junk_key = await admin.call("PUT", "/api/admin/away-reasons", {"reasons\u0007": [], "version": 1}, status=400)
    assert junk_key["field"] == "reasons\\x07"  # the client's junk, escaped

    store = node.services.store
    await store.redis.hset(store.keys.center_settings, "away_reasons", "{not json")  # written by hand, or garbled
    listed = await admin.call("GET", "/api/away-reasons")
    assert listed["version"] == 1 and listed["reasons"][0] == {"code": "break", "label": "Break"}  # the defaults
    assert any("are not usable" in r.getMessage() for r in caplog.records)
    fixed = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": turned, "version": 1})  # the admin's way out
    assert fixed["version"] == 2

    with pytest.raises(ConfigError) as refused:  # --dispositions naming one the gateway closes with itself
        Dispositions(store, ("resolved", "abandoned"))
    assert refused.value.message == (
        "--dispositions: dispositions[1].code 'abandoned' is a disposition the gateway closes conversations with "
        "itself: choose another"
    )


async def test_a_status_set_at_one_desk_shows_on_the_agent_s_other_desk(clients: Clients, node: Node) -> None:
    first, second = clients.agent("alice"), clients.agent("alice")
    await first.hello()
    await second.hello()
    await first.send({"type": "status", "status": "away", "reason": "lunch"})
    for desk in (first, second):  # the desk that asked, and the other tab
        told = await desk.expect("agent", lambda f: f["agent"]["status"] == "away")
        assert told["agent"]["away_reason"] == "lunch"
    await second.send({"type": "status", "status": "available"})
    await first.expect("agent", lambda f: f["agent"]["status"] == "available")
