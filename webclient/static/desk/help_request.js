// "Ask for help" in the conversation's header: the agent asks a supervisor for help with the chat on screen, with a
// few optional words of why (a small dialog), or cancels the request while it is open ("Help requested · Cancel").
// Whether one is open is read off the conversation's timeline (help_rules.js openHelp), so a reload, another tab or a
// supervisor's answer all show the same. A supervisor's answer ("I'm on it" on the wallboard) is said in a toast.
// Not offered in a closed or read-only conversation. The frame and its events: docs/protocol.md (`help`).

import { customerLabel, h, toast } from './dom.js';
import { S } from './state.js';
import { line, user } from './event_text.js';
import { focusFirst, setPending } from '../shared/focus.js';
import { HELP_TEXT_MAX, askFrame, endFrame, helpNews, helpTextProblem, openHelp } from './help_rules.js';

const ANSWER_WAIT = 8000; // a frame unanswered this long (no event, no error) takes presses again
const ERRORS = ['forbidden', 'conflict', 'bad_field', 'not_found', 'store_unavailable', 'rate_limited', 'timeline_full'];

const Hp = {
  button: null,
  next: [],            // where the focus goes when the button goes (the conversation closed under it)
  send: () => false,
  dialog: null,
  pending: null,       // {cid, kind: 'ask' | 'cancel', timer} while a frame waits for its event or error
};

const me = () => (S.agent && S.agent.id) || '';

/** The request of the agent's own open in `conv` (null: none; one the gateway said is gone counts as none). */
function mine(conv) {
  const open = conv ? openHelp(conv.events.values(), me()) : null;
  return open && open.eventId !== conv.helpGone ? open : null;
}

/** button: the header's control; next: where the focus goes when it is hidden under it; send(frame) -> false when
 * not connected. */
export function initHelp({ button, next, send }) {
  Hp.button = button;
  Hp.next = next || [];
  Hp.send = send;
  button.addEventListener('click', () => {
    const conv = S.convs.get(S.selected);
    if (!conv || conv.closed || button.getAttribute('aria-disabled') === 'true') return; // (waiting for an answer)
    if (mine(conv)) cancel(conv);
    else openAsk(conv.id);
  });
}

// ------------------------------------------------------------ the control

/** The header's control for the conversation on screen (renderHeader). */
export function renderHelp(conv) {
  const b = Hp.button;
  if (!b) return;
  const shown = !!conv && !conv.closed && !conv.returned;
  const had = document.activeElement === b;
  b.hidden = !shown;
  if (!shown) {
    if (had) focusFirst(Hp.next);
    return;
  }
  const open = mine(conv);
  // what was waiting came by another way (a history after a reconnect): it is answered
  const p = Hp.pending;
  if (p && p.cid === conv.id && (p.kind === 'ask' ? !!open : !open)) {
    clearPending();
    if (p.kind === 'ask' && askingFor(conv.id)) Hp.dialog.close();
  }
  b.dataset.open = String(!!open);
  const text = open ? 'Help requested · Cancel' : 'Ask for help';
  const label = b.querySelector('.help-label') || b;
  if (label.textContent !== text) label.textContent = text;
  b.title = open ? `You asked a supervisor for help${open.text ? `: ${open.text}` : ''}. Press to cancel the request.`
    : 'Ask a supervisor for help with this chat (the customer is not told)';
  if (open) b.removeAttribute('aria-haspopup');
  else b.setAttribute('aria-haspopup', 'dialog');
  setPending(b, !!Hp.pending && Hp.pending.cid === conv.id);
}

function wait(cid, kind) {
  clearPending();
  const p = { cid, kind };
  p.timer = setTimeout(() => {
    if (Hp.pending !== p) return;
    Hp.pending = null;
    if (kind === 'ask' && askingFor(cid)) showError('The gateway did not answer: try again in a moment.');
    rerender(cid);
  }, ANSWER_WAIT);
  Hp.pending = p;
}

function clearPending() {
  if (Hp.pending) clearTimeout(Hp.pending.timer);
  Hp.pending = null;
  if (Hp.dialog) setPending(Hp.dialog.querySelector('[data-testid=help-ask-send]'), false);
}

function rerender(cid) {
  if (S.selected === cid) renderHelp(S.convs.get(cid));
}

function cancel(conv) {
  if (!Hp.send(endFrame(conv.id))) {
    toast('Not connected: try again in a moment.');
    return;
  }
  wait(conv.id, 'cancel');
  renderHelp(conv);
}

// ------------------------------------------------------------ the dialog

