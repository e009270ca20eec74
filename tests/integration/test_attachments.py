"""Attachments on a real node and Redis: both ways, live and in the history, downloads for the conversation's
parties only with safe headers, types read from the content, names cleaned, limits, exactly-once, retention."""

from __future__ import annotations

import itertools
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp

from gateway.config import Settings
from gateway.ops.retention import Retention
from tests.conftest import Clients, bounded
from tests.support.clients import Agent, Customer
from tests.support.files import EXE, FAKE_PNG, HTML, image, pdf
from tests.support.servers import Node, start_node

_ids = itertools.count(1)
DAY = 86400.0


async def upload(
    node: Node, token: str, data: bytes, name: str, *, client_id: str | None = None, conversation_id: str = ""
) -> tuple[int, dict[str, Any], Any]:
    params = {"name": name, "client_id": client_id or f"f-{next(_ids)}"}
    if conversation_id:
        params["conversation_id"] = conversation_id
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/png"}  # the client's word: ignored
    async with (
        aiohttp.ClientSession() as http,
        http.post(node.url + "/api/attachments", params=params, data=data, headers=headers) as r,
    ):
        return r.status, await r.json(), r.headers


async def download(node: Node, token: str, path: str) -> tuple[int, bytes, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(node.url + path, headers=headers) as r:
        return r.status, await r.read(), r.headers


async def chatting(clients: Clients) -> tuple[Customer, Agent, str]:
    """A customer who wrote, and alice, who has the conversation."""
    alice = clients.agent("alice")
    await alice.hello()
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("Here is a photo of the broken part"))["conversation_id"]
    assert (await alice.assigned())["id"] == cid
    return cust, alice, cid


def url(event: dict[str, Any], suffix: str = "") -> str:
    return f"/api/attachments/{event['conversation_id']}/{event['attachment_id']}{suffix}"


