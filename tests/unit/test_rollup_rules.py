"""The report rules on their own: one logged event -> its counters; counters -> the report's metrics; a timeline
replayed as the event log had it."""

from __future__ import annotations

from typing import Any

from gateway.contact.report_facts import close_facts
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
    # moved to another queue while it waited: offered there, moved out of the one it left (it was neither handled
    # nor abandoned there: a supervisor found one offer unaccounted for); a flow's new skills in the same queue: none
    overflow = {"state": "queued", "queue": "vip", "from_queue": "sales", "reason": "max_wait_overflow"}
    assert counters(ev("state", overflow)) == {("queue", "vip", "offered", 1), ("queue", "sales", "moved_out", 1)}
    same = {"state": "queued", "queue": "sales", "from_queue": "sales", "reason": "flow"}
    assert counters(ev("state", same)) == set()
    to_callback = {"state": "open", "from_queue": "sales", "reason": "max_wait_callback"}  # left for a callback
    assert counters(ev("state", to_callback)) == {("queue", "sales", "moved_out", 1)}
    assert report_point({"offered": 3, "moved_out": 1})["moved_out"] == 1


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
    handled_chat = counters(ev("closed", {"agent_id": "alice", "disposition": "ok", "handle_ms": 95_000}))
    assert {("queue", "billing", "chatted", 1), ("agent", "alice", "chat_handle_ms", 95_000)} <= handled_chat
    assert report_point({"chatted": 2, "chat_handle_ms": 190_000})["aht_chat_ms"] == 95_000
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


def test_by_agent_the_metrics_no_agent_has_are_none_not_zero() -> None:
    """Offered, abandoned, callbacks booked and IVR sessions are counted per queue only: an agent's row has no
    figure for them (a 0 beside their handled contacts would say they were offered nothing)."""
    counters = {"handled": 5, "in_sl": 5, "wait_ms": 10_000, "callbacks_reached": 1, "escalations": 1}
    by_queue, by_agent = report_point(counters), report_point(counters, by_agent=True)
    assert {k for k, v in by_agent.items() if by_queue[k] != v} == {
        "offered",
        "abandoned",
        "moved_out",
        "callbacks_booked",
        "ivr_sessions",
        "ivr_contained",
        # and the other way: agents' time (signed in, per state, occupancy) is no queue's
        "time_signed_in_ms",
        "time_idle_ms",
        "time_chats_ms",
        "time_calls_ms",
        "time_wrap_up_ms",
        "time_away_ms",
    }
    assert by_queue["time_signed_in_ms"] is None and by_agent["time_signed_in_ms"] == 0
    assert by_queue["occupancy"] is None and by_agent["occupancy"] is None  # nothing to divide
    assert [by_agent[k] for k in ("offered", "abandoned", "abandoned_wait_ms_avg", "callbacks_booked")] == [None] * 4
    assert [by_agent[k] for k in ("ivr_sessions", "ivr_contained")] == [None, None]
    assert (by_agent["handled"], by_agent["service_level"], by_agent["callbacks_reached"]) == (5, 1.0, 1)


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


# ---------------------------------------------------------------- handled / abandoned at most once per offer


def timeline(*steps: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": f"{T + i}-0", "type": typ, "ts": T + i, **data} for i, (typ, data) in enumerate(steps)]


def totals(*steps: tuple[str, dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """What a conversation's whole timeline adds up to, each event with the offer the event log gives it."""
    out: dict[tuple[str, str, str], int] = {}
    for e in replay("c1", timeline(("opened", {}), *steps), default_queue="default"):
        for i in count(e, sl_threshold_ms=20_000).increments:
            out[(i.dim, i.key, i.counter)] = out.get((i.dim, i.key, i.counter), 0) + i.amount
    return out


def row(got: dict[tuple[str, str, str], int], dim: str, key: str) -> dict[str, int]:
    return {c: n for (d, k, c), n in got.items() if (d, k) == (dim, key) and c in ("offered", "handled", "abandoned")}


QUEUED = ("state", {"state": "queued", "queue": "billing"})
CHAT_TAKEN = ("assigned", {"agent_id": "alice", "wait_ms": 4000, "voice": False})
CALL_RINGS = ("assigned", {"agent_id": "alice", "wait_ms": 4000, "voice": True})
ANSWERED = ("call_answered", {"agent_id": "alice", "wait_ms": 5000, "answer": 1})
STARTED = ("call_started", {"channel": "voice", "escalated": True})


def test_a_chat_that_becomes_a_call_is_handled_once() -> None:
    got = totals(
        QUEUED, CHAT_TAKEN, STARTED, ANSWERED, ("call_ended", {"agent_id": "alice", "talk_ms": 9, "hold_ms": 0})
    )
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}
    assert row(got, "agent", "alice") == {"handled": 1}


def test_a_caller_who_hangs_up_while_the_chats_agent_rings_did_not_abandon_a_queue() -> None:
    got = totals(QUEUED, CHAT_TAKEN, STARTED, ("call_abandoned", {"wait_ms": 3000, "ringing_agent_id": "alice"}))
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}


def test_a_chats_callback_answered_by_a_call_is_handled_once() -> None:
    got = totals(
        ("state", {"state": "open"}),
        ("state", {"state": "queued", "reason": "callback", "queue": "billing"}),
        CHAT_TAKEN,
        ("call_started", {"channel": "voice"}),
        ANSWERED,
    )
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}


