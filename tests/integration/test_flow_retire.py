"""Retiring a flow nothing needs any more, on two real nodes sharing one Redis: refused while it answers new chats
(an admin's choice) or calls (the node's --voice-flow), or while a live flow's goto leads to it; once retired, every
node takes it out of service (a goto or an answer can no longer name it), the list marks it, its versions stay, and
publishing one brings it back. Each step is audited and every answer is what the OpenAPI document says."""

from __future__ import annotations

import asyncio

from gateway.flows.live import Entry
from tests.conftest import PASSWORDS
from tests.integration.test_event_webhooks import conforms
from tests.integration.test_flow_answers import SHOP, two_nodes  # noqa: F401 - the fixture
from tests.integration.test_flow_versions import Admin, _login, _until
from tests.support.servers import Node

HUB = """\
start: menu
nodes:
  menu:
    type: menu
    prompt: "Press 1 for the shop, 2 for its sale."
    choices:
      - {key: 1, label: Shop, next: shop}
      - {key: 2, label: Sale, next: sale}
    fallback: shop
  shop:
    type: goto
    flow: shop
  sale: {type: goto, flow: shop}
"""
#: The lines of hub's two gotos to shop.
GOTO_LINES = [n + 1 for n, line in enumerate(HUB.splitlines()) if "flow: shop" in line]


def listed(flows: dict, name: str) -> dict:
    return next(f for f in flows["flows"] if f["name"] == name)


async def test_an_admin_retires_a_flow_once_nothing_leads_to_it_and_brings_it_back(
    two_nodes: tuple[Node, Node, Admin],  # noqa: F811
) -> None:
    one, two, admin = two_nodes
    shop = await admin.call("POST", "/api/admin/flows/shop/versions", {"yaml": SHOP, "parent": ""}, 201)
    await admin.call("POST", "/api/admin/flows/shop/publish", {"version": shop["id"]})
    hub = await admin.call("POST", "/api/admin/flows/hub/versions", {"yaml": HUB, "parent": ""}, 201)
    await admin.call("POST", "/api/admin/flows/hub/publish", {"version": hub["id"]})
    await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": "shop"})

    # refused while an admin's choice makes it answer chats, while hub's goto leads to it, and for the flow calls
    # start in by the node's setting (--voice-flow default); an unknown flow is not found
    answering = await admin.call("DELETE", "/api/admin/flows/shop", status=409)
    assert answering["code"] == "conflict"
    assert answering["message"] == (
        "'shop' answers new chats (an admin chose it): make another flow answer chats first"
    )
    await conforms(one, "DELETE", "/api/admin/flows/{name}", 409, answering)
    await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": "default"})
    led = await admin.call("DELETE", "/api/admin/flows/shop", status=409)
    assert GOTO_LINES == [12, 13]
    assert led["message"] == "the live flow 'hub' (lines 12, 13) goes to 'shop': publish it without that goto first"
    setting = await admin.call("DELETE", "/api/admin/flows/default", status=409)
    assert setting["message"] == (
        "'default' answers new calls (this node's setting names it): make another flow answer calls first"
    )
    missing = await admin.call("DELETE", "/api/admin/flows/nope", status=404)
    assert missing["code"] == "not_found" and "'nope'" in missing["message"]
    assert {"shop", "hub"} <= set(two.services.flows.snapshot())

    # a queue whose maximum wait runs hub: refused until the queue no longer does
    queues = await admin.call("GET", "/api/admin/queues")
    support = next(q for q in queues["queues"] if q["name"] == "support")
    runs = {**support, "max_wait_seconds": 600, "on_max_wait": {"action": "flow", "target": "hub"}}
    runs = await admin.call("PUT", "/api/admin/queues/support", runs)
    waiting = await admin.call("DELETE", "/api/admin/flows/hub", status=409)
    assert waiting["message"] == "the maximum wait of queue support runs 'hub': change it first"
    await admin.call("PUT", "/api/admin/queues/support", {**runs, "on_max_wait": {"action": "none", "target": ""}})

    # hub first, then shop: out of service on both nodes, marked in the list, versions kept
    gone = await admin.call("DELETE", "/api/admin/flows/hub")
    assert gone == {"name": "hub", "retired": True, "was_live": hub["id"]}
    await conforms(one, "DELETE", "/api/admin/flows/{name}", 200, gone)
    assert (await admin.call("DELETE", "/api/admin/flows/shop"))["was_live"] == shop["id"]
    # again (a retry, another admin's stale console): the version that was live is kept, nothing audited twice
    assert (await admin.call("DELETE", "/api/admin/flows/shop"))["was_live"] == shop["id"]

    async def node_two_retired_them() -> bool:
        return not {"shop", "hub"} & set(two.services.flows.snapshot())

    await _until("node two takes them out of service", node_two_retired_them)
    on_two = await Admin(admin.http, two.url, admin.token).call("GET", "/api/admin/flows")
    assert {k: listed(on_two, "shop")[k] for k in ("live_version", "draft_version", "retired", "was_live")} == {
        "live_version": None,
        "draft_version": shop["id"],
        "retired": True,
        "was_live": shop["id"],
    }
    assert listed(on_two, "default")["retired"] is False
    await conforms(two, "GET", "/api/admin/flows", 200, on_two)
    detail = await admin.call("GET", "/api/admin/flows/shop")
    assert (detail["retired"], detail["was_live"], [v["id"] for v in detail["versions"]]) == (
        True,
        shop["id"],
        [shop["id"]],
    )
    await conforms(one, "GET", "/api/admin/flows/{name}", 200, detail)

    # nothing can lead to it now: it may not answer, and a flow whose goto names it may not be published
    refused = await admin.call("PUT", "/api/admin/flows/answers/chats", {"flow": "shop"}, status=400)
    assert refused["code"] == "flow_not_published"
    assert refused["message"] == "flow 'shop' cannot answer chats: it is retired: publish a version of it first"
    again = await admin.call("POST", "/api/admin/flows/hub/publish", {"version": hub["id"]}, status=400)
    assert "unknown flow 'shop'" in str(again["errors"])

    # `flows push` (or the file watch) of its unchanged text leaves it retired; a changed text would publish it
    pushed = await one.services.flow_versions.save_and_publish("shop", SHOP, author="file", message="push")
    assert pushed == (shop["id"], False)
    assert listed(await admin.call("GET", "/api/admin/flows"), "shop")["retired"] is True

    # publishing a version of it brings it back on every node
    await admin.call("POST", "/api/admin/flows/shop/publish", {"version": shop["id"]})

    async def node_two_has_shop() -> bool:
        return "shop" in two.services.flows.snapshot()

    await _until("node two puts it back in service", node_two_has_shop)
    back = listed(await admin.call("GET", "/api/admin/flows"), "shop")
    assert (back["retired"], back["was_live"], back["live_version"]) == (False, None, shop["id"])
    assert two.services.flows.answering(Entry.CHATS) == "default"

    entries = await one.services.audit.entries(10, target="flow:shop")
    assert [(e["action"], e["before"], e["after"]) for e in entries["entries"]][:2] == [
        ("flow.publish", {"version": None}, {"version": shop["id"]}),
        ("flow.retire", {"version": shop["id"]}, {"retired": True}),
    ]


