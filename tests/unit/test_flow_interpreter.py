"""The interpreter: flows + event scripts -> whole sequences of actions and timeline steps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from ivr.actions import (
    CallWebhook,
    Done,
    Enqueue,
    Hangup,
    Listen,
    ListenChoice,
    ListenMode,
    Play,
    Say,
    SetVars,
    Step,
    StepKind,
    StopListening,
    StopPrompts,
)
from ivr.events import Digits, Disconnected, NoInput, PromptFinished, WebhookResult
from ivr.harness import dtmf, hangup, no_input, run_call, speech, text, webhook
from ivr.interpreter import Interpreter, Waiting
from ivr.loader import parse_flow
from ivr.model import Channel, Flow

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def flow_of(text_: str, name: str = "test") -> Flow:
    return parse_flow(dedent(text_), Path(f"/flows/{name}.yaml"))


def without_prompt_steps(transcript: list[str]) -> list[str]:
    """The transcript without 'step prompt' lines (each duplicates the say line after it)."""
    return [line for line in transcript if not line.startswith("step prompt ")]


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
        Step(StepKind.HANGUP, "bye", "finished", "test"), Hangup("finished"), Done("finished")]
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
    assert actions[-1] == Listen("l1", ListenMode.MENU, 5.0, choices=(
        ListenChoice("1", "Billing", ("bill", "invoice")), ListenChoice("2", "Support", ("help",)),
        ListenChoice("9", "Again")), speech_hints=("bill", "invoice", "billing", "help", "support", "again", "agent"))
    chat = Interpreter(MENU, channel=Channel.CHAT).start(NOW)
    assert chat[-1] == Listen("l1", ListenMode.MENU, None, choices=(
        ListenChoice("1", "Billing", ("bill", "invoice")), ListenChoice("2", "Support", ("help",))),
        speech_hints=("bill", "invoice", "billing", "help", "support", "agent"))


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


@pytest.mark.parametrize(("script", "outcome"), [
    # two silences with retries: 1: the no-input prompt before the re-ask, then the fallback
    ([no_input(), no_input()],
     ["step no_input menu: no input (attempt 1 of 2)", "say p2: I didn't hear you.",
      "step no_input menu: no input (attempt 2 of 2)", "step fallback menu: -> operator"]),
    ([dtmf("5"), dtmf("#")],
     ["step no_match menu: no choice matches (attempt 1 of 2)", "say p2: I didn't get that.",
      "step no_match menu: no choice matches (attempt 2 of 2)", "step fallback menu: -> operator"]),
    # low-confidence speech is a no-match; then words pick a choice
    ([speech("bill", 0.3), speech("help me please", 0.8)],
     ["step no_match menu: confidence below 0.50 (attempt 1 of 2)", "say p2: I didn't get that.",
      "step choice menu: 2 (Support) -> support"]),
    # words of two choices at once are ambiguous; a spoken key works
    ([speech("billing help", 0.9), speech("one", 0.9)],
     ["step no_match menu: no choice matches (attempt 1 of 2)", "say p2: I didn't get that.",
      "step choice menu: 1 (Billing) -> billing"]),
    # a menu decides on the first key
    ([dtmf("21")], ["step choice menu: 2 (Support) -> support"]),
    # typed text also works on voice
    ([text("BILLING")], ["step choice menu: 1 (Billing) -> billing"]),
])
def test_menu_outcomes(script: list[object], outcome: list[str]) -> None:
    transcript = run_call(MENU, script)  # type: ignore[arg-type]
    kept = [line for line in transcript
            if line.startswith(("step no_", "step fallback", "step choice", "say p2: I didn't"))]
    assert kept == outcome


def test_chat_menu_matches_key_label_and_words() -> None:
    for answer, choice in [("1", "1 (Billing)"), ("  support ", "2 (Support)"),
                           ("I have a question about my invoice!", "1 (Billing)"), ("HELP", "2 (Support)")]:
        transcript = run_call(MENU, [text(answer)], channel="chat")
        assert [line for line in transcript if line.startswith("step choice")] == \
            [f"step choice menu: {choice} -> {'billing' if 'Billing' in choice else 'support'}"]
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
        Say("p1", "Legal notice.", barge_in=False), Step(StepKind.PROMPT, "menu", "Press 1.", "test"),
        Say("p2", "Press 1."), Listen("l1", ListenMode.MENU, 5.0, choices=(ListenChoice("1", "1"),))]
    assert interp.handle(Digits("1"), NOW) == [
        Step(StepKind.IGNORED, "menu", "digits 1 (a prompt without barge-in is playing)", "test")]
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
    assert run_call(MENU, [hangup()], channel="chat")[-2:] == ["step hangup menu: the customer left",
                                                               "done disconnected"]


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


@pytest.mark.parametrize(("script", "channel", "result"), [
    ([dtmf("1234567")], "voice", ["step input ask: digits 123456", "set account=123456"]),
    ([dtmf("1"), dtmf("2"), dtmf("3"), dtmf("4"), no_input()], "voice",
     ["step input ask: digits 1234 (inter-digit timeout)", "set account=1234"]),
    ([dtmf("12#"), dtmf("98"), no_input()], "voice",
     ["step input ask: digits 12#", "step no_match ask: 2 digits, expected 4 to 6 (attempt 1 of 2)",
      "say p2: That is not an account number.",
      "step input ask: digits 98 (inter-digit timeout)", ("step no_match ask: 2 digits, expected 4 to 6 (attempt 2 "
                                                         "of 2)"), "step fallback ask: -> agent"]),
    ([no_input(), dtmf("#")], "voice",
     ["step no_input ask: no input (attempt 1 of 2)", "step input ask: digits #",
      "step no_match ask: no digits, expected 4 to 6 (attempt 2 of 2)", "step fallback ask: -> agent"]),
    ([text("12-34 56")], "chat", ["step input ask: text '12-34 56'", "set account=123456"]),
    ([text("4711#")], "chat", ["step input ask: text '4711#'", "set account=4711"]),
    ([text("twelve"), text("1")], "chat",
     ["step input ask: text 'twelve'", "step no_match ask: no digits, expected 4 to 6 (attempt 1 of 2)",
      "say p2: That is not an account number.",
      "step input ask: text '1'", "step no_match ask: 1 digit, expected 4 to 6 (attempt 2 of 2)",
      "step fallback ask: -> agent"]),
    ([speech("four seven one one", 0.9)], "voice", ["step input ask: speech 'four seven one one' (0.90)",
                                                    "set account=4711"]),
    ([speech("4711", 0.2), speech("oh 4 1 1", 0.7)], "voice",
     ["step input ask: speech '4711' (0.20)", "step no_match ask: confidence below 0.50 (attempt 1 of 2)",
      "say p2: That is not an account number.",
      "step input ask: speech 'oh 4 1 1' (0.70)", "set account=0411"]),
])
def test_gather_inputs(script: list[object], channel: str, result: list[str]) -> None:
    transcript = run_call(GATHER, script, channel=channel)  # type: ignore[arg-type]
    kept = [line for line in transcript
            if line.startswith(("step input", "step no_", "step fallback", "set ", "say p2: That"))]
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


# -- set, branch, hours ----------------------------------------------------------------------------------------

ROUTE = flow_of("""\
    start: mark
    nodes:
      mark:
        type: set
        vars: {greeting: "Hi {{ name | default('you') }}", seen: 1}
        next: route
      route:
        type: branch
        cases:
          - when: {var: tier, in: [gold, platinum]}
            next: vip
          - when: {all: [{var: intent, equals: billing}, {var: balance, gt: 100}]}
            next: collections
        else: hours
      hours:
        type: hours
        timezone: Europe/Paris
        schedule:
          mon-fri: "09:00-12:30, 13:30-18:00"
          sat: "10:00-14:00"
        holidays: ["12-25", "2026-05-14"]
        open: open
        closed: closed
      vip: {type: queue, queue: vip, priority: 10, skills: [senior, billing]}
      collections: {type: queue, queue: "{{ intent }}-collections"}
      open: {type: queue, queue: support}
      closed: {type: hangup, reason: closed}
