"""The ``fitted`` decision's gate (media/asr/sphinx_decision.py): its threshold is reported as a shift around 0.5."""

from __future__ import annotations

from media.asr.sphinx_decision import Gate


def test_a_gate_reports_its_threshold_as_the_engines_half() -> None:
    gate = Gate(bonus=0.0, threshold=0.56, end_view=False, decoy_band=0.0)
    assert gate.reported(0.56) == 0.5
    assert gate.reported(0.55) < 0.5 < gate.reported(0.57)
    assert gate.reported(0.0) == 0.0  # a rejection stays one, whatever the shift
    assert gate.reported(1.0) == 0.94  # every confidence moves by the same shift


def test_a_lower_threshold_never_turns_a_rejection_into_an_answer() -> None:
    gate = Gate(bonus=0.0, threshold=0.42, end_view=False, decoy_band=0.0)
    assert gate.reported(0.0) == 0.0
    assert gate.reported(0.42) == 0.5
