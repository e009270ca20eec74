// What a (re)connect says about the call this page holds. welcome.calls lists the customer's (or the agent's) live
// calls, wherever they run; a call the page thought live that is not listed ended while the socket was away (its node
// may have died: reason node_lost). Shared by the widget and the desk, pure so node's tests can drive it.

import { CallEndReason, CallStatus } from './protocol.js';

/** Ends that were our side's doing, not the person's: "The call was interrupted", and an offer to call again. */
export const INTERRUPTED_REASONS = Object.freeze([CallEndReason.NODE_LOST, CallEndReason.GATEWAY_SHUTDOWN]);

export function wasInterrupted(reason) {
  return INTERRUPTED_REASONS.includes(reason);
}

/**
 * The reasons of a `waiting` call status that put the conversation back in line: the ringing agent missed or declined
 * it, their desk dropped, they transferred it to a queue, or their leg was lost. The IVR's own `waiting` when the flow
 * reaches its queue node carries the queue's name instead, and may come after the conversation was assigned already
 * (the router is quicker than the status): that one leaves an assigned conversation with its agent.
 */
export const BACK_IN_LINE_REASONS = Object.freeze(['no_answer', 'declined', 'agent_disconnected', 'transferred', 'agent_lost']);

export function backInLine(status, reason) {
  return status === CallStatus.WAITING && BACK_IN_LINE_REASONS.includes(reason);
}

/** The `connected` reasons under which the caller hears music, not the agent: on hold, or held while the agent
 *  consults a colleague (the agent's desk shows its Hold button for `held` only). */
export const CALLER_HOLDS_REASONS = Object.freeze(['held', 'consult_ringing', 'consulting']);

export function callerHolds(status, reason) {
  return status === CallStatus.CONNECTED && CALLER_HOLDS_REASONS.includes(reason);
}

/** Peer connection states after which the media cannot come back. */
const MEDIA_GONE = ['failed', 'closed'];
const STATUSES = Object.values(CallStatus);

/**
 * call: {id, known, media} or null — known: the gateway has heard of it (its offer went out); media: its
 * RTCPeerConnection's connectionState ('' when there is none). listed: welcome.calls.
 * Returns {action: 'keep'} (nothing to change), {action: 'restore', status, held} (the call goes on: show the
 * gateway's status), or {action: 'end', reason}.
 */
export function reconcileCall(call, listed) {
  if (!call || !call.known) return { action: 'keep' };
  const entry = (Array.isArray(listed) ? listed : []).find((e) => e && typeof e === 'object' && e.call_id === call.id);
  if (!entry) return { action: 'end', reason: CallEndReason.NODE_LOST };
  if (entry.status === CallStatus.ENDED) {
    return { action: 'end', reason: typeof entry.reason === 'string' && entry.reason ? entry.reason : CallEndReason.NODE_LOST };
  }
  if (MEDIA_GONE.includes(call.media)) return { action: 'end', reason: CallEndReason.NODE_LOST }; // listed, but our media died with its node
  return { action: 'restore', status: STATUSES.includes(entry.status) ? entry.status : '', held: entry.held === true };
}