function ensureDialog() {
  if (Hp.dialog) return Hp.dialog;
  const title = h('h2', { id: 'help-ask-title', text: 'Ask a supervisor for help' });
  const note = h('p', { id: 'help-ask-note', class: 'help-ask-note',
    text: 'Supervisors see your request on the wallboard and may watch this chat. The customer is not told.' });
  const label = h('label', { htmlFor: 'help-ask-text', text: 'What do you need? ' },
    h('span', { class: 'hint', text: '(optional)' }));
  const box = h('input', { type: 'text', id: 'help-ask-text', 'data-testid': 'help-ask-text', maxLength: HELP_TEXT_MAX,
    autocomplete: 'off', placeholder: 'e.g. angry about a refund', 'aria-describedby': 'help-ask-limit help-ask-error' });
  const limit = h('p', { id: 'help-ask-limit', class: 'help-ask-limit', text: `Up to ${HELP_TEXT_MAX} characters.` });
  const error = h('p', { id: 'help-ask-error', class: 'cs-field-error', 'data-testid': 'help-ask-error', role: 'alert' });
  const close = h('button', { type: 'button', class: 'btn', 'data-testid': 'help-ask-cancel', text: 'Cancel' });
  const go = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'help-ask-send', text: 'Send' });
  const form = h('form', { method: 'dialog' }, title, note, label, box, limit, error,
    h('div', { class: 'leave-confirm-actions' }, close, go));
  const dialog = h('dialog', { class: 'leave-confirm help-ask', 'data-testid': 'help-ask',
    'aria-labelledby': 'help-ask-title', 'aria-describedby': 'help-ask-note' }, form);
  close.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const cid = dialog.dataset.conversationId;
    const problem = helpTextProblem(box.value);
    if (problem) { showError(problem); return; }
    if (go.getAttribute('aria-disabled') === 'true') return; // one at a time: its answer first
    error.textContent = '';
    box.removeAttribute('aria-invalid');
    if (!Hp.send(askFrame(cid, box.value))) { showError('Not connected: try again in a moment.'); return; }
    wait(cid, 'ask');
    setPending(go, true); // (aria-disabled: the focus stays on it)
    rerender(cid);
  });
  // back to the header's control, which now reads "Help requested · Cancel" when it went through
  dialog.addEventListener('close', () => focusFirst([Hp.button, ...Hp.next]));
  document.body.append(dialog);
  Hp.dialog = dialog;
  return dialog;
}

function askingFor(cid) {
  return !!Hp.dialog && Hp.dialog.open && Hp.dialog.dataset.conversationId === cid;
}

function showError(message) {
  if (!Hp.dialog) return;
  Hp.dialog.querySelector('[data-testid=help-ask-error]').textContent = message;
  const box = Hp.dialog.querySelector('[data-testid=help-ask-text]');
  box.setAttribute('aria-invalid', 'true');
  box.focus();
}

function openAsk(cid) {
  const d = ensureDialog();
  d.dataset.conversationId = cid;
  d.querySelector('[data-testid=help-ask-error]').textContent = '';
  const box = d.querySelector('[data-testid=help-ask-text]');
  box.value = '';
  box.removeAttribute('aria-invalid');
  setPending(d.querySelector('[data-testid=help-ask-send]'), false);
  d.showModal();
  box.focus();
}

// ------------------------------------------------------------ what the gateway says

/** A new event of `conv` (live): the agent's own request opened, ended by them, or answered by a supervisor (said in
 * a toast, naming the customer when another chat is on screen). */
export function onHelpEvent(conv, ev) {
  const news = helpNews(ev, me());
  if (!news) return;
  if (Hp.pending && Hp.pending.cid === conv.id) clearPending();
  if (news.kind === 'asked' && askingFor(conv.id)) Hp.dialog.close();
  if (news.kind === 'answered') {
    toast(line`${user(news.by)} is on it${S.selected === conv.id ? '' : line` · ${user(customerLabel(conv))}`}`);
  }
  rerender(conv.id);
}

/** An error frame while a help frame waits for its answer: said in the dialog (asking) or a toast (cancelling). True
 * when it was ours. */
export function onHelpError(f) {
  const p = Hp.pending;
  if (!p || f.call_id || f.client_id || !ERRORS.includes(f.code)) return false;
  clearPending();
  const conv = S.convs.get(p.cid);
  if (p.kind === 'ask' && askingFor(p.cid)) {
    showError(f.message || f.code);
  } else if (p.kind === 'cancel' && f.code === 'conflict' && conv) {
    // the gateway has none open (the chat left and came back, or it was answered a moment ago): none here either
    const open = mine(conv);
    if (open) conv.helpGone = open.eventId;
    toast('No help request is open in this chat any more.');
  } else {
    toast(f.message || `Error: ${f.code}`);
  }
  rerender(p.cid);
  return true;
}

/** The chat left this agent (closed, handed on): its dialog closes, nothing waits for it any more. */
export function onHelpGone(cid) {
  if (Hp.pending && Hp.pending.cid === cid) clearPending();
  if (askingFor(cid)) Hp.dialog.close();
}
