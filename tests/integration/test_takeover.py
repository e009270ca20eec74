"""A node dies with calls in every state (kill -9 of a real gateway process): the surviving node ends each call
once (``call_ended`` ``node_lost``), frees its agents, requeues or closes the conversations by the rule of
gateway/calls/takeover.py, tells the widgets and desks connected to it, and leaves no key of the dead node.
A clean stop (SIGTERM) is no death: nobody takes it over."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.protocol.states import CallStatus
from tests.conftest import TEST_FLOWS, bounded
from tests.support.caller import Caller
from tests.support.clients import Agent, Customer
from tests.support.servers import GatewayProcess, Node, start_node
from tests.support.softphone import Softphone

AGENTS = ("a1", "a2", "a3", "a4", "a5")
PASSWORD = "agent-password-123"


@pytest.fixture
def agents_path(tmp_path: Path) -> Path:
    path = tmp_path / "agents.toml"
    for aid in AGENTS:
        add_agent(path, aid, aid.upper(), PASSWORD, capacity=2)
    return path


@pytest.fixture
async def survivor(settings: Settings, agents_path: Path) -> AsyncIterator[Node]:
    node = await start_node(replace(settings, agents_file=agents_path, wrap_up_seconds=1.0))
    yield node
    await bounded(node.stop(), "stopping the surviving node")


async def doomed_node(settings: Settings, agents_path: Path, tmp_path: Path) -> GatewayProcess:
    """A real gateway process on the same Redis, holding the calls (its callers and agent legs), started."""
    assert settings.redis_url and settings.secret
    node = GatewayProcess(
        tmp_path / "doomed",
        "--redis-url",
        settings.redis_url,
        "--agents-file",
        str(agents_path),
        "--flows-dir",
        str(TEST_FLOWS),
        "--rtc-addresses",
        "127.0.0.1",
        "--ring-seconds",
        "120",
        "--announce-seconds",
        "0",
        "--limit-calls-per-ip",
        "50",  # every test caller is 127.0.0.1
        "--log-format",
        "text",
        env={"CG_SECRET": settings.secret},
    )
    try:
        await node.start()
    except BaseException:  # not up in time: it must not outlive the test
        if node.proc is not None and node.proc.returncode is None:
            node.proc.kill()
            await node.proc.wait()
        raise
    return node


async def until(check: Any, what: str, seconds: float = 30) -> None:
    """Wait for ``check()`` (sync or async) to be true, within a generous bound."""
    async with asyncio.timeout(seconds):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(what)


class Line:
    """One customer calling the doomed node."""

    def __init__(self, url: str):
        self.customer = Customer(url)
        self.caller = Caller(self.customer)

    async def dial_into_ivr(self) -> None:
        await self.customer.hello()
        await self.caller.dial()
        await self.caller.status(CallStatus.IVR)

    async def queue(self) -> None:
        await self.caller.menu_asked()  # a key cuts the menu's question
        await self.caller.press("1")  # billing: the queue
        await self.caller.status(CallStatus.WAITING)

    async def close(self) -> None:
        await self.caller.close()
        await self.customer.close()


async def desk(url: str, aid: str) -> tuple[Agent, Softphone]:
    agent = Agent(url, aid, PASSWORD)
    await agent.hello(available=False)
    return agent, Softphone(agent)


async def available(agent: Agent) -> None:
    await agent.send({"type": "status", "status": "available"})
    await agent.expect("agent", lambda f: f["agent"]["status"] == "available")


async def test_kill_9_of_the_node_holding_calls_in_every_state(
    settings: Settings, agents_path: Path, survivor: Node, tmp_path: Path
) -> None:
    doomed = await doomed_node(settings, agents_path, tmp_path)
    lines = {name: Line(doomed.url) for name in ("connected", "held", "consulting", "ringing", "queued", "ivr")}
    desks: dict[str, tuple[Agent, Softphone]] = {}
    s = survivor.services
    try:
        for aid in AGENTS:  # every desk on the surviving node; the calls' media on the doomed one
            desks[aid] = await desk(survivor.url, aid)
        agent = {aid: d[0] for aid, d in desks.items()}
        phone = {aid: d[1] for aid, d in desks.items()}

        async def answered_by(name: str, aid: str) -> None:
            await available(agent[aid])
            line = lines[name]
            await line.dial_into_ivr()
            await line.queue()
            ring = await phone[aid].ringing()
            assert ring["call_id"] == line.caller.call_id
            await phone[aid].answer(ring["call_id"])

        await answered_by("connected", "a1")
        await answered_by("held", "a2")
        await agent["a2"].send({"type": "call_hold", "call_id": lines["held"].caller.call_id, "hold": True})
        assert (await phone["a2"].status(CallStatus.CONNECTED))["reason"] == "held"
        await answered_by("consulting", "a3")
        await available(agent["a4"])
        consult_call = lines["consulting"].caller.call_id
        await agent["a3"].send({"type": "call_consult", "call_id": consult_call, "action": "start", "agent_id": "a4"})
        ring = await phone["a4"].ringing()
        assert ring["consult"] is True
        await phone["a4"].answer(consult_call)  # 'connected' (consulting) on the consultant's channel
        await phone["a3"].status(CallStatus.CONNECTED)
        # ringing: a5's desk rings, nobody answers (the doomed node rings for 120 s)
        await available(agent["a5"])
        await lines["ringing"].dial_into_ivr()
        await lines["ringing"].queue()
        assert (await phone["a5"].ringing())["call_id"] == lines["ringing"].caller.call_id
        # queued: every agent is busy; this customer chatted first, then called (someone is behind the chat)
        queued = lines["queued"]
        await queued.customer.hello()
        await queued.customer.say("hello, I will call you too")
        await queued.caller.dial()
        await queued.caller.status(CallStatus.IVR)
        await queued.queue()
        # ivr: dialled last, still in the menu when the node dies
        await lines["ivr"].dial_into_ivr()

        calls = {name: line.caller.call_id for name, line in lines.items()}
        convs = {name: line.caller.conversation_id for name, line in lines.items()}
        dead = await s.store.redis.hget(s.keys.call(calls["connected"]), "node")
        assert dead is not None
        dead_node = dead.decode()
        states = {
            name: (await s.store.redis.hget(s.keys.call(call_id), "state") or b"").decode()
            for name, call_id in calls.items()
        }
        assert states == {
            "connected": "connected",
            "held": "held",
            "consulting": "consulting",
            "ringing": "ringing",
            "queued": "waiting",
            "ivr": "",
        }

        assert doomed.proc is not None
        doomed.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await doomed.proc.wait()

        # the widgets come back on the surviving node (as the widget's reconnect does) and follow their calls
        for line in lines.values():
            await line.customer.drop()
            line.customer.base_url = survivor.url
            await line.customer.hello()
        told: dict[str, float] = {}
        for name, line in lines.items():
            frame = await line.customer.expect(
                "call_status", lambda f, c=calls[name]: f["call_id"] == c and f["status"] == "ended", timeout=30
            )
            assert frame["reason"] == "node_lost", frame
            told.setdefault(name, time.monotonic() - killed)
        await until(lambda: s.node_watch is not None and s.node_watch.reports, "no takeover report")
        assert s.node_watch is not None
        report = s.node_watch.reports[-1]
        print(
            f"takeover of {dead_node}: widgets told {min(told.values()):.1f}-{max(told.values()):.1f} s after "
            f"kill -9; the takeover itself took {report.ms} ms for {len(report.calls)} calls"
        )
        assert report.node == dead_node
        assert sorted(report.calls) == sorted(calls.values())

        # the desks on the surviving node hear it too (the consultant on their own channel)
        for aid, name in (("a1", "connected"), ("a2", "held"), ("a3", "consulting"), ("a5", "ringing")):
            frame = await phone[aid].agent.expect(
                "call_status", lambda f, c=calls[name]: f["call_id"] == c and f["status"] == "ended", timeout=10
            )
            assert frame["reason"] == "node_lost"
        frame = await agent["a4"].expect(
            "call_status", lambda f: f["call_id"] == consult_call and f["status"] == "ended", timeout=10
        )
        assert (frame["reason"], frame.get("consult")) == ("node_lost", True)

        # call_ended node_lost exactly once per call
        for name, cid in convs.items():
            ended = [e for e in await s.store.events(cid) if e["type"] == "call_ended"]
            assert [(e["call_id"], e["reason"]) for e in ended] == [(calls[name], "node_lost")], name
            assert ended[0]["duration_ms"] > 0

        # conversations by the rule: answered calls stay with their agent, the IVR's stays open, the ringing
        # call-only one is closed (nobody behind it), the queued one with a chat goes on waiting (or is routed)
        conv_states = {name: (await s.conversations.get(cid) or {}).get("state") for name, cid in convs.items()}
        assert conv_states["connected"] == conv_states["held"] == conv_states["consulting"] == "assigned"
        assert (conv_states["ringing"], conv_states["ivr"]) == ("closed", "open")
        assert conv_states["queued"] in ("queued", "assigned")
        for cid in await s.router.waiting():  # never a queued conversation with nobody behind it
            assert await s.conversations.has_chat(cid), cid

        await agents_routable_again(survivor)
        await no_key_left(survivor, dead_node, calls, lines)
    finally:
        for line in lines.values():
            await line.close()
        for a, p in desks.values():
            await p.close()
            await a.close()
        if doomed.proc is not None and doomed.proc.returncode is None:
            await doomed.stop()


async def agents_routable_again(survivor: Node) -> None:
    """Nothing the dead node owned is left; after-call work (1 s here) runs out; a new chat is assigned."""
    s = survivor.services
    for aid in AGENTS:
        assert await s.store.agent_field(aid, "activity_node") in ("", None), aid
    assert (await s.presence.info("a5"))["activity"] == ""  # was ringing: available at once

    async def nobody_busy() -> bool:
        return all([(await s.presence.info(aid))["activity"] == "" for aid in AGENTS])

    await until(nobody_busy, "agents still busy after the takeover")
    newcomer = Customer(survivor.url)
    try:
        await newcomer.hello()
        ack = await newcomer.say("a new chat after the node died")

        async def newcomer_assigned() -> bool:
            conv = await s.conversations.get(ack["conversation_id"])
            return conv is not None and conv["state"] == "assigned"

        await until(newcomer_assigned, "the new chat was not assigned to a freed agent")
    finally:
        await newcomer.close()


async def no_key_left(survivor: Node, dead_node: str, calls: dict[str, str], lines: dict[str, Line]) -> None:
    """No key of the dead node is left but its lost mark; the customers may call again at once."""
    s = survivor.services
    left = [k async for k in s.store.redis.scan_iter(match=f"*{dead_node}*")]
    assert left == [s.keys.node_lost(dead_node).encode()]  # its lost mark (it expires): it never rejoins
    assert dead_node.encode() not in await s.store.redis.smembers(s.keys.nodes)
    for name, call_id in calls.items():
        assert not await s.store.redis.exists(s.keys.call(call_id)), name
        customer_id = lines[name].customer.customer_id
        assert not await s.store.redis.exists(s.keys.customer_calls(customer_id)), name
        assert not await s.store.redis.exists(s.keys.call_slots("c", customer_id)), name
    for aid in AGENTS:
        assert not await s.store.redis.exists(s.keys.agent_calls(aid)), aid
    welcome = await lines["connected"].customer.hello()
    assert welcome["calls"] == []


async def test_a_clean_stop_is_not_taken_over(
    settings: Settings, agents_path: Path, survivor: Node, tmp_path: Path
) -> None:
    """SIGTERM with a connected call: the node ends it itself (gateway_shutdown) and leaves; nobody takes over."""
    node = await doomed_node(settings, agents_path, tmp_path)
    line = Line(node.url)
    a1, phone = await desk(survivor.url, "a1")
    s = survivor.services
    try:
        await available(a1)
        await line.dial_into_ivr()
        # the customer's welcome on another node lists the call (from the registry); the registry follows the call's
        # status a moment after the caller is told it, so wait for it to say 'ivr' first
        call_key = s.keys.call(line.caller.call_id)

        async def registered_in_ivr() -> bool:
            return await s.store.redis.hget(call_key, "status") == b"ivr"

        await until(registered_in_ivr, "the registry shows the call in the IVR")
        other = Customer(survivor.url, line.customer.token)
        try:
            welcome = await other.hello()
            assert [(c["call_id"], c["status"]) for c in welcome["calls"]] == [(line.caller.call_id, "ivr")]
        finally:
            await other.close()
        await line.queue()
        await phone.answer((await phone.ringing())["call_id"])

        async def indexed_for_a1() -> bool:
            return phone.call_id is not None and phone.call_id.encode() in await s.store.redis.smembers(
                s.keys.agent_calls("a1")
            )

        await until(indexed_for_a1, "the registry lists the call for a1")
        second, second_phone = await desk(survivor.url, "a1")  # a second desk lists the call (from the registry)
        try:
            assert [c["call_id"] for c in second.welcome["calls"]] == [phone.call_id]
        finally:
            await second_phone.close()
            await second.close()
        node_id = (await s.store.redis.hget(s.keys.call(phone.call_id), "node") or b"").decode()
        assert await node.stop() == 0
        ended = await phone.status(CallStatus.ENDED)
        assert ended["reason"] == "gateway_shutdown"
        assert node_id.encode() not in await s.store.redis.smembers(s.keys.nodes)
        await asyncio.sleep(7)  # longer than a heartbeat lives and a watch round: still nobody takes it over
        assert s.node_watch is not None and s.node_watch.reports == []
        events = await s.store.events(line.caller.conversation_id)
        assert [e["reason"] for e in events if e["type"] == "call_ended"] == ["gateway_shutdown"]
        assert (await s.presence.info("a1"))["activity"] != "on_call"
    finally:
        await line.close()
        await phone.close()
        await a1.close()
        if node.proc is not None:
            await node.stop()
