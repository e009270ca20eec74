"""A customer's data on request: everything kept about them exported, or erased (data protection's rights of access
and to erasure; the admin routes are gateway/wire/customer_routes.py, each erasure is in the audit log).

**Export** (:meth:`Erasure.export`): every conversation of the customer whole (summary, context, every event: messages,
notes, transcripts, flow steps, calls), their callbacks, and the attachments and recordings those name.

**Erasure** (:meth:`Erasure.erase`), refused while the customer is on a call (it would be recorded and logged as it
is erased):

1. The customer's mark goes first (``P:customer:ID:erased``, kept as long as a customer token lives): a widget that
   comes back with a customer token the gateway gave before is a new customer; their open sockets are told to close
   (:class:`~gateway.protocol.bus.CustomerErased`), and reconnect as that new customer.
2. Each conversation of theirs: closed if it was not (disposition ``erased``: its agent's desk lets it go, a queue
   forgets it, a booked callback closes), then deleted with what only it owns, as retention deletes one
   (gateway/ops/retention.py: hash, context, timeline, client ids, search index entries, callbacks), with its
   attachments, this node's recordings of it, and every webhook outbox of it (payloads not delivered yet); it is
   listed in ``P:erased`` for 30 days, for every node's retention pass to delete its own recordings of it. A
   conversation the customer opened meanwhile goes too (the list is read again until it is empty).
3. Their copies in the event log (``P:events``: messages and transcripts as the report counters and webhooks read
   them), from the first conversation's creation on.
4. The customer's own keys (record, client-message ids, list of conversations, rate-limit counters, TURN pair).

What stays: report counters (totals per queue, agent and day, no customer in them; an erased conversation's events
not yet counted are not counted), the audit log (who erased which customer id, and the counts), webhook posts
already delivered, and recordings in another node's own data directory until that node's next retention pass
(hourly, and a minute after it starts).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway.calls.manager import CallManager
from gateway.contact.attachment_files import AttachmentFiles
from gateway.contact.callbacks import Callbacks
from gateway.contact.conversations import Conversations
from gateway.errors import Conflict, NotFound
from gateway.ops.retention import CLOCK_MARGIN_MS, Retention
from gateway.protocol import bus
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import ConversationState, EventType
from gateway.store.erasure_store import ErasureStore
from gateway.store.event_log_store import EventLogStore
from gateway.store.store import Store
from gateway.store.webhook_store import WebhookStore

log = logging.getLogger(__name__)

DISPOSITION = "erased"  # an open conversation closed by its erasure
ANY_TIME = 2**53  # the retention script's cutoff: every change of a closed conversation is older than this
ROUNDS = 5  # the customer's conversations read again at most this many times (one opened meanwhile goes too)
NOTED_MS = 30 * 86_400_000  # an erased conversation is listed this long for other nodes' recordings


@dataclass
class ErasureReport:
    """What an erasure removed (counts only: the audit log keeps this)."""

    customer_id: str
    erased_at: int  # ms
    conversations: int = 0
    closed: int = 0  # of those, open ones closed first
    callbacks: int = 0
    attachments: int = 0
    recordings: int = 0  # files in this node's data directory
    event_log_entries: int = 0
    webhook_payloads: int = 0  # posts not delivered yet

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Erasure:
    def __init__(
        self,
        store: Store,
        conversations: Conversations,
        callbacks: Callbacks,
        calls: CallManager,
        retention: Retention,
        attachments: AttachmentFiles,
        *,
        recordings: Path,
        customer_token_days: float,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.conversations = conversations
        self.callbacks = callbacks
        self.calls = calls
        self.retention = retention
        self.attachments = attachments
        self.recordings = recordings
        self.mark_seconds = int(customer_token_days * 86400) + 3600  # a token given at the last moment, and clocks
        self.clock = clock
        self.db = ErasureStore(store)
        self.events = EventLogStore.of(store)
        self.webhooks = WebhookStore(store)

    async def _require_known(self, customer_id: str) -> list[str]:
        cids = await self.db.conversations_of(customer_id)
        if not cids and not await self.db.known(customer_id):
            raise NotFound(f"nothing is kept about customer {customer_id}", field="customer_id")
        return cids

    async def erased(self, customer_id: str) -> bool:
        """Whether an admin erased this customer lately (their customer tokens are refused)."""
        return await self.db.erased_at(customer_id) is not None

    # ---------------------------------------------------------------- export

    async def export(self, customer_id: str) -> dict[str, Any]:
        """Everything kept about the customer, as one JSON document."""
        conversations, callback_ids = [], []
        attachments: list[dict[str, Any]] = []
        recordings: list[dict[str, Any]] = []
        for cid in await self._require_known(customer_id):
            summary = await self.conversations.summary(cid)
            if summary is None:  # deleted by retention meanwhile
                continue
            conv = await self.store.conversation(cid) or {}
            summary["disposition"] = conv.get("disposition") or None
            for field in ("rating", "rating_comment", "rated_at"):
                if conv.get(field):
                    summary[field] = conv[field]
            events = await self.store.events(cid)
            conversations.append({"conversation": summary, "events": events})
            for e in events:
                if e["type"] == EventType.ATTACHMENT:
                    attachments.append(
                        {
                            "conversation_id": cid,
                            **{k: e.get(k) for k in ("attachment_id", "name", "media_type", "size")},
                        }
                    )
                elif e["type"] == EventType.RECORDING:
                    recordings.append(
                        {"conversation_id": cid, "file": e.get("file"), "duration_ms": e.get("duration_ms")}
                    )
                elif (
                    e["type"] == EventType.CALLBACK
                    and isinstance(e.get("callback_id"), str)
                    and e["callback_id"] not in callback_ids
                ):
                    callback_ids.append(e["callback_id"])
        callbacks = [{"callback_id": cb_id, **cb} for cb_id in callback_ids if (cb := await self.callbacks.get(cb_id))]
        return {
            "customer_id": customer_id,
            "exported_at": int(self.clock() * 1000),
            "conversations": conversations,
            "callbacks": callbacks,
            "attachments": attachments,
            "recordings": recordings,
        }

    # ---------------------------------------------------------------- erasure

    async def erase(self, customer_id: str) -> ErasureReport:
        """Erase everything kept about the customer (see the module's docstring); the counts of what went."""
        await self._require_known(customer_id)
        if await self.calls.calls_of_customer(customer_id):
            raise Conflict(
                f"customer {customer_id} is on a call now: erase their data once it has ended",
                field="customer_id",
                code=ErrorCode.CALL_IN_PROGRESS,
            )
        now_ms = int(self.clock() * 1000)
        report = ErasureReport(customer_id, now_ms)
        await self.db.mark_erased(customer_id, at_ms=now_ms, mark_seconds=self.mark_seconds)  # tokens refused
        await self.store.publish(self.store.keys.customer_channel(customer_id), bus.CustomerErased())
        erased: set[str] = set()
        since_ms = now_ms
        for _ in range(ROUNDS):
            cids = [cid for cid in await self.db.conversations_of(customer_id) if cid not in erased]
            if not cids:
                break
            for cid in cids:
                created = await self._erase_conversation(cid, report)
                erased.add(cid)
                since_ms = min(since_ms, created)
        if erased:
            report.event_log_entries = await self.events.delete_conversations(erased, since_ms - CLOCK_MARGIN_MS)
        await self.db.forget_customer(customer_id, at_ms=now_ms, mark_seconds=self.mark_seconds)
        log.info(
            "customer data erased: %d conversations (%d open, closed first), %d callbacks, %d attachments, "
            "%d recordings, %d event log entries, %d webhook payloads",
            report.conversations,
            report.closed,
            report.callbacks,
            report.attachments,
            report.recordings,
            report.event_log_entries,
            report.webhook_payloads,
            extra={"customer_id": customer_id},
        )
        return report

    async def _erase_conversation(self, cid: str, report: ErasureReport) -> int:
        """Close (if open) and delete one conversation with its files and outboxes; when it was created (ms)."""
        conv = await self.store.conversation(cid)
        if conv is None:  # retention got there first
            return int(self.clock() * 1000)
        if conv.get("state") != ConversationState.CLOSED:
            await self._close(cid, conv)
            report.closed += 1
        events = await self.store.events(cid)
        status = await self.retention.delete_conversation(cid, ANY_TIME)
        if status not in ("deleted", "gone"):
            raise Conflict(f"conversation {cid} could not be erased ({status}): try again", field="customer_id")
        report.conversations += status == "deleted"
        await self.db.note_erased(cid, at_ms=int(self.clock() * 1000), keep_ms=NOTED_MS)  # other nodes' recordings
        report.callbacks += len({e["callback_id"] for e in events if e["type"] == EventType.CALLBACK})
        report.attachments += sum(1 for e in events if e["type"] == EventType.ATTACHMENT)
        await self.attachments.delete_conversation(cid)
        report.recordings += await asyncio.to_thread(_delete_dir, self.recordings / cid)
        report.webhook_payloads += await self.webhooks.drop_outboxes(cid)
        return int(conv.get("created_at") or (events[0]["ts"] if events else self.clock() * 1000))

    async def _close(self, cid: str, conv: dict[str, str]) -> None:
        """An open conversation closes first, as its agent or a bot would close it (desk, queue, callback follow)."""
        await self.callbacks.conversation_closed(cid)  # a booked callback closes with it
        agent = conv.get("agent_id") or ""
        if conv.get("state") == ConversationState.ASSIGNED and agent:
            await self.conversations.close(agent, cid, DISPOSITION, system=True)
        else:
            await self.conversations.close_without_agent(cid, DISPOSITION)


def _delete_dir(path: Path) -> int:
    """Delete a conversation's recordings folder: how many files were in it."""
    if not path.is_dir() or path.is_symlink():
        return 0
    files = sum(1 for f in path.rglob("*") if f.is_file())
    shutil.rmtree(path)
    return files
