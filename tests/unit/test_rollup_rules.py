"""The report rules on their own: one logged event -> its counters; counters -> the report's metrics; a timeline
replayed as the event log had it."""

from __future__ import annotations

from typing import Any

from gateway.ops.rollup_rules import Increment, PathIncrement, count, replay, report_point, summed
from gateway.store.event_log_store import LoggedEvent

T = 1_796_000_000_000  # some time in ms


def ev(typ: str, data: dict[str, Any], *, queue: str = "billing", agent: str = "", at: int = T) -> LoggedEvent:
    return LoggedEvent(f"{at}-0", "c1", f"{at}-0", typ, data, at, queue, agent)


def counters(e: LoggedEvent, sl: int = 20_000) -> set[tuple[str, str, str, int]]:
    return {(i.dim, i.key, i.counter, i.amount) for i in count(e, sl_threshold_ms=sl).increments}


def test_a_conversation_entering_a_queue_is_offered_once_not_again_when_put_back() -> None:
    assert counters(ev("state", {"state": "queued", "queue": "billing"})) == {("queue", "billing", "offered", 1)}
    assert counters(ev("state", {"state": "queued", "reason": "callback", "queue": "sales"})) == {
        ("queue", "sales", "offered", 1)
    }
    assert counters(ev("state", {"state": "queued", "reason": "missed", "agent_id": "alice"})) == set()
    assert counters(ev("state", {"state": "open"})) == set()


def test_a_chat_is_handled_when_assigned_a_call_when_answered_with_the_service_level() -> None:
    chat = ev("assigned", {"agent_id": "alice", "wait_ms": 5000, "voice": False}, agent="alice")
    assert counters(chat) == {
        (dim, key, c, n)
        for dim, key in (("queue", "billing"), ("agent", "alice"))
        for c, n in (("handled", 1), ("wait_ms", 5000), ("in_sl", 1))
    }
    assert counters(ev("assigned", {"agent_id": "alice", "wait_ms": 5000, "voice": True})) == set()  # a call
    assert counters(ev("assigned", {"agent_id": "bob", "transferred_from": "alice", "wait_ms": 0})) == set()
    late = counters(ev("call_answered", {"agent_id": "bob", "wait_ms": 25_000, "answer": 1}))
    assert ("queue", "billing", "handled", 1) in late and ("queue", "billing", "wait_ms", 25_000) in late
    assert not any(c == "in_sl" for _, _, c, _ in late)  # 25 s > 20 s
    assert ("queue", "billing", "in_sl", 1) in counters(ev("call_answered", {"agent_id": "bob", "wait_ms": 20_000}))
    assert counters(ev("call_answered", {"agent_id": "bob", "wait_ms": 1, "answer": 2})) == set()  # answered again


def test_abandoned_calls_and_chats_and_their_waits() -> None:
    assert counters(ev("call_abandoned", {"wait_ms": 30_000})) == {
        ("queue", "billing", "abandoned", 1),
        ("queue", "billing", "abandoned_wait_ms", 30_000),
    }
    closed = counters(ev("closed", {"agent_id": "", "disposition": "bot:hangup", "queued_wait_ms": 30_000}))
    assert ("queue", "billing", "abandoned_wait_ms", 30_000) in closed
    assert ("disposition", "bot:hangup", "closed", 1) in closed
    # a call's conversation closed while waiting is not a second abandon (call_abandoned counted it)
    voice = counters(ev("closed", {"agent_id": "", "disposition": "abandoned", "queued_wait_ms": 9, "voice": True}))
    assert voice == {("disposition", "abandoned", "closed", 1)}


def test_handle_times_chat_times_callbacks_escalations_and_ivr() -> None:
    ended = counters(
        ev("call_ended", {"agent_id": "alice", "talk_ms": 60_000, "hold_ms": 5000, "ivr": True, "queued": True})
    )
    assert ("agent", "alice", "talk_ms", 60_000) in ended and ("queue", "billing", "hold_ms", 5000) in ended
    assert ("queue", "billing", "ivr_sessions", 1) in ended and not any(c == "ivr_contained" for _, _, c, _ in ended)
    assert ("queue", "billing", "ivr_contained", 1) in counters(ev("call_ended", {"ivr": True, "duration_ms": 9}))
    chat = counters(
        ev(
            "closed",
            {
                "agent_id": "alice",
                "disposition": "resolved",
                "first_response_ms": 4000,
                "resolution_ms": 90_000,
                "voice": False,
            },
        )
    )
    assert {("agent", "alice", "first_response_ms", 4000), ("queue", "billing", "resolved", 1)} <= chat
    wrap = counters(ev("closed", {"agent_id": "alice", "disposition": "resolved", "wrap_ms": 12_000, "voice": True}))
    assert ("agent", "alice", "wrap_ms", 12_000) in wrap and not any(c == "resolved" for _, _, c, _ in wrap)
    assert counters(ev("callback", {"action": "requested", "queue": "sales"})) == {
        ("queue", "sales", "callbacks_booked", 1)
    }
    assert ("queue", "billing", "callbacks_unreachable", 1) in counters(
        ev("callback", {"action": "closed", "outcome": "unreachable"})
    )
    assert ("agent", "alice", "escalations", 1) in counters(
        ev("call_started", {"channel": "voice", "escalated": True}, agent="alice")
    )


