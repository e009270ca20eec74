"""``python -m bench.asr_combined``: one small model over every view's features, fitted on the fit part only.

Each single gate of :mod:`bench.asr_refit` traded menu words against words outside the menu. This collects, for
every menu answer the two views agree on, the features every measured check gives (both views' confidence,
coverage and fit, the path score per frame, the end view's words and confidence, the near decoys' search winner and
the margin of the menu answer over the best decoy alone, the runner-up margin over the other menu phrases, the
answer's frames per phone, the line's SNR) and fits a logistic regression on them (numpy, no new dependency).

Training pairs never touch a held-out word: besides the fit part's own items, *extra menus* are made from the
fit part's single-word recordings (each fit word is in the grammar of a menu that holds it and outside the grammar,
near or far, of the menus that do not; :func:`extra_pairs`). Every recording is played once per condition through
the listener (as ``bench asr --set human``) with ``fitted``; the window the engine decoded is kept and every pair
over that recording is decoded from it directly (the window does not depend on the grammar: the listener's early
end replays the same padded bytes on a digitally silent line). The replay of ``fitted`` from the collected views is
checked against the listener's own outcome on the real items.

    nice -n 10 python -m bench.asr_combined collect --conditions clean,snr20 --out bench/results/combined_wide.json
    nice -n 10 python -m bench.asr_combined collect --conditions phone,quiet --out bench/results/combined_pq.json
    python -m bench.asr_combined fit bench/results/combined_wide.json bench/results/combined_pq.json

Each condition took 8-15 minutes here (172 windows, 2137 pairs: up to six searches per agreed answer; two
collections side by side at idle priority, load average 5-15 with other sessions' runs). What the fit gave, and
why it is not a decision of the engine: media/asr/sphinx_decision.py ("Combined model").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.asr_accuracy import RESULTS
from bench.asr_human import condition_of, ensure_installed, family, grammar_of, play, source_of
from bench.human_set import DAYS, LETTERS, MENUS, MONTHS, NATO, SINGLE, HumanItem, human_items
from media.asr.grammar import Grammar
from media.asr.listener import Recognized
from media.asr.loudness import is_wideband, loud_frames, with_noise_floor
from media.asr.pool import RecognitionPool
from media.asr.sphinx_decision import FITTED, FITTED_NARROW, FITTED_WIDE, runner_up_text
from media.asr.sphinx_decoys import decoy_phrases, lexicon, near_words
from media.asr.sphinx_engine import (
    CHECK_FLOOR_BELOW_SPEECH_DB,
    CHECK_FLOOR_SEED,
    CLEAN_SNR_DB,
    FLOOR_BELOW_SPEECH_DB,
    FLOOR_SEED,
    WIDE_CHECK_HIGH_BAND_BELOW_SPEECH_DB,
    WIDE_HIGH_BAND_BELOW_SPEECH_DB,
    SphinxEngine,
    measure,
    snr_db,
)
from media.asr.sphinx_search import Decoded

MENU_FAMILIES = ("menu", "oog-near", "oog-far", "phrases")
#: Agreed answers under this first-view confidence are no-matches for every gate (no more searches for them).
FLOOR = 0.3
#: A margin when there is no rival (a one-phrase grammar): as if far ahead.
NO_RIVAL = 20.0


@dataclass(frozen=True)
class Pair:
    """One recording under one menu: ``expect`` is the right word, None outside the grammar."""

    key: str  # the recording (label and length)
    menu: tuple[str, ...]
    expect: str | None
    family: str  # menu, oog-near, oog-far, phrases
    part: str  # fit, held-out
    origin: str  # "real" (an item of the human set) or "extra" (a menu made from fit words)


def recording_key(item: HumanItem) -> str:
    return f"{item.label}|{len(item.audio)}"


def decoys_only_jsgf(phrases: tuple[str, ...], dictionary: Path) -> str:
    """A JSGF of the menu's near decoys alone (the margin of the menu answer over the best of them)."""
    from media.asr.sphinx_decision import DECOY_RULE

    near = near_words(sorted({w for p in phrases for w in p.split()}), lexicon(dictionary), DECOY_RULE)
    decoys = decoy_phrases(phrases, near)
    alternatives = " | ".join(f"( {p} )" if " " in p else p for p in decoys)
    return f"#JSGF V1.0;\ngrammar decoysonly;\npublic <utterance> = {alternatives};\n"


