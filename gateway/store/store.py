"""Conversations, the routing queue, agents and calls in Redis: the atomic operations and the reads.

Operations that must not be seen
half-done (store a message once per client id, assign a conversation, close
it) are Lua scripts: each appends its timeline event to the conversation's
Stream and publishes it in the same step, so a subscriber never sees an event
that is not stored, and a stored event is always published.

Every key is named in gateway/store/keys.py (the key table); the scripts are files in
gateway/store/lua/ (gateway/store/scripts.py), each given every key it touches in ``KEYS``. Where a script
needs a key the caller cannot know without reading (the customer's current conversation), the caller reads it
first, the script checks it is still the one and answers ``moved`` otherwise, and the caller reads again.

A conversation owns ``P:conv:ID``, ``:ctx``, ``:tl``, ``:cids``, its entry in ``P:closed``, the
``P:customer:ID:cids`` entries that point to it, the callbacks named in its timeline (``P:cb:ID``), and
``DATA_DIR/recordings/ID/`` on the node that recorded it; retention deletes all of them
(gateway/ops/retention.py).

Conversations are indexed for the desk's history and search as they are written: ``open_conversation`` adds a new
one to ``P:convs`` and the customer's ``P:customer:ID:convs``, ``append`` puts the words of a message, note or
transcript line into ``P:word:W`` and counts messages and calls on the conversation, ``close`` keeps its
disposition (reads: gateway/store/index_store.py).

A timeline holds at most ``max_timeline_events`` (``--max-timeline-events``): beyond it, :meth:`Store.append`
(messages, notes, flow steps, call events) and context changes are refused with ``timeline_full``; state
changes (assign, requeue, transfer, close) still go through, so a full conversation can always be closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from gateway.errors import Conflict, TooManyRequests
from gateway.protocol.bus import Message
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import EventType
from gateway.store.keys import Keys
from gateway.store.scripts import Scripts
from gateway.store.words import MAX_WORDS_PER_CONVERSATION, words

log = logging.getLogger(__name__)

__all__ = ["Buckets", "Keys", "NotDurable", "Opened", "Store", "StoreError", "encode", "rate_limited", "to_event"]

StoreError = RedisError  # what a store operation raises when Redis fails (unreachable, timed out, refused)


class NotDurable(RedisError):
    """Fewer Redis replicas than ``--redis-durable-replicas`` confirmed a write in time (a StoreError: try again)."""


RANKS_BY_RANGE = 32  # :meth:`Store.queue_ranks` of this many conversations or more reads the queue's order at once
EVENT_LOG_MAX_ENTRIES = 2_000_000  # the default of ``--event-log-max-entries``

_INDEXED = frozenset({EventType.MESSAGE, EventType.NOTE, EventType.TRANSCRIPT})  # their ``text`` is searchable


# built once: ``json.dumps`` with these options built an encoder per call (every event's data: 4.8 -> 2.7 us)
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(data: dict[str, Any]) -> str:
    return _ENCODER.encode(data)


@dataclass(frozen=True, slots=True)
class Opened:
    """The customer's conversation after :meth:`Store.open_conversation`: which, whether it is new, its state."""

    conversation_id: str
    created: bool
    state: str


