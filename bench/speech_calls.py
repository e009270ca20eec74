"""Callers answering the IVR by voice: end of speech -> next prompt, recognition, CPU and memory per call.

Starts a Redis and one gateway node (child process) with the flow in
bench/flows_speech: "Say billing, support or sales.", each answer confirmed
("You said billing.") and the menu asked again, so every caller answers in a
loop. Recognition is the default engine: pocketsphinx en-us from its wheel
(VOSK_MODEL unset). A warm-up call answers each word once (prompts
synthesised and cached, codecs and recognizers created), then for each step
of concurrent calls (e.g. 5, 10, 20) that many aiortc callers dial over
loopback from load-generator processes of their own (bench/speech_gen.py, at
most ``--calls-per-generator`` callers each, reporting back their answers and
their CPU). Each waits until the menu has ended (0.6 s of silence), thinks
0.3-1.5 s, plays espeak-ng speech of one of the words (four voices, 160 wpm,
cut right after the last non-silent sample) and listens for the reply.
Answers whose speech ended within the ``--seconds`` measured window count:

- end of speech -> next prompt p50/p95, the *whole* turn-taking time the
  caller lives: from the last non-silent sample the caller sent to the
  arrival of the first audible frame of the reply (the confirmation). The
  target is p95 < 600 ms. Also, as the bench reported it before, that figure
  minus the VAD's configured trailing silence (``trailing_silence_ms``,
  700 ms), which hid the wait for it; with the early end (a complete,
  confident answer ends after a pause of about 320 ms) most answers no longer wait
  for the whole trailing silence, so that column can go negative. Also
  minus an estimate of where the VAD decides without the early end
  (webrtcvad and the noise-floor gate on the clean utterance offline).
- end of speech -> the menu's 'input' step stored in Redis (VAD + decoding, no playback), p50/p95
- recognition: the 'input' step of the menu on the conversation timeline
  ("speech 'billing' (0.87)") names the word said: correct %; no-match %
  (the flow re-prompts); misroute % (another word); no-reply % (nothing heard within 8 s)
- gateway CPU per call (ms CPU per call-second of its whole process tree:
  the node, its decoding processes, with ``--workers N`` the parent and every
  worker), calls per core, late outgoing frames % (/api/stats of every worker);
  each generator's CPU, the frames its callers received, their own late
  microphone frames, and the CPU of everything else (Redis, the bench's own
  process, other processes: a busy machine skews the run)
- gateway RSS at start, idle after the warm-up call (model, prompts, codecs
  loaded), the peak during each step, and per call beyond that baseline
- where the turn-taking time goes, per stage (p50/p95, ms after the caller's
  end of speech), from the gateway's ``speech turn`` log lines (monotonic
  times, one clock for every process of the host): the speculative decode
  starts (a 100 ms pause after the VAD's hangover), the pause reaches the early
  end's 200 ms, the utterance is declared over, the decode whose result was
  used (queued, started, done: queue wait and decode time, both views), the
  outcome on the event loop, the answer handed to the flow, the next prompt
  queued on the player (flow step: timeline, variables, TTS cache, Opus), and
  heard by the caller (player slot, network, the caller's jitter buffer)

The gateway runs as one node process (``--workers 1``, one event loop: the
case the 5-call target is about); ``--workers N`` measures N.

A step is judged before it reports anything (bench/loadgen.py, as bench ivr's
steps are): it is INVALID when a call did not come up (by the gateway's count at
the window's end, or a generator's when the window opened), a caller failed, a
generator used more than 85 % of a core or received under 95 % of the frames
its calls should have (50 a second each), or more than 1 % of its callers'
microphone frames went out late: what such a step measured is the load
generator, not the gateway. The generators run on the same cores as the
gateway (whose decoding pool has one process per core), so a valid step's
latency still includes their competition for the CPU. Both media
directions also include aiortc's audio jitter buffer (it holds 4 packets: 80 ms
each way on loopback), the gateway's receiving leg and the caller's.

``--ask-back``: the menu asks back every spoken answer (``confirm: speech``, ``confirm_below: 1``; the default
question, "Did you say Billing? ..."); each caller hears the question to its end, thinks 0.3-1.0 s and says "yes"
(``--ask-back 1.5``: says it 1.5 s after the question began to be heard, cutting it short).
Then also: the turn after the yes (its end -> the next prompt heard), the whole time the question adds (end of the
answer -> the prompt after the yes heard) and the share of the answers the yes confirmed (the menu's 'confirm' steps).

    ./bin/bench speech --steps 2,5,10 --seconds 30
    ./bin/bench speech --steps 5 --ask-back
    ./bin/bench speech --steps 5 --ask-back 1.5
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bench.chat_load import cpu_seconds, every_worker_up, pct, wait_ready
from bench.ivr_calls import codec_floor, pin_loopback, split
from bench.loadgen import kept_up, kill_left, spawn, stats_of_every_node, summed, tree_cpu, until
from bench.loadgen import report as generator_report
from bench.run_folder import add_keep_logs, run_folder
from bench.speech_gen import DIAL_GAP_S, RATE_WPM, VOICES, WORDS, one_caller, prepare_speech
from media.asr.vad import VadSettings
from tests.support.servers import RedisServer, free_port

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows_speech"
RESULTS = HERE / "results"
#: A step is INVALID when more than this share of the callers' own microphone frames went out late (a generator
#: that cannot send on time measures itself); its CPU (loadgen.MAX_GENERATOR_CPU) and frames received
#: (loadgen.MIN_FRAMES) are judged by loadgen.kept_up.
MAX_LATE_MIC = 0.01
CALLS_PER_GENERATOR = 8  # about 4.5 % of a core per caller: 8 callers use about a third of one
TRAILING_MS = VadSettings().trailing_silence_ms
SPOKEN = re.compile(r"speech '([^']*)'")


async def judge(redis: aioredis.Redis, result: dict[str, Any]) -> None:
    """Pair each answer with the menu's next 'input' step on the timeline: what the gateway understood."""
    cid = result.get("conversation_id")
    if not cid:
        return
    inputs, confirmed = [], []
    rows: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(f"cg:conv:{cid}:tl")  # type: ignore[assignment]
    for eid, fields in rows:
        data = json.loads(fields[b"data"])
        if fields[b"type"] == b"ivr" and data.get("node") == "menu" and data.get("kind") in ("input", "confirm"):
            ts, detail = int(eid.split(b"-")[0]), str(data.get("detail", ""))
            if data["kind"] == "input":
                inputs.append((ts, detail))
            elif detail.endswith(" confirmed"):
                confirmed.append(ts)
    answers = result["answers"]
    for i, a in enumerate(answers):
        until = answers[i + 1]["wall_end"] * 1000 if i + 1 < len(answers) else math.inf
        if "yes_wall_end" in a:  # --ask-back: the yes confirmed the answer
            a["confirmed"] = any(a["yes_wall_end"] * 1000 <= ts < until for ts in confirmed)
        found = next(((ts, d) for ts, d in inputs if a["wall_end"] * 1000 <= ts < until), None)
        if found is None:
            a["outcome"], a["input_ms"] = "none", None
            continue
        a["input_ms"], a["detail"] = found[0] - a["wall_end"] * 1000, found[1]
        said = SPOKEN.match(found[1])
        a["outcome"] = "nomatch" if said is None else "correct" if said.group(1) == a["word"] else "misroute"


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy (not idle / iowait) since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return out


