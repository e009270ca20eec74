"""Mouth-to-ear latency a person hears: the widget and the desk in real Chromium, through the gateway and direct.

One Chromium process holds two pages: the customer's widget page and the agent's desk. Each page's microphone is
a generated signal (bench/m2e_probe.js, injected before the page's own scripts: ``getUserMedia`` returns a
WebAudio track playing coded clicks, 12 ms of one of 16 tones every 200 ms, so a lost or doubled click is counted,
never taken for its neighbour). The customer calls from the widget, presses 1, the desk rings and the agent
accepts: a bridged call through a real gateway node (child process, the flow in bench/flows_bridge). Beside it,
the same two pages hold a direct RTCPeerConnection between them (same browser, same codec: Opus), with their own
click generators: the baseline, measured in the same seconds on the same loaded machine.

Every click is timed where it leaves (the generator's own track) and where it arrives (the page's received
track), both with ``MediaStreamTrackProcessor``: ``AudioData.timestamp`` counts from the page's
``performance.timeOrigin`` (verified: it tracks ``performance.now()``), so ``timeOrigin + timestamp`` is one
clock for both pages (the same two pages carry the gateway line and the direct line, so a constant offset between
them cancels in gateway - direct). The onset is the first sample over a threshold after 80 ms of quiet; the click's
tone (8 ms read after the onset) names it. WebAudio output timestamps are not used (they glitch by 10-30 ms).

Reported per mode, one way, p50/p95/p99 in ms for customer -> agent and agent -> customer: direct, through the
gateway, and the gateway's added latency (gateway - direct, per percentile); clicks lost / doubled / stray (a
line that lost > 5 % makes the mode INVALID: its percentiles would describe only the clicks that made it). Where
the added time goes: each receiver's jitter buffer over the window (getStats), the rest being the path; with
``--residence`` (root) also each relayed RTP packet's time inside the gateway (bench/m2e_capture.py).
Modes (a fresh node and Redis each, ``--workers 1`` unless told): ``relay`` (Opus packets forwarded untouched), ``tap`` (relayed, and decoded
beside for the recording: the recorded flow), ``decode`` (``--bridge-relay false``: decode, re-encode on the
player's clock). Targets (issue 18): added p95 < 15 ms relaying, < 30 ms when a tap forces decoding.

While measuring, ``--background-calls`` other bridged calls (default 9: the measured call is the 10th) load the
gateway: callers and agents talking both ways, in their own generator processes (``--generate``, at most
``--calls-per-generator`` calls each), each judged by bench/loadgen.py's ``kept_up`` (frames received, its CPU).
They are bench/light_peers.py's peers (``--callers light``: aiortc on the wire, Opus packets encoded once, packets
received counted, not decoded), so that the machine is left to the gateway and the browser; ``--callers aiortc``
runs the tests' peers, which encode and decode every frame (about three times the CPU).

    ./bin/bench m2e [--modes relay,tap,decode] [--seconds 40] [--background-calls 9] [--residence]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from playwright.async_api import Error as PlaywrightError

from bench.chat_load import pct, wait_ready
from bench.loadgen import FRAMES_PER_SECOND, kept_up, tree, tree_cpu
from bench.m2e_capture import LoopbackCapture, residence, udp_ports
from bench.m2e_match import buffer_figures, match, search_from_us
from bench.run_folder import add_keep_logs, run_folder
from media import event_loop as node_loop

HERE = Path(__file__).resolve().parent
PROBE = (HERE / "m2e_probe.js").read_text()
FLOWS = HERE / "flows_bridge"
RESULTS = HERE / "results"
PASSWORD = "bench"
DESK_AGENT = "desk"
#: What each mode runs: (flow, --bridge-relay), as in bench/bridge_calls.py
MODES = {"relay": ("default", True), "tap": ("recorded", True), "decode": ("default", False)}
DIRECTIONS = ("customer_to_agent", "agent_to_customer")
MAX_LOST = 0.05  # more clicks lost than this: the percentiles of those timed do not describe the line


# ---- the measurement, in two pages that carry bench/m2e_probe.js (also used by tests/browser)


async def probe_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context whose pages get the generated microphone and the click timing."""
    ctx = await browser.new_context(**options)
    await ctx.add_init_script(PROBE)
    return ctx