""")


def test_set_and_branch() -> None:
    interp = Interpreter(ROUTE, {"name": "Ann", "tier": "gold"}, conversation_id="c1")
    assert interp.start(NOW) == [
        Step(StepKind.ENTER, "mark", "set", "test"),
        SetVars({"greeting": "Hi Ann", "seen": "1"}),
        Step(StepKind.SET, "mark", "greeting=Hi Ann", "test"),
        Step(StepKind.SET, "mark", "seen=1", "test"),
        Step(StepKind.ENTER, "route", "branch", "test"),
        Step(StepKind.BRANCH, "route", "tier in [gold, platinum] -> vip", "test"),
        Step(StepKind.ENTER, "vip", "queue", "test"),
        Step(StepKind.QUEUE, "vip", "vip", "test"),
        Enqueue("vip", 10, ("senior", "billing"),
                {"name": "Ann", "tier": "gold", "greeting": "Hi Ann", "seen": "1"}),
        Done("queued"),
    ]
    assert dict(interp.context) == {"name": "Ann", "tier": "gold", "greeting": "Hi Ann", "seen": "1"}
    assert run_call(ROUTE, [], context={"intent": "billing", "balance": "250"})[-5:] == [
        "step branch route: (intent equals 'billing' and balance gt 100) -> collections",
        "step enter collections: queue",
        "step queue collections: billing-collections",
        "enqueue billing-collections priority 0",
        "done queued",
    ]


@pytest.mark.parametrize(("now", "decision"), [
    # Wednesday 4 March 2026; Paris is UTC+1 in winter
    (datetime(2026, 3, 4, 8, 0, tzinfo=UTC), "open (Wed 2026-03-04 09:00 Europe/Paris) -> open"),
    (datetime(2026, 3, 4, 7, 59, tzinfo=UTC), "closed (Wed 2026-03-04 08:59 Europe/Paris) -> closed"),
    (datetime(2026, 3, 4, 11, 45, tzinfo=UTC), "closed (Wed 2026-03-04 12:45 Europe/Paris) -> closed"),
    (datetime(2026, 3, 4, 16, 59, tzinfo=UTC), "open (Wed 2026-03-04 17:59 Europe/Paris) -> open"),
    (datetime(2026, 3, 4, 17, 0, tzinfo=UTC), "closed (Wed 2026-03-04 18:00 Europe/Paris) -> closed"),
    # the same instant seen from New York: the node's zone decides
    (datetime(2026, 3, 4, 3, 30, tzinfo=datetime.fromisoformat("2026-03-04T00:00-05:00").tzinfo),
     "open (Wed 2026-03-04 09:30 Europe/Paris) -> open"),
    # summer time: Paris is UTC+2
    (datetime(2026, 7, 1, 7, 30, tzinfo=UTC), "open (Wed 2026-07-01 09:30 Europe/Paris) -> open"),
    (datetime(2026, 7, 1, 16, 30, tzinfo=UTC), "closed (Wed 2026-07-01 18:30 Europe/Paris) -> closed"),
    # Saturday, and Sunday (not listed: closed)
    (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "open (Sat 2026-03-07 13:00 Europe/Paris) -> open"),
    (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "closed (Sun 2026-03-08 13:00 Europe/Paris) -> closed"),
    # holidays: every 25 December, and one date; Friday 25 Dec 2026 at 23:30 UTC is already the 26th in Paris
    (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), "closed (holiday, Fri 2026-12-25 11:00 Europe/Paris) -> closed"),
    (datetime(2027, 12, 24, 23, 30, tzinfo=UTC), "closed (holiday, Sat 2027-12-25 00:30 Europe/Paris) -> closed"),
    (datetime(2026, 5, 14, 10, 0, tzinfo=UTC), "closed (holiday, Thu 2026-05-14 12:00 Europe/Paris) -> closed"),
    (datetime(2027, 5, 14, 10, 0, tzinfo=UTC), "open (Fri 2027-05-14 12:00 Europe/Paris) -> open"),
])
def test_hours_in_the_node_time_zone(now: datetime, decision: str) -> None:
    transcript = run_call(ROUTE, [], now=now)
    assert [line for line in transcript if line.startswith("step hours")] == [f"step hours hours: {decision}"]
    assert transcript[-1] == ("done queued" if "-> open" in decision else "done closed")


# -- webhooks --------------------------------------------------------------------------------------------------

HOOK = flow_of("""\
    start: lookup
    nodes:
      lookup:
        type: webhook
        url: "{{ base | default('https://crm.example.com') }}/customers/{{ account }}?src=ivr"
        method: POST
        headers: {Authorization: "Bearer {{ token }}"}
        timeout: 2s
        next: known
        on_error: unknown
      known: {type: queue, queue: "{{ tier | default('standard') }}"}
      unknown: {type: queue, queue: fallback}
      vip: {type: queue, queue: vip, entry: true}
