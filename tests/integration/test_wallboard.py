"""The supervisors' wallboard over the agent socket, across two nodes sharing one Redis.

A supervisor watches on node one (a page that only watches: ``presence: false``); the agent, the chatting
customer and the caller are on node two. Every change reaches the supervisor as a pushed ``wallboard`` frame:
a chat waits, is assigned, closes; a call queues, rings, is answered. An agent without the supervisor role is
refused.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateway.config import Settings
from gateway.ops.wallboard import Facts, Thresholds, agent_state, compose
from gateway.protocol.states import CallStatus
from tests.conftest import Clients, bounded
from tests.support.clients import Agent
from tests.support.queue_calls import queued_call
from tests.support.servers import Node, start_node
from tests.support.softphone import Softphone

Frame = dict[str, Any]


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(settings)
    yield started
    await bounded(started.stop(), "stopping the second node")


async def watch(agent: Agent) -> Frame:
    """Sign in to watch only (no desk presence), ask for the wallboard: the first frame comes at once."""
    await agent.login()
    await agent.connect()
    await agent.send({"type": "hello", "token": agent.token, "presence": False})
    await agent.expect("welcome")
    await agent.send({"type": "wallboard", "watch": True})
    return await agent.expect("wallboard", timeout=10)


def fresh(agent: Agent) -> None:
    """Forget the wallboard frames received so far: the next one awaited comes after what the test does next."""
    agent._unread = [f for f in agent._unread if f.get("type") != "wallboard"]


async def board(agent: Agent, where: Callable[[Frame], bool]) -> Frame:
    return await agent.expect("wallboard", where, timeout=10)


async def now_or_soon(agent: Agent, where: Callable[[Frame], bool]) -> Frame:
    """The last wallboard frame received if it says so already, else the next one that does."""
    last = [f for f in agent.seen if f.get("type") == "wallboard"][-1]
    return last if where(last) else await board(agent, where)


def row(frame: Frame, kind: str, key: str, value: str) -> Frame | None:
    return next((r for r in frame[kind] if r[key] == value), None)


def queue(frame: Frame, name: str) -> Frame:
    return row(frame, "queues", "queue", name) or {"waiting_chats": 0, "waiting_calls": 0, "agents": {}}


def agent(frame: Frame, aid: str) -> Frame:
    return row(frame, "agents", "id", aid) or {}


async def test_a_supervisor_sees_every_nodes_chats_calls_and_agents_change_live(
    clients: Clients, node: Node, second: Node
) -> None:
    carol = clients.agent("carol")  # supervisor, watching on node one
    first = await watch(carol)
    assert set(first) == {"type", "at", "thresholds", "totals", "queues", "agents", "calls", "help"}
    assert first["thresholds"] == {
        "service_level": 0.8,
        "oldest_wait_ms": 60_000,
        "service_level_seconds": 20,
        "today_zone": "UTC",
    }
    assert agent(first, "carol") == {}  # watching makes nobody online

    alice = clients.agent("alice", url=second.url)
    fresh(carol)
    await alice.hello(available=False)
    seen = await board(carol, lambda f: agent(f, "alice").get("state") == "away")
    assert seen["totals"]["logged_in"] == 1 and seen["totals"]["away"] == 1

    # a chat waits (nobody available), is assigned, closes
    customer = clients.customer(url=second.url)
    await customer.hello()
    fresh(carol)
    ack = await customer.say("hello, is anyone there?")
    seen = await board(carol, lambda f: queue(f, "default")["waiting_chats"] == 1)
    assert seen["totals"]["waiting_chats"] == 1 and queue(seen, "default")["oldest_queued_at"] <= seen["at"]
    # a second supervisor opening the board gets what carol has, stamped with the time it is sent (the page reads
    # 'at' as the gateway's clock: the first frame's old time made every timer short by its age)
    await asyncio.sleep(1.0)
    joined: list[str] = []
    node.services.wallboard.watch(joined.append)
    stamped_at = node.services.wallboard.clock()
    node.services.wallboard.unwatch(joined.append)
    (text,) = joined
    assert json.loads(text)["at"] >= stamped_at - 50 and json.loads(text)["at"] - seen["at"] >= 900
    assert queue(seen, "default")["agents"]["away"] == 1
    fresh(carol)
    await alice.send({"type": "status", "status": "available"})
    await alice.assigned()
    # (a snapshot reads the agents and the queue one after the other: the frame after the assignment may still
    # count the chat waiting, and the next one does not)
    seen = await board(
        carol,
        lambda f: agent(f, "alice").get("conversations") == 1 and queue(f, "default")["waiting_chats"] == 0,
    )
    # one chat of her two: still available for the next one (busy only when full or on a call)
    assert agent(seen, "alice")["state"] == "available"
    fresh(carol)
    await alice.send({"type": "close", "conversation_id": ack["conversation_id"], "disposition": "resolved"})
    seen = await board(carol, lambda f: agent(f, "alice").get("conversations") == 0)
    assert agent(seen, "alice")["state"] == "available"
    # today's figures follow from the rollups (a moment behind: at the latest the board's sweep shows them)
    seen = await now_or_soon(carol, lambda f: queue(f, "default")["today"]["handled"] == 1)
    assert queue(seen, "default")["today"]["offered"] == 1 and queue(seen, "default")["today"]["abandoned"] == 0
    assert queue(seen, "default")["today"]["service_level"] == 1.0  # answered within 20 s
    assert agent(seen, "alice")["handled_today"] == 1

    # a call queues (alice away), rings her once she is available, and she answers
    fresh(carol)
    await alice.send({"type": "status", "status": "away"})
    await board(carol, lambda f: agent(f, "alice").get("state") == "away")
    caller = await queued_call(_on(clients, second))
    phone = Softphone(alice)
    try:
        seen = await board(carol, lambda f: any(c["status"] == "waiting" for c in f["calls"]))
        (call,) = seen["calls"]
        assert call["queue"] == "billing" and call["conversation_id"] == caller.conversation_id
        assert queue(seen, "billing")["waiting_calls"] == 1 and call["queued_at"] and not call["agent_id"]
        fresh(carol)
        await alice.send({"type": "status", "status": "available"})
        await phone.answer((await phone.ringing())["call_id"])
        seen = await board(carol, lambda f: any(c["status"] == CallStatus.CONNECTED for c in f["calls"]))
        (call,) = seen["calls"]
        assert call["agent_name"] == "Alice Smith" and call["answered_at"] >= call["queued_at"]
        assert queue(seen, "billing")["waiting_calls"] == 0
        assert agent(seen, "alice")["call"]["call_id"] == call["call_id"] and agent(seen, "alice")["state"] == "busy"
    finally:
        await phone.close()
        await caller.close()
    assert node.services.wallboard.sent >= 8 and second.services.wallboard.sent == 0  # nobody watches on two


def _on(clients: Clients, where: Node) -> Clients:
    """The test's clients, made on another node (closed with the others)."""
    other = Clients(where.url)
    other.made = clients.made
    return other


