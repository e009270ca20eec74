"""The interpreter: say, menus, gather, skip_if_known — flows + event scripts -> whole action sequences."""

from __future__ import annotations

from datetime import datetime

import pytest

from ivr.actions import (
    Done,
    Hangup,
    Listen,
    ListenChoice,
    ListenMode,
    Say,
    Step,
    StepKind,
    StopListening,
    StopPrompts,
)
from ivr.events import Digits, Disconnected, NoInput, PromptFinished, Speech
from ivr.harness import dtmf, hangup, no_input, run_call, speech, text, webhook
from ivr.interpreter import Interpreter, Waiting
from ivr.model import Channel
from tests.unit.flowkit import NOW, flow_of, without_prompt_steps

# -- say, and the voice/chat difference ------------------------------------------------------------------------

SAY = flow_of("""\
    start: hello
    defaults: {voice: en-gb, language: en-GB, rate: 1.2}
    nodes:
      hello:
        type: say
        prompt:
          - "Hello {{ name | default('there') }}."
          - {say: "Calls may be recorded.", chat: "", barge_in: false, voice: en-us}
          - {chat: "Chat only."}
        next: bye
      bye: {type: hangup, prompt: "Bye.", reason: finished}
""")


def test_say_waits_for_its_prompts_on_voice() -> None:
    interp = Interpreter(SAY, {"name": "Ann"})
    assert interp.start(NOW) == [
        Step(StepKind.ENTER, "hello", "say", "test"),
        Step(StepKind.PROMPT, "hello", "Hello Ann.", "test"),
        Say("p1", "Hello Ann.", "en-gb", "en-GB", 1.2, True),
        Step(StepKind.PROMPT, "hello", "Calls may be recorded.", "test"),
        Say("p2", "Calls may be recorded.", "en-us", "en-GB", 1.2, False),
    ]
    assert interp.waiting is Waiting.PROMPTS
    assert interp.handle(PromptFinished("p1"), NOW) == []
    assert interp.handle(PromptFinished("nope"), NOW) == []
    assert interp.handle(Digits("1"), NOW) == [Step(StepKind.IGNORED, "hello", "digits 1 (not listening)", "test")]
    assert interp.handle(PromptFinished("p2"), NOW) == [
        Step(StepKind.ENTER, "bye", "hangup", "test"),
        Step(StepKind.PROMPT, "bye", "Bye.", "test"),
        Say("p3", "Bye.", "en-gb", "en-GB", 1.2, True),
    ]
    assert interp.handle(PromptFinished("p3"), NOW) == [
        Step(StepKind.HANGUP, "bye", "finished", "test"),
        Hangup("finished"),
        Done("finished"),
    ]
    assert interp.done
    assert interp.handle(Digits("1"), NOW) == []
    assert interp.handle(Disconnected(), NOW) == []


def test_say_on_chat_posts_messages_without_waiting() -> None:
    interp = Interpreter(SAY, {}, channel="chat")
    assert interp.start(NOW) == [
        Step(StepKind.ENTER, "hello", "say", "test"),
        Step(StepKind.PROMPT, "hello", "Hello there.", "test"),
        Say("p1", "Hello there.", "en-gb", "en-GB", 1.2, True),
        Step(StepKind.PROMPT, "hello", "Chat only.", "test"),
        Say("p2", "Chat only.", "en-gb", "en-GB", 1.2, True),
        Step(StepKind.ENTER, "bye", "hangup", "test"),
        Step(StepKind.PROMPT, "bye", "Bye.", "test"),
        Say("p3", "Bye.", "en-gb", "en-GB", 1.2, True),
        Step(StepKind.HANGUP, "bye", "finished", "test"),
        Hangup("finished"),
        Done("finished"),
    ]


