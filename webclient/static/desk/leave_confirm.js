// Asking before the Log out button ends the agent's last session with chats still open: on the gateway those
// chats then go back to the queue for another agent (POST /api/agent/logout, docs/protocol.md).

import { h } from './dom.js';

let dialog = null;

function ensureDialog() {
  if (dialog) return dialog;
  const title = h('h2', { id: 'leave-confirm-title', text: 'Log out?' });
  const text = h('p', { id: 'leave-confirm-text', 'data-testid': 'leave-confirm-text' });
  const stay = h('button', { type: 'button', class: 'btn', 'data-testid': 'leave-confirm-stay', text: 'Stay signed in' });
  const leave = h('button', { type: 'button', class: 'btn danger', 'data-testid': 'leave-confirm-go', text: 'Log out' });
  dialog = h('dialog', {
    class: 'leave-confirm', 'data-testid': 'leave-confirm',
    'aria-labelledby': 'leave-confirm-title', 'aria-describedby': 'leave-confirm-text',
  }, title, text, h('div', { class: 'leave-confirm-actions' }, stay, leave));
  stay.addEventListener('click', () => dialog.close('stay'));
  leave.addEventListener('click', () => dialog.close('leave'));
  document.body.append(dialog);
  return dialog;
}

/** The words for ``open`` open chats (a pure function: webclient/tests/leave_confirm.test.mjs). */
export function leaveText(open) {
  const chats = open === 1 ? 'an open chat' : `${open} open chats`;
  const them = open === 1 ? 'It goes' : 'They go';
  return `You have ${chats}. Unless your desk is open in another tab or browser, ${them.toLowerCase()} back to the queue `
    + 'for another agent, and the customer keeps their place.';
}

/** ``onLeave`` at once with no open chat; otherwise after the agent confirms (Esc or "Stay signed in": nothing). */
export function confirmLeave(open, onLeave, returnFocus) {
  if (open <= 0) { onLeave(); return; }
  const d = ensureDialog();
  d.querySelector('[data-testid=leave-confirm-text]').textContent = leaveText(open);
  d.returnValue = '';
  d.addEventListener('close', () => {
    if (d.returnValue === 'leave') onLeave();
    else if (returnFocus) returnFocus.focus();
  }, { once: true });
  d.showModal();
  d.querySelector('[data-testid=leave-confirm-stay]').focus();
}
