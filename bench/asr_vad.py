"""``./bin/bench asr --vad webrtc,silero``: the speech detectors side by side on the same audio, one table.

Every detector of ``--vad`` (``webrtc``: webrtcvad gated by the noise floor, media/asr/vad.py; ``silero``:
Silero's neural VAD, media/asr/silero_vad.py) hears exactly the same windows in the same run. The speech
comes from both sets: the espeak-ng voices of bench/asr_accuracy.py (menu words, 4-digit strings and the
out-of-grammar phrases; en-us, en-gb, en-us+f3, en-us+m3 at 160 wpm) and the real human voice of
bench/human_set.py (menu words, near out-of-grammar words, 4- and 7-digit strings with and without "oh").

Conditions cover the *whole* window (500 ms lead, the utterance, the tail), so the tail is the line's
noise, not digital silence: ``clean``, ``phone`` (telephone band), ``snr20`` / ``snr10`` (steady white
noise that many dB under the utterance's active level) and ``babble10`` (six overlapping streams of the
human voice's other recordings, 10 dB under: the hardest steady noise, it *is* speech).

Two parts, per (set, condition, detector):

- **Endpointing**, the detector and the :class:`~media.asr.vad.Endpointer` alone (default settings:
  700 ms trailing silence, 10 s maximum) on 16 kHz audio with a tail of noise longer than the maximum:
  ``missed`` (speech never started), ``cut`` (ended before the utterance's last sound: words lost),
  ``never`` (ran to the 10 s maximum: the caller waits, then hears a no-match), ``ended`` (share of
  windows ended by silence within the maximum and not cut), the end delay p50/p95 (end of the
  utterance's sound -> end decided) and false starts on noise alone (6 s windows of the condition's
  noise at the set's median speech level minus the SNR).
- **Recognition** through a fresh :class:`~media.asr.listener.SpeechListener` per window (pocketsphinx,
  the default decision, 2 s tail): menu words correct / misroute, out-of-grammar misroute (espeak
  phrases, human near words), digit strings correct / misroute, and the turn time p50/p95 (end of the
  utterance's sound -> outcome: the trailing silence the detector needed plus the decode; windows that ran
  to the maximum are left out of it, they are the ``never`` column).

CPU: process time inside the detector per second of audio it classified (one call's listening costs
that per second while its window is open), measured on the endpointing part.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import platform
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.asr_accuracy import RATE, RESULTS, Samples, active_dbfs, english_trials, pct, telephone, to_int16
from bench.human_set import PHRASES, SINGLE, SOURCE, ensure_installed, human_items, recording
from media.asr.grammar import Grammar
from media.asr.harness import listen
from media.asr.listener import Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.silero_vad import VadKind, classifier_for
from media.asr.sphinx_engine import SphinxEngine
from media.asr.vad import (
    Endpointer,
    EndReason,
    NoInputTimeout,
    SpeechEnded,
    SpeechPaused,
    SpeechStarted,
    VadEvent,
    VadSettings,
)
from media.audio import Audio, resample

CONDITIONS = ("clean", "phone", "snr20", "snr10", "babble10")
LEAD_MS, TAIL_MS = 500, 2000
NOISE_ONLY_MS, NOISE_ONLY_WINDOWS = 6000, 16
ESPEAK_VOICES, ESPEAK_RATES = ["en-us", "en-gb", "en-us+f3", "en-us+m3"], [160]
KINDS = tuple(k.value for k in VadKind)


@dataclass(frozen=True)
class Item:
    set: str  # espeak or human
    kind: str  # menu, oog, digits
    label: str
    audio: Samples  # the utterance at 48 kHz, unpadded
    grammar: Grammar
    expect: str | None  # None: must not route


@dataclass
class Cell:
    """One (set, condition, detector) row."""

    n: int = 0
    missed: int = 0
    cut: int = 0
    never: int = 0
    ended: int = 0
    delay_ms: list[float] = field(default_factory=list)
    noise_windows: int = 0
    false_starts: int = 0
    cpu_s: float = 0.0
    audio_s: float = 0.0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> correct / no_match / misroute
    turn_ms: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def sound_span(x: Samples) -> tuple[int, int]:
    """(first, last) ms of the utterance's sound: the 10 ms blocks over -45 dBFS and within 40 dB of the peak."""
    n = RATE // 100
    blocks = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    level = 10 * np.log10(np.mean(blocks * blocks, axis=1) / 32768.0**2 + 1e-12)
    loud = np.flatnonzero(level > max(level.max() - 40, -45))
    return (int(loud[0]) * 10, int(loud[-1] + 1) * 10) if len(loud) else (0, len(x) * 1000 // RATE)


def babble(seconds: int, seed: int = 7, talkers: int = 6) -> np.ndarray:
    """Speech-like steady noise at unit RMS: ``talkers`` streams of the human voice's other recordings."""
    rng = np.random.default_rng(seed)
    names = [*PHRASES, *SINGLE]
    total = RATE * seconds
    mix = np.zeros(total)
    for _ in range(talkers):
        stream: list[np.ndarray] = []
        length = int(rng.integers(0, RATE // 2))
        stream.append(np.zeros(length))
        while length < total:
            word = recording(names[int(rng.integers(len(names)))]).astype(np.float64)
            word /= np.sqrt(np.mean(word * word)) + 1e-9
            gap = np.zeros(int(rng.integers(RATE // 50, RATE // 5)))
            stream += [word, gap]
            length += len(word) + len(gap)
        mix += np.concatenate(stream)[:total]
    return mix / np.sqrt(np.mean(mix * mix))


class Noises:
    """The conditions' noise for a window of a given length and level (seeded by the window's key)."""

    def __init__(self) -> None:
        self._babble = babble(40)

    def noise(self, condition: str, samples: int, dbfs: float, key: str) -> np.ndarray:
        rng = np.random.default_rng(zlib.crc32(f"{condition}|{key}".encode()))
        scale = 32768 * 10 ** (dbfs / 20)
        if condition == "babble10":
            start = int(rng.integers(0, len(self._babble) - 1))
            return np.resize(np.roll(self._babble, -start), samples) * scale
        return rng.normal(0.0, scale, samples)

    def window(self, audio: Samples, condition: str, key: str, tail_ms: int) -> Samples:
        """Lead, utterance and tail at 48 kHz, with the condition applied to all of it."""
        x = np.concatenate(
            [np.zeros(RATE * LEAD_MS // 1000, np.int16), audio, np.zeros(RATE * tail_ms // 1000, np.int16)]
        )
        if condition == "phone":
            return telephone(x)
        if condition == "clean":
            return x
        snr = int(condition.removeprefix("babble").removeprefix("snr"))
        return to_int16(x + self.noise(condition, len(x), active_dbfs(audio) - snr, key))

    def alone(self, condition: str, reference_dbfs: float, seed: int) -> Samples | None:
        """A noise-only window (None for clean and phone: nothing there to start on)."""
        if condition in ("clean", "phone"):
            return None
        snr = int(condition.removeprefix("babble").removeprefix("snr"))
        n = RATE * NOISE_ONLY_MS // 1000
        return to_int16(self.noise(condition, n, reference_dbfs - snr, f"alone-{seed}"))


def endpoint(kind: VadKind, audio16: Samples, settings: VadSettings) -> tuple[list[VadEvent], float, float]:
    """The detector and the Endpointer over a 16 kHz window (stops at the first end).

    Returns the events, the CPU seconds inside the detector and the seconds of audio it classified.
    """
    classifier = classifier_for(kind, settings)
    endpointer = Endpointer(settings)
    endpointer.start(0)
    events: list[VadEvent] = []
    n, cpu, frames = settings.frame_samples, 0.0, 0
    try:
        for i in range(0, len(audio16) - n + 1, n):
            frames += 1
            t0 = time.process_time()
            speech = classifier.is_speech(audio16[i : i + n].tobytes())
            cpu += time.process_time() - t0
            events += [e for e in endpointer.frame(speech, i * 1000 // 16000) if not isinstance(e, SpeechPaused)]
            if any(isinstance(e, (SpeechEnded, NoInputTimeout)) for e in events):
                break
        events += endpointer.advance(len(audio16) * 1000 // 16000 + 3_600_000)
    finally:
        classifier.close()
    return events, cpu, frames * settings.frame_ms / 1000


def score_endpoint(cell: Cell, events: list[VadEvent], span: tuple[int, int], cpu: float, fed_s: float) -> None:
    cell.n += 1
    cell.cpu_s += cpu
    cell.audio_s += fed_s
    end = LEAD_MS + span[1]
    if not any(isinstance(e, SpeechStarted) for e in events):
        cell.missed += 1
        return
    ended = next((e for e in events if isinstance(e, SpeechEnded)), None)
    if ended is None or ended.reason is EndReason.MAX_DURATION:
        cell.never += 1
    elif ended.at_ms < end:
        cell.cut += 1
    else:
        cell.ended += 1
        cell.delay_ms.append(ended.at_ms - end)


def count(cell: Cell, item: Item, outcome: Any, turn_ms: float | None) -> None:
    counts = cell.counts.setdefault(item.kind, {"n": 0, "correct": 0, "no_match": 0, "misroute": 0})
    counts["n"] += 1
    if turn_ms is not None:
        cell.turn_ms.append(turn_ms)
    if not isinstance(outcome, Recognized):
        counts["correct" if item.expect is None else "no_match"] += 1
        return
    got = outcome.result.digits if item.grammar.digits else outcome.result.text
    if item.expect is not None and got == item.expect:
        counts["correct"] += 1
        return
    counts["misroute"] += 1
    if len(cell.examples) < 6:
        cell.examples.append(f"{item.set} {item.label!r} -> {got!r} ({outcome.result.confidence:.2f})")


async def espeak_items(quick: bool) -> list[Item]:
    voices = ESPEAK_VOICES[:2] if quick else ESPEAK_VOICES
    kinds = {"menu": "menu", "menu-reject": "oog", "digits4": "digits"}
    return [
        Item("espeak", kinds[t.task], t.label, t.audio, t.grammar, t.expect)
        for t in await english_trials(voices, ESPEAK_RATES, quick)
        if t.task in kinds and t.speech and len(t.audio)
    ]


def human_set(quick: bool) -> list[Item]:
    ensure_installed()
    out: list[Item] = []
    for i in human_items():
        if i.menu == "yesno":  # the read-back question's grammar: bench asr --set human --tasks yesno,...
            continue
        if i.task.startswith("digits"):
            if i.task.endswith("phrases"):
                continue
            n = 4 if i.menu == "digits4" else 7
            grammar, kind = Grammar.of([], digits=True, min_digits=n, max_digits=n), "digits"
        elif i.task.endswith("oog-near"):
            grammar, kind = Grammar.of(menu_words(i.menu)), "oog"
        elif "-" not in i.task:
            grammar, kind = Grammar.of(menu_words(i.menu)), "menu"
        else:
            continue
        out.append(Item("human", kind, f"{i.task} {i.label}", i.audio, grammar, i.expect))
    return out[::3] if quick else out


def menu_words(menu: str) -> tuple[str, ...]:
    from bench.human_set import MENUS

    return MENUS[menu][0]


async def run_vad(kinds: list[VadKind], conditions: list[str], sets: list[str], quick: bool) -> dict[str, Any]:
    started = time.perf_counter()
    items: list[Item] = []
    if "espeak" in sets:
        items += await espeak_items(quick)
    if "human" in sets:
        items += await asyncio.to_thread(human_set, quick)
    noises = await asyncio.to_thread(Noises)
    settings = VadSettings()
    engine = await asyncio.to_thread(SphinxEngine, pool_size=os.cpu_count() or 1)
    pool = RecognitionPool()
    cells: dict[tuple[str, str, str], Cell] = {}
    reference = {s: float(np.median([active_dbfs(i.audio) for i in items if i.set == s] or [-20.0])) for s in sets}
    print(f"{len(items)} utterances x {len(conditions)} conditions x {len(kinds)} detectors", flush=True)
    try:
        for condition in conditions:
            t0 = time.perf_counter()
            for item in items:
                span = sound_span(item.audio)
                long_tail = settings.max_speech_ms + 1000
                window = noises.window(item.audio, condition, item.label, long_tail)
                audio16 = resample(Audio(window, RATE), 16000)
                heard = noises.window(item.audio, condition, item.label, TAIL_MS)
                for kind in kinds:
                    cell = cells.setdefault((item.set, condition, kind.value), Cell())
                    events, cpu, fed = endpoint(kind, audio16.samples, settings)
                    score_endpoint(cell, events, span, cpu, fed)
                    listener = SpeechListener(engine, pool, detector=kind, label=f"bench-vad-{kind}")
                    try:
                        trace = await listen(listener, item.grammar, heard, lead_ms=0, tail_ms=0)
                    finally:
                        await listener.close()
                    turn = None
                    ended = trace.speech_ended
                    if ended is not None and ended.reason is not EndReason.MAX_DURATION and trace.decision_seconds:
                        turn = ended.at_ms - (LEAD_MS + span[1]) + trace.decision_seconds * 1000
                    count(cell, item, trace.outcome, turn)
            for s in sets:
                for seed in range(NOISE_ONLY_WINDOWS // (2 if quick else 1)):
                    alone = noises.alone(condition, reference[s], seed + (1000 if s == "human" else 0))
                    if alone is None:
                        break
                    alone16 = resample(Audio(alone, RATE), 16000).samples
                    for kind in kinds:
                        cell = cells.setdefault((s, condition, kind.value), Cell())
                        events, _, _ = endpoint(kind, alone16, settings)
                        cell.noise_windows += 1
                        cell.false_starts += any(isinstance(e, SpeechStarted) for e in events)
            print(f"  {condition}: {len(items)} utterances in {time.perf_counter() - t0:.1f} s", flush=True)
    finally:
        pool.shutdown()
    rows = [row_json(s, c, k, cell) for (s, c, k), cell in cells.items()]
    cpu_ms = {
        k: round(
            1000
            * sum(cell.cpu_s for (_, _, kk), cell in cells.items() if kk == k)
            / max(1e-9, sum(cell.audio_s for (_, _, kk), cell in cells.items() if kk == k)),
            3,
        )
        for k in (kind.value for kind in kinds)
    }
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "human_source": SOURCE if "human" in sets else None,
        "settings": {"trailing_silence_ms": settings.trailing_silence_ms, "max_speech_ms": settings.max_speech_ms},
        "cpu_ms_per_call_second": cpu_ms,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }


def row_json(s: str, condition: str, kind: str, c: Cell) -> dict[str, Any]:
    def share(k: int, n: int) -> float | None:
        return round(100 * k / n, 1) if n else None

    rec = {
        k: {
            "n": v["n"],
            "correct_pct": share(v["correct"], v["n"]),
            "misroute_pct": share(v["misroute"], v["n"]),
            "no_match_pct": share(v["no_match"], v["n"]),
        }
        for k, v in c.counts.items()
    }
    return {
        "set": s,
        "condition": condition,
        "vad": kind,
        "windows": c.n,
        "missed": c.missed,
        "cut": c.cut,
        "never_ended": c.never,
        "ended_pct": share(c.ended, c.n),
        "end_delay_ms": {"p50": pct(c.delay_ms, 50), "p95": pct(c.delay_ms, 95)},
        "noise_only": {"windows": c.noise_windows, "false_starts": c.false_starts},
        "cpu_ms_per_second": round(1000 * c.cpu_s / c.audio_s, 3) if c.audio_s else None,
        "recognition": rec,
        "turn_ms": {"p50": pct(c.turn_ms, 50), "p95": pct(c.turn_ms, 95)},
        "misroutes": c.examples,
    }


def print_vad(result: dict[str, Any]) -> None:
    head = (
        f"{'set':6s} {'cond':8s} {'vad':6s} {'n':>4s} {'miss':>4s} {'cut':>4s} {'never':>5s} {'ended':>6s} "
        f"{'delay p50/p95':>13s} {'noise fs':>8s} {'menu ok/mis':>11s} {'oog mis':>7s} {'digits ok/mis':>13s} "
        f"{'turn p50/p95':>13s} {'cpu ms/s':>8s}"
    )
    print(head)
    print("-" * len(head))

    def pair(r: dict[str, Any], kind: str) -> str:
        x = r["recognition"].get(kind)
        return "-" if x is None else f"{x['correct_pct']:.0f}/{x['misroute_pct']:.0f}%"

    def order(r: dict[str, Any]) -> tuple[int, int, str]:
        return ["espeak", "human"].index(r["set"]), list(CONDITIONS).index(r["condition"]), r["vad"]

    for r in sorted(result["rows"], key=order):
        d, t, noise = r["end_delay_ms"], r["turn_ms"], r["noise_only"]
        oog = r["recognition"].get("oog")
        fs = f"{noise['false_starts']}/{noise['windows']}" if noise["windows"] else "-"
        print(
            f"{r['set']:6s} {r['condition']:8s} {r['vad']:6s} {r['windows']:4d} {r['missed']:4d} {r['cut']:4d} "
            f"{r['never_ended']:5d} {r['ended_pct']:5.1f}% {d['p50']!s:>6s}/{d['p95']!s:<6s} {fs:>8s} "
            f"{pair(r, 'menu'):>11s} {'-' if oog is None else str(oog['misroute_pct']) + '%':>7s} "
            f"{pair(r, 'digits'):>13s} {t['p50']!s:>6s}/{t['p95']!s:<6s} {r['cpu_ms_per_second']!s:>8s}"
        )
    cpu = ", ".join(f"{k} {v} ms" for k, v in result["cpu_ms_per_call_second"].items())
    print(
        f"CPU per call-second of listening: {cpu}; load average {result['machine']['load_average']}\n"
        "miss = speech never started; cut = ended before the utterance's last sound; never = ran to the "
        f"{result['settings']['max_speech_ms']} ms maximum; ended = ended by silence, not cut; delay = end of sound "
        "-> end decided (ms); noise fs = false starts on noise-only windows; turn = end of sound -> outcome (ms)"
    )


def main(args: Any, split: Callable[[str], list[str]]) -> None:
    """``bench asr --vad ...`` (flags of bench/asr_accuracy.py): ``--set`` (default both here), ``--conditions``
    (of :data:`CONDITIONS`; the asr bench's default list means all of them), ``--quick``, ``--out``."""
    kinds = [VadKind(k) for k in split(args.vad)]
    conditions = [c for c in split(args.conditions) if c in CONDITIONS]
    if args.conditions == "clean,phone,snr20,snr10":  # the asr bench's default: every condition here
        conditions = list(CONDITIONS)
    sets = split(args.set) if args.set != "espeak" else ["espeak", "human"]
    result = asyncio.run(run_vad(kinds, conditions or list(CONDITIONS), sets, args.quick))
    print()
    print_vad(result)
    out = args.out or RESULTS / ("asr_vad_quick.json" if args.quick else "asr_vad.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {out}")