def test_a_call_answered_after_a_missed_ring_or_a_lost_agent_is_handled_once_and_never_abandoned() -> None:
    missed = ("state", {"state": "queued", "reason": "call_no_answer", "agent_id": "bob"})
    lost = ("state", {"state": "queued", "reason": "call_agent_lost", "agent_id": "alice"})
    got = totals(QUEUED, CALL_RINGS, missed, CALL_RINGS, ANSWERED, lost, ("call_abandoned", {"wait_ms": 70_000}))
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}
    got = totals(QUEUED, CALL_RINGS, missed, ("call_abandoned", {"wait_ms": 70_000}))
    assert row(got, "queue", "billing") == {"offered": 1, "abandoned": 1}  # never answered: abandoned once


def test_a_call_transferred_to_another_queue_is_handled_there_and_both_agents_talk_times_count() -> None:
    got = totals(
        QUEUED,
        CALL_RINGS,
        ANSWERED,
        ("call_transferred", {"agent_id": "alice", "to_queue": "sales", "talk_ms": 60_000, "hold_ms": 5000}),
        ("state", {"state": "queued", "reason": "transferred", "queue": "sales", "agent_id": "alice"}),
        ("assigned", {"agent_id": "bob", "wait_ms": 2000, "voice": True}),
        ("call_answered", {"agent_id": "bob", "wait_ms": 3000, "answer": 2}),
        ("call_ended", {"agent_id": "bob", "talk_ms": 30_000, "hold_ms": 0, "queued": True}),
    )
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}
    assert row(got, "queue", "sales") == {"offered": 1, "handled": 1}
    assert got[("queue", "sales", "wait_ms")] == 3000  # the wait in sales
    assert (got[("agent", "alice", "talked")], got[("agent", "alice", "talk_ms")]) == (1, 60_000)
    assert got[("agent", "alice", "hold_ms")] == 5000 and got[("queue", "billing", "talk_ms")] == 60_000
    assert (got[("agent", "bob", "talked")], got[("agent", "bob", "talk_ms")]) == (1, 30_000)
    assert got[("queue", "sales", "talk_ms")] == 30_000


def test_a_call_transferred_to_another_queue_and_hung_up_there_is_abandoned_there() -> None:
    got = totals(
        QUEUED,
        CALL_RINGS,
        ANSWERED,
        ("call_transferred", {"agent_id": "alice", "to_queue": "sales", "talk_ms": 1000, "hold_ms": 0}),
        ("state", {"state": "queued", "reason": "transferred", "queue": "sales", "agent_id": "alice"}),
        ("call_abandoned", {"wait_ms": 7000}),
    )
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}
    assert row(got, "queue", "sales") == {"offered": 1, "abandoned": 1}
    assert got[("queue", "sales", "abandoned_wait_ms")] == 7000


def test_a_chat_closed_while_waiting_is_abandoned_once_and_a_lost_agents_talk_counts() -> None:
    got = totals(QUEUED, ("closed", {"agent_id": "", "disposition": "x", "queued_wait_ms": 30_000, "voice": False}))
    assert row(got, "queue", "billing") == {"offered": 1, "abandoned": 1}
    got = totals(
        QUEUED, CALL_RINGS, ANSWERED, ("call_agent_lost", {"agent_id": "alice", "talk_ms": 8000, "hold_ms": 0})
    )
    assert got[("agent", "alice", "talk_ms")] == 8000


