"""The admin console (/admin) in real Chromium against a real node's admin REST.

An admin signs in, adds an agent (a weak password first: the refusal shows next to the password field; the agent
then exists for the gateway), changes a queue's service level, edits the widget settings (the preview, the
widget's own rendering, follows the form before saving; the saved settings are what the gateway serves), creates
an event webhook (its secret shown once) and finds each of those actions in the audit log, filtered by target. A
supervisor sees the same pages without one edit control; an agent is refused with a message. Every view is used
from the keyboard, has no serious axe violation and no CSP violation; screenshots at 1,280 px are written to
$CG_SCREENSHOTS (or the test's tmp dir).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, BrowserContext, Page, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from tests.browser.test_csp_browser import WATCH, violations
from tests.conftest import PASSWORDS, bounded
from tests.support.axe import axe_violations, blocking, describe, install_axe
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS

ADMIN_PASSWORD = "dana-admin-secret-9"
NEW_PASSWORD = "erin-7-long-passphrase"
VIEWS = ("agents", "queues", "widget", "webhooks", "audit")


@browser_fixture
async def console_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    """A node whose agents are the test's (alice, bob, carol the supervisor) and dana, an admin; webhooks may post
    to loopback."""
    agents = tmp_path / "agents.toml"
    add_agent(agents, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    add_agent(agents, "dana", "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "supervisor", "admin"))
    node = await start_node(replace(settings, agents_file=agents, webhook_allow=("127.0.0.1",)))
    yield node
    await bounded(node.stop(), "stopping the gateway node")


async def rest(node: Node, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.url + path, json=body, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        return r.status, (await r.json() if r.content_type == "application/json" else None)


async def login_token(node: Node, agent_id: str, password: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(node.url + "/api/agent/login", json={"agent_id": agent_id, "password": password}) as r,
    ):
        body = await r.json()
        assert r.status == 200, body
        return str(body["token"])


#: Each section's content once loaded (for a supervisor too).
LOADED = {
    "agents": "[data-testid=cs-agents]",
    "queues": "[data-testid=cs-queues]",
    "widget": "[data-testid=cs-widget-form] [name=title]",
    "webhooks": "#view-webhooks .cs-status",
    "audit": "[data-testid=cs-audit]",
}
#: What an edit control is called (buttons' accessible names).
EDIT = re.compile(r"^(Add|Edit|Delete|Remove|Disable|Enable|Reset|Save|Undo)")


async def new_page(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A 1,280 px page watched for CSP violations, with axe-core; and the page errors it throws."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(WATCH)
    await install_axe(context)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


async def sign_in(page: Page, node: Node, agent_id: str, password: str) -> None:
    await page.goto(node.url + "/admin")
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("#login-agent", agent_id)
    await page.fill("#login-password", password)
    await page.press("#login-password", "Enter")
    await expect(page.locator("#console")).to_be_visible()


async def open_view(page: Page, view: str) -> None:
    """Go to a section from the keyboard: focus its nav link and press Enter."""
    await page.focus(f".cs-nav a[data-view={view}]")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#view-{view}")).to_be_visible()
    await expect(page.locator(f".cs-nav a[data-view={view}]")).to_have_attribute("aria-current", "page")


async def checked(page: Page, errors: list[str], shots: Path, name: str) -> None:
    """No serious axe violation, no CSP violation, no page error; a screenshot to look at."""
    found = await axe_violations(page)
    assert blocking(found) == [], describe(found)
    assert await violations(page) == []
    assert errors == []
    await page.screenshot(path=str(shots / f"admin-{name}.png"), full_page=True)


def screenshots(tmp_path: Path) -> Path:
    shots = Path(os.environ.get("CG_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    return shots


async def test_an_admin_manages_agents_queues_widget_and_webhooks_and_finds_it_all_in_the_audit_log(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    await sign_in(page, node, "dana", ADMIN_PASSWORD)
    admin = await login_token(node, "dana", ADMIN_PASSWORD)

    # ---- agents: a weak password is refused next to its field; then erin is added and exists for the gateway
    table = page.locator("[data-testid=cs-agents]")
    await expect(table.locator("tr[data-agent=carol]")).to_contain_text("supervisor")
    await checked(page, errors, shots, "agents")
    await page.focus("[data-testid=cs-agent-add]")
    await page.keyboard.press("Enter")
    dialog = page.locator("[data-testid=cs-agent-dialog]")
    await expect(dialog.locator("[name=id]")).to_be_focused()
    await page.keyboard.type("erin")
    await dialog.locator("[name=name]").fill("Erin Brown")
    await dialog.locator("[name=password]").fill("short")
    await dialog.get_by_role("button", name="Add skill").click()
    await dialog.get_by_label("Skill 1 name").fill("billing")
    await dialog.get_by_label("Skill 1 level").fill("4")
    await dialog.locator("[type=submit]").click()
    password_error = dialog.locator("[data-field=password] .cs-field-error")
    await expect(password_error).to_be_visible()
    await expect(dialog.locator("[name=password]")).to_have_attribute("aria-invalid", "true")
    await expect(dialog.locator("[name=password]")).to_be_focused()
    await checked(page, errors, shots, "agent-refused")
    # two levels for one skill: refused at the skills, nothing merged or saved
    await dialog.get_by_role("button", name="Add skill").click()
    await dialog.get_by_label("Skill 2 name").fill("billing")
    await dialog.get_by_label("Skill 2 level").fill("2")
    await dialog.locator("[name=password]").fill(NEW_PASSWORD)
    await page.keyboard.press("Enter")
    second = dialog.get_by_label("Skill 2 name")
    await expect(second).to_have_attribute("aria-invalid", "true")
    await expect(second).to_have_accessible_description(
        "Skill 2 name: billing is listed twice (as skill 1): keep one row for it."
    )
    _, listed = await rest(node, admin, "GET", "/api/admin/agents")
    assert "erin" not in {a["id"] for a in listed["agents"]}
    await dialog.get_by_role("button", name="Remove skill 2").click()
    await dialog.locator("[name=password]").focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_have_count(0)
    await expect(table.locator("tr[data-agent=erin]")).to_contain_text("billing (4)")
    status, listed = await rest(node, admin, "GET", "/api/admin/agents")
    erin = next(a for a in listed["agents"] if a["id"] == "erin")
    # the password the admin chose is one-time, as the form says: erin chooses her own at first sign-in
    assert (erin["name"], erin["skills"], erin["must_change_password"]) == ("Erin Brown", {"billing": 4}, True)

    # ---- queues: billing's service level to 45 s
    await open_view(page, "queues")
    await page.get_by_role("button", name="Edit queue billing").click()
    qdialog = page.locator("[data-testid=cs-queue-dialog]")
    # the first field one can change has the focus, not the read-only name (a user test's finding)
    await expect(qdialog.locator("[name=name]")).to_have_attribute("readonly", "")
    await expect(qdialog.locator("[name=priority]")).to_be_focused()
    await qdialog.locator("[name=service_level_seconds]").fill("45")
    await checked(page, errors, shots, "queue-edit")
    await qdialog.locator("[type=submit]").click()
    await expect(qdialog).to_have_count(0)
    await expect(page.locator("tr[data-queue=billing] [data-testid=cs-queue-sl]")).to_have_text("45 s")
    _, queues = await rest(node, admin, "GET", "/api/admin/queues")
    assert next(q for q in queues["queues"] if q["name"] == "billing")["service_level_seconds"] == 45
    # a new queue under a name that exists is refused at its name (twice: nothing of billing changes); another
    # name is added from the same form
    await page.click("[data-testid=cs-queue-add]")
    await qdialog.locator("[name=name]").fill("billing")
    await qdialog.locator("[name=priority]").fill("42")
    for _ in range(2):
        await qdialog.locator("[type=submit]").click()
        await expect(qdialog.locator("[data-field=name] .cs-field-error")).to_contain_text("already exists")
        await expect(qdialog.locator("[name=priority]")).to_have_value("42")  # what was typed stays
    _, again = await rest(node, admin, "GET", "/api/admin/queues")
    assert next(q for q in again["queues"] if q["name"] == "billing") == next(
        q for q in queues["queues"] if q["name"] == "billing"
    )
    await qdialog.locator("[name=name]").fill("returns")
    await qdialog.locator("[type=submit]").click()
    await expect(qdialog).to_have_count(0)
    _, queues = await rest(node, admin, "GET", "/api/admin/queues")
    assert next(q for q in queues["queues"] if q["name"] == "returns")["priority"] == 42

    # ---- widget: the preview follows the form before it is saved; saved, the gateway serves it
    await open_view(page, "widget")
    # the tag to paste into the site, naming this gateway (a user test looked for it in the console, in vain)
    await expect(page.get_by_test_id("cs-widget-embed")).to_have_text(
        f'<script src="{node.url}/widget.js" data-gateway="{node.url}"></script>'
    )
    form = page.locator("[data-testid=cs-widget-form]")
    frame = page.frame_locator("[data-testid=cs-widget-preview]")
    await expect(frame.locator("#cg-widget")).to_have_count(1)
    await form.locator("[name=title]").fill("Acme help desk")
    await form.locator("[name=greeting]").fill("Hello from Acme! Ask us anything.")
    await form.locator("[name=colour]").fill("#7a1fa2")
    await expect(frame.locator("#cg-title")).to_have_text("Acme help desk")
    await expect(frame.locator(".intro")).to_contain_text("Hello from Acme!")
    await expect(frame.locator("[data-testid=cg-launcher]")).to_have_css("background-color", "rgb(122, 31, 162)")
    await page.get_by_label("Show it outside opening hours").check()
    # the preview draws "closed" when the frame's message arrives: wait for the text (it was read at once, and a
    # fresh-clone CI run read the open line before the message came)
    await expect(frame.locator("[data-testid=cg-status]")).to_have_attribute(
        "data-state", "after_hours"
    )  # the grey dot, not the green
    await expect(frame.locator("[data-testid=cg-status]")).to_contain_text(re.compile("closed", re.IGNORECASE))
    await checked(page, errors, shots, "widget")
    await page.click("[data-testid=cs-widget-save]")
    await expect(page.locator("#notice")).to_contain_text("saved")
    _, widget = await rest(node, admin, "GET", "/api/admin/widget")
    assert (widget["title"], widget["colour"]) == ("Acme help desk", "#7a1fa2")

    # ---- webhooks: one to a loopback receiver, its secret shown once
    await open_view(page, "webhooks")
    await page.click("[data-testid=cs-webhook-add]")
    wdialog = page.locator("[data-testid=cs-webhook-dialog]")
    await wdialog.locator("[name=url]").fill("http://127.0.0.1:9/hooks/crm")
    await wdialog.locator("[name=description]").fill("CRM")
    await wdialog.get_by_label("message.created").check()
    await wdialog.locator("[type=submit]").click()
    secret = page.locator("[data-testid=cs-webhook-secret]")
    await expect(secret).to_be_visible()
    assert len(await secret.input_value()) >= 16
    await checked(page, errors, shots, "webhook-secret")
    await page.keyboard.press("Escape")
    await expect(page.locator("[data-testid=cs-webhooks] tbody tr")).to_have_count(1)
    await expect(page.locator("[data-testid=cs-webhooks]")).to_contain_text("message.created")
    await page.get_by_role("button", name="Deliveries of http://127.0.0.1:9/hooks/crm").click()
    await expect(page.locator(".cs-log")).to_contain_text("No delivery yet")
    # a logged attempt's time, which the API sends as ISO text (docs/webhooks.md), reads as a date (user test ut2 #5)
    attempt = {"time": "2026-12-06T18:16:51.978Z", "event_id": "e1", "event": "message.created",
               "conversation_id": "c_1", "attempt": 1, "status": 200, "latency_ms": 12, "error": None,
               "outcome": "delivered", "node": "node-a"}  # fmt: skip
    await page.route("**/deliveries?*", lambda route: route.fulfill(json={"deliveries": [attempt]}))
    await page.get_by_role("button", name="Deliveries of http://127.0.0.1:9/hooks/crm").click()
    first_cell = page.locator("[data-testid=cs-deliveries] tbody tr").first.locator("td, th").first
    await expect(first_cell).to_contain_text("2026")
    await expect(page.locator("[data-testid=cs-deliveries]")).not_to_contain_text("Invalid Date")
    await checked(page, errors, shots, "webhook-deliveries")
    await page.unroute("**/deliveries?*")

    # ---- the audit log: each action, newest first; filtered by target
    await open_view(page, "audit")
    audit = page.locator("[data-testid=cs-audit]")
    for action, target in (("agent.add", "erin"), ("queue.update", "billing"), ("widget.update", "")):
        row = audit.locator(f"tr[data-action='{action}']")
        await expect(row.first).to_be_visible()
        if target:
            await expect(row.first).to_contain_text(target)
    actions = await audit.locator("tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.action)")
    assert actions.index("queue.update") < actions.index("agent.add")  # newest first
    assert any(a.startswith("webhook.") for a in actions), actions
    queue_row = audit.locator("tr[data-action='queue.update']").first
    await expect(queue_row).to_contain_text("service_level_seconds: 20 → 45")
    await expect(audit.locator("tr[data-action='agent.add']").first).not_to_contain_text(NEW_PASSWORD)
    await page.fill("[data-testid=cs-audit-target]", "erin")
    await page.press("[data-testid=cs-audit-target]", "Enter")
    await expect(audit.locator("tbody tr")).to_have_count(1)
    await expect(audit.locator("tbody tr")).to_contain_text("agent.add")
    # a bare queue name finds that queue's entries (its target is queue:billing), as the field's hint says
    await expect(page.locator("[data-testid=cs-audit-help]")).to_contain_text("billing finds queue:billing")
    await page.fill("[data-testid=cs-audit-target]", "billing")
    await page.press("[data-testid=cs-audit-target]", "Enter")
    await expect(audit.locator("tr[data-action='queue.update']").first).to_contain_text("queue:billing")
    await expect(page.locator("[data-testid=cs-audit-help] + .cs-status")).to_contain_text("Page 1 for billing")
    # a new flow's first save: its time reads as a date, not milliseconds, and no "version: null" (a user test's finding)
    _, default = await rest(node, admin, "GET", "/api/admin/flows/default")
    _, head = await rest(node, admin, "GET", f"/api/admin/flows/default/versions/{default['head']}")
    status, saved = await rest(node, admin, "POST", "/api/admin/flows/shop/versions", {"yaml": head["yaml"]})
    assert status == 201, saved
    await page.fill("[data-testid=cs-audit-target]", "shop")
    await page.press("[data-testid=cs-audit-target]", "Enter")
    flow_row = audit.locator("tr[data-action='flow.save']")
    await expect(flow_row).to_have_count(1)
    when = await page.evaluate("(ms) => new Date(ms).getFullYear()", saved["at"])
    await expect(flow_row.locator("li").first).to_have_text(re.compile(rf"^\+ at: \D.*\b{when}\b.*\d\d:\d\d"))
    await expect(flow_row).not_to_contain_text(str(saved["at"]))
    await expect(flow_row).not_to_contain_text("null")
    await expect(flow_row.locator("li")).to_have_count(4)  # at, author, id, name: not an empty message or parent
    await checked(page, errors, shots, "audit")
    await context.close()


async def test_a_supervisor_sees_no_edit_control_and_an_agent_is_refused(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    await sign_in(page, node, "carol", PASSWORDS["carol"])
    await expect(page.locator("[data-testid=cs-mode]")).to_have_text("Read only (supervisor)")
    await expect(page.locator("[data-testid=cs-agents] tr[data-agent=dana]")).to_be_visible()
    for view in VIEWS:
        await open_view(page, view)
        section = page.locator(f"#view-{view}")
        await expect(page.locator(LOADED[view])).to_be_visible()
        await expect(page.locator(LOADED[view])).not_to_have_text(re.compile("Loading"))
        edits = section.get_by_role("button", name=EDIT)
        assert await edits.count() == 0, await edits.all_inner_texts()
        await checked(page, errors, shots, f"supervisor-{view}")
    await open_view(page, "widget")
    assert await page.locator("[data-testid=cs-widget-save]").count() == 0
    await expect(page.locator("[data-testid=cs-widget-form] [name=title]")).to_have_attribute("readonly", "")
    await open_view(page, "queues")
    await page.get_by_role("button", name="Details of queue billing").click()
    qdialog = page.locator("[data-testid=cs-queue-dialog]")
    await expect(qdialog.locator("[name=service_level_seconds]")).to_be_disabled()
    await expect(qdialog.locator("[type=submit]")).to_be_focused()  # nothing to change: its Close
    await page.keyboard.press("Escape")
    # the wallboard and the reports are a click away, signed in already (a user test as a new admin found no way
    # from the console to either)
    await page.click("[data-testid=cs-reports]")
    # (the reports page then writes its options into the address: ?from=...&to=...)
    await expect(page).to_have_url(re.compile(r"/supervisor/reports(\?|$)"))
    await expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    await expect(page.get_by_text("Sign in to the reports")).to_be_hidden()
    await page.go_back()
    await expect(page.locator("#console")).to_be_visible()
    await page.click("[data-testid=cs-wallboard]")
    await expect(page).to_have_url(re.compile(r"/supervisor$"))
    await expect(page.get_by_role("heading", name="Wallboard", exact=True)).to_be_visible()
    await expect(page.get_by_text("Sign in to the wallboard")).to_be_hidden()
    await context.close()

    context, page, errors = await new_page(browser)
    await sign_in(page, node, "alice", PASSWORDS["alice"])
    await expect(page.locator("[data-testid=cs-refused]")).to_contain_text("for admins")
    await expect(page.locator("#view-agents")).to_be_hidden()
    await checked(page, errors, shots, "agent-refused")
    await context.close()


async def test_the_agent_form_shows_every_fields_problem_at_once_each_next_to_its_field(
    browser: Browser, console_node: Node, tmp_path: Path
) -> None:
    """One submit of a form wrong everywhere: every field's problem is shown, each tied to its field (aria-invalid,
    aria-describedby: its accessible description), the first one focused, the form's top line saying how many;
    nothing is sent. Skill rows are named as the form shows them ("Skill 2 level"), renumbered when one goes."""
    node = console_node
    shots = screenshots(tmp_path)
    context, page, errors = await new_page(browser)
    admin = await login_token(node, "dana", ADMIN_PASSWORD)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and "/api/admin/agents" in r.url else None)
    try:
        await sign_in(page, node, "dana", ADMIN_PASSWORD)
        await page.click("[data-testid=cs-agent-add]")
        dialog = page.locator("[data-testid=cs-agent-dialog]")
        await dialog.locator("[name=id]").fill("Not An Id")
        await dialog.locator("[name=password]").fill("short")
        await dialog.locator("[name=capacity]").fill("0")
        await dialog.get_by_label("Agent", exact=True).uncheck()
        rows = (("spare", "1"), ("bill ing", "4"), ("sales", "11"), ("Sales", "2"), ("", "3"))
        for n, (skill, level) in enumerate(rows, 1):
            await dialog.get_by_role("button", name="Add skill").click()
            await dialog.get_by_label(f"Skill {n} name").fill(skill)
            await dialog.get_by_label(f"Skill {n} level").fill(level)
        await dialog.get_by_role("button", name="Remove skill 1").click()  # the others move up: 1, 2, 3
        await dialog.locator("[type=submit]").click()

        expected = {
            dialog.locator(
                "[name=id]"
            ): "Agent ID: 1 to 32 of a-z, 0-9, dot, _ and -, starting with a letter or digit.",
            dialog.locator("[name=name]"): "Name is required.",
            dialog.locator("[name=password]"): "Password: at least 10 characters.",
            dialog.locator("[name=capacity]"): "Capacity: a whole number from 1 to 50.",
            dialog.get_by_label(
                "Skill 1 name"
            ): "Skill 1 name: 1 to 40 Latin letters (A-Z, a-z), digits, _ or - (no spaces).",
            dialog.get_by_label("Skill 2 level"): "Skill 2 level: a whole number from 1 to 10.",
            dialog.get_by_label(
                "Skill 3 name"
            ): "Skill 3 name: Sales is listed twice (as skill 2): keep one row for it.",
            # a level and no name: said so (it was dropped without a word)
            dialog.get_by_label("Skill 4 name"): "Skill 4 name: give the skill a name, or remove the row.",
        }
        for control, message in expected.items():
            await expect(control).to_have_attribute("aria-invalid", "true")
            await expect(control).to_have_accessible_description(re.compile(re.escape(message)))
            error_id = (await control.get_attribute("aria-describedby") or "").split()[0]
            await expect(page.locator(f"[id='{error_id}']")).to_be_visible()  # shown next to it, not only read
        for fine in ("Skill 1 level", "Skill 2 name", "Skill 3 level"):
            await expect(dialog.get_by_label(fine)).not_to_have_attribute("aria-invalid", "true")
        roles = dialog.locator("[data-field=roles] > .cs-field-error")
        await expect(roles).to_have_text("Roles: choose at least one.")
        await expect(dialog.locator("[data-field=roles]")).to_have_accessible_description("Roles: choose at least one.")
        await expect(dialog.locator(".cs-form-error")).to_have_text("Fix the 9 problems marked below.")
        await expect(dialog.locator("[name=id]")).to_be_focused()
        await checked(page, errors, shots, "agent-every-problem")
        assert posted == []  # nothing sent

        # fixed in one go: the agent is added
        await dialog.locator("[name=id]").fill("fay")
        await dialog.locator("[name=name]").fill("Fay Lee")
        await dialog.locator("[name=password]").fill("fay-first-passphrase-7")
        await dialog.locator("[name=capacity]").fill("2")
        await dialog.get_by_label("Agent", exact=True).check()
        await dialog.get_by_label("Skill 1 name").fill("billing")
        await dialog.get_by_label("Skill 2 level").fill("3")
        await dialog.get_by_role("button", name="Remove skill 3").click()
        await dialog.get_by_role("button", name="Remove skill 3").click()  # the nameless row, moved up
        await dialog.locator("[type=submit]").click()
        await expect(dialog).to_have_count(0)
        _, listed = await rest(node, admin, "GET", "/api/admin/agents")
        fay = next(a for a in listed["agents"] if a["id"] == "fay")
        assert (fay["name"], fay["capacity"], fay["skills"]) == ("Fay Lee", 2, {"billing": 4, "sales": 3})

        # what only the gateway knows still shows next to its field: an ID that is taken
        await page.click("[data-testid=cs-agent-add]")
        await dialog.locator("[name=id]").fill("alice")
        await dialog.locator("[name=name]").fill("Another Alice")
        await dialog.locator("[name=password]").fill("alice-two-passphrase-7")
        await dialog.locator("[type=submit]").click()
        await expect(dialog.locator("[name=id]")).to_have_attribute("aria-invalid", "true")
        await expect(dialog.locator("[data-field=id] .cs-field-error")).to_contain_text("alice")
        await expect(dialog.locator(".cs-form-error")).to_be_hidden()
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_have_count(0)  # closed, its focus handed back, before the keyboard goes elsewhere
        await expect(page.locator("[data-testid=cs-agent-add]")).to_be_focused()

        # a queue's skill rows say the same
        await open_view(page, "queues")
        await page.get_by_role("button", name="Edit queue billing").click()
        queue = page.locator("[data-testid=cs-queue-dialog]")
        await queue.get_by_role("button", name="Add skill").click()
        await queue.get_by_label("Skill 1 name").fill("billing")
        await queue.get_by_label("Skill 1 level").fill("12")
        await queue.locator("[type=submit]").click()
        level = queue.get_by_label("Skill 1 level")
        await expect(level).to_have_attribute("aria-invalid", "true")
        await expect(level).to_have_accessible_description("Skill 1 level: a whole number from 1 to 10.")
        await expect(level).to_be_focused()

        # every bad number of the queue is marked at once, not one per save (user test ut2 #11); nothing is sent
        put: list[str] = []
        page.on("request", lambda r: put.append(r.url) if r.method == "PUT" else None)
        await queue.locator("[name=priority]").fill("99999")
        await queue.locator("[name=service_level_seconds]").fill("0")
        await queue.locator("[name=announce_seconds]").fill("3")
        await queue.locator("[name=max_wait_seconds]").fill("-5")
        await queue.locator("[type=submit]").click()
        marked = {
            "priority": "Priority: a whole number from -1000 to 1000.",
            "service_level_seconds": "Service level: a whole number of seconds from 1 to 3600.",
            "announce_seconds": "Announcement interval: 0 (never) or from 5 to 3600 seconds",
            "max_wait_seconds": "Maximum wait: a whole number of seconds from 0 to 86400.",
        }
        for name, message in marked.items():
            control = queue.locator(f"[name='{name}']")
            await expect(control).to_have_attribute("aria-invalid", "true")
            await expect(control).to_have_accessible_description(re.compile(re.escape(message)))
        await expect(level).to_have_attribute("aria-invalid", "true")  # the skill row's too
        await expect(queue.locator(".cs-form-error")).to_have_text("Fix the 5 problems marked below.")
        await expect(queue.locator("[name=priority]")).to_be_focused()  # the first in the form
        await checked(page, errors, shots, "queue-every-problem")
        assert put == []
    finally:
        await context.close()


async def test_a_long_agent_name_wraps_and_every_column_stays_in_view_and_no_admin_removes_herself(
    browser: Browser, console_node: Node
) -> None:
    """An exploratory test named an agent with 80 letters and no space (the most the form takes): the table grew to
    1,877 px in a 1,366 px box and Capacity, Status, Signed in and the actions went off to the right."""
    admin = await login_token(console_node, "dana", ADMIN_PASSWORD)
    body = {"id": "longname", "name": "W" * 80, "password": NEW_PASSWORD, "roles": ["agent"], "capacity": 2}
    status, _ = await rest(console_node, admin, "POST", "/api/admin/agents", body)
    assert status == 201
    context, page, errors = await new_page(browser)
    try:
        await page.set_viewport_size({"width": 1400, "height": 900})
        await sign_in(page, console_node, "dana", ADMIN_PASSWORD)
        row = page.locator("[data-testid=cs-agents] tr[data-agent=longname]")
        await expect(row).to_contain_text("W" * 10)
        box = page.locator("[data-testid=cs-agents]").locator("xpath=..")
        assert await box.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table is wider than its box"
        await expect(row.get_by_role("button", name="Edit")).to_be_in_viewport()
        # her own row offers no Disable or Remove (the gateway refused them after a confirm): Edit and her password
        own = page.locator("[data-testid=cs-agents] tr[data-agent=dana]")
        await expect(own.get_by_role("button", name="Edit")).to_be_visible()
        await expect(own.get_by_role("button", name=re.compile(r"^(Disable|Remove) "))).to_have_count(0)
        await expect(own).to_contain_text("(you)")
        await expect(row.get_by_role("button", name=re.compile(r"^Remove "))).to_be_visible()
        # asking before removing: the focus starts on Cancel, so an Enter pressed by habit removes nobody
        await row.get_by_role("button", name=re.compile(r"^Remove ")).click()
        confirm = page.get_by_role("dialog")
        await expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(confirm).to_have_count(0)
        await expect(row).to_be_visible()  # still there
        assert errors == []
    finally:
        await context.close()
