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

/** The words for ``open`` open conversations, a call in progress (``onCall``: logging out hangs it up; it said
 * nothing of the call, an exploratory test) and ``callsDone`` of them finished calls nobody wrote in, which the
 * gateway closes (``agent_left``) instead of queueing (they were called open chats going back to the queue: an
 * exploratory test) (a pure function: webclient/tests/leave_confirm.test.mjs). */
export function leaveText(open, onCall = false, callsDone = 0) {
  const call = onCall ? 'You are on a call: logging out hangs it up and closes its conversation. ' : '';
  const others = Math.max(0, open - (onCall ? 1 : 0) - callsDone); // the call's own conversation ends with it
  let text = call;
  if (others > 0) {
    const chats = others === 1 ? `an${onCall ? 'other' : ''} open chat` : `${others} ${onCall ? 'other ' : ''}open chats`;
    const them = others === 1 ? 'It goes' : 'They go';
    text += `You have ${chats}. Unless your desk is open in another tab or browser, ${them.toLowerCase()} back to `
      + 'the queue for another agent, and the customer keeps their place. ';
  }
  if (callsDone > 0) {
    text += callsDone === 1
      ? 'The conversation of your finished call is closed for you (nobody wrote in it: nobody waits for an answer).'
      : `The conversations of your ${callsDone} finished calls are closed for you (nobody wrote in them: nobody `
        + 'waits for an answer).';
  }
  return text.trim();
}

/** ``onLeave`` at once with no open chat and no call; otherwise after the agent confirms (Esc or "Stay signed in":
 * nothing). */
export function confirmLeave(open, onLeave, returnFocus, onCall = false, callsDone = 0) {
  if (open <= 0 && !onCall) { onLeave(); return; }
  const d = ensureDialog();
  d.querySelector('[data-testid=leave-confirm-text]').textContent = leaveText(open, onCall, callsDone);
  d.returnValue = '';
  d.addEventListener('close', () => {
    if (d.returnValue === 'leave') onLeave();
    else if (returnFocus) returnFocus.focus();
  }, { once: true });
  d.showModal();
  d.querySelector('[data-testid=leave-confirm-stay]').focus();
}
