"""Who gets a TURN pair for a call (``call_ice`` on the agent socket): the agent it rings for or who is on it, and a
supervisor once the call is connected (to listen, whisper or barge), on the node holding the call or on another
one (the call registry); anybody else gets ``not_your_call`` and no pair.

Two real nodes on one real Redis, a real aiortc caller queued through the IVR, a real aiortc softphone answering.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.support.clients import Agent
from tests.support.queue_calls import queued_call
from tests.support.servers import start_node
from tests.support.softphone import Softphone


async def ask_ice(agent: Agent, call_id: str) -> dict[str, Any]:
    """The answer to ``call_ice``: the call_ice frame, or the error frame naming this call's request."""
    await agent.send({"type": "call_ice", "call_id": call_id})
    return await agent.expect(
        ("call_ice", "error"), lambda f: f.get("call_id", call_id) == call_id and f.get("field", "call_id") == "call_id"
    )


def given(frame: dict[str, Any]) -> str:
    return "pair" if frame["type"] == "call_ice" else str(frame["code"])


async def test_a_turn_pair_only_for_a_call_that_rings_for_the_agent_is_theirs_or_a_supervisor_may_join(
    settings: Settings,
) -> None:
    home = await start_node(settings)  # holds the call and alice's desk
    other = await start_node(settings)  # bob's and carol's desks: the call's state comes from the registry
    clients = Clients(home.url)
    caller = phone = None
    try:
        alice = clients.agent("alice")
        await alice.hello(available=False)
        bob = clients.agent("bob", url=other.url)
        await bob.hello(available=False)
        carol = clients.agent("carol", url=other.url)  # a supervisor
        await carol.hello(available=False)
        assert [given(await ask_ice(a, "no-such-call")) for a in (alice, bob, carol)] == ["not_your_call"] * 3

        caller = await queued_call(clients)
        call_id = caller.call_id
        assert [given(await ask_ice(a, call_id)) for a in (alice, bob, carol)] == ["not_your_call"] * 3  # waiting

        phone = Softphone(alice)
        await alice.send({"type": "status", "status": "available"})
        assert (await phone.ringing())["call_id"] == call_id
        pair = await ask_ice(alice, call_id)
        assert pair["type"] == "call_ice" and pair["call_id"] == call_id
        # it rings for alice only; a supervisor joins a connected call, not a ringing one
        assert [given(await ask_ice(a, call_id)) for a in (bob, carol)] == ["not_your_call"] * 2

        await phone.answer(call_id)
        await caller.status(CallStatus.CONNECTED)
        anchors = home.services.call_commands.anchors
        async with asyncio.timeout(15):  # the registry follows the call (what the other node reads)
            while ((await anchors.entry(call_id)) or {}).get("status") != CallStatus.CONNECTED:
                await asyncio.sleep(0.05)
        assert [given(await ask_ice(a, call_id)) for a in (alice, bob, carol)] == ["pair", "not_your_call", "pair"]
        refused = await ask_ice(bob, call_id)
        assert "not yours" in refused["message"]
    finally:
        if phone is not None:
            await phone.close()
        if caller is not None:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
        await bounded(other.stop(), "stopping the other node")
        await bounded(home.stop(), "stopping the home node")
