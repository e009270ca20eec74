"""bench speech's callers run in load-generator processes (bench/speech_gen.py); the bench merges their reports
(bench/speech_calls.py: merge) and judges each one before it reports any figure for the gateway (step_invalid):
a call not up, a failed caller, a generator over 85 % of a core or short of the frames due to it, or more than
1 % of its callers' microphone frames late make the step INVALID."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.loadgen import FRAMES_PER_SECOND, report
from bench.speech_calls import engine_line, merge, step_invalid, summary, turn_traces

T0, T1 = 1000.0, 1030.0  # the measured window, monotonic seconds


def answer(word: str, end: float, reply_ms: float) -> dict[str, Any]:
    return {
        "word": word,
        "voice": "en-us",
        "end": end,
        "wall_end": end + 5e8,
        "vad_end_ms": 800.0,
        "reply_ms": reply_ms,
    }


def generator(first: int, ends: list[list[float]], reply_ms: float, **over: Any) -> dict[str, Any]:
    """A generator's report (bench/speech_gen.py: generate) that kept up, with one caller per list of answer ends."""
    calls = len(ends)
    callers = [
        {
            "conversation_id": f"conv-{first + i}",
            "answers": [dict(answer("billing", e, reply_ms), outcome="correct") for e in caller_ends],
        }
        for i, caller_ends in enumerate(ends)
    ]
    return {
        "first": first,
        "calls": calls,
        "window": [T0, T1],
        "window_s": T1 - T0,
        "cpu_s": 0.3 * (T1 - T0),
        "late_start": False,
        "frames_expected": int(calls * (T1 - T0) * FRAMES_PER_SECOND),
        "frames_received": int(calls * (T1 - T0) * FRAMES_PER_SECOND) - 3,
        "mic_frames_sent": calls * 2000,
        "mic_late_frames": 0,
        "failed": 0,
        "errors": [],
        "callers": callers,
    } | over


def test_the_answers_of_every_generator_in_the_window_are_merged() -> None:
    a = generator(0, [[990.0, 1001.0, 1029.9], [1010.0, 1030.0]], 400.0)  # 990 before, 1030 after the window
    b = generator(2, [[1005.0, 1020.0]], 500.0, cpu_s=0.45 * (T1 - T0), mic_late_frames=10)
    callers, answers, figures = merge([a, b], T0, T1)
    assert [c["conversation_id"] for c in callers] == ["conv-0", "conv-1", "conv-2"]
    assert [(x["end"], x["reply_ms"]) for x in answers] == [
        (1001.0, 400.0),
        (1029.9, 400.0),
        (1010.0, 400.0),
        (1005.0, 500.0),
        (1020.0, 500.0),
    ]
    assert figures == {
        "generators": 2,
        "callers_cpu_percent": [30.0, 45.0],
        "frames_received_percent": 99.9,  # 4,494 of 4,500
        "callers_mic_late_frames_percent": round(100 * 10 / 6000, 3),
        "callers_failed": 0,
        "errors": [],
    }
    figures_of_answers = summary(answers)
    assert (figures_of_answers["answers"], figures_of_answers["correct_pct"]) == (5, 100.0)
    assert (figures_of_answers["reply_ms_p50"], figures_of_answers["reply_ms_p95"]) == (400.0, 500.0)


def test_generators_that_kept_up_make_a_valid_step() -> None:
    gens = [generator(0, [[1001.0]] * 8, 400.0), generator(8, [[1002.0]] * 7, 400.0, mic_late_frames=140)]
    assert step_invalid(15, 15, gens) == []  # 140 of 14,000 frames late: 1 %, not more


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({"mic_late_frames": 281}, ["generator 1: 2.0 % of the callers' frames late"]),
        ({"cpu_s": 0.9 * (T1 - T0)}, ["generator 1: generator CPU 90% of a core > 85%"]),
        ({"frames_received": 1000}, ["generator 1: frames received 1000 < 95% of 10500"]),
        ({"late_start": True}, ["generator 1: calls not all up when the window opened"]),
        (
            {"failed": 1, "errors": ["TimeoutError()"]},
            ["generator 1: 1 callers failed: ['TimeoutError()']"],
        ),
    ],
)
def test_a_generator_that_did_not_keep_up_makes_the_step_invalid(over: dict[str, Any], why: list[str]) -> None:
    gens = [generator(0, [[1001.0]] * 8, 400.0), generator(8, [[1002.0]] * 7, 400.0, **over)]
    assert step_invalid(15, 15, gens) == why


def test_calls_the_gateway_did_not_hold_make_the_step_invalid() -> None:
    gens = [generator(0, [[1001.0]] * 8, 400.0), generator(8, [[1002.0]] * 7, 400.0, mic_late_frames=300)]
    assert step_invalid(15, 13, gens) == [
        "2 of 15 calls not up",
        "generator 1: 2.1 % of the callers' frames late",
    ]


def test_a_generator_that_printed_no_report_makes_the_step_invalid() -> None:
    lost = {"errors": ["generator exited with 1 and no report"], "cpu_s": 0, "window_s": 1}  # bench.loadgen.report
    gens = [generator(0, [[1001.0]] * 8, 400.0), lost]
    assert step_invalid(8, 8, gens) == ["generator 1: errors: ['generator exited with 1 and no report']"]
    assert merge(gens, T0, T1)[2]["errors"] == ["generator exited with 1 and no report"]


def test_a_generator_that_never_reports_is_killed_and_fails_its_step() -> None:
    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE)
    lost = report(stuck, timeout=1.0)
    assert (lost, stuck.returncode) == (
        {"errors": ["generator did not report within 1 s"], "cpu_s": 0, "window_s": 1},
        -9,
    )
    assert step_invalid(1, 1, [lost]) == ["generator 0: errors: ['generator did not report within 1 s']"]


def test_the_engine_and_the_turn_traces_are_read_from_the_messages_not_the_lines_context(tmp_path: Path) -> None:
    """The gateway logs as the bench starts it (``GATEWAY_LOG_FORMAT``, a worker's number on every line), with a
    conversation's id as context and a library's own output between: the engine is what the message says (it was
    'pocketsphinx en [conversation_id=c_1 worker=1]' from the text line's tail), and each turn trace is its
    conversation's."""
    script = """
import json, logging, sys
from bench.speech_calls import GATEWAY_LOG_FORMAT
from gateway import logs
logs.setup(GATEWAY_LOG_FORMAT, worker=1)
log = logging.getLogger("gateway.calls.manager")
print("INFO: pocketsphinx.c(123): a library's own line", file=sys.stderr)
log.info("call in flow %s (version %s%s), speech: %s", "default", "4e8a", "", "pocketsphinx en",
         extra={"conversation_id": "c_1"})
trace = {"conversation_id": "c_1", "ended": 2.5}
logging.getLogger("gateway.flows.call_speech").info("speech turn %s", json.dumps(trace), extra={"conversation_id": "c_1"})
"""
    log = tmp_path / "gateway.log"
    with open(log, "wb") as out:
        subprocess.run(
            [sys.executable, "-c", script], stderr=out, check=True, timeout=60, cwd=Path(__file__).parents[2]
        )
    assert engine_line(log) == "pocketsphinx en"
    assert turn_traces(log) == {"c_1": [{"conversation_id": "c_1", "ended": 2.5}]}
