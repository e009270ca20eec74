"""What a waiting caller is promised: their place and the expected wait, from recent handle times and the agents
who take work (away agents take nobody until they are back), in the hold announcements and in a flow's queue look.
A real aiortc caller queued by the flow, a real node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from gateway.contact.routing import now_ms
from gateway.protocol.states import AgentActivity, AgentStatus, CallStatus
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node


@pytest.fixture
async def announcing_node(settings) -> AsyncIterator[Node]:  # type: ignore[no-untyped-def]
    started = await start_node(replace(settings, announce_seconds=1.5))
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_waiting_caller_hears_place_and_wait_from_recent_handle_times(announcing_node: Node) -> None:
    node = announcing_node
    clients = Clients(node.url)
    waits = node.services.agent_calls.waits
    assert waits is not None
    for ms in (100_000, 140_000):  # two recent calls took 2 minutes on average
        await waits.add_handle_time(ms)
    alice = clients.agent("alice")
    caller: Caller | None = None
    try:
        # online but away: she takes nobody until she is back, so no wait is promised (an exploratory test heard
        # "less than a minute" with every agent away)
        await alice.hello(available=False)
        caller = await queued_call(clients)
        handoff = node.services.agent_calls.handoffs[next(iter(node.services.agent_calls.handoffs))]
        async with asyncio.timeout(10):
            while not handoff.announced:
                await asyncio.sleep(0.1)
        assert handoff.announced[0] == "You are next in the queue."
        # available, busy with after-call work for a minute: she will take the caller, after the others' pace
        presence = node.services.presence
        await presence.set_activity("alice", AgentActivity.WRAP_UP, until_ms=now_ms() + 60_000)
        await presence.set_status("alice", AgentStatus.AVAILABLE)
        heard = len(handoff.announced)
        async with asyncio.timeout(10):
            while len(handoff.announced) < heard + 1:
                await asyncio.sleep(0.1)
        assert handoff.announced[heard] == "You are next in the queue. The wait is about 2 minutes."
        # the caller hangs up while waiting: an abandoned call, with how long it waited
        await caller.hangup()
        await caller.status(CallStatus.ENDED)
        async with asyncio.timeout(5):
            while not (
                abandoned := [
                    e for e in await node.services.store.events(caller.conversation_id) if e["type"] == "call_abandoned"
                ]
            ):
                await asyncio.sleep(0.1)
        assert abandoned[0]["wait_ms"] > 1500 and abandoned[0]["reason"] == "caller_hangup"
    finally:
        if caller is not None:
            await caller.close()
        await clients.close()


async def test_the_flows_queue_look_promises_no_wait_while_every_agent_is_away(announcing_node: Node) -> None:
    """The IVR's queue_status gave "less than a minute" with every agent away (counted as one agent), so the
    default flow skipped its callback offer (an exploratory test). No agent taking work: no expected wait."""
    node = announcing_node
    clients = Clients(node.url)
    waits = node.services.agent_calls.waits
    assert waits is not None
    for ms in (100_000, 140_000):
        await waits.add_handle_time(ms)
    alice = clients.agent("alice")
    try:
        await alice.hello(available=False)
        status = await node.services.conversations.queue_status("billing")
        assert (status.agents_available, status.wait_seconds) == (0, None)
        presence = node.services.presence
        await presence.set_activity("alice", AgentActivity.WRAP_UP, until_ms=now_ms() + 60_000)
        await presence.set_status("alice", AgentStatus.AVAILABLE)  # available, busy for a minute
        status = await node.services.conversations.queue_status("billing")
        assert (status.agents_available, status.wait_seconds) == (0, 120)
    finally:
        await clients.close()
