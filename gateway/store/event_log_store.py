"""The event log (``P:events``): one Redis stream with every timeline event of every conversation.

Each timeline append (``lua/includes/append.lua``) adds the event here in the same script step, with the
conversation's queue and agent at that moment, so a reader never misses an event and never sees one the timeline
does not hold. Readers are consumer groups (``rollups``, ``webhooks``), one consumer per node: :meth:`read` gives a
consumer its own pending entries first (read before, not acknowledged: the node stopped or failed in between), then
new ones; :meth:`ack` acknowledges what was handled.

The log is a way between the timelines and their readers, not a store: it holds message text, transcripts and phone
numbers, so it must not outlive what retention keeps. :meth:`trim` cuts it by time (``XTRIM MINID``): behind the
groups' progress (an entry a group has not handled yet stays), or, for retention, regardless of them. Each append
also trims it to about ``--event-log-max-entries``, a backstop against a reader that never comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from gateway.store.keys import Keys
from gateway.store.scripts import pipelined
from gateway.store.store import Store


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    id: str  # the entry's id in the event log
    cid: str  # conversation id
    event_id: str  # the event's id in the conversation's timeline
    type: str  # an EventType value
    data: dict[str, Any]
    ts: int  # the event's time (ms since the epoch)
    queue: str  # the conversation's queue at that moment ('' none)
    agent_id: str  # the conversation's agent at that moment ('' none)
    problem: str = ""  # why the entry cannot be read as an event ('' it can): its data is not a JSON object
    offer: bool | None = None  # the event took the conversation's open offer (None: not such an event, or logged
    # before offers were followed: lua/includes/append.lua)


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """What one :meth:`EventLogStore.read_some` read: the entries of the types the reader handles, and the ids of
    every entry read (those of the other types included: the reader acknowledges them all)."""

    events: list[LoggedEvent]
    ids: list[str]


class EventLogStore:
    def __init__(self, redis: aioredis.Redis, keys: Keys):
        self._redis = redis
        self.key = keys.event_log

    @classmethod
    def of(cls, store: Store) -> EventLogStore:
        """The event log of ``store``'s Redis (for the layers above, which never hold the client)."""
        return cls(store.redis, store.keys)

    async def ensure_group(self, group: str, *, start: str = "0") -> None:
        """Create the consumer group (and the stream) unless it exists; ``start``: the first id it will read."""
        try:
            await self._redis.xgroup_create(self.key, group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(
        self, group: str, consumer: str, *, count: int = 100, block_ms: int = 1000, pending: bool = True
    ) -> list[LoggedEvent]:
        """The consumer's own pending entries (read before, not acknowledged) if it has any, else new ones
        (waiting up to ``block_ms`` for them). ``pending=False``: the caller knows it has none (it acknowledged
        all it read and claimed nothing since): new ones only, one round trip. A StoreError propagates."""
        batch = await self.read_some(group, consumer, count=count, block_ms=block_ms, pending=pending)
        return batch.events

    async def read_some(
        self,
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int = 1000,
        pending: bool = True,
        only: Callable[[str], bool] | None = None,
    ) -> ReadBatch:
        """:meth:`read`, for a reader that handles only the types ``only`` accepts: an entry of another type is
        not parsed at all (its type alone is looked at; a malformed one included), only its id comes back, in
        ``ids``, to be acknowledged with the rest (the rollup consumer reads every chat message back and counts
        none of them)."""
        while pending:
            batch, trimmed = _events(await self._read_group(group, consumer, "0", count), only)
            if trimmed:  # pending entries the stream no longer holds (trimmed): nothing left to handle
                await self.ack(group, trimmed)
            if batch.ids:
                return batch
            pending = bool(trimmed)  # a page of trimmed entries only: acknowledged; the next page may hold more
        return _events(await self._read_group(group, consumer, ">", count, block_ms), only)[0]

    async def _read_group(self, group: str, consumer: str, start: str, count: int, block_ms: int | None = None) -> Any:
        """``XREADGROUP``'s reply as Redis gives it (the entries' fields a flat list of names and values), read
        without redis-py's command layers and reply shaping (a dict per entry, built in Python: a third of the
        rollup consumer's CPU, which reads every chat message back); on a Redis Cluster redis-py's, shaped."""
        if isinstance(self._redis, RedisCluster):
            return await self._redis.xreadgroup(group, consumer, {self.key: start}, count=count, block=block_ms)
        block = ("BLOCK", block_ms) if block_ms is not None else ()
        command = ("XREADGROUP", "GROUP", group, consumer, "COUNT", count, *block, "STREAMS", self.key, start)
        (reply,) = await pipelined(self._redis, [command], blocks=(block_ms or 0) / 1000)
        if isinstance(reply, Exception):  # an error reply (NOGROUP...), raised as redis-py raised it
            raise reply
        return reply

    async def claim(self, group: str, consumer: str, *, min_idle_ms: int, count: int = 100) -> int:
        """Take over entries other consumers of the group read and left unacknowledged for ``min_idle_ms`` (their
        node stopped or died): they become this consumer's pending ones (:meth:`read` gives them first). Returns
        how many."""
        reply = await self._redis.xautoclaim(self.key, group, consumer, min_idle_ms, "0-0", count=count, justid=True)
        return len(reply[1]) if reply and len(reply) > 1 else 0

    async def ack(self, group: str, ids: list[str]) -> None:
        if ids:
            await self._redis.xack(self.key, group, *ids)

    async def forget_idle_consumers(self, group: str, consumer: str, idle_ms: int) -> list[str]:
        """Remove from ``group`` the consumers (other than ``consumer``) with nothing pending, idle over ``idle_ms``
        (node ids are new per process: without this the group would list every node that ever ran)."""
        gone = []
        for info in await self._redis.xinfo_consumers(self.key, group):
            name = _s(info["name"])
            if name != consumer and int(info["pending"]) == 0 and int(info["idle"]) > idle_ms:
                await self._redis.xgroup_delconsumer(self.key, group, name)
                gone.append(name)
        return gone

    async def redeliverable_from_ms(self, group: str) -> int | None:
        """The time (ms) of the oldest entry ``group`` may still deliver again: its oldest pending entry (read, not
        acknowledged), else its last delivered one (acknowledged entries are never delivered again, entries after
        it were never read). None: the group does not exist."""
        summary = await self._redis.xpending(self.key, group)
        if summary and int(summary.get("pending") or 0):
            return _ms_of(_s(summary["min"]))
        for info in await self._redis.xinfo_groups(self.key):
            if _s(info["name"]) == group:
                return _ms_of(_s(info["last-delivered-id"]))
        return None

    async def range(self, start: str = "-", end: str = "+", count: int = 1000) -> list[LoggedEvent]:
        """Entries from ``start`` to ``end`` (ids, inclusive), oldest first."""
        rows: list[tuple[bytes, dict[bytes, bytes]]] = await self._redis.xrange(  # type: ignore[assignment]
            self.key, min=start, max=end, count=count
        )
        return [_event(eid, fields) for eid, fields in rows]

    async def delete_conversations(self, cids: set[str], since_ms: int, *, batch: int = 1000) -> int:
        """Remove every entry of these conversations logged from ``since_ms`` on (an erasure: their text must not
        outlive them here); how many went. A consumer group that had read one and not acknowledged it gets its id
        alone, as for a trimmed entry."""
        start, removed = f"{max(0, since_ms)}-0", 0
        while True:
            rows: list[tuple[bytes, dict[bytes, bytes]]] = await self._redis.xrange(  # type: ignore[assignment]
                self.key, min=start, max="+", count=batch
            )
            doomed = [eid for eid, fields in rows if _s(fields.get(b"cid", b"")) in cids]
            if doomed:
                removed += int(await self._redis.xdel(self.key, *doomed))
            if len(rows) < batch:
                return removed
            start = "(" + _s(rows[-1][0])

    async def length(self) -> int:
        return int(await self._redis.xlen(self.key))

    async def progress(self) -> dict[str, str]:
        """Per consumer group, the oldest entry it may still need: its oldest pending one (read, not acknowledged),
        else its last delivered one (every entry after it is still to be read)."""
        out: dict[str, str] = {}
        try:
            groups = await self._redis.xinfo_groups(self.key)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return out
            raise
        for info in groups:
            name = _s(info["name"])
            oldest = _s(info["last-delivered-id"])
            if int(info["pending"]) > 0:
                summary = await self._redis.xpending(self.key, name)
                if summary.get("min") is not None:
                    oldest = min(oldest, _s(summary["min"]), key=_id_key)
            out[name] = oldest
        return out

    async def trim(self, before_ms: int, *, behind_groups: bool) -> tuple[int, list[str]]:
        """Remove the entries older than ``before_ms`` (their ids' time): with ``behind_groups``, none a consumer group
        still needs (:meth:`progress`). (how many went, the groups that lost entries they had not handled: only
        retention's cut, ``behind_groups`` False, takes those too)."""
        threshold = f"{max(0, before_ms)}-0"
        progress = await self.progress()
        lost: list[str] = []
        if behind_groups:
            threshold = min([threshold, *progress.values()], key=_id_key)
        else:
            for group, oldest in sorted(progress.items()):
                unread = await self._redis.xrange(self.key, min=f"({oldest}", max=f"({threshold}", count=1)
                pending = await self._redis.xpending_range(self.key, group, min="-", max=f"({threshold}", count=1)
                if unread or pending:
                    lost.append(group)
        if _id_key(threshold) == (0, 0):
            return 0, []
        return int(await self._redis.xtrim(self.key, minid=threshold, approximate=False)), lost


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms or 0), int(seq or 0)


