"""Reports from real conversations and calls on a real node: the rollup consumer counts the event log as it happens,
time comes from a clock given to the node (its conversations', calls' and wallboard's), the REST endpoint answers
JSON and CSV, and the backfill rebuilds the same counters from the timelines."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.routing import now_ms
from gateway.ops.rollups import backfill
from gateway.protocol.states import CallStatus
from gateway.store.rollup_store import Change, RollupStore, day_name
from gateway.store.store import _s
from tests.conftest import Clients, bounded
from tests.support.caller import Caller
from tests.support.queue_calls import queued_call
from tests.support.servers import Clock, Node, start_node
from tests.support.softphone import Softphone


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def node(settings: Settings, clock: Clock) -> AsyncIterator[Node]:
    """The node with its services on ``clock`` (the real time until a test sets it)."""
    started = await start_node(settings, clock=clock)
    yield started
    await bounded(started.stop(), "stopping the gateway node")


async def get(node: Node, token: str, path: str, **params: str) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(node.url + path, params=params, headers=headers) as r:
        body = await r.json() if r.content_type == "application/json" else await r.text()
        return r.status, body, r.headers


async def totals_when(node: Node, token: str, check: Any, **params: str) -> dict[str, Any]:
    """The report once ``check(report)`` holds (the consumer counts a moment after the event)."""
    async with asyncio.timeout(15):
        while True:
            status, body, _ = await get(node, token, "/api/reports", **params)
            assert status == 200, body
            if check(body):
                return body
            await asyncio.sleep(0.1)


def total(report: dict[str, Any], key: str) -> dict[str, Any]:
    return next((t for t in report["totals"] if t["key"] == key), {})


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_a_chat_closed_while_waiting_30_s_counts_as_abandoned_after_30_s(
    clients: Clients, node: Node, clock: Clock
) -> None:
    conversations = node.services.conversations
    t0 = clock.ms = now_ms()
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("anyone there?"))["conversation_id"]  # nobody online: it waits in the queue
    clock.ms = t0 + 30_000
    await conversations.close_without_agent(cid, "bot:hangup")  # the bot gave up on it 30 s later
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(node, carol, lambda r: total(r, "default").get("abandoned"), **{"from": day, "to": day})
    row = total(report, "default")
    assert row["offered"] == 1 and row["abandoned"] == 1 and row["handled"] == 0
    assert row["abandoned_wait_ms_avg"] == 30_000
    assert row["service_level"] is None and row["asa_ms"] is None  # nothing answered: nothing to divide
    by_disposition = await totals_when(
        node, carol, lambda r: r["totals"], **{"from": day, "to": day, "by": "disposition"}
    )
    assert by_disposition["totals"] == [{"key": "bot:hangup", "closed": 1}]


async def counted_after_a_malformed_entry(clients: Clients, node: Node, typ: str) -> str:
    """An event-log entry of type ``typ`` whose data is not an object, then a chat: returns the entry's id once the
    chat was counted (the default queue offered one conversation today)."""
    store = node.services.store
    bad_id = _s(await store.redis.xadd(store.keys.event_log, {"cid": "c-bad", "type": typ, "data": "[]"}))
    cust = clients.customer()
    await cust.hello()
    await cust.say("counted all the same?")
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(node, carol, lambda r: total(r, "default").get("offered"), **{"from": day, "to": day})
    assert total(report, "default")["offered"] == 1
    return bad_id


async def test_an_event_log_entry_that_is_not_an_event_is_set_aside_and_the_counting_goes_on(
    clients: Clients, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry whose data is not an object (written by hand, or by an older or broken writer) stopped the
    consumer (on every node in turn, as each claimed it): now it is logged by id, kept in P:ru:dead, and a chat
    after it still counts."""
    store = node.services.store
    bad_id = await counted_after_a_malformed_entry(clients, node, "state")
    assert bad_id in caplog.text and "not an object" in caplog.text
    dead = await RollupStore(store).dead_letters()
    assert [(d["id"], d["cid"]) for d in dead] == [(bad_id, "c-bad")]