def nodes(pid: int, workers: int) -> list[int]:
    """The gateway's node processes: ``pid`` itself, or with ``--workers N`` the workers its parent started."""
    return [pid] if workers == 1 else children(pid)


def nodes_rss_mb(pid: int, workers: int) -> float:
    return sum(rss_mb(n) for n in nodes(pid, workers))


def nodes_cpu(pid: int, workers: int) -> float:
    """CPU seconds of the node processes alone (not their decoding processes: the figure earlier runs reported)."""
    return sum(cpu_seconds(n) for n in nodes(pid, workers))


def children_rss_mb(pid: int) -> float:
    """RSS of the node's child processes (pocketsphinx's decoding processes, --asr-processes)."""
    total = 0.0
    for child in children(pid):
        try:
            total += rss_mb(child)
        except OSError:  # gone meanwhile
            pass
    return total


STAGES = (
    ("speculated", "speculative decode started"),
    ("paused", "pause reached the early end's 200 ms"),
    ("ended", "utterance declared over"),
    ("decode_queued", "decode used: queued"),
    ("decode_started", "decode used: started"),
    ("decode_done", "decode used: done"),
    ("outcome", "outcome on the event loop"),
    ("posted", "answer handed to the flow"),
    ("prompt", "next prompt queued on the player"),
)


