"""A customer's data on request: everything kept about them exported, or erased (data protection's rights of access
and to erasure; the admin routes are gateway/wire/customer_routes.py, each erasure is in the audit log).

**Export** (:meth:`Erasure.export`): every conversation of the customer whole (summary, context, every event: messages,
notes, transcripts, flow steps, calls), their callbacks, and the attachments and recordings those name.

**Erasure** (:meth:`Erasure.erase`), refused while the customer is on a call (it would be recorded and logged as it
is erased):

1. The customer's mark goes first (``P:customer:ID:erased``, the time, kept as long as a customer token lives): every
   customer token of that browser's id is refused (on the socket, where the browser becomes a new customer, and on
   the upload route: no token for that id is signed again); their open sockets are told to close
   (:class:`~gateway.protocol.bus.CustomerErased`) and reconnect as that new customer. A site's verified user, whom
   the site vouches for, keeps their id, afresh.
2. Their conversations are journalled (``P:customer:ID:erasing``) and listed in ``P:erased`` (for 30 days): the webhook
   fan-out copies nothing of them from then on, and every node's retention pass deletes its own recordings of them.
3. Each conversation: closed if it was not (disposition ``erased``: its agent's desk lets it go, a queue forgets it,
   a booked callback closes; an agent closing or passing it on meanwhile is read again), then deleted with what only
   it owns, as retention deletes one (gateway/ops/retention.py: hash, context, timeline, client ids, search index
   entries, callbacks), with its attachments, this node's recordings of it, and every webhook outbox of it. A
   conversation the customer opened meanwhile goes too (their list is read again, up to :data:`ROUNDS` times; it is
   never deleted blindly, so one opened later stays findable).
4. Their copies in the event log (``P:events``: messages and transcripts as the report counters and webhooks read
   them), from the first conversation's creation on; the outboxes once more (what the fan-out copied before step 2).
5. The customer's own keys (record, client-message ids, rate-limit counters, TURN pair) and the journal; then the
   embedded Redis rewrites its append-only file (deleted values leave the disk).

Every step may run again: an erasure that stopped half-way (a node stopped, a StoreError, a disk error) is finished
by the next one, which reads the journal. What stays is in README ("A customer's data on request").
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
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.ops.retention import CLOCK_MARGIN_MS, ERASED_KEPT_MS, Retention
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
CLOSE_TRIES = 5  # an open conversation's close tried again when its agent changed it meanwhile
MARGIN_MS = CLOCK_MARGIN_MS  # event log ids are Redis's time, a conversation's creation a node's


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
        rewrite_aof: bool = False,
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
        self.rewrite_aof = rewrite_aof  # the embedded Redis's file (an external Redis's files are its operator's)
        self.clock = clock
        self.db = ErasureStore(store)
        self.events = EventLogStore.of(store)
        self.webhooks = WebhookStore(store)

    async def _require_known(self, customer_id: str) -> list[str]:
        cids = await self.db.conversations_of(customer_id)
        if not cids and not await self.db.known(customer_id):  # (an erasure not finished counts as known)
            raise NotFound(f"nothing is kept about customer {customer_id}", field="customer_id")
        return cids

    async def erased(self, customer_id: str) -> bool:
        """Whether an admin erased this customer (their mark lives as long as a token the gateway gave them)."""
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
        """Erase everything kept about the customer (see the module's docstring); the counts of what went. A run
        that failed half-way is finished by the next one (its journal names what it was deleting)."""
        await self._require_known(customer_id)
        await self._refuse_on_call(customer_id)
        now_ms = int(self.clock() * 1000)
        report = ErasureReport(customer_id, now_ms)
        made = await self.db.mark_erased(customer_id, at_ms=now_ms, mark_seconds=self.mark_seconds)  # tokens refused
        try:
            await self._refuse_on_call(customer_id)  # a call that started just before the mark
        except Conflict:
            if made:  # (an earlier erasure's mark stays)
                await self.db.unmark(customer_id, now_ms)
            raise
        await self.store.publish(self.store.keys.customer_channel(customer_id), bus.CustomerErased())
        erased: dict[str, int] = await self.db.journal(customer_id)  # a failed run's conversations
        todo = list(erased)
        for _ in range(ROUNDS):
            found = {cid: await self._created(cid, now_ms) for cid in await self.db.conversations_of(customer_id)}
            await self.db.begin(customer_id, found, at_ms=now_ms, keep_ms=ERASED_KEPT_MS)  # the journal, and the fence
            erased.update(found)
            for cid in dict.fromkeys([*todo, *found]):  # (a deleted conversation leaves the customer's list)
                await self._erase_conversation(customer_id, cid, report)
            todo = []
            if not await self.db.conversations_left(customer_id):
                break
        else:
            raise Conflict(
                f"customer {customer_id} kept opening conversations while they were erased: erase again",
                field="customer_id",
            )
        if erased:
            cids = set(erased)
            report.event_log_entries = await self.events.delete_conversations(cids, min(erased.values()) - MARGIN_MS)
            for cid in cids:  # what the fan-out copied before the fence, after the first drop
                report.webhook_payloads += await self.webhooks.drop_outboxes(cid)
        await self.db.forget_customer(customer_id)
        if self.rewrite_aof:  # the embedded Redis's append-only file holds the deleted values until it is rewritten
            not_started = await self.db.rewrite_aof()
            if not_started:
                log.info("erasure: append-only file not rewritten now (%s)", not_started)
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

    async def _refuse_on_call(self, customer_id: str) -> None:
        if await self.calls.calls_of_customer(customer_id):
            raise Conflict(
                f"customer {customer_id} is on a call now: erase their data once it has ended (nothing was erased)",
                field="customer_id",
                code=ErrorCode.CALL_IN_PROGRESS,
            )

    async def _created(self, cid: str, default_ms: int) -> int:
        conv = await self.store.conversation(cid)
        return int((conv or {}).get("created_at") or default_ms)

    async def _erase_conversation(self, customer_id: str, cid: str, report: ErasureReport) -> None:
        """Close (if open) and delete one conversation with its files and outboxes. Every step may run again."""
        conv = await self.store.conversation(cid)
        if conv is None:  # gone already (a failed run deleted it, or its hash went some other way)
            await self.db.drop_listed(customer_id, cid)
        else:
            report.closed += await self._close(cid)
            events = await self.store.events(cid)
            status = await self.retention.delete_conversation(cid, ANY_TIME)
            if status not in ("deleted", "gone"):
                raise Conflict(f"conversation {cid} could not be erased ({status}): erase again", field="customer_id")
            report.conversations += status == "deleted"
            callbacks = {e.get("callback_id") for e in events if e["type"] == EventType.CALLBACK}
            report.callbacks += len({c for c in callbacks if isinstance(c, str)})
            report.attachments += sum(1 for e in events if e["type"] == EventType.ATTACHMENT)
        await self.attachments.delete_conversation(cid)
        report.recordings += await asyncio.to_thread(_delete_dir, self.recordings / cid)
        report.webhook_payloads += await self.webhooks.drop_outboxes(cid)

    async def _close(self, cid: str) -> int:
        """An open conversation closes first, as its agent or a bot would close it (desk, queue and callback follow):
        1 when this closed it, 0 when it was closed. Its agent closing or passing it on meanwhile is read again."""
        for _ in range(CLOSE_TRIES):
            conv = await self.store.conversation(cid)
            if conv is None or conv.get("state") == ConversationState.CLOSED:
                return 0
            await self.callbacks.conversation_closed(cid)  # a booked callback closes with it
            agent = conv.get("agent_id") or ""
            try:
                if conv.get("state") == ConversationState.ASSIGNED and agent:
                    await self.conversations.close(agent, cid, DISPOSITION, system=True)
                else:  # from the routing queue, where a waiting one is (not its queue's name: close_without_agent)
                    await self.conversations.abandon(cid, "", "erased", disposition=DISPOSITION)
            except (Conflict, Forbidden) as exc:  # closed, or given to another agent, meanwhile: read it again
                log.info(
                    "erasure: conversation changed while closing it (%s)", exc.message, extra={"conversation_id": cid}
                )
                continue
            after = await self.store.conversation(cid)
            if after is None or after.get("state") == ConversationState.CLOSED:
                return 1
        raise Conflict(f"conversation {cid} could not be closed to erase it: erase again", field="customer_id")


def _delete_dir(path: Path) -> int:
    """Delete a conversation's recordings folder: how many files were in it."""
    if not path.is_dir() or path.is_symlink():
        return 0
    files = sum(1 for f in path.rglob("*") if f.is_file())
    shutil.rmtree(path)
    return files
