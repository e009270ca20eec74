// The call bar: status, timer, mute, keypad; and the call's state for tests and diagnostics.

import { CALL_TEXT } from './config.js';
import { W } from './state.js';
import { callLive, canSendRfc4733, endCall, endedText } from './call.js';
import { callTimeText } from '../shared/text.js';
import { callDuration } from './call_duration.js';
import { micAllowedHere } from './mic_policy.js';
import { wasInterrupted } from '../shared/callstate.js';
import { renderCaptions } from './captions.js';
import { sendFrame } from './chat.js';
import { keepFocus, ui } from './panel.js';
import { renderEndChat } from './end_chat.js';

let clickCtx = null;
/** A short soft click, deliberately not a DTMF tone: with echo cancellation off, a real tone from the
 *  speaker could reach the microphone and be heard by the gateway's in-band detector as a second key. */
export function keyClick() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    clickCtx = clickCtx || new Ctx();
    if (clickCtx.state === 'suspended') clickCtx.resume().catch(() => {});
    const t = clickCtx.currentTime + 0.005;
    const osc = clickCtx.createOscillator();
    const gain = clickCtx.createGain();
    osc.frequency.value = 2400;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.05, t + 0.004);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.035);
    osc.connect(gain).connect(clickCtx.destination);
    osc.start(t);
    osc.stop(t + 0.04);
  } catch (_) { /* sound is a nicety */ }
}

let callTick = null;

export function dismissCallbar() {
  clearTimeout(W.callHideTimer);
  if (callLive(W.call)) return;
  ui.callbar.hidden = true;
}

/** The call button's name: on a call, or "Call us" (and, when the header says closed, that an agent may not answer,
 *  in its name and in words under it: a tooltip is for a mouse only; the words are aria-hidden, the name has them).
 *  On a page whose policy forbids the microphone (a frame without allow="microphone", mic_policy.js) the button is
 *  off, and its name and the words say calls are not available here. */
export function labelCallButton() {
  const live = callLive(W.call);
  const allowed = live || micAllowedHere(document);
  const afterHours = !live && allowed && W.hoursOpen === false;
  const label = live ? CALL_TEXT.active : !allowed ? CALL_TEXT.notHere : afterHours ? CALL_TEXT.startAfterHours
    : CALL_TEXT.start;
  const hint = !allowed ? CALL_TEXT.notHere : afterHours ? CALL_TEXT.afterHoursHint : '';
  ui.call.disabled = live || !allowed;
  ui.callHint.hidden = !hint;
  ui.callHint.textContent = hint;
  if (ui.call.title === label) return;
  ui.call.setAttribute('aria-label', label);
  ui.call.title = label;
}

export function renderCall() {
  const c = W.call;
  renderCaptions();
  const active = callLive(c);
  labelCallButton();   // (off during a call)
  renderEndChat();     // (not offered during a call: the gateway would refuse it)
  if (active) ui.launcher.dataset.call = 'active';
  else delete ui.launcher.dataset.call;
  if (!c) { ui.callbar.hidden = true; return; }
  ui.callbar.hidden = false;
  ui.callbar.dataset.status = c.status;
  let text;
  if (c.status === 'ended') text = endedText(c);
  else if (c.phase === 'mic') text = CALL_TEXT.mic;
  else if (c.reconnecting) text = CALL_TEXT.reconnecting;
  else if (c.held) text = CALL_TEXT.held;
  else if (c.agentReconnecting) text = CALL_TEXT.agentReconnecting;
  else if (c.toOwnAgent && (c.status === 'waiting' || c.status === 'ringing')) text = CALL_TEXT.toOwnAgent(W.conv.agentName);
  else text = CALL_TEXT[c.status] || CALL_TEXT.connecting;
  const linesBusy = c.status === 'ended' && c.reason === 'lines_busy';
  // "All lines are busy" gets a short title and the gateway's own words underneath.
  const statusText = linesBusy ? CALL_TEXT.linesBusyTitle : text;
  if (ui.callStatus.textContent !== statusText) ui.callStatus.textContent = statusText;
  ui.callNote.hidden = !linesBusy;
  ui.callNote.textContent = linesBusy ? text : '';
  const barged = active && c.barged > 0; // (the call's end clears it: the supervisor left with it)
  ui.callSupervisor.hidden = !barged;
  if (ui.callSupervisor.textContent !== (barged ? CALL_TEXT.supervisorJoined : '')) {
    ui.callSupervisor.textContent = barged ? CALL_TEXT.supervisorJoined : '';
  }
  ui.callbar.title = c.status === 'ended' && c.message ? c.message : '';
  ui.callActions.hidden = !active;
  ui.callAgain.hidden = active || !wasInterrupted(c.reason);
  ui.callDismiss.hidden = active;
  // a toggle: one fixed name and aria-pressed ("Mute microphone, pressed"; not "Unmute microphone, pressed")
  ui.mute.setAttribute('aria-pressed', String(!!c.muted));
  ui.mute.setAttribute('aria-label', 'Mute microphone');
  ui.mute.title = c.muted ? 'Microphone off: press to turn it on' : 'Mute microphone';
  ui.dialed.textContent = c.dialed;
  renderCallTimer();
  clearInterval(callTick);
  callTick = active ? setInterval(renderCallTimer, 1000) : null;
  keepFocus();
  setTimeout(keepFocus, 0); // (the keypad is hidden after this at the call's end)
}

