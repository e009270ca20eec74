"""A customer's data on request, on a real node and Redis (gateway/ops/erasure.py): an admin exports everything kept
about one customer (and nothing of another), then erases it: their open conversation is closed first (its agent's desk
lets it go), every key, file, event log entry and undelivered webhook post of theirs goes, their open widget closes
and comes back as a new customer, and another customer is untouched. Only admins may; a customer on a call is refused.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.ops.erasure import Erasure
from gateway.ops.retention import Retention
from gateway.store.event_log_store import EventLogStore
from gateway.store.queue_store import QueueStore
from gateway.wire.site_tokens import sign as site_token
from tests.conftest import PASSWORDS, Clients, bounded
from tests.integration.test_attachments import upload
from tests.integration.test_event_webhooks import api, conforms, login, subscribe
from tests.support.caller import in_ivr
from tests.support.clients import Customer
from tests.support.files import image
from tests.support.servers import Node, free_port, start_node

ADMIN, ADMIN_PASSWORD = "dana", "dana-secret-4444"
SITE_SECRET = "shop-site-secret-0123456789abcdef"
SECRET_WORD = "zebracrossing"  # in the erased customer's message: the search index must forget it


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    agents = tmp_path / "agents.toml"
    add_agent(agents, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    add_agent(agents, ADMIN, "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "admin"))
    # webhooks to a loopback port nobody listens on: their posts wait in the outboxes
    return replace(settings, agents_file=agents, webhook_allow=("127.0.0.1",), webhook_max_backoff_seconds=60)


async def redis_keys(node: Node) -> set[str]:
    return {k.decode() async for k in node.services.store.redis.scan_iter(match="cg:*")}


async def until(what: str, check: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_an_admin_exports_then_erases_one_customer_and_nothing_of_another(clients: Clients, node: Node) -> None:
    s = node.services
    admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
    sub_id = await subscribe(node, f"http://127.0.0.1:{free_port()}/hook")
    alice = clients.agent("alice")
    await alice.hello()

    jane, other = clients.customer(), clients.customer()
    await jane.hello(context={"page": "https://shop.example/orders"})
    await other.hello()
    first = (await jane.say(f"my card was charged twice, {SECRET_WORD}"))["conversation_id"]
    assert (await alice.assigned())["id"] == first
    await alice.say(first, "Sorry about that, refunded.")
    await alice.say(first, "refund 4711 issued", note=True)
    await alice.send({"type": "close", "conversation_id": first, "disposition": "resolved"})
    await jane.event("closed")
    await jane.send({"type": "rating", "conversation_id": first, "score": 2, "comment": "slow, Jane D."})
    await jane.event("rating")
    second = (await jane.say("one more thing"))["conversation_id"]
    assert second != first and (await alice.assigned())["id"] == second
    status, uploaded, _ = await upload(node, jane.token or "", image(), "receipt.png")
    assert status == 200 and uploaded["conversation_id"] == second, uploaded
    recording = s.settings.data_dir / "recordings" / first / "call-1.ogg"  # as a recorded call leaves it
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"OggS")
    kept = (await other.say(f"a question of my own, {SECRET_WORD}"))["conversation_id"]
    outbox = s.keys.webhook_outbox(sub_id, second)
    await until("the webhook posts of jane's chat wait in their outbox", lambda: s.store.redis.llen(outbox))
    hers = {s.keys.conv(first), s.keys.conv(second), s.keys.customer(jane.customer_id), outbox}
    assert hers <= await redis_keys(node)

    # only admins
    for who in ("alice", "carol"):
        token = await login(node.url, who, PASSWORDS[who])
        status, refused = await api(node, "GET", f"/api/admin/customers/{jane.customer_id}", token)
        assert (status, refused["code"]) == (403, "forbidden"), refused
        status, refused = await api(node, "DELETE", f"/api/admin/customers/{jane.customer_id}", token)
        assert status == 403
    assert hers <= await redis_keys(node)  # nothing was erased

    # the export: both of jane's conversations whole, her attachment, nothing of the other customer's
    status, export = await api(node, "GET", f"/api/admin/customers/{jane.customer_id}", admin)
    assert status == 200, export
    await conforms(node, "GET", "/api/admin/customers/{customer_id}", 200, export)
    assert [c["conversation"]["id"] for c in export["conversations"]] == [second, first]  # newest first
    texts = [e.get("text") for c in export["conversations"] for e in c["events"]]
    assert f"my card was charged twice, {SECRET_WORD}" in texts and "refund 4711 issued" in texts  # the note too
    assert export["conversations"][1]["conversation"]["context"]["context.page"] == "https://shop.example/orders"
    assert export["conversations"][1]["conversation"]["rating"]["comment"] == "slow, Jane D."
    assert [(a["conversation_id"], a["name"]) for a in export["attachments"]] == [(second, "receipt.png")]
    assert kept not in str(export) and "a question of my own" not in str(export)

    # the erasure, while jane's widget is open and her second chat is alice's
    status, report = await api(node, "DELETE", f"/api/admin/customers/{jane.customer_id}", admin)
    assert status == 200, report
    await conforms(node, "DELETE", "/api/admin/customers/{customer_id}", 200, report)
    assert {k: report[k] for k in ("conversations", "closed", "attachments", "recordings")} == {
        "conversations": 2,
        "closed": 1,
        "attachments": 1,
        "recordings": 1,
    }
    assert report["event_log_entries"] > 0 and report["webhook_payloads"] > 0
    unassigned = await alice.expect("unassigned", lambda f: f["conversation_id"] == second)
    assert unassigned["conversation_id"] == second

    # nothing of jane is left but the mark that refuses her old token (and the list other nodes' recordings read)
    left = {k for k in await redis_keys(node) if jane.customer_id in k or first in k or second in k}
    assert left == {s.keys.customer_erased(jane.customer_id)}
    assert set(await s.store.redis.zrange(s.keys.erased_convs, 0, -1)) == {first.encode(), second.encode()}
    logged = await EventLogStore.of(s.store).range()
    assert {e.cid for e in logged} & {first, second} == set() and kept in {e.cid for e in logged}
    assert not recording.parent.exists() and not (s.settings.data_dir / "attachments" / second).exists()
    assert await s.store.redis.zrange(s.keys.word(SECRET_WORD), 0, -1) == [kept.encode()]
    status, found = await api(node, "GET", f"/api/conversations?q={SECRET_WORD}", admin)
    assert [c["id"] for c in found["conversations"]] == [kept]
    for cid in (first, second):
        assert (await api(node, "GET", f"/api/conversations/{cid}", admin))[0] == 404

    # what the webhook fan-out read before the erasure copies nothing of hers afterwards
    await asyncio.sleep(1.0)
    assert not [k for k in await redis_keys(node) if first in k or second in k]
    # another node with its own data directory deletes its recordings of her conversations at its next pass, whatever
    # their age and with retention off
    elsewhere = s.settings.data_dir / "other-node-recordings"
    for cid in (first, kept):
        (elsewhere / cid).mkdir(parents=True)
        (elsewhere / cid / "call-1.ogg").write_bytes(b"OggS")
    swept = await Retention(s.store, retention_days=0, recordings=elsewhere).run_once()
    assert swept.recordings == [first] and (elsewhere / kept).is_dir()
    # her old token is refused on the upload route too
    status, refused, _ = await upload(node, jane.token or "", image(), "again.png")
    assert (status, refused["code"]) == (401, "unauthorized"), refused

    # her open widget was closed; coming back with its old token, the browser is a new customer with nothing
    assert jane.ws is not None
    while (msg := await jane.ws.receive(timeout=5)).type == aiohttp.WSMsgType.TEXT:  # what was on its way
        pass
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1012)  # "restarting": the widget reconnects at once
    old_id = jane.customer_id
    welcome = await jane.hello()
    assert welcome["customer_id"] != old_id and welcome["conversation"] is None and welcome["events"] == []

    # the other customer is untouched
    assert (await other.say("still here?"))["conversation_id"] == kept
    status, theirs = await api(node, "GET", f"/api/admin/customers/{other.customer_id}", admin)
    assert status == 200 and [c["conversation"]["id"] for c in theirs["conversations"]] == [kept]

    # audited; and a second time there is nothing to erase
    status, audit = await api(node, "GET", "/api/admin/audit", admin)
    erased = next(e for e in audit["entries"] if e["action"] == "customer.erase")
    assert (erased["actor"], erased["target"], erased["after"]["conversations"]) == (
        ADMIN,
        f"customer:{old_id}",
        2,
    )
    for method in ("GET", "DELETE"):
        status, missing = await api(node, method, f"/api/admin/customers/{old_id}", admin)
        assert (status, missing["code"], missing["field"]) == (404, "not_found", "customer_id")
    status, bad = await api(node, "GET", "/api/admin/customers/..%2Fetc", admin)
    assert status in (400, 404)
    status, bad = await api(node, "GET", "/api/admin/customers/" + "x" * 65, admin)
    assert (status, bad["code"], bad["field"]) == (400, "bad_field", "customer_id")


async def test_a_site_user_is_found_by_the_site_and_its_id(node: Node, settings: Settings) -> None:
    admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
    status, body = await api(node, "GET", "/api/admin/customers?subject=user-1", admin)
    assert (status, body["field"]) == (400, "site"), body  # this node has no site keys
    assert "no site key" in body["message"]
    status, body = await api(node, "GET", "/api/admin/customers?site=x", admin)
    assert (status, body["field"]) == (400, "subject")
    shop = await start_node(replace(settings, site_keys=(("shop", SITE_SECRET),), node_id="with-site-keys"))
    try:
        verified = Customer(shop.url)
        token = site_token({"sub": "user-42", "name": "Ann", "exp": int(time.time()) + 600}, SITE_SECRET, kid="shop")
        await verified.hello(customer_token=token)
        await verified.say("hello as a logged-in user")
        admin = await login(shop.url, ADMIN, ADMIN_PASSWORD)
        status, found = await api(shop, "GET", "/api/admin/customers?subject=user-42", admin)  # one key: optional
        assert (status, found) == (200, {"customer_id": verified.customer_id, "site": "shop"}), found
        await conforms(shop, "GET", "/api/admin/customers", 200, found)
        status, refused = await api(shop, "GET", "/api/admin/customers?site=blog&subject=user-42", admin)
        assert (status, refused["field"]) == (400, "site") and "key ids: shop" in refused["message"]
        # erased, the site's user comes back under the same id, afresh, and their new tokens work
        assert (await api(shop, "DELETE", f"/api/admin/customers/{verified.customer_id}", admin))[0] == 200
        await verified.close()
        again = Customer(shop.url)
        welcome = await again.hello(customer_token=token)
        assert welcome["customer_id"] == verified.customer_id and welcome["conversation"] is None
        status, uploaded, _ = await upload(shop, again.token or "", image(), "new.png")
        assert status == 200, uploaded
        await again.close()
    finally:
        await bounded(shop.stop(), "stopping the node with site keys")


async def test_a_waiting_chat_is_closed_then_erased_and_leaves_its_queue(clients: Clients, node: Node) -> None:
    admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
    customer = clients.customer()  # no agent is available: the chat waits in its queue
    await customer.hello()
    cid = (await customer.say("anyone there?"))["conversation_id"]
    conv = await node.services.store.conversation(cid) or {}
    assert conv["state"] == "queued"
    s = node.services
    # it waits in a named queue (as a flow or an overflow puts it): the routing queue holds it all the same
    now = int(time.time() * 1000)
    moved = await QueueStore(s.store).move(
        cid, s.router.queue, from_queue="default", to_queue="billing", skills="", priority=0, now=now, reason="t"
    )
    assert moved == "ok"
    assert await s.router.waiting(10) == [cid]
    status, report = await api(node, "DELETE", f"/api/admin/customers/{customer.customer_id}", admin)
    assert (status, report["conversations"], report["closed"]) == (200, 1, 1), report
    assert await s.router.waiting(10) == []  # it stayed there, erased, when closed from its queue's name's key


async def test_an_erasure_that_failed_half_way_is_finished_by_the_next(
    clients: Clients, node: Node, tmp_path: Path
) -> None:
    """A disk error after the conversation was deleted (its attachments not yet): the next erasure still knows the
    customer (their journal) and deletes what was left."""
    s = node.services
    admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
    customer = clients.customer()
    await customer.hello()
    status, uploaded, _ = await upload(node, customer.token or "", image(), "id-card.png")
    cid = uploaded["conversation_id"]
    files = s.settings.data_dir / "attachments" / cid
    assert files.is_dir()
    broken = Erasure(
        s.store,
        s.conversations,
        s.callbacks,
        s.calls,
        s.retention,
        BrokenDisk(),
        recordings=s.settings.data_dir / "recordings",
        customer_token_days=90,
    )
    with pytest.raises(OSError, match="disk"):
        await broken.erase(customer.customer_id)
    assert await s.store.conversation(cid) is None and files.is_dir()  # half done
    status, report = await api(node, "DELETE", f"/api/admin/customers/{customer.customer_id}", admin)
    assert status == 200, report
    assert not files.exists()
    assert not [k for k in await redis_keys(node) if customer.customer_id in k and not k.endswith(":erased")]


async def test_a_conversation_whose_hash_is_gone_leaves_the_list_and_the_erasure_ends(
    clients: Clients, node: Node
) -> None:
    """A customer's list naming a conversation whose hash went some other way (a restored backup, a key deleted by
    hand): the erasure drops it from the list and ends (it answered "kept opening conversations" for ever)."""
    s = node.services
    admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
    customer = clients.customer()
    await customer.hello()
    cid = (await customer.say("hello"))["conversation_id"]
    await s.store.redis.delete(s.keys.conv(cid))
    status, report = await api(node, "DELETE", f"/api/admin/customers/{customer.customer_id}", admin)
    assert (status, report["conversations"]) == (200, 0), report
    assert not await s.store.redis.exists(s.keys.customer_convs(customer.customer_id))


class BrokenDisk:
    """Attachment files on a disk that fails (OSError, as a full or read-only disk would)."""

    async def delete_conversation(self, cid: str) -> bool:
        raise OSError(f"disk failed deleting {cid}")


async def test_a_customer_on_a_call_is_not_erased_until_it_ends(clients: Clients, node: Node) -> None:
    admin = await login(node.url, ADMIN, ADMIN_PASSWORD)
    customer = clients.customer()
    async with in_ivr(customer) as caller:
        status, refused = await api(node, "DELETE", f"/api/admin/customers/{customer.customer_id}", admin)
        assert (status, refused["code"], refused["field"]) == (409, "call_in_progress", "customer_id"), refused
        await conforms(node, "DELETE", "/api/admin/customers/{customer_id}", 409, refused)
        assert await node.services.store.conversation(caller.conversation_id) is not None  # nothing was erased
        assert not await node.services.store.redis.exists(node.services.keys.customer_erased(customer.customer_id))
        await caller.hangup()
        await caller.status("ended")
    for _ in range(50):  # the call leaves the registry as it ends (its 'ended' may reach the caller first)
        status, report = await api(node, "DELETE", f"/api/admin/customers/{customer.customer_id}", admin)
        if status != 409:
            break
        await asyncio.sleep(0.1)
    assert (status, report["conversations"]) == (200, 1), report
