"""IVR calls held by aiortc callers: calls per core, late frames, and offer -> first prompt audio.

Starts a Redis and one gateway node (child process, the benchmark flow in
bench/flows keeps callers in a menu), then for each step of concurrent calls
(e.g. 5, 10, 20) dials that many aiortc callers over loopback, holds them for
``--seconds`` while prompts play and DTMF detection runs, and reports:

- gateway CPU per call (ms of CPU per second of call) and the calls per core it implies
- late outgoing frames (produced more than 20 ms after their due time), in %
- offer sent -> first prompt audio received, p50/p95
- the codec floor measured in the same run: PyAV Opus decode + encode of the same audio,
  per 20 ms frame, as ms CPU per call-second, and the ratio of the gateway's cost to it

The callers run in this process on the same 2 cores, so the gateway shares
the machine with its load; the report shows both processes' CPU.

    ./bin/bench ivr --steps 5,10,20 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np

from bench.chat_load import cpu_seconds, pct, wait_ready
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


async def one_caller(base: str, stop: asyncio.Event, result: dict[str, Any]) -> None:
    customer = Customer(base)
    await customer.hello()
    caller = Caller(customer)
    try:
        t0 = time.perf_counter()
        await caller.dial()
        while not stop.is_set():
            samples = caller.heard
            for i in range(0, len(samples) - 960 + 1, 960):
                if rms_dbfs(samples[i : i + 960]) > -45:
                    result.setdefault("first_audio_ms", (time.perf_counter() - t0) * 1000)
                    break
            if "first_audio_ms" in result:
                break
            await asyncio.sleep(0.02)
        await stop.wait()
        await caller.hangup()
    except Exception as exc:  # a failed caller is reported, not fatal to the run
        result["error"] = repr(exc)
    finally:
        await caller.close()
        await customer.close()


async def step(base: str, pid: int, calls: int, seconds: float) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        stop = asyncio.Event()
        results: list[dict[str, Any]] = [{} for _ in range(calls)]
        tasks = []
        for i in range(calls):
            tasks.append(asyncio.create_task(one_caller(base, stop, results[i])))
            await asyncio.sleep(0.05)
        await asyncio.sleep(3)  # every caller connected and in the menu
        gw0, own0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
        async with http.get(base + "/api/stats") as r:
            mid = (await r.json())["calls"]
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - t0
        gw_cpu, own_cpu = cpu_seconds(pid) - gw0, time.process_time() - own0
        async with http.get(base + "/api/stats") as r:
            after = (await r.json())["calls"]
        active = after["active_calls"]
        stop.set()
        await asyncio.gather(*tasks)
    sent = after["frames_sent"] - mid["frames_sent"]
    late = after["late_frames"] - mid["late_frames"]
    first = [r["first_audio_ms"] for r in results if "first_audio_ms" in r]
    return {
        "calls": calls,
        "active_during_measure": active,
        "seconds": round(elapsed, 1),
        "gateway_cpu_ms_per_call_second": round(1000 * gw_cpu / elapsed / max(active, 1), 1),
        "gateway_cpu_percent": round(100 * gw_cpu / elapsed, 1),
        "callers_cpu_percent": round(100 * own_cpu / elapsed, 1),
        "late_frames_percent": round(100 * late / max(sent, 1), 3),
        "frames_sent": sent,
        "first_prompt_ms_p50": round(pct(first, 50), 1),
        "first_prompt_ms_p95": round(pct(first, 95), 1),
        "errors": [r["error"] for r in results if "error" in r][:3],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pin_loopback()
    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-ivr-"))
    redis = RedisServer()
    redis.start()
    port = free_port()
    with open(tmp / "gateway.log", "wb") as log:  # the gateway has its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--port",
                str(port),
                "--redis-url",
                redis.url,
                "--flows-dir",
                str(FLOWS),
                "--data-dir",
                str(tmp / "data"),
                "--log-format",
                "text",
                "--max-calls",
                "500",
                "--rtc-addresses",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=dict(os.environ),
        )
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {"steps": []}
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, base)
        out["codec_floor_ms_per_call_second"] = round(await codec_floor(), 2)
        for calls in args.steps:
            result = await step(base, proc.pid, calls, args.seconds)
            result["ratio_to_codec_floor"] = round(
                result["gateway_cpu_ms_per_call_second"] / out["codec_floor_ms_per_call_second"], 1
            )
            out["steps"].append(result)
            print(json.dumps(result), flush=True)
            await asyncio.sleep(2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        redis.stop()
    ok = [s for s in out["steps"] if s["late_frames_percent"] < 1.0 and not s["errors"]]
    if ok:
        best = max(ok, key=lambda s: s["calls"])
        out["calls_per_core_estimate"] = round(1000 / best["gateway_cpu_ms_per_call_second"], 1)
        out["most_calls_under_1pct_late"] = best["calls"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="5,10,20", help="comma-separated concurrent call counts")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per step")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    args.steps = [int(s) for s in args.steps.split(",") if s.strip()]
    out = asyncio.run(run(args))
    print(f"\nIVR calls (benchmark flow), codec floor {out['codec_floor_ms_per_call_second']} ms CPU per call-second")
    print(
        f"{'calls':>6} {'gw ms/call-s':>13} {'x floor':>8} {'gw CPU%':>8} {'callers CPU%':>13} "
        f"{'late %':>7} {'1st audio p50':>14} {'p95':>7}"
    )
    for s in out["steps"]:
        print(
            f"{s['calls']:>6} {s['gateway_cpu_ms_per_call_second']:>13} {s['ratio_to_codec_floor']:>8} "
            f"{s['gateway_cpu_percent']:>8} {s['callers_cpu_percent']:>13} {s['late_frames_percent']:>7} "
            f"{s['first_prompt_ms_p50']:>14} {s['first_prompt_ms_p95']:>7}"
            + (f"  errors {s['errors']}" if s["errors"] else "")
        )
    if "calls_per_core_estimate" in out:
        print(
            f"calls per core (gateway CPU, at {out['most_calls_under_1pct_late']} calls with < 1% late frames): "
            f"{out['calls_per_core_estimate']}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