class FeatureEngine(SphinxEngine):
    """``fitted`` that keeps the window of every decode, and decodes every view of a window on request."""

    def __init__(self) -> None:
        super().__init__(1, decision=FITTED)
        self.windows: dict[int, bytes] = {}
        self._only: dict[tuple[str, ...], str] = {}
        self._prons: dict[str, int] = {}

    def decode(self, pcm: bytes, grammar: Grammar, grammar_text: str) -> Any:
        result = super().decode(pcm, grammar, grammar_text)
        self.windows[id(result)] = pcm
        return result

    def phones(self, word: str) -> int:
        if word not in self._prons:
            with self.pool.borrow() as item:
                pron = item.decoder.lookup_word(word)
            self._prons[word] = len(pron.split()) if pron else 1
        return self._prons[word]

    def features(self, pcm: bytes, grammar: Grammar) -> dict[str, Any]:
        """Every view of ``pcm`` under ``grammar`` (a menu of single words or phrases)."""
        _, text = self.usable_grammar(grammar)
        wide = is_wideband(pcm)
        high, check_high = (
            (WIDE_HIGH_BAND_BELOW_SPEECH_DB, WIDE_CHECK_HIGH_BAND_BELOW_SPEECH_DB) if wide else (None, None)
        )
        audio = with_noise_floor(pcm, FLOOR_BELOW_SPEECH_DB, FLOOR_SEED, high)
        first = self._run(audio, text, wide)
        out: dict[str, Any] = {"heard": " ".join(first.texts), "agreed": False, "wide": wide}
        match = grammar.match(first.texts, self.language) if first.words else None
        if match is None:
            return out
        c1, cov1, fit1 = measure(audio, first)
        out.update(text=match.text, c1=c1, cov1=cov1, fit1=fit1)
        if c1 <= 0.0:
            return out
        again = with_noise_floor(pcm, CHECK_FLOOR_BELOW_SPEECH_DB, CHECK_FLOOR_SEED, check_high)
        second = self._run(again, text, wide)
        if second.texts != first.texts:
            return out
        c2, cov2, fit2 = measure(again, second)
        snr = snr_db(pcm)
        out.update(agreed=True, c2=c2, cov2=cov2, fit2=fit2, snr=snr, clean=snr >= CLEAN_SNR_DB)
        n = max(first.n_frames, 1)
        frames = sum(e - s + 1 for _, s, e, _ in first.words)
        loud = int(loud_frames(audio, first.n_frames).sum())
        out.update(
            path1=first.score / n if math.isfinite(first.score) else -100.0,
            path2=second.score / max(second.n_frames, 1) if math.isfinite(second.score) else -100.0,
            frames=frames,
            loud=loud,
            per_phone=frames / max(sum(self.phones(w) for w in first.texts), 1),
        )
        if c1 < FLOOR:
            return out
        third, c_end = self.end_view(pcm, text, wide)
        out.update(end_same=third == first.texts, c_end=c_end)
        try:
            rival = self.decoy_winner(audio, grammar, wide)
            only: Decoded | None = self._run(audio, self._decoys_only(grammar), wide)
        except ValueError:  # no decoys for these words (an empty JSGF alternative)
            rival, only = first.texts, None
        out.update(decoy_same=rival == first.texts, decoy_winner=" ".join(rival))
        out["decoy_margin"] = self._margin(first, only, n)
        runner = self._run(audio, runner_up_text(grammar, match.text), wide) if len(grammar.phrases) > 1 else None
        out["runner_margin"] = self._margin(first, runner, n)
        return out

    def _decoys_only(self, grammar: Grammar) -> str:
        if grammar.phrases not in self._only:
            self._only[grammar.phrases] = decoys_only_jsgf(grammar.phrases, self.dictionary)
        return self._only[grammar.phrases]

    @staticmethod
    def _margin(first: Decoded, rival: Decoded | None, n: int) -> float:
        if rival is None or not rival.words or not math.isfinite(rival.score):
            return NO_RIVAL
        return max(-NO_RIVAL, min(NO_RIVAL, (first.score - rival.score) / n))


def fitted_accepts(f: dict[str, Any]) -> bool:
    """``fitted``'s decision replayed from the features (:meth:`SphinxEngine._gated`)."""
    if not f.get("agreed") or f.get("c1", 0.0) < FLOOR:
        return False
    gate = FITTED_WIDE if f["wide"] else FITTED_NARROW
    c = f["c1"]
    if gate.end_view:
        if not f["end_same"]:
            return False
        c = min(c, f["c_end"])
    if f["clean"]:
        c = min(1.0, c + gate.bonus)
    if c < gate.decoy_band and not f["decoy_same"]:
        return False
    return gate.reported(c) >= 0.5


def pools() -> list[tuple[str, ...]]:
    """Groups of words that sound alike or belong together: a menu's words and its near words, and a few more."""
    groups = [tuple(dict.fromkeys((*words, *near))) for words, near in MENUS.values()]
    groups += [tuple(NATO.values()), tuple(SINGLE.values()), (*DAYS, *MONTHS)]
    return groups


