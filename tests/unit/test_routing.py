import random
from dataclasses import replace

import pytest

from gateway.contact.routing import (
    AgentLoad,
    Waiting,
    choose_agent,
    in_wrap_up,
    is_busy,
    most_of,
    parse_skills,
    plan,
)
from gateway.protocol.states import AgentStatus


def agent(
    aid: str,
    idle: int,
    *,
    active: int = 0,
    capacity: int = 2,
    status: AgentStatus = AgentStatus.AVAILABLE,
    online: bool = True,
    skills: str = "",
    busy: bool = False,
    on_call: bool = False,
) -> AgentLoad:
    return AgentLoad(aid, aid.title(), status, online, capacity, active, idle, parse_skills(skills), busy, on_call)


def test_longest_idle_first() -> None:
    assert choose_agent([agent("a", 300), agent("b", 100), agent("c", 200)]).id == "b"  # type: ignore[union-attr]


def test_only_available_online_agents_with_room() -> None:
    agents = [
        agent("away", 1, status=AgentStatus.AWAY),
        agent("gone", 2, online=False),
        agent("full", 3, active=2),
        agent("ok", 4),
    ]
    assert choose_agent(agents).id == "ok"  # type: ignore[union-attr]
    assert choose_agent(agents[:3]) is None


def test_ties_break_by_id() -> None:
    assert choose_agent([agent("zed", 5), agent("amy", 5)]).id == "amy"  # type: ignore[union-attr]


def test_plan_spreads_work_and_respects_capacity() -> None:
    agents = [agent("a", 100, capacity=2), agent("b", 50, capacity=1)]
    pairs = plan([Waiting(c) for c in ("c1", "c2", "c3", "c4")], agents, now=1000)
    assert [(c, a.id) for c, a in pairs] == [("c1", "b"), ("c2", "a"), ("c3", "a")]


def test_plan_with_no_agents_or_no_waiting() -> None:
    assert plan([Waiting("c1")], [], now=1) == []
    assert plan([], [agent("a", 1)], now=1) == []


def test_priority_first_then_the_longest_waiting() -> None:
    waiting = [Waiting("old", queued_at=10), Waiting("vip", queued_at=50, priority=5), Waiting("new", queued_at=40)]
    pairs = plan(waiting, [agent("a", 1, capacity=1), agent("b", 2, capacity=1)], now=100)
    assert [c for c, _ in pairs] == ["vip", "old"]


def test_skills_and_levels_pick_the_qualified_agent_without_blocking_others() -> None:
    agents = [agent("ann", 1, capacity=1, skills="billing:2"), agent("bo", 5, capacity=1, skills="billing:5,spanish")]
    waiting = [
        Waiting("es", queued_at=1, skills=parse_skills("spanish")),
        Waiting("expert", queued_at=2, skills=parse_skills("billing:4")),
        Waiting("any", queued_at=3),
    ]
    # 'expert' needs billing 4: only bo has it, but bo took 'es' first; 'any' is not held up behind it
    assert [(c, a.id) for c, a in plan(waiting, agents, now=10)] == [("es", "bo"), ("any", "ann")]


def test_skill_overflow_after_the_configured_wait() -> None:
    agents = [agent("ann", 1, skills="billing")]
    waiting = [Waiting("es", queued_at=0, skills=parse_skills("spanish"))]
    assert plan(waiting, agents, now=89_999, overflow_ms=90_000) == []
    assert [c for c, _ in plan(waiting, agents, now=90_000, overflow_ms=90_000)] == ["es"]


def test_busy_agents_take_no_new_work() -> None:
    assert choose_agent([agent("oncall", 1, busy=True)]) is None


def test_a_call_rings_its_agent_who_takes_nothing_more_in_that_pass() -> None:
    """Two callers waited when Alice became available (room for 3): the pass gave her both, both rang her at once,
    she answered one and the other's ring-no-answer set her away during that call (a user test)."""
    calls = [Waiting("call1", 1, voice=True), Waiting("call2", 2, voice=True), Waiting("chat", 3)]
    alice = agent("alice", 10, capacity=3)
    assert [(c, a.id) for c, a in plan(calls, [alice], now=100)] == [("call1", "alice")]
    # a chat first: she still takes the call after it; with a colleague free, the second call is theirs
    chat_first = [Waiting("chat", 0), *calls[:2]]
    assert [(c, a.id) for c, a in plan(chat_first, [alice], now=100)] == [("chat", "alice"), ("call1", "alice")]
    bo = agent("bo", 20, capacity=3)  # the chat waits for the next pass: both are being rung
    assert [(c, a.id) for c, a in plan(calls, [alice, bo], now=100)] == [("call1", "alice"), ("call2", "bo")]


def test_an_agent_on_a_call_takes_chats_beside_it_never_a_second_call() -> None:
    """--calls-block-chats false: an agent on a call is not busy for chats; a call still waits for another agent."""
    talking = agent("alice", 10, capacity=3, on_call=True)
    waiting = [Waiting("call", 1, voice=True), Waiting("chat", 2)]
    assert [(c, a.id) for c, a in plan(waiting, [talking], now=100)] == [("chat", "alice")]
    assert [(c, a.id) for c, a in plan(waiting, [talking, agent("bo", 20)], now=100)] == [
        ("call", "bo"),
        ("chat", "alice"),
    ]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("billing", (("billing", 1),)),
        ("Billing:3, spanish", (("billing", 3), ("spanish", 1))),
        ("", ()),
    ],
)
def test_parse_skills(text: str, parsed: tuple[tuple[str, int], ...]) -> None:
    assert parse_skills(text) == parsed


