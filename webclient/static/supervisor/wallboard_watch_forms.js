// The watch panel's controls (wallboard_watch.js): the coach note, the message box of a supervisor in the chat (and
// the typing frames it sends), Join / Leave / Transfer… / Take over, and the transfer form. Built once; `update` shows
// what the rules allow (wallboard_watch_rules.js). What each control does is the panel's (`act`).

import { h } from '../desk/dom.js';
import { S } from '../desk/state.js';
import { TYPING_IDLE, TYPING_REFRESH } from '../desk/config.js';
import { transferFrame, transferTargets } from '../desk/chat_transfer.js';
import { setPending, usable } from '../shared/focus.js';
import { noteLabel } from './wallboard_watch_rules.js';

/** A text box that sends on Enter (Shift+Enter: a new line), as the desk's composer. */
function sendsOnEnter(box, form) {
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

function isPending(button) {
  return button.getAttribute('aria-disabled') === 'true';
}

/**
 * act: {note(text), message(text), join(), leave(), transfer(frame), takeOver(), typing(active), cid(), facts()};
 * each sending one returns false when it could not be sent. Returns the controls' root and what the panel tells them.
 */
export function buildActions(act) {
  const label = h('label', { htmlFor: 'wbw-note', 'data-testid': 'wb-watch-note-label' });
  const note = h('textarea', { id: 'wbw-note', rows: 1, 'data-testid': 'wb-watch-note' });
  const noteSend = h('button', { type: 'submit', class: 'btn small', 'data-testid': 'wb-watch-note-send',
    text: 'Send note' });
  const noteForm = h('form', { class: 'wbw-form wbw-note-form', 'data-testid': 'wb-watch-note-form' },
    label, note, h('div', { class: 'wbw-form-bar' }, noteSend));

  const hint = h('p', { class: 'wbw-hint', id: 'wbw-message-hint', 'data-testid': 'wb-watch-message-hint' });
  const message = h('textarea', { id: 'wbw-message', rows: 1, 'data-testid': 'wb-watch-message',
    'aria-describedby': 'wbw-message-hint' });
  const messageSend = h('button', { type: 'submit', class: 'btn small primary', 'data-testid': 'wb-watch-message-send',
    text: 'Send to the customer' });
  const messageForm = h('form', { class: 'wbw-form wbw-message-form', 'data-testid': 'wb-watch-message-form' },
    h('label', { htmlFor: 'wbw-message', text: 'Message to the customer' }), hint, message,
    h('div', { class: 'wbw-form-bar' }, messageSend));

  const button = (testid, text, extra = {}) => h('button', { type: 'button', class: 'btn small', 'data-testid': testid,
    text, ...extra });
  const join = button('wb-watch-join', 'Join chat');
  const leave = button('wb-watch-leave', 'Leave chat', { class: 'btn small danger' });
  const transferOpen = button('wb-watch-transfer', 'Transfer…', { 'aria-expanded': 'false', 'aria-controls': 'wbw-transfer' });
  const takeOver = button('wb-watch-takeover', 'Take over');
  const buttons = h('div', { class: 'wbw-buttons' }, join, leave, transferOpen, takeOver);

  const transfer = transferForm(act, transferOpen);

  // ------------------------------------------------------------ what they do

  noteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (isPending(noteSend) || !note.value.trim()) return;
    if (act.note(note.value)) setPending(noteSend, true);
  });
  messageForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (isPending(messageSend) || !message.value.trim()) return;
    stopTyping();
    if (act.message(message.value)) setPending(messageSend, true);
  });
  sendsOnEnter(note, noteForm);
  sendsOnEnter(message, messageForm);
  join.addEventListener('click', () => { if (!isPending(join) && act.join()) setPending(join, true); });
  leave.addEventListener('click', () => {
    if (isPending(leave)) return;
    stopTyping();
    if (act.leave()) setPending(leave, true);
  });
  takeOver.addEventListener('click', () => { if (!isPending(takeOver) && act.takeOver()) setPending(takeOver, true); });
  transferOpen.addEventListener('click', () => (transfer.form.hidden ? transfer.open(act.facts()) : transfer.close(true)));
  transfer.form.addEventListener('toggled', () => transferOpen.setAttribute('aria-expanded', String(!transfer.form.hidden)));

  // the customer sees "Sara is typing…" while the supervisor writes to them (the desk's timing: desk/config.js)
  const typing = { active: false, last: 0, idle: null };
  function stopTyping() {
    clearTimeout(typing.idle);
    if (typing.active) act.typing(false);
    typing.active = false;
  }
  message.addEventListener('input', () => {
    if (!message.value.trim()) { stopTyping(); return; }
    const now = Date.now();
    if ((!typing.active || now - typing.last >= TYPING_REFRESH) && act.typing(true)) {
      typing.active = true;
      typing.last = now;
    }
    clearTimeout(typing.idle);
    typing.idle = setTimeout(stopTyping, TYPING_IDLE);
  });

  const pendingButton = { note: noteSend, message: messageSend, join, leave, takeOver, transfer: transfer.go };
  return {
    root: h('div', { class: 'wbw-controls' }, noteForm, messageForm, buttons, transfer.form),
    boxes: { note, message, join, leave },
    /** Show what `allow` allows in conversation `f` for supervisor `me`. */
    update(f, allow, me) {
      noteForm.hidden = !allow.note;
      label.textContent = noteLabel(f, me);
      messageForm.hidden = !allow.message;
      if (!allow.message) stopTyping();
      const sees = f.agentName && f.agentId !== me ? `, and so does ${f.agentName}` : '';
      hint.textContent = `The customer sees what you write${sees}.`;
      join.hidden = !allow.join;
      leave.hidden = !allow.leave;
      transferOpen.hidden = !allow.transfer;
      takeOver.hidden = !allow.takeOver;
      buttons.hidden = !(allow.join || allow.leave || allow.transfer || allow.takeOver);
      if (!allow.transfer) transfer.close(false);
    },
    /** The action `kind` was answered (done: true) or refused: its button takes presses again. */
    settle(kind, done) {
      const b = pendingButton[kind];
      if (b) setPending(b, false);
      if (!done) return;
      if (kind === 'note') note.value = '';
      if (kind === 'message') message.value = '';
      if (kind === 'transfer') transfer.close(false);
    },
    transferFailed: (text) => transfer.fail(text),
    /** Everything back to empty (another chat, or the panel closed). */
    reset() {
      stopTyping();
      note.value = '';
      message.value = '';
      for (const b of Object.values(pendingButton)) setPending(b, false);
      transfer.close(false);
    },
    stopTyping,
  };
}

