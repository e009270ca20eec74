"""``./bin/bench asr --set human``: the menu decisions on real human speech, before and after, in one table.

The items come from :mod:`bench.human_set` (Debian's asterisk-core-sounds-en-g722 and -en-wav, read in place;
installed with apt-get when missing): every item in the wideband (16 kHz G.722) and the telephone-band (8 kHz
WAV) recording of the same prompt. Every item plays through a fresh :class:`~media.asr.listener.SpeechListener` as
in a call (500 ms lead, the recording, 2 s tail, at 48 kHz), once with each compared decision of
:data:`~media.asr.sphinx_decision.DECISIONS`, in the same run: by default ``fitted`` (the default: refitted gates
per band, see media/asr/sphinx_decision.py and ``python -m bench.asr_refit``), ``two-view`` (the default before it:
a second decode with other comfort noise must agree) and ``runner-up`` (a menu answer with a poor fit
must also beat the best other menu phrase; measured, not the default); ``--decisions garbage,banded`` adds the strict garbage competitor
(about 15x the decode time) and its banded variant, ``decoys`` (near decoys from the dictionary) and ``end-view`` (a
third view without the window's last 100 ms) the two measured against out-of-grammar single words. ``--parts held-out`` skips the part the thresholds were
fitted on.

Rows: decision x task family (menu, oog-near, oog-far, phrases, digits4, digits4-oh, digits7, digits7-oh,
digits-phrases, and the yes/no grammar's yesno, yesno-oog-near, yesno-oog-far, yesno-phrases, yesno-homophone: an answer
there counts by what the read-back takes from its words, and the rows a read-back would take as yes are listed)
x condition x part. Conditions (:data:`CONDITIONS` by default): ``clean`` (the wideband
recordings: a WebRTC caller), ``phone`` (the real 8 kHz recordings, band-passed 300-3400 Hz: a telephone
caller), ``snr20`` / ``snr10`` (white noise that many dB under the wideband speech), ``quiet`` (wideband,
30 dB quieter); ``narrow``, ``narrow-snr20``, ``narrow-snr10``, ``narrow-quiet`` are the same on the 8 kHz
recordings (``narrow`` is what the ``clean`` rows were before the wideband set: :data:`NARROW_CONDITIONS`);
``steady20``, ``steady10``, ``babble10`` put the noise over the whole window, lead and tail too, as on a noisy line
(:data:`STEADY_CONDITIONS`; the ``snr`` ones cover the speech and 0.3 s either side, digital silence beyond).
``--tasks`` keeps some task families only. Part (fit / held-out: the
thresholds were fitted on ``fit``; report on ``held-out``). Columns: correct / no-match / misroute %, decode
time p50/p95 (end of speech detected -> outcome) and whole turn-taking time p50/p95 (end of the recording ->
outcome: the VAD's trailing silence plus the decode; the prompt's own start-up is not in it).
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import numpy as np

from bench.asr_accuracy import RATE, Samples, active_dbfs, pct, telephone, to_int16
from bench.human_set import MENUS, SOURCE, HumanItem, ensure_installed, human_items
from ivr import readback
from ivr.events import Speech
from media.asr.grammar import Grammar
from media.asr.harness import ListenTrace, listen
from media.asr.listener import Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_decision import DEFAULT_DECISION, RUNNER_UP, TWO_VIEW
from media.asr.sphinx_engine import SphinxEngine

CONDITIONS = ("clean", "phone", "snr20", "snr10", "quiet")
#: Noise over the whole window (the listener's lead and tail too, as on a noisy line), not only around the speech:
#: white noise that many dB under the speech, or six-talker babble of the same voice's other recordings
#: (bench/asr_vad.py's :class:`~bench.asr_vad.Noises`). Not in the default list: ``--conditions steady10,...``.
STEADY_CONDITIONS = ("steady20", "steady10", "babble10")
#: The same on the 8 kHz recordings (``narrow`` = the ``clean`` rows before the wideband source).
NARROW_CONDITIONS = ("narrow", "narrow-snr20", "narrow-snr10", "narrow-quiet")
ALL_CONDITIONS = (*CONDITIONS, *NARROW_CONDITIONS, *STEADY_CONDITIONS)
#: The read-back question's yes/no grammar (bench/human_set.py's yesno tasks): right answers, words outside it
#: near and far, whole prompts, and "know" (sounds as "no").
YESNO_FAMILIES = ("yesno", "yesno-oog-near", "yesno-oog-far", "yesno-phrases", "yesno-homophone")
FAMILIES = (
    "menu",
    "oog-near",
    "oog-far",
    "phrases",
    "digits4",
    "digits4-oh",
    "digits7",
    "digits7-oh",
    "digits-phrases",
    *YESNO_FAMILIES,
)
#: The decisions a run compares by default: the engine's default and the candidate measured against it.
#: ``--decisions`` picks others from :data:`~media.asr.sphinx_decision.DECISIONS` (``garbage`` costs about 15x).
BEFORE_AFTER = tuple(dict.fromkeys((DEFAULT_DECISION, TWO_VIEW, RUNNER_UP)))
PARTS = ("fit", "held-out")
LEAD_MS, TAIL_MS = 500, 2000
_noises: Any = None  # bench.asr_vad.Noises, made on the first steady condition


def family(task: str) -> str:
    if task.startswith("yesno"):
        return task
    if task.startswith("digits"):
        return "digits-phrases" if task.endswith("phrases") else task
    for k in ("oog-near", "oog-far", "phrases"):
        if task.endswith(k):
            return k
    return "menu"


def grammar_of(item: HumanItem) -> Grammar:
    if item.menu.startswith("digits"):
        n = 4 if item.menu == "digits4" else 7
        return Grammar.of([], digits=True, min_digits=n, max_digits=n)
    if item.menu == "yesno":
        return Grammar.of(readback.listen_choices("en")[1])  # what a read-back question listens for
    return Grammar.of(MENUS[item.menu][0])


def source_of(item: HumanItem, condition: str) -> Samples:
    """The recording a condition starts from: the 8 kHz one for ``phone`` and ``narrow*``, else the wideband one."""
    return item.narrow if condition == "phone" or condition.startswith("narrow") else item.audio


def steady(condition: str) -> bool:
    """The condition's noise covers the whole window: :func:`condition_of` gives the lead and tail too."""
    return condition in STEADY_CONDITIONS


