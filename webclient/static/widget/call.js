// Voice calls from the browser: microphone -> RTCPeerConnection -> one non-trickle offer over the customer socket
// -> the gateway's answer. Media never depends on the socket: a reconnect during a call leaves the call alone.

import { CALL_ANSWER_WAIT, CALL_ENDED_SHOW, CALL_ICE_WAIT, CALL_SOCKET_WAIT, CALL_TEXT, CALL_TURN_WAIT, DTMF_DURATION, DTMF_GAP, HANGUP_GRACE, SCRIPT } from './config.js';
import { CUSTOMER_MIC, askCallIce, canCall, rtcConfig, micErrorReason, offerWithMic } from '../shared/rtc.js';
import { micAllowedHere, refusedByPolicy } from './mic_policy.js';
import { INTERRUPTED_REASONS, backInLine, callerHolds, reconcileCall, wasInterrupted } from '../shared/callstate.js';
import { MAX_SDP_CHARS } from '../shared/protocol.js';
import { W } from './state.js';
import { dismissCallbar, keyClick, renderCall, renderCallTimer } from './callbar.js';
import { clearCaptions } from './captions.js';
import { newClientId } from '../shared/ids.js';
import { sendFrame } from './chat.js';
import { renderStatus, setFlash, ui } from './panel.js';
import { connectionLost, sock } from './connection.js';

// ------------------------------------------------------------ voice calls
//
// One call at a time, in the browser: microphone -> RTCPeerConnection -> non-trickle offer
// (sent once ICE gathering is complete) over the customer socket -> the gateway's answer.
// Media never depends on the socket: a reconnect during a call leaves the call alone.

export function endedText(c) {
  if (wasInterrupted(c.reason)) return CALL_TEXT.interrupted;
  switch (c.reason) {
    case 'lines_busy': return c.message || CALL_TEXT.linesBusy;
    case 'agent_declined': return CALL_TEXT.agentDeclined;
    case 'agent_busy': return CALL_TEXT.agentBusy;
    case 'call_limit': case 'rate_limited': return c.message || CALL_TEXT.failed;
    case 'caller_hangup': return CALL_TEXT.youHungUp;
    case 'ice_failed': case 'ice_timeout': case 'connection_failed': return CALL_TEXT.connectionFailed;
    case 'mic_blocked': return CALL_TEXT.micBlocked;
    case 'mic_policy': return CALL_TEXT.micPolicy;
    case 'no_mic': return CALL_TEXT.noMic;
    case 'mic_busy': return CALL_TEXT.micBusy;
    case 'mic_failed': return CALL_TEXT.micFailed;
    case 'unsupported': return CALL_TEXT.unsupported;
    case 'offline': return CALL_TEXT.offline;
    case 'no_answer': case 'rejected': case 'lost': case 'error': return CALL_TEXT.failed;
    default: return CALL_TEXT.ended;
  }
}

/** Problems stay on screen until dismissed; an ordinary end fades after a few seconds. */
const CALL_PROBLEMS = new Set(['lines_busy', 'agent_declined', 'agent_busy', 'call_limit', 'rate_limited', 'ice_failed', 'ice_timeout', 'connection_failed', 'mic_blocked', 'mic_policy',
  'no_mic', 'mic_busy', 'mic_failed', 'unsupported', 'offline', 'no_answer', 'rejected', 'lost', 'error',
  ...INTERRUPTED_REASONS]);

/** Resolves true once the socket is ready (welcome received), false after maxMs. */
function whenReady(maxMs) {
  if (sock.ready) return Promise.resolve(true);
  return new Promise((resolve) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (sock.ready || Date.now() - started >= maxMs) {
        clearInterval(poll);
        resolve(sock.ready);
      }
    }, 100);
  });
}

export function callLive(c) {
  return !!c && c === W.call && c.status !== 'ended';
}

/** Connected again (a welcome): "You are offline" no longer holds; the bar that said it goes. */
export function onConnectionBack() {
  const c = W.call;
  if (c && c.status === 'ended' && c.reason === 'offline') dismissCallbar();
}

/** The gateway's call_ended event for the call on the bar: its duration_ms is what the bar says from now on (the
 *  timeline's line says the same). */
