// WebRTC call setup shared by the widget and the desk: ICE servers, microphone problems, non-trickle offers.

/** ICE servers from a script tag's data-ice-servers='[{"urls": "stun:..."}]' (none, or not a JSON list: []). */
export function iceServers(script) {
  const raw = script ? script.getAttribute('data-ice-servers') : null;
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed : [];
  } catch (_) {
    return [];
  }
}

// The TURN server and credentials of the last welcome (with --turn-urls: the pair the customer or agent holds,
// a new one while their hourly budget allows).
let welcomeIce = [];
// The welcome carried ice_servers at all: the gateway has TURN (an empty list: no pair for this socket now, the
// customer's or agent's hourly budget is spent; a call still asks for its own with call_ice).
let turnOffered = false;

/** Keep the welcome's ice_servers (absent or not a list: none). */
export function setWelcomeIce(list) {
  turnOffered = Array.isArray(list);
  welcomeIce = turnOffered ? list.filter((s) => s && typeof s === 'object' && s.urls) : [];
}

// call id -> resolve(list) of a call_ice asked and not answered yet.
const askedIce = new Map();

/** A call_ice frame: the TURN server and credentials made for one call (resolves whoever asked for them). */
export function takeCallIce(f) {
  const resolve = f && askedIce.get(f.call_id);
  if (!resolve) return;
  askedIce.delete(f.call_id);
  resolve(Array.isArray(f.ice_servers) ? f.ice_servers.filter((s) => s && typeof s === 'object' && s.urls) : []);
}

/** An error frame answering a call_ice still waited for (rate_limited: the customer or the address asked for too
 *  many TURN pairs): the pair will not come, so the asker goes on with the welcome's at once (resolves null).
 *  True if it answered one of ours (nothing to show: the call goes on). */
export function refusedCallIce(f) {
  const resolve = f && f.field === 'call_id' && typeof f.call_id === 'string' && askedIce.get(f.call_id);
  if (!resolve) return false;
  askedIce.delete(f.call_id);
  resolve(null);
  return true;
}

/** Ask the gateway (send: the socket's send) for a TURN pair bound to the call callId, before making its offer.
 *  Resolves with the list, or null at once when the welcome carried no ice_servers (the gateway has no TURN), when
 *  the frame could not be sent or was refused (refusedCallIce), or after maxMs without an answer (the welcome's
 *  pair is used then). */
export function askCallIce(send, callId, maxMs) {
  if (!turnOffered) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { askedIce.delete(callId); resolve(null); }, maxMs);
    askedIce.set(callId, (list) => { clearTimeout(timer); resolve(list); });
    if (!send({ type: 'call_ice', call_id: callId })) {
      clearTimeout(timer);
      askedIce.delete(callId);
      resolve(null);
    }
  });
}

/** The RTCPeerConnection configuration: the tag's ICE servers, then the TURN server made for this call (callIce,
 *  from askCallIce) or else the welcome's; data-ice-transport-policy="relay" on the tag makes the page use relayed
 *  candidates only (hides its address). */
export function rtcConfig(script, callIce = null) {
  const turn = Array.isArray(callIce) && callIce.length ? callIce : welcomeIce;
  const config = { iceServers: [...iceServers(script), ...turn] };
  if (script && script.getAttribute('data-ice-transport-policy') === 'relay') config.iceTransportPolicy = 'relay';
  return config;
}

/** Resolves when ICE gathering is complete, or after maxMs (the offer then carries what was found). */
export function iceGathered(pc, maxMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, maxMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** The browser can take a microphone and make a peer connection. */
export function canCall() {
  return !!navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === 'function' &&
    typeof window.RTCPeerConnection === 'function';
}

/** Why getUserMedia failed: 'mic_blocked', 'no_mic', 'mic_busy' or 'mic_failed'. */
export function micErrorReason(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'mic_blocked';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'no_mic';
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return 'mic_busy';
  return 'mic_failed';
}

/** getUserMedia constraints. The customer's audio goes raw to the gateway (its own VAD, DTMF detector and
 *  speech recognizer listen to it); an agent's desk keeps the browser's echo cancellation. */
export const CUSTOMER_MIC = Object.freeze({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
export const AGENT_MIC = Object.freeze({ audio: true });

/** Adds the microphone's audio tracks to pc and makes a non-trickle offer: resolves once ICE gathering is
 *  complete or iceWaitMs passed (pc.localDescription then holds every candidate found). Returns the last
 *  audio sender. The caller owns pc (its listeners, and closing it). */
export async function offerWithMic(pc, mic, iceWaitMs) {
  let sender = null;
  for (const track of mic.getAudioTracks()) sender = pc.addTrack(track, mic);
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc, iceWaitMs);
  return sender;
}