async def test_an_agent_without_the_supervisor_role_is_refused_the_wallboard(clients: Clients, node: Node) -> None:
    bob = clients.agent("bob")
    await bob.hello(available=False)
    await bob.send({"type": "wallboard", "watch": True})
    error = await bob.expect("error")
    assert (error["code"], error["field"]) == ("forbidden", "type")
    assert "supervisors" in error["message"]
    assert not [f for f in await bob.quiet(1.5) if f["type"] == "wallboard"]
    assert node.services.wallboard.sent == 0


def test_agent_states_come_from_status_and_activity() -> None:
    now = 100_000
    assert agent_state({"status": "available", "status_since": "10", "idle_since": "20"}, 0, now) == ("available", 20)
    assert agent_state({"status": "available", "idle_since": "20"}, 2, now) == ("busy", 20)
    # one chat of two: routing still gives them the next, so they count as available (not busy)
    assert agent_state({"status": "available", "idle_since": "20", "capacity": "2"}, 1, now) == ("available", 20)
    assert agent_state({"status": "available", "idle_since": "20", "capacity": "2"}, 2, now) == ("busy", 20)
    assert agent_state({"status": "away", "status_since": "30"}, 1, now) == ("away", 30)
    on_call = {"status": "available", "activity": "on_call", "activity_since": "40"}
    assert agent_state(on_call, 0, now) == ("busy", 40)
    wrap = {"status": "available", "activity": "wrap_up", "activity_since": "50", "activity_until": str(now + 1)}
    assert agent_state(wrap, 0, now) == ("wrap_up", 50)
    assert agent_state({**wrap, "activity_until": str(now - 1)}, 0, now)[0] == "available"  # after-call work over
    # over, and routing just gave her a call about to ring (held for it, routing.CALL_HOLD_MS): not after-call work
    held = {**wrap, "activity_until": str(now - 1), "call_held_at": str(now - 10)}
    assert agent_state(held, 0, now)[0] == "available"