GATEWAY_LOG_FORMAT = "json"  # the gateway's log lines, read by log_messages


def log_messages(log: Path) -> Iterator[str]:
    """The messages of the gateway's log (``--log-format json``: one record a line, its context ids in fields of
    their own; a text line ends with them, ``... [conversation_id=c_...]``, and a value read from its tail took
    them along). Lines that are no record (a library's own output on stderr) are not the gateway's messages."""
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        yield str(record["msg"])


def turn_traces(log: Path) -> dict[str, list[dict[str, Any]]]:
    """The gateway's ``speech turn {json}`` messages (gateway/flows/call_speech.py), per conversation, in order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for msg in log_messages(log):
        if msg.startswith("speech turn {"):
            trace = json.loads(msg.removeprefix("speech turn "))
            out.setdefault(str(trace.get("conversation_id")), []).append(trace)
    return out


def attach_traces(result: dict[str, Any], traces: dict[str, list[dict[str, Any]]]) -> None:
    """Give each answer the turn trace that ended after its end of speech and before the next answer's."""
    turns = traces.get(str(result.get("conversation_id")), [])
    answers = result.get("answers", [])
    for i, a in enumerate(answers):
        until = answers[i + 1]["end"] if i + 1 < len(answers) else math.inf
        found = next((t for t in turns if t.get("ended") is not None and a["end"] <= t["ended"] < until), None)
        if found is not None:
            a["trace"] = found


