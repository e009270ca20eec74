"""Flow nodes `callback` (book a callback: as soon as possible or at a local time) and `queue_status`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from ivr.actions import CheckQueue, Done, Hangup, RequestCallback, SetVars
from ivr.errors import FlowErrors
from ivr.events import Digits, QueueStatus, Text
from ivr.harness import Session
from ivr.loader import load_flow
from ivr.model import CallbackNode
from ivr.simulator import simulate
from tests.unit.flowkit import flow_of

FLOW = flow_of("""\
    start: look
    nodes:
      look:
        type: queue_status
        queue: support
        next: decide
      decide:
        type: branch
        cases:
          - when: {var: queue_agents_available, gt: 0}
            next: to_queue
          - when: {var: queue_wait_seconds, gt: 120}
            next: offer
        else: offer
      offer:
        type: callback
        queue: "{{ team | default('support') }}"
        prompt: "Press 1 to be called back, 2 for after five, 3 to keep waiting."
        timezone: Europe/Paris
        phone_var: phone
        priority: 2
        skills: [billing]
        attempts: 2
        retry_after: 5m
        expire_after: 8h
        choices:
          - {key: 1, label: Call me back, words: [call me back], when: asap}
          - {key: 2, label: After 5 pm, words: [after five], when: 17:00}
          - {key: 3, label: Keep waiting, words: [wait], next: to_queue}
        next: booked
        fallback: to_queue
      booked:
        type: hangup
        prompt: "We will call you back."
        reason: callback
      to_queue:
        type: queue
        queue: support
    """)

PARIS_MORNING = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PARIS_EVENING = datetime(2026, 3, 4, 19, 0, tzinfo=UTC)  # 20:00 in Paris


def session(now: datetime = PARIS_MORNING, **context: str) -> Session:
    s = Session(FLOW, context=context, now=now)
    s.start()
    return s


def booked(s: Session) -> list[RequestCallback]:
    return [a for a in s.actions if isinstance(a, RequestCallback)]


def test_queue_status_sets_variables_the_flow_branches_on() -> None:
    s = session()
    assert [a for a in s.actions if isinstance(a, CheckQueue)] == [CheckQueue("support")]
    s.feed(QueueStatus(agents_available=1, waiting=0, wait_seconds=None))
    assert s.interpreter.context["queue_agents_available"] == "1"
    assert s.interpreter.context["queue_wait_seconds"] == ""
    assert s.done == Done("queued")
    s = session()
    s.feed(QueueStatus(agents_available=0, waiting=4, wait_seconds=300))
    assert (s.interpreter.node, s.interpreter.context["queue_waiting"]) == ("offer", "4")


def test_an_asap_callback_is_booked_with_the_node_policy_then_the_flow_goes_on() -> None:
    s = session(phone="+33 1 23 45 67 89", team="billing")
    s.feed(QueueStatus(0, 3, 400))
    s.feed(Digits("1"))
    assert booked(s) == [
        RequestCallback(
            "billing",
            None,
            "Call me back",
            2,
            ("billing",),
            "+33 1 23 45 67 89",
            2,
            300.0,
            8 * 3600.0,
            frozenset({"attempts", "retry_after", "expire_after"}),  # the node sets them: the queue's policy yields
        )
    ]
    assert Hangup("callback") in s.actions and s.done == Done("callback")
    assert "step callback offer: as soon as possible in billing, phone +33 1 23 45 67 89" in s.transcript


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (PARIS_MORNING, datetime(2026, 3, 4, 16, 0, tzinfo=UTC)),  # today 17:00 Paris
        (PARIS_EVENING, datetime(2026, 3, 5, 16, 0, tzinfo=UTC)),  # past 17:00: tomorrow
        (datetime(2026, 3, 28, 17, 0, tzinfo=UTC), datetime(2026, 3, 29, 15, 0, tzinfo=UTC)),  # over the DST change
    ],
)
def test_a_time_slot_is_the_next_such_local_time(now: datetime, due: datetime) -> None:
    s = session(now)
    s.feed(QueueStatus(0, 3, 400))
    s.feed(Digits("2"))
    [request] = booked(s)
    assert request.due == due and request.label == "After 5 pm"


def test_a_choice_without_when_books_nothing_and_chat_books_by_button_text() -> None:
    s = session()
    s.feed(QueueStatus(0, 3, 400))
    s.feed(Digits("3"))
    assert booked(s) == [] and s.done == Done("queued")
    chat = Session(FLOW, channel="chat", now=PARIS_MORNING)
    chat.start()
    chat.feed(QueueStatus(0, 1, None))
    chat.feed(Text("call me back"))
    assert [r.due for r in booked(chat)] == [None]


def test_the_simulator_answers_queue_status_and_shows_the_booking() -> None:
    out = __import__("io").StringIO()
    simulate(FLOW, ["/queue 0 5 600", "2"], out, now=PARIS_MORNING)
    text = out.getvalue()
    assert "looks at queue 'support'" in text
    assert "callback booked in 'support' at 2026-03-04 17:00 CET: After 5 pm" in text


def test_the_loaded_node_has_its_slots() -> None:
    node = FLOW.nodes["offer"]
    assert isinstance(node, CallbackNode)
    assert node.slots == (("1", "asap"), ("2", "17:00"))
    assert [c.next for c in node.choices] == ["booked", "booked", "to_queue"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ("[{key: 1, when: '25:00'}]", "when '25:00' must be 'asap' or a time of day 'HH:MM'"),
        ("[{key: 1, when: asap, next: done}]", "a callback choice takes either 'when'"),
        ("[{key: 1, next: done}]", "a callback node needs a choice with 'when'"),
        ("[{key: 1, when: soon}]", "when 'soon' must be 'asap'"),
    ],
)
def test_broken_callback_nodes_are_named(tmp_path: Path, choices: str, message: str) -> None:
    path = write(
        tmp_path,
        f"""\
        start: offer
        nodes:
          offer:
            type: callback
            queue: support
            prompt: p
            choices: {choices}
            next: done
            fallback: done
          done: {{type: hangup}}
        """,
    )
    with pytest.raises(FlowErrors) as info:
        load_flow(path)
    assert any(message in str(e) and "node 'offer'" in str(e) for e in info.value.errors), info.value.errors


def test_a_callback_node_checks_its_timezone_and_durations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        start: offer
        nodes:
          offer:
            type: callback
            queue: support
            prompt: p
            timezone: Mars/Olympus
            retry_after: soon
            attempts: 0
            choices: [{key: 1, when: asap}]
            next: done
            fallback: done
          done: {type: hangup}
        """,
    )
    with pytest.raises(FlowErrors) as info:
        load_flow(path)
    text = "\n".join(str(e) for e in info.value.errors)
    assert "unknown timezone 'Mars/Olympus'" in text
    assert "'retry_after': bad duration 'soon'" in text
    assert "'attempts' must be a whole number from 1 to 10" in text


def test_set_vars_are_announced_for_queue_status() -> None:
    s = session()
    s.feed(QueueStatus(2, 0, 0))
    assert SetVars({"queue_agents_available": "2", "queue_waiting": "0", "queue_wait_seconds": "0"}) in s.actions
