"""Queue settings as an admin sends them: every field checked, named when wrong; how a node and its queue combine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.contact.queues import MaxWaitAction, Queue, parse_queue
from gateway.contact.routing import Waiting, apply_rules
from gateway.contact.widget_settings import parse_widget
from gateway.errors import BadRequest
from ivr.events import Digits
from ivr.harness import Session
from ivr.hours import parse_schedule
from ivr.loader import check_queues, parse_flow


def test_a_full_queue_round_trips_and_missing_fields_take_the_defaults() -> None:
    body = {
        "name": "billing",
        "skills": {"Billing": 2, "spanish": 1},
        "priority": 5,
        "service_level_seconds": 30,
        "announce_seconds": 60,
        "music": "calm.ogg",
        "max_wait_seconds": 300,
        "on_max_wait": {"action": "overflow", "target": "general"},
        "callback": {"attempts": 2, "spacing_seconds": 900, "expiry_hours": 8},
        "hours": {"timezone": "Europe/Paris", "schedule": {"mon-fri": "09:00-17:00"}, "holidays": ["12-25"]},
        "version": 4,
    }
    queue = parse_queue("billing", body)
    assert queue.to_json() == {**body, "skills": {"billing": 2, "spanish": 1}}
    assert parse_queue("general", {}).to_json() == {
        "version": 0,
        "name": "general",
        "skills": {},
        "priority": 0,
        "service_level_seconds": 20,
        "announce_seconds": 45,
        "music": "",
        "max_wait_seconds": 0,
        "on_max_wait": {"action": "none", "target": ""},
        "callback": {"attempts": 3, "spacing_seconds": 600, "expiry_hours": 24},
        "hours": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"name": "other"}, "name"),
        ({"skills": ["billing"]}, "skills"),
        ({"skills": {"billing": 11}}, "skills.billing"),
        ({"skills": {"bad skill": 1}}, "skills"),
        ({"priority": 1.5}, "priority"),
        ({"priority": True}, "priority"),
        ({"service_level_seconds": 0}, "service_level_seconds"),
        ({"music": "../../etc/passwd"}, "music"),
        ({"music": "song.exe"}, "music"),
        ({"max_wait_seconds": -1}, "max_wait_seconds"),
        ({"max_wait_seconds": 60, "on_max_wait": {"action": "teleport"}}, "on_max_wait.action"),
        ({"max_wait_seconds": 60, "on_max_wait": {"action": "overflow"}}, "on_max_wait.target"),
        ({"max_wait_seconds": 60, "on_max_wait": {"action": "overflow", "target": "billing"}}, "on_max_wait.target"),
        ({"max_wait_seconds": 60, "on_max_wait": {"action": "flow", "target": ""}}, "on_max_wait.target"),
        ({"on_max_wait": {"action": "callback", "target": ""}}, "max_wait_seconds"),
        ({"callback": {"attempts": 0}}, "callback.attempts"),
        ({"callback": {"spacing_seconds": 5}}, "callback.spacing_seconds"),
        ({"callback": {"expiry_hours": 0}}, "callback.expiry_hours"),
        ({"callback": {"retries": 1}}, "callback.retries"),
        ({"hours": {"timezone": "Mars/Base", "schedule": {"mon": "09:00-17:00"}}}, "hours.timezone"),
        ({"hours": {"timezone": "UTC", "schedule": {"mon": "17:00-09:00"}}}, "hours.schedule"),
        ({"hours": {"timezone": "UTC", "schedule": {"mon": "09:00-17:00"}, "holidays": ["31-12"]}}, "hours.holidays"),
        ({"hours": "always"}, "hours"),
        ({"version": -1}, "version"),
        ({"announce_seconds": 1}, "announce_seconds"),  # 0 (never) or 5 and more, as --announce-seconds
        ({"announce_seconds": 4}, "announce_seconds"),
    ],
)
def test_a_bad_field_is_refused_by_name(body: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_queue("billing", body)
    assert caught.value.field == field, caught.value.message


def test_announcements_take_the_settings_rule_and_a_queue_stored_before_it_still_loads() -> None:
    assert [parse_queue("billing", {"announce_seconds": n}).announce_seconds for n in (0, 5, 3600)] == [0, 5, 3600]
    assert parse_queue("billing", {"announce_seconds": 3}, writing=False).announce_seconds == 3


def test_bad_queue_names_are_refused() -> None:
    for name in ("", "a b", "x" * 41, "../x", "vip\n"):
        with pytest.raises(BadRequest):
            parse_queue(name, {})


def test_a_node_asks_at_least_its_queues_skills_and_adds_to_its_priority() -> None:
    queue = parse_queue("billing", {"skills": {"billing": 2, "french": 1}, "priority": 10})
    assert queue.merge((("billing", 1), ("vip", 3)), 2) == ((("billing", 2), ("french", 1), ("vip", 3)), 12)
    conv = Waiting("c1", 0, priority=2, skills=(("billing", 4),), queue="billing")
    routed = apply_rules(conv, {"billing": (queue.required_skills, queue.priority)})
    assert (routed.skills, routed.priority) == ((("billing", 4), ("french", 1)), 12)
    assert apply_rules(Waiting("c2", queue="other"), {"billing": ((), 5)}) == Waiting("c2", queue="other")


def test_a_queues_hours_say_open_or_closed_and_no_hours_is_always_open() -> None:
    queue = parse_queue("billing", {"hours": {"timezone": "UTC", "schedule": {"mon": "09:00-17:00"}}})
    monday_noon, sunday = datetime(2026, 3, 2, 12, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert (queue.is_open(monday_noon), queue.is_open(sunday)) == (True, False)
    assert Queue("x").is_open(sunday) is True
    assert MaxWaitAction("flow") is MaxWaitAction.FLOW


def test_widget_settings_are_checked_field_by_field() -> None:
    ok = parse_widget({"title": " Help ", "colour": "#ABCDEF", "language": "pt-BR"})
    assert (ok.title, ok.colour, ok.accent, ok.language) == ("Help", "#abcdef", "#17573a", "pt-BR")
    for body, field in (
        ({"colour": "#abc"}, "colour"),
        ({"accent": "url(x)"}, "accent"),
        ({"title": ""}, "title"),
        ({"title": "x" * 61}, "title"),
        ({"language": "english!"}, "language"),
        ({"hours_queue": "a b"}, "hours_queue"),
        ({"greeting": 3}, "greeting"),
        ({"font": "Comic"}, "font"),
    ):
        with pytest.raises(BadRequest) as caught:
            parse_widget(body)
        assert caught.value.field == field


FLOW = """\
start: hours
nodes:
  hours:
    type: hours
    queue: billing
    open: menu
    closed: bye
  menu:
    type: menu
    prompt: Press 1.
    choices:
      - {key: 1, label: Billing, next: queue}
    fallback: bye
  queue:
    type: queue
    queue: biling
  bye:
    type: hangup