def test_start_rules() -> None:
    interp = Interpreter(SAY)
    with pytest.raises(RuntimeError, match="start"):
        interp.handle(Digits("1"), NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        interp.start(datetime(2026, 3, 4, 15, 0))
    interp.start(NOW)
    with pytest.raises(RuntimeError, match="already started"):
        interp.start(NOW)


# -- menus -----------------------------------------------------------------------------------------------------

MENU = flow_of("""\
    start: menu
    defaults:
      no_input_prompt: "I didn't hear you."
      no_match_prompt: "I didn't get that."
    nodes:
      menu:
        type: menu
        var: intent
        prompt: "Press 1 for billing, 2 for support."
        retries: 1
        speech: [agent]
        choices:
          - {key: 1, label: Billing, value: billing, words: [bill, invoice], next: billing}
          - {key: 2, label: Support, value: support, words: [help], next: support}
          - {key: 9, label: Again, only: voice, next: menu}
        fallback: operator
      billing: {type: queue, queue: billing}
      support: {type: queue, queue: support, prompt: "Hold on."}
      operator: {type: hangup, prompt: "Bye.", reason: no_choice}
""")


def test_menu_listen_action() -> None:
    interp = Interpreter(MENU)
    actions = interp.start(NOW)
    assert actions[-1] == Listen(
        "l1",
        ListenMode.MENU,
        5.0,
        choices=(
            ListenChoice("1", "Billing", ("bill", "invoice")),
            ListenChoice("2", "Support", ("help",)),
            ListenChoice("9", "Again"),
        ),
        speech_hints=("bill", "invoice", "billing", "help", "support", "again", "agent"),
    )
    chat = Interpreter(MENU, channel=Channel.CHAT).start(NOW)
    assert chat[-1] == Listen(
        "l1",
        ListenMode.MENU,
        None,
        choices=(ListenChoice("1", "Billing", ("bill", "invoice")), ListenChoice("2", "Support", ("help",))),
        speech_hints=("bill", "invoice", "billing", "help", "support", "agent"),
    )


def test_menu_repeat_then_choice() -> None:
    assert run_call(MENU, [dtmf("9"), dtmf("2")]) == [
        "step enter menu: menu",
        "step prompt menu: Press 1 for billing, 2 for support.",
        "say p1: Press 1 for billing, 2 for support.",
        "listen l1: choices 1=Billing 2=Support 9=Again timeout 5s",
        "<- digits 9",
        "step input menu: digits 9",
        "stop-listening l1",
        "step choice menu: 9 (Again) -> menu",
        "step enter menu: menu",
        "step prompt menu: Press 1 for billing, 2 for support.",
        "say p2: Press 1 for billing, 2 for support.",
        "listen l2: choices 1=Billing 2=Support 9=Again timeout 5s",
        "<- digits 2",
        "step input menu: digits 2",
        "stop-listening l2",
        "step choice menu: 2 (Support) -> support",
        "set intent=support",
        "step set menu: intent=support",
        "step enter support: queue",
        "step prompt support: Hold on.",
        "say p3: Hold on.",
        "step queue support: support",
        "enqueue support priority 0",
        "done queued",
    ]


def test_menu_no_input_then_no_match_takes_the_fallback() -> None:
    assert run_call(MENU, [no_input(), dtmf("7")]) == [
        "step enter menu: menu",
        "step prompt menu: Press 1 for billing, 2 for support.",
        "say p1: Press 1 for billing, 2 for support.",
        "listen l1: choices 1=Billing 2=Support 9=Again timeout 5s",
        "<- no-input",
        "stop-listening l1",
        "step no_input menu: no input (attempt 1 of 2)",
        "step prompt menu: I didn't hear you.",
        "say p2: I didn't hear you.",
        "step prompt menu: Press 1 for billing, 2 for support.",
        "say p3: Press 1 for billing, 2 for support.",
        "listen l2: choices 1=Billing 2=Support 9=Again timeout 5s",
        "<- digits 7",
        "step input menu: digits 7",
        "stop-listening l2",
        "step no_match menu: no choice matches (attempt 2 of 2)",
        "step fallback menu: -> operator",
        "step enter operator: hangup",
        "step prompt operator: Bye.",
        "say p4: Bye.",
        "step hangup operator: no_choice",
        "hangup no_choice",
        "done no_choice",
    ]


@pytest.mark.parametrize(
    ("script", "outcome"),
    [
        # two silences with retries: 1: the no-input prompt before the re-ask, then the fallback
        (
            [no_input(), no_input()],
            [
                "step no_input menu: no input (attempt 1 of 2)",
                "say p2: I didn't hear you.",
                "step no_input menu: no input (attempt 2 of 2)",
                "step fallback menu: -> operator",
            ],
        ),
        (
            [dtmf("5"), dtmf("#")],
            [
                "step no_match menu: no choice matches (attempt 1 of 2)",
                "say p2: I didn't get that.",
                "step no_match menu: no choice matches (attempt 2 of 2)",
                "step fallback menu: -> operator",
            ],
        ),
        # low-confidence speech is a no-match; then words pick a choice
        (
            [speech("bill", 0.3), speech("help me please", 0.8)],
            [
                "step no_match menu: confidence below 0.50 (attempt 1 of 2)",
                "say p2: I didn't get that.",
                "step choice menu: 2 (Support) -> support",
            ],
        ),
        # words of two choices at once are ambiguous; a spoken key works
        (
            [speech("billing help", 0.9), speech("one", 0.9)],
            [
                "step no_match menu: no choice matches (attempt 1 of 2)",
                "say p2: I didn't get that.",
                "step choice menu: 1 (Billing) -> billing",
            ],
        ),
        # speech the recognizer could not match is a no-match whatever it guessed, never a route
        (
            [Speech("", 0.23, heard="billing help", reason="low_confidence"), speech("invoice", 0.9)],
            [
                "step no_match menu: speech not understood (attempt 1 of 2)",
                "say p2: I didn't get that.",
                "step choice menu: 1 (Billing) -> billing",
            ],
        ),
        # a menu decides on the first key
        ([dtmf("21")], ["step choice menu: 2 (Support) -> support"]),
        # typed text also works on voice
        ([text("BILLING")], ["step choice menu: 1 (Billing) -> billing"]),
    ],
)
def test_menu_outcomes(script: list[object], outcome: list[str]) -> None:
    transcript = run_call(MENU, script)  # type: ignore[arg-type]
    kept = [
        line for line in transcript if line.startswith(("step no_", "step fallback", "step choice", "say p2: I didn't"))
    ]
    assert kept == outcome


def test_chat_menu_matches_key_label_and_words() -> None:
    for answer, choice in [
        ("1", "1 (Billing)"),
        ("  support ", "2 (Support)"),
        ("I have a question about my invoice!", "1 (Billing)"),
        ("HELP", "2 (Support)"),
    ]:
        transcript = run_call(MENU, [text(answer)], channel="chat")
        assert [line for line in transcript if line.startswith("step choice")] == [
            f"step choice menu: {choice} -> {'billing' if 'Billing' in choice else 'support'}"
        ]
    # "9" is voice only: on chat it is no choice
    assert without_prompt_steps(run_call(MENU, [text("9"), text("again")], channel="chat")) == [
        "step enter menu: menu",
        "say p1: Press 1 for billing, 2 for support.",
        "listen l1: choices 1=Billing 2=Support timeout none",
        "<- text '9'",
        "step input menu: text '9'",
        "stop-listening l1",
        "step no_match menu: no choice matches (attempt 1 of 2)",
        "say p2: I didn't get that.",
        "say p3: Press 1 for billing, 2 for support.",
        "listen l2: choices 1=Billing 2=Support timeout none",
        "<- text 'again'",
        "step input menu: text 'again'",
        "stop-listening l2",
        "step no_match menu: no choice matches (attempt 2 of 2)",
        "step fallback menu: -> operator",
        "step enter operator: hangup",
        "say p4: Bye.",
        "step hangup operator: no_choice",
        "hangup no_choice",
        "done no_choice",
    ]


def test_barge_in_cuts_the_prompt_and_no_barge_in_ignores_input() -> None:
    flow = flow_of("""\
        start: menu
        nodes:
          menu:
            type: menu
            prompt: [{say: "Legal notice.", barge_in: false}, "Press 1."]
            choices: [{key: 1, next: done}]
            fallback: done
          done: {type: hangup}
    """)
    interp = Interpreter(flow)
    assert interp.start(NOW)[-4:] == [
        Say("p1", "Legal notice.", barge_in=False),
        Step(StepKind.PROMPT, "menu", "Press 1.", "test"),
        Say("p2", "Press 1."),
        Listen("l1", ListenMode.MENU, 5.0, choices=(ListenChoice("1", "1"),)),
    ]
    assert interp.handle(Digits("1"), NOW) == [
        Step(StepKind.IGNORED, "menu", "digits 1 (a prompt without barge-in is playing)", "test")
    ]
    assert interp.handle(PromptFinished("p1"), NOW) == []
    assert interp.handle(Digits("1"), NOW) == [
        StopPrompts(),
        Step(StepKind.INPUT, "menu", "digits 1", "test"),
        StopListening("l1"),
        Step(StepKind.CHOICE, "menu", "1 (1) -> done", "test"),
        Step(StepKind.ENTER, "done", "hangup", "test"),
        Step(StepKind.HANGUP, "done", "completed", "test"),
        Hangup("completed"),
        Done("completed"),
    ]
    assert interp.handle(PromptFinished("p2"), NOW) == []


def test_late_no_input_of_a_closed_window_is_ignored() -> None:
    interp = Interpreter(MENU)
    interp.start(NOW)
    interp.handle(PromptFinished("p1"), NOW)
    interp.handle(NoInput("l1"), NOW)
    assert interp.listen_id == "l2"
    assert interp.handle(NoInput("l1"), NOW) == []
    assert interp.handle(Digits("x"), NOW) == []  # not a DTMF key
    assert [type(a) for a in interp.handle(NoInput("l2"), NOW)] == [StopListening, Step, Step, Step, Step, Say]


def test_caller_hangs_up_while_listening() -> None:
    assert run_call(MENU, [hangup(), dtmf("1")])[-5:] == [
        "<- hangup",
        "stop-listening l1",
        "step hangup menu: the caller hung up",
        "done disconnected",
        "<- digits 1",
    ]
    assert run_call(MENU, [hangup()], channel="chat")[-2:] == [
        "step hangup menu: the customer left",
        "done disconnected",
    ]


# -- gather ----------------------------------------------------------------------------------------------------

GATHER = flow_of("""\
    start: ask
    nodes:
      ask:
        type: gather
        var: account
        prompt: "Your account number, then hash."
        min_digits: 4
        max_digits: 6
        no_match_prompt: "That is not an account number."
        retries: 1
        next: done
        fallback: agent
      done: {type: hangup, prompt: "Thanks {{ account | spell }}."}
      agent: {type: queue, queue: support}
""")


def test_gather_collects_keys_until_the_terminator() -> None:
    assert run_call(GATHER, [dtmf("12"), dtmf("34#")]) == [
        "step enter ask: gather",
        "step prompt ask: Your account number, then hash.",
        "say p1: Your account number, then hash.",
        "listen l1: digits 4-6 term # inter-digit 3s timeout 5s",
        "<- digits 12",
        "<- digits 34#",
        "step input ask: digits 1234#",
        "stop-listening l1",
        "set account=1234",
        "step set ask: account=1234",
        "step enter done: hangup",
        "step prompt done: Thanks 1 2 3 4.",
        "say p2: Thanks 1 2 3 4.",
        "step hangup done: completed",
        "hangup completed",
        "done completed",
    ]


@pytest.mark.parametrize(
    ("script", "channel", "result"),
    [
        ([dtmf("1234567")], "voice", ["step input ask: digits 123456", "set account=123456"]),
        (
            [dtmf("1"), dtmf("2"), dtmf("3"), dtmf("4"), no_input()],
            "voice",
            ["step input ask: digits 1234 (inter-digit timeout)", "set account=1234"],
        ),
        (
            [dtmf("12#"), dtmf("98"), no_input()],
            "voice",
            [
                "step input ask: digits 12#",
                "step no_match ask: 2 digits, expected 4 to 6 (attempt 1 of 2)",
                "say p2: That is not an account number.",
                "step input ask: digits 98 (inter-digit timeout)",
                ("step no_match ask: 2 digits, expected 4 to 6 (attempt 2 of 2)"),
                "step fallback ask: -> agent",
            ],
        ),
        (
            [no_input(), dtmf("#")],
            "voice",
            [
                "step no_input ask: no input (attempt 1 of 2)",
                "step input ask: digits #",
                "step no_match ask: no digits, expected 4 to 6 (attempt 2 of 2)",
                "step fallback ask: -> agent",
            ],
        ),
        ([text("12-34 56")], "chat", ["step input ask: text '12-34 56'", "set account=123456"]),
        ([text("4711#")], "chat", ["step input ask: text '4711#'", "set account=4711"]),
        (
            [text("twelve"), text("1")],
            "chat",
            [
                "step input ask: text 'twelve'",
                "step no_match ask: no digits, expected 4 to 6 (attempt 1 of 2)",
                "say p2: That is not an account number.",
                "step input ask: text '1'",
                "step no_match ask: 1 digit, expected 4 to 6 (attempt 2 of 2)",
                "step fallback ask: -> agent",
            ],
        ),
        (
            [speech("four seven one one", 0.9)],
            "voice",
            ["step input ask: speech 'four seven one one' (0.90)", "set account=4711"],
        ),
        (
            [text("double five oh one")],
            "chat",
            ["step input ask: text 'double five oh one'", "set account=5501"],
        ),
        (
            [text("triple 12"), text("double")],
            "chat",
            [
                "step input ask: text 'triple 12'",
                "step no_match ask: no digits, expected 4 to 6 (attempt 1 of 2)",
                "say p2: That is not an account number.",
                "step input ask: text 'double'",
                "step no_match ask: no digits, expected 4 to 6 (attempt 2 of 2)",
                "step fallback ask: -> agent",
            ],
        ),
        (
            [speech("4711", 0.2), speech("oh 4 1 1", 0.7)],
            "voice",
            [
                "step input ask: speech '4711' (0.20)",
                "step no_match ask: confidence below 0.50 (attempt 1 of 2)",
                "say p2: That is not an account number.",
                "step input ask: speech 'oh 4 1 1' (0.70)",
                "set account=0411",
            ],
        ),
    ],
)
def test_gather_inputs(script: list[object], channel: str, result: list[str]) -> None:
    transcript = run_call(GATHER, script, channel=channel)  # type: ignore[arg-type]
    kept = [
        line
        for line in transcript
        if line.startswith(("step input", "step no_", "step fallback", "set ", "say p2: That"))
    ]
    assert kept == result


# -- skip_if_known ---------------------------------------------------------------------------------------------

SKIP = flow_of("""\
    start: menu
    nodes:
      menu:
        type: menu
        var: intent
        skip_if_known: true
        known_prompt: "I see you're asking about {{ intent }}."
        prompt: "Billing or sales?"
        choices:
          - {key: 1, label: Billing, value: billing, next: account}
          - {key: 2, label: Sales, value: sales, next: bye}
          - {key: 9, label: Again, value: again, next: menu}
        fallback: bye
      account:
        type: gather
        var: account
        skip_if_known: true
        prompt: "Account?"
        next: bye
        fallback: bye
      bye: {type: hangup}
""")


def test_skip_if_known_takes_the_known_choice_and_skips_the_gather() -> None:
    assert run_call(SKIP, [], context={"intent": "Billing", "account": "42"}) == [
        "step enter menu: menu",
        "step skip menu: intent=Billing is known: choice 1 (Billing)",
        "step prompt menu: I see you're asking about Billing.",
        "say p1: I see you're asking about Billing.",
        "step choice menu: 1 (Billing) -> account",
        "set intent=billing",
        "step set menu: intent=billing",
        "step enter account: gather",
        "step skip account: account is known",
        "step enter bye: hangup",
        "step hangup bye: completed",
        "hangup completed",
        "done completed",
    ]


@pytest.mark.parametrize("context", [{}, {"intent": ""}, {"intent": "weather"}, {"intent": "again"}])
def test_skip_if_known_asks_when_the_value_is_missing_or_unknown(context: dict[str, str]) -> None:
    transcript = run_call(SKIP, [], context=context)
    assert transcript[-2:] == ["say p1: Billing or sales?", "listen l1: choices 1=Billing 2=Sales 9=Again timeout 5s"]


def test_webhook_result_when_none_is_pending_is_ignored() -> None:
    assert run_call(MENU, [webhook(200, {})])[-2:] == [
        "<- webhook 200 {}",
        "step ignored menu: webhook result (no webhook pending)",
    ]


def test_speech_that_ends_while_keys_are_pressed_does_not_lose_them() -> None:
    """A caller in a noisy room typed 4 2 7 1 #: the noise, taken for speech, ended at its maximum as "not
    understood" between the keys; the re-ask dropped 4 2 and "71#" was refused as 2 digits (an exploratory test)."""
    lines = run_call(GATHER, [dtmf("42"), speech("", 0.0), dtmf("71#")])
    assert "set account=4271" in lines, lines
    assert [line for line in lines if "no-match" in line or "no_match" in line] == [], lines
    assert any("(keys are being pressed)" in line for line in lines), lines
