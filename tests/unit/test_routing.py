from gateway.protocol import AgentStatus
from gateway.routing import AgentLoad, choose_agent, plan


def agent(aid: str, idle: int, *, active: int = 0, capacity: int = 2, status: AgentStatus = AgentStatus.AVAILABLE,
          online: bool = True) -> AgentLoad:
    return AgentLoad(aid, aid.title(), status, online, capacity, active, idle)


def test_longest_idle_first() -> None:
    assert choose_agent([agent("a", 300), agent("b", 100), agent("c", 200)]).id == "b"  # type: ignore[union-attr]


def test_only_available_online_agents_with_room() -> None:
    agents = [agent("away", 1, status=AgentStatus.AWAY), agent("gone", 2, online=False),
              agent("full", 3, active=2), agent("ok", 4)]
    assert choose_agent(agents).id == "ok"  # type: ignore[union-attr]
    assert choose_agent(agents[:3]) is None


def test_ties_break_by_id() -> None:
    assert choose_agent([agent("zed", 5), agent("amy", 5)]).id == "amy"  # type: ignore[union-attr]


def test_plan_spreads_work_and_respects_capacity() -> None:
    agents = [agent("a", 100, capacity=2), agent("b", 50, capacity=1)]
    pairs = plan(["c1", "c2", "c3", "c4"], agents, now=1000)
    assert [(c, a.id) for c, a in pairs] == [("c1", "b"), ("c2", "a"), ("c3", "a")]


def test_plan_with_no_agents_or_no_waiting() -> None:
    assert plan(["c1"], [], now=1) == []
    assert plan([], [agent("a", 1)], now=1) == []