async def test_the_consumer_reads_no_more_of_an_entry_that_counts_nothing_than_its_type(
    clients: Clients, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """Every chat message comes back to the rollup consumer, and counts nothing: it looks at the entry's type alone
    and acknowledges it (its data is never parsed: a malformed message entry is not set aside as a malformed
    ``state`` entry is, above), while the chat around it is counted."""
    store = node.services.store
    bad_id = await counted_after_a_malformed_entry(clients, node, "message")
    assert bad_id not in caplog.text
    assert await RollupStore(store).dead_letters() == []
    pending = await store.redis.xpending(store.keys.event_log, "rollups")
    assert pending["pending"] == 0  # the message entries acknowledged with the rest


async def test_an_entry_whose_counters_redis_refuses_is_set_aside_after_three_tries(
    clients: Clients, node: Node
) -> None:
    """A counter hash that is not a hash (WRONGTYPE): the entries that touch it are tried again, then set aside;
    the consumer does not stop, and counts what comes after the key is repaired."""
    store = node.services.store
    day = today()
    blocker = store.keys.rollup("queue", "default", day.replace("-", ""))[0]
    await store.redis.set(blocker, "not a hash")
    cust = clients.customer()
    await cust.hello()
    await cust.say("refused")
    db = RollupStore(store)
    async with asyncio.timeout(20):
        while not any(d["type"] == "state" for d in await db.dead_letters()):
            await asyncio.sleep(0.1)
    assert all("WRONGTYPE" in d["error"] for d in await db.dead_letters())
    await store.redis.delete(blocker)
    later = clients.customer()
    await later.hello()
    await later.say("counted")
    carol = await clients.agent("carol").login()
    report = await totals_when(node, carol, lambda r: total(r, "default").get("offered"), **{"from": day, "to": day})
    assert total(report, "default")["offered"] == 1  # the refused one was set aside, the later one counted


async def test_the_counting_goes_on_after_redis_came_back_empty(clients: Clients, node: Node) -> None:
    """A Redis restarted without its data has no consumer group: the consumer makes it again and counts what comes.
    (The event log alone is dropped here, with its groups: the agents who log in below live in Redis too.)"""
    store = node.services.store
    await store.redis.delete(store.keys.event_log)
    cust = clients.customer()
    await cust.hello()
    await cust.say("hello after the restart")
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(node, carol, lambda r: total(r, "default").get("offered"), **{"from": day, "to": day})
    assert total(report, "default")["offered"] == 1


async def test_a_call_answered_after_25_s_is_outside_a_20_s_service_level(
    clients: Clients, node: Node, clock: Clock
) -> None:
    assert node.services.settings.service_level_seconds == 20
    t0 = clock.ms = now_ms()
    alice = clients.agent("alice")
    await alice.hello()
    caller = await queued_call(clients)  # waits in 'billing' from t0
    phone = Softphone(alice)
    try:
        ring = await phone.ringing()
        clock.ms = t0 + 25_000
        await phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        clock.ms = t0 + 85_000  # a minute of talk
        await caller.hangup()
        await phone.status(CallStatus.ENDED)
    finally:
        await phone.close()
        await caller.close()
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(
        node, carol, lambda r: total(r, "billing").get("aht_talk_ms") is not None, **{"from": day, "to": day}
    )
    row = total(report, "billing")
    assert row["offered"] == 1 and row["handled"] == 1 and row["abandoned"] == 0
    assert row["asa_ms"] == 25_000 and row["service_level"] == 0.0  # answered after 25 s: outside 20 s
    assert row["aht_talk_ms"] == 60_000 and row["aht_hold_ms"] == 0
    assert row["ivr_sessions"] == 1 and row["ivr_contained"] == 0  # it asked for an agent
    by_agent = await totals_when(node, carol, lambda r: r["totals"], **{"from": day, "to": day, "by": "agent"})
    assert total(by_agent, "alice")["handled"] == 1 and total(by_agent, "alice")["service_level"] == 0.0
    assert total(by_agent, "alice")["offered"] is None  # offered is counted per queue only: no agent has a figure
    status, text, _ = await get(node, carol, "/api/reports", format="csv", **{"from": day, "to": day, "by": "agent"})
    header, *rows = list(csv.reader(io.StringIO(text)))
    alice = dict(zip(header, next(r for r in rows if r[0] == "alice"), strict=True))
    assert status == 200 and (alice["offered"], alice["ivr_sessions"], alice["handled"]) == ("", "", "1")
    # the flow's path: where callers went from the greeting, and that this one asked for an agent at 'billing'
    status, paths, _ = await get(node, carol, "/api/reports/flows/default", **{"from": day, "to": day})
    assert status == 200 and paths["flow"] == "default"
    assert {"from": "", "to": "hello", "count": 1} in paths["transitions"]
    assert any(e["agent_requests"] == 1 for e in paths["exits"])


async def test_a_report_over_days_has_every_interval_and_its_csv_is_its_json(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("hello"))["conversation_id"]
    await alice.assigned()
    await alice.say(cid, "Hi! How can I help?")
    await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
    carol = await clients.agent("carol").login()
    last = datetime.now(UTC).date()
    first = (last - timedelta(days=3)).isoformat()
    params = {"from": first, "to": last.isoformat()}
    by_day = await totals_when(
        node, carol, lambda r: total(r, "default").get("chat_resolution_ms") is not None, **params
    )
    (series,) = by_day["series"]
    assert [p["start"] for p in series["points"]] == [
        f"{(last - timedelta(days=3 - i)).isoformat()}T00:00:00Z" for i in range(4)
    ]
    assert [p["handled"] for p in series["points"]] == [0, 0, 0, 1]
    assert total(by_day, "default")["chat_first_response_ms"] is not None
    status, by_hour, _ = await get(node, carol, "/api/reports", interval="hour", **params)
    assert status == 200 and len(by_hour["series"][0]["points"]) == 4 * 24
    assert sum(p["handled"] for p in by_hour["series"][0]["points"]) == 1
    status, text, headers = await get(node, carol, "/api/reports", interval="hour", format="csv", **params)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert f'filename="report-queue-hour-{first}-{last.isoformat()}.csv"' in headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["key", "start"] and len(body) == 4 * 24
    for row, point in zip(body, by_hour["series"][0]["points"], strict=True):
        assert row[1] == point["start"]
        assert row[2:] == ["" if point[n] is None else str(point[n]) for n in header[2:]]
    # bad parameters: a problem naming the parameter
    for bad, field in (
        ({"from": "2026-13-01", "to": "2026-12-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-06-01"}, "to"),
        ({**params, "interval": "week"}, "interval"),
        ({**params, "by": "customer"}, "by"),
        ({**params, "by": "agent", "queue": "default"}, "queue"),
        ({"to": "2026-01-01"}, "from"),
    ):
        status, problem, _ = await get(node, carol, "/api/reports", **bad)
        assert status == 400 and problem["field"] == field, (bad, problem)


async def test_backfill_from_timelines_gives_the_counters_the_live_consumer_kept(clients: Clients, node: Node) -> None:
    alice = clients.agent("alice")
    await alice.hello()
    for text in ("first", "second"):
        cust = clients.customer()
        await cust.hello()
        cid = (await cust.say(text))["conversation_id"]
        await alice.assigned()
        await alice.say(cid, "On it")
        await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
        await cust.event("closed")
        if text == "first":  # a satisfaction rating: counted live and by the backfill alike
            await cust.send({"type": "rating", "conversation_id": cid, "score": 4})
            await cust.event("rating")
    waiting = clients.customer()
    await waiting.hello()
    await waiting.say("still open")
    await alice.assigned()  # a third one, still with alice
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(
        node,
        carol,
        lambda r: total(r, "default").get("handled") == 3 and total(r, "default").get("rated") == 1,
        **{"from": day, "to": day},
    )
    assert (total(report, "default")["rating_avg"], total(report, "default")["csat"]) == (4.0, 1.0)
    assert report["sl_thresholds_s"]["default"] == 20  # each queue's own, as its contacts are counted
    await totals_when(node, carol, lambda r: len(r["totals"]) == 1, **{"from": day, "to": day, "by": "disposition"})
    store = node.services.store
    db = RollupStore(store)
    date_ = datetime.now(UTC).date()

    async def snapshot() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for dim in ("queue", "agent", "disposition"):
            keys = await db.dimension_keys(dim)
            out[dim] = (keys, await db.days(dim, keys, [date_]), await db.hours(dim, keys, [date_]))
        return out

    live = await snapshot()
    assert live["queue"][1][0][0]["handled"] == 3 and live["agent"][0] == ["alice"]
    await node.services.rollups.stop()  # nothing counted live while the backfill runs
    counted = await backfill(store, db, date_, date_, sl_threshold_ms=20_000)
    assert counted > 0
    assert await snapshot() == live
    assert await backfill(store, db, date_, date_, sl_threshold_ms=20_000) == counted  # idempotent
    assert await snapshot() == live
    # each queue's own service level counts, not the default (the backfill recounted history with the global one:
    # a reports auditor's finding); a threshold nobody meets: no contact of 'default' answered in time
    await backfill(store, db, date_, date_, sl_threshold_ms=20_000, sl_by_queue={"default": -1})
    assert (await snapshot())["queue"][1][0][0].get("in_sl", 0) == 0 and live["queue"][1][0][0]["in_sl"] == 3
    assert day_name(date_) == date_.strftime("%Y%m%d")


def test_the_backfill_command_runs_on_the_redis_it_is_given(redis_url: str, capsys: Any) -> None:
    from gateway.cli import main

    assert main(["reports", "backfill", "--redis-url", redis_url, "--from", "2026-01-01", "--to", "2026-01-03"]) == 0
    assert "2026-01-01 .. 2026-01-03 rebuilt from 0 events" in capsys.readouterr().out
    assert main(["reports", "backfill", "--redis-url", redis_url, "--from", "2026-01-03", "--to", "2026-01-01"]) == 2


async def test_a_chat_that_becomes_a_call_is_offered_once_and_handled_once(clients: Clients, node: Node) -> None:
    """The customer chatting with alice presses Call: alice rings (no queue), the caller hangs up while she rings,
    calls again, and she answers. One offer (the chat's), handled once (the chat's assignment), never abandoned."""
    alice = clients.agent("alice")
    await alice.hello()
    customer = clients.customer()
    await customer.hello()
    await customer.say("can we talk?")
    cid = (await alice.assigned())["id"]
    phone = Softphone(alice)
    try:
        first = Caller(customer)
        try:
            await first.dial()
            await phone.ringing()
            await first.hangup()  # while alice's desk rings
            # the call is over for the caller once they are told 'ended' (its slot is free then: one call per
            # customer); call_abandoned is written earlier, while the call still ends (a loaded machine dialled
            # again in between and was refused)
            await first.status(CallStatus.ENDED)
            assert any(e["type"] == "call_abandoned" for e in await node.services.store.events(cid))
        finally:
            await first.close()
        second = Caller(customer)
        try:
            await second.dial()
            await phone.answer((await phone.ringing())["call_id"])
            await second.status(CallStatus.CONNECTED)
            await second.hangup()
            await phone.status(CallStatus.ENDED)
        finally:
            await second.close()
    finally:
        await phone.close()
    kinds = [e["type"] for e in await node.services.store.events(cid)]
    assert kinds.count("call_answered") == 1 and kinds.count("call_abandoned") == 1
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(
        node, carol, lambda r: total(r, "default").get("aht_talk_ms") is not None, **{"from": day, "to": day}
    )
    row = total(report, "default")
    assert (row["offered"], row["handled"], row["abandoned"]) == (1, 1, 0), row
    assert row["escalations"] == 2


async def test_a_call_transferred_from_billing_to_support_is_handled_in_each_with_each_agents_talk_time(
    clients: Clients, node: Node, clock: Clock
) -> None:
    alice, bob = clients.agent("alice"), clients.agent("bob")
    await alice.hello()
    await bob.hello(available=False)
    t0 = clock.ms = now_ms()
    caller = await queued_call(clients)  # waits in 'billing' from t0
    alice_phone, bob_phone = Softphone(alice), Softphone(bob)
    try:
        ring = await alice_phone.ringing()
        clock.ms = t0 + 5_000
        await alice_phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        await bob.send({"type": "status", "status": "available"})
        await bob.expect("agent", lambda f: f["agent"]["status"] == "available")
        clock.ms = t0 + 65_000  # a minute with alice
        await alice.send({"type": "call_transfer", "call_id": ring["call_id"], "queue": "support"})
        ring = await bob_phone.ringing()
        clock.ms = t0 + 68_000  # 3 s in support
        await bob_phone.answer(ring["call_id"])
        await caller.status(CallStatus.CONNECTED)
        clock.ms = t0 + 98_000  # half a minute with bob
        await caller.hangup()
        await bob_phone.status(CallStatus.ENDED)
    finally:
        await alice_phone.close()
        await bob_phone.close()
        await caller.close()
    carol = await clients.agent("carol").login()
    day = today()
    report = await totals_when(
        node, carol, lambda r: total(r, "support").get("aht_talk_ms") is not None, **{"from": day, "to": day}
    )
    billing, support = total(report, "billing"), total(report, "support")
    assert (billing["offered"], billing["handled"], billing["abandoned"]) == (1, 1, 0), billing
    assert (support["offered"], support["handled"], support["abandoned"]) == (1, 1, 0), support
    assert billing["asa_ms"] == 5_000 and support["asa_ms"] == 3_000
    assert billing["aht_talk_ms"] == 60_000 and support["aht_talk_ms"] == 30_000
    # a call transferred once: two segments; alice's transfer counted in billing
    assert (billing["call_segments"], billing["transfers"], support["call_segments"]) == (1, 1, 1)
    # all queues together: averages over every contact (5 s and 3 s waits: 4 s), not the rows' averages added up
    overall = report["overall"]
    assert (overall["offered"], overall["handled"], overall["asa_ms"], overall["transfers"]) == (2, 2, 4_000, 1)
    assert (overall["call_segments"], overall["aht_talk_ms"]) == (2, 45_000)
    by_agent = await totals_when(
        node, carol, lambda r: total(r, "bob").get("aht_talk_ms") is not None, **{"from": day, "to": day, "by": "agent"}
    )
    assert total(by_agent, "alice")["aht_talk_ms"] == 60_000 and total(by_agent, "alice")["handled"] == 1
    assert total(by_agent, "bob")["aht_talk_ms"] == 30_000 and total(by_agent, "bob")["handled"] == 1
    # the backfill follows the same offers from the timeline
    store = node.services.store
    await node.services.rollups.stop()
    date_ = datetime.now(UTC).date()
    await backfill(store, RollupStore(store), date_, date_, sl_threshold_ms=20_000)
    status, again, _ = await get(node, carol, "/api/reports", **{"from": day, "to": day})
    assert status == 200 and total(again, "billing") == billing and total(again, "support") == support


async def test_a_report_over_the_bounds_is_a_400_naming_what_to_change(clients: Clients, node: Node) -> None:
    """Hourly over 90 days for every key was built and encoded on the event loop (seconds of CPU, a node's calls
    frozen): the points (keys with something in the range x intervals) and the day counters read are bounded."""
    store = node.services.store
    db = RollupStore(store)
    last = datetime.now(UTC).date()
    at = int(datetime(last.year, last.month, last.day, 12, tzinfo=UTC).timestamp() * 1000)
    await db.add([Change("", at, at, [("queue", f"q{i}", "offered", 1) for i in range(10)])])
    await store.redis.sadd(store.keys.rollup_keys("queue"), *[f"idle{i}" for i in range(20)])  # nothing in range
    carol = await clients.agent("carol").login()

    def span(days: int) -> dict[str, str]:
        return {"from": (last - timedelta(days=days - 1)).isoformat(), "to": last.isoformat()}

    status, problem, _ = await get(node, carol, "/api/reports", interval="hour", **span(90))  # 10 x 2160 points
    assert status == 400 and problem["field"] == "interval", problem
    assert "21,600 points" in problem["message"] and "interval=day" in problem["message"]
    status, body, _ = await get(node, carol, "/api/reports", interval="hour", **span(83))  # 10 x 1992: allowed
    assert status == 200 and len(body["series"]) == 10 and len(body["series"][0]["points"]) == 83 * 24
    status, text, _ = await get(node, carol, "/api/reports", interval="hour", format="csv", **span(83))
    assert status == 200 and len(text.splitlines()) == 1 + 10 * 83 * 24
    status, body, _ = await get(node, carol, "/api/reports", **span(90))  # by day: 900 points
    assert status == 200 and sum(t["offered"] for t in body["totals"]) == 10
    await store.redis.sadd(store.keys.rollup_keys("agent"), *[f"agent{i}" for i in range(600)])
    status, problem, _ = await get(node, carol, "/api/reports", by="agent", **span(90))  # 54,000 day counters
    assert status == 400 and problem["field"] == "to" and "at most 83 days" in problem["message"], problem


async def test_a_queue_filter_that_names_no_queue_is_a_400_not_a_report_of_zeros(clients: Clients, node: Node) -> None:
    """An exploratory test asked for queue 'Sales' (the queue was 'sales') and for 'nosuchqueue': zero-filled charts
    that look like quiet queues. A queue that exists, or was ever counted (since deleted), still gets its report."""
    store = node.services.store
    day = datetime.now(UTC).date()
    at = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)
    await RollupStore(store).add([Change("", at, at, [("queue", "old_campaign", "offered", 2)])])  # since deleted
    carol = await clients.agent("carol").login()
    span = {"from": day.isoformat(), "to": day.isoformat()}
    status, problem, _ = await get(node, carol, "/api/reports", queue="Billing", **span)
    assert (status, problem["code"], problem["field"]) == (400, "bad_field", "queue"), problem
    assert problem["message"] == (
        "there is no queue 'Billing' and none was ever counted: did you mean 'billing'? (names are case-sensitive)"
    )
    status, problem, _ = await get(node, carol, "/api/reports", queue="nosuchqueue", **span)
    assert status == 400 and problem["message"] == "there is no queue 'nosuchqueue' and none was ever counted"
    status, body, _ = await get(node, carol, "/api/reports", queue="billing", **span)  # exists, nothing counted yet
    assert status == 200 and [t["key"] for t in body["totals"]] == ["billing"]
    status, body, _ = await get(node, carol, "/api/reports", queue="old_campaign", **span)
    assert status == 200 and body["totals"][0]["offered"] == 2