def extra_pairs(items: list[HumanItem], seed: int = 7, menus_per_group: int = 8) -> list[Pair]:
    """Menus made from the fit part's single words only: in each group (:func:`pools`) a random half of its fit
    words is the menu; the group's other fit words are near out-of-grammar words, 8 fit words of other groups far
    ones, 3 fit phrases."""
    rng = random.Random(seed)
    fit_words = {i.label: recording_key(i) for i in items if i.part == "fit" and family(i.task) != "phrases"}
    letters = set(LETTERS.values())  # "letter a" says "ay": never a menu word, only a far one
    phrases = sorted({recording_key(i) for i in items if i.part == "fit" and family(i.task) == "phrases"})
    out: list[Pair] = []
    seen: set[tuple[str, ...]] = set()
    groups = [[w for w in g if w in fit_words and w not in letters] for g in pools()]
    everything = sorted(fit_words)
    for group in groups:
        if len(group) < 3:
            continue
        for _ in range(menus_per_group):
            size = rng.randint(2, min(6, len(group) - 1))
            menu = tuple(sorted(rng.sample(group, size)))
            if menu in seen:
                continue
            seen.add(menu)
            for w in menu:
                out.append(Pair(fit_words[w], menu, w, "menu", "fit", "extra"))
            for w in group:
                if w not in menu:
                    out.append(Pair(fit_words[w], menu, None, "oog-near", "fit", "extra"))
            far = [w for w in everything if w not in group]
            for w in rng.sample(far, min(8, len(far))):
                out.append(Pair(fit_words[w], menu, None, "oog-far", "fit", "extra"))
            for p in rng.sample(phrases, min(3, len(phrases))):
                out.append(Pair(p, menu, None, "phrases", "fit", "extra"))
    return out


async def windows(engine: FeatureEngine, items: list[HumanItem], condition: str) -> dict[str, tuple[bytes, str]]:
    """recording key -> (the window the engine decoded, ``fitted``'s outcome through the listener)."""
    pool = RecognitionPool(1)
    out: dict[str, tuple[bytes, str]] = {}
    try:
        for item in items:
            key = recording_key(item)
            if key in out:
                continue
            grammar = grammar_of(item)
            audio = condition_of(source_of(item, condition), condition, item.label)
            trace = await play(engine, pool, grammar, audio, "bench-combined")
            got = trace.outcome
            result = getattr(got, "result", None)
            pcm = engine.windows.get(id(result), b"") if result is not None else b""
            engine.windows.clear()
            verdict = "accept" if isinstance(got, Recognized) else "reject"
            out[key] = (pcm, verdict)
    finally:
        pool.shutdown()
    return out


def collect(conditions: list[str], menus_per_group: int, limit: int = 0) -> list[dict[str, Any]]:
    ensure_installed()
    items = [i for i in human_items() if family(i.task) in MENU_FAMILIES]
    if limit:
        items = items[:: max(1, len(items) // limit)][:limit]
    real = [Pair(recording_key(i), grammar_of(i).phrases, i.expect, family(i.task), i.part, "real") for i in items]
    extra = extra_pairs(items, menus_per_group=menus_per_group)
    engine = FeatureEngine()
    records: list[dict[str, Any]] = []
    first_of = {}
    for i in items:
        first_of.setdefault(recording_key(i), i)
    for condition in conditions:
        t0 = time.perf_counter()
        seen = asyncio.run(windows(engine, list(first_of.values()), condition))
        print(f"  {condition}: {len(seen)} windows in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        for pair in (*real, *extra):
            pcm, verdict = seen[pair.key]
            first = first_of[pair.key]
            listened = verdict if pair.origin == "real" and grammar_of(first).phrases == pair.menu else None
            f = engine.features(pcm, Grammar.of(list(pair.menu))) if pcm else {"agreed": False, "wide": True}
            records.append(
                {
                    "condition": condition,
                    "key": pair.key,
                    "menu": list(pair.menu),
                    "expect": pair.expect,
                    "family": pair.family,
                    "part": pair.part,
                    "origin": pair.origin,
                    "listener": listened,
                    **f,
                }
            )
        print(f"  {condition}: {len(real) + len(extra)} pairs in {time.perf_counter() - t0:.1f} s", flush=True)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--conditions", default="clean,phone")
    c.add_argument("--menus-per-group", type=int, default=8)
    c.add_argument("--limit", type=int, default=0, help="smoke run: about this many items")
    c.add_argument("--out", type=Path, default=RESULTS / "combined.json")
    f = sub.add_parser("fit")
    f.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.command == "collect":
        records = collect(args.conditions.split(","), args.menus_per_group, args.limit)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(records))
        print(f"wrote {args.out} ({len(records)} records)")
    else:
        from bench.asr_combined_fit import report

        report([r for p in args.paths for r in json.loads(p.read_text())])


if __name__ == "__main__":
    main()
