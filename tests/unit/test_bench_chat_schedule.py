"""bench chat judges each load generator by the messages its conversations are scheduled to send in the window
(bench/chat_gen.py), each by its own phase: a window that is not a whole number of message intervals (``--seconds
15`` at 2 s) is no reason to call a step INVALID, and a generator that fell behind still is."""

from __future__ import annotations

from typing import Any

import pytest

from bench.chat_gen import scheduled
from bench.chat_load import judge, shares


def sends_in_window(index: int, total: int, interval: float, seconds: float) -> int:
    """What customer ``index`` of a generator sends in ``[0, seconds)``, step by step: its phase in the interval
    from its index, a message of warm-up an interval before the phase, then one every interval."""
    t, n = interval * (index % total) / total - interval, 0
    while t < seconds:
        n += t >= 0
        t += interval
    return n


def report(first: int, count: int, total: int, interval: float, seconds: float, sent: int) -> dict[str, Any]:
    """A generator's report (the fields chat_load.judge reads) for customers ``first`` .. ``first + count``."""
    return {
        "customers": count,
        "assigned": count,
        "late_start": False,
        "window_s": seconds,
        "cpu_s": 0.3 * seconds,
        "sent": sent,
        "sent_expected": scheduled(first, count, total, interval, seconds),
        "errors": [],
    }


def test_early_phases_send_one_more_in_a_window_of_seven_and_a_half_intervals() -> None:
    # 4 customers at phases 0, 0.5, 1 and 1.5 s: 8, 8, 7 and 7 messages in 15 s; two generators hold two each
    assert [scheduled(first, count, 4, 2.0, 15.0) for first, count in shares(4, 2)] == [16, 14]
    assert [sends_in_window(i, 4, 2.0, 15.0) for i in range(4)] == [8, 8, 7, 7]


@pytest.mark.parametrize("seconds", [15.0, 20.0, 13.3, 7.0, 1.0])
@pytest.mark.parametrize("generators", [1, 2, 3])
def test_a_generator_that_sent_its_schedule_is_valid(seconds: float, generators: int) -> None:
    total, interval = 1000, 2.0
    verdicts, counts = [], []
    for first, count in shares(total, generators):
        sent = sum(sends_in_window(i, total, interval, seconds) for i in range(first, count + first))
        gen = report(first, count, total, interval, seconds, sent)
        verdicts.append(judge(gen))
        counts.append((gen["sent_expected"], sent))
    assert verdicts == [[]] * generators
    assert [expected for expected, _ in counts] == [sent for _, sent in counts]


@pytest.mark.parametrize("seconds", [15.0, 20.0])
def test_a_generator_that_sent_under_95_percent_of_its_schedule_is_invalid(seconds: float) -> None:
    total, interval = 1000, 2.0
    for first, count in shares(total, 2):
        expected = scheduled(first, count, total, interval, seconds)
        short = int(0.94 * expected)
        assert judge(report(first, count, total, interval, seconds, short)) == [
            f"sent {short} < 95% of the {expected} scheduled"
        ]