async def test_counting_writes_day_and_hour_hashes_only_and_housekeeping_keeps_the_applied_set_small(
    redis_url: str,
) -> None:
    """The quarter-hour hashes nobody read were 77 % of the rollups' memory; the applied set kept a week of ids;
    the group kept every node that ever ran. Now: no ':q' hash; applied ids only while the group may deliver
    them again; consumers gone for the idle time leave the group (the real scripts on a real Redis)."""
    import redis.asyncio as aioredis

    from gateway.ops.rollups import GROUP, RollupConsumer
    from gateway.store.event_log_store import EventLogStore
    from gateway.store.store import Keys, Store

    redis = aioredis.Redis.from_url(redis_url)
    keys = Keys("t")
    store = Store(redis, keys)
    try:
        events = EventLogStore(redis, keys)
        db = RollupStore(store)
        node = RollupConsumer(events, db, "node-b", sl_threshold_ms=20_000, block_ms=10, idle_consumer_ms=0)
        await events.ensure_group(GROUP)
        now = now_ms()
        for i in range(3):
            await store.open_conversation(f"cust{i}", f"c{i}", "support", now=now + i, context={})
        await events.read(GROUP, "node-a", count=1, block_ms=10)  # a node that read one entry and died
        await redis.xgroup_createconsumer(keys.event_log, GROUP, "node-gone")  # one that left nothing pending
        while await node.run_once(block_ms=10):
            pass
        assert await db.applied_count() >= 3
        assert [k async for k in redis.scan_iter(match="t:ru:*:q")] == []
        assert [k async for k in redis.scan_iter(match="t:ru:queue:support:*:h")] != []
        await node.housekeeping()  # (node-a's entry is taken over only after CLAIM_IDLE_MS)
        names = {_s(c["name"]) for c in await redis.xinfo_consumers(keys.event_log, GROUP)}
        assert "node-gone" not in names and "node-a" in names  # node-a still holds a pending entry
        pending = await redis.xpending(keys.event_log, GROUP)
        kept = await redis.zrange(keys.rollups_applied, 0, -1, withscores=True)
        assert kept and all(score >= int(_s(pending["min"]).split("-")[0]) for _, score in kept)
        await events.ack(GROUP, [_s(pending["min"])])  # node-a's entry done (by whoever claims it)
        await node.housekeeping()
        (group,) = [g for g in await redis.xinfo_groups(keys.event_log) if _s(g["name"]) == GROUP]
        last_ms = int(_s(group["last-delivered-id"]).split("-")[0])
        kept = await redis.zrange(keys.rollups_applied, 0, -1, withscores=True)
        assert all(score == last_ms for _, score in kept)  # none can be delivered again: only the last ms is kept
        names = {_s(c["name"]) for c in await redis.xinfo_consumers(keys.event_log, GROUP)}
        assert names == {"node-b"}
    finally:
        await redis.aclose()


