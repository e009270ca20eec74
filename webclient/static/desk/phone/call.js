// Accept (microphone, our own non-trickle offer as call_offer, the gateway's call_answer) and the call's
// controls: mute, hold, hang up.

import { AGENT_MIC, askCallIce, canCall, rtcConfig, offerWithMic } from '../../shared/rtc.js';
import { ANSWER_WAIT, HANGUP_OFFLINE_WAIT, HANGUP_WAIT, HOLD_WAIT, ICE_WAIT, SCRIPT, SOCKET_WAIT, TEXT, TURN_WAIT, micProblem } from './config.js';
import { MAX_SDP_CHARS } from '../../shared/protocol.js';
import { P, desk, ui } from './state.js';
import { canControl, closeTransferPanel, finish, release } from './transfer.js';
import { live, ringer, say, setNotice, startTicking } from './ringing.js';
import { render } from './render.js';
import { lossIds } from './losses.js';

// ------------------------------------------------------------ accept

/** The losses of our leg of this call that the conversation shows already (losses.js). */
function lossesSoFar(conversationId, callId) {
  const conv = desk.conversation(conversationId);
  const me = desk.me();
  return lossIds(conv ? [...conv.events.values()] : [], callId, me && me.id);
}

export async function accept() {
  if (!P.ring || live(P.call)) return;
  const r = P.ring;
  ringer.stop();
  r.error = '';
  P.notice = null;
  const c = {
    id: r.callId,
    conversationId: r.conversationId,
    phase: 'mic',            // mic -> gathering -> offered -> answered -> hanging_up -> ended
    status: 'connecting',    // the gateway's last word: connecting, connected
    reason: '',
    held: false,
    holdPending: null,       // true/false while a call_hold is unconfirmed
    holdTimer: null,
    muted: false,
    reconnecting: false,
    pc: null,
    mic: null,
    connectedAt: 0,
    endedAt: 0,
    hangupSent: false,
    timer: null,
    // 'agent': our call; 'consultant': a colleague consults us (the caller holds) until they hand it over
    role: r.consult ? 'consultant' : 'agent',
    fromName: r.fromName || '',
    consult: null,           // we consult someone: {agentId, state: requested|ringing|connected|completing}
    transfer: null,          // a blind transfer we asked for: {kind, target}
    request: null,           // {what, at}: the last transfer / consult frame not answered yet
    requestTimer: null,
    error: null,             // {text, until}: a refused transfer or consult, shown in the bar
    transferredTo: '',
    supervisors: [],         // call_supervisors: [{agent_id, name, mode}] whispering to us or barged in
    lostBefore: lossesSoFar(r.conversationId, r.callId), // our leg's losses of this call seen before this answer
  };
  P.call = c;
  closeTransferPanel();
  P.wrap = null;
  startTicking();
  render();
  if (!canCall()) {
    failAccept(c, TEXT.unsupported);
    return;
  }
  const ice = askCallIce((f) => desk.send(f), c.id, TURN_WAIT); // a TURN pair for this call, while the mic is asked for
  let mic;
  try {
    mic = await navigator.mediaDevices.getUserMedia(AGENT_MIC);
  } catch (err) {
    failAccept(c, micProblem(err));
    return;
  }
  const callIce = await ice;
  if (!live(c)) {
    for (const t of mic.getTracks()) t.stop();
    return;
  }
  c.mic = mic;
  c.phase = 'gathering';
  render();
  try {
    const pc = new RTCPeerConnection(rtcConfig(SCRIPT, callIce));
    c.pc = pc;
    pc.addEventListener('track', (e) => playRemote(c, e));
    pc.addEventListener('connectionstatechange', () => onPeerState(c));
    await offerWithMic(pc, mic, ICE_WAIT);
  } catch (_) {
    if (live(c)) failAccept(c, TEXT.connectionFailed);
    return;
  }
  if (!live(c)) return;
  const sdp = c.pc.localDescription && c.pc.localDescription.sdp;
  if (!sdp || sdp.length > MAX_SDP_CHARS) {
    failAccept(c, TEXT.connectionFailed);
    return;
  }
  if (!(await whenReady(SOCKET_WAIT)) || !live(c) || !desk.send({ type: 'call_offer', call_id: c.id, sdp })) {
    if (live(c)) failAccept(c, TEXT.offline);
    return;
  }
  c.phase = 'offered';
  c.timer = setTimeout(() => { if (live(c) && c.phase === 'offered') failAccept(c, TEXT.noAnswer); }, ANSWER_WAIT);
  render();
}

