"""Expected wait for a queued caller: from recent handle times, never made up."""

from __future__ import annotations

import pytest

from gateway.contact.wait_estimate import announcement, estimate_wait_ms


@pytest.mark.parametrize(
    ("position", "agents", "history", "expected"),
    [
        (1, 1, [120_000, 60_000], 90_000),  # next caller, one agent: one average handle time
        (3, 2, [60_000], 120_000),  # two agents: third caller waits two rounds
        (4, 2, [60_000], 120_000),
        (1, 0, [60_000], None),  # nobody taking work (all away or signed out): no time can be promised
        (2, 1, [], None),  # no history: no estimate
        (0, 1, [60_000], None),  # not in the queue
    ],
)
def test_estimate(position: int, agents: int, history: list[int], expected: int | None) -> None:
    assert estimate_wait_ms(position, agents, history) == expected


@pytest.mark.parametrize(
    ("position", "wait", "text"),
    [
        (1, None, "You are next in the queue."),
        (3, 30_000, "You are number 3 in the queue. The wait is less than a minute."),
        (2, 60_000, "You are number 2 in the queue. The wait is about 1 minute."),
        (5, 150_000, "You are number 5 in the queue. The wait is about 3 minutes."),
    ],
)
def test_announcement(position: int, wait: int | None, text: str) -> None:
    assert announcement(position, wait) == text
