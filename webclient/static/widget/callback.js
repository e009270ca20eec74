// Callbacks and call invitations: the pending-callback line, the incoming-call banner, its ring and notification.

import { clockTime } from '../shared/clock.js';
import { DECLINED_INVITE_KEY, TEXT } from './config.js';
import { W } from './state.js';
import { callLive, startCall } from './call.js';
import { cmpId } from '../shared/ids.js';
import { focusIsFree, keepFocus, open, ui } from './panel.js';
import { renderSystem } from './timeline.js';
import { sendFrame } from './chat.js';
import { sessionSet } from './storage.js';
import { dismissCallbar } from './callbar.js';

// ------------------------------------------------------------ callbacks and call invitations

let ringExpiry = null;
export let ringTone = null;

function clockText(ms) {
  return clockTime(new Date(ms));
}

export function onCallbackEvent(ev, live) {
  const id = ev.callback_id;
  if (typeof id !== 'string') return;
  switch (ev.action) {
    case 'requested':
      W.callback = { id, state: 'scheduled', asap: !!ev.asap, dueMs: Number(ev.due_ms) || 0, ringUntil: 0, agentName: '' };
      renderSystem(ev, TEXT.callbackBooked(!!ev.asap, clockText(Number(ev.due_ms) || Date.now())));
      if (live) askNotificationPermission();
      break;
    case 'queued':
      if (W.callback && W.callback.id === id) W.callback.state = 'queued';
      break;
    case 'attempt':
      if (W.invite && cmpId(ev.id, W.invite.eventId) > 0) W.invite = null;  // the callback's ringing replaces it
      if (!W.callback || W.callback.id !== id) W.callback = { id, asap: true, dueMs: 0 };
      W.callback.state = 'ringing';
      W.callback.ringUntil = Number(ev.ring_until) || 0;
      W.callback.agentName = ev.agent_name || '';
      renderSystem(ev, TEXT.callbackCalling(ev.agent_name));
      if (live && W.callback.ringUntil > Date.now()) notify(TEXT.callbackCalling(ev.agent_name));
      break;
    case 'outcome':
      if (W.callback && W.callback.id === id) {
        W.callback.state = 'scheduled';
        W.callback.asap = false;
        W.callback.dueMs = Number(ev.next_attempt_ms) || 0;
        W.callback.ringUntil = 0;
      }
      renderSystem(ev, TEXT.callbackRetry(clockText(Number(ev.next_attempt_ms) || Date.now())));
      break;
    case 'closed':
      if (W.callback && W.callback.id === id) W.callback = null;
      renderSystem(ev, TEXT.callbackClosed[ev.outcome] || 'Callback closed');
      break;
    default:
      return;
  }
  renderCallback();
}

/** The pending-callback line and the incoming-call banner, from `callback` and `invite`. */
export function renderCallback() {
  if (!ui.root) return;
  const now = Date.now();
  const waiting = W.callback && (W.callback.state === 'scheduled' || W.callback.state === 'queued');
  ui.cbBanner.hidden = !waiting;
  if (waiting) {
    ui.cbText.textContent = W.callback.asap ? TEXT.callbackAsap : TEXT.callbackAt(clockText(W.callback.dueMs));
  }
  let text = '';
  let until = 0;
  if (W.callback && W.callback.state === 'ringing' && W.callback.ringUntil > now && !callLive(W.call)) {
    text = TEXT.callbackCalling(W.callback.agentName || W.conv.agentName);
    until = W.callback.ringUntil;
  } else if (W.invite && W.invite.ringUntil > now && !callLive(W.call)) {
    text = TEXT.invitation(W.invite.agentName);
    until = W.invite.ringUntil;
  }
  const appears = !!text && ui.incoming.hidden;
  ui.incoming.hidden = !text;
  ui.incomingText.textContent = text;
  clearTimeout(ringExpiry);
  if (text) {
    ringExpiry = setTimeout(renderCallback, Math.max(0, until - now) + 50);
    dismissCallbar(); // a new ring replaces the last call's "The call ended" bar
    // the banner (an alertdialog, announced anyway) takes the focus on Answer only when that takes it from nothing:
    // the panel was open and the focus on <body> or a button of the panel. Not while the customer types (the
    // message box, empty or not, the rating's comment, a field of the page): their next Space or Enter answered
    // the call (a review). A closed panel opens without taking the focus (it took it from a field of the host page:
    // an accessibility tester's finding); then the same rule.
    if (!W.isOpen) open({ focus: false });
    const takeFocus = appears && focusIsFree();
    startRingTone();
    if (takeFocus) {
      setTimeout(() => { if (!ui.incoming.hidden && focusIsFree()) ui.incomingAnswer.focus({ preventScroll: true }); }, 0);
    }
  } else {
    stopRingTone();
    keepFocus(); // (Answer, Decline, or the ring ran out with the focus on them)
  }
}

export function answerIncoming() {
  W.invite = null;
  if (W.callback && W.callback.state === 'ringing') W.callback.state = 'connecting';
  ui.incoming.hidden = true;
  stopRingTone();
  startCall();
}

export function declineIncoming() {
  if (W.callback && W.callback.state === 'ringing' && W.callback.ringUntil > Date.now()) {
    sendFrame({ type: 'callback_cancel', callback_id: W.callback.id });
    W.callback.state = 'declining';
  } else if (W.invite) {
    sessionSet(DECLINED_INVITE_KEY, W.invite.eventId);  // a reload does not ring again for it
    if (W.conv.id) sendFrame({ type: 'call_invite_decline', conversation_id: W.conv.id }); // the agent is told
  }
  W.invite = null;
  renderCallback();
}

export function cancelCallback() {
  if (W.callback) sendFrame({ type: 'callback_cancel', callback_id: W.callback.id });
}

function askNotificationPermission() {
  if (typeof Notification === 'function' && Notification.permission === 'default') {
    try { Notification.requestPermission().catch(() => {}); } catch (_) { /* older browsers */ }
  }
}

/** A Web Notification for the ringing, when allowed and the customer may not be looking at this page. */
export function notify(text) {
  if (typeof Notification !== 'function' || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible' && document.hasFocus()) return; // the banner and the ring say it
  try {
    const n = new Notification('Contact us', { body: text, tag: 'cg-incoming' });
    n.onclick = () => { window.focus(); open(); n.close(); };
  } catch (_) { /* notifications unavailable in this context */ }
}

/** A soft double beep every 3 s while the banner rings (WebAudio; silent until the page was interacted with). */
function startRingTone() {
  if (ringTone) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  let ctx;
  try { ctx = new Ctx(); } catch (_) { return; }
  const beep = () => {
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const t = ctx.currentTime;
    for (const start of [0, 0.35]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 660;
      gain.gain.setValueAtTime(0.0001, t + start);
      gain.gain.exponentialRampToValueAtTime(0.08, t + start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + start + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + start);
      osc.stop(t + start + 0.3);
    }
  };
  beep();
  ringTone = { ctx, timer: setInterval(beep, 3000) };
}

function stopRingTone() {
  if (!ringTone) return;
  clearInterval(ringTone.timer);
  ringTone.ctx.close().catch(() => {});
  ringTone = null;
}