async def onsets(page: Page, line: str) -> dict[str, Any]:
    """The line's clicks sent and received by this page, times in µs on the browser's one clock."""
    got = await page.evaluate(
        "line => [performance.timeOrigin, __m2e.onsets(line), __m2e.spacingMs, __m2e.codes]", line
    )
    origin_us = got[0] * 1000
    out = {side: [(origin_us + t, int(c)) for t, c in got[1][side]] for side in ("sent", "received")}
    out["spacing_us"], out["codes"] = got[2] * 1000, got[3]
    return out


async def clock_us(page: Page, line: str = "gw") -> float:
    """Where the line's sent track is now on the browser's one clock (µs): a window mark."""
    return float(await page.evaluate("line => performance.timeOrigin * 1000 + __m2e.now(line)", line))


async def direction_figures(a: Page, b: Page, line: str, t0: float, t1: float, late_us: float) -> dict[str, Any]:
    """Clicks a sends on ``line`` as b receives them."""
    sent, got = await onsets(a, line), await onsets(b, line)
    return match(sent["sent"], got["received"], t0, t1, sent["spacing_us"], sent["codes"], late_us)


async def inbound(page: Page, line: str) -> dict[str, float]:
    return dict(await page.evaluate("line => __m2e.inbound(line)", line) or {})


async def measure(customer: Page, desk: Page, seconds: float, lines: tuple[str, ...] = ("gw", "direct")) -> dict:
    """Both directions of each line over ``seconds`` from now: {line: {direction: match(...) + the far side's
    jitter buffer over the window}}."""
    pages = {"customer_to_agent": (customer, desk), "agent_to_customer": (desk, customer)}
    before = {(line, d): await inbound(pages[d][1], line) for line in lines for d in pages}
    t0 = await clock_us(customer)
    await asyncio.sleep(seconds * 2 / 3)
    # the buffer over the last third too: NetEq's target follows a 95 % quantile of arrival delays that forgets
    # slowly (about 30 s), so a buffer still shrinking there carries what the line went through before the window
    mid = {(line, d): await inbound(pages[d][1], line) for line in lines for d in pages}
    await asyncio.sleep(seconds / 3)
    t1 = await clock_us(customer)
    after = {(line, d): await inbound(pages[d][1], line) for line in lines for d in pages}
    receiver = {key: buffer_figures(before[key], after[key]) for key in after}
    spacing_us, codes = await customer.evaluate("[__m2e.spacingMs * 1000, __m2e.codes]")
    late_us = {key: search_from_us(r["jitter_buffer_ms"], spacing_us, codes) for key, r in receiver.items()}
    # the window's last clicks arrive (up to half a code cycle after the search starts: 1.6 s)
    await asyncio.sleep(2.0 + max(late_us.values(), default=0.0) / 1e6)
    out: dict[str, Any] = {}
    for line in lines:
        out[line] = {}
        for d, (a, b) in pages.items():
            out[line][d] = await direction_figures(a, b, line, t0, t1, late_us[line, d])
            out[line][d]["searched_from_ms"] = round(late_us[line, d] / 1000, 1)
            out[line][d]["receiver"] = receiver[line, d]
            out[line][d]["receiver_last_third"] = buffer_figures(mid[line, d], after[line, d])
    out["window_s"] = (t1 - t0) / 1e6
    return out


async def connect_direct(a: Page, b: Page) -> None:
    """The baseline: a direct RTCPeerConnection between the two pages (non-trickle offer / answer)."""
    offer = await a.evaluate("__m2e.directOffer()")
    answer = await b.evaluate("sdp => __m2e.directAnswer(sdp)", offer)
    await a.evaluate("sdp => __m2e.directAccept(sdp)", answer)
    deadline = time.monotonic() + 20
    while await a.evaluate("__m2e.directState()") != "connected":
        if time.monotonic() > deadline:
            raise RuntimeError("the direct peer connection between the pages did not connect")
        await asyncio.sleep(0.1)


