"""Away reasons on a real node: the center's list (defaults, then an admin's, with versions and audit), the desk's
welcome carrying it, an agent going away only with a reason of the list, and the wallboard showing who is away why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
    stale = await admin.call("PUT", "/api/admin/away-reasons", {"reasons": DEFAULTS, "version": 0}, status=409)
    assert (stale["code"], stale["field"]) == ("stale_version", "version")
    bad_bodies = {
        "reasons[1].code": [{"code": "a", "label": "A"}, {"code": "agent_absent", "label": "Gone"}],
        "reasons[0].code": [{"code": "Lunch Break", "label": "Lunch"}],
        "reasons[1].label": [{"code": "a", "label": "A"}, {"code": "b", "label": "x" * 41}],
        "reasons[0].label": [{"code": "a", "label": "tab\there"}],
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
