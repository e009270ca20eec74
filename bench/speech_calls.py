"""Callers answering the IVR by voice: end of speech -> next prompt, recognition, CPU and memory per call.

Starts a Redis and one gateway node (child process) with the flow in
bench/flows_speech: "Say billing, support or sales.", each answer confirmed
("You said billing.") and the menu asked again, so every caller answers in a
loop. Recognition is the default engine: pocketsphinx en-us from its wheel
(VOSK_MODEL unset). A warm-up call answers each word once (prompts
synthesised and cached, codecs and recognizers created), then for each step
of concurrent calls (e.g. 5, 10, 20) that many aiortc callers dial over
loopback. Each waits until the menu has ended (0.6 s of silence), thinks
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
- gateway CPU per call (ms CPU per call-second, decoding threads included),
  calls per core, late outgoing frames % (/api/stats); the callers' CPU, their
  own late microphone frames, and the CPU of everything else (Redis, other
  processes: a busy machine skews the run)
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

The callers run in this process on the same 2 cores as the gateway (whose
decoding pool has one thread per core), so the latency includes the load
generator's own scheduling; the report shows both processes' CPU. Both media
directions also include aiortc's audio jitter buffer (it holds 4 packets: 80 ms
each way on loopback), the gateway's receiving leg and the caller's.

    ./bin/bench speech --steps 2,5,10 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import numpy.typing as npt
import redis.asyncio as aioredis

from bench.chat_load import cpu_seconds, pct, wait_ready
from bench.ivr_calls import codec_floor, pin_loopback
from media.asr.vad import Endpointer, FrameClassifier, SpeechEnded, VadSettings
from media.audio import Audio, resample, rms_dbfs
from media.player import PromptPlayer
from media.tts import Synthesizer
from tests.support.caller import Caller
from tests.support.clients import Customer
from tests.support.servers import RedisServer, free_port

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows_speech"
RESULTS = HERE / "results"
TTS_CACHE = RESULTS / "tts-cache"  # shared with bench/asr_accuracy.py: the same audio on every run
WORDS = ("billing", "support", "sales")
VOICES = ("en-us", "en-gb", "en-us+m3", "en-us+f3")
RATE_WPM = 160
SR, BLOCK = 48000, 960
LOUD_DBFS = -45.0  # a received 20 ms frame louder than this is prompt audio
NON_SILENT = 64  # |sample| above this is speech (about -54 dBFS)
QUIET_S = 0.6  # silence after sound that means "the menu is over: answer now"
#: A step is INVALID when the callers (in the bench's own process) used more of a core than this.
MAX_CALLERS_CPU_PERCENT = 85
REPLY_TIMEOUT_S = 8.0
TRAILING_MS = VadSettings().trailing_silence_ms
SPOKEN = re.compile(r"speech '([^']*)'")


@dataclass(frozen=True)
class Utterance:
    word: str
    voice: str
    audio: Audio  # ends at its last non-silent sample
    tail_s: float  # where that sample sits inside the last 20 ms block sent
    vad_end_ms: float  # webrtcvad on this clean audio decides "ended" this long after that sample


def utterance(word: str, voice: str, audio: Audio) -> Utterance:
    loud = np.nonzero(np.abs(audio.samples.astype(np.int32)) > NON_SILENT)[0]
    end = int(loud[-1]) + 1
    speech = audio.samples[:end]
    return Utterance(word, voice, Audio(speech, SR), ((end - 1) % BLOCK) / SR, offline_vad_end_ms(speech))


def offline_vad_end_ms(speech: npt.NDArray[np.int16]) -> float:
    """Where the gateway's VAD (default settings) ends this utterance, from its last non-silent sample:
    the configured trailing silence plus webrtcvad's own hangover (estimate: no codec, fresh VAD)."""
    settings, lead = VadSettings(), SR // 2
    pcm = resample(
        Audio(np.concatenate([np.zeros(lead, np.int16), speech, np.zeros(2 * SR, np.int16)]), SR), 16000
    ).samples
    vad, endpointer, n = FrameClassifier(settings), Endpointer(settings), settings.frame_samples
    endpointer.start(0, None)
    for i in range(0, len(pcm) - n + 1, n):
        for event in endpointer.frame(vad.is_speech(pcm[i : i + n].tobytes()), i * 1000 // 16000):
            if isinstance(event, SpeechEnded):
                return event.at_ms - (lead + len(speech)) * 1000 / SR
    return math.nan


class Mic(PromptPlayer):
    """The caller's microphone: notes when the last block of the watched utterance went to the sender."""

    def __init__(self) -> None:
        super().__init__()
        self.watch: asyncio.Future[Any] | None = None
        self.last_block_at = 0.0

    async def recv(self) -> Any:
        frame = await super().recv()
        if self.watch is not None and self.watch.done():  # resolved by the block just returned
            self.last_block_at = time.monotonic()
            self.watch = None
        return frame


class Ears:
    """Fed every frame the caller receives: when sound was last heard, and the first sound after a mark."""

    def __init__(self) -> None:
        self.last_loud = 0.0
        self.mark = math.inf
        self.reply_at: float | None = None
        self.reply = asyncio.Event()

    def feed(self, samples: npt.NDArray[np.int16]) -> None:
        if len(samples) and rms_dbfs(samples) > LOUD_DBFS:
            now = time.monotonic()
            self.last_loud = now
            if self.reply_at is None and now > self.mark:
                self.reply_at = now
                self.reply.set()

    def expect_reply(self, after: float) -> None:
        self.mark, self.reply_at = after, None
        self.reply.clear()

    async def prompt_over(self, since: float) -> None:
        """Sound heard after ``since``, then QUIET_S of silence."""
        while not (self.last_loud > since and time.monotonic() - self.last_loud >= QUIET_S):
            await asyncio.sleep(0.05)


async def keep_reading(customer: Customer, done: asyncio.Event) -> None:
    """Read (and drop) the caller's frames until ``done``: reading is what answers the gateway's pings."""
    while not done.is_set() and customer.ws is not None and not customer.ws.closed:
        await customer.quiet(0.5)


async def one_caller(
    base: str,
    idx: int,
    utterances: dict[tuple[str, str], Utterance],
    stop: asyncio.Event,
    result: dict[str, Any],
    limit: int | None = None,
) -> None:
    """Dial, then answer the menu until ``stop`` (or ``limit`` answers); answers go to ``result``."""
    rng = random.Random(idx)
    customer = Customer(base)
    await customer.hello()
    caller = Caller(customer)
    mic = caller.mic = Mic()  # before dial(): the offer sends this track
    ears = Ears()
    answers: list[dict[str, Any]] = result.setdefault("answers", [])
    done = asyncio.Event()
    reading: asyncio.Task[None] | None = None
    try:
        await caller.dial()
        assert caller.recorder is not None
        caller.recorder.on_samples = ears.feed
        result["conversation_id"] = caller.conversation_id
        # read the socket all along, as a browser does: the gateway's heartbeat (a ping every 25 s) closes a socket
        # that never answers, and a caller that only sent closed it within the step ("Cannot write to closing
        # transport" at its hang-up)
        reading = asyncio.create_task(keep_reading(customer, done))
        since, n = 0.0, idx
        while not stop.is_set() and (limit is None or len(answers) < limit):
            await asyncio.wait_for(ears.prompt_over(since), 30)  # the menu (or a re-prompt) ended
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            if stop.is_set():
                break
            u = utterances[WORDS[n % len(WORDS)], VOICES[(n // len(WORDS) + idx) % len(VOICES)]]
            n += 1
            ears.expect_reply(time.monotonic())
            mic.watch = mic.play(u.audio, f"answer-{n}")
            await mic.watch
            end = mic.last_block_at + u.tail_s
            wall_end = time.time() - (time.monotonic() - end)
            try:
                await asyncio.wait_for(ears.reply.wait(), REPLY_TIMEOUT_S)
            except TimeoutError:
                pass
            reply = ears.reply_at
            answers.append(
                {
                    "word": u.word,
                    "voice": u.voice,
                    "end": end,
                    "wall_end": wall_end,
                    "vad_end_ms": u.vad_end_ms,
                    "reply_ms": None if reply is None else (reply - end) * 1000,
                }
            )
            since = end
        result["mic_frames"] = (mic.stats.frames_sent, mic.stats.late_frames)
        done.set()
        await reading
        await caller.hangup()
    except Exception as exc:  # noqa: BLE001 - a failed caller is reported, not fatal to the run
        result["error"] = repr(exc)
    finally:
        done.set()
        if reading is not None:
            await reading
        await caller.close()
        await customer.close()


async def judge(redis: aioredis.Redis, result: dict[str, Any]) -> None:
    """Pair each answer with the menu's next 'input' step on the timeline: what the gateway understood."""
    cid = result.get("conversation_id")
    if not cid:
        return
    inputs = []
    rows: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(f"cg:conv:{cid}:tl")  # type: ignore[assignment]
    for eid, fields in rows:
        data = json.loads(fields[b"data"])
        if fields[b"type"] == b"ivr" and data.get("kind") == "input" and data.get("node") == "menu":
            inputs.append((int(eid.split(b"-")[0]), str(data.get("detail", ""))))
    answers = result["answers"]
    for i, a in enumerate(answers):
        until = answers[i + 1]["wall_end"] * 1000 if i + 1 < len(answers) else math.inf
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


def children_rss_mb(pid: int) -> float:
    """RSS of the node's child processes (pocketsphinx's decoding processes, --asr-processes)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += rss_mb(int(child))
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


def turn_traces(log: Path) -> dict[str, list[dict[str, Any]]]:
    """The gateway's ``speech turn {json}`` lines (gateway/flows/call_speech.py), per conversation, in order."""
    out: dict[str, list[dict[str, Any]]] = {}
    decoder = json.JSONDecoder()
    for line in log.read_text(errors="replace").splitlines():
        if "speech turn {" not in line:
            continue
        trace, _ = decoder.raw_decode(line.split("speech turn ", 1)[1])
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


async def api_stats(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
    async with http.get(base + "/api/stats") as r:
        return dict((await r.json())["calls"])


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
        "misheard": [
            f"{what} x{n}"
            for what, n in Counter(
                f"{a['voice']} '{a['word']}': {a.get('detail', 'no input step')}"
                for a in answers
                if a.get("outcome") != "correct"
            ).most_common(10)
        ],
    }


async def step(
    base: str,
    pid: int,
    calls: int,
    seconds: float,
    utterances: dict[tuple[str, str], Utterance],
    redis: aioredis.Redis,
    http: aiohttp.ClientSession,
    log: Path,
) -> dict[str, Any]:
    stop = asyncio.Event()
    results: list[dict[str, Any]] = [{} for _ in range(calls)]
    tasks = []
    for i in range(calls):
        tasks.append(asyncio.create_task(one_caller(base, i, utterances, stop, results[i])))
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)  # every caller connected, the first ones already answering
    gw0, own0, all0, t0 = cpu_seconds(pid), time.process_time(), machine_busy_seconds(), time.monotonic()
    mid = await api_stats(http, base)
    rss_peak = 0.0
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(min(1.0, seconds - (time.monotonic() - t0)))
        rss_peak = max(rss_peak, rss_mb(pid))
    t1 = time.monotonic()
    gw_cpu, own_cpu, elapsed = cpu_seconds(pid) - gw0, time.process_time() - own0, t1 - t0
    others = machine_busy_seconds() - all0 - gw_cpu - own_cpu  # Redis, and anything else on the machine
    after = await api_stats(http, base)
    stop.set()
    await asyncio.gather(*tasks)
    await asyncio.gather(*(judge(redis, r) for r in results))
    traces = turn_traces(log)
    for r in results:
        attach_traces(r, traces)
    answers = [a for r in results for a in r.get("answers", []) if t0 <= a["end"] < t1]
    active = after["active_calls"]
    sent, late = after["frames_sent"] - mid["frames_sent"], after["late_frames"] - mid["late_frames"]
    mic_sent = sum(r.get("mic_frames", (0, 0))[0] for r in results)
    mic_late = sum(r.get("mic_frames", (0, 0))[1] for r in results)
    gw_ms = 1000 * gw_cpu / elapsed / max(active, 1)
    errors = [r["error"] for r in results if "error" in r]
    callers_cpu = 100 * own_cpu / elapsed
    # the callers run in this process: a step they could not keep up with measures them, not the gateway
    invalid = [
        *([f"{calls - active} of {calls} calls not up"] if active < calls else []),
        *([f"{len(errors)} callers failed"] if errors else []),
        *([f"the callers used {callers_cpu:.0f} % of a core"] if callers_cpu > MAX_CALLERS_CPU_PERCENT else []),
        *([f"{100 * mic_late / mic_sent:.1f} % of the callers' frames late"] if mic_late > 0.01 * mic_sent else []),
    ]
    return {
        "invalid": invalid,
        "calls": calls,
        "active_during_measure": active,
        "seconds": round(elapsed, 1),
        **summary(answers),
        "stages": stage_summary(answers),
        "gateway_cpu_ms_per_call_second": round(gw_ms, 1),
        "calls_per_core": round(1000 / max(gw_ms, 1e-9), 1),
        "gateway_cpu_percent": round(100 * gw_cpu / elapsed, 1),
        "callers_cpu_percent": round(callers_cpu, 1),
        "other_cpu_percent": round(100 * others / elapsed, 1),
        "late_frames_percent": round(100 * late / max(sent, 1), 3),
        "frames_sent": sent,
        "callers_mic_late_frames_percent": round(100 * mic_late / max(mic_sent, 1), 3),
        "rss_mb_peak": round(rss_peak, 1),
        "errors": errors[:3],
    }


async def prepare_speech() -> dict[tuple[str, str], Utterance]:
    synth = Synthesizer(cache_dir=TTS_CACHE)
    return {
        (w, v): utterance(w, v, await synth.synthesize(w, voice=v, rate_wpm=RATE_WPM)) for w in WORDS for v in VOICES
    }


def engine_line(log: Path) -> str:
    """What the gateway said it listens with ("... speech: pocketsphinx en ...")."""
    for line in log.read_text(errors="replace").splitlines():
        if "call in flow" in line and "speech:" in line:
            return line.split("speech:", 1)[1].strip()
    return "unknown"


def start_gateway(port: int, redis_url: str, tmp: Path, workers: int = 1) -> subprocess.Popen[bytes]:
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
                str(FLOWS),
                "--data-dir",
                str(tmp / "data"),
                "--log-format",
                "text",
                "--max-calls",
                "500",
                "--rtc-addresses",
                "127.0.0.1",
                "--workers",
                str(workers),
                "--admission-max-lag-ms",  # a loaded machine's event-loop lag must not turn the bench's calls away
                "0",
                *("--limit-calls-per-ip", "100000"),  # every caller comes from 127.0.0.1 (the default 5 refused the
                # sixth caller on: steps above 5 calls measured 5)
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pin_loopback()
    utterances = await prepare_speech()
    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-speech-"))
    redis_server = RedisServer()
    redis_server.start()
    port = free_port()
    proc = start_gateway(port, redis_server.url, tmp, args.workers)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "note": "callers run on the same cores as the gateway",
        },
        "settings": {
            "words": WORDS,
            "voices": VOICES,
            "rate_wpm": RATE_WPM,
            "vad_trailing_silence_ms": TRAILING_MS,
            "seconds": args.seconds,
            "workers": args.workers,
            "load_average_at_start": os.getloadavg(),
            "target": "reply_ms_p95 < 600 (whole: end of speech -> next prompt heard)",
        },
        "steps": [],
    }
    redis = aioredis.Redis.from_url(redis_server.url)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, base, seconds=60)
            await asyncio.sleep(1)
            out["rss_mb_start"] = round(rss_mb(proc.pid), 1)
            warm: dict[str, Any] = {}
            await one_caller(base, 0, utterances, asyncio.Event(), warm, limit=len(WORDS))
            await judge(redis, warm)
            out["warmup"] = summary(warm.get("answers", [])) | {"error": warm.get("error")}
            await asyncio.sleep(2)
            out["rss_mb_idle_after_warmup"] = rss_idle = round(rss_mb(proc.pid), 1)
            out["decoder_processes_rss_mb"] = round(children_rss_mb(proc.pid), 1)
            out["engine"] = engine_line(tmp / "gateway.log")
            out["codec_floor_ms_per_call_second"] = round(await codec_floor(), 2)
            for calls in args.steps:
                result = await step(base, proc.pid, calls, args.seconds, utterances, redis, http, tmp / "gateway.log")
                result["load_average_after"] = os.getloadavg()
                result["rss_mb_per_call"] = round((result["rss_mb_peak"] - rss_idle) / calls, 2)
                result["ratio_to_codec_floor"] = round(
                    result["gateway_cpu_ms_per_call_second"] / out["codec_floor_ms_per_call_second"], 1
                )
                out["steps"].append(result)
                print(json.dumps({k: v for k, v in result.items() if k != "misheard"}), flush=True)
                await asyncio.sleep(2)
            out["rss_mb_idle_at_end"] = round(rss_mb(proc.pid), 1)
    finally:
        await redis.aclose()
        proc.terminate()
        proc.wait(timeout=30)
        redis_server.stop()
    return out