async def desk_login(ctx: BrowserContext, base: str, agent_id: str, password: str) -> Page:
    page = await ctx.new_page()
    await page.goto(base + "/agent")
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", password)
    await page.click("#login-submit")
    status = page.locator("[data-testid=agent-status]")
    await expect(status).to_have_text(re.compile("away|available", re.I), timeout=15000)
    await page.click("[data-testid=status-available]")
    await expect(status).to_have_text(re.compile("available", re.I))
    return page


async def widget_call(ctx: BrowserContext, base: str) -> Page:
    """The customer opens the widget, calls, and presses 1 once the menu listens (until the call waits)."""
    page = await ctx.new_page()
    await page.goto(base + "/")
    await page.click("[data-testid=cg-launcher]")
    await expect(page.locator("[data-testid=cg-panel]")).to_be_visible()
    await page.click("[data-testid=cg-call]")
    bar = page.locator("[data-testid=cg-callbar]")
    await expect(bar).to_have_attribute("data-status", "ivr", timeout=20000)
    await page.click("[data-testid=cg-keypad-toggle]")
    for _ in range(30):  # keys during the greeting are ignored by design: press again until the call queues
        await page.click("[data-testid=cg-key-1]")
        try:
            await expect(bar).to_have_attribute("data-status", "waiting", timeout=1500)
            return page
        except AssertionError:
            continue
    raise RuntimeError("the call never reached the queue")


async def accept(desk: Page, customer: Page) -> None:
    await expect(desk.locator("[data-testid=cg-ring-banner]")).to_be_visible(timeout=30000)
    await desk.click("[data-testid=cg-accept]")
    await expect(desk.locator("[data-testid=cg-call-bar]")).to_have_attribute("data-status", "connected", timeout=20000)
    await expect(customer.locator("[data-testid=cg-callbar]")).to_have_attribute("data-status", "connected")


# ---- the benchmark


async def call_ended(customer: Page, desk: Page) -> str:
    """Why the measured call is no longer up on both pages ('' while it is)."""
    widget = await customer.locator("[data-testid=cg-callbar]").get_attribute("data-status")
    agent = await desk.locator("[data-testid=cg-call-bar]").get_attribute("data-status")
    return "" if widget == agent == "connected" else f"the measured call ended (widget {widget}, desk {agent})"


def percentiles(values: list[float]) -> dict[str, float]:
    return {f"p{p}": round(pct(values, p), 1) for p in (50, 95, 99)}


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """Per direction: direct and gateway percentiles, added = gateway - direct per percentile, click counts."""
    out: dict[str, Any] = {}
    for direction in DIRECTIONS:
        gw, direct = figures["gw"][direction], figures["direct"][direction]
        g, d = percentiles(gw["ms"]), percentiles(direct["ms"])
        out[direction] = {
            "gateway_ms": g,
            "direct_ms": d,
            "added_ms": {k: round(g[k] - d[k], 1) for k in g},
            "receiver": {"gateway": gw["receiver"], "direct": direct["receiver"]},
            "receiver_last_third": {"gateway": gw["receiver_last_third"], "direct": direct["receiver_last_third"]},
            # where the added time goes: the far side's jitter buffer (mean over the window, getStats), and the
            # rest (p50 - buffer: capture, encode, the network path and the gateway, decode, playout pull)
            "added_split_ms": {
                "jitter_buffer": round(gw["receiver"]["jitter_buffer_ms"] - direct["receiver"]["jitter_buffer_ms"], 1),
                "path_p50": round(
                    (g["p50"] - gw["receiver"]["jitter_buffer_ms"])
                    - (d["p50"] - direct["receiver"]["jitter_buffer_ms"]),
                    1,
                ),
            },
            "clicks": {
                line: {k: f[k] for k in ("sent", "lost", "doubled", "stray")} | {"timed": len(f["ms"])}
                for line, f in (("gateway", gw), ("direct", direct))
            },
        }
    return out


