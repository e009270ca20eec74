// The panel's two layouts: floating over the page (the page stays visible and usable beside it) and full screen on
// a phone (portrait up to 480 px wide; landscape up to 500 px high and 950 wide: a desktop window that short stays
// floating, the page beside it), where the page behind is hidden: there the panel is modal (aria-modal, and Tab goes round inside it instead of on to the hidden page).
// The CSS reads the layout from the root's data-layout (widget.css), so this query is the only place it is decided.

export const FULL_SCREEN_MEDIA = '(max-width: 480px), (max-height: 500px) and (max-width: 950px)';

/** The layout for this window: 'full' or 'float' (a browser without matchMedia: floating, as before). */
export function currentLayout(win) {
  try {
    return win.matchMedia(FULL_SCREEN_MEDIA).matches ? 'full' : 'float';
  } catch (_) {
    return 'float';
  }
}

/** Where Tab (back: Shift+Tab) goes in a modal panel of `count` tabbable elements with focus on the index-th (-1:
 * focus is not on one of them): the index to focus, or -1 to let the browser move it (it stays inside). */
export function tabTarget(count, index, back) {
  if (count <= 0) return -1;
  if (index < 0) return back ? count - 1 : 0;
  if (!back && index === count - 1) return 0;
  if (back && index === 0) return count - 1;
  return -1;
}