""")


def test_webhook_call_carries_the_context() -> None:
    interp = Interpreter(HOOK, {"account": "12/34 5", "token": "s3cret"}, conversation_id="conv-1")
    assert interp.start(NOW) == [
        Step(StepKind.ENTER, "lookup", "webhook", "test"),
        Step(StepKind.WEBHOOK, "lookup", "POST https://crm.example.com/customers/12%2F34%205?src=ivr", "test"),
        CallWebhook("https://crm.example.com/customers/12%2F34%205?src=ivr", "POST",
                    {"conversation_id": "conv-1", "flow": "test", "flow_version": HOOK.version, "node": "lookup",
                     "channel": "voice", "vars": {"account": "12/34 5", "token": "s3cret"}},
                    2.0, {"Authorization": "Bearer s3cret"}),
    ]
    assert interp.waiting is Waiting.WEBHOOK
    assert interp.handle(Digits("1"), NOW) == [
        Step(StepKind.IGNORED, "lookup", "digits 1 (not listening)", "test")]


@pytest.mark.parametrize(("result", "tail"), [
    (webhook(200, {"vars": {"tier": "gold", "score": 7, "vip": True, "bad name": "x", "nested": {"a": 1}},
                   "next": "vip"}),
     [("step webhook lookup: ok: status 200, ignored bad name, nested (not a lower_case name with a text or number), "
      "next 'vip' -> vip"),
      "set tier=gold score=7 vip=true", "step set lookup: tier=gold", "step set lookup: score=7",
      "step set lookup: vip=true", "step enter vip: queue", "step queue vip: vip"]),
    (webhook(201, {"tier": "silver", "balance": 12.5, "list": [1]}),
     ["step webhook lookup: ok: status 201, ignored list (not a lower_case name with a text or number) -> known",
      "set tier=silver balance=12.5", "step set lookup: tier=silver", "step set lookup: balance=12.5",
      "step enter known: queue", "step queue known: silver"]),
    (webhook(204, None),
     ["step webhook lookup: ok: status 204 -> known", "step enter known: queue", "step queue known: standard"]),
    (webhook(200, {"vars": {"tier": "gold"}, "next": "nowhere"}),
     ["step webhook lookup: ok: status 200, next 'nowhere' is not a node of this flow -> unknown",
      "set tier=gold", "step set lookup: tier=gold", "step enter unknown: queue", "step queue unknown: fallback"]),
    (webhook(200, ["not", "an", "object"]),
     ["step webhook lookup: failed: status 200, body is not a JSON object -> unknown",
      "step enter unknown: queue", "step queue unknown: fallback"]),
    (webhook(200, error="invalid JSON"),
     ["step webhook lookup: failed: invalid JSON -> unknown", "step enter unknown: queue",
      "step queue unknown: fallback"]),
    (webhook(503, {"vars": {"tier": "gold"}}),
     ["step webhook lookup: failed: status 503 -> unknown", "step enter unknown: queue",
      "step queue unknown: fallback"]),
    (webhook(None, error="timeout"),
     ["step webhook lookup: failed: timeout -> unknown", "step enter unknown: queue",
      "step queue unknown: fallback"]),
])
def test_webhook_results(result: WebhookResult, tail: list[str]) -> None:
    transcript = run_call(HOOK, [result], context={"account": "1"})
    start = transcript.index(next(line for line in transcript if line.startswith("<- webhook")))
    assert transcript[start + 1:] == tail + [next(line for line in transcript if line.startswith("enqueue")),
                                             "done queued"]


def test_webhook_url_that_does_not_render_to_http_goes_to_on_error() -> None:
    assert run_call(HOOK, [], context={"base": "file:///etc"})[:4] == [
        "step enter lookup: webhook",
        "step webhook lookup: failed: 'file:///etc/customers/?src=ivr' is not an http(s) URL -> unknown",
        "step enter unknown: queue",
        "step queue unknown: fallback",
    ]


def test_webhook_result_when_none_is_pending_is_ignored() -> None:
    assert run_call(MENU, [webhook(200, {})])[-2:] == [
        "<- webhook 200 {}", "step ignored menu: webhook result (no webhook pending)"]


# -- goto and sub-flows ----------------------------------------------------------------------------------------

MAIN = flow_of("""\
    start: hello
    nodes:
      hello: {type: say, prompt: "Main.", next: survey}
      survey: {type: goto, flow: survey, next: bye}
      bye: {type: goto, flow: "farewell#polite"}