export function onCallEndedEvent(ev) {
  const c = W.call;
  if (!c || !ev || ev.call_id !== c.id) return;
  const ms = Number(ev.duration_ms);
  if (Number.isFinite(ms)) c.serverMs = Math.max(0, ms);
  if (callLive(c)) endCall(c, ev.reason || ''); // a call_status was missed (socket down): end our side too
  else renderCallTimer();
}

export async function startCall() {
  if (W.call && W.call.status !== 'ended') return;
  clearTimeout(W.callHideTimer);
  const c = {
    id: newClientId('call-'),
    status: 'connecting',        // the last call status (ours until the gateway sends its own)
    phase: 'mic',                // mic -> gathering -> offered -> answered -> ended
    reason: '',
    message: '',
    reconnecting: false,         // the peer connection is 'disconnected' (ICE may recover)
    toOwnAgent: false,           // waiting for the agent of the chat it came from (status reason 'your_agent')
    conversationId: null,
    pc: null,
    mic: null,
    sender: null,
    audio: null,
    muted: false,
    barged: 0,                   // supervisors barging in (call_supervisors): the caller hears them
    dtmfMode: null,              // how the last key went: 'rfc4733' or 'signaling'
    dialed: '',
    connectedAt: 0,
    endedAt: 0,
    answerTimer: null,
    releaseTimer: null,
  };
  W.call = c;
  toggleKeypad(false);
  renderCall();
  if (!canCall()) {
    endCall(c, 'unsupported');
    return;
  }
  if (!micAllowedHere(document)) { // the page's policy (an answered callback's ring: the Call button is off here)
    endCall(c, 'mic_policy');
    return;
  }
  if (connectionLost()) { // the header says offline: say so now, not after waiting for the socket
    endCall(c, 'offline');
    return;
  }
  const ice = askCallIce(sendFrame, c.id, CALL_TURN_WAIT); // a TURN pair for this call, while the mic is asked for
  let mic;
  try {
    mic = await navigator.mediaDevices.getUserMedia(CUSTOMER_MIC);
  } catch (err) {
    endCall(c, refusedByPolicy(err, document) ? 'mic_policy' : micErrorReason(err));
    return;
  }
  const callIce = await ice;
  if (!callLive(c)) { // hung up while the browser asked for the microphone
    for (const t of mic.getTracks()) t.stop();
    return;
  }
  c.mic = mic;
  c.phase = 'gathering';
  renderCall();
  try {
    const pc = new RTCPeerConnection(rtcConfig(SCRIPT, callIce));
    c.pc = pc;
    pc.addEventListener('track', (e) => playRemote(c, e));
    pc.addEventListener('connectionstatechange', () => onPeerState(c));
    c.sender = await offerWithMic(pc, mic, CALL_ICE_WAIT);
  } catch (_) {
    if (callLive(c)) endCall(c, 'connection_failed');
    return;
  }
  if (!callLive(c)) return;
  const sdp = c.pc.localDescription && c.pc.localDescription.sdp;
  if (!sdp || sdp.length > MAX_SDP_CHARS) {
    endCall(c, 'connection_failed');
    return;
  }
  if (!(await whenReady(CALL_SOCKET_WAIT)) || !callLive(c)) {
    if (callLive(c)) endCall(c, 'offline');
    return;
  }
  if (!sendFrame({ type: 'call_offer', call_id: c.id, sdp })) {
    endCall(c, 'offline');
    return;
  }
  c.phase = 'offered';
  c.answerTimer = setTimeout(() => { if (callLive(c) && c.phase === 'offered') endCall(c, 'no_answer'); }, CALL_ANSWER_WAIT);
  renderCall();
}

function playRemote(c, e) {
  if (!callLive(c)) return;
  if (!c.audio) {
    c.audio = document.createElement('audio');
    c.audio.autoplay = true;
    c.audio.setAttribute('playsinline', '');
    c.audio.hidden = true;
    ui.root.appendChild(c.audio);
  }
  c.audio.muted = false;
  c.audio.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
  const played = c.audio.play();
  if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: the call still runs */ });
}

function onPeerState(c) {
  if (!callLive(c) || !c.pc) return;
  const state = c.pc.connectionState;
  if (state === 'connected' && !c.connectedAt) {
    c.connectedAt = Date.now();
    renderCall();
  } else if (state === 'disconnected' || (state === 'connected' && c.reconnecting)) {
    c.reconnecting = state === 'disconnected'; // ICE may recover; 'failed' follows if not
    renderCall();
  } else if (state === 'failed') {
    if (c.phase === 'answered' && sock.ready) sendFrame({ type: 'hangup', call_id: c.id });
    endCall(c, 'connection_failed');
  } else if (state === 'closed') {
    endCall(c, 'connection_closed');
  }
}

