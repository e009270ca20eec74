"""Who may bring audio to a call, so gets a TURN pair for it (gateway/calls/commands.py ``may_join``): one row per
hand-off state for the call's agent, its consulted colleague, a supervisor and another agent."""

from __future__ import annotations

import pytest

from gateway.calls.commands import may_join
from gateway.calls.handoff import HandoffState as S
from gateway.contact.agents import Agent, Role

ALICE = Agent("alice", "Alice", "")  # the call's agent
BOB = Agent("bob", "Bob", "")  # consulted
CAROL = Agent("carol", "Carol", "", roles=(Role.AGENT, Role.SUPERVISOR))
DAVE = Agent("dave", "Dave", "")

#: state -> (alice, bob, carol, dave) may join
ROWS = {
    S.WAITING: (False, False, False, False),
    S.RINGING: (True, False, False, False),
    S.CONNECTING: (True, False, False, False),
    S.CONNECTED: (True, False, True, False),
    S.HELD: (True, False, True, False),
    S.CONSULT_RINGING: (True, True, True, False),
    S.CONSULT_CONNECTING: (True, True, True, False),
    S.CONSULTING: (True, True, True, False),
    S.RECONNECTING: (True, False, False, False),  # her desk offers a new leg; nobody listens in meanwhile
    S.ENDED: (False, False, False, False),
}


def test_every_state_has_a_row() -> None:
    assert set(ROWS) == set(S)


@pytest.mark.parametrize("state", list(ROWS))
def test_who_may_join_a_call_in_each_state(state: S) -> None:
    assert tuple(may_join(a, state, "alice", "bob") for a in (ALICE, BOB, CAROL, DAVE)) == ROWS[state]
