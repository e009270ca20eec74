// Accept (microphone, our own non-trickle offer as call_offer, the gateway's call_answer) and the call's
// controls: mute, hold, hang up.

import { AGENT_MIC, askCallIce, canCall, rtcConfig, offerWithMic } from '../../shared/rtc.js';
import { ANSWER_WAIT, HANGUP_OFFLINE_WAIT, HANGUP_WAIT, HOLD_WAIT, ICE_WAIT, MAX_REJOINS, REJOIN_AFTER_FAIL, SCRIPT, SOCKET_WAIT, TEXT, TURN_WAIT, micProblem } from './config.js';
import { MAX_SDP_CHARS } from '../../shared/protocol.js';
import { P, desk, rememberCall, rememberMuted, rememberedCall, rememberedMuted, ui } from './state.js';
import { canControl, closeTransferPanel, finish, release } from './transfer.js';
import { live, ringer, say, setNotice, startTicking } from './ringing.js';
import { render } from './render.js';
import { lossIds } from './losses.js';
import { typingIn } from './ring_keys.js';

// ------------------------------------------------------------ accept

/** The losses of our leg of this call that the conversation shows already (losses.js). */
function lossesSoFar(conversationId, callId) {
  const conv = desk.conversation(conversationId);
  const me = desk.me();
  return lossIds(conv ? [...conv.events.values()] : [], callId, me && me.id);
}

/** A call object: what the call bar shows and the controls act on. */
function newCall(callId, conversationId, role, fromName) {
  return {
    id: callId,
    conversationId,
    phase: 'mic',            // mic -> gathering -> offered -> answered -> hanging_up -> ended
    status: 'connecting',    // the gateway's last word: connecting, connected
    reason: '',
    held: false,
    holdPending: null,       // true/false while a call_hold is unconfirmed
    holdTimer: null,
    muted: false,
    reconnecting: false,
    rejoins: 0,              // new legs offered for this call after ours dropped (a reload, a network change)
    rejoining: false,        // such a leg is on its way (until the gateway says connected again)
    pc: null,
    mic: null,
    connectedAt: 0,
    endedAt: 0,
    hangupSent: false,
    timer: null,
    // 'agent': our call; 'consultant': a colleague consults us (the caller holds) until they hand it over
    role,
    fromName: fromName || '',
    consult: null,           // we consult someone: {agentId, state: requested|ringing|connected|completing}
    transfer: null,          // a blind transfer we asked for: {kind, target}
    request: null,           // {what, at}: the last transfer / consult frame not answered yet
    requestTimer: null,
    error: null,             // {text, until}: a refused transfer or consult, shown in the bar
    transferredTo: '',
    supervisors: [],         // call_supervisors: [{agent_id, name, mode}] whispering to us or barged in
    lostBefore: lossesSoFar(conversationId, callId), // our leg's losses of this call seen before this answer
  };
}

export async function accept() {
  if (!P.ring || live(P.call)) return;
  const r = P.ring;
  ringer.stop();
  r.error = '';
  P.notice = null;
  const c = newCall(r.callId, r.conversationId, r.consult ? 'consultant' : 'agent', r.fromName);
  P.call = c;
  closeTransferPanel();
  P.wrap = null;
  // Answered from the banner (Accept): the caller's conversation (not opened while the agent was typing when it
  // rang, ringing.js), and the focus on the call's controls (Mute, else Hang up). Answered while typing
  // (Alt+Shift+A, or a callback accepted at once): neither, whatever the ring. The shortcut exists so the agent
  // answers without leaving the composer; focus on Mute made their next space mute them (a review). The bar's
  // name button opens the caller's conversation.
  const typing = typingIn(document.activeElement);
  if (!r.consult && r.conversationId && !typing) desk.open(r.conversationId);
  P.focusTo = typing ? null : 'call';
  startTicking();
  render();
  await connectMedia(c);
}

/**
 * Our leg of a call we are on went away and the gateway holds the caller for us (call_status waiting
 * agent_reconnecting, or welcome.calls rejoin after this page reloaded): offer a new leg for the same call.
 * entry: the welcome's call (no call on this page yet), else the page's own call c.
 */
