"""The admin console's code list editor (away reasons, dispositions) as browser tests read it: its rows, a row's
inputs, and what the gateway holds."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator, Page

from tests.support.servers import Node


async def rows_of(page: Page, view: str, row_class: str) -> list[tuple[str, str]]:
    """The editor's rows in ``#view-VIEW`` as they stand: (label as typed, code: its input's value, or the saved code
    shown in its ``ROW_CLASS-fixed`` element). ``row_class``: ``cs-away`` or ``cs-dispositions``."""
    got = await page.locator(f"#view-{view} .{row_class}-row").evaluate_all(
        """(rows, fixed) => rows.map((li) => {
             const code = li.querySelector('input[name=code]');
             return [li.querySelector('input[name=label]').value,
                     code ? code.value : li.querySelector(fixed).textContent];
           })""",
        f".{row_class}-fixed",
    )
    return [(label, code) for label, code in got]


def row_input(page: Page, view: str, noun: str, n: int, field: str) -> Locator:
    """Row ``n``'s ``Label`` or ``Code`` input, by its accessible name ("Reason 2 Code")."""
    return page.locator(f"#view-{view}").get_by_role("textbox", name=f"{noun} {n} {field}", exact=True)


async def stored(node: Node, name: str) -> tuple[list[tuple[str, str]], int]:
    """What the gateway has of list ``name`` (``away_reasons``, ``dispositions``): [(label, code)], version."""
    codes = node.services.away_reasons if name == "away_reasons" else node.services.dispositions
    now: dict[str, Any] = (await codes.get()).to_json()
    return [(c["label"], c["code"]) for c in now[codes.kind.key]], now["version"]
