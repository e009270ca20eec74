// Transfers: blind (to an agent or a queue) and warm (consult, then complete or cancel); the call's end and
// after-call work.

import { usable } from '../../shared/focus.js';
import { ERROR_SHOW, RECENT_KEY, REQUEST_WAIT, TEXT, TRANSFER_RELEASE_WAIT } from './config.js';
import { P, desk, rememberCall, rememberedCall, ui } from './state.js';
import { live, ringer, startTicking, stopTickingIfIdle } from './ringing.js';
import { render, renderTransferPanel } from './render.js';

// ------------------------------------------------------------ transfer and consult (the call's own agent)

/** Our own call, connected, nothing else going on: hold, transfer and consult are possible. */
export function canControl(c) {
  return live(c) && c.role === 'agent' && c.phase === 'answered' && c.status === 'connected' && !c.transfer &&
    !c.consult && !c.request;
}

export function targetText(t) {
  return t.kind === 'queue' ? `queue ${t.target}` : t.target;
}

export function showError(c, text, info) {
  c.error = text ? { text, info: !!info, until: Date.now() + ERROR_SHOW } : null;
  startTicking();
  render();
}

/** A transfer / consult frame went out; errors about it come back without a call_id, so remember it. */
function startRequest(c, what) {
  clearTimeout(c.requestTimer);
  c.request = { what, at: Date.now() };
  c.requestTimer = setTimeout(() => {
    if (!live(c) || !c.request || c.request.what !== what) return;
    c.request = null;
    if (what === 'transfer') c.transfer = null;
    else if (what === 'consult_start' && c.consult && c.consult.state === 'requested') c.consult = null;
    else if (what === 'consult_complete' && c.consult) c.consult.state = 'connected';
    showError(c, TEXT.transferNoReply);
  }, REQUEST_WAIT);
}

export function endRequest(c) {
  clearTimeout(c.requestTimer);
  c.requestTimer = null;
  c.request = null;
}