def condition_of(audio: Samples, condition: str, key: str) -> Samples:
    """The utterance (unpadded) under ``condition``; the listener pads it with silence, noise covers the speech.
    A :func:`steady` condition gives the whole window instead: LEAD_MS, the utterance and TAIL_MS, all noisy."""
    if steady(condition):
        from bench.asr_vad import Noises  # (its babble is 40 s of the set's recordings: made once, when needed)

        global _noises
        if _noises is None:
            _noises = Noises()
        noise = "babble10" if condition == "babble10" else "snr" + condition.removeprefix("steady")
        x = np.concatenate(
            [np.zeros(RATE * LEAD_MS // 1000, np.int16), audio, np.zeros(RATE * TAIL_MS // 1000, np.int16)]
        )
        snr = int(noise.removeprefix("babble").removeprefix("snr"))
        return to_int16(x + _noises.noise(noise, len(x), active_dbfs(audio) - snr, key))
    condition = condition.removeprefix("narrow-").removeprefix("narrow")
    if condition == "phone":
        return telephone(audio)
    if condition == "quiet":
        return to_int16(audio.astype(np.float64) * 10 ** (-30 / 20))
    if condition.startswith("snr"):
        import zlib

        rng = np.random.default_rng(zlib.crc32(f"{condition}|{key}".encode()))
        pad = np.zeros(RATE * 3 // 10, np.int16)
        x = np.concatenate([pad, audio, pad]).astype(np.float64)
        level = active_dbfs(audio)
        return to_int16(x + rng.normal(0.0, 32768 * 10 ** ((level - int(condition[3:])) / 20), len(x)))
    return audio


def outcome(item: HumanItem, trace: ListenTrace, grammar: Grammar) -> str:
    out = trace.outcome
    if not isinstance(out, Recognized):
        return "no_match"
    if item.menu == "yesno":  # the answer the read-back question takes from the words (e.g. "right" -> yes)
        said = readback.answer(Speech(out.result.text, out.result.confidence), "en")
        return "correct" if item.expect is not None and said == item.expect else "misroute"
    got = out.result.digits if grammar.digits else out.result.text
    return "correct" if item.expect is not None and got == item.expect else "misroute"


def said_yes(trace: ListenTrace) -> bool:
    """Whether a yes/no window's outcome confirms (its words are a yes: "correct", "right", ...)."""
    out = trace.outcome
    return isinstance(out, Recognized) and readback.answer(Speech(out.result.text), "en") == "yes"


async def play(
    engine: SphinxEngine, pool: RecognitionPool, grammar: Grammar, audio: Samples, label: str, condition: str = ""
) -> ListenTrace:
    """One item's audio through a fresh listener, as a call's answer goes (the set's lead and tail around it, unless
    the :func:`steady` ``condition`` gave them already)."""
    listener = SpeechListener(engine, pool, label=label)
    lead, tail = (0, 0) if steady(condition) else (LEAD_MS, TAIL_MS)
    try:
        return await listen(listener, grammar, audio, lead_ms=lead, tail_ms=tail)
    finally:
        await listener.close()


async def run_human(
    conditions: list[str],
    quick: bool,
    decisions: tuple[str, ...] = BEFORE_AFTER,
    parts: tuple[str, ...] = PARTS,
    families: tuple[str, ...] = FAMILIES,
    engines: dict[str, SphinxEngine] | None = None,
) -> dict[str, Any]:
    """``engines``: name -> engine to compare (default: one per decision of ``decisions``)."""
    ensure_installed()
    print(SOURCE, flush=True)
    items = human_items()
    if quick:
        items = [
            i
            for k, i in enumerate(items)
            if family(i.task) in ("menu", "oog-near", "yesno", "yesno-oog-near") or k % 4 == 0
        ]
    items = [i for i in items if i.part in parts and family(i.task) in families]
    if engines is None:
        engines = {d: SphinxEngine(pool_size=1, decision=d) for d in decisions}
    pool = RecognitionPool()
    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        for condition in conditions:
            t0 = time.perf_counter()
            for item in items:
                grammar = grammar_of(item)
                audio = await asyncio.to_thread(condition_of, source_of(item, condition), condition, item.label)
                for decision, engine in engines.items():
                    trace = await play(engine, pool, grammar, audio, f"bench-human-{decision}", condition)
                    key = (decision, family(item.task), condition, item.part)
                    row = rows.setdefault(
                        key,
                        {
                            "n": 0,
                            "decode_ms": [],
                            "turn_ms": [],
                            "examples": [],
                            "as_yes": [],
                            **{k: 0 for k in ("correct", "no_match", "misroute")},
                        },
                    )
                    result = outcome(item, trace, grammar)
                    row["n"] += 1
                    row[result] += 1
                    if result == "misroute" and item.menu == "yesno" and said_yes(trace):
                        row["as_yes"].append(item.label)
                    if result == "misroute" and len(row["examples"]) < 6:
                        out = trace.outcome
                        assert isinstance(out, Recognized)
                        row["examples"].append(f"{item.label!r} -> {out.result.text!r} ({out.result.confidence:.2f})")
                    if trace.speech_ended is not None and trace.decision_seconds is not None:
                        end_of_audio = trace.audio_start_ms + len(audio) * 1000 // RATE
                        if steady(condition):  # (the window began with the lead and ends with the tail)
                            end_of_audio -= TAIL_MS
                        row["decode_ms"].append(trace.decision_seconds * 1000)
                        row["turn_ms"].append(trace.speech_ended.at_ms - end_of_audio + trace.decision_seconds * 1000)
            print(
                f"  human {condition}: {len(items)} items x {len(engines)} decisions in "
                f"{time.perf_counter() - t0:.1f} s",
                flush=True,
            )
    finally:
        pool.shutdown()
    out_rows = []
    for (decision, fam, condition, part), r in sorted(
        rows.items(), key=lambda kv: (kv[0][3], kv[0][1], kv[0][2], kv[0][0])
    ):
        n = r["n"]
        out_rows.append(
            {
                "decision": decision,
                "task": fam,
                "condition": condition,
                "part": part,
                "trials": n,
                "correct_pct": round(100 * r["correct"] / n, 1),
                "no_match_pct": round(100 * r["no_match"] / n, 1),
                "misroute_pct": round(100 * r["misroute"] / n, 1),
                "decode_ms": {"p50": pct(r["decode_ms"], 50), "p95": pct(r["decode_ms"], 95)},
                "turn_ms": {"p50": pct(r["turn_ms"], 50), "p95": pct(r["turn_ms"], 95)},
                "misroutes": r["examples"],
                **({"as_yes": r["as_yes"]} if fam.startswith("yesno") else {}),
            }
        )
    return {"source": SOURCE, "seconds": round(time.perf_counter() - started, 1), "rows": out_rows}


def print_human(result: dict[str, Any]) -> None:
    head = (
        f"{'part':8s} {'task':14s} {'condition':9s} {'decision':9s} {'n':>4s} {'correct':>8s} {'no-match':>8s} "
        f"{'misroute':>8s} {'decode p50/p95':>15s} {'turn p50/p95':>13s}"
    )
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        d, t = r["decode_ms"], r["turn_ms"]
        print(
            f"{r['part']:8s} {r['task']:14s} {r['condition']:9s} {r['decision']:9s} {r['trials']:4d} "
            f"{r['correct_pct']:7.1f}% {r['no_match_pct']:7.1f}% {r['misroute_pct']:7.1f}% "
            f"{d['p50']!s:>7s}/{d['p95']!s:<7s} {t['p50']!s:>6s}/{t['p95']!s:<6s}"
        )
    as_yes = [r for r in result["rows"] if r.get("as_yes")]
    if any(r["task"].startswith("yesno") for r in result["rows"]):
        print("yes/no rows routed wrongly as yes (a read-back taking a misheard answer):", "none" if not as_yes else "")
        for r in as_yes:
            print(f"  {r['part']} {r['task']} {r['condition']} {r['decision']}: {', '.join(r['as_yes'])}")
    print(f"human set: {result['source']}")
    counts = collections.Counter(r["decision"] for r in result["rows"])
    print(
        f"decisions: {', '.join(counts)}; targets on held-out: menu >= 90 % correct clean/phone, "
        "oog and phrases misroute <= 2 %, digits misroute <= 5 %"
    )