async def test_a_supervisor_may_not_retire(two_nodes: tuple[Node, Node, Admin]) -> None:  # noqa: F811
    one, _, admin = two_nodes
    carol = Admin(admin.http, one.url, await _login(admin.http, one.url, "carol", PASSWORDS["carol"]))
    refused = await carol.call("DELETE", "/api/admin/flows/default", status=403)
    assert refused["code"] == "forbidden"
    assert "default" in one.services.flows.snapshot()


async def test_a_publish_leading_to_a_flow_and_its_retirement_at_once_never_both_go_through(
    two_nodes: tuple[Node, Node, Admin],  # noqa: F811
) -> None:
    """Each checked the live flows and then changed them: at the same moment on two nodes, hub's publish (a goto to
    shop) and shop's retirement could both pass their checks, leaving a live goto into a retired flow (a review).
    Now one waits for the other: either hub is refused (shop is retired) or shop's retirement is (hub leads to it)."""
    one, two, admin = two_nodes
    on_two = Admin(admin.http, two.url, admin.token)
    shop = await admin.call("POST", "/api/admin/flows/shop/versions", {"yaml": SHOP, "parent": ""}, 201)
    hub = await admin.call("POST", "/api/admin/flows/hub/versions", {"yaml": HUB, "parent": ""}, 201)
    for _ in range(12):
        await admin.call("POST", "/api/admin/flows/shop/publish", {"version": shop["id"]})
        published, retired = await asyncio.gather(
            admin.request("POST", "/api/admin/flows/hub/publish", {"version": hub["id"]}),
            on_two.request("DELETE", "/api/admin/flows/shop"),
        )
        assert (published, retired) in ((200, 409), (400, 200)), (published, retired)
        live = await admin.call("GET", "/api/admin/flows")
        assert not (listed(live, "hub")["live_version"] and listed(live, "shop")["retired"]), live
        if published == 200:
            await admin.call("DELETE", "/api/admin/flows/hub")
