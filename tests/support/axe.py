"""axe-core (vendored from npm in tests/support/vendor/axe-core/) in the pages under test: an accessibility check.

    await install_axe(context)            # before the pages load: every page of the context gets `window.axe`
    found = await axe_violations(page)    # axe.run over the whole document, open shadow roots included
    print(describe(found))
    assert blocking(found) == []          # no `serious` or `critical` violation

The script goes in as an init script (Chromium's DevTools protocol), so a page's Content-Security-Policy does not
block it and the page is tested with its own policy in force.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

BLOCKING = ("serious", "critical")

RUN = """
async () => {
  // let transitions and entry animations end first (a colour halfway through a hover or pressed transition is
  // not what anyone reads); the endless ones (a pulsing dot) stay as they are
  const roots = [document, ...[...document.querySelectorAll('*')].filter((el) => el.shadowRoot).map((el) => el.shadowRoot)];
  const finite = roots.flatMap((root) => root.getAnimations())
    .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
  await Promise.all(finite.map((a) => a.finished.catch(() => null)));
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(' >>> '), summary: n.failureSummary || '' })),
  }));
}
"""


async def install_axe(context: BrowserContext) -> None:
    await context.add_init_script(path=str(AXE))


#: Transitions and animations under way end first: a button fading from disabled to enabled (.12 s of opacity in the
#: desk) was measured half-faded on a loaded machine (contrast 3.21; the same button passes once it is there).
SETTLED = "() => Promise.all(document.getAnimations().filter((a) => a.effect && a.effect.getTiming().iterations "
SETTLED += "!== Infinity).map((a) => a.finished.catch(() => null)))"


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    await page.evaluate(SETTLED)
    found = await page.evaluate(RUN)
    return list(found)


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations a test refuses: impact serious or critical."""
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, what it asks, and each element with axe's summary of the fix."""
    if not violations:
        return "axe: no violations"
    lines = []
    for v in violations:
        lines.append(f"axe {v['impact']}: {v['id']} ({v['help']}), {len(v['nodes'])} element(s)")
        for node in v["nodes"][:8]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)
