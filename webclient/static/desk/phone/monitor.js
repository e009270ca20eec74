// Supervisors listen in, whisper or barge in with a separate peer connection (call_monitor).

import { AGENT_MIC, askCallIce, canCall, rtcConfig, offerWithMic } from '../../shared/rtc.js';
import { ANSWER_WAIT, ICE_WAIT, MONITOR_LEAVE_GRACE, SCRIPT, SOCKET_WAIT, TEXT, TURN_WAIT, micProblem } from './config.js';
import { MAX_SDP_CHARS } from '../../shared/protocol.js';
import { P, desk, ui } from './state.js';
import { board, monLive, renderLive, schedulePoll } from './supervisor.js';
import { live } from './ringing.js';
import { whenReady } from './call.js';

/** Listen / Whisper / Barge in on a row: join with our own offer, or switch the mode of the call we already hear.
 *  The buttons are toggles (aria-pressed), as on the wallboard: the pressed one again leaves its mode (Whisper or
 *  Barge in: back to listening; Listen: leave the call). */
export async function joinMonitor(callId, mode) {
  const entry = board.calls.find((x) => x.call_id === callId);
  const current = P.mon;
  if (monLive(current) && current.callId === callId) {
    if (current.mode === mode && mode === 'listen') leaveMonitor('');
    else switchMode(current, current.mode === mode ? 'listen' : mode);
    return;
  }
  if (!entry) return;
  if (monLive(current)) leaveMonitor('');
  const m = {
    callId, conversationId: entry.conversation_id || '', agentName: entry.agent_name || entry.agent_id || 'the agent',
    mode, prevMode: mode, phase: 'mic', pc: null, mic: null, stream: null, connectedAt: 0, reconnecting: false,
    error: '', timer: null, switchAt: 0, listed: true,
  };
  P.mon = m;
  P.monLeft = null;
  renderLive();
  if (!canCall()) {
    endMonitor(m, TEXT.unsupported);
    return;
  }
  // a TURN pair for this monitor (call_ice: bound to the call and us), asked for while the mic starts
  const ice = askCallIce((f) => desk.send(f), callId, TURN_WAIT);
  let mic;
  try {
    mic = await navigator.mediaDevices.getUserMedia(AGENT_MIC);
  } catch (err) {
    endMonitor(m, micProblem(err));
    return;
  }
  const callIce = await ice;
  if (!monLive(m)) {
    for (const t of mic.getTracks()) t.stop();
    return;
  }
  m.mic = mic;
  micFor(m); // listening: the track is off, the gateway gets silence from us
  m.phase = 'gathering';
  renderLive();
  try {
    const pc = new RTCPeerConnection(rtcConfig(SCRIPT, callIce));
    m.pc = pc;
    pc.addEventListener('track', (e) => playMonitor(m, e));
    pc.addEventListener('connectionstatechange', () => onMonitorPeer(m));
    await offerWithMic(pc, mic, ICE_WAIT);
  } catch (_) {
    if (monLive(m)) endMonitor(m, TEXT.monitorFailed);
    return;
  }
  if (!monLive(m)) return;
  const sdp = m.pc.localDescription && m.pc.localDescription.sdp;
  if (!sdp || sdp.length > MAX_SDP_CHARS) {
    endMonitor(m, TEXT.monitorFailed);
    return;
  }
  if (!(await whenReady(SOCKET_WAIT)) || !monLive(m) ||
      !desk.send({ type: 'call_monitor', call_id: m.callId, mode: m.mode, sdp })) {
    if (monLive(m)) endMonitor(m, 'Not connected to the gateway — could not join the call.');
    return;
  }
  m.prevMode = m.mode;
  m.phase = 'offered';
  m.timer = setTimeout(() => {
    if (monLive(m) && m.phase === 'offered') endMonitor(m, 'The gateway did not answer. Try again.');
  }, ANSWER_WAIT);
  renderLive();
  schedulePoll();
}

function micFor(m) {
  if (m.mic) for (const t of m.mic.getAudioTracks()) t.enabled = m.mode !== 'listen' && m.phase !== 'ended';
}

/** The same call_monitor frame without sdp: the gateway switches between listen, whisper and barge. */
function switchMode(m, mode) {
  if (!monLive(m) || m.mode === mode) return;
  if (m.phase === 'mic' || m.phase === 'gathering') { // not offered yet: the offer will carry the mode
    m.mode = mode;
    micFor(m);
    renderLive();
    return;
  }
  if (m.phase !== 'answered') return;
  if (!desk.send({ type: 'call_monitor', call_id: m.callId, mode })) {
    m.error = 'Not connected to the gateway — try again in a moment.';
    renderLive();
    return;
  }
  m.prevMode = m.mode;
  m.mode = mode;
  m.switchAt = Date.now();
  m.error = '';
  micFor(m);
  renderLive();
}

/** Leave the call we listen to ("hangup" from a supervisor ends only their leg; the call goes on). */
export function leaveMonitor(text) {
  const m = P.mon;
  if (!monLive(m)) return;
  const sent = (m.phase === 'offered' || m.phase === 'answered') && desk.send({ type: 'hangup', call_id: m.callId });
  if (sent) P.monLeft = { callId: m.callId, at: Date.now() };
  m.phase = 'ended';
  m.error = text || '';
  clearTimeout(m.timer);
  micFor(m);
  if (ui.monitorAudio && ui.monitorAudio.srcObject === m.stream) ui.monitorAudio.muted = true;
  // The gateway closes our leg on "hangup"; ours closes a moment later.
  setTimeout(() => releaseMonitor(m), sent ? MONITOR_LEAVE_GRACE : 0);
  renderLive();
  schedulePoll();
}

