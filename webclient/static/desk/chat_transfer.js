// Handing a chat to a colleague or to a queue (the conversation header's Transfer; frame `transfer`,
// docs/protocol.md). A chat with a call going on is moved by the call's own transfer instead (the softphone's).
// The gateway answers an accepted transfer with `unassigned` (reason transferred), a refused one with an error frame
// naming why (transfer_refused, bad_field): shown in the dialog, which stays open to try another target.

import { h } from './dom.js';
import { S } from './state.js';
import { setPending } from '../shared/focus.js';

let dialog = null;
let pending = null; // { conversationId } while a transfer request waits for its answer

/** The agents a chat or a call can be handed to, for the datalists: everyone but oneself who takes contacts
 * (``takers``: the gateway's takes_contacts, null when it did not say), by name (pure: no DOM). */
export function transferTargets(names, me, takers = null) {
  const takes = Array.isArray(takers) ? new Set(takers) : null;
  return Object.entries(names || {})
    .filter(([id]) => id && id !== me && (!takes || takes.has(id)))
    .map(([id, name]) => ({ id, label: name && name !== id ? `${name} (${id})` : id }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** The frame for what the agent typed: an agent id (or "Name (id)" picked from the list) or a queue name. */
export function transferFrame(conversationId, kind, typed) {
  const text = String(typed || '').trim();
  const picked = /\(([^()\s]+)\)$/.exec(text);
  const value = kind === 'agent' && picked ? picked[1] : text;
  if (!value) return null;
  return kind === 'queue'
    ? { type: 'transfer', conversation_id: conversationId, queue: value }
    : { type: 'transfer', conversation_id: conversationId, agent_id: value };
}

function ensureDialog(send) {
  if (dialog) return dialog;
  const title = h('h2', { id: 'chat-transfer-title', text: 'Transfer this chat' });
  const toAgent = h('input', { type: 'radio', name: 'kind', value: 'agent', id: 'chat-transfer-agent', checked: true });
  const toQueue = h('input', { type: 'radio', name: 'kind', value: 'queue', id: 'chat-transfer-queue' });
  const kinds = h('fieldset', { class: 'chat-transfer-kinds' }, h('legend', { text: 'To' }),
    h('label', { htmlFor: 'chat-transfer-agent' }, toAgent, ' an agent'),
    h('label', { htmlFor: 'chat-transfer-queue' }, toQueue, ' a queue'));
  const target = h('input', { type: 'text', id: 'chat-transfer-target', 'data-testid': 'chat-transfer-target',
    autocomplete: 'off', maxLength: 64, 'aria-describedby': 'chat-transfer-error' });
  target.setAttribute('list', 'chat-transfer-agents'); // (a read-only property: the attribute only)
  const label = h('label', { htmlFor: 'chat-transfer-target', id: 'chat-transfer-target-label', text: 'Agent' });
  const options = h('datalist', { id: 'chat-transfer-agents' });
  const queues = h('datalist', { id: 'chat-transfer-queues' });
  const error = h('p', { id: 'chat-transfer-error', class: 'cs-field-error', 'data-testid': 'chat-transfer-error',
    role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel' });
  const go = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'chat-transfer-go', text: 'Transfer' });
  const form = h('form', { method: 'dialog' }, title, kinds, label, target, options, queues, error,
    h('div', { class: 'leave-confirm-actions' }, cancel, go));
  dialog = h('dialog', { class: 'leave-confirm chat-transfer', 'data-testid': 'chat-transfer',
    'aria-labelledby': 'chat-transfer-title' }, form);
  const kindNow = () => (toQueue.checked ? 'queue' : 'agent');
  kinds.addEventListener('change', () => {
    label.textContent = kindNow() === 'queue' ? 'Queue' : 'Agent';
    target.setAttribute('list', kindNow() === 'queue' ? 'chat-transfer-queues' : 'chat-transfer-agents');
    target.focus();
  });
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const frame = transferFrame(dialog.dataset.conversationId, kindNow(), target.value);
    if (!frame) { showError(kindNow() === 'queue' ? 'Type a queue name.' : 'Type or pick an agent.'); return; }
    if (pending) return; // one at a time: its answer first
    error.textContent = '';
    target.removeAttribute('aria-invalid');
    if (send(frame)) {
      pending = { conversationId: frame.conversation_id };
      setPending(go, true); // (aria-disabled: the focus stays on it; a second submit is ignored while pending)
    } else showError('Not connected: try again in a moment.');
  });
  dialog.addEventListener('close', () => { pending = null; setPending(go, false); });
  document.body.append(dialog);
  return dialog;
}

function showError(message) {
  if (!dialog) return;
  setPending(dialog.querySelector('[data-testid=chat-transfer-go]'), false); // fix the target, try again
  dialog.querySelector('[data-testid=chat-transfer-error]').textContent = message;
  const target = dialog.querySelector('[data-testid=chat-transfer-target]');
  target.setAttribute('aria-invalid', 'true');
  target.focus();
}

/** Open the dialog for the selected conversation. */
export function openChatTransfer(conversationId, send, returnFocus) {
  const d = ensureDialog(send);
  d.dataset.conversationId = conversationId;
  d.querySelector('#chat-transfer-agents').replaceChildren(...transferTargets(S.agentNames, S.agent && S.agent.id, S.takesContacts)
    .map((t) => h('option', { value: t.label })));
  d.querySelector('#chat-transfer-queues').replaceChildren(...S.queueNames.map((q) => h('option', { value: q })));
  d.querySelector('[data-testid=chat-transfer-error]').textContent = '';
  const target = d.querySelector('[data-testid=chat-transfer-target]');
  target.value = '';
  target.removeAttribute('aria-invalid');
  if (returnFocus) d.addEventListener('close', () => returnFocus.focus(), { once: true });
  d.showModal();
  target.focus();
}

/** An error frame while a transfer waits for its answer: shown in the dialog (true: handled here). */
export function onTransferError(f) {
  if (!pending || !dialog || !dialog.open) return false;
  if (f.call_id || f.client_id) return false; // the softphone's, or a message's: not ours
  if (!['transfer_refused', 'bad_field', 'forbidden', 'not_found', 'conflict', 'store_unavailable', 'rate_limited']
    .includes(f.code)) return false;
  pending = null;
  showError(f.message || f.code);
  return true;
}

/** The chat left this agent (unassigned): the transfer went through, or it closed or went back to the queue (the
 *  dialog stayed open over a chat its customer had ended: an exploratory test). */
export function onTransferred(conversationId) {
  if (dialog && dialog.open && dialog.dataset.conversationId === conversationId) dialog.close();
}
