"""Escalating re-prompts and the switch to keys: flows + event scripts -> what the caller hears, what is listened for."""

from __future__ import annotations

import pytest

from ivr.actions import Listen, Say, Step, StepKind
from ivr.errors import FlowErrors
from ivr.events import Speech
from ivr.harness import Session, dtmf, no_input, speech
from ivr.model import Channel
from tests.unit.flowkit import flow_of

WRITTEN = flow_of("""\
    start: menu
    nodes:
      menu:
        type: menu
        var: intent
        prompt: "Say billing or support."
        retries: 3
        reprompts:
          - "Sorry, I didn't get that. You can also press 1 for billing, 2 for support."
          - ["Sorry, I still didn't get that.", "Press 1 for billing, 2 for support."]
        no_input_prompts: ["Are you still there? Say billing or support."]
        speech_fallback: {after: 2, prompt: "Please use your keypad: 1 for billing, 2 for support."}
        choices:
          - {key: 1, label: Billing, value: billing, words: [billing], next: billing}
          - {key: 2, label: Support, value: support, words: [support], next: support}
        fallback: operator
      billing: {type: queue, queue: billing}
      support: {type: queue, queue: support}
      operator: {type: hangup, reason: no_choice}
""")

GENERATED = flow_of("""\
    start: menu
    nodes:
      menu:
        type: menu
        prompt: "Say billing or support."
        choices:
          - {key: 1, label: Billing, words: [billing], next: done}
          - {key: "*", label: Support, words: [support], next: done}
        fallback: done
      done: {type: hangup}
""")


def run(flow, script, channel=Channel.VOICE):  # type: ignore[no-untyped-def]
    """Per input: (what was said after it, the Listen it opened, the steps it made)."""
    session = Session(flow, channel=channel)
    session.start()
    out = []
    for event in script:
        actions = session.feed(event)
        said = [a.text for a in actions if isinstance(a, Say)]
        listen = next((a for a in actions if isinstance(a, Listen)), None)
        steps = [f"{a.kind}: {a.detail}" for a in actions if isinstance(a, Step) and a.kind is not StepKind.PROMPT]
        out.append((said, listen, steps))
    return out


def test_each_no_match_says_the_next_reprompt_instead_of_the_question() -> None:
    first, second = run(WRITTEN, [dtmf("7"), dtmf("8")])
    assert first[0] == ["Sorry, I didn't get that. You can also press 1 for billing, 2 for support."]
    assert second[0] == ["Sorry, I still didn't get that.", "Press 1 for billing, 2 for support."]
    assert first[1] is not None and first[1].speech and second[1] is not None and second[1].speech


def test_the_last_reprompt_repeats_and_silence_has_its_own_list() -> None:
    quiet, miss1, miss2, fallback = run(WRITTEN, [no_input(), dtmf("7"), dtmf("8"), dtmf("9")])
    assert quiet[0] == ["Are you still there? Say billing or support."]
    assert miss1[0] == ["Sorry, I didn't get that. You can also press 1 for billing, 2 for support."]
    assert miss2[0] == ["Sorry, I still didn't get that.", "Press 1 for billing, 2 for support."]
    assert "fallback: -> operator" in fallback[2]  # retries 3: the 4th failure
    _, _, miss3 = run(WRITTEN, [dtmf("7"), dtmf("8"), dtmf("9")])
    assert miss3[0] == miss2[0]  # the last entry again


def test_two_failed_spoken_answers_switch_the_question_to_keys() -> None:
    miss1, miss2, late, key = run(
        WRITTEN,
        [speech("weather", 0.9), Speech("", 0.1, heard="march", reason="low_confidence"), speech("billing"), dtmf("1")],
    )
    assert miss1[1] is not None and miss1[1].speech  # one failure: still listening for speech
    assert miss2[0] == ["Please use your keypad: 1 for billing, 2 for support."]
    assert "keys_only: after 2 failed spoken answers" in miss2[2]
    assert miss2[1] is not None and not miss2[1].speech and miss2[1].speech_hints  # keys only now
    assert late[2] == ["ignored: speech 'billing' (0.90) (keys only now)"]  # a late result of the old window
    assert "choice: 1 (Billing) -> billing" in key[2]


