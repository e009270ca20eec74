"""``python -m bench.asr_refit``: the menu decisions' thresholds refitted on the human set's fit part, in one pass.

``bench asr --set human --decisions ...`` runs every decision over every item; fitting thresholds that way costs a
run per setting. This runs the human set once per condition through the same listener (as ``bench asr --set
human``: :func:`bench.asr_human.run_human`'s lead, tail, conditions and items) with the default ``two-view``
decision, and for every menu answer the two views agreed on also decodes the other views the decisions use (the end
view: the window without its last END_CUT_MS; the near decoys' search), so that every decision of the family below
is scored offline on the same windows:

    accept = the two views agree
             and (no end view, or the end view hears the same words; the confidence is then the lower one)
             and (confidence + bonus on a quiet line >= threshold)
             and (confidence + bonus >= decoy band, or the decoys' search hears the same words)

``two-view`` is bonus 0.05 (CLEAN_BONUS), threshold 0.5, no end view, no decoys; ``end-view`` adds the end view,
``decoys`` the decoy band 0.65. Settings are chosen on the ``fit`` part (no menu word lost against two-view, clean
and telephone band, then the fewest words outside the menu routed) and reported on ``held-out``. The window a
decision sees can differ from two-view's when the listener would have ended it differently (an early end after a
complete answer): figures here are the screening, ``bench asr --set human --decisions`` the measurement.

    python -m bench.asr_refit --conditions clean --out bench/results/refit_clean.json   # collect, then fit
    python -m bench.asr_refit --conditions phone --out bench/results/refit_phone.json
    python -m bench.asr_refit --conditions phone --narrow-topn 8 --out bench/results/refit_phone8.json
    python -m bench.asr_refit --load bench/results/refit_clean.json bench/results/refit_phone.json \
        bench/results/refit_phone8.json                                # fit again from what was collected

    python -m bench.asr_refit --load bench/results/refit_clean.json --ask-back    # what a menu's confirm_below does

Each collection took about 3 minutes here (856 items, both parts). That is how ``fitted``'s gates were chosen
(media/asr/sphinx_decision.py, "Refitted gates").
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench.asr_accuracy import RESULTS
from bench.asr_human import (
    FAMILIES,
    PARTS,
    condition_of,
    ensure_installed,
    family,
    grammar_of,
    human_items,
    outcome,
    play,
    source_of,
)
from media.asr.engine import Result
from media.asr.grammar import Grammar
from media.asr.listener import Recognized
from media.asr.loudness import is_wideband, with_noise_floor
from media.asr.pool import RecognitionPool
from media.asr.sphinx_decision import (
    DECOY_BAND,
    FITTED_NARROW,
    FITTED_NARROW_ADAPTED,
    FITTED_WIDE,
    TWO_VIEW,
    Gate,
)
from media.asr.sphinx_engine import (
    CLEAN_BONUS,
    CLEAN_SNR_DB,
    FLOOR_BELOW_SPEECH_DB,
    FLOOR_SEED,
    WIDE_HIGH_BAND_BELOW_SPEECH_DB,
    SphinxEngine,
    snr_db,
)
from media.asr.sphinx_search import DEFAULT_TOPN

MENU_FAMILIES = ("menu", "oog-near", "oog-far", "phrases")
OUT = RESULTS / "asr_refit.json"


@dataclass
class Views:
    """What the other views heard for one agreed menu answer (confidences without the clean bonus)."""

    first: float  # the first view's confidence
    clean: bool  # a quiet line: the bonus applies
    wide: bool
    end_same: bool  # the end view heard the same words
    end: float  # its confidence
    decoy_same: bool  # the decoys' search heard the same words


class _Lines(logging.Handler):
    """The engine's debug lines (what each view heard), kept for the records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class ViewsEngine(SphinxEngine):
    """``two-view`` that also decodes the end view and the decoys' search for every agreed menu answer."""

    def __init__(self, narrow_topn: int = DEFAULT_TOPN, narrow_mllr: Path | None = None) -> None:
        super().__init__(1, decision=TWO_VIEW, narrow_topn=narrow_topn, narrow_mllr=narrow_mllr)
        self.seen: dict[int, tuple[Result, Views]] = {}

    def decode(self, pcm: bytes, grammar: Grammar, grammar_text: str) -> Result:
        result = super().decode(pcm, grammar, grammar_text)
        if result.confidence > 0.0 and result.digits is None and grammar.phrases:
            wide = is_wideband(pcm)
            high = WIDE_HIGH_BAND_BELOW_SPEECH_DB if wide else None
            clean = snr_db(pcm) >= CLEAN_SNR_DB
            texts = result.heard.split()
            end, end_conf = self.end_view(pcm, grammar_text, wide)
            rival = self.decoy_winner(with_noise_floor(pcm, FLOOR_BELOW_SPEECH_DB, FLOOR_SEED, high), grammar, wide)
            first = result.confidence - (CLEAN_BONUS if clean else 0.0)
            self.seen[id(result)] = (result, Views(first, clean, wide, end == texts, end_conf, rival == texts))
        return result