def stage_summary(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 ms after the caller's end of speech per stage, and the durations between them."""
    traced = [a for a in answers if "trace" in a]
    out: dict[str, Any] = {"traced": len(traced)}

    def after_end(key: str) -> list[float]:
        return [(a["trace"][key] - a["end"]) * 1000 for a in traced if a["trace"].get(key) is not None]

    for key, _ in STAGES:
        values = after_end(key)
        out[key] = {"n": len(values), "p50": round(pct(values, 50), 1), "p95": round(pct(values, 95), 1)}
    heard = [a["reply_ms"] for a in traced if a["reply_ms"] is not None]
    out["heard"] = {"n": len(heard), "p50": round(pct(heard, 50), 1), "p95": round(pct(heard, 95), 1)}

    def span(a: dict[str, Any], start: str, end: str) -> float | None:
        t = a["trace"]
        if end == "heard":
            return (
                None if a["reply_ms"] is None or t.get(start) is None else a["reply_ms"] - (t[start] - a["end"]) * 1000
            )
        return None if t.get(start) is None or t.get(end) is None else (t[end] - t[start]) * 1000

    for name, start, end in (
        ("queue_wait", "decode_queued", "decode_started"),
        ("decode", "decode_started", "decode_done"),
        ("ended_to_outcome", "ended", "outcome"),
        ("flow_step", "posted", "prompt"),
        ("prompt_to_heard", "prompt", "heard"),
    ):
        values = [v for a in traced if (v := span(a, start, end)) is not None]
        out[name] = {"n": len(values), "p50": round(pct(values, 50), 1), "p95": round(pct(values, 95), 1)}
    out["early_pct"] = round(100 * sum(1 for a in traced if a["trace"].get("early")) / max(len(traced), 1), 1)
    out["reused_pct"] = round(100 * sum(1 for a in traced if a["trace"].get("reused")) / max(len(traced), 1), 1)
    out["speculations_per_answer"] = round(
        sum(a["trace"].get("speculations", 0) for a in traced) / max(len(traced), 1), 2
    )
    return out


def summary(answers: list[dict[str, Any]]) -> dict[str, Any]:
    n = max(len(answers), 1)
    replies = [a["reply_ms"] for a in answers if a["reply_ms"] is not None]
    decided = [a["reply_ms"] - a["vad_end_ms"] for a in answers if a["reply_ms"] is not None]
    inputs = [a["input_ms"] for a in answers if a.get("input_ms") is not None]
    count = {k: sum(1 for a in answers if a.get("outcome") == k) for k in ("correct", "nomatch", "misroute", "none")}
    return {
        "answers": len(answers),
        "correct_pct": round(100 * count["correct"] / n, 1),
        "no_match_pct": round(100 * count["nomatch"] / n, 1),
        "misroute_pct": round(100 * count["misroute"] / n, 1),
        "no_input_step_pct": round(100 * count["none"] / n, 1),
        "no_reply_pct": round(100 * (len(answers) - len(replies)) / n, 1),
        "reply_ms_p50": round(pct(replies, 50), 1),
        "reply_ms_p95": round(pct(replies, 95), 1),
        "after_vad_ms_p50": round(pct(replies, 50) - TRAILING_MS, 1),
        "after_vad_ms_p95": round(pct(replies, 95) - TRAILING_MS, 1),
        "after_vad_decision_est_ms_p50": round(pct(decided, 50), 1),
        "after_vad_decision_est_ms_p95": round(pct(decided, 95), 1),
        "input_step_ms_p50": round(pct(inputs, 50), 1),
        "input_step_ms_p95": round(pct(inputs, 95), 1),
        **asked_back_summary(answers),
        "misheard": [
            f"{what} x{n}"
            for what, n in Counter(
                f"{a['voice']} '{a['word']}': {a.get('detail', 'no input step')}"
                for a in answers
                if a.get("outcome") != "correct"
            ).most_common(10)
        ],
    }


def asked_back_summary(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """``--ask-back``: the turn after the caller's yes (end of the yes -> the next prompt heard), and the whole time
    the question adds (end of the menu answer -> the prompt after the yes heard: the question heard to its end, the
    caller's pause, the yes and that turn), with the share of the answers the yes confirmed. Empty without."""
    asked = [a for a in answers if "yes_end" in a]
    if not asked:
        return {}
    yes = [a["yes_reply_ms"] for a in asked if a["yes_reply_ms"] is not None]
    routed = [a["routed_ms"] for a in asked if a["routed_ms"] is not None]
    return {
        "asked_back": len(asked),
        "confirmed_pct": round(100 * sum(1 for a in asked if a.get("confirmed")) / len(asked), 1),
        "yes_reply_ms_p50": round(pct(yes, 50), 1),
        "yes_reply_ms_p95": round(pct(yes, 95), 1),
        "routed_ms_p50": round(pct(routed, 50), 1),
        "routed_ms_p95": round(pct(routed, 95), 1),
    }


def generator_invalid(gen: dict[str, Any]) -> list[str]:
    """Why one generator's callers do not count (empty: they kept up): :func:`bench.loadgen.kept_up`'s rules (its
    CPU, the frames its callers received, every call up when the window opened), a caller that failed, and more
    than :data:`MAX_LATE_MIC` of its callers' microphone frames sent late."""
    why = kept_up({k: v for k, v in gen.items() if k != "errors"})
    if gen.get("failed"):
        why.append(f"{gen['failed']} callers failed: {gen.get('errors', [])[:2]}")
    elif gen.get("errors"):  # the process itself failed (bench.loadgen.report: no report)
        why.append(f"errors: {gen['errors'][:2]}")
    sent, late = gen.get("mic_frames_sent", 0), gen.get("mic_late_frames", 0)
    if late > MAX_LATE_MIC * sent:
        why.append(f"{100 * late / max(sent, 1):.1f} % of the callers' frames late")
    return why


def step_invalid(calls: int, active: int, gens: list[dict[str, Any]]) -> list[str]:
    """Why a step reports no figures for the gateway (empty: valid): calls the gateway did not hold during the
    window (``active``, from /api/stats), and every generator that did not keep up."""
    return [
        *([f"{calls - active} of {calls} calls not up"] if active < calls else []),
        *(f"generator {i}: {why}" for i, g in enumerate(gens) for why in generator_invalid(g)),
    ]


def merge(
    gens: list[dict[str, Any]], t0: float, t1: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Every generator's callers, the answers whose speech ended in ``[t0, t1)`` (monotonic: one clock for every
    process of the host), and the generators' own figures."""
    callers = [c for g in gens for c in g.get("callers", [])]
    answers = [a for c in callers for a in c.get("answers", []) if t0 <= a["end"] < t1]
    mic_sent = sum(g.get("mic_frames_sent", 0) for g in gens)
    mic_late = sum(g.get("mic_late_frames", 0) for g in gens)
    figures = {
        "generators": len(gens),
        "callers_cpu_percent": [round(100 * g.get("cpu_s", 0) / max(g.get("window_s", 1), 1e-9), 1) for g in gens],
        "frames_received_percent": round(
            100
            * sum(g.get("frames_received", 0) for g in gens)
            / max(1, sum(g.get("frames_expected", 0) for g in gens)),
            1,
        ),
        "callers_mic_late_frames_percent": round(100 * mic_late / max(mic_sent, 1), 3),
        "callers_failed": sum(g.get("failed", 0) for g in gens),
        "errors": [e for g in gens for e in g.get("errors", [])][:3],
    }
    return callers, answers, figures


async def step(
    base: str,
    pid: int,
    calls: int,
    seconds: float,
    per_generator: int,
    workers: int,
    redis: aioredis.Redis,
    log: Path,
    ask_back: float | None = None,
) -> dict[str, Any]:
    shares = split(calls, -(-calls // per_generator))
    firsts = [sum(shares[:i]) for i in range(len(shares))]
    # the generators start Python and read the speech (seconds on a busy machine); then, over all of them, one call
    # every 0.1 s in the order of the callers' indices, as when they ran in this process; the window opens 3 s
    # after the last dial (every caller connected, the first ones already answering)
    dial_at = time.time() + 10
    start_at = dial_at + DIAL_GAP_S * calls + 3
    procs = [
        spawn(
            "bench.speech_gen",
            [
                *("--base", base, "--first", str(first), "--calls", str(n)),
                *("--seconds", str(seconds), "--start-at", str(start_at), "--dial-at", str(dial_at)),
                *(["--ask-back", str(ask_back)] if ask_back is not None else []),
            ],
        )
        for first, n in zip(firsts, shares, strict=True)
    ]
    try:
        await until(start_at)
        gw0, node0, all0, t0 = tree_cpu(pid), nodes_cpu(pid, workers), machine_busy_seconds(), time.monotonic()
        mid = summed(await stats_of_every_node(base, workers))
        rss_peak = 0.0
        while (left := start_at + seconds - time.time()) > 0:
            await asyncio.sleep(min(1.0, left))
            rss_peak = max(rss_peak, nodes_rss_mb(pid, workers))
        t1 = time.monotonic()
        gw_cpu, node_cpu, elapsed = tree_cpu(pid) - gw0, nodes_cpu(pid, workers) - node0, t1 - t0
        busy = machine_busy_seconds() - all0
        after = summed(await stats_of_every_node(base, workers))
        gens = [await asyncio.to_thread(generator_report, p, 120 + seconds) for p in procs]
    finally:
        kill_left(procs)
    callers, answers, figures = merge(gens, t0, t1)
    await asyncio.gather(*(judge(redis, r) for r in callers))
    traces = turn_traces(log)
    for r in callers:
        attach_traces(r, traces)
    active = mid["active_calls"]  # as the window opened: at its end the generators are hanging up
    sent, late = after["frames_sent"] - mid["frames_sent"], after["late_frames"] - mid["late_frames"]
    gw_ms = 1000 * gw_cpu / elapsed / max(active, 1)
    # Redis, the bench's own process, and anything else on the machine
    others = busy - gw_cpu - sum(g.get("cpu_s", 0) for g in gens)
    return {
        "invalid": step_invalid(calls, active, gens),
        "calls": calls,
        "active_during_measure": active,
        "seconds": round(elapsed, 1),
        **summary(answers),
        "stages": stage_summary(answers),
        "gateway_cpu_ms_per_call_second": round(gw_ms, 1),
        "calls_per_core": round(1000 / max(gw_ms, 1e-9), 1),
        "gateway_cpu_percent": round(100 * gw_cpu / elapsed, 1),
        "gateway_nodes_cpu_percent": round(100 * node_cpu / elapsed, 1),
        "other_cpu_percent": round(100 * others / elapsed, 1),
        "late_frames_percent": round(100 * late / max(sent, 1), 3),
        "frames_sent": sent,
        "rss_mb_peak": round(rss_peak, 1),
        **figures,
    }


def engine_line(log: Path) -> str:
    """What the gateway said it listens with (``call in flow ..., speech: pocketsphinx en``)."""
    for msg in log_messages(log):
        if msg.startswith("call in flow") and "speech:" in msg:
            return msg.split("speech:", 1)[1].strip()
    return "unknown"


def asking_back(tmp: Path) -> Path:
    """The bench's flows with its menu asking back every spoken answer (``confirm: speech``, ``confirm_below: 1``),
    in a folder of the run's."""
    flows = tmp / "flows"
    flows.mkdir()
    menu = "    var: intent\n"
    text = (FLOWS / "default.yaml").read_text(encoding="utf-8")
    assert text.count(menu) == 1, "the bench flow's menu is not where --ask-back looks for it"
    text = text.replace(menu, menu + "    confirm: speech\n    confirm_below: 1\n")
    (flows / "default.yaml").write_text(text, encoding="utf-8")
    return flows


def start_gateway(
    port: int, redis_url: str, tmp: Path, workers: int = 1, flows: Path = FLOWS
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "VOSK_MODEL"}  # the default engine: pocketsphinx
    with open(tmp / "gateway.log", "wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--port",
                str(port),
                "--redis-url",
                redis_url,
                "--flows-dir",
                str(flows),
                "--data-dir",
                str(tmp / "data"),
                "--log-format",
                GATEWAY_LOG_FORMAT,
                "--max-calls",
                "500",
                "--rtc-addresses",
                "127.0.0.1",
                "--workers",
                str(workers),
                *("--drain-seconds", "0"),  # calls still up at the end are ended at once
                # a loaded machine's event-loop lag or late frames must not turn the bench's calls away
                *("--admission-max-lag-ms", "0", "--admission-max-late-percent", "0"),
                *("--admission-max-loop-cpu-percent", "0"),
                *("--limit-calls-per-ip", "100000"),  # every caller comes from 127.0.0.1 (the default 5 refused the
                # sixth caller on: steps above 5 calls measured 5)
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    pin_loopback()
    utterances = await prepare_speech()
    redis_server = RedisServer()
    redis_server.start()
    port = free_port()
    proc = start_gateway(
        port, redis_server.url, tmp, args.workers, asking_back(tmp) if args.ask_back is not None else FLOWS
    )
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "note": "callers run in generator processes on the same cores as the gateway",
        },
        "settings": {
            "words": WORDS,
            "voices": VOICES,
            "rate_wpm": RATE_WPM,
            "vad_trailing_silence_ms": TRAILING_MS,
            "seconds": args.seconds,
            "workers": args.workers,
            "ask_back": args.ask_back,
            "calls_per_generator": args.calls_per_generator,
            "load_average_at_start": os.getloadavg(),
            "target": "reply_ms_p95 < 600 (whole: end of speech -> next prompt heard)",
        },
        "steps": [],
    }
    redis = aioredis.Redis.from_url(redis_server.url)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, base, seconds=60)
        await every_worker_up(base, args.workers)  # a busy machine starts the second one seconds later
        await asyncio.sleep(1)
        out["rss_mb_start"] = round(nodes_rss_mb(proc.pid, args.workers), 1)
        # one warm-up caller in this process (not measured); with workers, more at once so that each worker likely
        # gets one (the kernel picks the worker of a connection)
        warm: list[dict[str, Any]] = [{} for _ in range(2 * args.workers - 1)]
        await asyncio.gather(
            *(
                one_caller(base, i, utterances, asyncio.Event(), w, limit=len(WORDS), ask_back=args.ask_back)
                for i, w in enumerate(warm)
            )
        )
        await asyncio.gather(*(judge(redis, w) for w in warm))
        out["warmup"] = summary([a for w in warm for a in w.get("answers", [])]) | {
            "error": [w["error"] for w in warm if "error" in w]
        }
        await asyncio.sleep(2)
        out["rss_mb_idle_after_warmup"] = rss_idle = round(nodes_rss_mb(proc.pid, args.workers), 1)
        out["decoder_processes_rss_mb"] = round(sum(children_rss_mb(n) for n in nodes(proc.pid, args.workers)), 1)
        out["engine"] = engine_line(tmp / "gateway.log")
        out["codec_floor_ms_per_call_second"] = round(await codec_floor(), 2)
        for calls in args.steps:
            result = await step(
                *(base, proc.pid, calls, args.seconds, args.calls_per_generator, args.workers, redis),
                *(tmp / "gateway.log", args.ask_back),
            )
            result["load_average_after"] = os.getloadavg()
            result["rss_mb_per_call"] = round((result["rss_mb_peak"] - rss_idle) / calls, 2)
            result["ratio_to_codec_floor"] = round(
                result["gateway_cpu_ms_per_call_second"] / out["codec_floor_ms_per_call_second"], 1
            )
            out["steps"].append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "misheard"}), flush=True)
            await asyncio.sleep(2)
        out["rss_mb_idle_at_end"] = round(nodes_rss_mb(proc.pid, args.workers), 1)
    finally:
        await redis.aclose()
        proc.terminate()
        proc.wait(timeout=30)
        redis_server.stop()
    return out