def report(out: dict[str, Any]) -> None:
    print(
        f"\nCallers answering by voice ({out['engine']}); {out['machine']['cpu_count']} cores shared by the "
        f"gateway AND the callers; codec floor {out['codec_floor_ms_per_call_second']} ms CPU per call-second"
    )
    print(
        f"reply: the whole turn-taking time, caller's end of speech -> first sound of the next prompt heard (ms; "
        f"target p95 < 600); -VAD: minus the configured {TRAILING_MS} ms trailing silence (what the bench used to "
        f"report); dec: minus where the VAD ends the clean utterance offline without an early end (est.); "
        f"input: end of speech -> 'input' step stored"
    )
    print(
        f"{'calls':>5} {'ans':>4} {'ok%':>5} {'nom%':>5} {'mis%':>5} {'reply p50':>9} {'p95':>6} "
        f"{'-VAD p50':>8} {'p95':>6} {'dec p95':>7} {'input p50':>9} {'p95':>6} {'gw ms/call-s':>12} "
        f"{'calls/core':>10} {'gw CPU%':>7} {'callers%':>8} {'other%':>6} {'late%':>6} {'RSS MB':>7} {'MB/call':>7}"
    )
    for s in out["steps"]:
        print(
            f"{s['calls']:>5} {s['answers']:>4} {s['correct_pct']:>5} {s['no_match_pct']:>5} {s['misroute_pct']:>5} "
            f"{s['reply_ms_p50']:>9} {s['reply_ms_p95']:>6} {s['after_vad_ms_p50']:>8} {s['after_vad_ms_p95']:>6} "
            f"{s['after_vad_decision_est_ms_p95']:>7} {s['input_step_ms_p50']:>9} {s['input_step_ms_p95']:>6} "
            f"{s['gateway_cpu_ms_per_call_second']:>12} {s['calls_per_core']:>10} {s['gateway_cpu_percent']:>7} "
            f"{s['callers_cpu_percent']:>8} {s['other_cpu_percent']:>6} {s['late_frames_percent']:>6} {s['rss_mb_peak']:>7} "
            f"{s['rss_mb_per_call']:>7}"
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
    for s in out["steps"]:
        if s["misheard"]:
            print(f"  {s['calls']} calls, not correct: " + "; ".join(s["misheard"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="5,10,20", help="comma-separated concurrent call counts")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per step")
    parser.add_argument("--workers", type=int, default=1, help="gateway node processes (default 1: one event loop)")
    parser.add_argument("--json", type=Path, default=RESULTS / "speech_calls.json", help="write the result here")
    args = parser.parse_args()
    args.steps = [int(s) for s in args.steps.split(",") if s.strip()]
    out = asyncio.run(run(args))
    report(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
