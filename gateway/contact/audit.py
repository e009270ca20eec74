"""The audit log: who changed what, when, with the state before and after (gateway/store/audit_store.py).

Every admin write calls :meth:`AuditLog.record`. Secrets never reach it: a field named like a password hash, a
secret or a token is written as ``***``.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.store.audit_store import AuditStore
from gateway.store.store import Store

SECRET_FIELDS = ("password", "password_hash", "secret", "webhook_secret", "token")
KEEP = 10_000


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if k in SECRET_FIELDS else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


class AuditLog:
    def __init__(self, store: Store, *, keep: int = KEEP):
        self._store = AuditStore(store)
        self.keep = keep

    async def record(
        self, actor: str, action: str, target: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> None:
        await self._store.add(
            {
                "actor": actor,
                "action": action,
                "target": target,
                "before": json.dumps(_masked(before), ensure_ascii=False),
                "after": json.dumps(_masked(after), ensure_ascii=False),
            },
            keep=self.keep,
        )

    async def entries(self, limit: int = 50, before: str | None = None, target: str = "") -> dict[str, Any]:
        """Newest first: ``{"entries": [...], "next": cursor or None}``."""
        out: list[dict[str, Any]] = []
        cursor = before or "+"
        while len(out) < limit:
            rows = await self._store.newest(limit * 2, cursor)
            if not rows:
                cursor = ""
                break
            for entry_id, fields in rows:
                cursor = entry_id
                if target and fields.get("target") != target:
                    continue
                out.append(
                    {
                        "id": entry_id,
                        "at": int(entry_id.split("-")[0]),
                        "actor": fields.get("actor", ""),
                        "action": fields.get("action", ""),
                        "target": fields.get("target", ""),
                        "before": json.loads(fields.get("before", "null")),
                        "after": json.loads(fields.get("after", "null")),
                    }
                )
                if len(out) == limit:
                    break
        return {"entries": out, "next": cursor if len(out) == limit and cursor else None}
