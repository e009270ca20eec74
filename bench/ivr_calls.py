"""IVR calls held by aiortc callers: calls per machine at 1 and N workers, late frames, offer -> first prompt audio.

Starts a Redis and the gateway (child process, ``--workers W`` for each W of ``--workers``, the benchmark flow in
bench/flows keeps callers in a menu), then for each step of concurrent calls (e.g. 5, 10, 20) has
``--generators`` load-generator processes (this module with ``--generate``) dial that many aiortc callers over
loopback between them, hold them for ``--seconds`` while prompts play and DTMF detection runs, and reports:

- gateway CPU per call (ms of CPU per second of call) and the calls per core it implies
- late outgoing frames (produced more than 20 ms after their due time), in %
- offer sent -> first prompt audio received, p50/p95
- the codec floor measured in the same run: PyAV Opus decode + encode of the same audio,
  per 20 ms frame, as ms CPU per call-second, and the ratio of the gateway's cost to it

- whether the step is VALID (bench/loadgen.py): each generator received >= 95 % of the frames its calls
  should have (50 a second each), had every call up before the window opened, and used < 85 % of a core; an
  invalid step reports no capacity (its figures are the generator's limit, not the gateway's)
- calls per machine at each worker count: the most concurrent calls of a valid step with < 1 % late frames and
  every call admitted (admission by load refuses calls while a worker's loop runs late), and the ratio N : 1

The generators run on the same machine as the gateway (on a 2-core machine they compete with it for CPU: a step
the gateway could carry may be invalid because its load could not be generated there).

    ./bin/bench ivr --steps 5,10,20 --seconds 15 --workers 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np

from bench.chat_load import pct, wait_ready
from bench.light_peers import LightCaller
from bench.loadgen import (
    FRAMES_PER_SECOND,
    kept_up,
    kill_left,
    report,
    spawn,
    stats_of_every_node,
    summed,
    tree_cpu,
    until,
)
from bench.run_folder import add_keep_logs, run_folder
from media import event_loop as node_loop
from media.aiortc_patches import speed_up_aiortc
from media.audio import rms_dbfs
from media.tts import Synthesizer
from tests.support.caller import Caller
from tests.support.clients import Customer
from tests.support.servers import RedisServer, free_port

FLOWS = Path(__file__).resolve().parent / "flows"


def pin_loopback() -> None:
    """Offer only 127.0.0.1 host candidates from the callers (the gateway is told the same below)."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # type: ignore[assignment]


