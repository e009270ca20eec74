"""Report counters in Redis (the rules: gateway/ops/rollup_rules.py; keys ``P:ru:...`` in gateway/store/keys.py).

One key of a dimension (a queue, an agent, a disposition) has two hashes per day of the center's time zone
(``--center-timezone``; :func:`local_slot`): the day's totals (field: the counter) and per local hour (``HH|counter``);
a report by day reads the first, by hour the second, so a 90-day report reads 90 small hashes per key. A day of 23
or 25 hours (daylight saving time) has the hours its clock shows: the skipped hour has no field, the repeated one's
two hours are counted in one ``HH``. (Quarter-hour hashes ``:q`` were written until nothing read them: those left expire.) Flows have one path hash per day.

Live counting goes through :meth:`RollupStore.apply` (one script per event-log entry, pipelined: the counters and
the entry's id in the applied set in one step, so an entry delivered twice is counted once). The backfill clears
days (:meth:`clear`) and adds summed counters (:meth:`add`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.store.store import Store, _s

DAY_MS = 86_400_000
APPLIED_KEEP_MS = 7 * DAY_MS  # an entry is not delivered again after a week (its node's pending list is claimed)


READ_CHUNK = 300  # day hashes per script call
HOUR_CHUNK = 12  # hour hashes per script call (each up to 24 x the counters)
CHUNKS_PER_TRIP = 2  # script calls per round trip (parsed before the next one)
DEAD_KEEP = 1000  # entries set aside kept (P:ru:dead)


def _pairs(text: bytes | str) -> dict[str, int]:
    """A hash read by read_hashes ("field value field value ...")."""
    parts = _s(text).split()
    return {parts[i]: int(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}


def local_slot(ms: int, zone: ZoneInfo) -> tuple[str, int]:
    """The local day (``YYYYMMDD``) and local hour (0..23) of the instant ``ms`` in ``zone``: exact in any zone,
    also one a half or quarter hour off UTC; both hours of a repeated hour (DST ending) give the same hour."""
    when = datetime.fromtimestamp(ms / 1000, zone)
    return when.strftime("%Y%m%d"), when.hour


def day_of(ms: int, zone: ZoneInfo | None = None) -> str:
    """The day (``YYYYMMDD``) of the instant ``ms`` in ``zone`` (UTC by default)."""
    return datetime.fromtimestamp(ms / 1000, zone or UTC).strftime("%Y%m%d")


def day_start_ms(d: date, zone: ZoneInfo) -> int:
    """The first instant (ms) of the local day ``d`` in ``zone``: its midnight, or where the clock starts the day
    when midnight is skipped (a zone whose DST begins at 00:00)."""
    return int(datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC).timestamp() * 1000)


def day_name(d: date) -> str:
    return d.strftime("%Y%m%d")


@dataclass(frozen=True, slots=True)
class Change:
    """Counters of one event: ``counters`` (dim, key, counter, amount) and ``paths`` (flow, field, amount) at
    ``at_ms``."""

    entry_id: str  # the event-log entry ('' for the backfill)
    entry_ms: int
    at_ms: int
    counters: Sequence[tuple[str, str, str, int]]
    paths: Sequence[tuple[str, str, int]] = ()


class RollupStore:
    def __init__(self, store: Store, *, retention_days: float = 400, zone: str = "UTC"):
        self.keys = store.keys
        self.zone = ZoneInfo(zone)  # the center's time zone: the days and hours counted in (``--center-timezone``)
        self._redis = store.redis
        self._apply = store.scripts["apply_rollup"]
        self._read_hashes = store.scripts["read_hashes"]
        self.retention_ms = int(retention_days * DAY_MS)

    def _writes(self, change: Change) -> tuple[list[str], list[str]]:
        """(KEYS after the applied set, ARGV changes) of :class:`Change` for apply_rollup."""
        if not change.counters and not change.paths:  # most entries (chat messages): no local day to work out
            return [], []
        k = self.keys
        day, local_hour = local_slot(change.at_ms, self.zone)
        hour = f"{local_hour:02d}|"
        keys: list[str] = []
        index: dict[str, int] = {}
        args: list[str] = []

        def at(key: str) -> str:
            if key not in index:
                keys.append(key)
                index[key] = len(keys) + 1  # KEYS[1] is the applied set
            return str(index[key])

        for dim, key, counter, amount in change.counters:
            total, hours = k.rollup(dim, key, day)
            args += ["h", at(total), counter, str(amount)]
            args += ["h", at(hours), hour + counter, str(amount)]
            args += ["s", at(k.rollup_keys(dim)), key, ""]
        for flow, name, amount in change.paths:
            args += ["h", at(k.flow_paths(flow, day)), name, str(amount)]
            args += ["s", at(k.rollup_flows), flow, ""]
        return keys, args

    async def prune_applied(self, before_ms: int) -> int:
        """Forget applied entry ids older than ``before_ms`` (the event log delivers none of them again)."""
        return int(await self._redis.zremrangebyscore(self.keys.rollups_applied, "-inf", f"({before_ms}"))

    async def applied_count(self) -> int:
        return int(await self._redis.zcard(self.keys.rollups_applied))

    def _expire_at(self, at_ms: int) -> int:
        return (at_ms // DAY_MS + 1) * DAY_MS + self.retention_ms

    async def apply(self, changes: Iterable[Change]) -> int:
        """Apply each change once (by its entry id), in one round trip; returns how many were new. The first
        change Redis refused raises (after the others were applied)."""
        applied = 0
        for r in await self.apply_each(changes):
            if isinstance(r, Exception):
                raise r
            applied += r
        return applied

    async def apply_each(self, changes: Iterable[Change]) -> list[int | Exception]:
        """Apply each change once (by its entry id), in one round trip: per change 1 (applied), 0 (applied before)
        or the error Redis answered for it (a WRONGTYPE key...; the others are applied all the same). A Redis that
        does not answer raises."""
        async with self._redis.pipeline(transaction=False) as pipe:
            out: list[int | Exception] = []
            queued: list[int] = []
            for change in changes:
                keys, args = self._writes(change)
                out.append(0)
                if not args:
                    continue
                header = [change.entry_id, str(change.entry_ms), str(change.entry_ms - APPLIED_KEEP_MS)]
                header.append(str(self._expire_at(change.at_ms)))
                await self._apply.queue(pipe, [self.keys.rollups_applied, *keys], [*header, *args])
                queued.append(len(out) - 1)
            if not queued:
                return out
            for i, r in zip(queued, await pipe.execute(raise_on_error=False), strict=True):
                out[i] = r if isinstance(r, Exception) else int(r)
        return out

    async def dead_letter(self, entry_id: str, cid: str, typ: str, error: str) -> None:
        """Keep an entry the rollups set aside (``P:ru:dead``, the last 1,000 or so) for whoever looks into it."""
        fields: dict[Any, Any] = {"id": entry_id, "cid": cid, "type": typ, "error": error[:500]}
        await self._redis.xadd(self.keys.rollups_dead, fields, maxlen=DEAD_KEEP, approximate=True)

    async def dead_letters(self) -> list[dict[str, str]]:
        rows: list[tuple[Any, dict[Any, Any]]] = await self._redis.xrange(self.keys.rollups_dead)  # type: ignore[assignment]
        return [{_s(k): _s(v) for k, v in fields.items()} for _, fields in rows]

    async def add(self, changes: Iterable[Change]) -> None:
        """Add the changes' counters (the backfill: no applied set), in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for change in changes:
                keys, args = self._writes(change)
                expire = self._expire_at(change.at_ms)
                for i in range(0, len(args), 4):
                    op, n, field, amount = args[i : i + 4]
                    key = keys[int(n) - 2]
                    if op == "h":
                        pipe.hincrby(key, field, int(amount))
                        pipe.pexpireat(key, expire)
                    else:
                        pipe.sadd(key, field)
            await pipe.execute()

    async def clear(self, days: Sequence[date]) -> None:
        """Delete every counter and path hash of these days."""
        k = self.keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for dim in ("queue", "agent", "disposition", "away_reason"):
                for key in await self.dimension_keys(dim):
                    for d in days:
                        pipe.unlink(*k.rollup(dim, key, day_name(d)), k.rollup_quarters(dim, key, day_name(d)))
            for flow in sorted(_s(f) for f in await self._redis.smembers(k.rollup_flows)):
                for d in days:
                    pipe.unlink(k.flow_paths(flow, day_name(d)))
            await pipe.execute()

    # ---------------------------------------------------------------- reading

    async def dimension_keys(self, dim: str) -> list[str]:
        return sorted(_s(m) for m in await self._redis.smembers(self.keys.rollup_keys(dim)))

    async def days(self, dim: str, keys: Sequence[str], days: Sequence[date]) -> list[list[dict[str, int]]]:
        """Day totals: for each key, for each day, counter -> value."""
        return await self._read(dim, keys, days, 0)

    async def hours(self, dim: str, keys: Sequence[str], days: Sequence[date]) -> list[list[dict[str, int]]]:
        """Hour totals: for each key, for each day, ``HH|counter`` -> value."""
        return await self._read(dim, keys, days, 1)

    async def _read(
        self, dim: str, keys: Sequence[str], days: Sequence[date], which: int
    ) -> list[list[dict[str, int]]]:
        names = [day_name(d) for d in days]
        wanted = [self.keys.rollup(dim, key, name)[which] for key in keys for name in names]
        # a script call holds Redis briefly (a few hundred day hashes, a few dozen hour hashes); each round trip
        # is parsed before the next is sent, so the event loop runs in between
        chunk = READ_CHUNK if which == 0 else HOUR_CHUNK
        rows: list[dict[str, int]] = []
        for start in range(0, len(wanted), chunk * CHUNKS_PER_TRIP):
            async with self._redis.pipeline(transaction=False) as pipe:
                for i in range(start, min(len(wanted), start + chunk * CHUNKS_PER_TRIP), chunk):
                    await self._read_hashes.queue(pipe, wanted[i : i + chunk])
                rows += [_pairs(text) for part in await pipe.execute() for text in part]
        return [rows[i * len(names) : (i + 1) * len(names)] for i in range(len(keys))]

    async def flow_paths(self, flow: str, days: Sequence[date]) -> dict[str, int]:
        """A flow's path counters summed over the days."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for d in days:
                pipe.hgetall(self.keys.flow_paths(flow, day_name(d)))
            total: dict[str, int] = {}
            for row in await pipe.execute():
                for f, v in row.items():
                    name = _s(f)
                    total[name] = total.get(name, 0) + int(v)
        return total


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