""", "main")
SURVEY = flow_of("""\
    start: q
    nodes:
      q:
        type: menu
        var: rating
        prompt: "Rate us 1 to 2."
        choices: [{key: 1, next: done}, {key: 2, next: done}]
        fallback: done
      done: {type: return}
""", "survey")
FAREWELL = flow_of("""\
    start: plain
    nodes:
      plain: {type: hangup}
      polite: {type: hangup, prompt: "Goodbye {{ rating }}.", entry: true, reason: polite}
""", "farewell")


def test_goto_calls_a_sub_flow_and_jumps_to_an_entry() -> None:
    flows = {"survey": SURVEY, "farewell": FAREWELL}
    assert without_prompt_steps(run_call(MAIN, [dtmf("2")], flows=flows)) == [
        "step enter hello: say",
        "say p1: Main.",
        "step enter survey: goto",
        "step goto survey: call survey#q, back to bye",
        "step enter q: menu",
        "say p2: Rate us 1 to 2.",
        "listen l1: choices 1=1 2=2 timeout 5s",
        "<- digits 2",
        "step input q: digits 2",
        "stop-listening l1",
        "step choice q: 2 (2) -> done",
        "set rating=2",
        "step set q: rating=2",
        "step enter done: return",
        "step return done: -> main#bye",
        "step enter bye: goto",
        "step goto bye: -> farewell#polite",
        "step enter polite: hangup",
        "say p3: Goodbye 2.",
        "step hangup polite: polite",
        "hangup polite",
        "done polite",
    ]


def test_steps_name_the_flow_they_happen_in() -> None:
    interp = Interpreter(MAIN, flows={"survey": SURVEY, "farewell": FAREWELL}, channel="chat")
    actions = interp.start(NOW)
    assert [(a.flow, a.node, a.kind) for a in actions if isinstance(a, Step)][-4:] == [
        ("main", "survey", StepKind.ENTER), ("main", "survey", StepKind.GOTO), ("survey", "q", StepKind.ENTER),
        ("survey", "q", StepKind.PROMPT)]
    assert interp.flow is SURVEY


def test_goto_to_a_flow_that_is_not_available_ends_the_call() -> None:
    assert without_prompt_steps(run_call(MAIN, [], flows={}, channel="chat")) == [
        "step enter hello: say",
        "say p1: Main.",
        "step enter survey: goto",
        "step error survey: flow 'survey' is not available",
        "hangup error",
        "done error",
    ]


def test_return_without_a_caller_and_nesting_limit() -> None:
    assert run_call(SURVEY, [dtmf("1")])[-4:] == [
        "step enter done: return", "step error done: return, but no flow called this one", "hangup error",
        "done error"]
    recursive = flow_of("""\
        start: again
        nodes:
          again: {type: goto, flow: rec, next: end}
          end: {type: return}
    """, "rec")
    assert run_call(recursive, [])[-4:] == [
        "step enter again: goto", "step error again: sub-flows nested more than 8 deep", "hangup error",
        "done error"]


# -- loop guard ------------------------------------------------------------------------------------------------

def test_loop_without_input_hangs_up() -> None:
    loop = flow_of("""\
        start: a
        nodes:
          a: {type: set, vars: {n: x}, next: b}
          b:
            type: branch
            cases: [{when: {var: n, equals: x}, next: a}]
            else: c
          c: {type: hangup}
    """)
    transcript = run_call(loop, [])
    assert len([line for line in transcript if line.startswith("step enter")]) == 100
    assert transcript[-3:] == ["step error b: loop: more than 100 steps without input from the caller",
                               "hangup loop", "done loop"]


def test_caller_input_resets_the_loop_guard() -> None:
    menu = flow_of("""\
        start: m
        nodes:
          m:
            type: menu
            prompt: "Again?"
            choices: [{key: 1, next: s}]
            fallback: m
          s: {type: say, prompt: "Once more.", next: m}
    """)
    interp = Interpreter(menu, channel="chat", max_steps=3)
    interp.start(NOW)
    for _ in range(10):
        actions = interp.handle(Digits("1"), NOW)
        assert not interp.done and isinstance(actions[-1], Listen)


def test_play_on_voice_and_chat_and_the_channel_variable(tmp_path: Path) -> None:
    (tmp_path / "hold.ogg").write_bytes(b"OggS")
    flow = parse_flow(dedent("""\
        start: music
        nodes:
          music: {type: play, file: hold.ogg, chat: "(music on {{ channel }})", barge_in: false, next: bye}
          bye: {type: hangup, prompt: "Bye on {{ channel }}."}
    """), tmp_path / "music.yaml")
    audio = str(tmp_path / "hold.ogg")
    interp = Interpreter(flow, {"channel": "spoofed"})
    assert interp.start(NOW) == [Step(StepKind.ENTER, "music", "play", "music"),
                                 Step(StepKind.PROMPT, "music", "audio hold.ogg", "music"), Play("p1", audio, False)]
    assert interp.handle(PromptFinished("p1"), NOW)[2] == Say("p2", "Bye on voice.")
    assert without_prompt_steps(run_call(flow, [], channel="chat")) == [
        "step enter music: play", "say p1: (music on chat) [no barge-in]", "step enter bye: hangup", "say p2: Bye on chat.",
        "step hangup bye: completed", "hangup completed", "done completed"]
