// Writing: typing frames, sending messages and notes through the outbox, status, closing; selecting a
// conversation.

import { MAX_FRAME_BYTES } from '../shared/protocol.js';
import { lengthNote } from '../shared/length.js';
import { S, ensureConv, saveDraftsSoon, saveOutbox, ui } from './state.js';
import { TYPING_IDLE, TYPING_REFRESH } from './config.js';
import { newClientId } from '../shared/ids.js';
import { removeConv, requestHistory, send, sock } from './connection.js';
import { renderComposerState, renderConvList, renderMain } from './conversations.js';
import { toast } from './dom.js';
import { upsertPendingEl } from './timeline.js';

// ------------------------------------------------------------ outgoing

export const typing = {
  conv: null,
  active: false,
  lastSent: 0,
  idle: null,
  wanted() {
    const conv = S.convs.get(S.selected);
    return !!(conv && !conv.closed && !ui.noteMode.checked && ui.composer.value.trim());
  },
};

export function onComposerInput() {
  const conv = S.convs.get(S.selected);
  if (!conv) return;
  conv.draft = ui.composer.value;
  saveDraftsSoon();
  if (!typing.wanted()) { stopTyping(); return; }
  const now = Date.now();
  if (!typing.active || typing.conv !== conv.id || now - typing.lastSent >= TYPING_REFRESH) {
    if (typing.active && typing.conv !== conv.id) stopTyping();
    if (sock.ready && send({ type: 'typing', conversation_id: conv.id, active: true })) {
      typing.active = true;
      typing.conv = conv.id;
      typing.lastSent = now;
    }
  }
  clearTimeout(typing.idle);
  typing.idle = setTimeout(stopTyping, TYPING_IDLE);
}

export function stopTyping() {
  clearTimeout(typing.idle);
  typing.idle = null;
  if (typing.active && typing.conv && sock.ready) {
    send({ type: 'typing', conversation_id: typing.conv, active: false });
  }
  typing.active = false;
  typing.conv = null;
}

export function submit() {
  const conv = S.convs.get(S.selected);
  if (!conv || conv.closed) return;
  const text = ui.composer.value;
  if (!text.trim()) return;
  const kind = ui.noteMode.checked ? 'note' : 'message';
  const p = { client_id: newClientId('a-'), kind, text, ts: Date.now(), status: 'sending' };
  const frame = { type: kind, conversation_id: conv.id, client_id: p.client_id, text };
  const long = lengthNote(text);
  if (long.over || new TextEncoder().encode(JSON.stringify(frame)).length > MAX_FRAME_BYTES) {
    // refused before anything is sent: the text stays in the box to be shortened, never thrown away
    toast(long.over ? long.text : `Your ${kind} is too long to send — shorten it or send it in parts.`);
    ui.composer.focus();
    return;
  }
  stopTyping();
  conv.pending.set(p.client_id, p);
  ui.composer.value = '';
  conv.draft = '';
  saveDraftsSoon();
  saveOutbox();
  if (sock.ready) send(frame);
  upsertPendingEl(conv, p, true);
  ui.composer.focus();
}

export function setStatus(status) {
  if (!sock.ready) { toast('Not connected — try again in a moment.'); return; }
  send({ type: 'status', status });
}

export function closeSelected() {
  closeConversation(S.selected, ui.disposition.value || S.dispositions[0]);
}

/** Close conversation `id` with `disposition` (the header's Close, the after-call bar's): true if asked for. */
export function closeConversation(id, disposition) {
  const conv = S.convs.get(id);
  if (!conv || conv.closed || S.closing) return false;
  if (!disposition) { toast('Choose a disposition first.'); return false; }
  if (!sock.ready) { toast('Not connected — try again in a moment.'); return false; }
  if (id === S.selected) stopTyping();
  S.closing = conv.id;
  send({ type: 'close', conversation_id: conv.id, disposition });
  renderComposerState();
  return true;
}

// ------------------------------------------------------------ selection

export function select(id) {
  if (S.selected === id) return;
  const prev = S.convs.get(S.selected);
  if (prev) {
    prev.draft = ui.composer.value;
    prev.note = ui.noteMode.checked;
    prev.disposition = ui.disposition.value;
    stopTyping();
    if (prev.closed) removeConv(prev.id);
  }
  S.selected = id;
  const conv = S.convs.get(id);
  if (conv) {
    conv.unread = 0;
    ui.composer.value = conv.draft || '';
    ui.noteMode.checked = !!conv.note;
    // each conversation its own disposition: the one chosen for the last one is not this one's
    ui.disposition.value = S.dispositions.includes(conv.disposition) ? conv.disposition : (S.dispositions[0] || '');
    if (!conv.historyLoaded) requestHistory(conv);
  }
  saveDraftsSoon();
  renderMain();
  renderConvList();
}

/** Show a conversation (the softphone opens the caller's when it rings), even before its history is here. */
export function openConversation(id) {
  if (!id || !S.running) return;
  const conv = ensureConv(id);
  if (S.selected === id) { if (!conv.historyLoaded) requestHistory(conv); return; }
  select(id);
}