async def test_a_steady_flow_of_messages_is_read_in_batches_not_one_entry_at_a_time(redis_url: str) -> None:
    """Every chat message is an event-log entry the rollups read back (counting nothing). Read as they came, one
    entry per batch, each batch cost two reads, the queues' service levels and an acknowledgement (about 7 Redis
    commands per message, the largest share of a message's Redis traffic in ``bench chat``). Now a consumer that
    caught up waits before reading again, reads its own pending entries only when it may have some, and reads the
    service levels only for a batch with an event that counts: every message still acknowledged, by the hundred."""
    import redis.asyncio as aioredis

    from gateway.ops.rollups import GROUP, RollupConsumer
    from gateway.store.event_log_store import EventLogStore
    from gateway.store.store import Keys, Store

    redis = aioredis.Redis.from_url(redis_url)
    keys = Keys("t")
    store = Store(redis, keys)
    sl_reads = 0

    async def service_levels() -> dict[str, int]:
        nonlocal sl_reads
        sl_reads += 1
        return {}

    events = EventLogStore(redis, keys)
    node = RollupConsumer(events, RollupStore(store), "node-a", sl_threshold_ms=20_000, sl_by_queue=service_levels)
    await node.start()
    try:
        opened = await store.open_conversation("cust", "c1", "support", now=now_ms(), context={})

        async def all_acknowledged() -> None:
            async with asyncio.timeout(20):
                while True:
                    (group,) = [g for g in await redis.xinfo_groups(keys.event_log) if _s(g["name"]) == GROUP]
                    newest = await redis.xrevrange(keys.event_log, count=1)
                    if int(group["pending"]) == 0 and _s(group["last-delivered-id"]) == _s(newest[0][0]):
                        return
                    await asyncio.sleep(0.05)

        await all_acknowledged()  # the opening's events (they count: the service levels were read for them)
        assert sl_reads >= 1
        sl_reads = 0
        await redis.config_resetstat()
        messages = 60
        for i in range(messages):
            await store.append(opened.conversation_id, "message", {"author": "customer", "text": f"m{i}"}, now=now_ms())
            await asyncio.sleep(0.01)
        await all_acknowledged()
        stats = await redis.info("commandstats")
        reads = int(stats.get("cmdstat_xreadgroup", {}).get("calls", 0))
        acks = int(stats.get("cmdstat_xack", {}).get("calls", 0))
    finally:
        await node.stop()
        await redis.aclose()
    assert sl_reads == 0  # nothing in those batches counts
    assert reads < messages / 3 and acks < messages / 3, (reads, acks)  # one by one: >= 2 reads and 1 ack each
