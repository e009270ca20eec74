"""What the customer's browser says is never proof: context.* cannot buy priority; a site's signed token can."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config import Settings
from gateway.wire.site_tokens import sign
from tests.conftest import Clients, bounded
from tests.support.servers import Node, start_node

SITE_SECRET = "shop-secret-0123456789abcdef0123456789"

VIP_FLOW = """\
start: route
nodes:
  route:
    type: branch
    cases:
      - when: {var: verified.tier, in: [gold]}    # what the site's backend signed
        next: vip
      - when: {var: tier, in: [gold]}             # a flow variable: only the flow or its CRM sets it
        next: vip
    else: normal
  vip: {type: queue, queue: support, priority: 10, prompt: "Connecting you, valued customer."}
  normal: {type: queue, queue: support, prompt: "Connecting you."}
"""


@pytest.fixture
async def vip_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "vip.yaml").write_text(VIP_FLOW, encoding="utf-8")
    node = await start_node(
        replace(settings, flows_dir=flows, voice_flow="vip", chat_flow="vip", site_keys=(("shop", SITE_SECRET),))
    )
    yield node
    await bounded(node.stop(), "stopping the node")


@pytest.fixture
async def vip_clients(vip_node: Node) -> AsyncIterator[Clients]:
    made = Clients(vip_node.url)
    yield made
    await bounded(made.close(), "closing the test clients")


async def queued(node: Node, cid: str) -> dict[str, str]:
    """The conversation once the flow has handed it to routing."""
    for _ in range(100):
        conv = await node.services.store.conversation(cid)
        if conv is not None and conv["state"] == "queued":
            return conv
        await asyncio.sleep(0.05)
    raise AssertionError(f"{cid} was never queued: {conv}")


def customer_token(**claims: object) -> str:
    return sign({"sub": "crm-4711", "name": "Ann", "exp": int(time.time()) + 600, **claims}, SITE_SECRET, kid="shop")


async def test_a_customer_claiming_gold_in_the_page_context_gets_no_priority(
    vip_clients: Clients, vip_node: Node
) -> None:
    cust = vip_clients.customer()
    await cust.hello(context={"tier": "gold", "page": "https://shop.example/"})
    ack = await cust.say("I am very important")
    await cust.event("message", lambda e: e["author"] == "bot" and e["text"] == "Connecting you.")
    conv = await queued(vip_node, ack["conversation_id"])
    assert conv.get("priority", "0") == "0"
    context = await vip_node.services.store.context(ack["conversation_id"])
    assert context == {"context.tier": "gold", "context.page": "https://shop.example/"}


async def test_a_customer_the_site_signed_as_gold_gets_priority_and_the_same_conversation_on_another_device(
    vip_clients: Clients, vip_node: Node
) -> None:
    token = customer_token(tier="gold")
    phone = vip_clients.customer()
    welcome = await phone.hello(customer_token=token, context={"page": "https://shop.example/account"})
    assert welcome["customer_id"].startswith("v_")
    ack = await phone.say("hello from my phone")
    await phone.event("message", lambda e: e["author"] == "bot" and "valued customer" in e["text"])
    conv = await queued(vip_node, ack["conversation_id"])
    assert conv["priority"] == "10"
    context = await vip_node.services.store.context(ack["conversation_id"])
    assert {k: v for k, v in context.items() if k.startswith("verified.")} == {
        "verified.sub": "crm-4711",
        "verified.name": "Ann",
        "verified.tier": "gold",
    }

    after_logout = vip_clients.customer(token=welcome["token"])  # our token, but the page no longer vouches
    stranger = await after_logout.hello()
    assert stranger["customer_id"].startswith("u_") and stranger["conversation"] is None and stranger["events"] == []

    laptop = vip_clients.customer()  # no stored customer token: the site's token alone says who it is
    again = await laptop.hello(customer_token=customer_token(tier="gold"))
    assert again["customer_id"] == welcome["customer_id"]
    assert again["conversation"]["id"] == ack["conversation_id"]
    assert any(e["type"] == "message" and e.get("text") == "hello from my phone" for e in again["events"])


async def test_a_bad_site_token_is_reported_and_the_customer_chats_on_unverified(
    vip_clients: Clients, vip_node: Node
) -> None:
    forged = sign(
        {"sub": "crm-1", "tier": "gold", "exp": int(time.time()) + 600}, "not-the-site-secret-" * 2, kid="shop"
    )
    cust = vip_clients.customer()
    welcome = await cust.hello(customer_token=forged)
    assert welcome["customer_id"].startswith("u_")
    error = await cust.expect("error")
    assert (error["code"], error["field"]) == ("customer_token_invalid", "customer_token")
    assert "signature is invalid" in error["message"]
    ack = await cust.say("still here")
    await cust.event("message", lambda e: e["author"] == "bot" and e["text"] == "Connecting you.")
    conv = await queued(vip_node, ack["conversation_id"])
    assert conv.get("priority", "0") == "0"


async def test_context_keys_must_be_plain_names(vip_clients: Clients) -> None:
    cust = vip_clients.customer()
    await cust.connect()
    await cust.send({"type": "hello", "token": None, "context": {"Tier.gold": "x"}})
    error = await cust.expect("error")
    assert (error["code"], error["field"]) == ("bad_field", "context")


async def test_a_verified_customer_still_connects_to_a_full_conversation_and_our_token_ends_with_the_sites(
    settings: Settings,
) -> None:
    node = await start_node(
        replace(
            settings, site_keys=(("shop", SITE_SECRET),), max_timeline_events=100, limit_messages_per_minute=100_000
        )
    )
    clients = Clients(node.url)
    try:
        expires = int(time.time()) + 600
        phone = clients.customer()
        welcome = await phone.hello(
            customer_token=sign({"sub": "u1", "name": "Ann", "exp": expires}, SITE_SECRET, kid="shop")
        )
        ours = node.services.signer.verify(welcome["token"], "customer", now=time.time())
        assert ours.exp <= expires  # not 90 days: once the site stops vouching, this device is nobody
        for n in range(200):
            await phone.send({"type": "message", "client_id": f"m{n}", "text": "x"})
            answer = await phone.expect(("ack", "error"), lambda f, n=n: f.get("client_id") == f"m{n}")
            if answer["type"] == "error":
                assert answer["code"] == "timeline_full"
                break
        else:
            raise AssertionError("the timeline cap never applied")
        laptop = clients.customer()  # the site now signs a new name: it cannot be recorded, the customer connects
        again = await laptop.hello(
            customer_token=sign({"sub": "u1", "name": "Ann B", "exp": expires}, SITE_SECRET, kid="shop")
        )
        assert again["customer_id"] == welcome["customer_id"]
        await laptop.send({"type": "message", "client_id": "late", "text": "still there?"})
        refused = await laptop.expect("error", lambda f: f.get("client_id") == "late")
        assert refused["code"] == "timeline_full"  # an answer, not 'internal' and a closed socket
    finally:
        await bounded(clients.close(), "closing the clients")
        await bounded(node.stop(), "stopping the node")