export function endMonitor(m, text) {
  if (!m || m.phase === 'ended') return;
  m.phase = 'ended';
  m.error = text || '';
  releaseMonitor(m);
  renderLive();
  schedulePoll();
}

function releaseMonitor(m) {
  clearTimeout(m.timer);
  m.timer = null;
  if (m.mic) for (const t of m.mic.getTracks()) t.stop();
  if (m.pc) {
    try { m.pc.close(); } catch (_) { /* already closed */ }
  }
  if (ui.monitorAudio && m.stream && ui.monitorAudio.srcObject === m.stream) {
    try { ui.monitorAudio.pause(); } catch (_) { /* ignore */ }
    ui.monitorAudio.srcObject = null;
  }
}

function playMonitor(m, e) {
  if (!monLive(m) || !ui.monitorAudio) return;
  m.stream = (e.streams && e.streams[0]) || new MediaStream([e.track]);
  ui.monitorAudio.muted = false;
  ui.monitorAudio.srcObject = m.stream;
  const played = ui.monitorAudio.play();
  if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: media still flows */ });
}

function onMonitorPeer(m) {
  if (!monLive(m) || !m.pc) return;
  const state = m.pc.connectionState;
  if (state === 'connected') {
    if (!m.connectedAt) m.connectedAt = Date.now();
    m.reconnecting = false;
  } else if (state === 'disconnected') {
    m.reconnecting = true;
  } else if (state === 'failed' || state === 'closed') {
    endMonitor(m, TEXT.monitorDropped); // the call ended (the gateway closes supervisors' legs) or ICE failed
    return;
  }
  renderLive();
}

export function monitorAnswer(f) {
  const m = P.mon;
  if (!monLive(m) || f.call_id !== m.callId || m.phase !== 'offered') return;
  clearTimeout(m.timer);
  m.phase = 'answered';
  m.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => {
    if (monLive(m)) leaveMonitor(TEXT.monitorFailed);
  });
  renderLive();
}

/** An error frame while we join, switch or leave a monitored call; true when it was about that. */
export function monitorError(f, message) {
  const m = P.mon;
  const c = P.call;
  const callBusy = live(c) && (c.request || c.holdPending !== null || c.phase === 'offered' || c.phase === 'hanging_up');
  if (callBusy) return false; // our own call's request is more likely what the gateway refused
  const joinCodes = ['forbidden', 'already_monitoring', 'not_connected', 'not_found', 'bad_sdp', 'no_audio', 'bad_field',
    'not_ringing'];
  if (monLive(m) && m.phase === 'offered' && joinCodes.includes(f.code)) {
    endMonitor(m, message);
    return true;
  }
  if (monLive(m) && m.phase === 'answered' && m.switchAt && Date.now() - m.switchAt < 5000 &&
      ['not_monitoring', 'not_connected', 'not_found', 'forbidden', 'bad_field'].includes(f.code)) {
    m.switchAt = 0;
    if (f.code === 'bad_field' || f.code === 'forbidden') {
      m.mode = m.prevMode;
      m.error = message;
      micFor(m);
      renderLive();
    } else {
      endMonitor(m, message);
    }
    return true;
  }
  if (P.monLeft && Date.now() - P.monLeft.at < 5000 && ['not_ringing', 'not_found', 'not_monitoring'].includes(f.code)) {
    P.monLeft = null; // we left a call that had ended already
    return true;
  }
  return false;
}

export function monitorText(m) {
  const who = m.agentName || 'the agent';
  if (m.phase === 'ended') return m.error || `You left ${who}'s call.`;
  if (m.phase === 'mic') return TEXT.mic;
  if (m.phase !== 'answered' || !m.connectedAt) return `Joining ${who}'s call…`;
  if (m.reconnecting) return TEXT.reconnecting;
  if (m.mode === 'barge') return `On ${who}'s call — the caller and ${who} hear you`;
  return m.mode === 'whisper' ? `Whispering to ${who} — the caller cannot hear you`
    : `Listening to ${who}'s call — nobody hears you`;
}


export async function pcStats(pc) {
  const out = { inboundAudioLevel: 0, totalAudioEnergy: 0, totalSamplesDuration: 0, bytesReceived: 0,
    packetsReceived: 0, connectionState: pc ? pc.connectionState : 'closed' };
  if (!pc || pc.connectionState === 'closed') return out;
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp' || (s.kind || s.mediaType) !== 'audio') return;
    out.inboundAudioLevel = Math.max(out.inboundAudioLevel, Number(s.audioLevel) || 0);
    out.totalAudioEnergy += Number(s.totalAudioEnergy) || 0;
    out.totalSamplesDuration += Number(s.totalSamplesDuration) || 0;
    out.bytesReceived += Number(s.bytesReceived) || 0;
    out.packetsReceived += Number(s.packetsReceived) || 0;
  });
  return out;
}