async def test_attachments_both_ways_live_in_history_and_downloaded_by_both_parties(
    clients: Clients, node: Node
) -> None:
    cust, alice, cid = await chatting(clients)
    photo = image("jpeg", 800, 600)
    status, body, headers = await upload(node, cust.token, photo, "broken part.jpeg", client_id="f-photo")
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "*"  # the widget uploads from the shop's origin
    assert (body["conversation_id"], body["duplicate"]) == (cid, False)
    expected = {
        "type": "attachment",
        "author": "customer",
        "name": "broken part.jpeg",
        "media_type": "image/jpeg",
        "size": len(photo),
        "width": 800,
        "height": 600,
        "client_id": "f-photo",
    }
    seen_by_agent = await alice.event("attachment")
    seen_by_customer = await cust.event("attachment")
    for event in (seen_by_agent, seen_by_customer):
        assert {k: event.get(k) for k in expected} == expected
        assert event["id"] == body["event_id"] and event["attachment_id"].startswith("a_")

    for token in (cust.token, alice.token):
        status, data, h = await download(node, token, url(seen_by_customer))
        assert (status, data) == (200, photo)
        assert h["Content-Type"] == "image/jpeg"
        assert h["Content-Disposition"].startswith('inline; filename="broken part.jpeg"')
        assert h["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in h["Content-Security-Policy"] and "sandbox" in h["Content-Security-Policy"]
        assert h["Cache-Control"] == "private, no-store"
        status, thumb, h = await download(node, token, url(seen_by_customer, "/thumbnail"))
        assert status == 200 and h["Content-Type"] == "image/jpeg" and thumb.startswith(b"\xff\xd8\xff")
        assert 0 < len(thumb) < len(photo)

    # the agent sends a PDF: the customer sees it live and downloads it as a download
    invoice = pdf()
    status, body, _ = await upload(node, alice.token, invoice, "invoice.pdf", conversation_id=cid)
    assert status == 200, body
    event = await cust.event("attachment", lambda e: e["author"] == "agent")
    assert (event["name"], event["media_type"], event["size"], event.get("width")) == (
        "invoice.pdf",
        "application/pdf",
        len(invoice),
        None,
    )
    assert "agent_id" not in event and event["agent_name"] == "Alice Smith"
    status, data, h = await download(node, cust.token, url(event))
    assert (status, data, h["Content-Type"]) == (200, invoice, "application/pdf")
    assert h["Content-Disposition"].startswith('attachment; filename="invoice.pdf"')
    status, _, _ = await download(node, cust.token, url(event, "/thumbnail"))  # a PDF has none
    assert status == 404

    # both are in the history: the customer's (on reconnect) and the desk's
    again = clients.customer(cust.token)
    welcome = await again.hello()
    assert [e["name"] for e in welcome["events"] if e["type"] == "attachment"] == ["broken part.jpeg", "invoice.pdf"]
    status, data, _ = await download(node, alice.token, f"/api/conversations/{cid}")
    assert status == 200


async def test_files_that_lie_about_their_type_are_refused_and_nothing_is_kept(clients: Clients, node: Node) -> None:
    cust, alice, cid = await chatting(clients)
    said = []
    for data, name in (
        (HTML, "cat.png"),
        (EXE, "invoice.pdf"),
        (HTML, "fake.PDF"),
        (HTML, "notes.docx"),
        (FAKE_PNG, "photo.png"),
        (b"GIF89a" + HTML, "a.gif"),
    ):
        status, body, _ = await upload(node, cust.token, data, name)
        assert status == 400 and body["field"] == "file", (name, body)
        said.append(body["message"])
    # a name that claims a type the content is not: the content is wrong, not the kind of file
    assert said == [
        "the file is not a valid PNG image (its content is something else)",
        "the file is not a valid PDF (its content is something else)",
        "the file is not a valid PDF (its content is something else)",
        "only images (PNG, JPEG, WebP, GIF) and PDF files can be sent",
        "the file is not a valid PNG image",
        # not "8508x28516 pixels, over the limit" (the GIF screen size field read from "<!do")
        "the file is not a valid GIF image (its content after the GIF header is something else)",
    ]
    status, body, _ = await upload(node, alice.token, EXE, "tool.jpg", conversation_id=cid)
    assert status == 400 and body["field"] == "file"
    await cust.say("still here")
    history = await node.services.conversations.history(cid, for_customer=False)
    assert not [e for e in history if e["type"] == "attachment"]
    files = node.services.settings.data_dir / "attachments"
    assert not files.exists() or not any(files.rglob("*"))

    # an image that really is one, under a name that says otherwise: kept as what it is
    status, body, _ = await upload(node, cust.token, image("png"), "report.pdf")
    assert status == 200
    event = await alice.event("attachment")
    assert (event["name"], event["media_type"]) == ("report.png", "image/png")


async def test_file_names_are_shown_cleaned_and_never_used_as_paths(clients: Clients, node: Node) -> None:
    cust, alice, cid = await chatting(clients)
    status, body, _ = await upload(node, cust.token, image(), "a\x00.png")  # control characters: refused at the edge
    assert (status, body["field"]) == (400, "name")
    junk = "../../etc/passwd\\..\\boot.ini \u202egpj.exe\ufeff\u200b.png"
    status, body, _ = await upload(node, cust.token, image("gif"), junk)
    assert status == 200, body
    event = await alice.event("attachment")
    assert event["name"] == "boot.ini gpj.exe.gif"  # no path, no control or bidi characters, its real extension
    root = node.services.settings.data_dir / "attachments"
    kept = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    aid = event["attachment_id"]
    assert kept == [f"{cid}/{aid}", f"{cid}/{aid}.meta", f"{cid}/{aid}.thumb"]
    for path in root.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    status, _, h = await download(node, alice.token, url(event))
    assert (status, h["Content-Disposition"]) == (
        200,
        "inline; filename=\"boot.ini gpj.exe.gif\"; filename*=UTF-8''boot.ini%20gpj.exe.gif",
    )
    for name in ("", "/", "."):
        status, body, _ = await upload(node, cust.token, image(), name)
        assert status in (200, 400), body
        if status == 200:
            assert (await alice.event("attachment"))["name"] == "file.png"


async def test_only_the_conversations_parties_download_and_strangers_learn_nothing(
    clients: Clients, node: Node
) -> None:
    cust, alice, cid = await chatting(clients)
    await upload(node, cust.token, image(), "mine.png")
    event = await alice.event("attachment")
    other = clients.customer()
    await other.hello()
    await other.say("I am someone else")
    refused = await download(node, other.token, url(event))
    missing = await download(node, other.token, f"/api/attachments/{cid}/a_000000000000000000000000")
    elsewhere = await download(node, other.token, f"/api/attachments/c_0000000000000000/{event['attachment_id']}")
    assert refused[0] == missing[0] == elsewhere[0] == 404
    assert refused[1] == missing[1] == elsewhere[1]  # the same answer: nothing says the file exists
    status, _, _ = await download(node, other.token, url(event, "/thumbnail"))
    assert status == 404
    for token in ("", "not-a-token", cust.token[:-2] + "xx"):
        status, _, _ = await download(node, token, url(event))
        assert status == 401
    # an agent may only upload into a conversation of theirs
    bob = clients.agent("bob")
    await bob.login()
    status, body, _ = await upload(node, bob.token, image(), "x.png", conversation_id=cid)
    assert status == 403, body
    # a customer uploads only into their own conversation: another's id is ignored, theirs is used
    status, body, _ = await upload(node, other.token, image(), "x.png", conversation_id=cid)
    assert status == 200 and body["conversation_id"] != cid


async def test_a_resent_upload_is_stored_once(clients: Clients, node: Node) -> None:
    cust, alice, cid = await chatting(clients)
    first = await upload(node, cust.token, image(), "a.png", client_id="f-same")
    second = await upload(node, cust.token, image(), "a.png", client_id="f-same")
    assert first[0] == second[0] == 200
    assert second[1] == {**first[1], "duplicate": True}
    agent_first = await upload(node, alice.token, pdf(), "b.pdf", client_id="f-agent", conversation_id=cid)
    agent_again = await upload(node, alice.token, pdf(), "b.pdf", client_id="f-agent", conversation_id=cid)
    assert agent_again[1] == {**agent_first[1], "duplicate": True}
    history = await node.services.conversations.history(cid, for_customer=False)
    assert [e["name"] for e in history if e["type"] == "attachment"] == ["a.png", "b.pdf"]
    root = node.services.settings.data_dir / "attachments" / cid
    assert len([p for p in root.iterdir() if "." not in p.name]) == 2


@asynccontextmanager
async def node_with(settings: Settings, **changes: Any) -> AsyncIterator[tuple[Node, Clients]]:
    node = await start_node(replace(settings, **changes))
    clients = Clients(node.url)
    try:
        yield node, clients
    finally:
        await bounded(clients.close(), "closing the test clients")
        await bounded(node.stop(), "stopping the gateway node")


async def test_size_count_and_rate_limits(settings: Settings) -> None:
    limits = {"attachment_max_mb": 0.01, "attachments_per_conversation": 2, "limit_attachments_per_hour": 3}
    async with node_with(settings, **limits) as (node, clients):
        cust, alice, cid = await chatting(clients)
        big = image("gif", 200, 200)
        assert len(big) > 10_000
        status, body, _ = await upload(node, cust.token, big, "big.png")
        assert (status, body["code"], body["field"]) == (400, "frame_too_large", "file")
        for n in (1, 2):
            status, body, _ = await upload(node, alice.token, image(), f"{n}.png", conversation_id=cid)
            assert status == 200, body
        status, body, _ = await upload(node, cust.token, image(), "3.png")
        assert status == 409 and "2 attachments" in body["message"]
        status, body, headers = await upload(node, cust.token, image(), "4.png")  # the 3rd upload of the hour
        assert status == 409
        status, body, headers = await upload(node, cust.token, image(), "5.png")  # the 4th: over the rate
        assert (status, body["code"]) == (429, "rate_limited") and int(headers["Retry-After"]) > 0
        history = await node.services.conversations.history(cid, for_customer=False)
        assert [e["name"] for e in history if e["type"] == "attachment"] == ["1.png", "2.png"]


async def test_retention_deletes_the_attachments_with_their_conversation(clients: Clients, node: Node) -> None:
    s = node.services
    cust, alice, cid = await chatting(clients)
    await upload(node, cust.token, image(), "a.png")
    await upload(node, alice.token, pdf(), "b.pdf", conversation_id=cid)
    await alice.send({"type": "close", "conversation_id": cid, "disposition": "resolved"})
    await alice.expect("unassigned", lambda f: f["conversation_id"] == cid)
    kept = clients.customer()
    await kept.hello()
    kept_cid = (await kept.say("an open one"))["conversation_id"]
    await upload(node, kept.token, image(), "kept.png")
    root = s.settings.data_dir / "attachments"
    assert (root / cid).is_dir() and (root / kept_cid).is_dir()
    closed_at = int((await s.store.conversation(cid) or {})["updated_at"])
    retention = Retention(
        s.store,
        retention_days=30,
        recordings=s.settings.data_dir / "recordings",
        attachments=s.attachments.files,
        clock=lambda: (closed_at + 1) / 1000 + 30 * DAY,
    )
    report = await retention.run_once()
    assert report.conversations == [cid] and report.attachments == [cid]
    assert not (root / cid).exists() and (root / kept_cid).is_dir()
    status, _, _ = await download(node, alice.token, f"/api/attachments/{cid}/x")
    assert status == 404