/** The targets of `kind` ('agent' or 'queue') that went through before, newest first (this tab's). */
function recentTargets(kind) {
  try {
    const v = JSON.parse(sessionStorage.getItem(`${RECENT_KEY}:${kind}`) || '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, 8) : [];
  } catch (_) {
    return [];
  }
}

/** A target the gateway took (a transfer or a consultation that went through): offered first next time, among
 * the targets of its kind (a queue was offered as an agent, an agent as a queue). */
export function rememberTarget(kind, target) {
  const list = [target, ...recentTargets(kind).filter((x) => x !== target)].slice(0, 8);
  try { sessionStorage.setItem(`${RECENT_KEY}:${kind}`, JSON.stringify(list)); } catch (_) { /* ignore */ }
}

/** The transfer panel's suggestions for the kind chosen: recent targets first, then every colleague or queue. */
export function fillSuggestions() {
  const kind = transferKind();
  const recent = recentTargets(kind);
  const every = kind === 'agent' ? (desk.agentIds ? desk.agentIds() : []) : (desk.queueNames ? desk.queueNames() : []);
  const others = every.filter((t) => !recent.includes(t)).sort();
  ui.transferSuggest.replaceChildren(...[...recent, ...others].map((t) => {
    const o = document.createElement('option');
    o.value = t;
    const name = kind === 'agent' && desk.nameOf ? desk.nameOf(t) : '';
    if (name && name !== t) o.label = name;
    return o;
  }));
}

export function transferKind() {
  return ui.transferKindQueue && ui.transferKindQueue.checked ? 'queue' : 'agent';
}

export function openTransferPanel(focus) {
  if (!ui.transferPanel || !live(P.call) || P.call.role !== 'agent') return;
  fillSuggestions(); // the targets that went through before first, then every colleague (their ids and names)
  if (ui.transferTarget.dataset.call !== P.call.id) { // a new call: not the last call's target ("bob" -> "boba")
    ui.transferTarget.value = '';
    ui.transferTarget.dataset.call = P.call.id;
  }
  ui.transferPanel.hidden = false;
  ui.transferToggle.setAttribute('aria-expanded', 'true');
  renderTransferPanel();
  if (focus !== false) setTimeout(() => ui.transferTarget.focus(), 0);
}

export function closeTransferPanel() {
  if (!ui.transferPanel) return;
  const had = ui.transferPanel.contains(document.activeElement);
  ui.transferPanel.hidden = true;
  ui.transferToggle.setAttribute('aria-expanded', 'false');
  if (had && usable(ui.transferToggle)) ui.transferToggle.focus(); // (Esc, Cancel): back to what opened it
}

/** Blind transfer: the caller goes to that agent (their desk rings) or back into routing under that queue. */
export function transfer() {
  const c = P.call;
  if (!canControl(c)) return;
  const target = ui.transferTarget.value.trim();
  const kind = transferKind();
  if (!target) {
    showError(c, TEXT.needTarget);
    ui.transferTarget.focus();
    return;
  }
  const frame = { type: 'call_transfer', call_id: c.id };
  frame[kind === 'queue' ? 'queue' : 'agent_id'] = target;
  if (!desk.send(frame)) {
    showError(c, 'Not connected to the gateway — try again in a moment.');
    return;
  }
  c.error = null;
  c.transfer = { kind, target };
  startRequest(c, 'transfer');
  closeTransferPanel();
  render();
}

/** Warm transfer, step 1: the caller holds (music) while the colleague's desk rings. */
export function consult() {
  const c = P.call;
  if (!canControl(c)) return;
  const target = ui.transferTarget.value.trim();
  if (transferKind() !== 'agent') return;
  if (!target) {
    showError(c, TEXT.needTarget);
    ui.transferTarget.focus();
    return;
  }
  if (!desk.send({ type: 'call_consult', call_id: c.id, action: 'start', agent_id: target })) {
    showError(c, 'Not connected to the gateway — try again in a moment.');
    return;
  }
  c.error = null;
  c.consult = { agentId: target, state: 'requested' };
  startRequest(c, 'consult_start');
  closeTransferPanel();
  render();
}

/** Warm transfer, step 2: hand the caller to the colleague (complete) or take them back (cancel). */
export function consultAction(action) {
  const c = P.call;
  if (!live(c) || !c.consult || c.consult.state === 'completing' || c.request) return;
  if (action === 'complete' && c.consult.state !== 'connected') return;
  if (!desk.send({ type: 'call_consult', call_id: c.id, action })) {
    showError(c, 'Not connected to the gateway — try again in a moment.');
    return;
  }
  c.error = null;
  if (action === 'complete') c.consult.state = 'completing';
  startRequest(c, `consult_${action}`);
  render();
}

/** The call is over: free the media; unless the caller went back to the queue, after-call work starts. */
export function finish(c, reason) {
  if (!c || c.phase === 'ended') return;
  const wasConnected = !!c.connectedAt;
  c.phase = 'ended';
  c.reason = reason || '';
  c.endedAt = Date.now();
  if (rememberedCall() === c.id) rememberCall('');
  clearTimeout(c.requestTimer);
  if (reason === 'transferred' && !c.transferredTo) {
    c.transferredTo = c.consult ? c.consult.agentId : c.transfer ? targetText(c.transfer) : '';
    if (c.transfer) rememberTarget(c.transfer.kind, c.transfer.target); // it went through: offered first next time
  }
  c.consult = null;
  c.transfer = null;
  c.request = null;
  if (reason === 'transferred' && c.pc && c.pc.connectionState !== 'closed') releaseLater(c);
  else release(c);
  if (c === P.call) closeTransferPanel();
  const requeued = reason === 'agent_lost' || reason === 'connection_failed';
  if (c === P.call && !requeued && c.conversationId && c.role !== 'consultant') {
    P.wrap = { conversationId: c.conversationId, since: c.endedAt, reason: c.reason, to: c.transferredTo,
      durationMs: wasConnected ? c.endedAt - c.connectedAt : 0 };
  }
  if (P.ring && !live(P.call)) ringer.start(); // another call was waiting for us
  startTicking();
  render();
}

export function release(c) {
  clearTimeout(c.timer);
  clearTimeout(c.holdTimer);
  c.timer = null;
  if (c.mic) for (const t of c.mic.getTracks()) t.stop();
  if (c.pc) {
    try { c.pc.close(); } catch (_) { /* already closed */ }
  }
  if (ui.audio && c.pc && (!c.stream || !ui.audio.srcObject || ui.audio.srcObject === c.stream)) {
    try { ui.audio.pause(); } catch (_) { /* ignore */ }
    ui.audio.srcObject = null;
  }
}

/**
 * The call went on to someone else: silence both ways at once, but let the gateway close our leg. Closing it
 * ourselves while the gateway still hands the call over would look like a dropped agent.
 */
function releaseLater(c) {
  clearTimeout(c.timer);
  clearTimeout(c.holdTimer);
  c.timer = null;
  if (c.mic) for (const t of c.mic.getAudioTracks()) t.enabled = false;
  if (ui.audio && c.stream && ui.audio.srcObject === c.stream) ui.audio.muted = true;
  setTimeout(() => release(c), TRANSFER_RELEASE_WAIT);
}

export function endWrapUp() {
  P.wrap = null;
  render();
  stopTickingIfIdle();
}
