"""Admission by load (gateway/calls/admission.py): which lag samples make a node full.

Samples in, state out: a loop late in most samples of the window is full; one stall is not load, nor is anything
before the node serves (its start-up), nor a window not filled yet.
"""

from __future__ import annotations

from gateway.calls.admission import WINDOW, Admission, Load

LATE = 0.3  # s: a sample well beyond the 50 ms limit
ON_TIME = 0.002


def serving(max_lag_ms: float = 50) -> Admission:
    admission = Admission(max_lag_ms)
    admission.serving()
    return admission


def test_the_start_ups_own_lag_is_forgotten_when_the_node_serves() -> None:
    admission = Admission(50)
    for _ in range(WINDOW):
        admission.observe(LATE)  # loading models, seeding agents: the loop held
    assert (admission.state, list(admission.samples)) == (Load.READY, [])
    admission.serving()
    for _ in range(WINDOW):
        admission.observe(LATE)
    assert admission.state == Load.FULL  # once serving, a late loop is load again


def test_a_node_serving_for_less_than_a_window_takes_calls() -> None:
    admission = serving()
    states = []
    for _ in range(WINDOW):
        states.append(admission.state)
        admission.observe(LATE)
    assert states == [Load.READY] * WINDOW
    assert admission.state == Load.FULL


def test_one_stall_in_the_window_is_not_load() -> None:
    admission = serving()
    for _ in range(WINDOW - 1):
        admission.observe(ON_TIME)
    admission.observe(1.5)  # one long stall: a first call's import, a model loaded on first use
    assert (admission.state, admission.lag_s) == (Load.READY, ON_TIME)


def test_a_loop_late_in_half_the_window_is_full_until_it_catches_up() -> None:
    admission = serving()
    seen = []
    for lag in [ON_TIME] * WINDOW + [LATE] * (WINDOW // 2) + [ON_TIME] * WINDOW:
        admission.observe(lag)
        seen.append(admission.state)
    # full from the sample that makes half the window late, until the first late one leaves the window
    half = WINDOW // 2
    assert seen == [Load.READY] * (WINDOW + half - 1) + [Load.FULL] * (half + 1) + [Load.READY] * (WINDOW - half)


def test_a_draining_node_says_so_whatever_its_lag_and_zero_turns_the_lag_off() -> None:
    admission = serving()
    for _ in range(WINDOW):
        admission.observe(LATE)
    admission.drain()
    assert admission.state == Load.DRAINING
    off = serving(0)
    for _ in range(WINDOW):
        off.observe(LATE)
    assert off.state == Load.READY