def test_every_defined_queue_has_a_row_and_nobody_serving_means_no_expected_wait() -> None:
    facts = Facts(
        now=10_000,
        waiting=[("c1", 1_000)],
        conversations={"c1": {"queue": "billing", "skills": ""}},
        agents=[("ben", {"name": "Ben", "status": "away", "skills": "", "capacity": "2"}, 0, 1)],
        calls=[],
        callbacks=[],
        queue_skills={"billing": (), "vip": (("vip", 1),)},  # defined queues: vip has nothing in it
        handle_times=[60_000],
    )
    frame = compose(facts, Thresholds()).as_dict()
    vip, billing = row(frame, "queues", "queue", "vip"), row(frame, "queues", "queue", "billing")
    assert vip is not None and (vip["waiting_chats"], vip["waiting_calls"]) == (0, 0)
    assert billing is not None and billing["agents"]["away"] == 1
    assert billing["expected_wait_ms"] is None  # the only agent is away: no promise of "under 1 min"


def test_a_queue_counts_only_the_agents_who_can_take_it_and_its_callbacks() -> None:
    facts = Facts(
        now=10_000,
        waiting=[("c1", 1_000), ("c2", 4_000), ("c3", 5_000)],
        conversations={
            "c1": {"queue": "spanish", "skills": "spanish:2"},
            "c2": {"queue": "spanish", "skills": "spanish:2"},
            "c3": {"queue": "default", "skills": ""},
        },
        agents=[
            ("ana", {"name": "Ana", "status": "available", "skills": "spanish:3", "capacity": "2"}, 0, 1),
            ("ben", {"name": "Ben", "status": "away", "skills": "", "capacity": "2"}, 0, 1),
            ("cy", {"name": "Cy", "status": "available"}, 0, 0),  # no live desk: not on the board
        ],
        calls=[
            ("k1", {"conversation_id": "c2", "status": "waiting", "queued_ms": "4000", "started_ms": "3000"}),
            # transferred to ana at 90 s after talking with someone else since 10 s: her wait is from 90 s
            (
                "k2",
                {
                    "conversation_id": "c4",
                    "status": "connected",
                    "agent_id": "ana",
                    "queued_ms": "10000",
                    "offered_ms": "90000",
                    "answered_ms": "95000",
                    "started_ms": "9000",
                },
            ),
        ],
        callbacks=[
            {"conversation_id": "c9", "state": "scheduled", "queue": "spanish"},
            {"conversation_id": "c3", "state": "queued", "queue": "default"},
        ],
        handle_times=[60_000],
        today_queues={
            "spanish": {
                "offered": 4,
                "handled": 3,
                "abandoned": 1,
                "service_level": 0.6667,
                "asa_ms": 12_000.0,
                "aht_talk_ms": 100_000.0,
                "aht_hold_ms": None,
                "aht_wrap_ms": 20_000.0,
                "aht_call_ms": 120_000.0,  # (the report's own divisor: call segments; not the averages added up)
            },
            "default": {"offered": 2, "handled": 2, "aht_chat_ms": 95_000.0, "aht_talk_ms": None},
        },
        today_agents={"ana": {"handled": 3, "occupancy": 0.75}},
        service_levels_ms={"spanish": 45_000},  # its own threshold; default takes the setting's
    )
    frame = compose(facts, Thresholds()).as_dict()
    spanish = row(frame, "queues", "queue", "spanish")
    default = row(frame, "queues", "queue", "default")
    assert spanish is not None and default is not None
    assert (spanish["waiting_chats"], spanish["waiting_calls"], spanish["oldest_queued_at"]) == (1, 1, 1_000)
    assert spanish["agents"] == {"logged_in": 1, "available": 1, "busy": 0, "wrap_up": 0, "away": 0}
    assert spanish["callbacks"] == {"scheduled": 1, "pending": 0}
    assert spanish["expected_wait_ms"] == 3 * 60_000  # 3rd in line, one agent, one handle time each
    assert (default["waiting_chats"], default["callbacks"]) == (0, {"scheduled": 0, "pending": 1})  # c3: a callback
    assert default["agents"]["logged_in"] == 2
    assert spanish["today"] == {
        "offered": 4,
        "handled": 3,
        "abandoned": 1,
        "service_level": 0.6667,
        "service_level_seconds": 45.0,  # the queue's own threshold
        "asa_ms": 12_000.0,
        "aht_ms": 120_000,  # talk + hold + after-call work
        "aht_chat_ms": None,
    }
    assert default["today"]["service_level_seconds"] == 20.0  # no threshold of its own: the setting's
    assert default["today"]["aht_ms"] is None and default["today"]["aht_chat_ms"] == 95_000  # a chat-only queue
    assert [(a["id"], a["handled_today"]) for a in frame["agents"]] == [("ana", 3), ("ben", 0)]
    assert [a["occupancy_today"] for a in frame["agents"]] == [0.75, None]  # (ben: nothing sampled today)
    assert frame["totals"] == {
        "waiting_chats": 1,
        "waiting_calls": 1,
        "logged_in": 2,
        "available": 1,
        "busy": 0,
        "wrap_up": 0,
        "away": 1,
    }
    assert [c["queue"] for c in frame["calls"]] == ["spanish", ""]
    transferred = frame["calls"][1]
    assert transferred["answered_at"] - transferred["queued_at"] == 5_000  # not 85 s of someone else's talk