def test_key_failures_and_silences_do_not_count_as_speech_failures() -> None:
    results = run(WRITTEN, [dtmf("7"), no_input(), speech("weather")])
    assert all(listen is not None and listen.speech for _, listen, _ in results)
    assert not any("keys_only" in " ".join(steps) for _, _, steps in results)


def test_generated_escalation_apologises_then_lists_the_keys_then_switches_to_keys() -> None:
    # default retries 2, speech_fallback after 2: key, speech, speech -> fallback; key, key: the key list
    miss1, miss2 = run(GENERATED, [dtmf("7"), dtmf("8")])
    assert miss1[0] == ["Sorry, I didn't get that.", "Say billing or support."]
    assert miss2[0] == ["Sorry, I still didn't get that.", "For Billing, press 1. For Support, press star."]
    quiet1, quiet2 = run(GENERATED, [no_input(), no_input()])
    assert quiet1[0] == ["Sorry, I didn't hear anything.", "Say billing or support."]
    assert quiet2[0] == ["Sorry, I still didn't hear anything.", "For Billing, press 1. For Support, press star."]
    _, keys = run(GENERATED, [speech("weather"), speech("the weather")])
    assert keys[0] == ["Let's use the keypad instead. For Billing, press 1. For Support, press star."]
    assert keys[1] is not None and not keys[1].speech


def test_chat_gets_no_key_list_and_never_switches() -> None:
    _, miss2 = run(GENERATED, [dtmf("7"), dtmf("8")], channel=Channel.CHAT)
    assert miss2[0] == ["Sorry, I still didn't get that.", "Say billing or support."]
    assert not any("keys_only" in s for s in miss2[2])


def test_a_gather_switches_to_keys_after_misheard_numbers() -> None:
    flow = flow_of("""\
        start: ask
        nodes:
          ask:
            type: gather
            var: account
            prompt: "Say or enter your account number."
            min_digits: 4
            max_digits: 6
            confirm: speech
            fallback: done
            next: done
          done: {type: hangup}
    """)
    wrong, rejected, keyed = run(flow, [speech("one two"), speech("one two three four"), speech("no")])
    assert wrong[0] == ["Sorry, I didn't get that.", "Say or enter your account number."]
    assert rejected[1] is not None and rejected[1].speech  # the read-back question
    assert keyed[0] == ["Let's use the keypad instead.", "Say or enter your account number."]
    assert keyed[1] is not None and not keyed[1].speech
    assert "keys_only: after 2 failed spoken answers" in keyed[2]


def test_speech_fallback_none_and_other_languages() -> None:
    flow = flow_of("""\
        start: menu
        defaults: {language: de-DE, speech_fallback: none}
        nodes:
          menu:
            type: menu
            prompt: "Sagen Sie Rechnung."
            choices: [{key: 1, label: Rechnung, next: done}]
            fallback: done
          done: {type: hangup}
    """)
    miss1, miss2 = run(flow, [speech("wetter"), speech("wetter")])
    assert miss1[0] == miss2[0] == ["Sagen Sie Rechnung."]  # nothing generated in German
    assert miss2[1] is not None and miss2[1].speech


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("reprompts: 'Sorry.'", "6: node 'menu': 'reprompts' must be a list"),
        ("reprompts: [a, b, c]", "6: node 'menu': 'reprompts' has 3 entries but retries is 2: the last one"),
        (
            "no_match_prompt: x\n    reprompts: [a]",
            "7: node 'menu': 'reprompts' and 'no_match_prompt' both say what follows a no-match",
        ),
        ("no_input_prompts: [[]]", "6: node 'menu': 'no_input_prompts' entry 1 is an empty list"),
        ("speech_fallback: kyes", "6: node 'menu': speech_fallback must be 'keys', 'none' or a mapping"),
        ("speech_fallback: kyes", "(did you mean 'keys'?)"),
        ("speech_fallback: {aftr: 1}", "6: node 'menu': unknown key 'aftr' in speech_fallback (did you mean 'after'?)"),
        ("speech_fallback: {to: agent}", "6: node 'menu': speech_fallback can only go 'to: keys'"),
        ("speech_fallback: {after: 3}", "6: node 'menu': speech_fallback after 3 failed spoken answers, but retries"),
        ("repromts: [a]", "6: node 'menu': unknown key 'repromts' in a menu node (did you mean 'reprompts'?)"),
    ],
)
def test_loader_errors(node: str, message: str) -> None:
    text = f"""\
start: menu
nodes:
  menu:
    type: menu
    prompt: "Press 1."
    {node}
    choices: [{{key: 1, next: done}}]
    fallback: done
  done: {{type: hangup}}
"""
    with pytest.raises(FlowErrors) as caught:
        flow_of(text)
    assert message in str(caught.value), str(caught.value)


