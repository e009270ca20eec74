"""Attachments: images (PNG, JPEG, WebP, GIF) and PDFs sent by the customer or the agent, as timeline events.

An upload is checked before anything is kept: its size (``--attachment-max-mb``), its type **from its content**
(gateway/contact/sniff.py: never the name or the client's Content-Type), an image decoded whole
(gateway/contact/images.py: one that does not decode is refused), and the number of attachments the conversation
already holds (``--attachments-per-conversation``). The file is then written by the :class:`AttachmentFiles`
store under a random id, with a small description (``.meta``) and, for an image, a thumbnail; then an
``attachment`` event (author, attachment_id, name, media_type, size, and an image's width and height) is appended
like a message: once per client id, live to both sides, in the history, visible to the customer.

Who may do what (checked by the callers' rules, as for messages): a customer uploads into their own conversation
(the open one, or a new one, exactly as a message); an agent into a conversation assigned to them, not closed. The
files are read by the conversation's customer and by agents (any agent may read any conversation in the desk's
history: gateway/contact/history.py). Retention deletes a conversation's files with it (gateway/ops/retention.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from gateway.contact.attachment_files import ID_RE, META, THUMB, AttachmentFiles
from gateway.contact.conversations import Conversations, Stored
from gateway.contact.images import BadImage, Image, inspect_image
from gateway.contact.routing import now_ms
from gateway.contact.sniff import SNIFF_BYTES, MediaType, claimed_type, display_name, sniff
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Author, ConversationState, EventType
from gateway.store.store import Buckets

log = logging.getLogger(__name__)

DECODES_AT_ONCE = 1  # images decoded at the same time on a node (each may take a few hundred MB for a moment)


def too_large(max_bytes: int) -> BadRequest:
    """The refusal of a file over the limit, in the words the widget and the desk show ("over the 10 MB limit")."""
    return BadRequest(
        f"the file is over the {max_bytes / 1_000_000:g} MB limit", field="file", code=ErrorCode.FRAME_TOO_LARGE
    )


def new_attachment_id() -> str:
    return "a_" + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class Checked:
    """An upload that passed every check, ready to be kept."""

    attachment_id: str
    media_type: MediaType
    name: str
    data: bytes
    width: int = 0
    height: int = 0
    thumbnail: bytes = b""
    thumbnail_type: MediaType | None = None

    def event_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "attachment_id": self.attachment_id,
            "name": self.name,
            "media_type": self.media_type.value,
            "size": len(self.data),
        }
        if self.media_type.is_image:
            data |= {"width": self.width, "height": self.height}
        return data


@dataclass(frozen=True, slots=True)
class Download:
    data: bytes
    media_type: str
    name: str


class Attachments:
    def __init__(self, conversations: Conversations, files: AttachmentFiles, *, max_bytes: int, per_conversation: int):
        self.conversations = conversations
        self.store = conversations.store
        self.files = files
        self.max_bytes = max_bytes
        self.per_conversation = per_conversation
        # one image decoded at a time on this node: 40 small files that unpack to 40 megapixels each, uploaded at
        # once, took 1 GB and the shared worker threads, and an agent's login (its password check runs there)
        # waited 23 s (a security tester's finding); the others wait their turn, memory stays one image's
        self._decoding = asyncio.Semaphore(DECODES_AT_ONCE)

    # ---------------------------------------------------------------- checking

    async def check(self, raw_name: str, data: bytes) -> Checked:
        """The upload's real type, a safe name, an image's size and thumbnail; BadRequest naming what is wrong."""
        if not data:
            raise BadRequest("the file is empty", field="file", code=ErrorCode.BAD_FIELD)
        if len(data) > self.max_bytes:
            raise too_large(self.max_bytes)
        media_type = sniff(data[:SNIFF_BYTES])
        if media_type is None:
            claimed = claimed_type(raw_name)
            if claimed is not None:  # "fake.pdf" holding a web page: its name is not the problem, its content is
                raise BadRequest(
                    f"the file is not a valid {claimed.label} (its content is something else)",
                    field="file",
                    code=ErrorCode.BAD_FIELD,
                )
            raise BadRequest(
                "only images (PNG, JPEG, WebP, GIF) and PDF files can be sent", field="file", code=ErrorCode.BAD_FIELD
            )
        checked = Checked(new_attachment_id(), media_type, display_name(raw_name, media_type), data)
        if not media_type.is_image:
            return checked
        await self._decoding.acquire()
        # the slot is the decode's, not the request's: an upload cancelled (its client gone) leaves its thread
        # decoding, and the next image waits until that thread is done (it did not: a reviewer's finding)
        decode = asyncio.ensure_future(asyncio.to_thread(inspect_image, data, media_type))
        decode.add_done_callback(self._decoded)
        try:
            image = await asyncio.shield(decode)
        except BadImage as exc:
            raise BadRequest(f"{exc}", field="file", code=ErrorCode.BAD_FIELD) from None
        return Checked(
            checked.attachment_id,
            media_type,
            checked.name,
            data,
            image.width,
            image.height,
            image.thumbnail,
            image.thumbnail_type,
        )

    def _decoded(self, decode: asyncio.Future[Image]) -> None:
        """A decode's thread is done: its slot is free. Its outcome is read here too (its request may be gone)."""
        self._decoding.release()
        if not decode.cancelled():
            decode.exception()

    @property
    def decoding(self) -> bool:
        """Whether an image is being decoded now (every slot taken)."""
        return self._decoding.locked()

    # ---------------------------------------------------------------- keeping

    async def from_customer(
        self, customer_id: str, client_id: str, upload: Checked, context: dict[str, str], buckets: Buckets | None
    ) -> Stored:
        """Keep a customer's checked upload in their conversation (the open one or a new one), once per client id."""
        written: list[str] = []

        async def prepare(cid: str) -> None:
            await self._check_room(cid)
            await self._write(cid, upload)
            written.append(cid)

        try:
            stored = await self.conversations.customer_event(
                customer_id,
                client_id,
                EventType.ATTACHMENT,
                {"author": Author.CUSTOMER, **upload.event_data()},
                context,
                buckets,
                prepare=prepare,
            )
        except BaseException:
            await self._discard(written, upload.attachment_id)
            raise
        kept = [] if stored.duplicate else [stored.conversation_id]
        await self._discard([cid for cid in written if cid not in kept], upload.attachment_id)
        if not stored.duplicate:
            self._logged(stored, upload, customer_id=customer_id)
        return stored

    async def from_agent(self, agent_id: str, agent_name: str, cid: str, client_id: str, upload: Checked) -> Stored:
        """Keep an agent's checked upload in a conversation assigned to them (not closed), once per client id."""
        conv = await self.conversations.require_agent(agent_id, cid)
        if conv.get("state") == ConversationState.CLOSED:
            raise Conflict("the conversation is closed", field="conversation_id")
        seen = await self.store.seen_client_id(self.store.keys.client_ids(cid), client_id)
        if seen is not None:
            return Stored(seen[0], seen[1], duplicate=True)
        await self._check_room(cid)
        await self._write(cid, upload)
        data = {"author": Author.AGENT, **upload.event_data(), "agent_id": agent_id, "agent_name": agent_name}
        try:
            conv_id, event_id, status = await self.store.append(
                cid,
                EventType.ATTACHMENT,
                {**data, "client_id": client_id},
                now=now_ms(),
                client_id=client_id,
                required_agent=agent_id,
            )
        except BaseException:
            await self._discard([cid], upload.attachment_id)
            raise
        if status != "ok":
            await self._discard([cid], upload.attachment_id)
            if status != "duplicate":
                raise Conflict(f"file not stored: {status.replace('_', ' ')}", field="conversation_id")
        stored = Stored(conv_id, event_id, duplicate=status == "duplicate")
        if not stored.duplicate:
            self._logged(stored, upload, agent_id=agent_id)
        return stored

    async def _check_room(self, cid: str) -> None:
        conv = await self.store.conversation(cid) or {}
        if int(conv.get("attachments") or 0) >= self.per_conversation:
            raise Conflict(
                f"this conversation holds its {self.per_conversation} attachments; no more can be added",
                field="file",
                code=ErrorCode.BAD_FIELD,
            )

    async def _write(self, cid: str, upload: Checked) -> None:
        aid = upload.attachment_id
        meta = {"media_type": upload.media_type.value, "name": upload.name}
        if upload.thumbnail_type is not None:
            meta["thumbnail_type"] = upload.thumbnail_type.value
            await self.files.put(cid, aid, THUMB, upload.thumbnail)
        await self.files.put(cid, aid, META, json.dumps(meta).encode())
        await self.files.put(cid, aid, "", upload.data)

    async def _discard(self, cids: list[str], attachment_id: str) -> None:
        for cid in cids:
            await self.files.delete(cid, attachment_id)

    @staticmethod
    def _logged(stored: Stored, upload: Checked, **who: str) -> None:
        log.info(
            "attachment %s (%s, %d bytes)",
            upload.attachment_id,
            upload.media_type.value,
            len(upload.data),
            extra={"conversation_id": stored.conversation_id, **who},
        )

    # ---------------------------------------------------------------- reading

    async def read(self, cid: str, attachment_id: str, *, thumbnail: bool = False) -> Download:
        """The file (or an image's thumbnail) with its type and name; NotFound when there is none. Who may read it
        is the caller's check (gateway/wire/attachment_routes.py)."""
        missing = NotFound("no such attachment", field="attachment_id")
        if not ID_RE.fullmatch(cid) or not ID_RE.fullmatch(attachment_id):
            raise missing
        raw_meta = await self.files.read(cid, attachment_id, META)
        if raw_meta is None:
            raise missing
        meta = json.loads(raw_meta)
        if thumbnail and "thumbnail_type" not in meta:
            raise missing
        data = await self.files.read(cid, attachment_id, THUMB if thumbnail else "")
        if data is None:
            raise missing
        return Download(data, meta["thumbnail_type"] if thumbnail else meta["media_type"], meta["name"])