export function whenReady(maxMs) {
  if (desk.isReady()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (desk.isReady() || Date.now() - started >= maxMs) {
        clearInterval(poll);
        resolve(desk.isReady());
      }
    }, 100);
  });
}

/** The accept did not get to a call: free the media; a ring still running stays up to retry or decline. */
export function failAccept(c, text) {
  release(c);
  c.phase = 'ended';
  c.reason = 'accept_failed';
  if (P.ring && P.ring.callId === c.id) {
    P.ring.error = text;
    if (Date.now() < P.ring.deadline) ringer.start();
  } else {
    setNotice(text);
  }
  render();
}

function playRemote(c, e) {
  if (!live(c) || !ui.audio) return;
  ui.audio.muted = false;
  c.stream = (e.streams && e.streams[0]) || new MediaStream([e.track]);
  ui.audio.srcObject = c.stream;
  const played = ui.audio.play();
  if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: media still flows */ });
}

function onPeerState(c) {
  if (!live(c) || !c.pc) return;
  const state = c.pc.connectionState;
  if (state === 'connected') {
    if (!c.connectedAt) c.connectedAt = Date.now();
    c.reconnecting = false;
    // A consultation gets no call_status (the conversation is not ours): our leg being up is "connected".
    if (c.role === 'consultant' && c.phase === 'answered') c.status = 'connected';
  } else if (state === 'disconnected') {
    c.reconnecting = true; // ICE may recover; 'failed' follows if not
  } else if (state === 'failed' || state === 'closed') {
    if (c.transfer || (c.consult && c.consult.state === 'completing')) {
      finish(c, 'transferred'); // the gateway closed our leg: the caller went on to the other agent
    } else if (c.role === 'consultant') {
      finish(c, 'connection_failed');
      setNotice(TEXT.consultFailed);
    } else {
      // The gateway notices too and puts the caller back in the queue (or ends the call).
      finish(c, 'connection_failed');
      setNotice(TEXT.connectionFailed);
    }
  }
  render();
}

// ------------------------------------------------------------ in the call

export function toggleMute() {
  const c = P.call;
  if (!live(c) || !c.mic) return;
  c.muted = !c.muted;
  for (const t of c.mic.getAudioTracks()) t.enabled = !c.muted;
  render();
}

export function toggleHold() {
  const c = P.call;
  if (!live(c) || c.phase !== 'answered' || c.holdPending !== null || !canControl(c)) return;
  const want = !c.held;
  if (!desk.send({ type: 'call_hold', call_id: c.id, hold: want })) {
    say('Not connected to the gateway — try again in a moment.');
    return;
  }
  c.holdPending = want;
  // The gateway confirms with call_status; it stays silent when the call already was in that state.
  clearTimeout(c.holdTimer);
  c.holdTimer = setTimeout(() => {
    if (!live(c) || c.holdPending !== want) return;
    c.holdPending = null;
    c.held = want;
    render();
  }, HOLD_WAIT);
  render();
}

export function hangUp() {
  const c = P.call;
  if (!live(c)) return;
  if (c.phase === 'mic' || c.phase === 'gathering') { // not offered yet: nothing to tell the gateway
    failAccept(c, '');
    return;
  }
  if (c.phase === 'hanging_up') return;
  c.phase = 'hanging_up';
  // The caller must not hear us any more, but keep the connection until the gateway has the hang-up:
  // a peer connection closing first would look like a dropped agent and requeue the caller.
  if (c.mic) for (const t of c.mic.getAudioTracks()) t.enabled = false;
  if (ui.audio) ui.audio.muted = true;
  closeTransferPanel();
  // A consultant leaves the consultation with call_decline (the gateway's "consult_declined"): the caller
  // goes back to the colleague. "hangup" would end the call for everybody, and is not ours to send.
  c.hangupSent = desk.send(c.role === 'consultant' ? { type: 'call_decline', call_id: c.id }
    : { type: 'hangup', call_id: c.id });
  clearTimeout(c.timer);
  c.timer = setTimeout(() => finish(c, 'agent_hangup'), c.hangupSent ? HANGUP_WAIT : HANGUP_OFFLINE_WAIT);
  render();
}
