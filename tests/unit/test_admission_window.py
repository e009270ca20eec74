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


# -- late frames (--admission-max-late-percent)

FRAMES_PER_SAMPLE = 250  # 50 calls' frames in 0.25 s


def frames_node(max_late_percent: float = 2.0) -> Admission:
    admission = Admission(0, max_late_percent)  # the lag rule off: only frames decide
    admission.serving()
    return admission


def feed(admission: Admission, late_per_sample: list[int], sent: int = FRAMES_PER_SAMPLE) -> list[Load]:
    """Counters as the sampler reads them (running totals), ``late_per_sample[i]`` late frames in sample i."""
    total_sent, total_late = admission.frames[-1] if admission.frames else (10_000, 300)  # a node's totals so far
    states = []
    for late in late_per_sample:
        total_sent, total_late = total_sent + sent, total_late + late
        admission.observe_frames(total_sent, total_late)
        states.append(admission.state)
    return states


def test_frames_late_in_bursts_make_the_node_full_though_the_lag_median_is_low() -> None:
    # what bench ivr saw at 50 calls on one worker: late frames every second or third sample, none in between
    admission = frames_node()
    for _ in range(WINDOW):
        admission.observe(ON_TIME)  # the sampler's own sleeps fall between the bursts
    states = feed(admission, [0, 30, 0, 0, 33, 0, 15, 0, 0, 29])
    assert states[-1] == Load.FULL and admission.lag_s == ON_TIME
    assert admission.late_share == (33 + 15 + 29) / (WINDOW * FRAMES_PER_SAMPLE)  # the window: the last 8 samples
    assert "% of its frames went out late" in admission.why_full()


def test_one_stall_makes_many_frames_late_at_once_and_is_not_load() -> None:
    admission = frames_node()
    states = feed(admission, [0] * WINDOW + [200, 50] + [0] * WINDOW)  # a 300 ms stall across two samples
    assert Load.FULL not in states
    busy = frames_node()  # a busy, healthy node: a few late frames in every sample (0.8 %), then one stall
    states = feed(busy, [2] * WINDOW + [80, 40] + [2] * WINDOW)
    assert Load.FULL not in states


def test_late_frames_under_the_limit_or_too_few_frames_are_not_load() -> None:
    admission = frames_node(max_late_percent=2.0)
    assert Load.FULL not in feed(admission, [4] * (2 * WINDOW))  # 1.6 % late: choppy for nobody
    few = frames_node()
    assert Load.FULL not in feed(few, [5] * (2 * WINDOW), sent=10)  # half late, but 80 frames in 2 s: no calls
    assert few.late_share == 0.0


def test_a_node_full_on_late_frames_takes_calls_again_once_they_are_on_time() -> None:
    admission = frames_node()
    states = feed(admission, [20] * WINDOW + [0] * (WINDOW + 1))
    assert states[WINDOW - 1] == Load.FULL and states[-1] == Load.READY
    zero = Admission(0, 0)  # 0: the rule off
    zero.serving()
    assert Load.FULL not in feed(zero, [200] * (2 * WINDOW))


# -- the loop thread's CPU (--admission-max-loop-cpu-percent)


def cpu_node(max_percent: float = 90) -> Admission:
    admission = Admission(0, 0, max_percent)  # the other rules off
    admission.serving()
    return admission


def feed_cpu(admission: Admission, busy: list[float], tick: float = 0.25, calls: int = 40) -> list[Load]:
    """The loop thread busy ``busy[i]`` of sample i's ``tick`` seconds (running totals, as the sampler reads them)."""
    at, cpu = admission.cpu[-1] if admission.cpu else (100.0, 40.0)
    states = []
    for share in busy:
        at, cpu = at + tick, cpu + share * tick
        admission.observe_loop_cpu(at, cpu, calls)
        states.append(admission.state)
    return states


def test_a_loop_near_a_full_core_is_full_before_its_frames_go_late() -> None:
    admission = cpu_node()
    states = feed_cpu(admission, [0.5] * (WINDOW + 1) + [0.95] * (WINDOW + 1))
    assert states[WINDOW] == Load.READY and states[-1] == Load.FULL
    assert round(admission.loop_cpu_share, 2) == 0.95
    assert "its thread used 95 % of a core" in admission.why_full()


def test_the_loop_cpu_rule_needs_a_whole_window_and_forgets_one_stall() -> None:
    admission = cpu_node()
    assert feed_cpu(admission, [1.0] * WINDOW) == [Load.READY] * WINDOW  # serving for less than a window
    steady = cpu_node()
    states = feed_cpu(steady, [0.6] * (WINDOW + 1) + [1.0] + [0.6] * WINDOW)  # one busy sample: 0.65 over 2 s
    assert Load.FULL not in states
    off = cpu_node(0)
    assert Load.FULL not in feed_cpu(off, [1.0] * (2 * WINDOW))


def test_a_loop_busy_without_calls_is_not_full_by_its_cpu() -> None:
    admission = cpu_node()
    assert Load.FULL not in feed_cpu(admission, [0.97] * (2 * WINDOW), calls=0)  # chats alone: new chats still come
    assert feed_cpu(admission, [0.97], calls=1) == [Load.FULL]  # one call on it: the next would be late
