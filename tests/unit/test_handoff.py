"""The hand-off state machine as a table: one row per legal step, and the steps it must refuse."""

import pytest

from gateway.calls.handoff import (
    TRANSITIONS,
    Handoff,
    HandoffEvent,
    HandoffState,
    IllegalTransition,
    transition,
)

S = HandoffState
E = HandoffEvent

LEGAL = [
    # ringing and answering
    (S.WAITING, E.RING, S.RINGING),
    (S.RINGING, E.MISS, S.WAITING),
    (S.RINGING, E.ANSWER, S.CONNECTING),
    (S.CONNECTING, E.ANSWER_FAILED, S.RINGING),
    (S.CONNECTING, E.CONNECT, S.CONNECTED),
    # hold
    (S.CONNECTED, E.HOLD, S.HELD),
    (S.HELD, E.RESUME, S.CONNECTED),
    # warm transfer
    (S.CONNECTED, E.CONSULT, S.CONSULT_RINGING),
    (S.HELD, E.CONSULT, S.CONSULT_RINGING),
    (S.CONSULT_RINGING, E.CONSULT_ANSWER, S.CONSULT_CONNECTING),
    (S.CONSULT_CONNECTING, E.CONSULT_ANSWER_FAILED, S.CONSULT_RINGING),
    (S.CONSULT_CONNECTING, E.CONSULT_CONNECT, S.CONSULTING),
    (S.CONSULT_RINGING, E.CONSULT_END, S.CONNECTED),
    (S.CONSULT_CONNECTING, E.CONSULT_END, S.CONNECTED),
    (S.CONSULTING, E.CONSULT_END, S.CONNECTED),
    (S.CONSULTING, E.COMPLETE, S.CONNECTED),
    # blind transfer: back to waiting
    (S.CONNECTED, E.TRANSFER, S.WAITING),
    (S.HELD, E.TRANSFER, S.WAITING),
    (S.CONSULT_RINGING, E.TRANSFER, S.WAITING),
    (S.CONSULT_CONNECTING, E.TRANSFER, S.WAITING),
    (S.CONSULTING, E.TRANSFER, S.WAITING),
    # the agent's leg lost: back to waiting
    (S.CONNECTING, E.LOSE, S.WAITING),
    (S.CONNECTED, E.LOSE, S.WAITING),
    (S.HELD, E.LOSE, S.WAITING),
    (S.CONSULT_RINGING, E.LOSE, S.WAITING),
    (S.CONSULT_CONNECTING, E.LOSE, S.WAITING),
    (S.CONSULTING, E.LOSE, S.WAITING),
    # the agent's leg dropped mid-call: the caller holds for their desk; it comes back, or the agent is lost
    (S.CONNECTED, E.DROP, S.RECONNECTING),
    (S.HELD, E.DROP, S.RECONNECTING),
    (S.RECONNECTING, E.RECONNECT, S.CONNECTED),
    (S.RECONNECTING, E.LOSE, S.WAITING),
    # the call ends, whatever it was doing
    (S.WAITING, E.END, S.ENDED),
    (S.RINGING, E.END, S.ENDED),
    (S.CONNECTING, E.END, S.ENDED),
    (S.CONNECTED, E.END, S.ENDED),
    (S.HELD, E.END, S.ENDED),
    (S.CONSULT_RINGING, E.END, S.ENDED),
    (S.CONSULT_CONNECTING, E.END, S.ENDED),
    (S.CONSULTING, E.END, S.ENDED),
    (S.RECONNECTING, E.END, S.ENDED),
]


@pytest.mark.parametrize("state, event, expected", LEGAL, ids=[f"{s}-{e}" for s, e, _ in LEGAL])
def test_legal_step(state: HandoffState, event: HandoffEvent, expected: HandoffState) -> None:
    assert transition(state, event) is expected


def test_the_rows_above_are_the_whole_table() -> None:
    assert {(s, e): t for s, e, t in LEGAL} == dict(TRANSITIONS)


