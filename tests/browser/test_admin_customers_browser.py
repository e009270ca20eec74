"""A customer's data request in the admin console (/admin#customers), in real Chromium against a real node.

A customer chats (an agent answers); the admin finds them by the conversation's id, sees the conversation, downloads
the export (the file names the conversation and holds the customer's message as written), is told a call in progress
stops the erasure (nothing erased, the dialog stays), then erases from the keyboard after typing the customer id
(focus starts on Cancel; the button is enabled only by the exact id): the status says what went, the data leaves the
page, the gateway has neither the customer nor the conversation, a second lookup says not found and the audit log has
``customer.erase``. At a phone's width nothing is cut off. A site's verified user is found by key id and user id. A supervisor is not offered the section,
and opening it says it is for admins (the gateway answers them 403 too).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from playwright.async_api import Browser, Page, Route, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.wire.site_tokens import sign
from tests.browser.test_admin_console_browser import (
    ADMIN_PASSWORD,
    checked,
    login_token,
    new_page,
    open_view,
    rest,
    screenshots,
    sign_in,
)
from tests.conftest import PASSWORDS, bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.clients import Agent, Customer
from tests.support.layout import cut_off
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS

SITE_SECRET = "shop-secret-0123456789abcdef0123456789"
#: What the customer wrote: markup that must stay text, in the page and in the export.
WRITTEN = 'My order A-1042 never came <img src=x onerror="document.title=1"> & I want my data'


@browser_fixture
async def customers_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    """alice answers chats, carol supervises, dana administers; the site "shop" vouches for its users."""
    agents = tmp_path / "agents.toml"
    add_agent(agents, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    add_agent(agents, "dana", "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "supervisor", "admin"))
    node = await start_node(replace(settings, agents_file=agents, site_keys=(("shop", SITE_SECRET),)))
    yield node
    await bounded(node.stop(), "stopping the gateway node")


async def look_up(page: Page, text: str) -> None:
    """Type an id into the lookup field and press Enter."""
    field = page.get_by_label("Customer id or conversation id")
    await field.fill(text)
    await field.press("Enter")


async def test_an_admin_exports_then_erases_a_customer_who_chatted(
    browser: Browser, customers_node: Node, tmp_path: Path
) -> None:
    node = customers_node
    shots = screenshots(tmp_path)
    customer = Customer(node.url)
    alice = Agent(node.url, "alice", PASSWORDS["alice"])
    context, page, errors = await new_page(browser)
    try:
        await alice.hello()
        await customer.hello()
        cid = (await customer.say(WRITTEN))["conversation_id"]
        assert (await alice.assigned())["id"] == cid
        await alice.say(cid, "Sorry to hear that, let me check.")
        admin = await login_token(node, "dana", ADMIN_PASSWORD)

        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await open_view(page, "customers")
        await checked(page, errors, shots, "customers")
        # a typo is refused at the field, nothing asked
        await look_up(page, "c_81ca/5b6f")
        lookup = page.get_by_label("Customer id or conversation id")
        await expect(lookup).to_have_attribute("aria-invalid", "true")
        await expect(lookup).to_have_accessible_description(re.compile("Enter a customer id"))

        # ---- by the conversation's id: the customer and that conversation
        await look_up(page, cid)
        status = page.get_by_test_id("cs-customer-status")
        await expect(status).to_have_text(f"Customer {customer.customer_id}: 1 conversation, 0 callbacks, "
                                          "0 attachments, 0 recordings.")  # fmt: skip
        await expect(status).to_have_attribute("role", "status")
        found = page.get_by_test_id("cs-customer")
        await expect(found.get_by_role("heading", name=f"Customer {customer.customer_id}")).to_be_visible()
        await expect(found).to_contain_text(f"Found through conversation {cid}")
        row = page.locator(f"[data-testid=cs-customer-conversations] tr[data-conversation='{cid}']")
        cells = await row.locator("th, td").all_inner_texts()
        assert [cells[0].split("\n")[0], *cells[3:]] == [cid, "assigned", "default", "Alice Smith", "chat", "5"], cells
        assert await page.locator("#view-customers img").count() == 0
        await checked(page, errors, shots, "customers-found")
        # a phone's width: the forms stack, the table scrolls in its own box, nothing is cut off
        await page.set_viewport_size({"width": 390, "height": 844})
        assert await cut_off(page) == []
        await page.screenshot(path=str(shots / "admin-customers-found-390.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})

        # ---- the export: exactly what the gateway keeps, saved as customer-<id>.json
        async with page.expect_download() as info:
            await page.get_by_role("button", name="Download export (JSON)").click()
        download = await info.value
        assert download.suggested_filename == f"customer-{customer.customer_id}.json"
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        exported = json.loads(saved.read_text(encoding="utf-8"))
        _, direct = await rest(node, admin, "GET", f"/api/admin/customers/{customer.customer_id}")
        assert {k: v for k, v in exported.items() if k != "exported_at"} == {
            k: v for k, v in direct.items() if k != "exported_at"
        }
        assert [c["conversation"]["id"] for c in exported["conversations"]] == [cid]
        said = [(e["author"], e["text"]) for e in exported["conversations"][0]["events"] if e["type"] == "message"]
        assert said == [("customer", WRITTEN), ("agent", "Sorry to hear that, let me check.")]
        await expect(status).to_have_text(f"Saved customer-{customer.customer_id}.json.")

        # ---- the customer is on a call now (the gateway's 409): its message in the dialog, nothing erased
        async def on_a_call(route: Route) -> None:
            if route.request.method != "DELETE":
                await route.fallback()
                return
            message = (
                f"customer {customer.customer_id} is on a call now: erase their data once it has ended "
                "(nothing was erased)"
            )
            problem = {"code": "call_in_progress", "message": message, "field": "customer_id"}
            await route.fulfill(status=409, json=problem)

        await page.route("**/api/admin/customers/*", on_a_call)
        erase = page.get_by_role("button", name="Erase all data of this customer…")
        await erase.focus()
        await page.keyboard.press("Enter")
        dialog = page.get_by_test_id("cs-erase-dialog")
        confirm = dialog.get_by_role("button", name="Erase all data", exact=True)
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # never the destructive one
        await expect(dialog).to_contain_text("This cannot be undone")
        await expect(dialog).to_contain_text("1 conversation, with every message")
        await expect(confirm).to_be_disabled()
        await page.keyboard.press("Shift+Tab")  # from Cancel back to the field
        typed = dialog.get_by_label("Customer id, to confirm")
        await expect(typed).to_be_focused()
        await page.keyboard.type(customer.customer_id[:-1])
        await expect(confirm).to_be_disabled()  # all but one character: no
        await page.keyboard.type(customer.customer_id[-1])
        await expect(confirm).to_be_enabled()
        await checked(page, errors, shots, "customers-erase-dialog")
        await page.keyboard.press("Enter")
        await expect(dialog.locator(".cs-form-error")).to_have_text(
            f"Customer {customer.customer_id} is on a call now: erase their data once it has ended (nothing was erased)."
        )
        await expect(dialog).to_be_visible()
        await checked(page, errors, shots, "customers-erase-refused")
        status_code, still = await rest(node, admin, "GET", f"/api/conversations/{cid}")
        assert status_code == 200 and still["conversation"]["state"] == "assigned"
        await page.unroute("**/api/admin/customers/*")

        # ---- erased for real: the status says what went, the data leaves the page and the gateway
        await typed.focus()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await expect(confirm).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(dialog).to_have_count(0)
        await expect(status).to_have_text(
            re.compile(r"^Erased: 1 conversation \(1 open, closed first\), 0 callbacks, 0 attachments, "
                       r"0 recordings, [1-9]\d* event log entr(y|ies), 0 webhook payloads\.$")
        )  # fmt: skip
        await expect(found).to_be_hidden()
        assert await found.locator("*").count() == 0
        await expect(lookup).to_be_focused()
        assert (await rest(node, admin, "GET", f"/api/conversations/{cid}"))[0] == 404
        assert (await rest(node, admin, "GET", f"/api/admin/customers/{customer.customer_id}"))[0] == 404
        await checked(page, errors, shots, "customers-erased")

        # ---- a lookup again: not found, by the conversation and by the customer
        await page.keyboard.press("Enter")
        await expect(status).to_have_text(f"Not found: the gateway has no conversation {cid}.")
        await look_up(page, customer.customer_id)
        await expect(status).to_have_text(f"Not found: the gateway keeps no data of customer {customer.customer_id}.")
        await expect(found).to_be_hidden()

        # ---- the audit log has the erasure, the customer named
        await open_view(page, "audit")
        entry = page.locator("[data-testid=cs-audit] tr[data-action='customer.erase']")
        await expect(entry).to_have_count(1)
        await expect(entry).to_contain_text(customer.customer_id)
        await expect(entry).not_to_contain_text("A-1042")
        assert errors == []
    finally:
        await context.close()
        await customer.close()
        await alice.close()


async def test_a_site_user_is_found_by_key_id_and_user_id(
    browser: Browser, customers_node: Node, tmp_path: Path
) -> None:
    node = customers_node
    shots = screenshots(tmp_path)
    customer = Customer(node.url)
    context, page, errors = await new_page(browser)
    try:
        token = sign({"sub": "crm-4711", "name": "Ann Lee", "exp": int(time.time()) + 3600}, SITE_SECRET, kid="shop")
        await customer.hello(customer_token=token)
        assert customer.customer_id.startswith("v_")
        cid = (await customer.say("Where is my parcel?"))["conversation_id"]

        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await open_view(page, "customers")
        site_form = page.locator("form", has=page.get_by_role("heading", name="Find a site user"))
        await site_form.get_by_label("Key id").fill("blog")
        await site_form.get_by_label("User id").fill("crm-4711")
        await site_form.get_by_label("User id").press("Enter")
        key = site_form.get_by_label("Key id")
        await expect(key).to_have_attribute("aria-invalid", "true")  # the gateway's refusal, at the field it names
        await expect(key).to_have_accessible_description(re.compile("no site key 'blog'"))
        await key.fill("shop")
        await key.press("Enter")
        await expect(page.get_by_test_id("cs-customer-status")).to_have_text(
            f"Customer {customer.customer_id}: 1 conversation, 0 callbacks, 0 attachments, 0 recordings."
        )
        found = page.get_by_test_id("cs-customer")
        await expect(found).to_contain_text("Verified by a site.")
        await expect(found.locator(f"tr[data-conversation='{cid}']")).to_be_visible()
        await checked(page, errors, shots, "customers-site-user")
    finally:
        await context.close()
        await customer.close()


async def test_a_supervisor_is_not_offered_the_customers_section(
    browser: Browser, customers_node: Node, tmp_path: Path
) -> None:
    node = customers_node
    shots = screenshots(tmp_path)
    customer = Customer(node.url)
    context, page, errors = await new_page(browser)
    try:
        await customer.hello()
        await customer.say("hello")
        carol = await login_token(node, "carol", PASSWORDS["carol"])
        status, refused = await rest(node, carol, "GET", f"/api/admin/customers/{customer.customer_id}")
        assert status == 403, refused

        await sign_in(page, node, "carol", PASSWORDS["carol"])
        await expect(page.locator("[data-testid=cs-agents]")).to_be_visible()
        await expect(page.locator(".cs-nav a[data-view=audit]")).to_be_visible()
        await expect(page.locator(".cs-nav a[data-view=customers]")).to_be_hidden()
        await page.goto(node.url + "/admin#customers")  # the address typed in
        await expect(page.get_by_test_id("cs-customers-denied")).to_have_text(
            "Customer data (export and erasure) is for admins. Sign in with an admin account."
        )
        await expect(page.get_by_label("Customer id or conversation id")).to_be_hidden()
        await expect(page.get_by_role("button", name=re.compile("Erase"))).to_have_count(0)
        await checked(page, errors, shots, "customers-supervisor")
    finally:
        await context.close()
        await customer.close()
