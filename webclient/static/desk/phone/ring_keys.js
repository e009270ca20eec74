// The keyboard while a call rings (pure: no DOM; webclient/tests/ring_keys.test.mjs).
//
// What a desk phone does: the ringing banner (role=alertdialog) takes the focus, on Accept, so Enter or Space
// answers, unless the agent is typing. Then focus stays where it is: a keystroke meant for the chat (Enter sends
// the reply) must not answer or decline a call, as happens when a softphone pops a focused dialog mid-sentence.
// Instead the banner says the shortcut, as Teams' or Zendesk's call toasts do: Alt+Shift+A answers from anywhere
// in the desk (no character typed, no browser shortcut on Chrome, Edge or Firefox; Option+Shift+A on a Mac, where
// the Å it would type is not typed). There is no key to decline: a wrong key must never send a caller back.

export const ANSWER_KEYS = 'Alt+Shift+A';

const TEXT_INPUTS = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', '']);

/** Is `el` (document.activeElement) a place the agent types into? Then ringing must not take the focus. */
export function typingIn(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  const tag = String(el.tagName || '').toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  return tag === 'input' && TEXT_INPUTS.has(String(el.type || '').toLowerCase());
}

/** Is the key event the answer shortcut (Alt+Shift+A; the A key on any layout, whatever Alt makes it type)? */
export function isAnswerKey(e) {
  if (!e || !e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return false;
  return e.code === 'KeyA' || String(e.key || '').toLowerCase() === 'a';
}
