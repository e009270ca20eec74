"""``python -m bench.asr_refit --ask-back``: what a menu's confirm_below does to recorded answers, under the default
decision of each band."""

from __future__ import annotations

import pytest

from bench.asr_refit import ask_back, fitted_gate, reported
from media.asr.sphinx_decision import FITTED_NARROW, FITTED_NARROW_ADAPTED, FITTED_WIDE


def record(family: str, text: str, expect: str | None, first: float, end: float) -> dict[str, object]:
    views = {"first": first, "clean": False, "wide": True, "end_same": True, "end": end, "decoy_same": True}
    return {"condition": "clean", "part": "held-out", "family": family, "text": text, "expect": expect, "views": views}


def test_each_band_is_judged_by_its_default_gate() -> None:
    assert (fitted_gate("clean"), fitted_gate("phone"), fitted_gate("phone/mllr")) == (
        FITTED_WIDE,
        FITTED_NARROW,
        FITTED_NARROW_ADAPTED,
    )
    # the wideband gate takes the end view's confidence when it is the lower one
    assert reported(FITTED_WIDE, {"first": 0.9, "end": 0.62, "clean": False}) == pytest.approx(0.62)


def tables(out: str) -> dict[str, dict[str, list[tuple[float, ...]]]]:
    """The printed tables by the threshold their windows were judged at: bar -> cells (at once, asked back) in %."""
    found: dict[str, dict[str, list[tuple[float, ...]]]] = {}
    rows: dict[str, list[tuple[float, ...]]] = {}
    for line in out.splitlines():
        if "window judged at" in line:
            rows = found.setdefault(line.split("window judged at ")[1].split(":")[0], {})
        elif "|" in line and not line.strip().startswith("bar"):
            cells = [tuple(float(x) for x in cell.split("/")) for cell in line.split("|")[1:]]
            rows[line.split("|")[0].strip()] = cells
    return found


def test_the_table_counts_answers_taken_at_once_and_asked_back(capsys: pytest.CaptureFixture[str]) -> None:
    ask_back(
        [
            record("menu", "billing", "billing", 0.95, 0.95),  # sure: at once below every bar under 0.95
            record("menu", "support", "support", 0.6, 0.6),  # unsure: asked back from bar 0.7 on
            record("menu", "sales", "sales", 0.3, 0.3),  # under the usual threshold: a no-match, or asked back
            record("oog-near", "billing", None, 0.75, 0.75),  # a word outside the menu heard as billing
            record("oog-far", "", None, 0.0, 0.0),  # rejected: routed nowhere at any bar
            record("phrases", "support", None, 0.25, 0.25),  # only over the confirmed operating point
        ]
    )
    usual, confirmed = tables(capsys.readouterr().out).values()
    # cells: menu right, near, far, phrases; each (at once, asked back) in %
    assert usual["0.50"] == [(66.7, 0.0), (100.0, 0.0), (0.0, 0.0), (0.0, 0.0)]
    assert usual["0.70"][:2] == [(33.3, 33.3), (100.0, 0.0)]
    assert usual["0.80"][:2] == [(33.3, 33.3), (0.0, 100.0)]
    assert usual["1.00"] == [(0.0, 66.7), (0.0, 100.0), (0.0, 0.0), (0.0, 0.0)]
    # judged at the confirmed operating point, what is under the usual threshold is asked back at every bar, never
    # taken at once: the menu word recovered, the phrase asked back (the caller says no)
    assert confirmed["0.50"] == [(66.7, 33.3), (100.0, 0.0), (0.0, 0.0), (0.0, 100.0)]
    assert confirmed["0.80"] == [(33.3, 66.7), (0.0, 100.0), (0.0, 0.0), (0.0, 100.0)]
    assert confirmed["1.00"] == [(0.0, 100.0), (0.0, 100.0), (0.0, 0.0), (0.0, 100.0)]