/** "Transfer…": to an agent (typed, or picked from everyone who takes contacts) or to a queue; errors in words. */
function transferForm(act, opener) {
  const toAgent = h('input', { type: 'radio', name: 'wbw-kind', value: 'agent', id: 'wbw-to-agent', checked: true });
  const toQueue = h('input', { type: 'radio', name: 'wbw-kind', value: 'queue', id: 'wbw-to-queue' });
  const kinds = h('fieldset', { class: 'wbw-kinds' }, h('legend', { text: 'Move this chat to' }),
    h('label', { htmlFor: 'wbw-to-agent' }, toAgent, ' an agent'),
    h('label', { htmlFor: 'wbw-to-queue' }, toQueue, ' a queue'));
  const label = h('label', { htmlFor: 'wbw-target', text: 'Agent' });
  const target = h('input', { type: 'text', id: 'wbw-target', 'data-testid': 'wb-watch-transfer-target',
    autocomplete: 'off', maxLength: 64, 'aria-describedby': 'wbw-transfer-error' });
  target.setAttribute('list', 'wbw-agents');
  const agents = h('datalist', { id: 'wbw-agents' });
  const queues = h('datalist', { id: 'wbw-queues' });
  const error = h('p', { id: 'wbw-transfer-error', class: 'wbw-field-error', 'data-testid': 'wb-watch-transfer-error',
    role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'btn small', text: 'Cancel' });
  const go = h('button', { type: 'submit', class: 'btn small primary', 'data-testid': 'wb-watch-transfer-go',
    text: 'Transfer' });
  const form = h('form', { class: 'wbw-transfer', id: 'wbw-transfer', 'data-testid': 'wb-watch-transfer-form',
    'aria-label': 'Transfer this chat', hidden: true },
  kinds, label, target, agents, queues, error, h('div', { class: 'wbw-form-bar' }, cancel, go));
  const kind = () => (toQueue.checked ? 'queue' : 'agent');
  const toggled = () => form.dispatchEvent(new Event('toggled'));
  kinds.addEventListener('change', () => {
    label.textContent = kind() === 'queue' ? 'Queue' : 'Agent';
    target.setAttribute('list', kind() === 'queue' ? 'wbw-queues' : 'wbw-agents');
    target.focus();
  });
  cancel.addEventListener('click', () => close(true));
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(true); } // the form, not the panel
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (isPending(go)) return;
    const frame = transferFrame(act.cid(), kind(), target.value);
    if (!frame) { fail(kind() === 'queue' ? 'Type a queue name.' : 'Type or pick an agent.'); return; }
    error.textContent = '';
    target.removeAttribute('aria-invalid');
    if (act.transfer(frame)) setPending(go, true);
  });
  function open(f) {
    agents.replaceChildren(...transferTargets(S.agentNames, f && f.agentId, S.takesContacts)
      .map((t) => h('option', { value: t.label })));
    queues.replaceChildren(...S.queueNames.map((q) => h('option', { value: q })));
    error.textContent = '';
    target.value = '';
    target.removeAttribute('aria-invalid');
    form.hidden = false;
    toggled();
    target.focus();
  }
  function close(refocus) {
    if (form.hidden) return;
    const had = form.contains(document.activeElement);
    form.hidden = true;
    setPending(go, false);
    toggled();
    if ((refocus || had) && usable(opener)) opener.focus();
  }
  function fail(text) {
    setPending(go, false);
    error.textContent = text;
    target.setAttribute('aria-invalid', 'true');
    if (!form.hidden) target.focus();
  }
  return { form, go, open, close, fail };
}
