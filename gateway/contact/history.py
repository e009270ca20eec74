"""The desk's history: a customer's earlier conversations, search over all of them, one conversation read whole.

Any agent may read any conversation (the desk is shared); customers never (gateway/wire/desk_routes.py).

How search works, and its limits. Redis is the only store, so the indexes are kept by the scripts that write
conversations (gateway/store/store.py): every conversation in ``P:convs`` and in its customer's
``P:customer:ID:convs`` (scored by creation), and the words of its messages, notes and transcript lines in
``P:word:W`` (gateway/store/words.py: whole words, casefolded; no parts of words, no phrases). A search walks one
source newest first and checks the rest on each conversation it examines; :data:`SEARCH_COSTS` says what each filter
costs. The date range bounds the walk by creation time. A request examines at most :data:`MAX_SCAN` conversations: a
rare filter over many conversations answers a short page with a ``next`` cursor (and ``scanned``) to go on from,
never a slow request. The cursor is the last examined conversation's (creation ms, id): pages neither repeat nor
skip one while new conversations arrive. ``agent`` is the conversation's last agent (who has or closed it).
Conversations created before this version are in no index (their words neither).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from gateway.contact.conversations import Conversations, is_test_conversation
from gateway.errors import BadRequest, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import ConversationState, EventType
from gateway.store.index_store import ConversationIndex, Entry, SourceKind
from gateway.store.store import Store

MAX_SCAN = 2000  # conversations one request examines at most
BATCH = 200  # read from an index at a time
MAX_LIMIT = 50  # results a page may ask for
CURSOR_PATTERN = r"^\d{1,15}\.[A-Za-z0-9_-]{1,64}$"  # what a cursor looks like (the API document's pattern)
_CURSOR = re.compile(r"^(?P<score>\d{1,15})\.(?P<cid>[A-Za-z0-9_-]{1,64})$")

SEARCH_COSTS = """What a filter costs (N: conversations in the index walked; a page reads at most 2,000 of them):
- `q`: walks the index of its rarest word (O(log N) to start, then only conversations holding that word); each other
  word is one ZSCORE per conversation examined.
- `customer` (without `q`): walks that customer's conversations only.
- `agent` with `state=assigned`: reads the agent's current conversations (as many as their capacity), exact.
- `queue` with `state=queued`: reads that queue's waiting conversations, exact.
- `from` / `to`: bound the walk by creation time (O(log N)), with any source.
- `agent`, `queue`, `state` otherwise: checked on each examined conversation's hash (one HMGET per conversation, in
  batches of 200): a filter matching few conversations answers short pages with a `next` cursor (and `scanned`)
  rather than a slow request; narrow it with `from` / `to` or `customer`.
Pages are newest first; the cursor is the last examined conversation's (creation ms, id), so pages neither repeat
nor skip one while new conversations arrive."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the last examined conversation (creation ms, id)."""

    score: int
    cid: str

    @classmethod
    def parse(cls, text: str) -> Cursor:
        m = _CURSOR.fullmatch(text)
        if m is None:
            raise BadRequest("'cursor' is not a cursor this gateway gave", field="cursor", code=ErrorCode.BAD_FIELD)
        return cls(int(m["score"]), m["cid"])

    def __str__(self) -> str:
        return f"{self.score}.{self.cid}"

    def seen(self, entry: Entry) -> bool:
        """True for an entry at or before this cursor in newest-first order (same ms: greater ids come first)."""
        return entry.score > self.score or (entry.score == self.score and entry.cid >= self.cid)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    words: tuple[str, ...] = ()  # every one must be in the conversation (gateway/store/words.py)
    customer: str = ""
    agent: str = ""
    queue: str = ""
    state: str = ""
    since: int | None = None  # created at or after (ms)
    until: int | None = None  # created at or before (ms)
    after: Cursor | None = None
    limit: int = 20


