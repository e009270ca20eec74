// Listen, whisper or barge into a connected call from the wallboard: our own peer connection to the gateway
// (`call_monitor` with our offer; the same frame without one switches the mode; `hangup` leaves). The microphone
// is on only while whispering or barging in.

import { AGENT_MIC, askCallIce, canCall, rtcConfig, offerWithMic } from '../shared/rtc.js';
import { MAX_SDP_CHARS } from '../shared/protocol.js';
import { MODE_WORDS } from './wallboard_format.js';

const ICE_WAIT = 3000;
const TURN_WAIT = 2000; // at most this long for the monitor's own TURN pair (call_ice), else the welcome's
const ANSWER_WAIT = 15000;
const SCRIPT = document.querySelector('script[src$="/supervisor/wallboard.js"]');

const M = { send: () => false, changed: () => {}, mon: null, hideTimer: null };
const ENDED_SHOWN_MS = 10000; // how long "The call ended." stays under the wallboard

export function initMonitor({ send, changed }) {
  M.send = send;
  M.changed = changed;
  document.getElementById('wb-monitor-leave').addEventListener('click', () => leave(''));
}

/** {callId, mode, phase, text} of the call we are on, or null. */
export function monitoring() {
  return M.mon && M.mon.phase !== 'ended' ? M.mon : null;
}

function micFor(m) {
  if (m.mic) for (const t of m.mic.getAudioTracks()) t.enabled = m.phase !== 'ended' && m.mode !== 'listen';
}

function show(m, text) {
  m.text = text;
  const bar = document.getElementById('wb-monitor');
  bar.hidden = !m;
  bar.dataset.mode = m.mode;
  bar.dataset.phase = m.phase;
  document.getElementById('wb-monitor-text').textContent = text;
  document.getElementById('wb-monitor-leave').hidden = m.phase === 'ended';
  M.changed();
}

function words(m) {
  if (m.mode === 'barge') return 'On the call: the caller and the agent hear you';
  if (m.mode === 'whisper') return 'Whispering: the agent hears you, the caller does not';
  return 'Listening: nobody hears you';
}

/** A Listen / Whisper / Barge button: join the call, or switch the mode of the call we are on. The buttons are
 *  toggles (aria-pressed), as in the desk's Live calls: the pressed one again leaves its mode (Whisper or Barge in:
 *  back to listening; Listen: leave the call). */
export async function monitor(callId, mode) {
  const cur = monitoring();
  if (cur && cur.callId === callId) {
    if (cur.mode === mode && mode === 'listen') {
      leave('');
      return;
    }
    const next = cur.mode === mode ? 'listen' : mode;
    if (cur.phase !== 'answered') return;
    if (!M.send({ type: 'call_monitor', call_id: callId, mode: next })) return;
    cur.mode = next;
    micFor(cur);
    show(cur, words(cur));
    return;
  }
  if (cur) leave('');
  const m = { callId, mode, phase: 'mic', pc: null, mic: null, timer: null, text: '' };
  M.mon = m;
  show(m, `${MODE_WORDS[mode]}: waiting for the microphone…`);
  if (!canCall()) return end(m, 'Listening in needs a browser with microphone support on a secure (https) page.');
  const ice = askCallIce(M.send, callId, TURN_WAIT); // a TURN pair bound to this call and us, while the mic starts
  try {
    m.mic = await navigator.mediaDevices.getUserMedia(AGENT_MIC);
  } catch (_) {
    return end(m, 'The microphone could not be started; allow it for this site and try again.');
  }
  const callIce = await ice;
  if (M.mon !== m) return release(m);
  micFor(m);
  m.phase = 'joining';
  show(m, `${MODE_WORDS[mode]}: joining the call…`);
  try {
    m.pc = new RTCPeerConnection(rtcConfig(SCRIPT, callIce));
    m.pc.addEventListener('track', (e) => play(m, e));
    m.pc.addEventListener('connectionstatechange', () => {
      const state = m.pc && m.pc.connectionState;
      if (M.mon === m && (state === 'failed' || state === 'closed')) end(m, 'The call ended.');
      else if (M.mon === m && state === 'connected') show(m, words(m));
    });
    await offerWithMic(m.pc, m.mic, ICE_WAIT);
  } catch (_) {
    return end(m, 'Could not join the call. Try again.');
  }
  const sdp = m.pc.localDescription && m.pc.localDescription.sdp;
  if (M.mon !== m) return release(m);
  if (!sdp || sdp.length > MAX_SDP_CHARS || !M.send({ type: 'call_monitor', call_id: callId, mode: m.mode, sdp })) {
    return end(m, 'Not connected to the gateway — could not join the call.');
  }
  m.phase = 'offered';
  m.timer = setTimeout(() => { if (M.mon === m && m.phase === 'offered') end(m, 'The gateway did not answer.'); },
    ANSWER_WAIT);
}

