"""Reads of the conversation indexes (kept by the scripts that write conversations: gateway/store/store.py) and the
canned responses' hashes. Keys: gateway/store/keys.py (``P:convs``, ``P:customer:ID:convs``, ``P:word:W``,
``P:agent:ID:convs``, ``P:queue:NAME``, ``P:canned:*``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from gateway.store.store import Store, _s

#: Where a search walks: every conversation, one customer's, those with one word (zsets by creation), or a live
#: set read whole: the conversations one agent has now (``assigned``), those waiting in one queue (``waiting``).
SourceKind = Literal["all", "customer", "word", "assigned", "waiting"]

#: The fields of a conversation's hash a search row holds.
ROW_FIELDS = (
    "customer_id",
    "state",
    "queue",
    "agent_id",
    "created_at",
    "updated_at",
    "disposition",
    "messages",
    "calls",
)


@dataclass(frozen=True, slots=True)
class Entry:
    cid: str
    score: int  # when the conversation was created (ms)


class ConversationIndex:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._put_canned = store.scripts["put_canned"]

    def _source(self, kind: SourceKind, value: str) -> str:
        if kind == "customer":
            return self.keys.customer_convs(value)
        if kind == "word":
            return self.keys.word(value)
        return self.keys.all_convs

    async def created_between(self, first_ms: int, end_ms: int) -> list[str]:
        """Every conversation created from ``first_ms`` up to (not including) ``end_ms``, oldest first."""
        return [_s(c) for c in await self._redis.zrangebyscore(self.keys.all_convs, first_ms, f"({end_ms}")]

    async def sizes(self, words: list[str]) -> list[int]:
        """How many conversations hold each word."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for w in words:
                pipe.zcard(self.keys.word(w))
            return [int(n) for n in await pipe.execute()]

    async def newest_first(
        self, kind: SourceKind, value: str, *, upper: float, lower: float, offset: int, count: int
    ) -> list[Entry]:
        """Entries of the source scored in [lower, upper], newest first (same score: greater id first)."""
        if kind in ("assigned", "waiting"):
            live = await self._live(kind, value)
            return [e for e in live if lower <= e.score <= upper][offset : offset + count]
        rows: list[tuple[bytes, float]] = await self._redis.zrevrangebyscore(  # type: ignore[assignment]
            self._source(kind, value),
            "+inf" if math.isinf(upper) else int(upper),
            "-inf" if math.isinf(lower) else int(lower),
            start=offset,
            num=count,
            withscores=True,
        )
        return [Entry(_s(cid), int(score)) for cid, score in rows]

    async def _live(self, kind: SourceKind, value: str) -> list[Entry]:
        """A live set (an agent's conversations, a queue's waiting ones: as many as capacity or a queue holds) with
        each conversation's creation, newest first."""
        if kind == "assigned":
            cids = sorted(_s(c) for c in await self._redis.smembers(self.keys.agent_convs(value)))
        else:
            cids = [_s(c) for c in await self._redis.zrange(self.keys.queue(value), 0, -1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hget(self.keys.conv(cid), "created_at")
            created = await pipe.execute() if cids else []
        entries = [Entry(cid, int(_s(ms))) for cid, ms in zip(cids, created, strict=True) if ms is not None]
        return sorted(entries, key=lambda e: (e.score, e.cid), reverse=True)

    async def rows(self, cids: list[str]) -> list[dict[str, str] | None]:
        """Each conversation's summary fields and the name the site vouched for (None: the conversation is gone)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hmget(self.keys.conv(cid), *ROW_FIELDS)
                pipe.hget(self.keys.ctx(cid), "verified.name")
            raw = await pipe.execute()
        out: list[dict[str, str] | None] = []
        for i in range(len(cids)):
            values, name = raw[2 * i], raw[2 * i + 1]
            if values[1] is None:  # no state: no conversation
                out.append(None)
                continue
            row = {f: _s(v) for f, v in zip(ROW_FIELDS, values, strict=True) if v is not None}
            if name is not None:
                row["customer_name"] = _s(name)
            out.append(row)
        return out

    async def holding(self, cids: list[str], words: list[str]) -> list[bool]:
        """For each conversation, whether every one of ``words`` is indexed for it."""
        if not words or not cids:
            return [True] * len(cids)
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                for w in words:
                    pipe.zscore(self.keys.word(w), cid)
            raw = await pipe.execute()
        n = len(words)
        return [all(v is not None for v in raw[i * n : (i + 1) * n]) for i in range(len(cids))]

    # ---------------------------------------------------------------- canned responses

    def _canned_key(self, agent_id: str | None) -> str:
        return self.keys.canned_shared if agent_id is None else self.keys.canned_personal(agent_id)

    async def canned(self, agent_id: str | None) -> dict[str, str]:
        """Shortcut -> JSON of the shared canned responses (``agent_id`` None) or of one agent."""
        raw = await self._redis.hgetall(self._canned_key(agent_id))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def put_canned(self, agent_id: str | None, shortcut: str, value: str, *, most: int) -> bool:
        """Store one (new or replacing the same shortcut); False when the set already holds ``most`` others."""
        return _s(await self._put_canned([self._canned_key(agent_id)], [shortcut, value, most])) == "ok"

    async def delete_canned(self, agent_id: str | None, shortcut: str) -> bool:
        return bool(await self._redis.hdel(self._canned_key(agent_id), shortcut))
