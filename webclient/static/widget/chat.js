// Chat: the agent's typing indicator, our typing frames, and sending a message through the outbox.

import { MAX_DRAFT_CHARS, MAX_FRAME_BYTES, MAX_TEXT_CHARS } from '../shared/protocol.js';
import { DRAFT_KEY, TEXT, TYPING_IDLE, TYPING_SHOW, TYPING_THROTTLE } from './config.js';
import { sessionSet } from './storage.js';
import { W, saveNow } from './state.js';
import { autoGrow, scrollToBottom, setFlash, ui } from './panel.js';
import { byteLength, clip, codePoints } from '../shared/text.js';
import { markFailed, renderPending } from './timeline.js';
import { newClientId } from '../shared/ids.js';
import { sock } from './connection.js';

// ------------------------------------------------------------ agent typing indicator

let typingHideTimer = null;
export function showTyping(name) {
  ui.typingText.textContent = TEXT.typing(name);
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
  stopTyping();
  ui.input.value = '';
  sessionSet(DRAFT_KEY, '');
  autoGrow();
  const entry = { client_id: newClientId('m-'), text, ts: Date.now() };
  const frame = { type: 'message', client_id: entry.client_id, text };
  const tooLong = codePoints(text) > MAX_TEXT_CHARS || byteLength(JSON.stringify(frame)) > MAX_FRAME_BYTES;
  renderPending(entry);
  scrollToBottom(true);
  if (tooLong) {
    // The gateway would refuse it anyway; fail it here so it never sits in the outbox.
    markFailed(entry.client_id, TEXT.tooLong);
    setFlash(TEXT.tooLong);
    return;
  }
  W.outbox.push(entry);
  saveNow();
  if (sock.ready) sendFrame(frame);
}

export function sendFrame(obj) {
  return sock.send(obj);
}
