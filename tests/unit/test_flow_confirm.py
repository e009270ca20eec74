"""A gather that reads its answer back ("I heard 4 2 7 1. Is that right?") before taking it."""

from __future__ import annotations

import pytest

from ivr.errors import FlowErrors
from ivr.events import Speech
from ivr.harness import dtmf, no_input, run_call, speech, text
from ivr.model import Confirm, Flow, GatherNode
from tests.unit.flowkit import flow_of

FLOW = """\
    start: ask
    {defaults}
    nodes:
      ask:
        type: gather
        var: account
        prompt: "Your account number."
        min_digits: 4
        max_digits: 6
        confirm: {confirm}
        no_match_prompt: "Let's try again."
        retries: 1
        next: done
        fallback: agent
      done: {{type: hangup, prompt: "Thanks."}}
      agent: {{type: queue, queue: support}}
"""


def confirm_flow(confirm: str, defaults: str = "") -> Flow:
    return flow_of(FLOW.format(confirm=confirm, defaults=defaults))


def kept(transcript: list[str]) -> list[str]:
    return [
        line
        for line in transcript
        if line.startswith(("listen", "say", "step input", "step confirm", "step no_", "step fallback", "set "))
    ]


def test_a_spoken_number_is_read_back_and_taken_on_yes() -> None:
    assert kept(run_call(confirm_flow("speech"), [speech("4271", 0.3), speech("yes", 0.9)])) == [
        "say p1: Your account number.",
        "listen l1: digits 4-6 term # inter-digit 3s confirm timeout 5s",
        "step input ask: speech '4271' (0.30)",  # under min_confidence (0.5): the read-back is the gate
        "step confirm ask: 4271?",
        "say p2: I heard 4 2 7 1. Is that right? Say yes or press 1. Say no or press 2.",
        "listen l2: choices 1=Yes 2=No timeout 5s",
        "step input ask: speech 'yes' (0.90)",
        "step confirm ask: 4271 confirmed",
        "set account=4271",
        "say p3: Thanks.",
    ]


def test_no_re_asks_the_number_and_counts_as_a_retry() -> None:
    lines = kept(run_call(confirm_flow("speech"), [speech("4271", 0.8), dtmf("2"), speech("4 2 7 7", 0.8), dtmf("1")]))
    assert [line for line in lines if line.startswith(("step confirm", "step no_", "set"))] == [
        "step confirm ask: 4271?",
        "step confirm ask: 4271 rejected",
        "step no_match ask: the caller said 4271 is wrong (attempt 1 of 2)",
        "step confirm ask: 4277?",
        "step confirm ask: 4277 confirmed",
        "set account=4277",
    ]
    assert "say p3: Let's try again." in lines


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ([no_input()], "step no_input ask: no yes or no to 4271 (attempt 1 of 2)"),
        (
            [Speech("", 0.1, heard="maybe", reason="out_of_grammar")],
            "step no_match ask: speech not understood (attempt 1 of 2)",
        ),
        ([dtmf("7")], "step no_match ask: no yes or no to 4271 (attempt 1 of 2)"),
    ],
)
def test_no_clear_answer_to_the_read_back_re_asks_the_number(answer: list[object], why: str) -> None:
    lines = kept(run_call(confirm_flow("speech"), [speech("4271", 0.8), *answer]))
    assert why in lines
    assert not [line for line in lines if line.startswith("set ")]
    assert lines[-2:] == [lines[-2], "listen l3: digits 4-6 term # inter-digit 3s confirm timeout 5s"]
    assert lines[-2].endswith("Your account number.")  # the number is asked for again


def test_keys_are_taken_as_pressed_with_confirm_speech_but_read_back_with_always() -> None:
    assert "set account=4271" in kept(run_call(confirm_flow("speech"), [dtmf("4271#")]))
    assert not [
        line for line in kept(run_call(confirm_flow("speech"), [dtmf("4271#")])) if line.startswith("step confirm")
    ]
    lines = kept(run_call(confirm_flow("always"), [dtmf("4271#"), dtmf("1")]))
    assert lines[lines.index("step input ask: digits 4271#") + 1 :][:3] == [
        "step confirm ask: 4271?",
        "say p2: I heard 4 2 7 1. Is that right? Say yes or press 1. Say no or press 2.",
        "listen l2: choices 1=Yes 2=No timeout 5s",
    ]
    assert "set account=4271" in lines


def test_chat_reads_back_typed_numbers_only_with_always() -> None:
    assert "set account=4711" in kept(run_call(confirm_flow("speech"), [text("4711")], channel="chat"))
    lines = kept(
        run_call(confirm_flow("always"), [text("4711"), text("No"), text("4712"), text("yes")], channel="chat")
    )
    assert "say p2: Is 4711 right?" in lines
    assert [line for line in lines if line.startswith(("step confirm", "set"))] == [
        "step confirm ask: 4711?",
        "step confirm ask: 4711 rejected",
        "step confirm ask: 4712?",
        "step confirm ask: 4712 confirmed",
        "set account=4712",
    ]


def test_without_confirm_the_min_confidence_still_gates_speech() -> None:
    lines = kept(run_call(confirm_flow("never"), [speech("4271", 0.3)]))
    assert "step no_match ask: confidence below 0.50 (attempt 1 of 2)" in lines
    assert "listen l1: digits 4-6 term # inter-digit 3s timeout 5s" in lines  # no "confirm": the engine's own gate


def test_a_korean_flow_confirms_in_korean() -> None:
    flow = confirm_flow("speech", defaults="defaults: {language: ko, voice: ko}")
    lines = kept(run_call(flow, [speech("4271", 0.9), speech("네", 0.99)]))
    assert "listen l2: choices 1=네 2=아니요 timeout 5s" in lines
    assert "set account=4271" in lines


def test_custom_read_back_prompt_and_loader_errors() -> None:
    flow = flow_of(
        FLOW.format(confirm="speech", defaults="").replace(
            "        confirm: speech\n",
            '        confirm: speech\n        confirm_prompt: "You said {{ answer | spell }}?"\n',
        )
    )
    node = flow.nodes["ask"]
    assert isinstance(node, GatherNode) and node.confirm is Confirm.SPEECH
    assert "say p2: You said 4 2 7 1?" in kept(run_call(flow, [speech("4271", 0.9)]))
    with pytest.raises(FlowErrors) as bad:
        flow_of(FLOW.format(confirm="sometimes", defaults=""))
    assert "'confirm' must be one of never, speech, always, not 'sometimes'" in str(bad.value)
    with pytest.raises(FlowErrors) as orphan:
        flow_of(
            FLOW.format(confirm="never", defaults="").replace(
                "        confirm: never\n", '        confirm_prompt: "Sure?"\n'
            )
        )
    assert "confirm_prompt is only said with confirm: speech or always" in str(orphan.value)
