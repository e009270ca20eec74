"""``--rtc-port-range``: the gateway's call legs bind their UDP sockets (ICE host candidates) inside the range.

Real aiortc peers on loopback. The test callers live in the gateway's process, so they dial inside
``ports_outside_range()``: only the gateway's legs are held to the range, as on a real deployment.
"""

from __future__ import annotations

import random
import re
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from gateway.config import Settings, from_sources
from gateway.errors import ConfigError
from media.aiortc_patches import RtcPortsExhausted, ports_outside_range, restore_port_range, restrict_port_range
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.servers import Node, start_node

CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host", re.MULTILINE)


def free_range(size: int) -> tuple[int, int]:
    """``size`` consecutive UDP ports free on 127.0.0.1, below Linux' ephemeral range (32768+)."""
    for _ in range(50):
        first = random.randrange(20000, 32000 - size)
        socks = []
        try:
            for port in range(first, first + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return first, first + size - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port range found")


@pytest.fixture(autouse=True)
def unrestricted_afterwards() -> Iterator[None]:
    yield
    restore_port_range()


def leg_ports(node: Node) -> list[int]:
    """The local UDP ports of every gateway call leg's ICE sockets."""
    ports = []
    for call in node.services.calls.calls.values():
        for transceiver in call.leg.pc.getTransceivers():
            connection = transceiver.sender.transport.transport.iceGatherer._connection
            ports += [p.transport.get_extra_info("sockname")[1] for p in connection._protocols]
    return ports


async def dial(clients: Clients) -> tuple[Caller, dict[str, object]]:
    customer = clients.customer()
    await customer.hello()
    caller = Caller(customer)
    with ports_outside_range():
        answer = await caller.dial()
    return caller, answer


async def test_gateway_legs_bind_only_inside_the_range(settings: Settings) -> None:
    first, last = free_range(8)
    node = await start_node(replace(settings, rtc_port_range=(first, last)))
    clients = Clients(node.url)
    callers: list[Caller] = []
    try:
        for _ in range(3):
            caller, answer = await dial(clients)
            callers.append(caller)
            offered = [int(port) for _, port in CANDIDATE.findall(str(answer["sdp"]))]
            assert offered and all(first <= p <= last for p in offered), (offered, first, last)
            mine = [int(port) for _, port in CANDIDATE.findall(str(caller.pc.localDescription.sdp))]
            assert not any(first <= p <= last for p in mine)  # the caller is not a leg: any port
            await caller.status("ivr")  # ICE connected through the range
            await caller.heard_prompt()  # and the prompt's audio came from a port in it
        ports = leg_ports(node)
        assert len(ports) == 3 and len(set(ports)) == 3 and all(first <= p <= last for p in ports), ports
    finally:
        for caller in callers:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_an_exhausted_range_refuses_the_call_clearly(settings: Settings) -> None:
    first, last = free_range(2)
    node = await start_node(replace(settings, rtc_port_range=(first, last)))
    clients = Clients(node.url)
    callers: list[Caller] = []
    try:
        for _ in range(2):
            caller, _ = await dial(clients)
            callers.append(caller)
            await caller.status("ivr")
        customer = clients.customer()
        await customer.hello()
        third = Caller(customer)
        callers.append(third)
        with ports_outside_range():
            sdp = await third.make_offer()
        await customer.send({"type": "call_offer", "call_id": third.call_id, "sdp": sdp})
        refused = await customer.expect("call_status", lambda f: f["call_id"] == third.call_id, timeout=15)
        assert refused["status"] == "ended" and refused["reason"] == "rtc_ports_exhausted"  # the widget says so
        assert len(node.services.calls.calls) == 2
        await callers[0].heard_prompt()  # the calls in progress go on
    finally:
        for caller in callers:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_exhaustion_error_names_the_range() -> None:
    first, last = free_range(2)
    restrict_port_range((first, last))
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(3)]
    try:
        for pc in pcs[:2]:
            pc.addTransceiver("audio")
            await pc.setLocalDescription(await pc.createOffer())
        pcs[2].addTransceiver("audio")
        with pytest.raises(RtcPortsExhausted, match=f"{first}-{last}"):
            await pcs[2].setLocalDescription(await pcs[2].createOffer())
        restrict_port_range(None)  # lifted: any port again
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pcs.append(pc)
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        assert CANDIDATE.search(pc.localDescription.sdp)
    finally:
        for pc in pcs:
            await pc.close()


def test_the_setting_parses_and_rejects_nonsense() -> None:
    assert from_sources({"rtc_port_range": "40000-40999"}, {}).rtc_port_range == (40000, 40999)
    assert from_sources({}, {"CG_RTC_PORT_RANGE": "50000-50099"}).rtc_port_range == (50000, 50099)
    for bad in ("40000", "40999-40000", "80-90", "a-b", "40000-70000"):
        with pytest.raises(ConfigError):
            from_sources({"rtc_port_range": bad}, {})