def _events(reply: Any, only: Callable[[str], bool] | None = None) -> tuple[ReadBatch, list[str]]:
    """(the entries of an XREADGROUP reply, the ids of pending entries that were trimmed away); an entry of a type
    ``only`` refuses gives its id alone (:meth:`EventLogStore.read_some`)."""
    events: list[LoggedEvent] = []
    ids: list[str] = []
    trimmed: list[str] = []
    streams = reply.items() if isinstance(reply, dict) else reply or []  # RESP3 (redis-py 8's default): a map
    for _stream, rows in streams:
        for eid, fields in rows:
            if not fields:
                trimmed.append(_s(eid))
                continue
            ids.append(_s(eid))
            if only is not None and not only(_type_of(fields)):
                continue
            if not isinstance(fields, dict):  # as Redis gives them: name, value, name, value...
                fields = dict(zip(fields[::2], fields[1::2], strict=True))
            events.append(_event(eid, fields))
    return ReadBatch(events, ids), trimmed


def _type_of(fields: dict[bytes, bytes] | list[bytes]) -> str:
    """An entry's type, read from its fields without parsing the rest."""
    if isinstance(fields, dict):
        return _s(fields.get(b"type", b""))
    for i in range(0, len(fields) - 1, 2):
        if fields[i] == b"type":
            return _s(fields[i + 1])
    return ""


def _event(eid: Any, fields: dict[bytes, bytes]) -> LoggedEvent:
    """One entry; one that is not an event as the scripts write it (data not a JSON object, a time not a number)
    comes with its ``problem`` and empty data, so a reader can set it aside instead of stopping on it."""
    f = {_s(k): _s(v) for k, v in fields.items()}
    problem = ""
    try:
        data = orjson.loads(f.get("data") or "{}")  # every chat message is an entry: orjson, ~3.5 times json's speed
    except ValueError as exc:
        data, problem = {}, f"data is not JSON: {exc}"
    if not isinstance(data, dict):
        data, problem = {}, f"data is a JSON {type(data).__name__}, not an object"
    ts = f.get("ts") or "0"
    if not ts.isdigit():
        ts, problem = "0", problem or f"ts {ts[:40]!r} is not a number"
    return LoggedEvent(
        id=_s(eid),
        cid=f.get("cid", ""),
        event_id=f.get("event_id", ""),
        type=f.get("type", ""),
        data=data,
        ts=int(ts),
        queue=f.get("queue", ""),
        agent_id=f.get("agent_id", ""),
        problem=problem,
        offer={"1": True, "0": False}.get(f.get("offer", "")),
    )


def _ms_of(entry_id: str) -> int:
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
