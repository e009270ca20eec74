"""The center's time zone on a real node (``center_timezone``): an event counts in the center's local day and hour,
through the live rollup consumer and GET /api/reports; the wallboard's today is the center's day; a backfill after a
change of zone moves an event into its day in the new zone (the ``reports backfill`` command)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from gateway.config import Settings
from gateway.store.store import Store
from tests.conftest import Clients, bounded
from tests.support.servers import Clock, Node, start_node

AT_0330 = "2026-12-05T03:30:00+00:00"  # New York: 22:30 on Dec 4; Kolkata: 09:00 on Dec 5


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def zoned(settings: Settings, clock: Clock, request: pytest.FixtureRequest) -> AsyncIterator[Node]:
    """A node whose center is in the zone the test names (``@pytest.mark.parametrize('zoned', [...],
    indirect=True)``), on ``clock``."""
    started = await start_node(replace(settings, center_timezone=request.param), clock=clock)
    yield started
    await bounded(started.stop(), "stopping the gateway node")


@pytest.fixture
async def zclients(zoned: Node) -> AsyncIterator[Clients]:
    """Clients of the zoned node (the ``clients`` fixture would start a UTC node too, counting the same log)."""
    made = Clients(zoned.url)
    yield made
    await bounded(made.close(), "closing the test clients")


async def offered_at(store: Store, cid: str, at_ms: int, queue: str = "billing") -> None:
    """A conversation queued at ``at_ms`` (its timeline event's time), in the event log as the append script writes
    it (the live consumer counts it: one ``offered``)."""
    fields = {
        "cid": cid,
        "event_id": f"{at_ms}-0",
        "type": "state",
        "data": json.dumps({"state": "queued"}),
        "ts": str(at_ms),
        "queue": queue,
        "agent_id": "",
    }
    await store.redis.xadd(store.keys.event_log, fields)  # type: ignore[arg-type]


async def get(node: Node, token: str, path: str, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(node.url + path, params=params, headers=headers) as r:
        body = await r.json()
        assert r.status == 200, body
        return body


async def report_when(node: Node, token: str, check: Callable[[Any], bool], **params: str) -> Any:
    """The report once ``check(report)`` holds (the consumer counts a moment after the event)."""
    body = None
    try:
        async with asyncio.timeout(15):
            while True:
                body = await get(node, token, "/api/reports", **params)
                if check(body):
                    return body
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"the report never held: {body}")


def offered(report: dict[str, Any], key: str = "billing") -> int:
    return next((t["offered"] for t in report["totals"] if t["key"] == key), 0)


def hour_points(report: dict[str, Any], key: str = "billing") -> dict[str, int]:
    """start -> offered of the points that offered something."""
    (series,) = [s for s in report["series"] if s["key"] == key]
    return {p["start"]: p["offered"] for p in series["points"] if p["offered"]}


@pytest.mark.parametrize("zoned", ["America/New_York"], indirect=True)
async def test_an_event_at_0330_utc_counts_in_new_yorks_previous_day_at_2230(zclients: Clients, zoned: Node) -> None:
    await offered_at(zoned.services.store, "c-ny", ms(AT_0330))
    carol = await zclients.agent("carol").login()
    dec4 = {"from": "2026-12-04", "to": "2026-12-04"}
    by_day = await report_when(zoned, carol, lambda r: offered(r) == 1, **dec4)
    assert by_day["zone"] == "America/New_York"
    assert [p["start"] for p in by_day["series"][0]["points"]] == ["2026-12-04T00:00:00-05:00"]
    by_hour = await get(zoned, carol, "/api/reports", interval="hour", **dec4)
    assert hour_points(by_hour) == {"2026-12-04T22:00:00-05:00": 1}
    assert len(by_hour["series"][0]["points"]) == 24
    dec5 = await get(zoned, carol, "/api/reports", **{"from": "2026-12-05", "to": "2026-12-05"})
    assert offered(dec5) == 0  # a UTC center counts it on Dec 5


@pytest.mark.parametrize("zoned", ["Asia/Kolkata"], indirect=True)
async def test_an_event_at_0330_utc_counts_in_kolkatas_9_oclock_hour_and_one_a_minute_before_in_the_8(
    zclients: Clients, zoned: Node
) -> None:
    store = zoned.services.store
    await offered_at(store, "c-in1", ms(AT_0330))
    await offered_at(store, "c-in2", ms(AT_0330) - 60_000)  # 08:59 in Kolkata (03:29 UTC, in UTC's 3 o'clock too)
    await offered_at(store, "c-in3", ms("2026-12-05T18:30:00+00:00"))  # midnight in Kolkata: Dec 6
    carol = await zclients.agent("carol").login()
    dec5 = {"from": "2026-12-05", "to": "2026-12-05"}
    await report_when(zoned, carol, lambda r: offered(r) == 2, **dec5)
    by_hour = await get(zoned, carol, "/api/reports", interval="hour", **dec5)
    assert by_hour["zone"] == "Asia/Kolkata"
    assert hour_points(by_hour) == {"2026-12-05T08:00:00+05:30": 1, "2026-12-05T09:00:00+05:30": 1}
    dec6 = await report_when(zoned, carol, lambda r: offered(r) == 1, **{"from": "2026-12-06", "to": "2026-12-06"})
    assert dec6["series"][0]["points"][0]["start"] == "2026-12-06T00:00:00+05:30"


@pytest.mark.parametrize("zoned", ["America/New_York"], indirect=True)
async def test_the_wallboards_today_is_the_centers_day(zclients: Clients, zoned: Node, clock: Clock) -> None:
    """At 04:00 UTC on Dec 5 it is 23:00 on Dec 4 in New York: today holds the 03:30 UTC event, not one at 05:30
    UTC (00:30 on Dec 5 there); a UTC center's today (Dec 5) would hold both."""
    store = zoned.services.store
    await offered_at(store, "c-wb1", ms(AT_0330))
    await offered_at(store, "c-wb2", ms("2026-12-05T05:30:00+00:00"))
    carol = await zclients.agent("carol").login()
    await report_when(zoned, carol, lambda r: offered(r) == 1, **{"from": "2026-12-05", "to": "2026-12-05"})
    clock.ms = ms("2026-12-05T04:00:00+00:00")
    board = (await zoned.services.wallboard.snapshot()).as_dict()
    assert board["thresholds"]["today_zone"] == "America/New_York"
    (billing,) = [q for q in board["queues"] if q["queue"] == "billing"]
    assert billing["today"]["offered"] == 1
    assert await get(zoned, carol, "/api/reports/zone") == {"zone": "America/New_York", "today": "2026-12-04"}
    clock.ms = ms("2026-12-05T06:00:00+00:00")  # 01:00 on Dec 5 in New York
    board = (await zoned.services.wallboard.snapshot()).as_dict()
    (billing,) = [q for q in board["queues"] if q["queue"] == "billing"]
    assert billing["today"]["offered"] == 1
    assert await get(zoned, carol, "/api/reports/zone") == {"zone": "America/New_York", "today": "2026-12-05"}


def other_day_zone(at_ms: int) -> str:
    """A zone in which the instant ``at_ms`` is on another date than in UTC: UTC+14 from 10:00 UTC, else UTC-12."""
    return "Pacific/Kiritimati" if datetime.fromtimestamp(at_ms / 1000, UTC).hour >= 10 else "Etc/GMT+12"


async def test_a_backfill_after_a_change_of_zone_puts_an_event_in_its_local_day(
    settings: Settings, redis_url: str
) -> None:
    """Counters kept before a change of zone stay in the old zone's days; ``reports backfill`` with the new zone
    over those days (and the day after: the old zone's days reach into it) rebuilds them from the timelines."""
    from gateway.cli import main

    before = await start_node(settings)  # a UTC center
    clients = Clients(before.url)
    try:
        cust = clients.customer()
        await cust.hello()
        cid = (await cust.say("anyone there?"))["conversation_id"]  # nobody online: it waits in 'default'
        events = await before.services.store.events(cid)
        at_ms = next(e["ts"] for e in events if e["type"] == "state" and e.get("state") == "queued")
        utc_day = datetime.fromtimestamp(at_ms / 1000, UTC).date()
        carol = await clients.agent("carol").login()
        day = {"from": utc_day.isoformat(), "to": utc_day.isoformat()}
        await report_when(before, carol, lambda r: offered(r, "default") == 1, **day)
    finally:
        await bounded(clients.close(), "closing the test clients")
        await bounded(before.stop(), "stopping the gateway node")

    zone = other_day_zone(at_ms)
    local_day = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(zone)).date()
    assert local_day != utc_day
    first, last = min(local_day, utc_day), max(local_day, utc_day)
    after = await start_node(replace(settings, center_timezone=zone))
    clients = Clients(after.url)
    try:
        carol = await clients.agent("carol").login()
        both = {"from": first.isoformat(), "to": last.isoformat()}
        stale = await get(after, carol, "/api/reports", **both)
        assert day_totals(stale, "default") == {utc_day: 1}  # still in the old zone's day
        await after.services.rollups.stop()  # nothing counted live while the backfill runs
        argv = ["reports", "backfill", "--redis-url", redis_url, "--center-timezone", zone]
        assert await asyncio.to_thread(main, [*argv, "--from", first.isoformat(), "--to", last.isoformat()]) == 0
        rebuilt = await get(after, carol, "/api/reports", **both)
        assert rebuilt["zone"] == zone and day_totals(rebuilt, "default") == {local_day: 1}
    finally:
        await bounded(clients.close(), "closing the test clients")
        await bounded(after.stop(), "stopping the gateway node")


