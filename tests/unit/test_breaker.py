"""The speech servers' circuit breaker (media/breaker.py): every transition, with a clock the test steps."""

from __future__ import annotations

import logging

import pytest

from media.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def breaker(clock: Clock, changes: list[BreakerState] | None = None) -> CircuitBreaker:
    return CircuitBreaker(
        "asr tcp://gpu:10300",
        failures=3,
        pause_s=30,
        clock=clock,
        on_change=None if changes is None else changes.append,
    )


def test_it_opens_after_n_failures_in_a_row_and_then_refuses_without_asking(clock: Clock) -> None:
    changes: list[BreakerState] = []
    b = breaker(clock, changes)
    answers = []
    for _ in range(3):
        answers.append(b.allow())
        b.failure("refused")
    answers += [b.allow(), b.allow()]
    assert answers == [True, True, True, False, False]
    assert b.state is BreakerState.OPEN and changes == [BreakerState.OPEN] and b.openings == 1


def test_a_success_between_failures_starts_the_count_again(clock: Clock) -> None:
    b = breaker(clock)
    for outcome in ("fail", "fail", "ok", "fail", "fail"):
        assert b.allow()
        b.failure("timeout") if outcome == "fail" else b.success()
    assert b.state is BreakerState.CLOSED and b.allow()


def test_after_the_pause_one_probe_goes_through_and_its_success_closes_it(clock: Clock) -> None:
    changes: list[BreakerState] = []
    b = breaker(clock, changes)
    for _ in range(3):
        b.allow()
        b.failure("refused")
    clock.now += 29.9
    assert not b.allow()
    clock.now += 0.1
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # others go local while it runs
    b.success()
    assert b.state is BreakerState.CLOSED and b.allow() and b.allow()
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_opens_it_for_another_pause(clock: Clock) -> None:
    changes: list[BreakerState] = []
    b = breaker(clock, changes)
    for _ in range(3):
        b.allow()
        b.failure("refused")
    clock.now += 30
    assert b.allow()
    b.failure("refused")
    assert b.state is BreakerState.OPEN and not b.allow()
    clock.now += 30
    assert b.allow()
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN, BreakerState.HALF_OPEN]
    assert b.openings == 2


def test_opening_is_logged_once_not_per_request(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    b = breaker(clock)
    with caplog.at_level(logging.INFO, logger="media.breaker"):
        for _ in range(10):
            if b.allow():
                b.failure("refused")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "speech server asr tcp://gpu:10300 failed 3 times in a row (last: refused): using the local engine for 30 s"
    ]


@pytest.mark.parametrize(("failures", "pause"), [(0, 30.0), (3, 0.0)])
def test_nonsense_settings_are_refused(failures: int, pause: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("x", failures=failures, pause_s=pause)
