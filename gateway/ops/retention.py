"""Retention: closed conversations older than ``--retention-days`` are deleted, with their recordings and attachments.

A background job of every node (:meth:`Retention.start` / :meth:`Retention.stop`, owned by the runtime)
runs a pass every :data:`RUN_SECONDS`:

1. **Redis** (one node at a time: the pass takes ``P:retention:lock``, which expires if that node dies):
   the closed conversations whose last change is older than the cutoff, oldest first (the ``P:closed``
   index the close script keeps), each deleted by one script that checks again that it is closed and
   unchanged since the cutoff: the conversation hash, its context, its timeline (messages, notes, flow
   steps, transcripts), its client-id set, its ``P:closed`` entry, and the customer's record when this
   was their latest conversation (else only the customer's client-id entries that point to it); then the
   callbacks its timeline names, and its attachments (``DATA_DIR/attachments/<conversation>/``, through the
   :class:`~gateway.contact.attachment_files.AttachmentFiles` store). Conversations closed before the index existed
   are indexed once. Attachment folders of conversations that are gone (deleted while a node was down) go too.
2. **The event log** (``P:events``, same node, same lock): the events every timeline append also writes there
   (message text, transcripts, callback phone numbers) for the report counters and the webhooks. Entries older than
   ``--event-log-keep-hours`` go once every consumer group has handled them (a group that is behind keeps what it
   still needs); and, when retention is on, every entry older than the retention cutoff (plus
   :data:`CLOCK_MARGIN_MS` for the nodes' clocks against Redis's, which numbers the entries) goes whatever the
   groups: a deleted conversation leaves nothing there (a group that had not read them is named in a warning).
   This part runs with retention off too (``--retention-days 0``): the log is a way through, not a store.
3. **Files** (every node, its own data directory): ``DATA_DIR/recordings/<conversation>/`` whose newest
   file is older than the cutoff and whose conversation is gone or closed; and, retention on or off, those of a
   conversation an admin erased (``P:erased``, gateway/ops/erasure.py), whatever their age.

Every deletion is logged. Time is an input (``clock``, seconds), so tests move it instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.contact.attachment_files import AttachmentFiles
from gateway.protocol.states import ConversationState, EventType
from gateway.store.erasure_store import ErasureStore
from gateway.store.event_log_store import EventLogStore
from gateway.store.retention_store import RetentionStore
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

RUN_SECONDS = 3600.0  # a pass every hour
FIRST_RUN_SECONDS = 60.0  # the first one shortly after the node starts
LOCK_SECONDS = 600.0  # a pass holds the lock at most this long (it expires if the node dies)
BATCH = 200
MAX_BATCHES = 50  # at most 10,000 conversations per pass; the next pass goes on
ERASED_KEPT_MS = 30 * 86_400_000  # an erased conversation stays listed (P:erased) this long: nodes down for less
CLOCK_MARGIN_MS = 60_000  # event log ids are Redis's time, ``updated_at`` a node's: retention's cut reaches past both


@dataclass
class RetentionReport:
    cutoff_ms: int
    ran_redis: bool = False  # False: another node held the lock
    conversations: list[str] = field(default_factory=list)  # deleted
    recordings: list[str] = field(default_factory=list)  # conversation ids whose recordings were deleted
    attachments: list[str] = field(default_factory=list)  # conversation ids whose attachments were deleted
    indexed: int = 0  # older closed conversations indexed this pass
    event_log_trimmed: int = 0  # event log entries removed (kept time passed, or past retention)


class Retention:
    def __init__(
        self,
        store: Store,
        *,
        retention_days: float,
        recordings: Path,
        attachments: AttachmentFiles | None = None,
        clock: Callable[[], float] = time.time,
        run_seconds: float = RUN_SECONDS,
        first_run_seconds: float = FIRST_RUN_SECONDS,
        event_log_keep_hours: float = 24.0,
    ):
        self.store = store
        self.retention_days = retention_days
        self.recordings = recordings
        self.attachments = attachments  # None: this node keeps no attachments
        self.clock = clock
        self.run_seconds = run_seconds
        self.first_run_seconds = first_run_seconds
        self.db = RetentionStore(store)
        self.erasures = ErasureStore(store)
        self.events = EventLogStore.of(store)
        self.event_log_keep_ms = int(event_log_keep_hours * 3_600_000)
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0

    # ---------------------------------------------------------------- one pass

    async def run_once(self) -> RetentionReport:
        """Delete what is older than the retention period now (per ``clock``), and trim the event log (even with
        retention off)."""
        now_ms = int(self.clock() * 1000)
        cutoff = now_ms - int(self.retention_days * 86400 * 1000)
        report = RetentionReport(cutoff)
        owner = secrets.token_hex(8)
        if await self.db.lock(owner, ms=int(LOCK_SECONDS * 1000)):
            report.ran_redis = True
            try:
                if self.enabled:
                    await self._delete_conversations(cutoff, report)
                report.event_log_trimmed = await self._trim_event_log(now_ms, cutoff)
            finally:
                await self.db.unlock(owner)
        await self.erasures.trim_erased(now_ms - ERASED_KEPT_MS)
        report.recordings = await self._sweep_erased_recordings()  # retention on or off
        if not self.enabled:
            return report
        report.recordings += await self._sweep_recordings(cutoff)
        if report.conversations or report.recordings:
            log.info(
                "retention: deleted %d conversations and the recordings of %d closed before %s",
                len(report.conversations),
                len(report.recordings),
                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(cutoff / 1000)),
            )
        return report

    async def _delete_conversations(self, cutoff: int, report: RetentionReport) -> None:
        report.indexed = await self._index_closed()
        for _ in range(MAX_BATCHES):
            batch = await self.db.closed_before(cutoff, BATCH)
            for cid in batch:
                if await self.delete_conversation(cid, cutoff) == "deleted":
                    report.conversations.append(cid)
                    if self.attachments is not None and await self.attachments.delete_conversation(cid):
                        report.attachments.append(cid)
            if len(batch) < BATCH:
                break
        report.attachments += await self._sweep_attachments()

    async def _trim_event_log(self, now_ms: int, cutoff: int) -> int:
        """Entries past ``--event-log-keep-hours`` that every group has handled; with retention on, every entry
        older than the cutoff whatever the groups (a deleted conversation's events go with it)."""
        trimmed, _ = await self.events.trim(now_ms - self.event_log_keep_ms, behind_groups=True)
        if self.enabled:
            past, lost = await self.events.trim(cutoff + CLOCK_MARGIN_MS, behind_groups=False)
            trimmed += past
            if lost:
                log.warning(
                    "retention: event log entries older than the retention period removed before the %s "
                    "consumer group(s) handled them (a node down that long?)",
                    ", ".join(lost),
                )
        if trimmed:
            log.info("retention: %d event log entries removed", trimmed)
        return trimmed

    async def delete_conversation(self, cid: str, cutoff: int) -> str:
        """Delete a conversation closed and unchanged since ``cutoff`` (ms) and every key only it owns:
        'deleted', or why it was kept ('newer', 'not_closed') or 'gone'."""
        customer_id = await self.db.customer_of(cid)
        callback_ids = sorted(
            {
                e["callback_id"]
                for e in await self.store.events(cid)
                if e["type"] == EventType.CALLBACK and isinstance(e.get("callback_id"), str)
            }
        )
        status, whole = await self.db.delete_conversation(cid, customer_id, cutoff)
        if status != "deleted":
            return status
        await self.db.delete_callbacks(callback_ids)  # closed with the conversation; nothing else refers to them
        if not whole:
            await self.db.forget_client_ids(customer_id, cid)
        log.info(
            "retention: deleted conversation (%d callbacks)%s",
            len(callback_ids),
            " and the customer's record" if whole else "",
            extra={"conversation_id": cid, "customer_id": customer_id},
        )
        return "deleted"

    async def _index_closed(self, batch: int = 500) -> int:
        """Once per Redis: index the conversations closed before ``P:closed`` existed."""
        found = await self.db.index_closed(batch)
        if found is None:
            return 0
        if found:
            log.info("retention: indexed %d conversations closed earlier", found)
        return found

    async def _sweep_attachments(self) -> list[str]:
        """Attachment folders whose conversation is gone (deleted by a pass that could not reach the files)."""
        if self.attachments is None:
            return []
        deleted = []
        for cid in await self.attachments.conversations():
            if await self.store.conversation(cid) is None and await self.attachments.delete_conversation(cid):
                log.info("retention: deleted the attachments of a deleted conversation", extra={"conversation_id": cid})
                deleted.append(cid)
        return deleted

    async def _sweep_erased_recordings(self) -> list[str]:
        """This node's recordings of conversations an admin erased (gateway/ops/erasure.py), whatever their age."""
        erased = await self.erasures.erased_conversations()
        if not erased:
            return []
        deleted = []
        for path in await asyncio.to_thread(_dirs, self.recordings):
            if path.name in erased:
                await asyncio.to_thread(shutil.rmtree, path)
                log.info(
                    "retention: deleted the recordings of an erased conversation", extra={"conversation_id": path.name}
                )
                deleted.append(path.name)
        return sorted(deleted)

    async def _sweep_recordings(self, cutoff: int) -> list[str]:
        """This node's recordings of conversations that are gone or closed, last written before the cutoff."""
        candidates = await asyncio.to_thread(_old_dirs, self.recordings, cutoff / 1000)
        deleted = []
        for path in candidates:
            conv = await self.store.conversation(path.name)
            if conv is not None and conv.get("state") != ConversationState.CLOSED:
                continue
            await asyncio.to_thread(shutil.rmtree, path)
            log.info("retention: deleted the recordings in %s", path, extra={"conversation_id": path.name})
            deleted.append(path.name)
        return sorted(deleted)

    # ---------------------------------------------------------------- the job

    async def start(self) -> None:
        """The hourly pass; with retention off (``retention_days`` 0) it still trims the event log."""
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_run_seconds)
        while True:
            try:
                await self.run_once()
            except (StoreError, OSError) as exc:  # the next pass tries again
                log.warning("retention pass failed: %s", exc)
            await asyncio.sleep(self.run_seconds)


def _dirs(root: Path) -> list[Path]:
    """The subdirectories of ``root`` (no symbolic links)."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and not path.is_symlink())


def _old_dirs(root: Path, cutoff_s: float) -> list[Path]:
    """Subdirectories of ``root`` whose newest entry (or the directory itself) was written before ``cutoff_s``."""
    if not root.is_dir():
        return []
    out = []
    for path in root.iterdir():
        if not path.is_dir() or path.is_symlink():
            continue
        newest = max([path.stat().st_mtime] + [f.stat().st_mtime for f in path.rglob("*")])
        if newest < cutoff_s:
            out.append(path)
    return sorted(out)