function play(m, e) {
  const audio = document.getElementById('wb-monitor-audio');
  if (M.mon !== m) return;
  audio.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
  const played = audio.play();
  if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: media still flows */ });
}

/** call_answer: the gateway's answer to our offer. */
export function onAnswer(f) {
  const m = monitoring();
  if (!m || f.call_id !== m.callId || m.phase !== 'offered') return;
  clearTimeout(m.timer);
  m.phase = 'answered';
  m.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => end(m, 'Could not join the call.'));
  show(m, `${MODE_WORDS[m.mode]}: connecting…`);
}

/** call_status with monitor: true (our own leg): ended when the call ended or we were dropped. */
export function onStatus(f) {
  const m = monitoring();
  if (!m || f.call_id !== m.callId || !f.monitor) return;
  if (f.status !== 'ended') return;
  end(m, f.reason === 'supervisor_hangup' || f.reason === 'hangup' ? 'You left the call.'
    : f.reason === 'call_transferred' ? 'The call was transferred: you stopped listening. Listen again from its row.'
      : f.reason === 'agent_lost' ? "The agent's connection was lost: the caller waits in the queue again. "
        + 'Listen again from its row once an agent answers.'
        : 'The call ended.');
}

/** An error frame while joining: the join failed with its message. */
export function onError(f) {
  const m = monitoring();
  if (!m || (f.call_id && f.call_id !== m.callId) || m.phase === 'answered') return false;
  end(m, f.message || 'Could not join the call.');
  return true;
}

export function leave(text) {
  const m = monitoring();
  if (!m) return;
  if (m.phase === 'offered' || m.phase === 'answered') M.send({ type: 'hangup', call_id: m.callId });
  end(m, text || 'You left the call.');
}

function end(m, text) {
  if (m.phase === 'ended') return;
  m.phase = 'ended';
  release(m);
  const leaveButton = document.getElementById('wb-monitor-leave');
  const hadFocus = document.activeElement === leaveButton;
  show(m, text);
  if (hadFocus) focusAfterLeaving(m); // the Leave button is gone: not to <body>, where Tab starts from the top
  clearTimeout(M.hideTimer);
  M.hideTimer = setTimeout(() => { // said for a while, then out of the way (not for minutes)
    if (M.mon === m) document.getElementById('wb-monitor').hidden = true;
  }, ENDED_SHOWN_MS);
}

/** Back to the call's row (the button of the mode we left), or to the calls table when the row is gone. */
function focusAfterLeaving(m) {
  const row = Array.from(document.querySelectorAll('[data-testid=wb-call]')).find((tr) => tr.dataset.key === m.callId);
  const button = row && row.querySelector(`button[data-mode="${m.mode}"]`);
  if (button && !button.disabled) button.focus();
  else document.querySelector('[data-testid=wb-calls]').closest('[role=region]').focus();
}

function release(m) {
  clearTimeout(m.timer);
  if (m.mic) for (const t of m.mic.getTracks()) t.stop();
  if (m.pc) try { m.pc.close(); } catch (_) { /* closed */ }
  const audio = document.getElementById('wb-monitor-audio');
  if (audio.srcObject) audio.srcObject = null;
}
