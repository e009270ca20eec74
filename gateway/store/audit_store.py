"""The audit log in Redis: the stream ``P:audit`` (what it records: gateway/contact/audit.py), capped near
``--audit-max-entries`` (``MAXLEN ~``: Redis trims whole blocks, so a few more may stay)."""

from __future__ import annotations

from typing import Any

from gateway.store.store import Store, _s


class AuditStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis

    async def add(self, fields: dict[str, str], *, max_entries: int) -> str:
        """Append an entry; its id (``ms-seq``: when it was written)."""
        values: dict[Any, Any] = dict(fields)
        entry_id = await self._redis.xadd(self.keys.audit, values, maxlen=max_entries, approximate=True)
        return _s(entry_id)

    async def newest(self, *, before: str | None, count: int) -> list[tuple[str, dict[str, str]]]:
        """Up to ``count`` entries, newest first, older than the entry ``before`` (None: from the newest)."""
        if before is not None and not any(int(part) for part in before.split("-")):
            return []  # nothing is older than 0-0, the first id there can be (Redis refuses the range)
        top = f"({before}" if before else "+"
        rows: list[Any] = await self._redis.xrevrange(self.keys.audit, max=top, min="-", count=count) or []
        return [(_s(entry_id), {_s(k): _s(v) for k, v in (values or {}).items()}) for entry_id, values in rows]