def test_the_event_logs_offer_decides_and_entries_from_before_keep_the_old_rule() -> None:
    answered_again = {"agent_id": "bob", "wait_ms": 1, "answer": 2}
    took = LoggedEvent(f"{T}-0", "c1", f"{T}-0", "call_answered", answered_again, T, "sales", "", offer=True)
    assert ("queue", "sales", "handled", 1) in counters(took)
    none = LoggedEvent(
        f"{T}-0", "c1", f"{T}-0", "call_answered", {"agent_id": "bob", "answer": 1}, T, "b", "", offer=False
    )
    assert counters(none) == set()
    assert counters(ev("call_answered", answered_again)) == set()  # logged before offers: answer 2 is not handled


def test_a_rating_counts_to_the_queue_and_the_agent_who_had_the_conversation() -> None:
    """Ratings were stored and shown nowhere (a reports auditor's finding): how many, their sum, the good ones."""
    assert counters(ev("rating", {"score": 5, "comment": "quick"}, agent="alice")) == {
        ("queue", "billing", "rated", 1),
        ("queue", "billing", "rating_sum", 5),
        ("queue", "billing", "rated_good", 1),
        ("agent", "alice", "rated", 1),
        ("agent", "alice", "rating_sum", 5),
        ("agent", "alice", "rated_good", 1),
    }
    assert counters(ev("rating", {"score": 2})) == {
        ("queue", "billing", "rated", 1),
        ("queue", "billing", "rating_sum", 2),
    }
    assert counters(ev("rating", {"score": 9})) == set() and counters(ev("rating", {"score": "x"})) == set()
    point = report_point(
        summed([{"rated": 2, "rating_sum": 7, "rated_good": 1}, {"rated": 1, "rating_sum": 4, "rated_good": 1}])
    )
    assert (point["rated"], point["rating_avg"], point["csat"]) == (3, 3.67, 0.6667)
    assert report_point({})["rating_avg"] is None and report_point({})["csat"] is None


def test_a_chat_handed_on_twice_counts_each_agents_part_transfers_and_the_first_reply_to_who_wrote_it() -> None:
    """A reports auditor: the transferring agent's part was lost (first response and handle time went to whoever
    closed it, in the queue it closed in) and transfers were not counted at all."""
    got = totals(
        QUEUED,
        CHAT_TAKEN,  # alice, in billing
        (
            "assigned",
            {
                "agent_id": "bob",
                "transferred_from": "alice",
                "transfer": "chat",
                "handle_ms": 40_000,
                "agent_queue": "billing",
                "voice": False,
            },
        ),
        (
            "state",
            {
                "state": "queued",
                "reason": "transferred",
                "queue": "sales",
                "agent_id": "bob",
                "transfer": "chat",
                "handle_ms": 20_000,
                "agent_queue": "billing",
                "voice": False,
            },
        ),
        ("assigned", {"agent_id": "cid", "wait_ms": 3000, "voice": False}),
        (
            "closed",
            {
                "agent_id": "cid",
                "disposition": "resolved",
                "handle_ms": 60_000,
                "first_response_ms": 5000,
                "first_response_agent": "alice",
                "resolution_ms": 200_000,
                "voice": False,
            },
        ),
    )
    assert row(got, "queue", "billing") == {"offered": 1, "handled": 1}
    assert row(got, "queue", "sales") == {"offered": 1, "handled": 1}
    assert (got[("agent", "alice", "transfers")], got[("agent", "bob", "transfers")]) == (1, 1)
    assert got[("queue", "billing", "transfers")] == 2 and ("queue", "sales", "transfers") not in got
    parts = {a: (got[("agent", a, "chatted")], got[("agent", a, "chat_handle_ms")]) for a in ("alice", "bob", "cid")}
    assert parts == {"alice": (1, 40_000), "bob": (1, 20_000), "cid": (1, 60_000)}
    assert (got[("queue", "billing", "chatted")], got[("queue", "billing", "chat_handle_ms")]) == (2, 60_000)
    assert (got[("agent", "alice", "responded")], got[("agent", "alice", "first_response_ms")]) == (1, 5000)
    assert ("agent", "cid", "responded") not in got
    point = report_point({k[2]: v for k, v in got.items() if k[:2] == ("queue", "billing")})
    assert (point["transfers"], point["chat_segments"], point["aht_chat_ms"]) == (2, 2, 30_000)


def test_a_transfer_of_a_chat_that_had_a_call_counts_the_transfer_but_no_chat_handle_time() -> None:
    got = counters(
        ev(
            "assigned",
            {
                "agent_id": "bob",
                "transferred_from": "alice",
                "transfer": "chat",
                "handle_ms": 9,
                "agent_queue": "billing",
                "voice": True,
            },
        )
    )
    assert got == {("queue", "billing", "transfers", 1), ("agent", "alice", "transfers", 1)}
    # a call's transfer (agent_calls) and a routing assignment are no chat transfer
    assert counters(ev("assigned", {"agent_id": "bob", "transferred_from": "alice"})) == set()