def test_a_defined_queues_skills_its_wait_since_it_came_back_and_a_waiting_calls_wait_going_on() -> None:
    """From a supervisor's shift (an exploratory test): a chat waiting in 'support' (which needs support:2) with no
    skills of its own made an agent without the skill count as able to take it; a call back in the queue after its
    agent was lost (or moved there by an overflow) showed as waiting since its first queueing ("1:36 over target"
    for 20 s of waiting); and its Wait stayed frozen at the first answer's."""
    facts = Facts(
        now=200_000,
        waiting=[("c1", 1_000), ("c2", 5_000)],
        conversations={
            "c1": {"queue": "support", "skills": ""},
            # talked 70 s with an agent who was lost, now waiting again: 6 s waited before, back since 180 s
            "c2": {"queue": "vip", "skills": "", "queue_since": "174000"},
        },
        agents=[
            ("alice", {"name": "Alice", "status": "available", "skills": "billing:5", "capacity": "2"}, 0, 1),
            ("bob", {"name": "Bob", "status": "available", "skills": "support:4", "capacity": "1"}, 1, 1),
        ],
        calls=[
            (
                "k2",
                {
                    "conversation_id": "c2",
                    "status": "waiting",
                    "queued_ms": "5000",
                    "offered_ms": "174000",
                    "answered_ms": "11000",  # the lost agent's answer (a node of an older version keeps it)
                    "started_ms": "4000",
                },
            ),
        ],
        callbacks=[],
        handle_times=[60_000],
        queue_skills={"support": (("support", 2),), "vip": ()},
        defined=frozenset({"support", "vip"}),
    )
    frame = compose(facts, Thresholds()).as_dict()
    support, vip = row(frame, "queues", "queue", "support"), row(frame, "queues", "queue", "vip")
    assert support is not None and vip is not None
    assert support["agents"] == {"logged_in": 1, "available": 0, "busy": 1, "wrap_up": 0, "away": 0}
    assert vip["oldest_queued_at"] == 174_000
    [call] = frame["calls"]
    assert (call["queued_at"], call["answered_at"]) == (174_000, None)


def test_an_agent_full_of_chats_with_no_call_serves_no_caller_in_the_expected_wait() -> None:
    """The only agent held as many chats as they may: a caller heard "less than a minute" and waited until they
    closed one (an exploratory test). Full with no call: no estimate; on a call: the call ends, the next is theirs."""

    def facts(activity: str) -> Facts:
        return Facts(
            now=10_000,
            waiting=[("c1", 1_000)],
            conversations={"c1": {"queue": "billing", "skills": ""}},
            agents=[("ann", {"name": "Ann", "status": "available", "capacity": "2", "activity": activity}, 2, 1)],
            calls=[],
            callbacks=[],
            queue_skills={"billing": ()},
            defined=frozenset({"billing"}),
            handle_times=[60_000],
        )

    full = row(compose(facts(""), Thresholds()).as_dict(), "queues", "queue", "billing")
    assert full is not None and full["agents"]["busy"] == 1 and full["expected_wait_ms"] is None
    on_call = row(compose(facts("on_call"), Thresholds()).as_dict(), "queues", "queue", "billing")
    assert on_call is not None and on_call["expected_wait_ms"] == 2 * 60_000


def test_who_takes_callers_for_the_announced_wait() -> None:
    from gateway.contact.wait_estimate import takes_callers

    ready = {"status": "available", "capacity": "3"}
    assert takes_callers(ready, 2, 1) and not takes_callers(ready, 3, 1)  # room for one more, or full
    assert takes_callers({**ready, "activity": "on_call"}, 3, 1)  # full, but a call that ends
    assert not takes_callers({**ready, "status": "away"}, 0, 1) and not takes_callers(ready, 0, 0)  # away; no desk