class Store:
    """Thin typed wrapper over the scripts; no business rules beyond the atomic checks."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        *,
        max_timeline_events: int = 0,
        event_log_max_entries: int = EVENT_LOG_MAX_ENTRIES,
        durable_replicas: int = 0,
        durable_wait_ms: int = 1000,
    ):
        self.redis = redis
        self.durable_replicas = durable_replicas  # :meth:`durable` waits for this many replicas (0: it does not)
        self.durable_wait_ms = durable_wait_ms
        self.keys = keys
        self.max_timeline_events = max_timeline_events  # 0: no cap
        self.event_log_max_entries = event_log_max_entries  # the event log is trimmed to about this many
        self.scripts = Scripts(redis)  # every script, loaded once per node, run by SHA
        self._append = self.scripts["append"]
        self._customer_append = self.scripts["customer_append"]
        self._open = self.scripts["open_conversation"]
        self._assign = self.scripts["assign"]
        self._assign_many = self.scripts["assign_many"]
        self._close = self.scripts["close"]
        self._enqueue = self.scripts["enqueue"]
        self._requeue = self.scripts["requeue"]
        self._transfer = self.scripts["transfer"]
        self._context = self.scripts["set_context"]
        self._rate = self.scripts["rate"]

    async def append(
        self,
        cid: str,
        typ: str,
        data: dict[str, Any],
        *,
        now: int,
        client_id: str = "",
        client_ids_key: str | None = None,
        required_agent: str = "",
        required_field: str = "agent_id",
    ) -> tuple[str, str, str]:
        """Append one event; returns (conversation id, event id, status).

        With ``required_agent`` the conversation's ``required_field`` must hold it (status ``not_assigned`` else):
        its agent (``agent_id``), or one of the supervisors who joined its chat (``supervisors``).

        With ``client_id`` the event is stored at most once per id in ``client_ids_key``
        (default: the conversation's own); a repeat returns the first one's ids. A full timeline raises
        Conflict ``timeline_full``. The words of a message, note or transcript line are indexed in the same step.
        """
        k = self.keys
        found = words(data.get("text")) if typ in _INDEXED else []
        args: list[str | int | float] = [client_id, typ, encode(data), now, required_agent, cid]
        args += [self.max_timeline_events, MAX_WORDS_PER_CONVERSATION, self.event_log_max_entries, required_field]
        args += found
        ref, status = await self._append(
            [
                k.conv(cid),
                k.timeline(cid),
                client_ids_key or k.client_ids(cid),
                k.conv_channel(cid),
                k.event_log,
                k.conv_words(cid),
                *(k.word(w) for w in found),
            ],
            args,
        )
        if _s(status) == "timeline_full":
            raise timeline_full(cid)
        conv_id, _, event_id = _s(ref).rpartition("/")
        return conv_id or cid, event_id, _s(status)

    async def customer_append(
        self,
        customer_id: str,
        cid: str,
        typ: str,
        data: dict[str, Any],
        *,
        now: int,
        client_id: str,
        buckets: Buckets | None = None,
    ) -> tuple[str, str, str, str]:
        """A customer's event into ``cid``, their current conversation as the caller knows it, in one round trip:
        (conversation id, event id, status, the conversation's state before it). Status 'ok' or 'duplicate' (stored
        before under ``client_id``: its ids), 'moved' or 'closed' (nothing done: open one the usual way,
        :meth:`open_conversation` then :meth:`append`). With ``buckets`` a message token is taken (over a limit:
        TooManyRequests, nothing stored); a full timeline raises Conflict ``timeline_full``."""
        k = self.keys
        found = words(data.get("text")) if typ in _INDEXED else []
        keys = [
            k.customer(customer_id),
            k.conv(cid),
            k.timeline(cid),
            k.customer_client_ids(customer_id),
            k.conv_channel(cid),
            k.event_log,
            k.conv_words(cid),
        ]
        args: list[str | int | float] = [client_id, typ, encode(data), now, cid, self.max_timeline_events]
        args += [MAX_WORDS_PER_CONVERSATION, self.event_log_max_entries, "1" if buckets is not None else "0"]
        if buckets is not None:
            keys += buckets.keys[:2]
            args += buckets.rates[:4]
        result = await self._customer_append([*keys, *(k.word(w) for w in found)], [*args, *found])
        status = _s(result[1])
        if status == "limited":
            raise rate_limited(int(result[2]), int(result[3]))
        if status == "timeline_full":
            raise timeline_full(cid)
        conv_id, _, event_id = _s(result[0]).rpartition("/")
        return conv_id or cid, event_id, status, _s(result[2]) if status == "ok" else ""

    async def seen_client_id(self, client_ids_key: str, client_id: str) -> tuple[str, str] | None:
        ref = await self.redis.hget(client_ids_key, client_id)
        if ref is None:
            return None
        conv_id, _, event_id = _s(ref).rpartition("/")
        return conv_id, event_id

    async def customer_message_lookup(
        self, customer_id: str, client_id: str
    ) -> tuple[tuple[str, str] | None, str | None]:
        """In one round trip: where the customer's message ``client_id`` was stored before (conversation id, event
        id; None if not), and the customer's current conversation (a hint for :meth:`open_conversation`)."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(k.customer_client_ids(customer_id), client_id)
            pipe.hget(k.customer(customer_id), "current")
            ref, current = await pipe.execute()
        if ref is None:
            return None, _s(current) if current is not None else None
        conv_id, _, event_id = _s(ref).rpartition("/")
        return (conv_id, event_id), _s(current) if current is not None else None

    async def open_conversation(
        self,
        customer_id: str,
        new_id: str,
        queue: str,
        *,
        now: int,
        context: dict[str, str],
        queued: bool = True,
        buckets: Buckets | None = None,
        messages: bool = True,
        current_hint: str | None = None,
    ) -> Opened:
        """The customer's open conversation, or a new one (waiting in ``queue``, or 'open' for a flow first).

        With ``buckets`` a message token is taken (unless ``messages`` is false: a call), and conversation tokens
        when it opens one, in the same step; over a limit it raises TooManyRequests with ``retry_after`` and changes nothing.
        ``current_hint``: the customer's current conversation as the caller just read it (saves reading it here)."""
        k = self.keys
        current = current_hint
        for _ in range(5):  # the customer's current conversation may change between reading it and the script
            if current is None:
                current = await self.customer_current(customer_id)
            keys = [
                k.customer(customer_id),
                k.conv(new_id),
                k.ctx(new_id),
                k.timeline(new_id),
                k.queue(queue),
                k.conv_channel(new_id),
                k.conv(current or new_id),
                k.customer_convs(customer_id),
                k.all_convs,
                k.event_log,
            ]
            args: list[str | int | float] = [
                new_id,
                customer_id,
                queue,
                now,
                encode({"customer_id": customer_id, "context": context}),
                encode({"state": "queued", "queue": queue} if queued else {"state": "open"}),
                encode(context) if context else "{}",
                current or "",
                "queued" if queued else "open",
                self.event_log_max_entries,
            ]
            if buckets is not None:
                keys += buckets.keys
                args += ["1" if messages else "0", *buckets.rates]
            result = await self._open(keys, args)
            if int(result[1]) != -2:
                break
            current = None  # read it again
        else:
            raise Conflict("the customer's conversation kept changing; try again", field="conversation_id")
        if int(result[1]) == -1:
            raise rate_limited(int(result[2]), int(result[3]))
        return Opened(_s(result[0]), bool(int(result[1])), _s(result[2]))

    async def assign(self, cid: str, queue: str, agent_id: str, agent_name: str, *, now: int) -> str:
        k = self.keys
        return _s(
            await self._assign(
                [
                    k.conv(cid),
                    k.timeline(cid),
                    k.queue(queue),
                    k.agent(agent_id),
                    k.agent_convs(agent_id),
                    k.agent_sessions(agent_id),
                    k.conv_channel(cid),
                    k.event_log,
                ],
                [
                    cid,
                    agent_id,
                    now,
                    encode({"agent_id": agent_id, "agent_name": agent_name}),
                    self.event_log_max_entries,
                ],
            )
        )

    async def assign_many(self, queue: str, pairs: list[tuple[str, str, str]], *, now: int) -> tuple[int, str]:
        """:meth:`assign` of each (conversation id, agent id, agent name) of ``pairs`` in order, in one script, up
        to the first that fails: (how many were assigned, the failure's reason or '')."""
        if not pairs:
            return 0, ""
        k = self.keys
        keys: list[str] = []
        args: list[str | int] = [now, self.event_log_max_entries]
        for cid, agent_id, agent_name in pairs:
            keys += [k.conv(cid), k.timeline(cid), k.queue(queue), k.agent(agent_id), k.agent_convs(agent_id)]
            keys += [k.agent_sessions(agent_id), k.conv_channel(cid), k.event_log]
            args += [cid, agent_id, encode({"agent_id": agent_id, "agent_name": agent_name})]
        done, why = await self._assign_many(keys, args)
        return int(done), _s(why)

    async def publish_many(self, messages: list[tuple[str, Message]]) -> None:
        """:meth:`publish` of each (channel, message), in one round trip."""
        if not messages:
            return
        if isinstance(self.redis, RedisCluster):  # redis-py refuses PUBLISH in a cluster pipeline: side by side
            await asyncio.gather(*(self.redis.publish(channel, message.to_json()) for channel, message in messages))
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(channel, message.to_json())
            await pipe.execute()

    async def requeue(
        self,
        cid: str,
        routing_queue: str,
        agent_id: str,
        reason: str,
        *,
        score: int,
        now: int,
        queue_name: str = "",
        since: int = 0,
        facts: dict[str, Any] | None = None,
    ) -> str:
        """Unassign from ``agent_id`` and queue again at ``score`` (in ``queue_name`` if given; its maximum wait
        counting from ``since`` if given; ``facts`` in the event, for reports): 'ok' or 'not_assigned'."""
        k = self.keys
        data = {
            "state": "queued",
            "reason": reason,
            "agent_id": agent_id,
            **({"queue": queue_name} if queue_name else {}),
            **(facts or {}),
        }
        return _s(
            await self._requeue(
                [
                    k.conv(cid),
                    k.timeline(cid),
                    k.queue(routing_queue),
                    k.agent_convs(agent_id),
                    k.conv_channel(cid),
                    k.event_log,
                    k.agent(agent_id),
                    k.help_requests,
                ],
                [cid, agent_id, now, encode(data), score, queue_name, self.event_log_max_entries, since],
            )
        )

    async def transfer(
        self, cid: str, from_agent: str, to_agent: str, to_name: str, *, now: int, facts: dict[str, Any] | None = None
    ) -> str:
        """Move an assigned conversation to another agent (``facts`` in the event, for reports): 'ok',
        'not_assigned', 'agent_unavailable', 'agent_offline' or 'agent_full'."""
        k = self.keys
        return _s(
            await self._transfer(
                [
                    k.conv(cid),
                    k.timeline(cid),
                    k.agent_convs(from_agent),
                    k.agent(to_agent),
                    k.agent_convs(to_agent),
                    k.agent_sessions(to_agent),
                    k.conv_channel(cid),
                    k.event_log,
                    k.agent(from_agent),
                    k.help_requests,
                ],
                [
                    cid,
                    from_agent,
                    to_agent,
                    now,
                    encode(
                        {"agent_id": to_agent, "agent_name": to_name, "transferred_from": from_agent, **(facts or {})}
                    ),
                    self.event_log_max_entries,
                ],
            )
        )

    async def close(
        self, cid: str, queue: str, agent_id: str, disposition: str, *, now: int, facts: dict[str, Any] | None = None
    ) -> str:
        """Close: 'ok', 'not_found', 'closed' or 'not_assigned'. ``facts`` go into the ``closed`` event's data (what
        reports read), with what the script adds: ``voice`` (the conversation had a call) and ``queued_wait_ms``
        (how long it had waited, when it was still in the queue)."""
        k = self.keys
        return _s(
            await self._close(
                [
                    k.conv(cid),
                    k.timeline(cid),
                    k.queue(queue),
                    k.agent_convs(agent_id),
                    k.agent(agent_id),
                    k.conv_channel(cid),
                    k.closed_index,
                    k.event_log,
                    k.help_requests,
                ],
                [
                    cid,
                    agent_id,
                    now,
                    encode({"agent_id": agent_id, "disposition": disposition, **(facts or {})}),
                    disposition,
                    self.event_log_max_entries,
                ],
            )
        )

    async def enqueue(
        self, cid: str, routing_queue: str, queue_name: str, *, now: int, skills: str = "", priority: int = 0
    ) -> str:
        """'ok', or the state that prevented it (queued, assigned, closed), or 'not_found'.

        ``skills``: what an agent needs (``"billing:3,spanish:1"``); ``priority``: higher goes first."""
        k = self.keys
        data = {
            "state": "queued",
            "queue": queue_name,
            **({"skills": skills} if skills else {}),
            **({"priority": priority} if priority else {}),
        }
        return _s(
            await self._enqueue(
                [k.conv(cid), k.timeline(cid), k.queue(routing_queue), k.conv_channel(cid), k.event_log],
                [cid, now, encode(data), queue_name, skills, priority, self.event_log_max_entries],
            )
        )

    async def set_context(self, cid: str, values: dict[str, str], *, now: int) -> str:
        k = self.keys
        result = _s(
            await self._context(
                [k.conv(cid), k.ctx(cid), k.timeline(cid), k.conv_channel(cid), k.event_log],
                [now, encode(values), self.max_timeline_events, cid, self.event_log_max_entries],
            )
        )
        if result == "timeline_full":
            raise timeline_full(cid)
        return result

    async def rate(self, cid: str, customer_id: str, data: dict[str, Any], *, now: int) -> tuple[str, str]:
        """The customer's rating of their closed conversation (``data``: score, comment), stored once:
        ('ok', event id), or ('not_found' | 'forbidden' | 'not_closed' | 'already_rated', '')."""
        k = self.keys
        status, event_id = await self._rate(
            [k.conv(cid), k.timeline(cid), k.conv_channel(cid), k.event_log],
            [customer_id, data["score"], data.get("comment", ""), now, encode(data), cid, self.event_log_max_entries],
        )
        return _s(status), _s(event_id)

    async def conversation(self, cid: str) -> dict[str, str] | None:
        raw = await self.redis.hgetall(self.keys.conv(cid))
        return {_s(a): _s(b) for a, b in raw.items()} if raw else None

    async def context(self, cid: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.keys.ctx(cid))
        return {_s(a): _s(b) for a, b in raw.items()}

    async def events(self, cid: str, after: str | None = None, count: int | None = None) -> list[dict[str, Any]]:
        start = f"({after}" if after else "-"
        rows: list[tuple[bytes, dict[bytes, bytes]]] = await self.redis.xrange(  # type: ignore[assignment]
            self.keys.timeline(cid), min=start, max="+", count=count
        )
        return [to_event(cid, _s(eid), _s(fields[b"type"]), _s(fields[b"data"])) for eid, fields in rows]

    async def last_event_id(self, cid: str) -> str | None:
        """The id of the newest event of the conversation's timeline (None: empty or gone)."""
        rows = await self.redis.xrevrange(self.keys.timeline(cid), count=1)
        return _s(rows[0][0]) if rows else None

    async def last_event(self, cid: str, typ: str) -> dict[str, Any] | None:
        rows: list[tuple[bytes, dict[bytes, bytes]]] = await self.redis.xrevrange(  # type: ignore[assignment]
            self.keys.timeline(cid), count=50
        )
        for eid, fields in rows:
            if _s(fields[b"type"]) == typ:
                return to_event(cid, _s(eid), typ, _s(fields[b"data"]))
        return None

    # ---------------------------------------------------------------- conversations: reads and small writes

    async def customer_current(self, customer_id: str) -> str | None:
        """The customer's latest conversation (open or closed), or None."""
        current = await self.redis.hget(self.keys.customer(customer_id), "current")
        return _s(current) if current is not None else None

    async def set_last_agent(self, customer_id: str, agent_id: str) -> None:
        """The customer's next conversation prefers this agent."""
        await self.redis.hset(self.keys.customer(customer_id), "last_agent", agent_id)

    async def conversation_fields(self, cids: list[str], *fields: str) -> list[list[str | None]]:
        """``fields`` of each conversation (None where missing), in one round trip."""
        if not cids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hmget(self.keys.conv(cid), *fields)
            return [[_s(v) if v is not None else None for v in row] for row in await pipe.execute()]

    async def queue_rank(self, queue: str, cid: str) -> int | None:
        """0 for the next conversation of the routing queue; None if ``cid`` does not wait in it."""
        rank = await self.redis.zrank(self.keys.queue(queue), cid)
        return int(rank) if rank is not None else None  # type: ignore[arg-type]

    async def queue_ranks(self, queue: str, cids: list[str]) -> list[int | None]:
        """:meth:`queue_rank` of each of ``cids``, in one round trip: many of them are read as the whole queue's
        order (one reply instead of one command each: 5,000 waiting cost 5,000 commands a read)."""
        if len(cids) >= RANKS_BY_RANGE:
            order = {_s(c): i for i, c in enumerate(await self.redis.zrange(self.keys.queue(queue), 0, -1))}
            return [order.get(cid) for cid in cids]
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.zrank(self.keys.queue(queue), cid)
            return [int(rank) if rank is not None else None for rank in await pipe.execute()]

    async def waiting(self, queue: str, limit: int) -> list[tuple[str, int]]:
        """The first ``limit`` conversations waiting in the routing queue, with their place (ms), first first."""
        rows: list[tuple[bytes, float]] = await self.redis.zrange(  # type: ignore[assignment]
            self.keys.queue(queue), 0, limit - 1, withscores=True
        )
        return [(_s(cid), int(score)) for cid, score in rows]

    async def agent_conversations(self, agent_id: str) -> list[str]:
        """The conversations assigned to the agent, sorted by id."""
        return sorted(_s(c) for c in await self.redis.smembers(self.keys.agent_convs(agent_id)))

    # ---------------------------------------------------------------- agents and their desk connections

    async def agent_name(self, agent_id: str) -> str | None:
        name = await self.redis.hget(self.keys.agent(agent_id), "name")
        return _s(name) if name is not None else None

    async def agent_ids(self) -> list[str]:
        """Every agent that ever connected, sorted."""
        return sorted(_s(a) for a in await self.redis.smembers(self.keys.agents))

    async def agent_field(self, agent_id: str, name: str) -> str | None:
        value = await self.redis.hget(self.keys.agent(agent_id), name)
        return _s(value) if value is not None else None

    async def update_agent(self, agent_id: str, fields: dict[str, str]) -> None:
        await self.redis.hset(self.keys.agent(agent_id), mapping=fields)  # type: ignore[arg-type]

    async def agent_loads(self, agent_ids: list[str], now: int) -> list[tuple[dict[str, str], int, int]]:
        """For each agent, in one round trip: its hash, how many conversations it holds and how many desk
        connections are live at ``now``."""
        if not agent_ids:
            return []
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            for aid in agent_ids:
                pipe.hgetall(k.agent(aid))
                pipe.scard(k.agent_convs(aid))
                pipe.zcount(k.agent_sessions(aid), now, "+inf")
            rows = await pipe.execute()
        return [
            ({_s(a): _s(b) for a, b in rows[3 * i].items()}, int(rows[3 * i + 1]), int(rows[3 * i + 2]))
            for i in range(len(agent_ids))
        ]

    # ---------------------------------------------------------------- calls

    async def add_handle_time(self, ms: int, *, keep: int) -> None:
        """An answered call's handle time; the latest ``keep`` are kept."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self.keys.handle_times, max(0, ms))
            pipe.ltrim(self.keys.handle_times, 0, keep - 1)
            await pipe.execute()

    async def handle_times(self, count: int) -> list[int]:
        """The latest ``count`` handle times (ms), newest first."""
        return [int(_s(v)) for v in await self.redis.lrange(self.keys.handle_times, 0, count - 1)]

    # ---------------------------------------------------------------- the signing secret's traces (gateway/wire/signing_secret.py)

    async def legacy_secret(self) -> bytes | None:
        """The signing secret older versions kept in Redis (``P:secret``), if it is still there."""
        value = await self.redis.get(self.keys.secret)
        return value if isinstance(value, bytes) else None

    async def delete_legacy_secret(self, *, rewrite_aof: bool) -> None:
        """Delete ``P:secret``; with ``rewrite_aof`` (our own embedded Redis) rewrite the AOF that still holds it."""
        await self.redis.delete(self.keys.secret)
        if rewrite_aof:
            try:
                await self.redis.bgrewriteaof()
            except aioredis.ResponseError as exc:  # one already running (another node sharing the data dir)
                log.info("AOF rewrite not started now: %s", exc)

    async def secret_fingerprint(self) -> str | None:
        value = await self.redis.get(self.keys.secret_fingerprint)
        return _s(value) if value is not None else None

    async def set_secret_fingerprint(self, fingerprint: str) -> None:
        await self.redis.set(self.keys.secret_fingerprint, fingerprint)

    # ---------------------------------------------------------------- the connection

    async def publish(self, channel: str, message: Message) -> None:
        """Publish a bus message on a channel (gateway/store/bus.py delivers it on every node)."""
        await self.redis.publish(channel, message.to_json())

    async def durable(self) -> None:
        """Return once ``durable_replicas`` replicas have every write acknowledged so far (what a failover to one of
        them keeps); NotDurable (a StoreError: the sender tries again, the same client id stores nothing twice) when
        fewer confirm within ``durable_wait_ms``. Nothing to wait for when ``durable_replicas`` is 0.

        ``WAIT`` counts the replicas that reached the last write *of its connection*: a pipeline runs an empty
        PUBLISH (propagated to the replicas like any write) and then ``WAIT`` on one connection, so it covers the
        caller's writes before it whatever connection they used (replication is one stream), and a duplicate the
        caller only read as well."""
        if not self.durable_replicas:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.publish(self.keys.durable_channel, "")
            pipe.execute_command("WAIT", self.durable_replicas, self.durable_wait_ms)
            _, confirmed = await pipe.execute()
        if int(confirmed) < self.durable_replicas:
            raise NotDurable(
                f"{confirmed} of the {self.durable_replicas} Redis replicas confirmed the write within "
                f"{self.durable_wait_ms} ms"
            )

    async def ping(self) -> None:
        """Raises StoreError (or OSError / TimeoutError) when Redis does not answer."""
        await self.redis.ping()

    async def aclose(self) -> None:
        """Close the Redis client and its connection pool (the node is stopping)."""
        await self.redis.aclose()


@dataclass(frozen=True, slots=True)
class Buckets:
    """The token buckets a customer's requests take from (made by gateway/contact/limits.py)."""

    keys: tuple[str, str, str, str]  # messages of the customer, of the address; conversations of each
    rates: tuple[float, ...]  # (capacity, ms per token) of each, in that order


def rate_limited(wait_ms: int, bucket: int) -> TooManyRequests:
    """The error for a request ``wait_ms`` short of a token in ``bucket`` (0-1: messages, 2-3: conversations)."""
    retry_after = max(1, math.ceil(wait_ms / 1000))
    text = "You're sending messages too fast" if bucket in (0, 1) else "Too many new conversations"
    return TooManyRequests(f"{text}; try again in {retry_after} s", retry_after=retry_after)


def timeline_full(cid: str) -> Conflict:
    """Conflict ``timeline_full``: the conversation holds ``--max-timeline-events``."""
    return Conflict(
        "this conversation has reached its length limit; nothing more can be added to it "
        "(it can still be closed, and the next message then starts a new one)",
        field="conversation_id",
        code=ErrorCode.TIMELINE_FULL,
    )


def to_event(cid: str, event_id: str, typ: str, data: str | dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(data) if isinstance(data, str) else data
    return {"id": event_id, "type": typ, "ts": int(event_id.split("-", 1)[0]), "conversation_id": cid, **payload}


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