ILLEGAL = [
    (S.WAITING, E.ANSWER),  # nobody rings: nobody can answer
    (S.WAITING, E.MISS),
    (S.WAITING, E.HOLD),
    (S.WAITING, E.TRANSFER),
    (S.WAITING, E.LOSE),
    (S.RINGING, E.RING),  # a second agent for the same call
    (S.RINGING, E.CONNECT),  # bridged without an answer
    (S.RINGING, E.HOLD),
    (S.RINGING, E.TRANSFER),
    (S.RINGING, E.LOSE),  # no leg yet: a missed ring is MISS
    (S.CONNECTING, E.ANSWER),  # a second accept
    (S.CONNECTING, E.MISS),
    (S.CONNECTING, E.HOLD),
    (S.CONNECTING, E.TRANSFER),
    (S.CONNECTING, E.CONSULT),
    (S.CONNECTED, E.ANSWER),
    (S.CONNECTED, E.RESUME),
    (S.CONNECTED, E.COMPLETE),  # no consultation to complete
    (S.CONNECTED, E.CONSULT_END),
    (S.HELD, E.HOLD),
    (S.CONSULT_RINGING, E.CONSULT),  # one consultation at a time
    (S.CONSULT_RINGING, E.COMPLETE),  # the colleague has not answered
    (S.CONSULT_RINGING, E.HOLD),
    (S.CONSULT_CONNECTING, E.COMPLETE),
    (S.CONSULTING, E.CONSULT_ANSWER),
    (S.CONSULTING, E.RESUME),  # the caller holds until the consultation ends
    (S.ENDED, E.END),  # ended once
    (S.ENDED, E.RING),
    (S.ENDED, E.LOSE),
    (S.CONNECTING, E.DROP),  # a first leg that never came up is lost, not waited for
    (S.CONSULTING, E.DROP),  # a consultation going on is not waited for
    (S.CONNECTED, E.RECONNECT),  # nothing dropped
    (S.RECONNECTING, E.HOLD),  # no leg to hold with
    (S.RECONNECTING, E.TRANSFER),
    (S.RECONNECTING, E.CONSULT),
    (S.RECONNECTING, E.DROP),
]


@pytest.mark.parametrize("state, event", ILLEGAL, ids=[f"{s}-{e}" for s, e in ILLEGAL])
def test_illegal_step_is_refused_loudly(state: HandoffState, event: HandoffEvent) -> None:
    with pytest.raises(IllegalTransition) as info:
        transition(state, event)
    assert (info.value.state, info.value.event) == (state, event)
    assert str(info.value) == f"hand-off cannot {event} while {state}"


def test_nothing_leaves_ended() -> None:
    assert [e for s, e in TRANSITIONS if s is S.ENDED] == []


@pytest.mark.parametrize(
    "state, has_agent, answered, bridged, consulting",
    [
        (S.WAITING, False, False, False, False),
        (S.RINGING, True, False, False, False),
        (S.CONNECTING, True, True, False, False),
        (S.CONNECTED, True, True, True, False),
        (S.HELD, True, True, True, False),
        (S.CONSULT_RINGING, True, True, True, True),
        (S.CONSULT_CONNECTING, True, True, True, True),
        (S.CONSULTING, True, True, True, True),
        (S.RECONNECTING, True, True, False, False),  # answered (not abandoned if the caller hangs up), not bridged
        (S.ENDED, False, False, False, False),
    ],
)
def test_what_each_state_means(
    state: HandoffState, has_agent: bool, answered: bool, bridged: bool, consulting: bool
) -> None:
    assert (state.has_agent, state.answered, state.bridged, state.consulting) == (
        has_agent,
        answered,
        bridged,
        consulting,
    )


def test_a_handoff_keeps_its_history_and_stays_put_on_a_refused_step() -> None:
    handoff = Handoff(call=None, queued_ms=0)  # type: ignore[arg-type]   # the machine never touches the call
    for event in (
        E.RING,
        E.MISS,
        E.RING,
        E.ANSWER,
        E.CONNECT,
        E.CONSULT,
        E.CONSULT_ANSWER,
        E.CONSULT_CONNECT,
        E.COMPLETE,
        E.HOLD,
        E.RESUME,
        E.TRANSFER,
    ):
        handoff.to(event)
    with pytest.raises(IllegalTransition):
        handoff.to(E.CONNECT)
    handoff.to(E.END)
    assert [state for _, state in handoff.history] == [
        S.RINGING,
        S.WAITING,
        S.RINGING,
        S.CONNECTING,
        S.CONNECTED,
        S.CONSULT_RINGING,
        S.CONSULT_CONNECTING,
        S.CONSULTING,
        S.CONNECTED,
        S.HELD,
        S.CONNECTED,
        S.WAITING,
        S.ENDED,
    ]


def test_every_step_is_told_so_the_call_registry_follows_and_a_refused_one_is_not() -> None:
    seen: list[HandoffState] = []
    handoff = Handoff(call=None, queued_ms=0, on_move=lambda h: seen.append(h.state))  # type: ignore[arg-type]
    for event in (E.RING, E.ANSWER, E.CONNECT, E.HOLD):
        handoff.to(event)
    with pytest.raises(IllegalTransition):
        handoff.to(E.CONNECT)
    handoff.touched()  # a change without a step (a consultant left a call that moved on)
    handoff.to(E.END)
    assert seen == [S.RINGING, S.CONNECTING, S.CONNECTED, S.HELD, S.HELD, S.ENDED]
