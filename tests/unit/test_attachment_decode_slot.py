"""One image is decoded at a time per node (gateway/contact/attachments.py), and the slot belongs to the decode,
not to the request: an upload whose client went away mid-decode leaves its thread decoding, so the next image waits
for that thread (it used to start beside it, and 40 cancelled uploads could decode at once)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.contact.attachments import Attachments
from tests.support.files import image


def attachments() -> Attachments:
    conversations: Any = SimpleNamespace(store=None)  # check() reads neither
    return Attachments(conversations, None, max_bytes=50_000_000, per_conversation=10)  # type: ignore[arg-type]


async def test_a_cancelled_upload_keeps_the_decode_slot_until_its_thread_is_done() -> None:
    a = attachments()
    big = image("png", 4000, 3000)  # 12 megapixels: its decode takes a while
    upload = asyncio.create_task(a.check("big.png", big))
    while not a.decoding:
        await asyncio.sleep(0)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert a.decoding  # its thread still decodes: the slot is still taken
    small = asyncio.create_task(a.check("small.png", image()))
    await asyncio.sleep(0.01)
    assert not small.done()  # waits for the cancelled upload's decode
    checked = await asyncio.wait_for(small, 30)
    assert (checked.width, checked.height) == (64, 48)
    assert not a.decoding


async def test_a_file_that_does_not_decode_frees_the_slot() -> None:
    a = attachments()
    with pytest.raises(Exception, match="not a valid PNG image"):
        await a.check("broken.png", image()[:40])
    assert not a.decoding
    assert (await a.check("fine.png", image())).width == 64