export async function rejoin(entry, c = null) {
  if (c === null) {
    if (live(P.call) || !entry || typeof entry.call_id !== 'string') return;
    c = newCall(entry.call_id, String(entry.conversation_id || ''), 'agent', '');
    c.held = entry.held === true;
    c.muted = entry.call_id === rememberedCall() && rememberedMuted(); // muted before the reload: still muted
    c.connectedAt = typeof entry.answered_ms === 'number' && entry.answered_ms > 0 ? entry.answered_ms : Date.now();
    P.call = c;
    P.wrap = null;
    if (c.conversationId) desk.open(c.conversationId);
  } else {
    if (!live(c) || c.role !== 'agent' || c.rejoins >= MAX_REJOINS || c.phase === 'hanging_up') return;
    dropMedia(c);
    c.request = null; // a transfer or consult asked for went with the old leg: a refusal now is the new leg's
    clearTimeout(c.requestTimer);
  }
  c.rejoins += 1;
  c.rejoining = true;
  c.phase = 'mic';
  startTicking();
  render();
  await connectMedia(c);
}

/** Our old leg's peer connection, closed without counting as the call's end (its replacement comes next). */
function dropMedia(c) {
  clearTimeout(c.timer);
  const pc = c.pc;
  c.pc = null;
  if (pc) {
    try { pc.close(); } catch (_) { /* already closed */ }
  }
}

/** The microphone, our own non-trickle offer as call_offer; the gateway's call_answer follows (frames.js). */
async function connectMedia(c) {
  const gone = () => !live(c) || c.phase === 'hanging_up'; // (hung up meanwhile: a rejoin's media is not wanted)
  if (!canCall()) {
    failAccept(c, TEXT.unsupported);
    return;
  }
  const ice = askCallIce((f) => desk.send(f), c.id, TURN_WAIT); // a TURN pair for this call, while the mic is asked for
  let mic = c.mic && c.mic.getTracks().some((t) => t.readyState === 'live') ? c.mic : null;
  if (!mic) {
    try {
      mic = await navigator.mediaDevices.getUserMedia(AGENT_MIC);
    } catch (err) {
      failAccept(c, micProblem(err));
      return;
    }
  }
  const callIce = await ice;
  if (gone()) {
    if (mic !== c.mic) for (const t of mic.getTracks()) t.stop();
    return;
  }
  c.mic = mic;
  for (const t of mic.getAudioTracks()) t.enabled = !c.muted;
  c.phase = 'gathering';
  render();
  try {
    const pc = new RTCPeerConnection(rtcConfig(SCRIPT, callIce));
    c.pc = pc;
    pc.addEventListener('track', (e) => { if (c.pc === pc) playRemote(c, e); });
    pc.addEventListener('connectionstatechange', () => { if (c.pc === pc) onPeerState(c); });
    await offerWithMic(pc, mic, ICE_WAIT);
  } catch (_) {
    if (!gone()) failAccept(c, TEXT.connectionFailed);
    return;
  }
  if (gone()) return;
  const sdp = c.pc.localDescription && c.pc.localDescription.sdp;
  if (!sdp || sdp.length > MAX_SDP_CHARS) {
    failAccept(c, TEXT.connectionFailed);
    return;
  }
  if (!(await whenReady(SOCKET_WAIT)) || gone() || !desk.send({ type: 'call_offer', call_id: c.id, sdp })) {
    if (!gone()) failAccept(c, TEXT.offline);
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
  if (rememberedCall() === c.id) rememberCall(''); // (a refused rejoin: not this tab's call to take back)
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
    if (c.phase === 'answered') c.rejoining = false;
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
    } else if (state === 'failed' && c.phase === 'answered' && c.rejoins < MAX_REJOINS && !c.consult
      && c.status === 'connected') {
      // The gateway holds the caller for us: a new leg, unless its word (ended, transferred) comes first.
      const pc = c.pc;
      setTimeout(() => { if (live(c) && c.pc === pc && c.phase === 'answered') rejoin(null, c); }, REJOIN_AFTER_FAIL);
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
  if (rememberedCall() === c.id) rememberMuted(c.muted); // (a reload takes the call back muted)
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
  if ((c.phase === 'mic' || c.phase === 'gathering') && !c.rejoining) { // not offered yet: nothing to tell
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