export function onCallAnswer(f) {
  const c = W.call;
  if (!c || f.call_id !== c.id) return;
  if (c.status === 'ended') return; // we hung up meanwhile and said so; the gateway ends it
  clearTimeout(c.answerTimer);
  c.phase = 'answered';
  if (typeof f.conversation_id === 'string' && f.conversation_id) {
    c.conversationId = f.conversation_id;
    if (W.conv.id !== f.conversation_id) W.conv = { id: f.conversation_id, state: 'open', agentName: null, queuePos: null };
  }
  c.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => {
    if (!callLive(c)) return;
    sendFrame({ type: 'hangup', call_id: c.id });
    endCall(c, 'connection_failed');
  });
  renderCall();
}

export function onCallStatus(f) {
  const c = W.call;
  if (!c || f.call_id !== c.id) return; // another tab's call, or an old one
  if (f.status === 'ended') {
    if (c.status === 'ended') releaseMedia(c); // the gateway confirmed our hang-up
    else endCall(c, f.reason || '', typeof f.message === 'string' ? f.message : '');
    return;
  }
  if (c.status === 'ended' || typeof f.status !== 'string') return;
  if (f.status === 'connected' && c.status !== 'connected') clearCaptions(); // the agent is on: old prompts are over
  c.status = f.status;
  c.held = callerHolds(f.status, f.reason); // on hold, or held while the agent consults a colleague (music plays)
  c.agentReconnecting = f.status === 'waiting' && f.reason === 'agent_reconnecting'; // their desk comes back
  if (f.status === 'waiting') c.toOwnAgent = f.reason === 'your_agent'; // from a chat: its agent rings, no queue
  if (backInLine(f.status, f.reason) && W.conv.state === 'assigned') { // the agent missed it or let go: back in line
    W.conv.state = 'queued';
    W.conv.agentName = null;
  } else if (f.status === 'ringing' && typeof f.agent_name === 'string' && f.agent_name) {
    W.conv.agentName = f.agent_name; // the agent whose phone rings now
  }
  renderCall();
  renderStatus();
}

/** call_supervisors: a supervisor barged into our call (the caller hears them), or the last one left ([]). */
export function onCallSupervisors(f) {
  const c = W.call;
  if (!c || f.call_id !== c.id || c.status === 'ended' || !Array.isArray(f.supervisors)) return;
  c.barged = f.supervisors.filter((s) => s && s.mode === 'barge').length;
  renderCall();
}

/** welcome.calls (the customer's live calls, from every node) after a (re)connect: the call goes on with the
 *  gateway's status, or it ended while the socket was away (its node lost: "The call was interrupted"). */
export function onWelcomeCalls(listed) {
  const c = W.call;
  if (!callLive(c)) return;
  const known = c.phase === 'offered' || c.phase === 'answered';
  const verdict = reconcileCall({ id: c.id, known, media: c.pc ? c.pc.connectionState : '' }, listed);
  if (verdict.action === 'end') {
    sendFrame({ type: 'hangup', call_id: c.id }); // a node still holding it lets go (else: not_found, ignored)
    endCall(c, verdict.reason);
    return;
  }
  const entry = Array.isArray(listed) ? listed.find((e) => e && e.call_id === c.id) : null;
  if (entry && Array.isArray(entry.supervisors)) c.barged = entry.supervisors.filter((x) => x && x.mode === 'barge').length;
  if (entry) c.agentReconnecting = entry.status === 'waiting' && entry.reason === 'agent_reconnecting';
  if (verdict.action === 'restore' && verdict.status && verdict.status !== c.status) {
    c.status = verdict.status;
    // calling the chat's agent only while the conversation is still theirs (a ring missed while the socket was
    // away put it back in the queue)
    c.toOwnAgent = c.toOwnAgent && W.conv.state === 'assigned';
  }
  renderCall(); // (a supervisor barging in, said again after the reconnect)
}

