"""Flow versions, pure parts: ids, diffs, the graph from the model, publish rules, recorded inputs and replay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.flows.replays import parse_since
from gateway.flows.versions import queue_problems, static_queues, unified_diff
from ivr.actions import Step, StepKind
from ivr.events import (
    Digits,
    Disconnected,
    NoInput,
    NotReplayable,
    QueueStatus,
    Speech,
    Text,
    WebhookResult,
    event_from_record,
    event_record,
)
from ivr.graph import flow_graph
from ivr.harness import Session, dtmf, hangup, no_input
from ivr.loader import load_flow, parse_flow
from ivr.replay import LEGACY, compare, recorded_runs

ROOT = Path(__file__).parents[2]
TEST_FLOW = ROOT / "tests" / "flows" / "default.yaml"
SHIPPED = ROOT / "ivr" / "flows" / "default.yaml"


def test_a_version_id_is_the_hash_of_its_text() -> None:
    text = TEST_FLOW.read_text()
    a, b = parse_flow(text, TEST_FLOW), parse_flow(text, TEST_FLOW)
    assert a.version == b.version and len(a.version) == 12
    assert parse_flow(text.replace("Goodbye.", "Bye."), TEST_FLOW).version != a.version


def test_diff_is_unified_with_the_versions_named() -> None:
    diff = unified_diff("a\nb\n", "a\nc\n", "f.yaml@1", "f.yaml@2")
    assert diff.splitlines() == ["--- f.yaml@1", "+++ f.yaml@2", "@@ -1,2 +1,2 @@", " a", "-b", "+c"]
    assert unified_diff("same\n", "same\n", "x", "y") == ""


def test_the_graph_has_every_node_with_its_lines_and_labelled_edges() -> None:
    text = TEST_FLOW.read_text()
    graph = flow_graph(load_flow(TEST_FLOW), text)
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert graph["start"] == "hello"
    assert (nodes["hello"]["line"], nodes["hello"]["end_line"]) == (11, 14)
    assert text.splitlines()[nodes["menu"]["line"] - 1].strip() == "menu:"
    edges = {(e["from"], e["to"], e["label"]) for e in graph["edges"]}
    assert {
        ("menu", "billing", "1 Billing"),
        ("menu", "support", "2 Support"),
        ("menu", "goodbye", "no input / no match"),
        ("lookup", "thanks", "ok"),
        ("lookup", "lookup_failed", "error"),
        ("account", "lookup", "answer"),
    } <= edges
    shipped = flow_graph(load_flow(SHIPPED), SHIPPED.read_text())
    shipped_edges = {(e["from"], e["label"]) for e in shipped["edges"]}
    assert {("check_hours", "open"), ("check_hours", "closed"), ("after_hours", "return")} <= shipped_edges
    assert {n["id"] for n in shipped["nodes"]} == set(load_flow(SHIPPED).nodes)


def test_publish_refuses_a_queue_that_does_not_exist_on_its_line() -> None:
    flow = load_flow(TEST_FLOW)
    assert [q for q, _, _ in static_queues(flow)] == ["billing"]
    (problem,) = queue_problems(flow, {"bililng", "support"})
    assert (problem.line, problem.node, problem.code) == (63, "billing", "queue")
    assert problem.message == "queue 'billing' does not exist (did you mean 'bililng'?)"
    assert queue_problems(flow, {"billing"}) == []


@pytest.mark.parametrize(
    "event",
    [
        Digits("12#"),
        Text("billing"),
        Speech("billing", 0.8, "billing", ""),
        Speech("", 0.2, "bill", "low_confidence"),
        WebhookResult(200, {"name": "Ann"}),
        WebhookResult(None, None, "timeout"),
        QueueStatus(2, 5, 30),
        Disconnected(),
    ],
)
def test_recorded_inputs_come_back_as_the_same_event(event: object) -> None:
    assert event_from_record(event_record(event)) == event  # type: ignore[arg-type]


def test_a_no_input_is_for_whatever_window_is_open_and_a_huge_webhook_answer_is_not_replayable() -> None:
    assert event_from_record(event_record(NoInput("l7"))) == NoInput()
    record = event_record(WebhookResult(200, {"blob": "x" * 10_000}))
    assert record["truncated"] is True
    with pytest.raises(NotReplayable):
        event_from_record(record)


def _timeline(steps: list[Step], start_ms: int = 1_700_000_000_000) -> list[dict[str, object]]:
    return [
        {"type": "ivr", "ts": start_ms + i, "kind": str(s.kind), "node": s.node, "detail": s.detail, "flow": s.flow}
        | ({"inputs": list(s.inputs)} if s.inputs else {})
        for i, s in enumerate(steps)
    ]


def _session(script: list[object], channel: str = "voice", context: dict[str, str] | None = None) -> list[Step]:
    session = Session(load_flow(TEST_FLOW), channel=channel, context=context)
    session.start()
    for event in script:
        session.feed(event)  # type: ignore[arg-type]
    return [a for a in session.actions if isinstance(a, Step)]


def test_every_step_carries_the_inputs_it_comes_from() -> None:
    steps = _session([no_input(), dtmf("2")], context={"context.lang": "en"})
    with_inputs = [(s.kind, s.inputs) for s in steps if s.inputs]
    start = {"type": "start", "context": {"context.lang": "en"}, "channel": "voice"}
    assert with_inputs[0] == (StepKind.ENTER, ({**start, "version": load_flow(TEST_FLOW).version},))
    assert [i for _, inputs in with_inputs[1:] for i in inputs] == [
        {"type": "no_input"},
        {"type": "digits", "digits": "2"},
    ]


def test_replaying_a_run_on_its_own_version_is_the_same_and_on_a_changed_menu_differs() -> None:
    flow = load_flow(TEST_FLOW)
    runs = recorded_runs("c1", _timeline(_session([no_input(), dtmf("2")])), "default")
    runs += recorded_runs("c2", _timeline(_session([dtmf("1")], channel="chat")), "default")
    runs += recorded_runs("c3", _timeline(_session([hangup()])), "default")
    assert [r.path for r in runs] == [
        ("hello", "menu", "support"),
        ("hello", "menu", "billing"),
        ("hello", "menu"),
    ]
    same = compare(flow, runs)
    assert (same.sessions, same.same, same.differ) == (3, 3, [])
    text = TEST_FLOW.read_text().replace("        next: support\n", "        next: goodbye\n")
    text = text.replace("  support:\n    type: hangup\n", "  support:\n    type: hangup\n    entry: true\n")
    changed = compare(parse_flow(text, TEST_FLOW), runs)
    assert (changed.sessions, changed.same) == (3, 2)
    assert [(d["cid"], d["old_path"], d["new_path"]) for d in changed.differ] == [
        ("c1", ["hello", "menu", "support"], ["hello", "menu", "goodbye"])
    ]


def test_a_run_recorded_before_inputs_were_kept_is_counted_apart() -> None:
    legacy = [{k: v for k, v in e.items() if k != "inputs"} for e in _timeline(_session([dtmf("2")]))]
    (run,) = recorded_runs("old", legacy, "default")
    assert (run.problem, run.path) == (LEGACY, ("hello", "menu", "support"))
    result = compare(load_flow(TEST_FLOW), [run])
    assert (result.sessions, result.unreplayable) == (0, [{"cid": "old", "reason": LEGACY}])


def test_since_is_a_span_or_an_iso_time() -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now) == datetime(2025, 3, 10, 11, 30, tzinfo=UTC)
    assert parse_since("2025-03-01T00:00:00", now) == datetime(2025, 3, 1, tzinfo=UTC)
    with pytest.raises(Exception, match="since"):
        parse_since("last week", now)
