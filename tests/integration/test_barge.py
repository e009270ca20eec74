"""A supervisor barges into a connected call: real aiortc caller, agent softphone and supervisor softphone.

The supervisor joins with ``call_monitor`` mode ``barge``: both the caller and the agent hear their voice
(a 700 Hz tone, found by frequency), besides each other. Switching back to ``listen`` silences them for both.
"""

from __future__ import annotations

import asyncio

from tests.conftest import Clients
from tests.integration.test_agent_calls import hears, queued_call, strongest_hz, tone
from tests.support.caller import SAMPLE_RATE
from tests.support.servers import Node
from tests.support.softphone import Softphone


def quiet_at(samples_of: object, hz: float) -> bool:
    heard = samples_of()  # type: ignore[operator]
    return abs(strongest_hz(heard[-SAMPLE_RATE // 2 :]) - hz) > 50


async def test_supervisor_barges_in_and_both_the_caller_and_the_agent_hear_them(clients: Clients, node: Node) -> None:
    alice, carol = clients.agent("alice"), clients.agent("carol")  # carol is a supervisor
    await alice.hello()
    await carol.hello(available=False)
    caller = await queued_call(clients)
    phone, boss = Softphone(alice), Softphone(carol)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await boss.monitor(phone.call_id, "barge")
        boss.mic.play(tone(700, 3.0), "barge")
        await hears(lambda: caller.heard, 700)  # the caller hears the supervisor ...
        await hears(lambda: phone.heard, 700)  # ... and so does the agent
        caller.mic.play(tone(440), "caller")
        await hears(lambda: boss.heard, 440)  # the supervisor hears the caller
        await carol.send({"type": "call_monitor", "call_id": phone.call_id, "mode": "listen"})
        await carol.expect("call_status", lambda f: f["reason"] == "listen" and f.get("monitor") is True)
        boss.mic.play(tone(700, 3.0), "silent")
        await asyncio.sleep(1.0)
        assert quiet_at(lambda: caller.heard, 700) and quiet_at(lambda: phone.heard, 700)
        modes = [
            e["mode"] for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_monitored"
        ]
        assert modes == ["barge", "listen"]
    finally:
        await boss.close()
        await phone.close()
        await caller.close()
