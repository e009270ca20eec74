// Captions under the call bar: each IVR prompt's text as it plays, and what the IVR understood ("You said: billing").
// The gateway sends them as transient `caption` frames (docs/protocol.md); they are not part of the conversation's
// history. The CC button turns them on and off; the choice is kept in localStorage for this gateway.

import { CAPTIONS_KEY } from './config.js';
import { W } from './state.js';
import { captionLine, captionsOn, keepLast } from './caption_text.js';
import { store } from './storage.js';
import { ui } from './panel.js';

const CC = { callId: null, lines: [], on: captionsOn(store.get(CAPTIONS_KEY)) };

function liveCall() {
  const c = W.call;
  return c && c.status !== 'ended' ? c : null;
}

export function onCaption(f) {
  const c = liveCall();
  if (!c || f.call_id !== c.id) return; // another tab's call, or an old one
  const line = captionLine(f.kind, f.text);
  if (!line) return;
  if (CC.callId !== c.id) { CC.callId = c.id; CC.lines = []; }
  CC.lines = keepLast(CC.lines, line);
  if (!CC.on || !ui.captions) return;
  // Append (a live region reads out what is added) and drop what scrolled out.
  ui.captions.append(lineEl(line));
  while (ui.captions.childElementCount > CC.lines.length) ui.captions.firstElementChild.remove();
  renderCaptions();
  ui.captions.scrollTop = ui.captions.scrollHeight;   // the latest line in view where the box is short (landscape)
}

/** An agent came on the line: what the IVR and the queue said before ("Connecting you to your agent.") is over. */
export function clearCaptions() {
  CC.lines = [];
  if (ui.captions) ui.captions.replaceChildren();
  renderCaptions();
}

export function toggleCaptions() {
  CC.on = !CC.on;
  store.set(CAPTIONS_KEY, CC.on ? 'on' : 'off');
  if (ui.captions) ui.captions.replaceChildren(...(CC.on ? CC.lines.map(lineEl) : []));
  renderCaptions();
}

/** Called by the call bar on every render: the CC button while a call is live, the lines of this call. */
export function renderCaptions() {
  if (!ui.captions) return;
  const c = liveCall();
  ui.ccToggle.hidden = !c;
  ui.ccToggle.setAttribute('aria-pressed', String(CC.on));
  ui.ccToggle.title = CC.on ? 'Hide captions' : 'Show captions';
  const current = !!c && CC.callId === c.id;
  if (!current && ui.captions.childElementCount) ui.captions.replaceChildren();
  ui.captions.hidden = !(CC.on && current && CC.lines.length);
}

function lineEl(line) {
  const p = document.createElement('p');
  p.className = `caption caption-${line.kind}`;
  p.dir = 'auto';   // the prompt's words in their own direction, whatever the widget's
  p.textContent = line.text;
  return p;
}

/** For tests and diagnostics: whether captions are on, and the lines of the current call. */
export function captionsState() {
  return { on: CC.on, lines: CC.lines.map((l) => l.text) };
}