def print_report(out: dict[str, Any]) -> None:
    print(
        f"\nCallers answering by voice ({out['engine']}); {out['machine']['cpu_count']} cores shared by the "
        f"gateway ({out['settings']['workers']} workers) AND the callers (at most "
        f"{out['settings']['calls_per_generator']} per generator process); codec floor "
        f"{out['codec_floor_ms_per_call_second']} ms CPU per call-second"
    )
    print(
        f"reply: the whole turn-taking time, caller's end of speech -> first sound of the next prompt heard (ms; "
        f"target p95 < 600); -VAD: minus the configured {TRAILING_MS} ms trailing silence (what the bench used to "
        f"report); dec: minus where the VAD ends the clean utterance offline without an early end (est.); "
        f"input: end of speech -> 'input' step stored; gw: the gateway's process tree (decoding processes "
        f"included; nodes%: its node processes alone); callers%: each generator's CPU; recv%: frames the callers "
        f"received of those due"
    )
    print(
        f"{'calls':>5} {'ans':>4} {'ok%':>5} {'nom%':>5} {'mis%':>5} {'reply p50':>9} {'p95':>6} "
        f"{'-VAD p50':>8} {'p95':>6} {'dec p95':>7} {'input p50':>9} {'p95':>6} {'gw ms/call-s':>12} "
        f"{'calls/core':>10} {'gw CPU%':>7} {'nodes%':>6} {'callers%':>14} {'recv%':>5} {'other%':>6} {'late%':>6} "
        f"{'RSS MB':>7} {'MB/call':>7}"
    )
    for s in out["steps"]:
        print(
            f"{s['calls']:>5} {s['answers']:>4} {s['correct_pct']:>5} {s['no_match_pct']:>5} {s['misroute_pct']:>5} "
            f"{s['reply_ms_p50']:>9} {s['reply_ms_p95']:>6} {s['after_vad_ms_p50']:>8} {s['after_vad_ms_p95']:>6} "
            f"{s['after_vad_decision_est_ms_p95']:>7} {s['input_step_ms_p50']:>9} {s['input_step_ms_p95']:>6} "
            f"{s['gateway_cpu_ms_per_call_second']:>12} {s['calls_per_core']:>10} {s['gateway_cpu_percent']:>7} "
            f"{s['gateway_nodes_cpu_percent']:>6} {','.join(map(str, s['callers_cpu_percent'])):>14} "
            f"{s['frames_received_percent']:>5} {s['other_cpu_percent']:>6} {s['late_frames_percent']:>6} "
            f"{s['rss_mb_peak']:>7} {s['rss_mb_per_call']:>7}"
            + (f"  errors {s['errors']}" if s["errors"] else "")
            + (f"  INVALID: {'; '.join(s['invalid'])}" if s.get("invalid") else "")
        )
    print(
        f"gateway RSS: {out['rss_mb_start']} MB at start, {out['rss_mb_idle_after_warmup']} MB idle after the "
        f"warm-up call, {out['rss_mb_idle_at_end']} MB idle at the end; MB/call = (peak in step - idle after "
        f"warm-up) / calls; decoding processes {out.get('decoder_processes_rss_mb', 0)} MB more"
    )
    print(
        "where the time goes: ms after the caller's end of speech, p50 / p95 (from the gateway's 'speech turn' "
        "traces); then durations"
    )
    for s in out["steps"]:
        st = s["stages"]
        cells = [f"{label} {st[key]['p50']}/{st[key]['p95']}" for key, label in STAGES if st[key]["n"]]
        cells.append(f"heard {st['heard']['p50']}/{st['heard']['p95']}")
        print(
            f"  {s['calls']} calls ({st['traced']} traced, load {s['load_average_after'][0]:.1f}): " + "; ".join(cells)
        )
        spans = ("queue_wait", "decode", "ended_to_outcome", "flow_step", "prompt_to_heard")
        print(
            "    "
            + "; ".join(f"{k} {st[k]['p50']}/{st[k]['p95']}" for k in spans)
            + f"; ended early {st['early_pct']} %, speculative result reused {st['reused_pct']} %, "
            f"speculative decodes per answer {st['speculations_per_answer']}"
        )
    after = out["settings"]["ask_back"]
    how = "heard to its end" if after is None or math.isinf(after) else f"cut in {after} s after it began"
    for s in out["steps"]:
        if s.get("asked_back"):
            print(
                f"  {s['calls']} calls, every answer asked back ('Did you say ...?', {how}, then yes): "
                f"question heard {s['reply_ms_p50']}/{s['reply_ms_p95']} ms after the answer (p50/p95); the yes "
                f"confirmed {s['confirmed_pct']} % of {s['asked_back']}; end of the yes -> next prompt heard "
                f"{s['yes_reply_ms_p50']}/{s['yes_reply_ms_p95']} ms; end of the answer -> the prompt after the yes "
                f"heard {s['routed_ms_p50']}/{s['routed_ms_p95']} ms"
            )
    for s in out["steps"]:
        if s["misheard"]:
            print(f"  {s['calls']} calls, not correct: " + "; ".join(s["misheard"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="5,10,20", help="comma-separated concurrent call counts")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per step")
    parser.add_argument("--workers", type=int, default=1, help="gateway node processes (default 1: one event loop)")
    parser.add_argument(
        "--calls-per-generator",
        type=int,
        default=CALLS_PER_GENERATOR,
        help="the most callers one load-generator process holds (a step of N calls runs ceil(N / this) of them)",
    )
    parser.add_argument(
        "--ask-back",
        type=float,
        nargs="?",
        const=math.inf,
        help="the menu asks back every spoken answer (confirm: speech, confirm_below: 1); the callers say yes once "
        "the question ended, or SECONDS after it began to be heard (cutting in)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "speech_calls.json", help="write the result here")
    add_keep_logs(parser)
    args = parser.parse_args()
    args.steps = [int(s) for s in args.steps.split(",") if s.strip()]
    with run_folder("speech", args.keep_logs) as tmp:
        out = asyncio.run(run(args, tmp))
    print_report(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
