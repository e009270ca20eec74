"""An agent's status and since when, on a real node: the clock the wallboard and the desk show restarts with every
change of state, and away for another reason is another state."""

from __future__ import annotations

import asyncio

from tests.conftest import Clients
from tests.support.servers import Node


async def since(node: Node, agent_id: str) -> tuple[str, str, int]:
    info = await node.services.store.redis.hgetall(node.services.keys.agent(agent_id))
    fields = {k.decode(): v.decode() for k, v in info.items()}
    return fields["status"], fields.get("away_reason", ""), int(fields["status_since"])


async def test_away_for_another_reason_restarts_the_clock_and_the_same_reason_does_not(
    clients: Clients, node: Node
) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    steps = [("away", "meeting"), ("away", "meeting"), ("away", "lunch"), ("available", ""), ("available", "")]
    seen = []
    for status, reason in steps:
        await asyncio.sleep(0.02)
        await alice.send({"type": "status", "status": status, "reason": reason})
        await alice.expect(
            "agent", lambda f, s=status, r=reason: (f["agent"]["status"], f["agent"]["away_reason"]) == (s, r)
        )
        seen.append(await since(node, "alice"))
    assert [s[:2] for s in seen] == [(st, r) for st, r in steps]
    times = [s[2] for s in seen]
    assert times[1] == times[0]  # the same reason again: the same state
    assert times[2] > times[1]  # lunch after the meeting: a new state (a reports auditor saw the meeting's time)
    assert times[3] > times[2] and times[4] == times[3]
