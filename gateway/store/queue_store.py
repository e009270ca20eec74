"""Queue settings, center-wide lists and the widget's settings in Redis (keys: ``P:qcfg``, ``P:qcfg:ver``, ``P:center``,
``P:center:ver``, ``P:widget``), and the two moves of a waiting conversation a queue's maximum wait makes (another queue, or out of
the queue to run a flow). The rules live in gateway/contact/queues.py; here only the atomic operations."""

from __future__ import annotations

import json
from typing import Any

from gateway.store.store import Store, _s, encode


class QueueStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._store = store  # its event log's cap (the moves' events go to the event log too)
        self._redis = store.redis
        self._put = store.scripts["put_queue"]
        self._delete = store.scripts["delete_queue"]
        self._move = store.scripts["move_queue"]
        self._leave = store.scripts["leave_queue"]

    # ---------------------------------------------------------------- queue settings

    async def all(self) -> dict[str, tuple[dict[str, Any], int]]:
        """Every queue's settings (as stored) and version, by name."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.queue_settings)
            pipe.hgetall(self.keys.queue_versions)
            raw, versions = await pipe.execute()
        ver = {_s(k): int(v) for k, v in versions.items()}
        return {_s(k): (json.loads(_s(v)), ver.get(_s(k), 1)) for k, v in raw.items()}

    async def get(self, name: str) -> tuple[dict[str, Any], int] | None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(self.keys.queue_settings, name)
            pipe.hget(self.keys.queue_versions, name)
            raw, version = await pipe.execute()
        return None if raw is None else (json.loads(_s(raw)), int(version or 1))

    async def put(self, name: str, data: dict[str, Any], *, expected: int) -> tuple[bool, int]:
        """Store ``data`` if the queue's version is ``expected`` (0: it must not exist): (True, new version), or
        (False, the current version) when it is stale."""
        status, version = await self._put(
            [self.keys.queue_settings, self.keys.queue_versions], [name, expected, encode(data)]
        )
        return _s(status) == "ok", int(version)

    async def delete(self, name: str) -> bool:
        return bool(await self._delete([self.keys.queue_settings, self.keys.queue_versions], [name]))

    # ---------------------------------------------------------------- a waiting conversation

    async def move(
        self,
        cid: str,
        routing_queue: str,
        *,
        from_queue: str,
        to_queue: str,
        skills: str,
        priority: int,
        now: int,
        reason: str,
    ) -> str:
        """Put a waiting conversation in another queue, keeping its place: 'ok', 'moved' (not in ``from_queue``
        any more: another node did it), 'not_found' or its state."""
        k = self.keys
        data: dict[str, Any] = {"state": "queued", "queue": to_queue, "from_queue": from_queue, "reason": reason}
        if skills:
            data["skills"] = skills
        if priority:
            data["priority"] = priority
        return _s(
            await self._move(
                [k.conv(cid), k.timeline(cid), k.queue(routing_queue), k.conv_channel(cid), k.event_log],
                [cid, now, encode(data), from_queue, to_queue, skills, priority, self._store.event_log_max_entries],
            )
        )

    async def leave(self, cid: str, routing_queue: str, *, from_queue: str, now: int, reason: str) -> str:
        """Take a waiting conversation out of the routing queue (state 'open'): 'ok', 'moved', 'not_found' or its
        state."""
        k = self.keys
        data = {"state": "open", "from_queue": from_queue, "reason": reason}
        return _s(
            await self._leave(
                [k.conv(cid), k.timeline(cid), k.queue(routing_queue), k.conv_channel(cid), k.event_log],
                [cid, now, encode(data), from_queue, self._store.event_log_max_entries],
            )
        )

    # ---------------------------------------------------------------- the center's code lists (away reasons, dispositions)

    async def center(self, name: str) -> tuple[str, int] | None:
        """A center-wide list as stored (JSON text) and its version; None when it was never written."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(self.keys.center_settings, name)
            pipe.hget(self.keys.center_versions, name)
            raw, version = await pipe.execute()
        return None if raw is None else (_s(raw), int(version or 1))

    async def put_center(self, name: str, data: Any, *, expected: int) -> tuple[bool, int]:
        """Store list ``name`` if its version is ``expected`` (0: never written): (True, new version), or (False,
        the current version) when it is stale (the queues' script: a versioned field of a hash)."""
        status, version = await self._put(
            [self.keys.center_settings, self.keys.center_versions], [name, expected, encode(data)]
        )
        return _s(status) == "ok", int(version)

    # ---------------------------------------------------------------- widget settings

    async def widget(self) -> dict[str, Any] | None:
        raw = await self._redis.get(self.keys.widget_settings)
        return None if raw is None else json.loads(_s(raw))

    async def put_widget(self, data: dict[str, Any]) -> None:
        await self._redis.set(self.keys.widget_settings, encode(data))
