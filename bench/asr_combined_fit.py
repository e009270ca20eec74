"""The combined decision's fit and report (:mod:`bench.asr_combined` collects the records).

A logistic regression over the features of every agreed menu answer (two views agree, first view confidence at
least :data:`bench.asr_combined.FLOOR`), one model per band (wideband: ``clean``, ``snr20``, ``quiet``; telephone
band: ``phone``), fitted on the fit part only (its real items and the extra menus made from fit words): the answer
is taken when the model's probability that it is right reaches a threshold chosen on the fit part (no fit-part menu
word lost against ``fitted``, then the fewest routed). The held-out part is only reported, next to ``fitted``
replayed from the same views.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.asr_combined import FLOOR, fitted_accepts

Record = dict[str, Any]
OOG = ("oog-near", "oog-far", "phrases")
#: Feature sets: name -> feature names (each a function of the record below).
FULL = (
    "c1",
    "c2",
    "cov1",
    "fit1",
    "fit2",
    "c_end",
    "end_same",
    "decoy_same",
    "decoy_margin",
    "runner_margin",
    "path1",
    "path2",
    "per_phone",
    "log_frames",
    "snr",
)
CHEAP = ("c1", "c2", "cov1", "fit1", "fit2", "c_end", "end_same", "path1", "path2", "per_phone", "log_frames", "snr")
SETS = {"full": FULL, "no-runner-up": tuple(f for f in FULL if f != "runner_margin"), "cheap": CHEAP}


def value(r: Record, name: str) -> float:
    if name == "log_frames":
        return math.log(max(r["frames"], 1))
    if name == "snr":
        return min(r["snr"], 60.0) / 30.0
    v = r[name]
    return float(v)


def eligible(r: Record) -> bool:
    """Whether the model judges ``r`` (otherwise a no-match for every gate)."""
    return bool(r.get("agreed")) and r.get("c1", 0.0) >= FLOOR and "end_same" in r


def right(r: Record) -> bool:
    return r["expect"] is not None and r.get("text") == r["expect"]


def matrix(records: Sequence[Record], names: Sequence[str]) -> npt.NDArray[np.float64]:
    return np.array([[value(r, n) for n in names] for r in records], dtype=np.float64).reshape(len(records), len(names))


def logistic(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], l2: float = 1.0) -> npt.NDArray[np.float64]:
    """Weights (intercept first) of an L2-regularised logistic regression, by Newton's method."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    reg = np.full(a.shape[1], l2)
    reg[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        grad = a.T @ (p - y) + reg * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


class Model:
    """Standardised features -> probability that the answer is right."""

    def __init__(self, names: Sequence[str], train: Sequence[Record], l2: float = 1.0) -> None:
        self.names = tuple(names)
        x = matrix(train, names)
        self.mean = x.mean(axis=0)
        self.std = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
        y = np.array([1.0 if right(r) else 0.0 for r in train])
        self.w = logistic((x - self.mean) / self.std, y, l2)

    def p(self, r: Record) -> float:
        z = (matrix([r], self.names)[0] - self.mean) / self.std
        return float(1.0 / (1.0 + math.exp(-(self.w[0] + z @ self.w[1:]))))

    def raw(self) -> tuple[float, dict[str, float]]:
        """(intercept, weight per feature) on the unstandardised features."""
        w = self.w[1:] / self.std
        return float(self.w[0] - (self.mean / self.std) @ self.w[1:]), dict(zip(self.names, map(float, w), strict=True))


def outcome(r: Record, accept: Callable[[Record], bool]) -> str:
    if not accept(r):
        return "no_match"
    return "correct" if right(r) else "misroute"


def table(records: Sequence[Record], accept: Callable[[Record], bool]) -> dict[tuple[str, str, str, str], Counter]:
    rows: dict[tuple[str, str, str, str], Counter] = collections.defaultdict(collections.Counter)
    for r in records:
        rows[(r["origin"], r["part"], r["condition"], r["family"])][outcome(r, accept)] += 1
    return rows


Counter = collections.Counter[str]


def menu_kept_routed(records: Sequence[Record], accept: Callable[[Record], bool]) -> tuple[int, int, int, int]:
    """(menu words right, menu words, answers routed that should not be, of how many)."""
    kept = n_menu = routed = n_out = 0
    for r in records:
        o = outcome(r, accept)
        if r["expect"] is not None:
            n_menu += 1
            kept += o == "correct"
        else:
            n_out += 1
        routed += o == "misroute"
    return kept, n_menu, routed, n_out


def choose_threshold(model: Model, fit: Sequence[Record]) -> float:
    """The threshold on the fit part: no menu word lost against ``fitted`` (per condition), then the fewest routed."""
    base = {c: menu_kept_routed([r for r in fit if r["condition"] == c], fitted_accepts)[0] for c in conds(fit)}
    probs = {id(r): model.p(r) for r in fit if eligible(r)}
    best = 0.0
    for tau in np.arange(0.02, 0.99, 0.01):
        ok = all(
            menu_kept_routed([r for r in fit if r["condition"] == c], accepter(model, float(tau), probs))[0] >= base[c]
            for c in base
        )
        if ok:
            best = float(tau)
    return round(best, 2)


def accepter(model: Model, tau: float, cache: dict[int, float] | None = None) -> Callable[[Record], bool]:
    def accept(r: Record) -> bool:
        if not eligible(r):
            return False
        p = cache[id(r)] if cache is not None and id(r) in cache else model.p(r)
        return p >= tau

    return accept


def conds(records: Sequence[Record]) -> list[str]:
    return list(dict.fromkeys(r["condition"] for r in records))


def band(condition: str) -> str:
    return "narrow" if condition == "phone" else "wide"


def pct(c: Counter, key: str) -> str:
    n = sum(c.values())
    return f"{100 * c[key] / n:5.1f} %" if n else "    -"


def report(records: list[Record]) -> dict[str, Any]:
    drift = [r for r in records if r.get("listener") and (r["listener"] == "accept") != fitted_accepts(r)]
    checked = sum(1 for r in records if r.get("listener"))
    print(f"{len(records)} records; fitted replayed against the listener: {len(drift)} of {checked} differ")
    out: dict[str, Any] = {}
    for set_name, names in SETS.items():
        accepts: dict[str, Callable[[Record], bool]] = {}
        for b in ("wide", "narrow"):
            mine = [r for r in records if band(r["condition"]) == b]
            if not mine:
                continue
            fit = [r for r in mine if r["part"] == "fit"]
            train = [r for r in fit if eligible(r)]
            model = Model(names, train)
            tau = choose_threshold(model, fit)
            accepts[b] = accepter(model, tau)
            intercept, weights = model.raw()
            out.setdefault(set_name, {})[b] = {"tau": tau, "intercept": intercept, "weights": weights}
            k, n, ro, no = menu_kept_routed(fit, accepts[b])
            kf, _, rf, _ = menu_kept_routed(fit, fitted_accepts)
            print(
                f"\n[{set_name}] {b}: {len(train)} training answers ({sum(map(right, train))} right), threshold {tau}; "
                f"fit part menu {kf} -> {k} of {n}, routed {rf} -> {ro} of {no}"
            )
            print(
                "  weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in weights.items()) + f", intercept {intercept:+.3f}"
            )

        def combined(r: Record, accepts: dict[str, Callable[[Record], bool]] = accepts) -> bool:
            return accepts[band(r["condition"])](r)

        print_table(records, combined, set_name)
    return out


def print_table(records: Sequence[Record], combined: Callable[[Record], bool], set_name: str) -> None:
    fitted_rows = table(records, fitted_accepts)
    rows = table(records, combined)
    print(f"\n[{set_name}] correct (menu) or routed (outside the menu), fitted -> combined:")
    print(f"{'origin':6s} {'part':8s} {'condition':9s} {'family':9s} {'n':>4s}  fitted   combined")
    for key in sorted(rows):
        origin, part, condition, fam = key
        what = "correct" if fam == "menu" else "misroute"
        n = sum(rows[key].values())
        extra = (
            f"  (menu routed {pct(fitted_rows[key], 'misroute')} -> {pct(rows[key], 'misroute')})"
            if fam == "menu"
            else ""
        )
        print(
            f"{origin:6s} {part:8s} {condition:9s} {fam:9s} {n:4d} {pct(fitted_rows[key], what)} -> "
            f"{pct(rows[key], what)}{extra}"
        )