async def collect(
    conditions: list[str],
    parts: tuple[str, ...],
    families: tuple[str, ...],
    limit: int = 0,
    narrow_topn: int = 0,
    narrow_mllr: Path | None = None,
) -> list[dict[str, Any]]:
    """Every item under every condition through the listener; ``narrow_topn``: the telephone band's ``-topn``
    (0: pocketsphinx's default, as two-view; another value is recorded in the condition's name, e.g.
    ``phone/topn8``); ``narrow_mllr``: an MLLR transform for the telephone band's searches (``phone/mllr``,
    ``phone/topn8/mllr``; bench/asr_adapt.py)."""
    ensure_installed()
    items = [i for i in human_items() if i.part in parts and family(i.task) in families]
    if limit:
        items = items[:: max(1, len(items) // limit)][:limit]
    engine = ViewsEngine(narrow_topn or DEFAULT_TOPN, narrow_mllr)
    suffix = f"/topn{narrow_topn}" if narrow_topn and narrow_topn != DEFAULT_TOPN else ""
    suffix += "/mllr" if narrow_mllr is not None else ""
    pool = RecognitionPool(1)
    lines = _Lines()
    engine_log = logging.getLogger("media.asr.sphinx_engine")
    engine_log.addHandler(lines)
    engine_log.setLevel(logging.DEBUG)
    engine_log.propagate = False
    out: list[dict[str, Any]] = []
    try:
        for condition in conditions:
            t0 = time.perf_counter()
            for item in items:
                grammar = grammar_of(item)
                audio = condition_of(source_of(item, condition), condition, item.label)
                trace = await play(engine, pool, grammar, audio, "bench-refit", condition)
                got = trace.outcome
                result = got.result if isinstance(got, Recognized) else getattr(got, "result", None)
                seen = engine.seen.get(id(result)) if result is not None else None
                engine.seen.clear()
                out.append(
                    {
                        "condition": condition + suffix,
                        "part": item.part,
                        "family": family(item.task),
                        "menu": item.menu,
                        "label": item.label,
                        "expect": item.expect,
                        "two_view": outcome(item, trace, grammar),
                        "text": result.text if result is not None else "",
                        "heard": result.heard if result is not None else "",
                        "confidence": round(result.confidence, 4) if result is not None else 0.0,
                        "views": asdict(seen[1]) if seen is not None else None,
                        "log": lines.lines[-1] if lines.lines else "",
                    }
                )
                lines.lines.clear()
            print(f"  {condition}: {len(items)} items in {time.perf_counter() - t0:.1f} s", flush=True)
    finally:
        engine_log.removeHandler(lines)
        engine_log.propagate = True
        pool.shutdown()
    return out


TWO_VIEW_GATE = Gate(bonus=CLEAN_BONUS, threshold=0.5, end_view=False, decoy_band=0.0)


def name(gate: Gate) -> str:
    parts = [f"bonus {gate.bonus:.2f}", f"threshold {gate.threshold:.2f}"]
    if gate.end_view:
        parts.append("end view")
    if gate.decoy_band:
        parts.append(f"decoys under {gate.decoy_band:.2f}")
    return ", ".join(parts)


def judged(gate: Gate, views: dict[str, Any]) -> float:
    """The confidence ``gate`` judges an answer by: the end view's when lower (with the end view), plus the bonus on
    a quiet line."""
    c = min(views["first"], views["end"]) if gate.end_view else views["first"]
    return min(1.0, c + (gate.bonus if views["clean"] else 0.0))


def accepts(gate: Gate, views: dict[str, Any] | None, at: float = 0.5) -> bool:
    """Whether ``fitted`` with ``gate`` takes the answer whose other views are ``views`` (None: two-view did not)
    in a window judged at ``at`` (the engine's ``min_confidence``; its ``confirm_confidence`` for a window whose
    answer is confirmed with the caller)."""
    if views is None or (gate.end_view and not views["end_same"]):
        return False
    c = judged(gate, views)
    if c < gate.decoy_band and not views["decoy_same"]:
        return False
    return gate.reported(c) >= at


NAMED = {
    "two-view": TWO_VIEW_GATE,
    "end-view": replace(TWO_VIEW_GATE, end_view=True),
    "decoys": replace(TWO_VIEW_GATE, decoy_band=DECOY_BAND),
    "two-view without the bonus": replace(TWO_VIEW_GATE, bonus=0.0),
}
OOG = ("oog-near", "oog-far", "phrases")


def band_of(condition: str) -> str:
    return "narrow" if condition.split("/")[0] == "phone" or condition.startswith("narrow") else "wide"


def score(records: list[dict[str, Any]], setting: Gate) -> dict[tuple[str, str, str], collections.Counter[str]]:
    """(part, condition, family) -> counts of correct / no_match / misroute under ``setting``."""
    rows: dict[tuple[str, str, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in records:
        if accepts(setting, r["views"]):
            result = "correct" if r["expect"] is not None and r["text"] == r["expect"] else "misroute"
        else:
            result = "no_match"
        rows[(r["part"], r["condition"], r["family"])][result] += 1
    return rows


def grid() -> list[Gate]:
    """Bonus 0-0.05 at threshold 0.5, or no bonus at threshold 0.40-0.60 (they move the same gate), each with and
    without the end view and with the decoys' search under bands 0.55-0.75 or never."""
    gates = [(round(0.01 * k, 2), 0.5) for k in range(6)] + [(0.0, round(0.40 + 0.01 * k, 2)) for k in range(21)]
    bands = (0.0, 0.55, 0.58, 0.6, 0.62, 0.65, 0.7, 0.75)
    return [Gate(b, t, e, d) for (b, t), e, d in itertools.product(dict.fromkeys(gates), (False, True), bands)]


def summary(rows: dict[tuple[str, str, str], collections.Counter[str]], part: str, conditions: list[str]) -> dict:
    """Menu words right and words / phrases outside the menu routed, per condition: (count, of n)."""
    out: dict[str, Any] = {}
    for c in conditions:
        menu = rows.get((part, c, "menu"), collections.Counter())
        oog = {f: rows.get((part, c, f), collections.Counter()) for f in OOG}
        out[c] = {
            "menu_right": (menu["correct"], sum(menu.values())),
            "menu_misroute": (menu["misroute"], sum(menu.values())),
            **{f: (v["misroute"], sum(v.values())) for f, v in oog.items()},
        }
    return out


def fmt(s: dict[str, Any]) -> str:
    def p(a: int, n: int) -> str:
        return f"{100 * a / n:5.1f}%" if n else "    -"

    return " | ".join(
        f"{c}: menu {p(*v['menu_right'])} near {p(*v['oog-near'])} far {p(*v['oog-far'])} phr {p(*v['phrases'])}"
        for c, v in s.items()
    )


def menu_right(s: dict[str, Any]) -> int:
    return sum(v["menu_right"][0] for v in s.values())


def routed(s: dict[str, Any]) -> int:
    return sum(v[f][0] for v in s.values() for f in OOG) + sum(v["menu_misroute"][0] for v in s.values())


def choose(records: list[dict[str, Any]], condition: str) -> dict[str, list[Gate]]:
    """On the fit part of ``condition`` (e.g. ``phone/topn8``) against two-view on its base condition (``phone``):
    ``keep`` = no menu word lost, then the fewest routed (menu words routed wrongly count too); ``gain`` = the most
    menu words right with no more routed, then the fewest routed. Ties go to the cheaper gate."""
    base_condition = condition.split("/")[0]
    base = summary(
        score([r for r in records if r["condition"] == base_condition], TWO_VIEW_GATE), "fit", [base_condition]
    )
    base_right, base_routed = menu_right(base), routed(base)
    mine = [r for r in records if r["condition"] == condition]
    keep, gain = [], []
    for setting in grid():
        s = summary(score(mine, setting), "fit", [condition])
        cost = (setting.end_view, setting.decoy_band, abs(setting.threshold - 0.5), -setting.bonus)
        if menu_right(s) >= base_right:
            keep.append(((routed(s), -menu_right(s), *cost), setting))
        if routed(s) <= base_routed:
            gain.append(((-menu_right(s), routed(s), *cost), setting))
    return {
        "keep": [x for _, x in sorted(keep, key=lambda k: k[0])],
        "gain": [x for _, x in sorted(gain, key=lambda k: k[0])],
    }


def fit(records: list[dict[str, Any]], fit_on: dict[str, list[str]]) -> dict[str, Any]:
    """Per condition fitted on (``clean``; ``phone``, ``phone/topn8``, ...): the gates each rule picks on the fit
    part, with two-view, end-view, decoys and two-view without the bonus, on both parts of that condition; the
    chosen one is the first of rule ``keep`` that loses no held-out menu word against two-view (on the base
    condition). Between ``phone`` and ``phone/topn8`` the one whose chosen gate routes fewer on the fit part wins."""
    conditions = list(dict.fromkeys(r["condition"] for r in records))
    drift = [r for r in records if (r["two_view"] != "no_match") != accepts(TWO_VIEW_GATE, r["views"])]
    print(f"{len(records)} records; two-view replayed from the views differs on {len(drift)}")
    report: dict[str, Any] = {}
    for condition in conditions:
        if condition.split("/")[0] not in fit_on[band_of(condition)]:
            continue
        chosen = choose(records, condition)
        base = condition.split("/")[0]
        held = menu_right(
            summary(score([r for r in records if r["condition"] == base], TWO_VIEW_GATE), "held-out", [base])
        )
        keeps = [g for g in chosen["keep"] if menu_right(summary(score(records, g), "held-out", [condition])) >= held]
        print(f"\n{condition}: chosen (the first of rule 'keep' that loses no held-out menu word): ", end="")
        print(name(keeps[0]) if keeps else "none")
        report[condition] = {"chosen": name(keeps[0]) if keeps else None}
        for rule, settings in chosen.items():
            print(f"\n{condition}, rule {rule!r}:")
            for setting in dict.fromkeys([*NAMED.values(), *settings[:8], *keeps[:1]]):
                for part in PARTS:
                    s = summary(score(records, setting), part, [condition])
                    report[condition].setdefault(name(setting), {})[part] = s
                    print(f"  {part:8s} {name(setting):52s} {fmt(s)}")
    return report


#: ``--ask-back``: the bars (a menu's ``confirm_below``) the table is printed for.
ASK_BACK_BARS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0)


def fitted_gate(condition: str) -> Gate:
    """The gate ``fitted`` judges a condition's menu answers with (the telephone band's, with or without MLLR)."""
    if band_of(condition) == "wide":
        return FITTED_WIDE
    return FITTED_NARROW_ADAPTED if condition.endswith("/mllr") else FITTED_NARROW


def reported(gate: Gate, views: dict[str, Any]) -> float:
    """The confidence the engine reports for an answer ``gate`` takes (what a menu's ``confirm_below`` compares)."""
    return gate.reported(judged(gate, views))


def ask_back(records: list[dict[str, Any]], part: str = "held-out") -> None:
    """What ``confirm: speech`` would do under ``fitted``, per condition and bar: menu words taken at once or asked
    back ("Did you say Billing?", taken on yes), and words and phrases outside the menu routed at once (a misroute)
    or asked back (the caller says no: routed nowhere, unless the no is heard as yes). Two tables per condition:
    windows judged at the engine's usual threshold (answers under it are no-matches), then at its confirmed
    operating point (``SphinxEngine.confirm_confidence``: answers under the usual threshold are asked back too, as a
    menu with ``confirm: speech`` now does)."""
    for condition in dict.fromkeys(r["condition"] for r in records):
        gate = fitted_gate(condition)
        rows = [r for r in records if r["condition"] == condition and r["part"] == part]
        for at in (SphinxEngine.min_confidence, SphinxEngine.confirm_confidence):
            print(f"\n{condition}, {part} part, decision fitted ({name(gate)}), window judged at {at:.2f}: % of items")
            print("  bar  | menu right at once / asked back | near routed / asked | far routed / asked | phrases")
            for bar in ASK_BACK_BARS:
                counts = ask_back_counts(rows, gate, at, bar)
                print(
                    f"  {bar:4.2f} | {_pct(counts['menu'], 'right at once')} / {_pct(counts['menu'], 'right asked')}"
                    + "".join(f" | {_pct(counts[f], 'wrong at once')} / {_pct(counts[f], 'wrong asked')}" for f in OOG)
                )


def ask_back_counts(
    rows: list[dict[str, Any]], gate: Gate, at: float, bar: float
) -> dict[str, collections.Counter[str]]:
    """Per task family: answers right / wrong, taken at once / asked back, and no-matches, for windows judged at
    ``at`` by a menu asking back under ``bar`` (and everything under the usual threshold)."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in rows:
        if not accepts(gate, r["views"], at):
            counts[r["family"]]["no match"] += 1
            continue
        right = r["expect"] is not None and r["text"] == r["expect"]
        confidence = reported(gate, r["views"])
        asked = "asked" if confidence < bar or confidence < SphinxEngine.min_confidence else "at once"
        counts[r["family"]][f"{'right' if right else 'wrong'} {asked}"] += 1
    return counts


def _pct(counts: collections.Counter[str], key: str) -> str:
    n = sum(counts.values())
    return f"{100 * counts[key] / n:5.1f}" if n else "    -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conditions", default="clean,phone")
    parser.add_argument("--tasks", default=",".join(MENU_FAMILIES))
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--load", type=Path, nargs="+", help="fit from records collected before (no decoding)")
    parser.add_argument(
        "--narrow-topn", type=int, default=0, help="the telephone band's -topn (default: pocketsphinx's 4)"
    )
    parser.add_argument("--narrow-mllr", type=Path, help="an MLLR transform for the telephone band (asr_adapt.py)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--limit", type=int, default=0, help="smoke run: about this many items per condition")
    parser.add_argument("--fit-wide", default="clean", help="conditions the wideband gate is fitted on")
    parser.add_argument("--fit-narrow", default="phone", help="conditions the telephone-band gate is fitted on")
    parser.add_argument(
        "--ask-back", action="store_true", help="instead of fitting: what a menu's confirm_below would do (fitted)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.load:
        records = [r for path in args.load for r in json.loads(path.read_text())]
    else:
        tasks = tuple(t for t in args.tasks.split(",") if t)
        if bad := [t for t in tasks if t not in FAMILIES]:
            parser.error(f"unknown task family {bad}")
        records = asyncio.run(
            collect(
                args.conditions.split(","),
                tuple(args.parts.split(",")),
                tasks,
                args.limit,
                args.narrow_topn,
                args.narrow_mllr,
            )
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(records, indent=1))
        print(f"wrote {args.out}")
    if args.ask_back:
        ask_back(records)
        return
    report = fit(records, {"wide": args.fit_wide.split(","), "narrow": args.fit_narrow.split(",")})
    (args.out.parent / (args.out.stem + "_fit.json")).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
