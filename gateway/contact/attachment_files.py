"""Where attachments' bytes live, behind one small interface (:class:`AttachmentFiles`).

:class:`LocalAttachmentFiles` keeps them under the data directory: ``DATA_DIR/attachments/<conversation>/<id>``
``<id>.thumb`` (an image's thumbnail) and ``<id>.meta`` (its type and display name), named by the random attachment id only (the client's file name is never
part of a path), written to a temporary name then renamed (no half-written file is ever served), files 0600 and
directories 0700 like every private file of the gateway (gateway/data_dir.py). Every node must see the same
directory (one machine, or a shared volume) for a file uploaded through one node to be downloaded through another.

An S3-compatible store is another implementation of the same interface (put / read / delete by conversation and id,
list a conversation's files for retention); it is not built yet.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path
from typing import Protocol

from gateway.data_dir import PRIVATE_FILE, private_mkdir

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")  # conversation and attachment ids: never a path part other than that
THUMB = "thumb"  # an image's thumbnail
META = "meta"  # what the file is (type, display name): JSON
VARIANTS = ("", THUMB, META)


class AttachmentFiles(Protocol):
    """The bytes of attachments, by conversation and attachment id (``variant``: '' the file, 'thumb' an image's
    thumbnail, 'meta' its description)."""

    async def put(self, cid: str, attachment_id: str, variant: str, data: bytes) -> None: ...

    async def read(self, cid: str, attachment_id: str, variant: str) -> bytes | None: ...

    async def delete(self, cid: str, attachment_id: str) -> None: ...

    async def delete_conversation(self, cid: str) -> bool:
        """Delete every file of the conversation; True if there were any."""
        ...

    async def conversations(self) -> list[str]:
        """The conversations that have files here (for retention)."""
        ...


def _check(*ids: str) -> None:
    for ident in ids:
        if not ID_RE.fullmatch(ident):
            raise ValueError(f"not an id: {ident[:40]!r}")


class LocalAttachmentFiles:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, cid: str, attachment_id: str, variant: str) -> Path:
        _check(cid, attachment_id)
        if variant not in VARIANTS:
            raise ValueError(f"no variant {variant!r}")
        return self.root / cid / (attachment_id + (f".{variant}" if variant else ""))

    async def put(self, cid: str, attachment_id: str, variant: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(cid, attachment_id, variant), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        private_mkdir(path.parent)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def read(self, cid: str, attachment_id: str, variant: str) -> bytes | None:
        path = self._path(cid, attachment_id, variant)

        def read() -> bytes | None:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except (FileNotFoundError, NotADirectoryError):
                return None
            with os.fdopen(fd, "rb") as f:
                return f.read()

        return await asyncio.to_thread(read)

    async def delete(self, cid: str, attachment_id: str) -> None:
        for variant in VARIANTS:
            await asyncio.to_thread(self._path(cid, attachment_id, variant).unlink, missing_ok=True)

    async def delete_conversation(self, cid: str) -> bool:
        _check(cid)
        path = self.root / cid
        if not path.is_dir() or path.is_symlink():
            return False
        await asyncio.to_thread(shutil.rmtree, path)
        return True

    async def conversations(self) -> list[str]:
        def listing() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(
                p.name for p in self.root.iterdir() if p.is_dir() and not p.is_symlink() and ID_RE.fullmatch(p.name)
            )

        return await asyncio.to_thread(listing)
