"""A rule over a page's DOM for "nothing is cut off", checked in the browser (tests/browser/test_narrow_layout_browser.py).

Every visible interactive element and heading (open shadow roots included):
- lies inside the viewport horizontally;
- is not clipped by an ancestor that hides or scrolls its overflow: its box lies inside each such ancestor's
  box horizontally, and vertically for ancestors that hide (not scroll) their overflow. An absolutely placed
  box is only clipped by ancestors from its containing block up; a fixed box by none;
- does not overflow its own box: a button whose label is wider than the button (text running over its border).
And the page has no horizontal scrollbar.

Each problem is one line naming the element (tag, test id or id or class, text) and what is wrong, so a failure
reads as a list of what to fix.
"""

from __future__ import annotations

from playwright.async_api import Page

CUT_OFF = """
() => {
  const SELECTOR = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], '
    + '[role=option], [role=tab], [role=link], [tabindex]:not([tabindex="-1"]), h1, h2, h3, h4, h5, h6';
  const SLACK = 1;  // px: sub-pixel layout
  const problems = [];
  const name = (el) => {
    const id = el.dataset.testid ? `[data-testid=${el.dataset.testid}]`
      : el.id ? `#${el.id}` : el.classList.length ? `.${[...el.classList].join('.')}` : '';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ');
    return `<${el.tagName.toLowerCase()}${id}> "${text.slice(0, 40)}"`;
  };
  const parentOf = (el) => el.assignedSlot || el.parentElement || el.getRootNode().host || null;
  function* elements(root) {
    for (const el of root.querySelectorAll('*')) {
      yield el;
      if (el.shadowRoot) yield* elements(el.shadowRoot);
    }
  }
  const clippers = (el) => {
    // the ancestors whose overflow clips el: [element, clips horizontally, clips vertically]
    const found = [];
    let position = getComputedStyle(el).position;
    let needPositioned = position === 'absolute';
    if (position === 'fixed') return found;
    for (let a = parentOf(el); a && a !== document.documentElement && a !== document.body; a = parentOf(a)) {
      const style = getComputedStyle(a);
      const positioned = style.position !== 'static' || style.transform !== 'none';
      if (!needPositioned || positioned) {
        const x = style.overflowX, y = style.overflowY;
        if (x !== 'visible' || y !== 'visible') {
          found.push([a, x !== 'visible', y === 'hidden' || y === 'clip']);
        }
        needPositioned = false;
      }
      if (style.position === 'fixed' && style.transform === 'none') break;
      if (style.position === 'absolute') needPositioned = true;
    }
    return found;
  };
  const width = document.documentElement.clientWidth;
  for (const el of elements(document)) {
    if (!el.matches(SELECTOR)) continue;
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;  // visually hidden (sr-only)
    if (box.left < -SLACK || box.right > width + SLACK) {
      problems.push(`${name(el)} is outside the viewport: ${Math.round(box.left)}..${Math.round(box.right)} of ${width} px`);
      continue;
    }
    for (const [a, horizontal, vertical] of clippers(el)) {
      const clip = a.getBoundingClientRect();
      const out = (horizontal && (box.left < clip.left - SLACK || box.right > clip.right + SLACK))
        || (vertical && (box.top < clip.top - SLACK || box.bottom > clip.bottom + SLACK));
      if (out) {
        problems.push(`${name(el)} is cut off by ${name(a).split(' ')[0]}: `
          + `x ${Math.round(box.left)}..${Math.round(box.right)}, y ${Math.round(box.top)}..${Math.round(box.bottom)} `
          + `outside x ${Math.round(clip.left)}..${Math.round(clip.right)}, y ${Math.round(clip.top)}..${Math.round(clip.bottom)}`);
        break;
      }
    }
    const style = getComputedStyle(el);
    if ((el.tagName === 'BUTTON' || el.getAttribute('role') === 'button') && style.overflowX === 'visible'
        && el.scrollWidth > el.clientWidth + SLACK) {
      problems.push(`${name(el)} overflows its own box: ${el.scrollWidth} px of text in ${el.clientWidth} px`);
    }
  }
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + SLACK) {
    problems.push(`the page scrolls horizontally: ${page.scrollWidth} px wide in a ${page.clientWidth} px viewport`);
  }
  return problems;
}
"""


async def cut_off(page: Page) -> list[str]:
    """What the rule above finds on the page as it is now: an empty list when nothing is cut off."""
    problems = await page.evaluate(CUT_OFF)
    return [str(p) for p in problems]
