"""Digits while a bridged call relays Opus packets: a real aiortc caller and softphone, the gateway between them.

Relaying, neither leg decodes: the caller's in-band tones (DTMF in the audio) reach nobody but the agent's ear.
With ``--bridge-inband-dtmf`` the bridge keeps a decoded tap on the caller's direction only (the packets are
still forwarded untouched, the agent's leg still decodes nothing) and the detector hears the tones. RFC 4733
key presses are separate packets, taken before the relay: they arrive either way.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config import Settings
from gateway.protocol.states import CallStatus
from media.bridge import RELAY, RELAY_AND_TAP
from tests.conftest import TEST_FLOWS, Clients, bounded
from tests.support.caller import Caller
from tests.support.queue_calls import hears, queued_call, tone
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone

WAIT = 15.0  # a generous bound for conditions, never a timing assertion


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while not condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {WAIT} s: {what}") from None


def unrecorded_flows(tmp_path: Path) -> Path:
    """The test line with its billing queue not recorded (a recording would decode both sides anyway)."""
    flows = tmp_path / "flows"
    shutil.copytree(TEST_FLOWS, flows)
    default = flows / "default.yaml"
    default.write_text(default.read_text().replace("record: true", "record: false"))
    return flows


@pytest.fixture(params=[True, False], ids=["inband-tap", "relay-only"])
async def relaying_node(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    started = await start_node(
        replace(settings, flows_dir=unrecorded_flows(tmp_path), bridge_inband_dtmf=request.param)
    )
    yield started
    await bounded(started.stop(), "stopping the node")


async def test_digits_while_the_bridge_relays(relaying_node: Node) -> None:
    node = relaying_node
    inband = node.services.settings.bridge_inband_dtmf
    clients = Clients(node.url)
    alice = clients.agent("alice")
    await alice.hello()
    caller: Caller = await queued_call(clients)
    phone = Softphone(alice)
    try:
        await phone.answer((await phone.ringing())["call_id"])
        await caller.status(CallStatus.CONNECTED)
        call = node.services.calls.calls[caller.call_id]
        bridge = call.bridge
        assert bridge is not None and call.leg.relay is not None
        assert bridge.mode == (RELAY_AND_TAP if inband else RELAY)
        assert bridge.decoding == ("a" if inband else "")  # the agent's direction is never decoded for it
        caller.mic.play(tone(440), "caller-tone")
        await hears(lambda: phone.heard, 440)  # relayed to the agent all along
        agent_leg = node.services.agent_calls.handoffs[caller.call_id].leg
        assert agent_leg is not None
        agent_decoded, relayed = agent_leg.frames_decoded, call.leg.relay.relayed

        await caller.press("5", how="inband")
        if inband:
            await wait_for(lambda: ("5", "inband") in call.digits_heard, "the in-band 5 is heard while relaying")
        await caller.press("7", how="rfc4733")
        await wait_for(lambda: ("7", "rfc4733") in call.digits_heard, "the RFC 4733 7 arrives while relaying")
        if not inband:  # the caller's direction was not decoded: the tone went by unheard (what the tap is for)
            assert ("5", "inband") not in call.digits_heard
        assert bridge.mode == (RELAY_AND_TAP if inband else RELAY) and call.bridge is bridge
        assert call.leg.relay.relayed > relayed  # the caller's packets were still forwarded, not re-encoded
        assert agent_leg.frames_decoded == agent_decoded  # nothing decoded the agent's side
        assert call.player.relaying and agent_leg.player.relaying
    finally:
        await phone.close()
        await caller.close()
        await clients.close()