def test_call_handle_time_divides_talk_hold_and_wrap_by_one_count_of_call_segments() -> None:
    """The wallboard added three averages with different divisors: a call transferred once (alice 5 s talk, bob 9 s
    talk and 10 s wrap-up) read 7 + 10 = 17 s. Per segment it is (5 + 9 + 10) / 2 = 12 s."""
    got = totals(
        QUEUED,
        CALL_RINGS,
        ANSWERED,
        ("call_transferred", {"agent_id": "alice", "to_agent": "bob", "talk_ms": 5000, "hold_ms": 0}),
        ("call_answered", {"agent_id": "bob", "wait_ms": 0, "answer": 2}),
        ("call_ended", {"agent_id": "bob", "talk_ms": 9000, "hold_ms": 0, "queued": True}),
        ("closed", {"agent_id": "bob", "disposition": "resolved", "wrap_ms": 10_000, "voice": True}),
    )
    queue = report_point({k[2]: v for k, v in got.items() if k[:2] == ("queue", "billing")})
    assert (queue["call_segments"], queue["aht_call_ms"], queue["transfers"]) == (2, 12_000, 1)
    assert queue["aht_talk_ms"] + queue["aht_wrap_ms"] == 17_000  # what the old sum of averages said
    bob = report_point({k[2]: v for k, v in got.items() if k[:2] == ("agent", "bob")}, by_agent=True)
    assert (bob["call_segments"], bob["aht_call_ms"], bob["transfers"]) == (1, 19_000, 0)


def test_occupancy_is_the_share_of_available_time_spent_on_contacts_away_left_out() -> None:
    point = report_point(
        {"t_call": 30_000, "t_wrap": 15_000, "t_chat": 15_000, "t_idle": 60_000, "t_away": 90_000}, by_agent=True
    )
    assert point["time_signed_in_ms"] == 210_000 and point["time_away_ms"] == 90_000
    assert point["occupancy"] == 0.5  # 60 s on contacts of 120 s available
    assert report_point({"t_idle": 15_000}, by_agent=True)["occupancy"] == 0.0
    assert report_point({"t_away": 15_000}, by_agent=True)["occupancy"] is None  # away all along: not available


def test_an_agent_who_left_has_their_part_of_the_chat_counted_but_no_transfer() -> None:
    """A reviewer: the chats of an agent who left went back to the queue with nothing of their part counted."""
    got = counters(
        ev(
            "state",
            {
                "state": "queued",
                "reason": "agent_absent",
                "agent_id": "alice",
                "handle_ms": 50_000,
                "agent_queue": "billing",
                "voice": False,
            },
        )
    )
    assert got == {
        ("queue", "billing", "chatted", 1),
        ("agent", "alice", "chatted", 1),
        ("queue", "billing", "chat_handle_ms", 50_000),
        ("agent", "alice", "chat_handle_ms", 50_000),
    }
    # a call put back after a missed ring carries no such facts: nothing (its talk is counted by the call's events)
    assert counters(ev("state", {"state": "queued", "reason": "call_no_answer", "agent_id": "alice"})) == set()


def test_a_chat_a_supervisor_moved_is_the_queue_s_transfer_not_the_agent_s_and_ends_their_part() -> None:
    """A reviewer: a supervisor's move (chat_supervision.py) counted against the agent as a transfer they chose."""
    moved = {
        "agent_id": "bob",
        "transferred_from": "alice",
        "transfer": "chat",
        "handle_ms": 9,
        "agent_queue": "billing",
    }
    got = counters(ev("assigned", {**moved, "transferred_by": "carol", "voice": False}))
    assert got == {
        ("queue", "billing", "transfers", 1),
        ("queue", "billing", "chatted", 1),
        ("queue", "billing", "chat_handle_ms", 9),
        ("agent", "alice", "chatted", 1),
        ("agent", "alice", "chat_handle_ms", 9),
    }


def test_a_supervisor_s_message_is_no_first_response() -> None:
    asked = {"type": "message", "author": "customer", "ts": T}
    boss = {"type": "message", "author": "agent", "agent_id": "carol", "supervisor": True, "ts": T + 1000}
    reply = {"type": "message", "author": "agent", "agent_id": "alice", "ts": T + 4000}
    facts = close_facts([asked, boss, reply], T + 9000)
    assert (facts["first_response_ms"], facts["first_response_agent"]) == (4000, "alice")
    assert "first_response_ms" not in close_facts([asked, boss], T + 9000)