/** The timer: running during the call; after it, the duration the conversation's "Call ended" line says. */
export function renderCallTimer() {
  const c = W.call;
  if (!c) return;
  const ms = callDuration(c, Date.now());
  ui.callTimer.hidden = ms === null;
  const text = ms === null ? '' : callTimeText(ms);
  if (ui.callTimer.textContent !== text) ui.callTimer.textContent = text;
}

/** For tests and diagnostics: what the browser receives (inbound-rtp audio). */
export async function callStats() {
  const c = W.call;
  const out = { inboundAudioLevel: 0, bytesReceived: 0, packetsReceived: 0, packetsSent: 0,
    localCandidateType: null, remoteCandidateType: null, // of the selected pair: 'host', 'srflx', 'relay', ...
    connectionState: c && c.pc ? c.pc.connectionState : 'closed' };
  if (!c || !c.pc || c.pc.connectionState === 'closed') return out;
  const report = await c.pc.getStats();
  let pairId = null;
  report.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    if (s.type === 'outbound-rtp' && (s.kind || s.mediaType) === 'audio') out.packetsSent += Number(s.packetsSent) || 0;
    if (s.type !== 'inbound-rtp' || (s.kind || s.mediaType) !== 'audio') return;
    out.inboundAudioLevel = Math.max(out.inboundAudioLevel, Number(s.audioLevel) || 0);
    out.bytesReceived += Number(s.bytesReceived) || 0;
    out.packetsReceived += Number(s.packetsReceived) || 0;
  });
  const pair = pairId ? report.get(pairId) : null;
  if (pair) {
    const local = report.get(pair.localCandidateId);
    const remote = report.get(pair.remoteCandidateId);
    out.localCandidateType = local ? local.candidateType : null;
    out.remoteCandidateType = remote ? remote.candidateType : null;
  }
  return out;
}

export function callState() {
  const c = W.call;
  if (!c) return null;
  return {
    id: c.id,
    status: c.status,
    reason: c.reason,
    conversation_id: c.conversationId,
    muted: c.muted,
    supervisor: callLive(c) && c.barged > 0,  // "A supervisor joined the call" is shown
    dtmfMode: c.dtmfMode || (canSendRfc4733(c) ? 'rfc4733' : 'signaling'),
  };
}

/** About to leave the page (a link, a reload, the tab closed) while a call is live: the call cannot follow to the
 * next page and ends, so the browser asks first ("Leave site?"). */
export function onBeforeUnload(e) {
  if (!callLive(W.call)) return;
  e.preventDefault();
  e.returnValue = '';   // older browsers ask only when this is set
}

/** Leaving the page: tell the gateway now (the socket dies with the page) and free the microphone. */
export function onPageHide() {
  const c = W.call;
  if (!callLive(c)) return;
  if (c.phase === 'offered' || c.phase === 'answered') sendFrame({ type: 'hangup', call_id: c.id });
  endCall(c, 'caller_hangup');
}
