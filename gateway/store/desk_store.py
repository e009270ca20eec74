"""The desk's batched reads (gateway/contact/conversations.py summaries): many conversations' summaries and agents'
names in one round trip each, whatever their number."""

from __future__ import annotations

from typing import Any

from gateway.store.store import Store, _s, to_event


class DeskStore:
    def __init__(self, store: Store):
        self._keys = store.keys
        self._redis = store.redis

    async def summary_rows(
        self, cids: list[str], typ: str
    ) -> list[tuple[dict[str, str] | None, dict[str, str], dict[str, Any] | None, str | None]]:
        """For each conversation, in one round trip: its hash (None: gone), its context, its newest event of type
        ``typ`` among the last 50 (what a desk's summary shows) and the id of its newest event (None: none)."""
        if not cids:
            return []
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hgetall(k.conv(cid))
                pipe.hgetall(k.ctx(cid))
                pipe.xrevrange(k.timeline(cid), count=50)
            rows = await pipe.execute()
        out: list[tuple[dict[str, str] | None, dict[str, str], dict[str, Any] | None, str | None]] = []
        for i, cid in enumerate(cids):
            conv, ctx, timeline = rows[3 * i], rows[3 * i + 1], rows[3 * i + 2]
            last = next(
                (to_event(cid, _s(eid), typ, _s(f[b"data"])) for eid, f in timeline if _s(f[b"type"]) == typ), None
            )
            out.append(
                (
                    {_s(a): _s(b) for a, b in conv.items()} if conv else None,
                    {_s(a): _s(b) for a, b in ctx.items()},
                    last,
                    _s(timeline[0][0]) if timeline else None,
                )
            )
        return out

    async def agent_names(self, agent_ids: list[str]) -> list[str | None]:
        """Each agent's name (None: unknown), in one round trip."""
        if not agent_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for aid in agent_ids:
                pipe.hget(self._keys.agent(aid), "name")
            return [_s(n) if n is not None else None for n in await pipe.execute()]