async def codec_floor(seconds: float = 5.0) -> float:
    """ms CPU per call-second to decode and re-encode Opus 48 kHz mono, 20 ms frames, with PyAV."""
    speech = await Synthesizer().synthesize("For billing press one. For support press two.", rate_wpm=170)
    pcm = np.resize(speech.samples, int(48000 * seconds))
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "mono", "s16"
    encoder.bit_rate, encoder.time_base = 32000, Fraction(1, 48000)
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout = 48000, "mono"
    packets = []
    for i in range(0, len(pcm) - 960 + 1, 960):
        frame = av.AudioFrame.from_ndarray(pcm[i : i + 960].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48000, i
        packets += encoder.encode(frame)
    t0 = time.process_time()
    for i, packet in enumerate(packets):  # one leg: decode what arrives, encode what goes out
        for frame in decoder.decode(packet):
            frame.pts = i * 960
            encoder.encode(frame)
    cpu = time.process_time() - t0
    return 1000 * cpu / (len(packets) * 0.02)


async def one_caller(
    base: str, light: bool, stop: asyncio.Event, result: dict[str, Any], callers: list[Caller]
) -> None:
    customer = Customer(base)
    caller = LightCaller(customer) if light else Caller(customer)
    caller.call_id = f"{caller.call_id}-{os.getpid()}"  # unique across the generator processes
    try:
        await customer.hello()
        t0 = asyncio.get_running_loop().time()
        await caller.dial()
        callers.append(caller)
        result["up"] = True
        checked = 0
        while not stop.is_set():
            if isinstance(caller, LightCaller):
                if caller.counter is not None and caller.counter.first_loud_at is not None:
                    result["first_audio_ms"] = (caller.counter.first_loud_at - t0) * 1000
                    break
            else:
                samples = caller.heard
                for i in range(checked, len(samples) - 960 + 1, 960):
                    if rms_dbfs(samples[i : i + 960]) > -45:
                        result.setdefault("first_audio_ms", (asyncio.get_running_loop().time() - t0) * 1000)
                        break
                checked = max(checked, len(samples) - len(samples) % 960)
                if "first_audio_ms" in result:
                    break
            await asyncio.sleep(0.1)
        await stop.wait()
        await caller.hangup()
    except Exception as exc:  # a failed caller is reported, not fatal to the run
        busy = [f for f in customer.seen if f.get("type") == "call_status" and f.get("reason") == "lines_busy"]
        if busy:  # refused by admission: "all lines busy" (the caller waited for an answer that never came)
            result["refused"] = True
        else:
            result["error"] = repr(exc)
    finally:
        await caller.close()
        await customer.close()


def frames_heard(callers: list[Caller]) -> int:
    """20 ms frames received: counted packets (a LightCaller), else the recorded samples."""
    return sum(
        (c.counter.packets if c.counter is not None else 0) if isinstance(c, LightCaller) else len(c.heard) // 960
        for c in callers
    )


async def generate(
    base: str, calls: int, seconds: float, start_at: float, light: bool, dial_gap: float = 0.05
) -> dict[str, Any]:
    """A load generator process: ``calls`` callers (:class:`LightCaller` when ``light``), measured from
    ``start_at`` (epoch) for ``seconds``."""
    pin_loopback()
    speed_up_aiortc()  # the callers' legs as cheap as the gateway's
    stop = asyncio.Event()
    results: list[dict[str, Any]] = [{} for _ in range(calls)]
    callers: list[Caller] = []
    tasks = []
    for i in range(calls):
        tasks.append(asyncio.create_task(one_caller(base, light, stop, results[i], callers)))
        await asyncio.sleep(dial_gap)
    await until(start_at)
    late_start = len(callers) < calls
    f0, c0, t0 = frames_heard(callers), time.process_time(), time.perf_counter()
    await until(start_at + seconds)
    f1, c1, t1 = frames_heard(callers), time.process_time(), time.perf_counter()
    stop.set()
    await asyncio.gather(*tasks)
    return {
        "calls": calls,
        "window_s": t1 - t0,
        "cpu_s": c1 - c0,
        "frames_expected": int(len(callers) * (t1 - t0) * FRAMES_PER_SECOND),
        "frames_received": f1 - f0,
        "late_start": late_start,
        "first_audio_ms": [r["first_audio_ms"] for r in results if "first_audio_ms" in r],
        "errors": [r["error"] for r in results if "error" in r][:3],
        "refused": sum(1 for r in results if r.get("refused")),
    }


def split(calls: int, parts: int) -> list[int]:
    return [n for n in (calls // parts + (1 if i < calls % parts else 0) for i in range(parts)) if n]


async def step(
    base: str, pid: int, calls: int, seconds: float, generators: int, nodes: int, callers: str, dial_gap: float
) -> dict[str, Any]:
    shares = split(calls, generators)
    # the generators start Python, then dial one call every dial_gap (slow when busy)
    start_at = time.time() + 10 + max(0.25, dial_gap + 0.2) * max(shares)
    procs = [
        spawn(
            "bench.ivr_calls",
            [
                *("--base", base, "--calls", str(n), "--seconds", str(seconds), "--start-at", str(start_at)),
                *("--callers", callers, "--dial-gap", str(dial_gap)),
            ],
        )
        for n in shares
    ]
    try:
        await until(start_at)
        gw0, t0 = tree_cpu(pid), time.perf_counter()
        mid = summed(await stats_of_every_node(base, nodes))
        await until(start_at + seconds)
        elapsed = time.perf_counter() - t0
        gw_cpu = tree_cpu(pid) - gw0
        after = summed(await stats_of_every_node(base, nodes))
        gens = [await asyncio.to_thread(report, p, 120 + seconds) for p in procs]
    finally:
        kill_left(procs)
    active = mid["active_calls"]  # as the window opened: at its end the generators are hanging up
    sent = after["frames_sent"] - mid["frames_sent"]
    late = after["late_frames"] - mid["late_frames"]
    first = [ms for g in gens for ms in g.get("first_audio_ms", [])]
    invalid = [f"generator {i}: {why}" for i, g in enumerate(gens) for why in kept_up(g)]
    return {
        "calls": calls,
        "active_during_measure": active,
        "seconds": round(elapsed, 1),
        "valid": not invalid,
        "invalid_because": invalid,
        "gateway_cpu_ms_per_call_second": round(1000 * gw_cpu / elapsed / max(active, 1), 1),
        "gateway_cpu_percent": round(100 * gw_cpu / elapsed, 1),
        "generators_cpu_percent": [round(100 * g.get("cpu_s", 0) / max(g.get("window_s", 1), 1e-9), 1) for g in gens],
        "frames_received_percent": round(
            100
            * sum(g.get("frames_received", 0) for g in gens)
            / max(1, sum(g.get("frames_expected", 0) for g in gens)),
            1,
        ),
        "late_frames_percent": round(100 * late / max(sent, 1), 3),
        "frames_sent": sent,
        "first_prompt_ms_p50": round(pct(first, 50), 1),
        "first_prompt_ms_p95": round(pct(first, 95), 1),
        "errors": [e for g in gens for e in g.get("errors", [])][:3],
        "refused": sum(g.get("refused", 0) for g in gens),
    }


def start_gateway(tmp: Path, port: int, redis_url: str, workers: int) -> subprocess.Popen[bytes]:
    with open(tmp / f"gateway-{workers}.log", "wb") as log:  # the gateway has its own copy of the descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                *("--port", str(port), "--redis-url", redis_url, "--flows-dir", str(FLOWS)),
                *("--data-dir", str(tmp / "data"), "--log-format", "text", "--max-calls", "500"),
                *("--rtc-addresses", "127.0.0.1", "--workers", str(workers), "--drain-seconds", "0"),
                # every caller comes from 127.0.0.1
                *("--limit-calls-per-ip", "100000", "--limit-connections-per-ip", "1000000"),
                *("--limit-conversations-per-hour", "100000"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=dict(os.environ),
        )


def capacity(steps: list[dict[str, Any]]) -> int | None:
    """The most calls of a valid step that every call got in and < 1 % of frames went out late (None: none)."""
    ok = [
        s
        for s in steps
        if s["valid"]
        and s["late_frames_percent"] < 1.0
        and s["active_during_measure"] >= s["calls"]
        and not s["errors"]
    ]
    return max((s["calls"] for s in ok), default=None)


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cores": os.cpu_count(),
        "generators": args.generators,
        "callers": args.callers,
        "by_workers": {},
    }
    out["codec_floor_ms_per_call_second"] = round(await codec_floor(), 2)
    for workers in args.workers:
        redis = RedisServer()
        redis.start()
        port = free_port()
        proc = start_gateway(tmp, port, redis.url, workers)
        base = f"http://127.0.0.1:{port}"
        steps: list[dict[str, Any]] = []
        try:
            async with aiohttp.ClientSession() as http:
                await wait_ready(http, base, seconds=90)
            await stats_of_every_node(base, workers)  # every worker up
            for calls in args.steps:
                result = await step(
                    base, proc.pid, calls, args.seconds, args.generators, workers, args.callers, args.dial_gap
                )
                result["workers"] = workers
                result["ratio_to_codec_floor"] = round(
                    result["gateway_cpu_ms_per_call_second"] / out["codec_floor_ms_per_call_second"], 1
                )
                steps.append(result)
                print(json.dumps(result), flush=True)
                await asyncio.sleep(2)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            redis.stop()
        out["by_workers"][str(workers)] = {"steps": steps, "calls_per_machine": capacity(steps)}
    caps = {w: v["calls_per_machine"] for w, v in out["by_workers"].items()}
    one, most = caps.get("1"), caps.get(str(max(args.workers)))
    if one and most and max(args.workers) > 1:
        out["speedup"] = round(most / one, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="5,10,20", help="comma-separated concurrent call counts")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per step")
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="gateway worker counts to compare")
    parser.add_argument("--generators", type=int, default=2, help="load-generator processes per step")
    parser.add_argument(
        "--callers",
        choices=("light", "aiortc"),
        default="light",
        help="light: bench/light_peers.py (the wire's work only); aiortc: tests' Caller (encodes, decodes, records)",
    )
    parser.add_argument(
        "--dial-gap",
        type=float,
        default=0.05,
        help="seconds between two calls of one generator (calls arriving at a pace admission can follow)",
    )
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)  # a load generator (internal)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    add_keep_logs(parser)
    args = parser.parse_args()
    if args.generate:
        print(
            json.dumps(
                node_loop.run(
                    generate(args.base, args.calls, args.seconds, args.start_at, args.callers == "light", args.dial_gap)
                )
            ),
            flush=True,
        )
        return
    args.steps = [int(s) for s in args.steps.split(",") if s.strip()]
    args.workers = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    with run_folder("ivr", args.keep_logs) as tmp:
        out = asyncio.run(run(args, tmp))
    print(
        f"\nIVR calls (benchmark flow), {args.callers} callers, codec floor "
        f"{out['codec_floor_ms_per_call_second']} ms CPU per call-second"
    )
    print(
        f"{'workers':>7} {'calls':>6} {'valid':>6} {'gw ms/call-s':>13} {'x floor':>8} {'gw CPU%':>8} "
        f"{'gen CPU%':>12} {'recv %':>7} {'late %':>7} {'1st audio p50':>14} {'p95':>7}"
    )
    for workers, each in out["by_workers"].items():
        for s in each["steps"]:
            print(
                f"{workers:>7} {s['calls']:>6} {'yes' if s['valid'] else 'NO':>6} "
                f"{s['gateway_cpu_ms_per_call_second']:>13} {s['ratio_to_codec_floor']:>8} "
                f"{s['gateway_cpu_percent']:>8} {','.join(map(str, s['generators_cpu_percent'])):>12} "
                f"{s['frames_received_percent']:>7} {s['late_frames_percent']:>7} "
                f"{s['first_prompt_ms_p50']:>14} {s['first_prompt_ms_p95']:>7}"
                + (f"  invalid: {'; '.join(s['invalid_because'])}" if s["invalid_because"] else "")
                + (f"  errors {s['errors']}" if s["errors"] else "")
                + (f"  refused {s['refused']} (all lines busy)" if s.get("refused") else "")
            )
        print(f"calls per machine at {workers} workers (valid, < 1% late, all admitted): {each['calls_per_machine']}")
    if "speedup" in out:
        print(f"{max(args.workers)} workers : 1 worker = {out['speedup']}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
