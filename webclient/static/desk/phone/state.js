// The softphone's state (P), its elements (ui) and the desk's hooks (desk): filled by createSoftphone.

import { CALL_KEY } from './config.js';

/** The softphone's elements, found when the desk creates it (createSoftphone). */
export const ui = {};
/** The desk's hooks (see createSoftphone). */
export const desk = {};


/** What the softphone knows, in one place: every softphone module reads and writes it here. */
export const P = {
  ring: null,       // {callId, conversationId, agentName, deadline, seconds, error, consult, fromName}
  ringFocusFrom: null, // the element that had the focus before the ringing banner took it (given back after)
  focusTo: null,    // 'call': the next render puts the focus on the call's controls (answered)
  focusInCall: false, // the focus was last in the call bar, the banner or the transfer form (render.js placeFocus)
  call: null,       // the current or last call, see accept()
  wrap: null,       // {conversationId, since, reason, durationMs}: after-call work
  wrapSeen: false,  // the gateway's agent frames said wrap_up since they last said otherwise (wrap_up.js)
  notice: null,     // {text, until}: a dropped call or a failed accept, shown in the call bar
  tick: null,
  supervisor: false,
  // The call a supervisor listens to: {callId, conversationId, agentName, mode, prevMode, phase (mic -> gathering ->
  // offered -> answered -> ended), pc, mic, stream, connectedAt, reconnecting, error, timer, switchAt, listed}
  mon: null,
  monLeft: null,    // {callId, at}: we sent "hangup"; an error about it (the call had ended already) is no news
  orphan: null,     // {callId, conversationId}: our call's leg dropped with another tab; this one takes it back soon
};

/** The call this tab is on, kept across a reload of the tab (sessionStorage: not shared with other tabs), so the
 *  reloaded desk offers a new leg for it, and another tab of the same agent leaves it alone. */
export function rememberCall(id) {
  try {
    if (id && sessionStorage.getItem(CALL_KEY) !== id) {
      sessionStorage.setItem(CALL_KEY, id);
      sessionStorage.removeItem(`${CALL_KEY}.muted`);
    } else if (!id) {
      sessionStorage.removeItem(CALL_KEY);
      sessionStorage.removeItem(`${CALL_KEY}.muted`);
    }
  } catch (_) { /* no storage */ }
}

/** Whether the agent muted this tab's call (a reload takes the call back as muted as it was). */
export function rememberMuted(muted) {
  try { if (muted) sessionStorage.setItem(`${CALL_KEY}.muted`, '1'); else sessionStorage.removeItem(`${CALL_KEY}.muted`); } catch (_) { /* no storage */ }
}

export function rememberedMuted() {
  try { return sessionStorage.getItem(`${CALL_KEY}.muted`) === '1'; } catch (_) { return false; }
}

export function rememberedCall() {
  try { return sessionStorage.getItem(CALL_KEY) || ''; } catch (_) { return ''; }
}