def test_the_simulator_shows_the_escalation_of_the_shipped_flow() -> None:
    import io
    from pathlib import Path

    from ivr.loader import load_flow
    from ivr.simulator import simulate

    out = io.StringIO()
    shipped = load_flow(Path(__file__).parents[2] / "ivr" / "flows" / "default.yaml")
    simulate(shipped, ["what is the weather", "the weather", "billing", "3"], out)
    lines = out.getvalue().splitlines()
    start = lines.index("> what is the weather")
    assert lines[start:] == [
        "> what is the weather",
        "   . input: speech 'what is the weather' (1.00)",
        "   . no_match: no choice matches (attempt 1 of 3)",
        "IVR says: Sorry, I didn't get that. You can say billing, support or sales, or press 1, 2 or 3.",
        "   (listening: keys 1 2 3 9 or words like billing, bill, invoice, payment, refund, support, technical, help)",
        "> the weather",
        "   . input: speech 'the weather' (1.00)",
        "   . no_match: no choice matches (attempt 2 of 3)",
        "   . keys_only: after 2 failed spoken answers",
        "IVR says: Let's use the keypad instead. For billing, press 1. For technical support, press 2. "
        "For sales, press 3.",
        "   (listening: keys 1 2 3 9 only: speech is off for this question)",
        "> billing",
        "   . ignored: speech 'billing' (1.00) (keys only now)",
        "> 3",
        "   . input: digits 3",
        "   . choice: 3 (Sales) -> sales_queue",
        "   . set: intent=sales",
        "-- default#sales_queue (queue)",
        "IVR says: Connecting you to our sales team.",
        "   . queue: sales",
        "   (queued to 'sales', priority 0)",
        "== done: queued",
    ]


def test_the_shipped_flows_never_tell_a_chat_customer_to_press_or_say() -> None:
    """A prompt the chat also shows (a plain string) must not speak of keys or speech: the shipped flows give such
    prompts a ``chat:`` text (a user test found "enter it followed by the hash key" in the chat)."""
    import re
    from pathlib import Path

    import yaml

    phone_words = re.compile(r"\b(press|keypad|hash key|say it|say billing)\b", re.IGNORECASE)
    found = []
    for path in sorted((Path(__file__).resolve().parents[2] / "ivr" / "flows").glob("*.yaml")):
        nodes = (yaml.safe_load(path.read_text()) or {}).get("nodes", {})
        for name, node in nodes.items():
            if node.get("only") == "voice":
                continue
            for key in ("prompt", "reprompts", "no_input_prompts"):
                value = node.get(key)
                for one in value if isinstance(value, list) else [value]:
                    if isinstance(one, str) and phone_words.search(one):
                        found.append(f"{path.name} {name}.{key}: {one!r}")
    # no_input_prompts are voice-only (a chat has no silence to answer); the rest is shown in the chat too
    assert [f for f in found if ".no_input_prompts" not in f] == []
