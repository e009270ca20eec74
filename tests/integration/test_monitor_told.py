"""Who is told that a supervisor is on a call: real aiortc caller, agent softphone and supervisor softphone.

A silent listener is told to nobody; the agent's desk is told who whispers to them or barged in
(``call_supervisors``, names included), the caller's widget only that a supervisor barged in (no name, no id),
and both are told again when that ends. The timeline records every join, switch and end.
"""

from __future__ import annotations

import asyncio

from tests.conftest import Clients
from tests.support.queue_calls import queued_call
from tests.support.servers import Node
from tests.support.softphone import Softphone


async def test_the_agent_hears_of_whisper_and_barge_the_caller_of_barge_only_and_the_timeline_of_every_end(
    clients: Clients, node: Node
) -> None:
    alice, carol = clients.agent("alice"), clients.agent("carol")  # carol (Carol White) is a supervisor
    await alice.hello()
    await carol.hello(available=False)
    caller = await queued_call(clients)
    phone, boss = Softphone(alice), Softphone(carol)
    customer = caller.customer
    try:
        await phone.answer((await phone.ringing())["call_id"])
        call_id = phone.call_id

        async def agent_told() -> list[dict[str, str]]:
            frame = await alice.expect("call_supervisors", lambda f: f["call_id"] == call_id, timeout=15)
            assert frame["conversation_id"] == caller.conversation_id
            return list(frame["supervisors"])

        async def caller_told() -> list[dict[str, str]]:
            frame = await customer.expect("call_supervisors", lambda f: f["call_id"] == call_id, timeout=15)
            return list(frame["supervisors"])

        await boss.monitor(call_id, "listen")
        told = [f for f in await alice.quiet(2.0) if f.get("type") == "call_supervisors"]
        assert told == []  # listening silently: the agent is not told
        await carol.send({"type": "call_monitor", "call_id": call_id, "mode": "whisper"})
        sara = {"agent_id": "carol", "name": "Carol White"}
        assert await agent_told() == [{**sara, "mode": "whisper"}]
        await carol.send({"type": "call_monitor", "call_id": call_id, "mode": "barge"})
        assert await agent_told() == [{**sara, "mode": "barge"}]
        assert await caller_told() == [{"mode": "barge"}]  # the caller: no name
        # a desk or a widget that reconnects meanwhile is told again, in its welcome (from the call registry)
        async with asyncio.timeout(10):
            while [c.get("supervisors") for c in await node.services.agent_calls.calls_of("alice")] != [
                [{**sara, "mode": "barge"}]
            ]:
                await asyncio.sleep(0.05)
        await alice.drop()
        welcome = await alice.hello(available=False)
        assert [(c["call_id"], c["supervisors"]) for c in welcome["calls"]] == [(call_id, [{**sara, "mode": "barge"}])]
        await customer.drop()
        welcome = await customer.hello()
        assert [(c["call_id"], c["supervisors"]) for c in welcome["calls"]] == [(call_id, [{"mode": "barge"}])]
        await carol.send({"type": "call_monitor", "call_id": call_id, "mode": "whisper"})
        assert await agent_told() == [{**sara, "mode": "whisper"}]
        assert await caller_told() == []
        await carol.send({"type": "hangup", "call_id": call_id})
        await carol.expect("call_status", lambda f: f.get("monitor") is True and f["status"] == "ended")
        assert await agent_told() == []
        frames = await customer.quiet(0.5)
        assert [f for f in customer.seen if f.get("type") == "call_supervisors"] == [
            {"type": "call_supervisors", "call_id": call_id, "supervisors": [{"mode": "barge"}]},
            {"type": "call_supervisors", "call_id": call_id, "supervisors": []},
        ], frames  # whispering is never told to the caller, not even as an empty list
        events = await node.services.store.events(caller.conversation_id)
        steps = [
            (e["type"], e["mode"], e.get("reason"))
            for e in events
            if e["type"] in ("call_monitored", "call_monitor_ended")
        ]
        assert steps == [
            ("call_monitored", "listen", None),
            ("call_monitored", "whisper", None),
            ("call_monitored", "barge", None),
            ("call_monitored", "whisper", None),
            ("call_monitor_ended", "whisper", "supervisor_hangup"),
        ]
    finally:
        await boss.close()
        await phone.close()
        await caller.close()