def start_gateway(
    port: int, redis_url: str, tmp: Path, flow: str, relay: bool, workers: int, nice: int = 0
) -> subprocess.Popen[bytes]:
    """The gateway under test; ``nice``: its scheduling niceness (negative: ahead of the browser and the generators
    on the machine's cores, as a deployment may give a media server; needs root)."""
    env = dict(os.environ)
    # every caller is on loopback; the browser's load must not turn the measured call away
    env.update({"CG_LIMIT_CALLS_PER_IP": "1000", "CG_ADMISSION_MAX_LAG_MS": "0", "CG_ADMISSION_MAX_LATE_PERCENT": "0"})
    env["CG_ADMISSION_MAX_LOOP_CPU_PERCENT"] = "0"
    with open(tmp / f"gateway-{flow}-{'relay' if relay else 'decode'}.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--redis-url", redis_url]
            + ["--flows-dir", str(FLOWS), "--voice-flow", flow, "--agents-file", str(tmp / "agents.toml")]
            + ["--data-dir", str(tmp / "data"), "--log-format", "text", "--max-calls", "500"]
            + ["--rtc-addresses", "127.0.0.1", "--bridge-relay", "true" if relay else "false"]
            + ["--workers", str(workers)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    if nice:  # the gateway starts its workers and threads later: they inherit it
        os.setpriority(os.PRIO_PROCESS, proc.pid, nice)
    return proc


class Generators:
    """Background bridged calls in their own processes; each prints a ready line, then its window's report.

    Their stdout is read all along (a reader task per process keeps the JSON lines): a pipe left full would stop
    a generator's event loop, and 30 s later the gateway would end its calls (ICE consent)."""

    def __init__(self, base: str, calls: int, per_process: int, callers: str) -> None:
        self.base, self.calls, self.per, self.callers = base, calls, max(1, per_process), callers
        self.procs: list[asyncio.subprocess.Process] = []
        self.lines: list[asyncio.Queue[dict[str, Any]]] = []
        self.readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for first in range(0, self.calls, self.per):
            count = min(self.per, self.calls - first)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.mouth_to_ear",
                "--generate",
                "--base",
                self.base,
                "--first",
                str(first),
                "--count",
                str(count),
                "--callers",
                self.callers,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            self.procs.append(proc)
            self.lines.append(asyncio.Queue())
            self.readers.append(asyncio.create_task(self._read(proc, self.lines[-1])))
        lines = await asyncio.wait_for(asyncio.gather(*(q.get() for q in self.lines)), timeout=240)
        bad = [line for line in lines if not line.get("ready")]
        if bad:
            raise RuntimeError(f"background calls did not all connect: {bad}")

    @staticmethod
    async def _read(proc: asyncio.subprocess.Process, lines: asyncio.Queue[dict[str, Any]]) -> None:
        assert proc.stdout is not None
        while raw := await proc.stdout.readline():
            if raw.startswith(b"{"):
                lines.put_nowait(dict(json.loads(raw)))
        lines.put_nowait({"errors": [f"generator exited with {await proc.wait()}"]})

    async def say(self, word: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(word.encode() + b"\n")
            await proc.stdin.drain()

    async def reports(self) -> list[dict[str, Any]]:
        await self.say("stop")
        return list(await asyncio.wait_for(asyncio.gather(*(q.get() for q in self.lines)), timeout=120))

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                if proc.stdin is not None:
                    proc.stdin.close()
                try:
                    await asyncio.wait_for(proc.wait(), timeout=30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def run_mode(browser: Browser, mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from tests.support.servers import RedisServer, free_port

    flow, relay = MODES[mode]
    redis = RedisServer()
    redis.start()
    port = free_port()
    proc = start_gateway(port, redis.url, tmp, flow, relay, args.workers, args.gateway_nice)
    base = f"http://127.0.0.1:{port}"
    generators = Generators(base, args.background_calls, args.calls_per_generator, args.callers)
    contexts: list[BrowserContext] = []
    out: dict[str, Any] = {
        "flow": flow,
        "bridge_relay": relay,
        "workers": args.workers,
        "background_calls": args.background_calls,
        "background_callers": args.callers,
        "gateway_nice": args.gateway_nice,
    }
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, base, seconds=30)
        await generators.start()
        desk_ctx = await probe_context(browser, viewport={"width": 1280, "height": 800})
        customer_ctx = await probe_context(browser)
        contexts += [desk_ctx, customer_ctx]
        desk = await desk_login(desk_ctx, base, DESK_AGENT, PASSWORD)
        customer = await widget_call(customer_ctx, base)
        await accept(desk, customer)
        await connect_direct(customer, desk)
        await asyncio.sleep(args.warmup)
        await generators.say("measure")
        capture = None
        if args.residence:
            gateway_ports = udp_ports(tree(proc.pid))
            generator_ports = udp_ports([pid for g in generators.procs for pid in tree(g.pid)])
            capture = LoopbackCapture(gateway_ports).start()
        cpu0, wall0, load0 = tree_cpu(proc.pid), time.monotonic(), os.getloadavg()[0]
        try:
            figures = await measure(customer, desk, args.seconds)
        finally:
            if capture is not None:
                capture.stop()
        if capture is not None:
            inside = residence(capture.packets, gateway_ports, generator_ports)
            out["gateway_residence"] = {
                "legs": inside["legs"],
                "directions": [
                    {"paired": d["paired"], "incoming": d["incoming"], **percentiles(d["ms"])}
                    for d in inside["directions"]
                ],
            }
        gw_cpu = (tree_cpu(proc.pid) - cpu0) / (time.monotonic() - wall0)
        reports = await generators.reports()
        invalid = [f"generator {i}: {why}" for i, r in enumerate(reports) for why in kept_up(r)]
        for line in ("gw", "direct"):
            for direction in DIRECTIONS:
                f = figures[line][direction]
                if f["sent"] == 0 or f["lost"] > MAX_LOST * f["sent"]:
                    invalid.append(f"{line} {direction}: {f['lost']} of {f['sent']} clicks lost (or too late)")
        ended = await call_ended(customer, desk)
        if ended:
            invalid.append(ended)
        out.update(
            {
                "valid": not invalid,
                "invalid_because": invalid,
                "window_s": round(figures["window_s"], 1),
                "gateway_cpu_percent": round(100 * gw_cpu, 1),
                "generators_cpu_percent": [
                    round(100 * r.get("cpu_s", 0) / max(r.get("window_s", 1), 1e-9)) for r in reports
                ],
                "load_average": [round(load0, 1), round(os.getloadavg()[0], 1)],  # 1-minute, before / after
                **summary(figures),
            }
        )
        hangup = customer.locator("[data-testid=cg-hangup]")
        if await hangup.is_visible():
            await hangup.click()
    finally:
        for ctx in contexts:
            await ctx.close()
        await generators.stop()
        proc.terminate()
        proc.wait(timeout=30)
        redis.stop()
    return out


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from gateway.contact.agents import Agent
    from gateway.contact.agents_file import render_agent
    from gateway.contact.passwords import hash_password
    from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path

    cheap = hash_password(PASSWORD, n=2**10)
    agents = [Agent(f"bg-a{i:03d}", f"Agent {i}", cheap, capacity=1) for i in range(args.background_calls)]
    (tmp / "agents.toml").write_text(
        "".join(render_agent(a) for a in [*agents, Agent(DESK_AGENT, "Desk", cheap, capacity=1)])
    )
    out: dict[str, Any] = {"cores": os.cpu_count(), "gateway_logs": str(tmp), "seconds": args.seconds, "modes": {}}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        try:
            out["chromium"] = browser.version
            for mode in args.modes:
                try:
                    out["modes"][mode] = await run_mode(browser, mode, args, tmp)
                except (PlaywrightError, RuntimeError, TimeoutError, AssertionError) as exc:  # reported, not hidden
                    out["modes"][mode] = {"valid": False, "error": f"{exc!r}"[:2000]}
                print(json.dumps({"mode": mode, **out["modes"][mode]}), flush=True)
        finally:
            await browser.close()
    return out


# ---- a background load generator process (--generate)


async def generate(args: argparse.Namespace) -> None:
    """``--count`` bridged calls: agents bg-a<first..> answer, callers dial and press 1; both talk all along.

    ``--callers light`` (the default): bench/light_peers.py's peers, which send Opus packets encoded once and count
    what they receive (about a third of the CPU of the aiortc peers of ``--callers aiortc``, which encode and
    decode every frame and record what they hear)."""
    from bench.bridge_calls import AGENT_AUDIO, CALLER_AUDIO, PATTERN, TimedMic, answer, late_frames
    from bench.ivr_calls import pin_loopback
    from bench.light_peers import LightCaller, LightSoftphone, PacketCounter, packets_of
    from media.aiortc_patches import speed_up_aiortc
    from tests.support.caller import Caller
    from tests.support.clients import Agent as AgentClient
    from tests.support.clients import Customer
    from tests.support.softphone import Softphone

    pin_loopback()
    speed_up_aiortc()
    light = args.callers == "light"
    loop = asyncio.get_running_loop()
    agents = [AgentClient(args.base, f"bg-a{i:03d}", PASSWORD) for i in range(args.first, args.first + args.count)]
    callers: list[Caller] = []
    phones: list[Softphone] = []
    errors: list[str] = []
    try:
        await asyncio.gather(*(a.hello() for a in agents))
        answering = [asyncio.create_task(answer(a, LightSoftphone if light else Softphone)) for a in agents]
        for _ in range(args.count):
            customer = Customer(args.base)
            await customer.hello()
            caller = LightCaller(customer) if light else Caller(customer, TimedMic())
            caller.call_id = f"{caller.call_id}-{os.getpid()}"  # unique across the generator processes
            try:
                await caller.dial()
                await caller.status("ivr")
                if isinstance(caller, LightCaller):
                    assert caller.counter is not None
                    await caller.counter.prompt_heard()
                else:
                    await caller.heard_prompt()
                await caller.press("1")
                await caller.status("connected", timeout=90)
                callers.append(caller)
            except (AssertionError, TimeoutError, RuntimeError) as exc:
                errors.append(f"caller: {exc!r}")
                await caller.close()
                await customer.close()
        for result in await asyncio.gather(*answering, return_exceptions=True):
            if isinstance(result, BaseException):
                errors.append(f"agent: {result!r}")
            else:
                phones.append(result[1])
        caller_packets = packets_of(CALLER_AUDIO) if light else None
        agent_packets = packets_of(AGENT_AUDIO) if light else None
        counters: list[PacketCounter] = [
            c for p in [*callers, *phones] if isinstance(p, (LightCaller, LightSoftphone)) and (c := p.counter)
        ]
        for caller in callers:
            caller.mic.loop(CALLER_AUDIO, PATTERN, caller_packets)
        for phone in phones:
            phone.mic.loop(AGENT_AUDIO, "agent", agent_packets)
        ready = len(callers) == len(phones) == args.count
        print(json.dumps({"ready": ready, "connected": len(callers), "errors": errors[:2]}), flush=True)
        word = ""
        while word not in ("measure", "stop"):
            word = (await loop.run_in_executor(None, sys.stdin.readline)).strip() or "stop"
        t0, cpu0 = time.monotonic(), time.process_time()
        counted0 = sum(c.packets for c in counters)
        while word != "stop":
            word = (await loop.run_in_executor(None, sys.stdin.readline)).strip() or "stop"
        t1, cpu = time.monotonic(), time.process_time() - cpu0
        if light:
            received = sum(c.packets for c in counters) - counted0
        else:
            recorders = [c.recorder for c in callers] + [p.recorder for p in phones]
            received = sum(late_frames(r, t0, t1)[1] for r in recorders)
        print(
            json.dumps(
                {
                    "window_s": t1 - t0,
                    "cpu_s": cpu,
                    "frames_expected": int(2 * args.count * (t1 - t0) * FRAMES_PER_SECOND),
                    "frames_received": received,
                    "errors": errors[:2],
                }
            ),
            flush=True,
        )
    finally:
        await asyncio.gather(*(c.hangup() for c in callers), return_exceptions=True)
        await asyncio.gather(*(p.close() for p in phones), *(c.close() for c in callers), return_exceptions=True)
        await asyncio.gather(
            *(c.customer.close() for c in callers), *(a.close() for a in agents), return_exceptions=True
        )


def print_table(out: dict[str, Any]) -> None:
    print(
        f"\nMouth-to-ear, one way, ms ({out['chromium']}, both pages in one browser; {out['cores']} cores, shared); "
        f"direct = the same two pages on a direct RTCPeerConnection in the same seconds"
    )
    print(
        f"{'mode':>6} {'direction':>18} {'direct p50/p95/p99':>20} {'gateway p50/p95/p99':>21} {'added p50/p95/p99':>19} {'clicks (lost/doubled/stray)':>28}"
    )
    for mode, m in out["modes"].items():
        if "error" in m:
            print(f"{mode:>6} FAILED: {m['error'][:300]}")
            continue
        for direction in DIRECTIONS:
            d = m[direction]
            row = [d["direct_ms"], d["gateway_ms"], d["added_ms"]]
            cells = ["/".join(f"{x[k]:g}" for k in ("p50", "p95", "p99")) for x in row]
            c = d["clicks"]["gateway"]
            print(
                f"{mode:>6} {direction:>18} {cells[0]:>20} {cells[1]:>21} {cells[2]:>19} "
                f"{c['timed']:>5} ({c['lost']}/{c['doubled']}/{c['stray']})"
                + (f"  direct lost {d['clicks']['direct']['lost']}" if d["clicks"]["direct"]["lost"] else "")
            )
        for direction in DIRECTIONS:
            r, split = m[direction]["receiver"], m[direction]["added_split_ms"]
            late = m[direction].get("receiver_last_third", r)
            print(
                f"{'':>6} {direction:>18} far side's jitter buffer direct {r['direct']['jitter_buffer_ms']} / gateway "
                f"{r['gateway']['jitter_buffer_ms']} ms (arrival jitter {r['direct']['arrival_jitter_ms']} / "
                f"{r['gateway']['arrival_jitter_ms']} ms, concealed {r['direct']['concealed_percent']} / "
                f"{r['gateway']['concealed_percent']} %): added = buffer {split['jitter_buffer']:+} + path "
                f"{split['path_p50']:+} ms (p50); last third of the window: buffer direct "
                f"{late['direct']['jitter_buffer_ms']} / gateway {late['gateway']['jitter_buffer_ms']} ms"
            )
        for d in m.get("gateway_residence", {}).get("directions", []):
            print(
                f"{'':>6} inside the gateway, per RTP packet (lo capture): p50/p95/p99 {d['p50']}/{d['p95']}/{d['p99']} "
                f"ms, {d['paired']} of {d['incoming']} incoming packets paired with their outgoing one"
            )
        print(
            f"{'':>6} gateway CPU {m['gateway_cpu_percent']}% of a core with {m['background_calls']} other bridged "
            f"calls; generators {m['generators_cpu_percent']}% of a core; 1-min load average before / after "
            f"{' / '.join(f'{x:.1f}' for x in m['load_average'])}"
            + (f"  INVALID: {'; '.join(m['invalid_because'])}" if m["invalid_because"] else "")
        )
    print("targets (issue 18): added p95 < 15 ms relaying, < 30 ms when a tap forces decoding")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="relay,tap,decode", help="comma-separated: relay, tap, decode")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured seconds per mode")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of talk before measuring")
    parser.add_argument("--background-calls", type=int, default=9, help="other bridged calls loading the gateway")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (1: every call on one loop)")
    parser.add_argument(
        "--residence",
        action="store_true",
        help="also time each relayed RTP packet inside the gateway (raw socket on lo: root only; bench/m2e_capture.py)",
    )
    parser.add_argument("--calls-per-generator", type=int, default=3, help="background calls per generator process")
    parser.add_argument(
        "--gateway-nice",
        type=int,
        default=0,
        help="the gateway's niceness, e.g. -5: scheduled ahead of the browser and the generators (root only)",
    )
    parser.add_argument(
        "--callers",
        choices=("light", "aiortc"),
        default="light",
        help="background peers: light (bench/light_peers.py: packets encoded once, counted) or aiortc (tests' peers)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "mouth_to_ear.json", help="write the result here")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    add_keep_logs(parser)
    args = parser.parse_args()
    if args.generate:
        node_loop.run(generate(args))
        return
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {unknown}; choose from {sorted(MODES)}")
    with run_folder("m2e", args.keep_logs) as tmp:
        out = asyncio.run(run(args, tmp))
    print_table(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
