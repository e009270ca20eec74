"""Rollups: the report counters kept as events happen, the reports read from them, and the backfill.

**Consumer.** Every node runs one consumer (its node id) of the event log's group ``rollups``
(:class:`RollupConsumer`, started and stopped with the node): it reads entries (its own pending ones first),
turns each into counter increments with the pure :func:`gateway.ops.rollup_rules.count`, applies them with the
entry's id in one script (an entry applied before is skipped: exactly once), then acknowledges them. Entries a
stopped node read and never acknowledged are claimed by another node after :data:`CLAIM_IDLE_MS`.
A batch costs the same few round trips whatever it holds, and every chat message is an entry (counting nothing:
the consumer looks at its type alone, parses nothing else of it, a malformed one included, and acknowledges it):
once it has caught up (a batch short of :data:`BATCH`) the consumer waits :data:`PACE_SECONDS` before reading
again, so under a steady flow of messages it reads them by the hundred, not one by one (the counters are at most
that much behind); it reads its own pending entries only when it may have some (at the start, after a batch that
failed, after claiming), and the queues' service levels only for a batch holding an event that counts.

**Reports.** :class:`Reports` answers a range of whole days of the center's time zone (``--center-timezone``; at
most :data:`MAX_DAYS`) by day or by local hour, per queue, agent or disposition, from the day and hour hashes
(gateway/store/rollup_store.py): a 90-day report by day reads 90 small hashes per key. Every interval of the range
is in the answer (zeros where nothing happened); each point's ``start`` is local time with its UTC offset
(``2026-12-05T14:00:00-05:00``; ``...Z`` in UTC). Daylight saving time: a day has the hours its clock shows, 23 on
the day the clock skips an hour (no point for it: it never happened) and 24 on the day it repeats one (the repeated
hour's point holds both of its hours, its ``start`` the first one's offset).

**Backfill.** :func:`backfill` rebuilds the counters of a range of days (local midnight to local midnight) from the
stored timelines, through the same rules: it clears those days first, so running it twice gives the same counters.
After a change of the center's time zone it moves those days' counters into the new zone's days and hours.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.contact.routing import DEFAULT_QUEUE
from gateway.errors import BadRequest
from gateway.ops.rollup_rules import COUNTERS, METRICS, Counted, count, counted_type, replay, report_point
from gateway.protocol.codes import ErrorCode
from gateway.store.event_log_store import EventLogStore, LoggedEvent
from gateway.store.index_store import ConversationIndex
from gateway.store.rollup_store import Change, RollupStore, day_of, day_start_ms, days_between
from gateway.store.store import Store, StoreError
from gateway.tasks import Tasks

log = logging.getLogger(__name__)

GROUP = "rollups"
MAX_DAYS = 90
BATCH = 200
PACE_SECONDS = 0.25  # a consumer that caught up waits this long before reading again (batches, not single entries)
MAX_POINTS = 20_000  # keys x intervals in one report (a 90-day hourly report: 9 keys)
MAX_READ = 50_000  # day hashes read for one report (keys of the dimension x days)
SLICE_POINTS = 200  # points computed (or encoded) between two turns of the event loop
CLAIM_IDLE_MS = 60_000  # a node's unacknowledged entries this old are taken over (it stopped or died)
CLAIM_EVERY_SECONDS = 30.0
IDLE_CONSUMER_MS = 3_600_000  # a consumer (node) with nothing pending, unseen for an hour, leaves the group
RETRY_SECONDS = 1.0
MAX_FAILURES = 3  # an entry whose counters Redis refused this often is set aside


def change_of(entry: LoggedEvent, counted: Counted) -> Change:
    return Change(
        entry_id=entry.id,
        entry_ms=int(entry.id.split("-", 1)[0]) if entry.id.split("-", 1)[0].isdigit() else counted.at_ms,
        at_ms=counted.at_ms,
        counters=[(i.dim, i.key, i.counter, i.amount) for i in counted.increments],
        paths=[(p.flow, p.field, p.amount) for p in counted.paths],
    )


class RollupConsumer:
    """This node's consumer of the event log's ``rollups`` group.

    One bad entry never stops the counting: an entry that cannot be counted (its data is not an object, a rule
    fails on it) is logged with its id and set aside at once (``P:ru:dead``, acknowledged); one whose counters
    Redis refuses is retried with its batch and set aside after :data:`MAX_FAILURES` refusals. Any other failure
    is logged with its traceback and the loop goes on after :data:`RETRY_SECONDS`."""

    def __init__(
        self,
        events: EventLogStore,
        db: RollupStore,
        node_id: str,
        *,
        sl_threshold_ms: int,
        block_ms: int = 1000,
        sl_by_queue: Callable[[], Awaitable[Mapping[str, int]]] | None = None,
        idle_consumer_ms: int = IDLE_CONSUMER_MS,
        pace_seconds: float = PACE_SECONDS,
    ):
        self.events = events
        self.idle_consumer_ms = idle_consumer_ms
        self.db = db
        self.node_id = node_id
        self.sl_threshold_ms = sl_threshold_ms  # a queue without its own service level (sl_by_queue) takes this
        self.sl_by_queue = (
            sl_by_queue  # each queue's service level (ms), read once per batch (gateway/contact/queues.py)
        )
        self.block_ms = block_ms
        self._tasks = Tasks("rollups", log)
        self._failures: dict[str, int] = {}  # entry id -> refusals so far (this node)
        self.set_aside = 0  # entries set aside by this node
        self.pace_seconds = pace_seconds
        self._maybe_pending = True  # it may hold entries read and not acknowledged (read them first)

    async def start(self) -> None:
        await self.events.ensure_group(GROUP)
        self._tasks.spawn(self._run(), "consumer")

    async def stop(self) -> None:
        await self._tasks.close()

    async def run_once(self, *, block_ms: int | None = None) -> int:
        """Read, count and acknowledge one batch; returns how many entries it held."""
        try:
            batch = await self.events.read_some(
                GROUP,
                self.node_id,
                count=BATCH,
                block_ms=block_ms or self.block_ms,
                pending=self._maybe_pending,
                only=counted_type,  # a message, a note...: nothing to count, not even parsed; acknowledged below
            )
        except BaseException:  # Redis may have handed out entries whose reply was lost: they are pending now
            self._maybe_pending = True
            raise
        if not batch.ids:
            self._maybe_pending = False
            return 0
        entries = batch.events
        self._maybe_pending = True  # until they are acknowledged (a failure below leaves them pending)
        by_queue: Mapping[str, int] = {}
        if self.sl_by_queue is not None and entries:  # not for messages only
            by_queue = await self.sl_by_queue()
        counted: list[tuple[LoggedEvent, Change]] = []
        for e in entries:
            if e.problem:
                log.error(
                    "rollups: event-log entry %s (%s, conversation %s) set aside: %s", e.id, e.type, e.cid, e.problem
                )
                await self._set_aside(e, e.problem)
                continue
            try:
                c = count(e, sl_threshold_ms=by_queue.get(e.queue, self.sl_threshold_ms))
                counted.append((e, change_of(e, c)))
            except Exception as exc:  # a malformed entry or a rule's bug: logged, set aside, the others counted
                log.exception("rollups: event-log entry %s (%s, conversation %s) not counted", e.id, e.type, e.cid)
                await self._set_aside(e, f"{type(exc).__name__}: {exc}")
        refused = None
        for (e, _), result in zip(counted, await self.db.apply_each([c for _, c in counted]), strict=True):
            if not isinstance(result, Exception):
                self._failures.pop(e.id, None)
                continue
            tries = self._failures[e.id] = self._failures.get(e.id, 0) + 1
            log.error(
                "rollups: counters of entry %s (%s) refused (%d of %d): %s", e.id, e.type, tries, MAX_FAILURES, result
            )
            if tries >= MAX_FAILURES:
                self._failures.pop(e.id, None)
                await self._set_aside(e, f"{type(result).__name__}: {result}")
            elif refused is None:
                refused = result
        if refused is not None:  # not acknowledged: read again (what was applied is not counted twice)
            raise refused
        await self.events.ack(GROUP, batch.ids)
        self._maybe_pending = len(batch.ids) >= BATCH  # a full batch may have been a page of more pending entries
        return len(batch.ids)

    async def housekeeping(self) -> None:
        """Every :data:`CLAIM_EVERY_SECONDS`: take over what a stopped node left pending, forget consumers (nodes)
        gone for :data:`IDLE_CONSUMER_MS`, and forget applied ids the group cannot deliver again."""
        if await self.events.claim(GROUP, self.node_id, min_idle_ms=CLAIM_IDLE_MS, count=BATCH):
            self._maybe_pending = True  # another node's entries are this one's pending ones now
        await self.events.forget_idle_consumers(GROUP, self.node_id, self.idle_consumer_ms)
        since = await self.events.redeliverable_from_ms(GROUP)
        if since is not None:
            await self.db.prune_applied(since)

    async def _set_aside(self, entry: LoggedEvent, error: str) -> None:
        self.set_aside += 1
        await self.db.dead_letter(entry.id, entry.cid, entry.type, error)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        claimed_at = 0.0
        while True:
            try:
                if loop.time() - claimed_at > CLAIM_EVERY_SECONDS:
                    claimed_at = loop.time()
                    await self.housekeeping()
                if await self.run_once() < BATCH and self.pace_seconds > 0:
                    await asyncio.sleep(self.pace_seconds)  # caught up: let the next batch gather
            except (StoreError, OSError) as exc:
                log.warning("rollups paused: %s", exc)
                await asyncio.sleep(RETRY_SECONDS)
                if "NOGROUP" in str(exc):  # a Redis that came back empty: count its new event log from the start
                    await self._ensure_group()
            except Exception:  # a bug: logged with its traceback; the counting goes on
                log.exception("rollups: batch failed")
                await asyncio.sleep(RETRY_SECONDS)

    async def _ensure_group(self) -> None:
        try:
            await self.events.ensure_group(GROUP)
        except StoreError as exc:
            log.warning("rollups consumer group not created: %s", exc)


# ---------------------------------------------------------------- reports


def local_start(d: date, hour: int, zone: ZoneInfo) -> str | None:
    """When local hour ``hour`` of day ``d`` starts in ``zone``, as ISO 8601 with its UTC offset (``Z`` in UTC);
    None for an hour the clock skips (DST beginning; one skipped in part starts where the clock goes on); a
    repeated hour (DST ending) starts at its first occurrence."""
    if zone.key == "UTC":
        return f"{d.isoformat()}T{hour:02d}:00:00Z"
    real = datetime(d.year, d.month, d.day, hour, tzinfo=zone).astimezone(UTC).astimezone(zone)
    return real.isoformat() if (real.date(), real.hour) == (d, hour) else None


def day_start(d: date, zone: ZoneInfo) -> str:
    """When day ``d`` starts in ``zone`` (ISO 8601 with its UTC offset, ``Z`` in UTC): its midnight, or the first
    time its clock shows where midnight is skipped."""
    if zone.key == "UTC":
        return f"{d.isoformat()}T00:00:00Z"
    return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC).astimezone(zone).isoformat()


def hour_starts(d: date, zone: ZoneInfo) -> list[str | None]:
    """The start of each local hour 0..23 of day ``d`` in ``zone`` (:func:`local_start`; None: the clock skips it)."""
    return [local_start(d, h, zone) for h in range(24)]


def day_hours(row: dict[str, int], starts: list[str | None]) -> list[tuple[str, dict[str, int]]]:
    """One day's hour hash (``HH|counter``) as a point per local hour its clock shows (``starts``:
    :func:`hour_starts`; the module docstring: 23, 24 or 25 hours of time in 23 or 24 points)."""
    by_hour: list[dict[str, int]] = [{} for _ in range(24)]
    for field, value in row.items():
        hour, _, counter = field.partition("|")
        by_hour[int(hour)][counter] = value
    out: list[tuple[str, dict[str, int]]] = []
    carry: dict[str, int] = {}  # a skipped hour's counters (never counted so; from counters of another zone)
    for h, start in enumerate(starts):
        for name, value in carry.items():
            by_hour[h][name] = by_hour[h].get(name, 0) + value
        carry = by_hour[h] if start is None else {}
        if start is not None:
            out.append((start, by_hour[h]))
    return out


class Reports:
    """Reports from the day and hour hashes (module docstring). One report's work is bounded: at most
    :data:`MAX_READ` day hashes read to find the keys with something in the range, and at most :data:`MAX_POINTS`
    points (keys with something x intervals) in the answer; beyond, a 400 names the parameter to change. Reading,
    computing and (in the route) encoding go in slices with the event loop free in between (calls' audio goes on)."""

    def __init__(
        self,
        db: RollupStore,
        *,
        sl_threshold_s: float,
        sl_by_queue: Callable[[], Awaitable[Mapping[str, int]]] | None = None,
    ):
        self.db = db
        self.sl_threshold_s = sl_threshold_s  # a queue without its own service level
        self.sl_by_queue = sl_by_queue  # each queue's own (ms, gateway/contact/queues.py): what the counters used

    @property
    def zone(self) -> ZoneInfo:
        """The center's time zone: the reports' days and hours."""
        return self.db.zone

    def today(self, ms: int) -> date:
        """The center's day at the instant ``ms``."""
        return datetime.fromtimestamp(ms / 1000, self.zone).date()

    async def counted(self, by: str) -> list[str]:
        """Every key of dimension ``by`` (a queue, an agent, a disposition) that ever had a counter."""
        return await self.db.dimension_keys(by)

    async def report(self, first: date, last: date, *, interval: str, by: str, queue: str = "") -> dict[str, Any]:
        """The report of whole local days ``first``..``last`` (see the module docstring); ``queue``: that queue only
        (with ``by`` queue). Raises BadRequest (field ``to`` or ``interval``) for a report over the bounds."""
        days = days_between(first, last)
        keys = [queue] if queue else await self.db.dimension_keys(by)
        if len(keys) * len(days) > MAX_READ:
            most = max(1, MAX_READ // max(1, len(keys)))
            raise BadRequest(
                f"{len(keys)} {by} keys x {len(days)} days is more than {MAX_READ:,} day counters to read: "
                f"choose at most {most} days ('to')",
                field="to",
                code=ErrorCode.BAD_FIELD,
            )
        day_rows = await self.db.days(by, keys, days)
        kept = [
            (k, rows)
            for k, rows in zip(keys, day_rows, strict=True)
            if queue or any(v for r in rows for v in r.values())
        ]
        per_key = len(days) * (24 if interval == "hour" else 1)
        if len(kept) * per_key > MAX_POINTS:
            by_day_fits = interval == "hour" and len(kept) * len(days) <= MAX_POINTS
            most = max(1, MAX_POINTS // max(1, len(kept) * (per_key // len(days))))
            raise BadRequest(
                f"{len(kept)} {by} keys x {per_key} {interval}s is {len(kept) * per_key:,} points, more than "
                f"{MAX_POINTS:,} in one report: "
                + ("choose interval=day or " if by_day_fits else "choose ")
                + f"at most {most} days ('to')"
                + (", or one queue" if by == "queue" and not queue else ""),
                field="interval" if by_day_fits else "to",
                code=ErrorCode.BAD_FIELD,
            )
        kind = {"by_disposition": by == "disposition", "by_agent": by == "agent", "by_away_reason": by == "away_reason"}
        series, totals = [], []
        grand: dict[str, int] = {}  # every key's counters together: the report's "all queues" (or agents) row
        if interval == "hour":
            hour_rows = await self.db.hours(by, [k for k, _ in kept], days)
            starts = {d: hour_starts(d, self.zone) for d in days}  # once per report, not per key
        done = 0
        for n, (key, rows) in enumerate(kept):
            total: dict[str, int] = {}
            out: list[dict[str, Any]] = []
            for d, row in zip(days, rows if interval == "day" else hour_rows[n], strict=True):
                points = [(day_start(d, self.zone), row)] if interval == "day" else day_hours(row, starts[d])
                for start, counters in points:
                    for name, value in counters.items():
                        total[name] = total.get(name, 0) + value
                    out.append({"start": start, **report_point(counters, **kind)})
                    done += 1
                    if done % SLICE_POINTS == 0:
                        await asyncio.sleep(0)  # the event loop runs between slices
            series.append({"key": key, "points": out})
            totals.append({"key": key, **report_point(total, **kind)})
            for name, value in total.items():
                grand[name] = grand.get(name, 0) + value
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "interval": interval,
            "by": by,
            "zone": self.zone.key,  # the center's days and hours (the counters are kept per local day and hour)
            "sl_threshold_s": self.sl_threshold_s,
            # each queue's own threshold, as its contacts were counted (the page said "SL <= 10 s" over a queue
            # counted within 20 s: a reports auditor's finding)
            "sl_thresholds_s": {q: ms / 1000 for q, ms in sorted((await self.sl_by_queue()).items())}
            if self.sl_by_queue is not None
            else {},
            # the totals of every key together, each average over all of their contacts (not an average of the
            # keys' averages): the table's last row (a reports auditor found none)
            "overall": report_point(grand, **kind),
            "series": series,
            "totals": totals,
        }

    async def flow(self, flow: str, first: date, last: date) -> dict[str, Any]:
        """Path analytics of ``flow``: transitions between nodes and exits (hang-ups, agent requests) per node."""
        counters = await self.db.flow_paths(flow, days_between(first, last))
        transitions: list[dict[str, Any]] = []
        exits: dict[str, dict[str, Any]] = {}
        for name, value in counters.items():
            kind, _, rest = name.partition("|")
            if kind == "t":
                source, _, target = rest.partition("|")
                transitions.append({"from": source, "to": target, "count": value})
            elif kind in ("h", "a"):
                row = exits.setdefault(rest, {"node": rest, "hangups": 0, "agent_requests": 0})
                row["hangups" if kind == "h" else "agent_requests"] += value
        transitions.sort(key=lambda t: (-t["count"], t["from"], t["to"]))
        return {
            "flow": flow,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "transitions": transitions,
            "exits": sorted(exits.values(), key=lambda e: e["node"]),
        }


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet takes a cell starting so for a formula


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading ``'`` (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_rows(report: dict[str, Any]) -> list[list[str]]:
    """The report as CSV rows: a header, then one row per (key, interval start); no cell reads as a formula."""
    return [row for part in csv_parts(report) for row in part]


def csv_parts(report: dict[str, Any]) -> Iterator[list[list[str]]]:
    """:func:`csv_rows` in parts: the header, then at most :data:`SLICE_POINTS` rows each (written one at a time)."""
    names = {"disposition": ["closed"], "away_reason": ["time_away_ms"]}.get(report["by"], list(METRICS))
    yield [["key", "start", *names]]
    for series in report["series"]:
        key = csv_cell(str(series["key"]))
        points = series["points"]
        for i in range(0, len(points), SLICE_POINTS):
            rows = []
            for point in points[i : i + SLICE_POINTS]:
                values = ("" if point[n] is None else csv_cell(str(point[n])) for n in names)
                rows.append([key, csv_cell(str(point["start"])), *values])
            yield rows


def json_parts(report: dict[str, Any]) -> Iterator[str]:
    """The report's JSON text in parts (at most :data:`SLICE_POINTS` points each): the same text as
    ``json.dumps(report)`` compactly."""
    head = {k: v for k, v in report.items() if k not in ("series", "totals")}
    compact = (",", ":")
    yield json.dumps(head, separators=compact)[:-1] + ',"series":['
    for n, series in enumerate(report["series"]):
        points = series["points"]
        yield ("," if n else "") + '{"key":' + json.dumps(series["key"]) + ',"points":['
        for i in range(0, len(points), SLICE_POINTS):
            yield ("," if i else "") + json.dumps(points[i : i + SLICE_POINTS], separators=compact)[1:-1]
        yield "]}"
    yield '],"totals":' + json.dumps(report["totals"], separators=compact) + "}"


# ---------------------------------------------------------------- the backfill


async def backfill(
    store: Store,
    db: RollupStore,
    first: date,
    last: date,
    *,
    sl_threshold_ms: int,
    sl_by_queue: Mapping[str, int] | None = None,
    default_queue: str = DEFAULT_QUEUE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild the counters of days ``first``..``last`` (days of ``db``'s time zone, the center's) from the stored
    timelines; returns the events counted. Conversations created up to a year before ``first`` are read (one open
    that long is not seen)."""
    start_ms = day_start_ms(first, db.zone)
    end_ms = day_start_ms(last + timedelta(days=1), db.zone)
    days = days_between(first, last)
    await db.clear(days)
    index = ConversationIndex(store)
    counted = 0
    cids = await index.created_between(start_ms - 365 * 86_400_000, end_ms)
    for n, cid in enumerate(cids):
        changes = []
        for entry in replay(cid, await store.events(cid), default_queue=default_queue):
            # each queue's own service level, as the live counters count (the global one recounted history: a
            # reports auditor's finding)
            c = count(entry, sl_threshold_ms=(sl_by_queue or {}).get(entry.queue, sl_threshold_ms))
            if start_ms <= c.at_ms < end_ms and (c.increments or c.paths):
                changes.append(change_of(entry, c))
        if changes:
            await db.add(changes)
            counted += len(changes)
        if progress is not None and n % 1000 == 999:
            progress(n + 1)
    return counted


__all__ = [
    "COUNTERS",
    "GROUP",
    "MAX_DAYS",
    "Reports",
    "RollupConsumer",
    "backfill",
    "csv_rows",
    "day_hours",
    "day_of",
    "day_start",
    "hour_starts",
    "local_start",
]