def test_ivr_steps_give_transitions_and_exits_per_flow() -> None:
    def paths(data: dict[str, Any]) -> tuple[PathIncrement, ...]:
        return count(ev("ivr", {"flow": "main", **data}), sl_threshold_ms=0).paths

    assert paths({"kind": "enter", "node": "menu", "from": "hello"}) == (PathIncrement("main", "t|hello|menu"),)
    assert paths({"kind": "hangup", "node": "menu", "detail": "the caller hung up"}) == (
        PathIncrement("main", "h|menu"),
    )
    assert paths({"kind": "hangup", "node": "bye", "detail": "done"}) == ()
    assert paths({"kind": "queue", "node": "billing"}) == (PathIncrement("main", "a|billing"),)
    assert paths({"kind": "prompt", "node": "menu"}) == ()


def test_the_metrics_divide_only_where_there_is_something() -> None:
    point = report_point(
        summed([{"handled": 2, "in_sl": 1, "wait_ms": 30_000}, {"abandoned": 1, "abandoned_wait_ms": 7}])
    )
    assert point["service_level"] == 0.5 and point["asa_ms"] == 15_000 and point["abandoned_wait_ms_avg"] == 7
    assert point["aht_talk_ms"] is None and report_point({})["service_level"] is None
    assert report_point({"closed": 3}, by_disposition=True) == {"closed": 3}


def test_a_replayed_timeline_has_the_queue_and_agent_of_each_moment() -> None:
    events = [
        {"id": f"{T}-0", "type": "opened", "ts": T, "customer_id": "x"},
        {"id": f"{T}-1", "type": "state", "ts": T, "state": "queued", "queue": "billing"},
        {"id": f"{T + 1}-0", "type": "assigned", "ts": T + 1, "agent_id": "alice", "wait_ms": 1},
        {"id": f"{T + 2}-0", "type": "state", "ts": T + 2, "state": "queued", "reason": "missed", "agent_id": "alice"},
        {"id": f"{T + 3}-0", "type": "closed", "ts": T + 3, "agent_id": "", "disposition": "x"},
    ]
    got = [(e.type, e.queue, e.agent_id) for e in replay("c1", events, default_queue="default")]
    assert got == [
        ("opened", "default", ""),
        ("state", "billing", ""),
        ("assigned", "billing", "alice"),
        ("state", "billing", ""),
        ("closed", "billing", ""),
    ]
    assert isinstance(count(replay("c1", events, default_queue="d")[2], sl_threshold_ms=0).increments[0], Increment)


def test_a_test_runs_conversation_counts_in_nothing() -> None:
    """An admin's test run of a flow version (gateway/flows/test_runs.py, a ``t_`` conversation) is no customer."""
    events = [
        ev("ivr", {"kind": "enter", "node": "menu", "from": "", "flow": "default"}),
        ev("closed", {"agent_id": "", "disposition": "test_queued", "queued_wait_ms": 0}),
        ev("call_ended", {"ivr": True, "reason": "test_queued"}),
    ]
    for e in events:
        real = count(e, sl_threshold_ms=20_000)
        test = count(
            LoggedEvent(e.id, "t_0123456789abcdef", e.event_id, e.type, e.data, e.ts, e.queue, ""),
            sl_threshold_ms=20_000,
        )
        assert real.increments or real.paths  # the same event of a customer's conversation counts
        assert (test.at_ms, test.increments, test.paths) == (real.at_ms, (), ())


def test_no_csv_cell_of_a_report_reads_as_a_formula() -> None:
    """Keys stored before queue names were checked (or a disposition) may start like a formula: CSV shows them as
    text (a leading quote), the figures and ordinary names as they are."""
    from gateway.ops.rollups import csv_rows

    point = {"start": "2026-03-01T00:00:00Z", "closed": 3}
    keys = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "billing", "a=b"]
    report = {"by": "disposition", "series": [{"key": k, "points": [point]} for k in keys]}
    rows = csv_rows(report)
    assert rows[0] == ["key", "start", "closed"]
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "billing",
        "a=b",
    ]
    assert all(r[1:] == ["2026-03-01T00:00:00Z", "3"] for r in rows[1:])
