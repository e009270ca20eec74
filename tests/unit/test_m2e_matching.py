"""bench m2e's bookkeeping (bench/m2e_match.py): clicks matched by their code (lost, doubled and stray ones counted,
never taken for a neighbour), and relayed RTP packets paired across the gateway by the relay's sequence offset."""

from __future__ import annotations

import pytest

from bench.m2e_capture import pair, residence
from bench.m2e_match import buffer_figures, match, search_from_us

SPACING = 200_000.0  # µs
CODES = 16


def clicks(n: int, start: float = 1_000_000.0) -> list[tuple[float, int]]:
    return [(start + k * SPACING, k % CODES) for k in range(n)]


def test_each_click_sent_is_timed_by_the_click_of_its_code() -> None:
    sent = clicks(40)
    received = [(t + 90_000, c) for t, c in sent]
    got = match(sent, received, sent[0][0], sent[-1][0] + 1, SPACING, CODES)
    assert got["ms"] == pytest.approx([90.0] * 40)
    assert (got["sent"], got["lost"], got["doubled"], got["stray"]) == (40, 0, 0, 0)


def test_a_lost_click_is_counted_not_taken_from_its_neighbour() -> None:
    sent = clicks(40)
    received = [(t + 90_000, c) for k, (t, c) in enumerate(sent) if k != 20]
    got = match(sent, received, sent[0][0], sent[-1][0] + 1, SPACING, CODES)
    assert (got["sent"], got["lost"], len(got["ms"])) == (40, 1, 39)
    assert max(got["ms"]) == pytest.approx(90.0)  # nobody borrowed click 21's arrival


def test_doubled_wrong_code_and_too_late_clicks() -> None:
    sent = clicks(40)
    received = [(t + 90_000, c) for t, c in sent]
    received.append((sent[10][0] + 95_000, sent[10][1]))  # click 10 heard twice
    received[15] = (received[15][0], (received[15][1] + 5) % CODES)  # click 15 heard as another code
    received[25] = (sent[25][0] + 2_000_000, sent[25][1])  # click 25 more than half a cycle late
    got = match(sent, received, sent[0][0], sent[-1][0] + 1, SPACING, CODES)
    assert (got["lost"], got["doubled"]) == (2, 1)
    assert got["stray"] == 2  # the wrong code and the late one (whose own window had closed)
    assert len(got["ms"]) == 38 and max(got["ms"]) == pytest.approx(90.0)


def test_clicks_sent_outside_the_window_are_not_counted() -> None:
    sent = clicks(40)
    received = [(t + 90_000, c) for t, c in sent]
    got = match(sent, received, sent[10][0], sent[20][0], SPACING, CODES)
    assert (got["sent"], got["lost"], got["stray"]) == (10, 0, 0)


def test_jitter_buffer_figures_are_window_deltas() -> None:
    # getStats sums each sample's seconds in the buffer: 6000 s over 96,000 samples is 62.5 ms each
    before = {"jitterBufferDelay": 10.0, "jitterBufferEmittedCount": 48000, "totalSamplesReceived": 48000}
    after = {"jitterBufferDelay": 6010.0, "jitterBufferEmittedCount": 144000, "totalSamplesReceived": 144000}
    assert buffer_figures(before, after)["jitter_buffer_ms"] == pytest.approx(62.5)


def test_relayed_packets_pair_by_the_sequence_offset() -> None:
    incoming = [(k * 20_000_000, (65530 + k) % 65536) for k in range(100)]  # wraps around 65535
    outgoing = [(t + 1_500_000 + (k % 3) * 1_000_000, (seq + 1234) % 65536) for k, (t, seq) in enumerate(incoming)]
    got = pair(incoming, outgoing)
    assert got["paired"] == 100
    assert sorted(set(got["ms"])) == pytest.approx([1.5, 2.5, 3.5])


def test_residence_takes_the_legs_whose_peer_is_neither_the_gateway_nor_a_generator() -> None:
    gateway, generators = {5000, 5001, 5002}, {7000}
    packets = []
    for k in range(50):
        t = k * 20_000_000
        packets += [(t, 6000, 5000, k), (t + 1_000_000, 5001, 6001, k + 7)]  # browser A -> gw -> browser B
        packets += [(t + 5_000_000, 6001, 5001, 900 + k), (t + 7_000_000, 5000, 6000, 300 + k)]  # B -> gw -> A
        packets += [(t, 7000, 5002, k), (t + 1_000, 5002, 7000, k)]  # a background call's leg
    got = residence(sorted(packets), gateway, generators)
    assert got["legs"] == 2
    assert sorted(max(d["ms"]) for d in got["directions"]) == pytest.approx([1.0, 2.0])


def test_a_receiver_that_buffers_two_seconds_has_its_clicks_timed_not_lost() -> None:
    # after a stall of 2.5 s (a loaded CI machine) the desk's NetEq buffered ~2 s and sped up to drain it: each
    # click arrived 2.1 s down to 1.7 s after it was sent, more than half a code cycle (1.6 s) late
    sent = clicks(40)
    received = [(t + 2_100_000 - k * 10_000, c) for k, (t, c) in enumerate(sent)]
    window = (sent[5][0], sent[35][0])
    assert match(sent, received, *window, SPACING, CODES)["lost"] == 30  # searched from sending: "heard nothing"
    got = match(sent, received, *window, SPACING, CODES, search_from_us(2000.0, SPACING, CODES))
    assert (got["sent"], got["lost"], got["doubled"], got["stray"]) == (30, 0, 0, 0)
    assert got["ms"] == pytest.approx([2050.0 - 10 * k for k in range(30)])


def test_the_search_moves_only_for_a_buffer_of_more_than_a_quarter_cycle_and_silence_stays_lost() -> None:
    assert search_from_us(0.0, SPACING, CODES) == search_from_us(790.0, SPACING, CODES) == 0.0
    assert search_from_us(2000.0, SPACING, CODES) == pytest.approx(1_200_000.0)
    sent = clicks(40)
    got = match(sent, [], sent[5][0], sent[35][0], SPACING, CODES, search_from_us(2000.0, SPACING, CODES))
    assert (got["sent"], got["lost"], got["ms"]) == (30, 30, [])
