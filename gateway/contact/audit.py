"""The audit log: who changed what, when, and what it was before and after, for every admin write.

Kept in a Redis stream (``P:audit``, gateway/store/audit_store.py) capped near ``--audit-max-entries``; read
newest first, a page at a time (``GET /api/admin/audit``). An entry never holds a secret: any value under a key
that names one (``password``, ``password_hash``, ``secret``, ``token``, ...) is written as ``"***"``, at any depth,
so a caller that passes a whole object cannot leak one by mistake (a true/false under such a name, like
``must_change_password``, is kept: it holds no secret).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gateway.store.audit_store import AuditStore
from gateway.store.store import Store

SECRET_KEY = re.compile(r"password|secret|token|hash|credential", re.IGNORECASE)
HIDDEN = "***"
MAX_LIMIT = 200
SCAN_LIMIT = 5000  # a page filtered by target reads at most this many entries (then answers what it found)
ENTRY_ID = re.compile(r"^\d{1,16}-\d{1,10}$")


def redact(value: Any) -> Any:
    """``value`` with every secret-named key's value replaced by ``"***"`` (dicts and lists, at any depth)."""
    if isinstance(value, dict):
        # a yes/no under such a name (``must_change_password``) is a fact, not a secret: kept
        return {
            k: (HIDDEN if SECRET_KEY.search(str(k)) and not isinstance(v, bool) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[dict[str, Any]]
    next: str | None  # the cursor of the next (older) page


class AuditLog:
    def __init__(self, store: Store, *, max_entries: int = 100_000):
        self.db = AuditStore(store)
        self.max_entries = max_entries

    async def record(
        self, actor: str, action: str, target: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> None:
        """Append an entry (``action`` like ``agent.add``, ``queue.update``, ``flow.publish``); secrets hidden."""
        fields = {
            "actor": actor,
            "action": action,
            "target": target,
            "before": json.dumps(redact(before), separators=(",", ":"), ensure_ascii=False),
            "after": json.dumps(redact(after), separators=(",", ":"), ensure_ascii=False),
        }
        await self.db.add(fields, max_entries=self.max_entries)

    async def page(self, *, limit: int = 50, before: str | None = None, target: str = "") -> AuditPage:
        """Up to ``limit`` entries older than the cursor ``before``, newest first, only ``target``'s if given
        (:func:`target_matches`: exactly, or a bare name for each of its ``kind:name`` targets)."""
        found: list[dict[str, Any]] = []
        cursor, scanned = before, 0
        batch = limit if not target else max(limit, 200)
        while scanned < SCAN_LIMIT:
            rows = await self.db.newest(before=cursor, count=batch)
            for entry_id, fields in rows:
                scanned += 1
                cursor = entry_id
                if not target or target_matches(fields.get("target", ""), target):
                    found.append(_entry(entry_id, fields))
                    if len(found) == limit:
                        return AuditPage(found, cursor)
            if len(rows) < batch:
                return AuditPage(found, None)
        return AuditPage(found, cursor)

    async def entries(self, limit: int = 50, before: str | None = None, target: str = "") -> dict[str, Any]:
        """The page as the API answers it: ``{"entries": [...], "next": cursor or None}``."""
        page = await self.page(limit=limit, before=before, target=target)
        return {"entries": page.entries, "next": page.next}


def target_matches(entry_target: str, wanted: str) -> bool:
    """Whether an entry's target is the one asked for: exactly (``queue:billing``, ``dave``, ``widget``), or a bare
    name that is the name part of a ``kind:name`` target (``billing`` finds ``queue:billing`` and ``flow:billing``)."""
    if entry_target == wanted:
        return True
    _, colon, name = entry_target.partition(":")
    return bool(colon) and ":" not in wanted and name == wanted


def _entry(entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    return {
        "id": entry_id,
        "at": int(entry_id.partition("-")[0]),
        "actor": fields.get("actor", ""),
        "action": fields.get("action", ""),
        "target": fields.get("target", ""),
        "before": json.loads(fields.get("before") or "null"),
        "after": json.loads(fields.get("after") or "null"),
    }