class ConversationHistory:
    def __init__(self, store: Store, conversations: Conversations):
        self.store = store
        self.index = ConversationIndex(store)
        self.conversations = conversations

    async def search(self, q: SearchQuery) -> dict[str, Any]:
        """``{"conversations": [row...], "next": cursor or None, "scanned": n}``, newest first."""
        kind: SourceKind = "all"
        value, others = "", list(q.words)
        if q.words:
            sizes = await self.index.sizes(list(q.words))
            if min(sizes) == 0:
                return {"conversations": [], "next": None, "scanned": 0}
            value = q.words[sizes.index(min(sizes))]
            kind, others = "word", [w for w in q.words if w != value]
        elif q.customer:
            kind, value = "customer", q.customer
        elif q.agent and q.state == ConversationState.ASSIGNED:
            kind, value = "assigned", q.agent
        elif q.queue and q.state == ConversationState.QUEUED:
            kind, value = "waiting", q.queue
        upper = math.inf if q.until is None else q.until
        if q.after is not None:
            upper = min(upper, q.after.score)
        lower = -math.inf if q.since is None else q.since
        found: list[dict[str, Any]] = []
        scanned, offset, more, full = 0, 0, True, False
        last: Entry | None = None
        while more and not full and scanned < MAX_SCAN:
            count = min(BATCH, MAX_SCAN - scanned)
            batch = await self.index.newest_first(kind, value, upper=upper, lower=lower, offset=offset, count=count)
            offset += len(batch)
            more = len(batch) == count
            fresh = [e for e in batch if q.after is None or not q.after.seen(e)]
            rows = await self.index.rows([e.cid for e in fresh])
            holds = await self.index.holding([e.cid for e in fresh], others)
            for entry, row, ok in zip(fresh, rows, holds, strict=True):
                scanned += 1
                last = entry
                # an admin's test run (gateway/flows/test_runs.py) is no customer's conversation: never listed
                if row is not None and ok and not is_test_conversation(entry.cid) and _matches(row, q):
                    found.append(await self._result(entry.cid, row))
                    full = len(found) >= q.limit
                    if full:
                        break
        cursor = str(Cursor(last.score, last.cid)) if last is not None and (full or more) else None
        return {"conversations": found, "next": cursor, "scanned": scanned}

    async def _result(self, cid: str, row: dict[str, str]) -> dict[str, Any]:
        agent_id = row.get("agent_id") or None
        last = await self.store.last_event(cid, EventType.MESSAGE)
        channels = [name for name, n in (("chat", row.get("messages")), ("call", row.get("calls"))) if n and n != "0"]
        return {
            "id": cid,
            "customer_id": row.get("customer_id"),
            "customer_name": row.get("customer_name"),
            "state": row.get("state"),
            "queue": row.get("queue"),
            "agent_id": agent_id,
            "agent_name": (await self.store.agent_name(agent_id) or agent_id) if agent_id else None,
            "created_at": int(row.get("created_at") or 0),
            "updated_at": int(row.get("updated_at") or 0),
            "disposition": row.get("disposition") or None,
            "channels": channels,
            "messages": int(row.get("messages") or 0),
            "last_text": last["text"] if last else None,
        }

    async def read(self, cid: str, agent_id: str, *, supervisor: bool) -> dict[str, Any]:
        """One conversation whole, read-only: its summary and every event (notes too). A recording event says
        whether this agent may play it (``playable``: the rule of GET /api/recordings)."""
        summary = await self.conversations.summary(cid)
        if summary is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        conv = await self.store.conversation(cid) or {}
        summary["disposition"] = conv.get("disposition") or None
        events = await self.store.events(cid)
        may_play = may_play_recording(conv, events, agent_id, supervisor=supervisor)
        for e in events:
            if e["type"] == EventType.RECORDING:
                e["playable"] = may_play
        return {"conversation": summary, "events": events}


def may_play_recording(conv: dict[str, str], events: list[dict[str, Any]], agent_id: str, *, supervisor: bool) -> bool:
    """Who may play a conversation's recordings: supervisors, its agent, and every agent who answered a call in it."""
    if supervisor or conv.get("agent_id") == agent_id:
        return True
    return agent_id in {e.get("agent_id") for e in events if e["type"] == EventType.CALL_ANSWERED}


def _matches(row: dict[str, str], q: SearchQuery) -> bool:
    return (
        (not q.customer or row.get("customer_id") == q.customer)
        and (not q.agent or row.get("agent_id") == q.agent)
        and (not q.queue or row.get("queue") == q.queue)
        and (not q.state or row.get("state") == q.state)
    )
