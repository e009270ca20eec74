"""Bridged customer <-> agent calls held by aiortc clients: CPU per call, late frames, added latency.

Starts a Redis and one gateway node (child process) with the flow in
bench/flows_bridge (a short greeting, "For billing press 1.", 1 queues for
billing; ``--record`` uses the same line with the queue recorded). For each
step of concurrent calls (e.g. 2, 5, 10) it logs in that many agents (capacity
1 each, fresh ones per step: an answered conversation stays with its agent),
dials as many aiortc callers, each presses 1 after the greeting; every agent's
softphone waits for ``ringing`` and answers. Once all are connected both sides
talk without a break for ``--seconds``: the caller's microphone loops 1 s of
[50 ms of 1 kHz (the burst), 100 ms silence, 750 ms of 440 Hz, 100 ms silence],
the agent's 700 ms of 600 Hz and 200 ms silence. Reported per step:

- gateway CPU per bridged call (ms of CPU per call-second, /proc/<pid>/stat) and the calls per core it implies
- late outgoing frames % from /api/stats (produced > 20 ms after their due time); beside it a client view
  per direction: frames reaching the caller / the agent > 20 ms behind their RTP schedule (the
  earliest frame of the window is the reference), which includes this process's own scheduling delays
- added one-way latency of the bridge: when the burst's first frame is handed to the sender
  (``PromptPlayer.recv`` returns it) -> when the agent hears the first frame with 1 kHz energy (5 ms
  resolution inside the frame; light peers: the packet's arrival, aiortc peers: the ``TrackRecorder``'s
  frame after aiortc's jitter buffer), p50/p95/p99; the BASELINE is the same measurement
  over ``--baseline-pairs`` pairs of aiortc peers connected directly on loopback (no gateway), run in
  the same step beside the calls, so both see the same machine load; added = bridge - baseline.
  Relaying (``--modes relay``), the gateway forwards each Opus packet as it arrives (no jitter buffer,
  no tick, no second encode); decoding (``--modes decode``: the node runs with ``--bridge-relay false``)
  adds its receive jitter buffer (1 packet), the other leg's 20 ms player tick, its LiveAudio queue and
  an Opus encode; ``tap`` relays and decodes both sides beside it for the recording (the recorded flow);
  ``dtmf`` relays and decodes only the caller's side beside it for the in-band DTMF detector
  (``--bridge-inband-dtmf``)
- the codec floor in the same run (PyAV Opus decode + encode per 20 ms frame, one leg, see
  bench/ivr_calls.py) and the ratio gateway CPU per bridged call / (2 legs x floor)

The callers and the agents' softphones run in ``--generators`` load-generator processes per step
(bench/bridge_load.py, bench/loadgen.py: each its share of callers and agents, routing pairs them across
processes; one monotonic clock pairs a burst with its onset), with the numpy audio-level patch the gateway
uses (media.aiortc_patches). ``--callers light`` (the default) makes them bench/light_peers.py's peers: the
microphones send Opus packets encoded once, an agent's softphone decodes each packet as it arrives (no
jitter buffer) to time the bursts, a caller decodes only the greeting; the baseline pairs send and hear the
same way, so the added latency compares like with like. ``--callers aiortc``: the tests' peers (an encoder per
frame, aiortc's jitter buffer and decoder thread, a recorder), about three times the CPU. Capacity ("bridged
calls per machine", per ``--workers``): the most calls of a valid step with every call bridged, under 1 % of
the gateway's clocked frames late and under 1 % of the frames each side heard more than 20 ms behind their
schedule. A step is VALID only if every generator kept up (frames received as scheduled,
its CPU under 85 % of a core, calls up before the window) and every call was bridged and talking; an
invalid step reports no capacity. The baseline pairs run in this process, in the same window. The
gateway's CPU is its whole process tree's (``--workers N``: the parent and every worker), its frame
counters are summed over every worker.

Each mode runs against its own fresh node and Redis for each ``--workers`` count, one after the other
(default: relay, then decode, one worker).

    ./bin/bench bridge --steps 2,5,10 --seconds 20 [--modes relay,dtmf,tap,decode] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection

from bench.chat_load import pct, wait_ready
from bench.ivr_calls import codec_floor, pin_loopback, split
from bench.light_peers import OPUS_SILENCE, LightCaller, PacketCounter, packets_of
from bench.loadgen import kept_up, kill_left, report, spawn, stats_of_every_node, summed, tree_cpu, until
from bench.run_folder import add_keep_logs, run_folder
from gateway.contact.agents import Agent
from gateway.contact.agents_file import render_agent
from gateway.contact.passwords import hash_password
from media import event_loop as node_loop
from media.aiortc_patches import speed_up_aiortc
from media.audio import Audio
from media.loopback import TrackRecorder, connect
from media.player import PromptPlayer
from tests.support.caller import Caller
from tests.support.clients import Agent as AgentClient
from tests.support.clients import Customer
from tests.support.servers import RedisServer, free_port
from tests.support.softphone import Softphone

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows_bridge"
RESULTS = HERE / "results"
RATE = 48000
PATTERN = "caller-pattern"
SUB = 240  # 5 ms: onset resolution inside a received frame
KERNEL = np.exp(-2j * np.pi * 1000 * np.arange(SUB) / RATE)
BURST_AMPLITUDE = 32767 * 10 ** (-12 / 20)
THRESHOLD = 0.3 * BURST_AMPLITUDE  # 1 kHz amplitude that counts as the burst (440/600 Hz leak ~10 %)
PASSWORD = "bench"


def tone(hz: float, ms: int, ramp_ms: int = 10) -> np.ndarray:
    n = RATE * ms // 1000
    x = np.sin(2 * np.pi * hz * np.arange(n) / RATE) * BURST_AMPLITUDE
    if ramp_ms:
        ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (RATE * ramp_ms / 1000))
        x *= ramp
    return x.astype(np.int16)


def silence(ms: int) -> np.ndarray:
    return np.zeros(RATE * ms // 1000, dtype=np.int16)


CALLER_AUDIO = Audio(np.concatenate([tone(1000, 50, ramp_ms=0), silence(100), tone(440, 750), silence(100)]), RATE)
AGENT_AUDIO = Audio(np.concatenate([tone(600, 700), silence(200)]), RATE)


class TimedMic(PromptPlayer):
    """A microphone that notes (monotonic) when the first frame of each 1 kHz burst goes to the sender
    (``opus_silence``: it sends Opus packets, a light peer's microphone; see bench/light_peers.py)."""

    def __init__(self, opus_silence: bytes | None = None) -> None:
        super().__init__(opus_silence=opus_silence)
        self.bursts: list[float] = []

    async def recv(self):  # type: ignore[no-untyped-def]
        frame = await super().recv()
        current = self.queue.current  # the loop is 50 whole frames: the burst frame leaves it at 20 ms
        if current is not None and current.prompt_id == PATTERN and current.played_ms == 20:
            self.bursts.append(time.monotonic())
        return frame


class OnsetDetector:
    """Times the start of each 1 kHz burst (after >= 300 ms without one) in what a peer hears: fed by a
    ``TrackRecorder`` (:func:`listen`: frames after aiortc's jitter buffer and decoder) or by a light peer's
    :class:`bench.light_peers.PacketCounter` (``on_audio``: each packet decoded as it arrives)."""

    def __init__(self) -> None:
        self.onsets: list[float] = []
        self._last = -1.0

    def feed(self, arrived: float, mono: np.ndarray) -> None:
        """``mono``: 48 kHz samples whose first one arrived (monotonic) at ``arrived``."""
        for k in range(len(mono) // SUB):
            if 2 * abs(np.dot(mono[k * SUB : (k + 1) * SUB], KERNEL)) / SUB > THRESHOLD:
                t = arrived + k * SUB / RATE  # sample k*SUB plays k*SUB/RATE after the frame's arrival
                if t - self._last > 0.3:
                    self.onsets.append(t)
                self._last = t


def listen(recorder: TrackRecorder) -> OnsetDetector:
    detector = OnsetDetector()
    recorder.on_samples = lambda mono: detector.feed(recorder.frames[-1].arrived, mono)
    return detector


def latencies(sent: list[float], onsets: list[float], t0: float, t1: float) -> tuple[list[float], int]:
    """ms from each burst sent in [t0, t1) to its first onset within 600 ms; and how many never arrived."""
    out, lost = [], 0
    for s in sent:
        if not t0 <= s < t1:
            continue
        i = bisect.bisect_left(onsets, s - 0.005)
        if i < len(onsets) and onsets[i] < s + 0.6:
            out.append((onsets[i] - s) * 1000)
        else:
            lost += 1
    return out, lost


def late_frames(recorder: TrackRecorder | None, t0: float, t1: float) -> tuple[int, int]:
    """Frames a recorder received in [t0, t1) more than 20 ms behind their RTP schedule (vs the earliest one),
    and how many it received then."""
    frames = recorder.frames if recorder else []
    return late_arrivals([(f.arrived, f.pts) for f in frames if f.pts is not None], t0, t1)


def late_arrivals(arrivals: list[tuple[float, int]] | None, t0: float, t1: float) -> tuple[int, int]:
    """Of (monotonic arrival, RTP timestamp at 48 kHz) pairs, those in [t0, t1) more than 20 ms behind their
    schedule (vs the earliest one), and how many arrived then."""
    window = [(at, ts) for at, ts in arrivals or [] if t0 <= at < t1]
    if len(window) < 10:
        return 0, len(window)
    pts = np.array([ts for _, ts in window], dtype=np.int64)
    pts = (pts - pts[0]) % 2**32
    offset = np.array([at for at, _ in window]) - pts / RATE
    return int((offset - offset.min() > 0.020).sum()), len(window)


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (every core, every process), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class DirectPair:
    """The baseline: two peers on loopback, no gateway, the same audio both ways, heard the way the step's callers
    and agents hear it: ``light`` (bench/light_peers.py: Opus packets sent as encoded once, the far side decodes
    each packet as it arrives) or aiortc's own path (encoder, jitter buffer, decoder thread, recorder)."""

    def __init__(self, light: bool = False) -> None:
        config = RTCConfiguration(iceServers=[])
        self.light = light
        self.a, self.b = RTCPeerConnection(config), RTCPeerConnection(config)
        silence = OPUS_SILENCE if light else None
        self.mic, self.other_mic = TimedMic(silence), PromptPlayer(opus_silence=silence)
        self.recorders: list[TrackRecorder] = []
        self.detector: OnsetDetector | None = None

    async def start(self) -> None:
        self.a.addTrack(self.mic)
        self.b.addTrack(self.other_mic)
        if self.light:
            await connect(self.a, self.b)
            self.detector = OnsetDetector()
            PacketCounter(self.a, decode=False)  # counted only: nothing decoded, nothing buffered
            PacketCounter(self.b, decode=False, on_audio=self.detector.feed)
            self.mic.loop(CALLER_AUDIO, PATTERN, packets_of(CALLER_AUDIO))
            self.other_mic.loop(AGENT_AUDIO, "agent", packets_of(AGENT_AUDIO))
            return
        self.a.on("track", lambda track: self.recorders.append(TrackRecorder(track).start()))

        @self.b.on("track")
        def on_track(track: Any) -> None:
            recorder = TrackRecorder(track).start()
            self.recorders.append(recorder)
            self.detector = listen(recorder)

        await connect(self.a, self.b)
        self.mic.loop(CALLER_AUDIO, PATTERN)
        self.other_mic.loop(AGENT_AUDIO, "agent")

    async def close(self) -> None:
        for recorder in self.recorders:
            await recorder.stop()
        self.mic.end()
        self.other_mic.end()
        await asyncio.gather(self.a.close(), self.b.close())


async def dial(base: str, suffix: str = "", light: bool = False) -> Caller:
    """A caller who dials, hears the greeting, presses 1 and is connected to an agent (``suffix``: on the call
    id, unique across the generator processes; ``light``: a :class:`bench.light_peers.LightCaller`, keeping its
    packets' arrival times)."""
    customer = Customer(base)
    await customer.hello()
    caller: Caller = (
        LightCaller(customer, TimedMic(OPUS_SILENCE), arrivals=True) if light else Caller(customer, TimedMic())
    )
    caller.call_id += suffix
    try:
        await caller.dial()
        await caller.status("ivr")
        if isinstance(caller, LightCaller):
            assert caller.counter is not None  # set by dial()
            await caller.counter.prompt_heard()
        else:
            await caller.heard_prompt()
        await caller.press("1")
        await caller.status("connected", timeout=60)
    except Exception as exc:
        await caller.close()
        await customer.close()
        told = [f["message"] for f in customer.seen if f.get("type") == "error"]
        raise RuntimeError(f"{exc!r}{f' (the gateway said: {told})' if told else ''}") from exc
    return caller


async def answer(agent: AgentClient, kind: Callable[[AgentClient], Softphone] = Softphone) -> tuple[str, Softphone]:
    """The agent's softphone (``kind(agent)``): wait for our ringing, answer; returns (conversation id, phone)."""
    phone = kind(agent)
    try:
        ring = await phone.ringing(timeout=90)
        await phone.answer(ring["call_id"])
    except BaseException:
        await phone.close()
        raise
    return ring["conversation_id"], phone


async def step(
    base: str, pid: int, index: int, calls: int, args: argparse.Namespace, nodes: int, tmp: Path
) -> dict[str, Any]:
    """One step: ``calls`` bridged calls held by ``--generators`` load-generator processes (bench/bridge_load.py),
    the baseline pairs in this process, the gateway's CPU over its process tree, counters from every worker."""
    shares = split(calls, args.generators)
    firsts = [sum(shares[:k]) for k in range(len(shares))]
    # the generators start Python, log in, dial and are answered (slow on a busy machine), then talk for warmup
    start_at = time.time() + 15 + 0.4 * max(shares) + args.warmup
    procs = [
        spawn(
            "bench.bridge_load",
            [
                *("--base", base, "--step", str(index), "--first-agent", str(first), "--calls", str(n)),
                *("--seconds", str(args.seconds), "--start-at", str(start_at), "--callers", args.callers),
            ],
            tmp / f"generator-w{nodes}-s{index}-{k}.log",
        )
        for k, (first, n) in enumerate(zip(firsts, shares, strict=True))
    ]
    pairs = [DirectPair(light=args.callers == "light") for _ in range(args.baseline_pairs)]
    gens: list[dict[str, Any]] = []
    try:
        await asyncio.gather(*(p.start() for p in pairs))
        await until(start_at)
        before = summed(await stats_of_every_node(base, nodes))
        gw0, own0, machine0 = tree_cpu(pid), time.process_time(), machine_cpu_seconds()
        t0, p0 = time.monotonic(), time.perf_counter()
        await until(start_at + args.seconds)
        elapsed = time.perf_counter() - p0
        t1 = time.monotonic()
        gw_cpu, own_cpu = tree_cpu(pid) - gw0, time.process_time() - own0
        machine = machine_cpu_seconds() - machine0
        after = summed(await stats_of_every_node(base, nodes))
        await asyncio.sleep(0.7)  # the last bursts of the window arrive
        base_ms: list[float] = []
        base_lost = 0
        for pair in pairs:
            got, miss = latencies(pair.mic.bursts, pair.detector.onsets if pair.detector else [], t0, t1)
            base_ms += got
            base_lost += miss
    finally:
        await asyncio.gather(*(p.close() for p in pairs), return_exceptions=True)
        try:
            gens = [await asyncio.to_thread(report, proc, 120 + args.seconds) for proc in procs]
        finally:
            kill_left(procs)
    bursts = {cid: b for g in gens for cid, b in g.get("bursts", {}).items()}
    onsets = {cid: o for g in gens for cid, o in g.get("onsets", {}).items()}
    bridged: list[float] = []
    lost = 0
    for cid, sent_at in bursts.items():  # a caller of one process, its agent maybe in another: one clock
        if cid in onsets:
            got, miss = latencies(sent_at, onsets[cid], t0, t1)
            bridged += got
            lost += miss
    active = len(set(bursts) & set(onsets))
    sent = after["frames_sent"] - before["frames_sent"]
    gw_ms = 1000 * gw_cpu / elapsed / max(active, 1)
    invalid = [f"generator {k}: {why}" for k, g in enumerate(gens) for why in kept_up(g)]
    if active < calls:
        invalid.append(f"{calls - active} of {calls} calls not bridged and talking")
    late_caller = [sum(g.get("late_to_caller", [0, 0])[k] for g in gens) for k in (0, 1)]
    late_agent = [sum(g.get("late_to_agent", [0, 0])[k] for g in gens) for k in (0, 1)]
    return {
        "calls": calls,
        "workers": nodes,
        "valid": not invalid,
        "invalid_because": invalid,
        "connected": active,
        "active_calls_reported": after["active_calls"],
        "seconds": round(elapsed, 1),
        "gateway_cpu_ms_per_call_second": round(gw_ms, 1),
        "calls_per_core": round(1000 / gw_ms, 1) if gw_ms else 0,
        "gateway_cpu_percent": round(100 * gw_cpu / elapsed, 1),
        "generators_cpu_percent": [round(100 * g.get("cpu_s", 0) / max(g.get("window_s", 1), 1e-9), 1) for g in gens],
        "clients_cpu_percent": round(100 * own_cpu / elapsed, 1),  # this process: the baseline pairs
        "machine_cpu_percent": round(100 * machine / elapsed, 1),  # of one core; 100 x cores = saturated
        "others_cpu_percent": round(
            100 * (machine - gw_cpu - own_cpu - sum(g.get("cpu_s", 0) for g in gens)) / elapsed, 1
        ),  # Redis, anything else
        "late_frames_percent": round(100 * (after["late_frames"] - before["late_frames"]) / max(sent, 1), 3),
        "frames_sent": sent,
        "skipped_frames": after["skipped_frames"] - before["skipped_frames"],
        "client_view_late_percent": {
            "to_caller": round(100 * late_caller[0] / max(late_caller[1], 1), 2),
            "to_agent": round(100 * late_agent[0] / max(late_agent[1], 1), 2),
        },
        "bridge_ms": _spread(bridged, lost),
        "baseline_ms": _spread(base_ms, base_lost),
        "added_ms": {
            "p50": round(pct(bridged, 50) - pct(base_ms, 50), 1),
            "p95": round(pct(bridged, 95) - pct(base_ms, 95), 1),
            "p99": round(pct(bridged, 99) - pct(base_ms, 99), 1),
        },
        "errors": [e for g in gens for e in g.get("errors", [])][:3],
    }


def _spread(ms: list[float], lost: int) -> dict[str, Any]:
    return {
        "p50": round(pct(ms, 50), 1),
        "p95": round(pct(ms, 95), 1),
        "p99": round(pct(ms, 99), 1),
        "n": len(ms),
        "lost": lost,
    }


def start_gateway(
    port: int, redis_url: str, tmp: Path, flow: str, relay: bool = True, inband: bool = False, workers: int = 1
) -> subprocess.Popen[bytes]:
    name = f"gateway-{flow}-{'relay' if relay else 'decode'}{'-inband' if inband else ''}-w{workers}.log"
    with open(tmp / name, "wb") as log:
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
                str(FLOWS),
                "--voice-flow",
                flow,
                "--agents-file",
                str(tmp / "agents.toml"),
                "--data-dir",
                str(tmp / "data"),
                "--log-format",
                "text",
                "--max-calls",
                "500",
                "--rtc-addresses",
                "127.0.0.1",
                "--bridge-relay",
                "true" if relay else "false",
                "--bridge-inband-dtmf",
                "true" if inband else "false",
                *("--workers", str(workers), "--drain-seconds", "0"),
                # every caller and agent comes from 127.0.0.1
                *("--limit-calls-per-ip", "100000", "--limit-connections-per-ip", "1000000"),
                *("--limit-conversations-per-hour", "100000"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            # steps past what the machine holds are measured, not refused (the lag rule stays: it always did)
            env={**os.environ, "CG_ADMISSION_MAX_LATE_PERCENT": "0", "CG_ADMISSION_MAX_LOOP_CPU_PERCENT": "0"},
        )


def capacity(steps: list[dict[str, Any]]) -> int | None:
    """The most calls of a valid step (every call bridged and talking) whose frames were on time: under 1 % of
    the gateway's clocked frames late, and under 1 % of the frames each side received more than 20 ms behind
    their schedule (relayed packets are on no clock of the gateway's: what a relay's delay does, the peers
    see). None: no step qualified."""
    ok = [
        s
        for s in steps
        if s["valid"]
        and s["late_frames_percent"] < 1.0
        and max(s["client_view_late_percent"].values()) < 1.0
        and s["connected"] >= s["calls"]
    ]
    return max((s["calls"] for s in ok), default=None)


#: What each mode runs: (flow, --bridge-relay, --bridge-inband-dtmf). relay: packets forwarded untouched; dtmf:
#: relayed, the caller's side decoded beside for the in-band DTMF detector; tap: relayed and both sides decoded
#: beside for the recording; decode: --bridge-relay false (decode, mix, re-encode on the player's clock).
MODES = {
    "relay": ("default", True, False),
    "dtmf": ("default", True, True),
    "tap": ("recorded", True, False),
    "decode": ("default", False, False),
}


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    pin_loopback()
    speed_up_aiortc()
    cheap = hash_password(PASSWORD, n=2**10)
    (tmp / "agents.toml").write_text(
        "".join(
            render_agent(Agent(f"s{k}-a{i:03d}", f"Agent {k}.{i}", cheap, capacity=1))
            for k, n in enumerate(args.steps)
            for i in range(n)
        )
    )
    out: dict[str, Any] = {
        "cores": os.cpu_count(),
        "gateway_logs": str(tmp),
        "baseline_pairs": args.baseline_pairs,
        "callers": args.callers,
        "codec_floor_ms_per_leg_second": round(await codec_floor(), 2),
        "modes": {},
    }
    floor = out["codec_floor_ms_per_leg_second"]
    for mode in args.modes:
        flow, relay, inband = MODES[mode]
        result: dict[str, Any] = {"flow": flow, "bridge_relay": relay, "bridge_inband_dtmf": inband, "steps": []}
        out["modes"][mode] = result
        for workers in args.workers:
            redis = RedisServer()  # a fresh Redis and node per mode and worker count: the same agents log in again
            redis.start()
            port = free_port()
            proc = start_gateway(port, redis.url, tmp, flow, relay, inband, workers)
            base = f"http://127.0.0.1:{port}"
            try:
                async with aiohttp.ClientSession() as http:
                    await wait_ready(http, base, seconds=90)  # a busy machine starts it slowly
                await stats_of_every_node(base, workers)  # every worker up
                idle0 = tree_cpu(proc.pid)
                await asyncio.sleep(3)
                result[f"gateway_idle_cpu_percent_w{workers}"] = round(100 * (tree_cpu(proc.pid) - idle0) / 3, 1)
                for index, calls in enumerate(args.steps):
                    got = await step(base, proc.pid, index, calls, args, workers, tmp)
                    got["ratio_to_1_leg_floor"] = round(got["gateway_cpu_ms_per_call_second"] / floor, 2)
                    got["ratio_to_2_leg_floor"] = round(got["gateway_cpu_ms_per_call_second"] / (2 * floor), 2)
                    result["steps"].append(got)
                    print(json.dumps({"mode": mode, **got}), flush=True)
                    await asyncio.sleep(2)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                redis.stop()
            result.setdefault("calls_per_machine", {})[str(workers)] = capacity(
                [s for s in result["steps"] if s["workers"] == workers]
            )
        by = result["calls_per_machine"]
        if len(by) > 1 and by.get("1") and by.get(str(max(args.workers))):
            result["speedup"] = round(by[str(max(args.workers))] / by["1"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="2,5,10", help="comma-separated concurrent bridged calls")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of talk before measuring")
    parser.add_argument("--baseline-pairs", type=int, default=2, help="direct aiortc pairs beside each step")
    parser.add_argument("--generators", type=int, default=2, help="load-generator processes per step (callers+agents)")
    parser.add_argument("--workers", default="1", help="comma-separated gateway worker counts, each its own run")
    parser.add_argument(
        "--callers",
        choices=("light", "aiortc"),
        default="light",
        help="light: bench/light_peers.py (Opus packets encoded once; the agent decodes each packet as it arrives to "
        "time the bursts; the baseline pairs likewise); aiortc: tests' Caller and Softphone (encode every frame, "
        "jitter buffer, decoder thread, recorder)",
    )
    parser.add_argument(
        "--modes",
        default="relay,decode",
        help="comma-separated, run one after the other: relay (packets forwarded), dtmf (relayed, the caller's "
        "side decoded beside for in-band DTMF: --bridge-inband-dtmf), tap (relayed, recorded: both sides decoded "
        "beside), decode (--bridge-relay false)",
    )
    parser.add_argument("--record", action="store_true", help="same as --modes tap (kept for old command lines)")
    parser.add_argument("--json", type=Path, default=RESULTS / "bridge_calls.json", help="write the result here")
    add_keep_logs(parser)
    args = parser.parse_args()
    args.steps = [int(s) for s in args.steps.split(",") if s.strip()]
    args.workers = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    args.modes = ["tap"] if args.record else [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {unknown}; choose from {sorted(MODES)}")
    with run_folder("bridge", args.keep_logs) as tmp:
        out = node_loop.run(run(args, tmp))
    floor = out["codec_floor_ms_per_leg_second"]
    print(
        f"\nBridged calls on {out['cores']} cores (a shared machine: other processes' load shows in others%); "
        f"callers and agents run in {args.generators} load-generator processes per step, the baseline's "
        f"{args.baseline_pairs} direct aiortc pairs in this one. Codec floor {floor} ms CPU per leg-second "
        f"(x2 legs = {2 * floor:.1f})."
    )
    print(
        f"{'mode':>6} {'w':>2} {'calls':>5} {'up':>3} {'valid':>5} {'gw ms/call-s':>12} {'x 1 floor':>9} "
        f"{'calls/core':>10} {'gw CPU%':>7} {'gen CPU%':>11} {'machine%':>8} {'late %':>6} {'heard late %':>12} "
        f"{'bridge p50/p95':>14} {'direct p50/p95':>14} {'added p50/p95':>13} {'n':>4}"
    )
    for mode, result in out["modes"].items():
        for s in result["steps"]:
            b, d, a = s["bridge_ms"], s["baseline_ms"], s["added_ms"]
            heard = f"{s['client_view_late_percent']['to_caller']}/{s['client_view_late_percent']['to_agent']}"
            print(
                f"{mode:>6} {s['workers']:>2} {s['calls']:>5} {s['connected']:>3} {'yes' if s['valid'] else 'NO':>5} "
                f"{s['gateway_cpu_ms_per_call_second']:>12} {s['ratio_to_1_leg_floor']:>9} {s['calls_per_core']:>10} "
                f"{s['gateway_cpu_percent']:>7} {'/'.join(str(c) for c in s['generators_cpu_percent']):>11} "
                f"{s['machine_cpu_percent']:>8} {s['late_frames_percent']:>6} {heard:>12} "
                f"{b['p50']:>6} / {b['p95']:<5} {d['p50']:>6} / {d['p95']:<5} {a['p50']:>5} / {a['p95']:<5} "
                f"{b['n']:>4}"
                + (f"  lost {b['lost']}" if b["lost"] else "")
                + (f"  errors {s['errors']}" if s["errors"] else "")
                + (f"  INVALID (no capacity): {'; '.join(s['invalid_because'])}" if s.get("invalid_because") else "")
            )
        for workers, calls in result.get("calls_per_machine", {}).items():
            print(
                f"{mode}: bridged calls per machine at {workers} worker(s) (valid, all bridged, < 1% of frames late at "
                f"the gateway and as heard each way): {calls if calls is not None else 'none'}"
            )
        if "speedup" in result:
            print(f"{mode}: {max(args.workers)} workers : 1 worker = {result['speedup']}x")
    print(
        f"CPU in % of one core ({100 * out['cores']} % = all {out['cores']} cores busy); others = Redis and "
        "every other process on the machine (a busy machine skews the run); heard late: frames reaching the caller / "
        "the agent more than 20 ms behind their schedule"
    )
    print(
        "latency in ms, one way, caller -> agent (burst handed to the caller's sender -> onset in the agent's "
        "decoded audio); targets at 10 calls: added p95 < 15 ms relaying, < 30 ms decoding; relaying CPU <= 1.5x "
        "one leg's floor"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
