"""Callbacks in Redis: their hashes, indexes and the scripts that move them (rules: gateway/contact/callbacks.py).

Keys: ``P:cb:ID`` and the indexes ``P:cb:due``, ``P:cb:open``, ``P:cb:queued``, ``P:cb:ringing`` (gateway/store/keys.py).
A script that touches the callback's conversation (or its agent) gets those keys from the caller, who reads
which conversation and agent they are first; the script checks they still are and answers ``moved`` when not,
and the caller reads again.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import Conflict
from gateway.protocol.states import ConversationState
from gateway.store.store import Store, _s

ATTEMPTS = 3  # reads again at most this many times when a callback's conversation or agent moved meanwhile


class CallbackStore:
    def __init__(self, store: Store):
        self.store = store
        self.keys = store.keys
        self._redis = store.redis
        self._request = store.scripts["request_callback"]
        self._claim = store.scripts["claim_callback"]
        self._offer = store.scripts["offer_callback"]
        self._answering = store.scripts["answering_callback"]
        self._finish = store.scripts["finish_callback"]

    # ---------------------------------------------------------------- reading

    async def get(self, cb_id: str) -> dict[str, str] | None:
        raw = await self._redis.hgetall(self.keys.callback(cb_id))
        return {_s(a): _s(b) for a, b in raw.items()} if raw else None

    async def many(self, cb_ids: list[str]) -> list[dict[str, str]]:
        """The hashes of ``cb_ids`` (empty where gone), in one round trip."""
        if not cb_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for cb_id in cb_ids:
                pipe.hgetall(self.keys.callback(cb_id))
            return [{_s(a): _s(b) for a, b in raw.items()} for raw in await pipe.execute()]

    async def of_conversation(self, cid: str) -> str | None:
        """The id of the conversation's latest callback (maybe closed), or None."""
        cb_id = await self._redis.hget(self.keys.conv(cid), "callback_id")
        return _s(cb_id) if cb_id else None

    async def open_ids(self, limit: int) -> list[str]:
        """Callbacks not closed yet, the soonest to expire first."""
        return [_s(i) for i in await self._redis.zrange(self.keys.callbacks_open, 0, limit - 1)]

    async def counts(self) -> dict[str, int]:
        """Open callbacks by state, from the indexes in one round trip: ``scheduled`` (waiting for their time),
        ``queued`` (their conversation waits for an agent) and ``delivering`` (the rest of the open ones: an
        attempt ringing, connecting, or an agent dialling the number)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self.keys.callbacks_open)
            pipe.zcard(self.keys.callbacks_due)
            pipe.scard(self.keys.callbacks_queued)
            opened, scheduled, queued = (int(n) for n in await pipe.execute())
        return {"scheduled": scheduled, "queued": queued, "delivering": max(0, opened - scheduled - queued)}

    async def _until(self, index: str, now: int, limit: int) -> list[str]:
        return [_s(i) for i in await self._redis.zrangebyscore(index, "-inf", now, start=0, num=limit)]

    async def due(self, now: int, limit: int) -> list[str]:
        """Scheduled callbacks whose time has come."""
        return await self._until(self.keys.callbacks_due, now, limit)

    async def expired(self, now: int, limit: int) -> list[str]:
        """Callbacks past their expiry."""
        return await self._until(self.keys.callbacks_open, now, limit)

    async def ring_ended(self, now: int, limit: int) -> list[str]:
        """Callbacks whose customer's ringing is over."""
        return await self._until(self.keys.callbacks_ringing, now, limit)

    async def stop_ring_timer(self, cb_id: str) -> None:
        await self._redis.zrem(self.keys.callbacks_ringing, cb_id)

    async def queued_with_agent(self) -> list[str]:
        """Conversations of queued callbacks that an agent already holds, in two pipelined round trips."""
        cids = await self.conversations_of([_s(i) for i in await self._redis.smembers(self.keys.callbacks_queued)])
        states = await self.store.conversation_fields(cids, "state")
        return [cid for cid, (state,) in zip(cids, states, strict=True) if cid and state == ConversationState.ASSIGNED]

    async def _conversation_of(self, cb_id: str) -> str:
        cid = await self._redis.hget(self.keys.callback(cb_id), "conversation_id")
        return _s(cid) if cid is not None else ""

    async def conversations_of(self, cb_ids: list[str]) -> list[str]:
        """The conversation of each callback ('' where gone), in one round trip."""
        if not cb_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for cb_id in cb_ids:
                pipe.hget(self.keys.callback(cb_id), "conversation_id")
            return [_s(c) if c is not None else "" for c in await pipe.execute()]

    # ---------------------------------------------------------------- the scripts

    async def request(
        self,
        cid: str,
        cb_id: str,
        *,
        now: int,
        due_ms: int,
        expires_ms: int,
        fields: dict[str, str | int],
        event: dict[str, Any],
        existing_hint: str | None = None,
    ) -> str:
        """Book: 'ok', 'not_found', 'closed' or 'exists:<open callback id>'. ``existing_hint``: the conversation's
        ``callback_id`` as the caller just read it ('' none; None: read it here)."""
        k = self.keys
        existing = existing_hint
        for _ in range(ATTEMPTS):
            if existing is None:
                existing = await self.of_conversation(cid) or ""
            result = _s(
                await self._request(
                    [
                        k.conv(cid),
                        k.timeline(cid),
                        k.callback(cb_id),
                        k.callbacks_due,
                        k.callbacks_open,
                        k.conv_channel(cid),
                        k.callback(existing or cb_id),
                        k.event_log,
                    ],
                    [
                        cb_id,
                        now,
                        due_ms,
                        expires_ms,
                        json.dumps(fields),
                        json.dumps(event),
                        existing,
                        cid,
                        self.store.event_log_max_entries,
                    ],
                )
            )
            if result != "moved":
                return result
            existing = None  # read it again
        raise _kept_moving()

    async def claim(self, cb_id: str, routing_queue: str, *, now: int, cid_hint: str | None = None) -> str:
        """A due callback into the routing queue: 'queued', 'closed' (its conversation is), or why not.
        ``cid_hint``: its conversation as the caller read it (:meth:`conversations_of`; None: read it here)."""
        k = self.keys
        cid = cid_hint
        for _ in range(ATTEMPTS):
            if cid is None:
                cid = await self._conversation_of(cb_id)
            result = _s(
                await self._claim(
                    [
                        k.callback(cb_id),
                        k.callbacks_due,
                        k.callbacks_open,
                        k.queue(routing_queue),
                        k.callbacks_queued,
                        k.conv(cid),
                        k.timeline(cid),
                        k.conv_channel(cid),
                        k.event_log,
                    ],
                    [cb_id, now, cid, self.store.event_log_max_entries],
                )
            )
            if result != "moved":
                return result
            cid = None
        raise _kept_moving()

    async def offer(self, cid: str, *, now: int, ring_ms: int) -> tuple[str, str] | None:
        """The conversation is with an agent: its queued callback (if any) starts an attempt. (callback id,
        'ok' or why not), or None when the conversation has no callback."""
        k = self.keys
        for _ in range(ATTEMPTS):
            cb_id, agent = (await self.store.conversation_fields([cid], "callback_id", "agent_id"))[0]
            if not cb_id:
                return None
            result = _s(
                await self._offer(
                    [
                        k.callback(cb_id),
                        k.callbacks_ringing,
                        k.callbacks_queued,
                        k.conv(cid),
                        k.timeline(cid),
                        k.conv_channel(cid),
                        k.agent(agent or ""),
                        k.event_log,
                    ],
                    [cb_id, now, ring_ms, cid, agent or "", self.store.event_log_max_entries],
                )
            )
            if result != "moved":
                return cb_id, result
        raise _kept_moving()

    async def answering(self, cb_id: str) -> str:
        """The customer answered the ringing: 'ok' or 'not_ringing'."""
        k = self.keys
        return _s(await self._answering([k.callback(cb_id), k.callbacks_ringing], [cb_id]))

    async def finish(
        self, cb_id: str, routing_queue: str, *, now: int, outcome: str, mode: str, agent_id: str, only: str
    ) -> tuple[str, str]:
        """End an attempt or the callback (see finish_callback-11.lua): (result, agent the conversation left)."""
        k = self.keys
        for _ in range(ATTEMPTS):
            cid = await self._conversation_of(cb_id)
            (conv_agent,) = (await self.store.conversation_fields([cid], "agent_id"))[0] if cid else (None,)
            result, released = await self._finish(
                [
                    k.callback(cb_id),
                    k.callbacks_due,
                    k.callbacks_open,
                    k.callbacks_ringing,
                    k.queue(routing_queue),
                    k.callbacks_queued,
                    k.conv(cid),
                    k.timeline(cid),
                    k.conv_channel(cid),
                    k.agent_convs(conv_agent or ""),
                    k.event_log,
                ],
                [cb_id, now, outcome, mode, agent_id, only, cid, conv_agent or "", self.store.event_log_max_entries],
            )
            if _s(result) != "moved":
                return _s(result), _s(released)
        raise _kept_moving()


def _kept_moving() -> Conflict:
    return Conflict("the callback's conversation kept changing; try again", field="callback_id")