/** A call-related error frame (they carry no call_id); true if it was ours to handle. */
export function onCallError(f) {
  const c = W.call;
  const aboutCall = f.field === 'sdp' || f.field === 'call_id' || f.field === 'digits' ||
    ['bad_sdp', 'no_audio', 'flow_missing', 'lines_busy'].includes(f.code) ||
    (f.code === 'rate_limited' && typeof f.call_id === 'string');
  if (!aboutCall) return false;
  if (!callLive(c)) return true; // e.g. not_found for a hangup that crossed the gateway's own "ended": nothing to say
  if (f.field === 'digits') {
    setFlash(f.message || 'That key was not accepted');
  } else if (c.phase === 'offered' || (f.field === 'call_id' && f.code === 'not_found')) {
    c.message = f.message || '';
    const refused = f.code === 'rate_limited' ? 'rate_limited' : 'rejected';
    endCall(c, c.phase === 'offered' ? refused : 'lost', f.message || '');
  } else {
    setFlash(f.message || 'Something went wrong');
  }
  return true;
}

export function hangUp() {
  const c = W.call;
  if (!callLive(c)) return;
  const told = (c.phase === 'offered' || c.phase === 'answered') && sock.ready &&
    sendFrame({ type: 'hangup', call_id: c.id });
  // Told: keep the connection a moment so the gateway hears the hang-up before media stops.
  endCall(c, 'caller_hangup', '', told ? HANGUP_GRACE : 0);
}

/** Tear the call down (once): microphone off now, peer connection now or after graceMs. */
export function endCall(c, reason, message, graceMs) {
  if (!c || c.status === 'ended') return;
  c.status = 'ended';
  c.phase = 'ended';
  c.reason = reason || '';
  c.message = message || c.message || '';
  c.endedAt = Date.now();
  clearTimeout(c.answerTimer);
  if (c.mic) for (const t of c.mic.getTracks()) t.stop();
  if (c.audio) c.audio.muted = true;
  if (graceMs) c.releaseTimer = setTimeout(() => releaseMedia(c), graceMs);
  else releaseMedia(c);
  toggleKeypad(false);
  renderCall();
  clearTimeout(W.callHideTimer);
  if (c === W.call && !CALL_PROBLEMS.has(c.reason)) W.callHideTimer = setTimeout(dismissCallbar, CALL_ENDED_SHOW);
}

function releaseMedia(c) {
  clearTimeout(c.releaseTimer);
  c.releaseTimer = null;
  if (c.mic) for (const t of c.mic.getTracks()) t.stop();
  if (c.pc) {
    try { c.pc.close(); } catch (_) { /* already closed */ }
  }
  if (c.audio) {
    try { c.audio.pause(); } catch (_) { /* ignore */ }
    c.audio.srcObject = null;
    c.audio.remove();
    c.audio = null;
  }
}

export function toggleMute() {
  const c = W.call;
  if (!callLive(c)) return;
  c.muted = !c.muted;
  if (c.mic) for (const t of c.mic.getAudioTracks()) t.enabled = !c.muted;
  renderCall();
}

export function toggleKeypad(show) {
  const want = typeof show === 'boolean' ? show : ui.keypad.hidden;
  const allowed = want && callLive(W.call);
  ui.keypad.hidden = !allowed;
  ui.keypadToggle.setAttribute('aria-expanded', String(allowed));
  if (allowed) {
    const first = ui.keypad.querySelector('.key');
    if (first && typeof show !== 'boolean') setTimeout(() => first.focus({ preventScroll: true }), 0);
  }
}

export function canSendRfc4733(c) {
  const dtmf = c && c.sender && c.sender.dtmf;
  return !!(dtmf && dtmf.canInsertDTMF);
}

export function pressKey(key) {
  const c = W.call;
  if (!callLive(c) || !/^[0-9*#]$/.test(key)) return;
  keyClick();
  c.dialed = (c.dialed + key).slice(-24);
  ui.dialed.textContent = c.dialed;
  if (canSendRfc4733(c)) {
    try {
      // insertDTMF replaces what is still queued: append, so quick presses all go out in order.
      c.sender.dtmf.insertDTMF(c.sender.dtmf.toneBuffer + key, DTMF_DURATION, DTMF_GAP);
      c.dtmfMode = 'rfc4733';
      return;
    } catch (_) { /* fall back to signaling */ }
  }
  if (c.phase === 'answered' && sendFrame({ type: 'dtmf', call_id: c.id, digits: key })) c.dtmfMode = 'signaling';
  else setFlash(CALL_TEXT.keyNotSent);
}
