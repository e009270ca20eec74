"""NAT traversal with real parts: TURN credentials in the welcome frames and on the gateway's own legs (a real
coturn with the TURN REST API secret), and ``--rtc-public-address`` (1:1 NAT) in a call's answer.

Real aiortc peers on loopback; the test callers live in the gateway's process, so they gather inside
``ports_outside_range()`` (no public address mapping for them, as for any remote peer).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from gateway.config import Settings
from media.aiortc_patches import map_public_address, ports_outside_range
from media.ice import username_expiry, valid_at
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.queue_calls import queued_call
from tests.support.servers import start_node
from tests.support.softphone import Softphone
from tests.support.turn import TurnServer, allocations

CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ (\w+)(?: raddr (\S+) rport (\d+))?", re.MULTILINE)


@pytest.fixture
def turn_server() -> Iterator[TurnServer]:
    server = TurnServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_mapping_afterwards() -> Iterator[None]:
    yield
    map_public_address(None)


async def test_welcomes_carry_fresh_turn_credentials_and_legs_allocate_on_the_turn_server(
    settings: Settings, turn_server: TurnServer
) -> None:
    node = await start_node(
        replace(settings, turn_urls=(turn_server.url,), turn_secret=turn_server.secret, turn_ttl_seconds=600)
    )
    clients = Clients(node.url)
    caller: Caller | None = None
    try:
        customer = clients.customer()
        welcome = await customer.hello()
        (server,) = welcome["ice_servers"]
        assert server["urls"] == [turn_server.url]
        assert server["username"] == f"{username_expiry(server['username'])}:customer-{welcome['customer_id']}"
        expires = username_expiry(server["username"])
        assert valid_at(turn_server.secret, server["username"], server["credential"], expires)
        assert not valid_at(turn_server.secret, server["username"], server["credential"], expires + 1)

        agent = clients.agent("alice")
        agent_welcome = await agent.hello()
        (agent_server,) = agent_welcome["ice_servers"]
        assert agent_server["username"].endswith(":agent-alice")
        assert agent_server["credential"] != server["credential"]

        # the gateway's own leg gathers a relayed candidate on coturn with a pair made for it
        caller = Caller(customer)
        with ports_outside_range():
            answer = await caller.dial()
        types = {kind for _, _, kind, _, _ in CANDIDATE.findall(str(answer["sdp"]))}
        assert types == {"host", "relay"}, answer["sdp"]
        log = await turn_server.logged("ALLOCATE processed, success", ":gateway-call-")
        assert allocations(log) and ":gateway-call-" in log, log[-2000:]
        await caller.status("ivr")
        await caller.heard_prompt()
    finally:
        if caller is not None:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_each_call_gets_a_turn_pair_of_its_own_valid_for_the_longest_call(
    settings: Settings, turn_server: TurnServer
) -> None:
    """Two calls on one customer socket and one ringing for an agent: each ``call_ice`` a username bound to its call
    and its asker, expiring ``--turn-call-seconds`` after it was made (not the socket's ``--turn-ttl-seconds``)."""
    node = await start_node(
        replace(
            settings,
            turn_urls=(turn_server.url,),
            turn_secret=turn_server.secret,
            turn_ttl_seconds=86400,
            turn_call_seconds=900,
        )
    )
    clients = Clients(node.url)
    caller: Caller | None = None
    phone: Softphone | None = None
    try:
        customer = clients.customer()
        welcome = await customer.hello()
        pairs = []
        for call_id in ("call-one", "call-two"):
            before = int(time.time())
            await customer.send({"type": "call_ice", "call_id": call_id})
            frame = await customer.expect("call_ice", lambda f, c=call_id: f["call_id"] == c)  # type: ignore[misc]
            (server,) = frame["ice_servers"]
            expires = username_expiry(server["username"])
            assert server["urls"] == [turn_server.url]
            assert server["username"] == f"{expires}:call-{call_id}-customer-{welcome['customer_id']}"
            assert before + 900 <= expires <= int(time.time()) + 900  # the call's lifetime, not the socket's
            assert valid_at(turn_server.secret, server["username"], server["credential"], expires)
            assert not valid_at(turn_server.secret, server["username"], server["credential"], expires + 1)
            pairs.append(server)
        assert pairs[0]["username"] != pairs[1]["username"] and pairs[0]["credential"] != pairs[1]["credential"]
        assert all(p["username"] != welcome["ice_servers"][0]["username"] for p in pairs)

        # an agent gets one for a call that rings for them (not for any call id: not_your_call)
        agent = clients.agent("alice")
        await agent.hello(available=False)
        await agent.send({"type": "call_ice", "call_id": "call-one"})
        assert (await agent.expect("error"))["code"] == "not_your_call"
        with ports_outside_range():
            caller = await queued_call(clients)
        phone = Softphone(agent)
        await agent.send({"type": "status", "status": "available"})
        ringing = (await phone.ringing())["call_id"]
        await agent.send({"type": "call_ice", "call_id": ringing})
        (desk,) = (await agent.expect("call_ice", lambda f: f["call_id"] == ringing))["ice_servers"]
        assert desk["username"].endswith(f":call-{ringing}-agent-alice")
        assert username_expiry(desk["username"]) <= int(time.time()) + 900
    finally:
        if phone is not None:
            await phone.close()
        if caller is not None:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_without_turn_the_welcome_carries_no_ice_servers(settings: Settings) -> None:
    node = await start_node(settings)
    clients = Clients(node.url)
    try:
        customer = clients.customer()
        welcome = await customer.hello()
        assert "ice_servers" not in welcome  # the page keeps its data-ice-servers
        await customer.send({"type": "call_ice", "call_id": "call-one"})
        assert (await customer.expect("call_ice"))["ice_servers"] == []  # nothing to add to them
    finally:
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")


async def test_the_public_address_is_offered_with_each_host_port_and_the_call_connects(settings: Settings) -> None:
    node = await start_node(replace(settings, rtc_public_address="203.0.113.10"))
    clients = Clients(node.url)
    caller: Caller | None = None
    try:
        customer = clients.customer()
        await customer.hello()
        caller = Caller(customer)
        with ports_outside_range():
            answer = await caller.dial()
        candidates = CANDIDATE.findall(str(answer["sdp"]))
        hosts = [(host, port) for host, port, kind, _, _ in candidates if kind == "host"]
        mapped = [(host, port, raddr, rport) for host, port, kind, raddr, rport in candidates if kind == "srflx"]
        assert hosts and mapped == [("203.0.113.10", port, host, port) for host, port in hosts], candidates
        mine = CANDIDATE.findall(str(caller.pc.localDescription.sdp))
        assert all(host != "203.0.113.10" for host, *_ in mine)  # the caller is not a leg: no mapping
        await caller.status("ivr")  # the host candidate still connects on the LAN (here loopback)
        await caller.heard_prompt()
    finally:
        if caller is not None:
            await caller.close()
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")
