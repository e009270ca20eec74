// Moving the focus on purpose (WCAG 2.4.3): when the control that had it is hidden, disabled or removed, the
// focus must not fall to <body> (a screen reader loses its place, and the next Tab starts from somewhere else).

/** Can `el` take the focus now: in the page, not disabled, not inside something hidden, rendered. */
export function usable(el) {
  return !!el && el.isConnected && !el.disabled && !el.closest('[hidden], [inert]') && el.getClientRects().length > 0;
}

/** Is the focus lost: on nothing, on <body>, or on an element that can no longer have it. */
export function focusLost(el) {
  return !el || el === el.ownerDocument.body || !usable(el);
}

/** Focus the first usable element of `list` (nulls skipped); returns it, or null when none is. */
export function focusFirst(list, opts) {
  for (const el of list) {
    if (usable(el)) {
      el.focus(opts);
      return el;
    }
  }
  return null;
}

/** Keep the focus on a button whose action is pending: aria-disabled (focusable, announced as dimmed) rather than
 * `disabled` (which throws the focus away). The click handler must ignore it while pending. */
export function setPending(btn, pending) {
  if (pending) btn.setAttribute('aria-disabled', 'true');
  else btn.removeAttribute('aria-disabled');
}

const TEXT_TYPES = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', '']);

/** Is `el` a field the user types into (a text input, a textarea, contenteditable)? A key meant for it must never
 * land on a control that took the focus meanwhile (Space or Enter there answers a call). */
export function typingField(el) {
  if (!el || el.nodeType !== 1) return false;
  if (el.isContentEditable) return true;
  const tag = String(el.tagName || '').toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  return tag === 'input' && TEXT_TYPES.has(String(el.type || '').toLowerCase());
}

/** Turn `btn` off (or on). When it had the focus and is turned off, the focus goes on to the first usable element of
 * `next` on purpose, not to <body> (for a button that stays off a while; a pending one: setPending). */
export function setDisabled(btn, off, next) {
  const root = btn.getRootNode();
  const had = !!root && root.activeElement === btn;
  btn.disabled = off;
  if (had && off) focusFirst(next);
}
