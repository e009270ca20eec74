"""The combined decision's tooling (bench/asr_combined.py, bench/asr_combined_fit.py): the extra menus it trains on
never hold or play a held-out word, its replay of ``fitted`` follows the engine's gates, and its logistic regression
fits what it is given."""

from __future__ import annotations

import numpy as np

from bench.asr_combined import extra_pairs, fitted_accepts, pools, recording_key
from bench.asr_combined_fit import Model, logistic
from bench.human_set import LETTERS, PHRASES, HumanItem, split_of


def items() -> list[HumanItem]:
    """Stand-ins for the human set's single words and phrases (no audio: a length that tells them apart)."""
    words = list(dict.fromkeys([w for g in pools() for w in g] + list(LETTERS.values())))
    out = []
    for k, w in enumerate(words):
        audio = np.zeros(100 + k, np.int16)
        out.append(HumanItem("x-oog-far", "x", w, audio, None, split_of(w), audio))
    for k, (name, text) in enumerate(PHRASES.items()):
        audio = np.zeros(10_000 + k, np.int16)
        out.append(HumanItem("x-phrases", "x", text, audio, None, split_of(name), audio))
    return out


def test_the_extra_menus_use_fit_words_only() -> None:
    every = items()
    fit_keys = {recording_key(i) for i in every if i.part == "fit"}
    fit_words = {i.label for i in every if i.part == "fit"}
    pairs = extra_pairs(every)
    assert len(pairs) > 500
    assert {p.key for p in pairs} <= fit_keys, "a held-out recording is played in the extra menus"
    assert {w for p in pairs for w in p.menu} <= fit_words, "a held-out word is in an extra menu"
    assert not {w for p in pairs for w in p.menu} & set(LETTERS.values())
    inside = {p.expect for p in pairs if p.expect is not None}
    outside_near = {recording_key(i) for i in every if i.label in inside} & {
        p.key for p in pairs if p.family == "oog-near"
    }
    assert outside_near, "no fit word is both a menu word and a near word outside another menu"


def record(wide: bool, c1: float, c_end: float, decoy_same: bool = True) -> dict[str, object]:
    return {
        "agreed": True,
        "wide": wide,
        "c1": c1,
        "end_same": True,
        "c_end": c_end,
        "clean": True,
        "decoy_same": decoy_same,
    }


def test_the_replay_of_fitted_follows_its_gates() -> None:
    # wideband: threshold 0.5 on the lower of the first and the end view, no bonus, no decoys
    assert fitted_accepts(record(True, 0.60, 0.52, decoy_same=False))
    assert not fitted_accepts(record(True, 0.60, 0.49))
    # telephone band: threshold 0.51, and under 0.58 the decoys' search must hear the same words
    assert fitted_accepts(record(False, 0.55, 0.56))
    assert not fitted_accepts(record(False, 0.55, 0.56, decoy_same=False))
    assert not fitted_accepts(record(False, 0.505, 0.60))
    assert fitted_accepts(record(False, 0.60, 0.60, decoy_same=False))


def test_the_logistic_regression_finds_the_feature_that_separates() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.5 > rng.normal(scale=0.3, size=400)).astype(float)
    w = logistic(x, y, l2=0.1)
    assert w[1] > 2.0 and abs(w[2]) < 0.5 and w[0] < 0.0
    train = [
        {"c1": float(a), "c2": float(b), "expect": "x", "text": "x" if t else "y"}
        for (a, b), t in zip(x, y, strict=True)
    ]
    model = Model(("c1", "c2"), train)
    intercept, weights = model.raw()
    r = train[0]
    z = intercept + weights["c1"] * r["c1"] + weights["c2"] * r["c2"]
    assert abs(model.p(r) - 1 / (1 + np.exp(-z))) < 1e-9
