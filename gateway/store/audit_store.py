"""The audit log in Redis: one capped stream, ``P:audit`` (gateway/store/keys.py; rules: gateway/contact/audit.py)."""

from __future__ import annotations

from typing import Any

from gateway.store.store import Store, _s


class AuditStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis

    async def add(self, fields: dict[str, str], *, keep: int) -> str:
        values: dict[Any, Any] = dict(fields)
        return _s(await self._redis.xadd(self.keys.audit, values, maxlen=keep, approximate=True))

    async def newest(self, count: int, before: str = "+") -> list[tuple[str, dict[str, Any]]]:
        """Up to ``count`` entries newest first, strictly older than ``before`` ('+': from the newest)."""
        upper = before if before == "+" else f"({before}"
        rows: list[Any] = await self._redis.xrevrange(self.keys.audit, upper, "-", count=count) or []
        return [(_s(i), {_s(k): _s(v) for k, v in (f or {}).items()}) for i, f in rows]
