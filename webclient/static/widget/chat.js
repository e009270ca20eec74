// Chat: the agent's typing indicator, our typing frames, and sending a message through the outbox.

import { MAX_DRAFT_CHARS, MAX_FRAME_BYTES } from '../shared/protocol.js';
import { DRAFT_KEY, TEXT, TYPING_IDLE, TYPING_SHOW, TYPING_THROTTLE } from './config.js';
import { sessionSet } from './storage.js';
import { W, saveNow } from './state.js';
import { autoGrow, scrollToBottom, ui } from './panel.js';
import { byteLength, clip } from '../shared/text.js';
import { lengthNote } from '../shared/length.js';
import { renderPending } from './timeline.js';
import { newClientId } from '../shared/ids.js';
import { sock } from './connection.js';

// ------------------------------------------------------------ agent typing indicator

let typingHideTimer = null;
export function showTyping(name) {
  const text = TEXT.typing(name);
  if (ui.typingText.textContent !== text) ui.typingText.textContent = text; // (the same words again: read again)
  const wasHidden = ui.typing.hidden;
  ui.typing.hidden = false;
  if (wasHidden) scrollToBottom(false);
  clearTimeout(typingHideTimer);
  typingHideTimer = setTimeout(hideTyping, TYPING_SHOW);
}
export function hideTyping() {
  clearTimeout(typingHideTimer);
  ui.typing.hidden = true;
  ui.typingText.textContent = '';
}

// ------------------------------------------------------------ our typing frames

let typingDirty = false;
let typingWindow = null;
let typingIdle = null;

export function onDraftInput() {
  const text = ui.input.value;
  renderLimit(false);
  sessionSet(DRAFT_KEY, text); // a reload (or a crash of the tab's page) does not lose a half-typed message
  if (!text.trim()) { stopTyping(); return; }
  typingDirty = true;
  if (!typingWindow) {
    flushTyping();
    typingWindow = setTimeout(onTypingWindowEnd, TYPING_THROTTLE);
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE);
}

function onTypingWindowEnd() {
  typingWindow = null;
  if (typingDirty) {
    flushTyping();
    typingWindow = setTimeout(onTypingWindowEnd, TYPING_THROTTLE);
  }
}

function flushTyping() {
  typingDirty = false;
  if (!sock.ready) return;
  const draft = clip(ui.input.value, MAX_DRAFT_CHARS);
  if (!draft.trim()) return;
  W.typingActive = true;
  sendFrame({ type: 'typing', active: true, draft });
}

function stopTyping() {
  clearTimeout(typingWindow);
  clearTimeout(typingIdle);
  typingWindow = null;
  typingIdle = null;
  typingDirty = false;
  if (W.typingActive && sock.ready) sendFrame({ type: 'typing', active: false });
  W.typingActive = false;
}

// ------------------------------------------------------------ sending

export function submit() {
  const text = ui.input.value;
  if (!text.trim()) return;
  const frame = { type: 'message', client_id: newClientId('m-'), text };
  if (lengthNote(text).over || byteLength(JSON.stringify(frame)) > MAX_FRAME_BYTES) {
    // The gateway would refuse it: say so here and keep what the customer wrote in the box to shorten or split.
    renderLimit(true);
    ui.input.focus();
    return;
  }
  stopTyping();
  ui.input.value = '';
  sessionSet(DRAFT_KEY, '');
  renderLimit(false);
  autoGrow();
  const entry = { client_id: frame.client_id, text, ts: Date.now() };
  renderPending(entry);
  scrollToBottom(true);
  W.outbox.push(entry);
  saveNow();
  if (sock.ready) sendFrame(frame);
}

/** The note above the message box: a counter near the limit, the reason over it (an alert when a send was refused). */
export function renderLimit(refused) {
  const note = lengthNote(ui.input.value);
  const text = note.text || (refused ? TEXT.tooLong : '');
  const over = note.over || refused;
  ui.limit.hidden = !text;
  ui.limit.dataset.over = over ? 'true' : 'false';
  if (refused) ui.limit.textContent = '';   // the same words again are announced again
  ui.limit.textContent = text;
  if (refused) ui.limit.setAttribute('role', 'alert');
  else if (!over) ui.limit.removeAttribute('role');
  if (over) {
    ui.input.setAttribute('aria-invalid', 'true');
    ui.input.setAttribute('aria-describedby', 'cg-limit');
  } else {
    ui.input.removeAttribute('aria-invalid');
    ui.input.removeAttribute('aria-describedby');
  }
}

export function sendFrame(obj) {
  return sock.send(obj);
}
