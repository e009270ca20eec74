"""Agent time on a real node and Redis (gateway/ops/agent_time.py): each signed-in agent's state, read as routing
sees it, adds the sample's length to its counter once per slot whichever node samples it; the report by agent says
signed-in time, time per state and occupancy, and by queue says none of it."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.contact.routing import now_ms
from gateway.ops.agent_time import SAMPLE_MS, AgentTime
from gateway.store.rollup_store import RollupStore
from tests.conftest import Clients
from tests.integration.test_reports import get, today, total
from tests.support.servers import Node


async def test_states_are_sampled_once_per_slot_and_reported_as_time_and_occupancy(
    clients: Clients, node: Node
) -> None:
    s = node.services
    await s.agent_time.stop()  # the node's own sampler: its samples of now would add to alice's
    # slots five minutes ago: every desk session is live then (each expires 30 s from now), and the node's own
    # sampler counts only the slot of now
    start = (now_ms() // SAMPLE_MS - 20) * SAMPLE_MS + 1
    clock = {"ms": start}
    db = RollupStore(s.store, zone=s.settings.center_timezone)
    here, other = (AgentTime(s.store, db, clock=lambda: clock["ms"]) for _ in range(2))  # two nodes

    async def slot(expect_counted: bool) -> None:
        assert await here.sample() is expect_counted
        assert await here.sample() is False  # this node, the same slot: nothing
        assert await other.sample() is False  # another node, the same slot: applied once
        clock["ms"] += SAMPLE_MS

    alice = clients.agent("alice")
    await alice.hello()  # available, nothing to do: idle
    await slot(True)
    customer = clients.customer()
    await customer.hello()
    await customer.say("hello?")
    await alice.assigned()  # a chat: on contacts
    await slot(True)
    await slot(True)
    await alice.send({"type": "status", "status": "away", "reason": "lunch"})
    await alice.expect("agent", lambda f: f["agent"]["status"] == "away")
    await slot(True)
    await slot(True)
    await alice.send({"type": "status", "status": "away", "reason": ""})  # away without saying why
    await alice.expect("agent", lambda f: (f["agent"]["status"], f["agent"]["away_reason"]) == ("away", ""))
    await slot(True)
    await alice.drop()  # signed out: nothing sampled (nobody else is signed in)
    await clients_gone(node)
    assert await here.sample() is False

    carol = await clients.agent("carol").login()
    span = {"from": datetime.fromtimestamp(start / 1000, UTC).date().isoformat(), "to": today()}  # (UTC: the center's)
    status, by_agent, _ = await get(node, carol, "/api/reports", **span, by="agent")
    assert status == 200, by_agent
    row = total(by_agent, "alice")
    assert (row["time_signed_in_ms"], row["time_idle_ms"], row["time_chats_ms"], row["time_away_ms"]) == (
        6 * SAMPLE_MS,
        SAMPLE_MS,
        2 * SAMPLE_MS,
        3 * SAMPLE_MS,
    )
    assert row["occupancy"] == round(2 / 3, 4)  # 30 s on a chat of 45 s available; lunch left out
    # the center's away time by reason: lunch, and away without one
    status, by_reason, _ = await get(node, carol, "/api/reports", **span, by="away_reason")
    assert status == 200, by_reason
    assert {t["key"]: t for t in by_reason["totals"]} == {
        "lunch": {"key": "lunch", "time_away_ms": 2 * SAMPLE_MS},
        "none": {"key": "none", "time_away_ms": SAMPLE_MS},
    }
    assert by_reason["overall"] == {"time_away_ms": 3 * SAMPLE_MS}
    status, csv_text, _ = await get(node, carol, "/api/reports", **span, by="away_reason", format="csv")
    assert status == 200 and csv_text.splitlines()[0] == "key,start,time_away_ms", csv_text
    status, by_queue, _ = await get(node, carol, "/api/reports", **span)
    assert all(t["time_signed_in_ms"] is None and t["occupancy"] is None for t in by_queue["totals"])


async def clients_gone(node: Node) -> None:
    """Alice's desk session leaves presence as her socket closes (a moment after)."""
    import asyncio

    for _ in range(100):
        ((_, _, sessions),) = await node.services.store.agent_loads(["alice"], now_ms())
        if not sessions:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("alice's desk session never left")