@pytest.mark.parametrize("bad", ["billing:0", "billing:11", "bil ling", "billing:x"])
def test_bad_skills_are_refused_with_the_entry_named(bad: str) -> None:
    with pytest.raises(ValueError, match=bad.split(":")[0].split()[0]):
        parse_skills(bad)


def test_what_counts_as_busy() -> None:
    ringing, on_call = {"activity": "ringing"}, {"activity": "on_call"}
    wrap = {"activity": "wrap_up", "activity_until": "5000"}
    assert is_busy(ringing, 0) and is_busy(on_call, 0) and is_busy(wrap, 4999) and not is_busy(wrap, 5000)
    assert not is_busy(on_call, 0, calls_block_chats=False)  # chats beside a call, if configured
    assert is_busy(ringing, 0, calls_block_chats=False)
    assert not is_busy({}, 0)
    held = {**wrap, "call_held_at": "5500"}  # wrap-up over, a call given to her about to ring: busy, not wrap-up
    assert is_busy(held, 6000) and not in_wrap_up(held, 6000) and in_wrap_up(wrap, 4999)


def test_a_returning_customer_goes_to_their_last_agent_when_free_and_qualified() -> None:
    agents = [agent("amy", 10), agent("bo", 99, skills="billing")]
    # amy has been idle longest, but bo served this customer last
    assert [(c, a.id) for c, a in plan([Waiting("c1", preferred="bo")], agents, now=100)] == [("c1", "bo")]
    # bo is busy / lacks the skill / is gone: the longest-idle qualified agent takes it
    busy = [agents[0], agent("bo", 99, busy=True)]
    assert plan([Waiting("c1", preferred="bo")], busy, now=100)[0][1].id == "amy"
    needs = Waiting("c1", skills=parse_skills("spanish"), preferred="bo")
    assert plan([needs], [agent("amy", 10, skills="spanish"), agents[1]], now=100)[0][1].id == "amy"
    assert plan([Waiting("c1", preferred="gone")], agents, now=100)[0][1].id == "amy"


def one_by_one(
    waiting: list[Waiting], agents: list[AgentLoad], now: int, overflow_ms: int | None
) -> list[tuple[str, str]]:
    """The plan as first written: every agent looked at again for each conversation (the rules, without an index)."""
    loads = {a.id: a for a in agents}
    pairs = []
    for conv in sorted(waiting, key=lambda w: (-w.priority, w.queued_at, w.id)):
        free = [a for a in loads.values() if a.eligible]
        if not free:
            break
        overflowed = overflow_ms is not None and now - conv.queued_at >= overflow_ms
        qualified = [a for a in free if (overflowed or a.qualifies(conv.skills)) and not (conv.voice and a.on_call)]
        found = next((a for a in qualified if a.id == conv.preferred), None) or choose_agent(qualified)
        if found is None:
            continue
        pairs.append((conv.id, found.id))
        loads[found.id] = replace(found, active=found.active + 1, idle_since=now, busy=found.busy or conv.voice)
    return pairs


@pytest.mark.parametrize("seed", range(200))
def test_the_indexed_plan_makes_the_same_choices_as_looking_at_every_agent(seed: int) -> None:
    """plan keeps its free agents in idle order instead of filtering every agent for each conversation: the same
    pairs, over random skills, levels, priorities, preferred agents, capacities, ties and overflow."""
    rnd = random.Random(seed)
    names = ["billing", "spanish", "tech"]

    def skills(most: int) -> str:
        return ",".join(f"{n}:{rnd.randint(1, 4)}" for n in rnd.sample(names, rnd.randint(0, most)))

    agents = [
        agent(
            f"a{i}",
            rnd.choice([0, 5, 10, 10, 20]),
            active=rnd.randint(0, 2),
            capacity=rnd.randint(0, 3),
            status=rnd.choice([AgentStatus.AVAILABLE] * 4 + [AgentStatus.AWAY]),
            online=rnd.random() > 0.1,
            skills=skills(3),
            busy=rnd.random() < 0.1,
            on_call=rnd.random() < 0.2,
        )
        for i in range(rnd.randint(0, 12))
    ]
    waiting = [
        Waiting(
            f"c{i}",
            queued_at=rnd.randint(0, 50),
            priority=rnd.choice([0, 0, 1, 5]),
            skills=parse_skills(skills(2)),
            preferred=rnd.choice(["", "", f"a{rnd.randint(0, 12)}"]),
            voice=rnd.random() < 0.3,
        )
        for i in range(rnd.randint(0, 30))
    ]
    overflow = rnd.choice([None, 30])
    got = [(cid, a.id) for cid, a in plan(waiting, agents, 100, overflow_ms=overflow)]
    assert got == one_by_one(waiting, agents, 100, overflow)


def test_most_of_several_skill_sets_keeps_each_skill_at_its_highest_level() -> None:
    assert most_of([(("billing", 1),), (("billing", 3), ("spanish", 2)), ()]) == (("billing", 3), ("spanish", 2))
    assert most_of([]) == ()