def day_totals(report: dict[str, Any], key: str) -> dict[date, int]:
    """date -> offered of the days that offered something."""
    (series,) = [s for s in report["series"] if s["key"] == key]
    return {date.fromisoformat(p["start"][:10]): p["offered"] for p in series["points"] if p["offered"]}


async def test_daylight_saving_days_in_new_york_have_23_and_24_points_on_a_real_redis(redis_url: str) -> None:
    """Counters written at real instants of New York's DST days and read back as a report by hour: 2026-03-08 has no
    02:00 (23 points), 2026-11-01's 01:00 point holds both of its hours (24 points for 25 hours)."""
    import redis.asyncio as aioredis

    from gateway.ops.rollups import Reports
    from gateway.store.rollup_store import Change, RollupStore
    from gateway.store.store import Keys

    redis = aioredis.Redis.from_url(redis_url)
    try:
        db = RollupStore(Store(redis, Keys("t")), zone="America/New_York")
        instants = [
            "2026-03-08T06:30:00+00:00",  # 01:30 EST
            "2026-03-08T07:30:00+00:00",  # 03:30 EDT (the clock went from 01:59:59 to 03:00)
            "2026-11-01T05:30:00+00:00",  # 01:30 EDT
            "2026-11-01T06:30:00+00:00",  # 01:30 EST (the same hour again)
            "2026-11-01T07:30:00+00:00",  # 02:30 EST
        ]
        await db.add([Change("", ms(t), ms(t), [("queue", "billing", "offered", 1)]) for t in instants])
        reports = Reports(db, sl_threshold_s=20)
        spring = await reports.report(date(2026, 3, 8), date(2026, 3, 8), interval="hour", by="queue")
        assert spring["zone"] == "America/New_York" and len(spring["series"][0]["points"]) == 23
        assert hour_points(spring) == {"2026-03-08T01:00:00-05:00": 1, "2026-03-08T03:00:00-04:00": 1}
        autumn = await reports.report(date(2026, 11, 1), date(2026, 11, 1), interval="hour", by="queue")
        assert len(autumn["series"][0]["points"]) == 24
        assert hour_points(autumn) == {"2026-11-01T01:00:00-04:00": 2, "2026-11-01T02:00:00-05:00": 1}
        by_day = await reports.report(date(2026, 3, 7), date(2026, 11, 1), interval="day", by="queue")
        assert by_day["totals"][0]["offered"] == 5
        assert by_day["series"][0]["points"][-1]["start"] == "2026-11-01T00:00:00-04:00"
    finally:
        await redis.aclose()