"""


def test_a_flow_naming_a_missing_queue_is_an_error_on_its_line_with_a_suggestion() -> None:
    flow = parse_flow(FLOW, Path("line.yaml"))
    assert flow.queue_refs() == {"billing": ("hours", 5), "biling": ("queue", 16)}
    assert [str(e) for e in check_queues(flow, {"billing", "support"})] == [
        "line.yaml:16: node 'queue': unknown queue 'biling' (did you mean 'billing'?) (create it first, or fix the name)"
    ]
    assert check_queues(flow, {"billing", "biling"}) == []


def test_an_hours_node_naming_a_queue_reads_that_queues_hours() -> None:
    flow = parse_flow(FLOW.replace("biling", "billing"), Path("line.yaml"))
    closed = {"billing": parse_schedule("UTC", {"sat": "09:00-10:00"}, None, lines={})}
    monday = datetime(2026, 3, 2, 12, tzinfo=UTC)
    session = Session(flow, now=monday, queue_hours=closed)
    session.start()
    assert "step hours hours: closed (queue billing, Mon 2026-03-02 12:00 UTC) -> bye" in session.transcript
    session = Session(flow, now=monday, queue_hours={"billing": None})  # a queue without hours: open
    session.start()
    session.feed(Digits("1"))
    assert "step hours hours: open (queue billing has no opening hours) -> menu" in session.transcript
    assert session.done is not None and session.done.reason == "queued"


def test_an_hours_node_takes_a_queue_or_its_own_schedule_not_both() -> None:
    text = FLOW.replace("    queue: billing\n    open", "    queue: billing\n    timezone: UTC\n    open", 1)
    with pytest.raises(Exception, match="either 'queue'"):
        parse_flow(text, Path("line.yaml"))
