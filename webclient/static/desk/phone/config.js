// The softphone's timings and every sentence it shows.

import { micErrorReason } from '../../shared/rtc.js';

// The desk's module script; data-ice-servers='[{"urls": "stun:..."}]' on it sets ICE servers.
export const SCRIPT = document.querySelector('script[src$="/desk/main.js"]');
export const ICE_WAIT = 3000;            // at most this long for ICE gathering (the offer carries what was found)
export const TURN_WAIT = 2000;           // at most this long for the call's own TURN pair (call_ice), else the welcome's
export const SOCKET_WAIT = 8000;         // a reconnecting socket gets this long before an accept gives up
export const ANSWER_WAIT = 15000;        // call_offer -> call_answer
export const HANGUP_WAIT = 5000;         // after "hangup", wait this long for "ended" before closing the media
export const HANGUP_OFFLINE_WAIT = 20000; // hung up while the socket was down: keep the media so long for a reconnect
export const HOLD_WAIT = 5000;           // call_hold unconfirmed this long: the gateway was already in that state
export const DROPPED_SHOW = 10000;
export const RING_CYCLE = 3000;
export const ERROR_SHOW = 9000;          // a refused transfer / consult stays in the call bar this long
export const REQUEST_WAIT = 12000;       // transfer / consult request unanswered this long: give the controls back
export const LIVE_POLL = 3000;           // GET /api/calls every so often while the Live calls panel is open
export const MONITOR_LEAVE_GRACE = 1500; // after "hangup" from a monitor, close its connection this much later
export const TRANSFER_RELEASE_WAIT = 8000; // after a transfer the gateway closes our leg; ours closes this much later
export const RECENT_KEY = 'cg.agent.transfer_targets';
export const CALL_KEY = 'cg.agent.call';      // sessionStorage: the call this tab is on (a reload offers it a new leg)
export const MAX_REJOINS = 3;              // new legs a call's desk offers by itself after its own dropped
export const REJOIN_AFTER_FAIL = 500;      // our leg failed: this long for the gateway's word (ended, transferred) first
export const TAKE_BACK_WAIT = 3000;       // another tab's call dropped with it: this long for that tab to take it back

export const TEXT = {
  incoming: 'Incoming call',
  cannotWhileOnCall: 'Finish your current call to take this one.',
  mic: 'Waiting for the microphone…',
  connecting: 'Connecting…',
  connected: 'Connected',
  held: 'On hold — the caller hears music',
  reconnecting: 'Connection unstable — reconnecting…',
  hangingUp: 'Hanging up…',
  hangingUpOffline: 'Hanging up… (waiting for the connection to the gateway)',
  wrapup: 'After-call work',
  wrapupHint: 'Finish your notes, then close the conversation with a disposition.',
  wrapupOver: 'After-call time is over',
  wrapupOverHint: 'Calls come to you again. Close the conversation with a disposition, or keep it open.',
  micBlocked: 'Microphone access was blocked. Allow the microphone for this site in your browser settings, then accept again.',
  noMic: 'No microphone found. Connect a headset and accept again.',
  micBusy: 'Your microphone is in use by another app. Close it and accept again.',
  micFailed: 'The microphone could not be started.',
  unsupported: 'Calls need a browser with microphone support on a secure (https) page.',
  offline: 'Not connected to the gateway — the call could not be answered.',
  noAnswer: 'The gateway did not answer. The call goes back to the queue.',
  connectionFailed: 'The call connection failed. The caller goes back to the queue.',
  dropped: 'The call connection dropped. The caller went back to the queue.',
  rejoining: 'Reconnecting your call — the caller is on hold meanwhile.',
  missed: 'Missed call — it went back to the queue and your status is now Away.',
  declined: 'Call declined — it went back to the queue and your status is now Away.',
  declinedOwnChat: 'Call declined — the customer was told you can\'t talk now; the chat stays with you.',
  elsewhere: 'The call was answered in another tab.',
  ringGone: 'The caller is no longer waiting for you.',
  consultRing: 'Consultation request',
  consultDeclined: 'Consultation declined.',
  consultDeclinedAway: 'Consultation declined: you are away.',
  consultMissed: 'Missed consultation request.',
  consultGone: 'The consultation request was withdrawn.',
  consultConnecting: 'Connecting to your colleague…',
  consultFailed: 'The consultation connection failed.',
  consultEnded: 'The consultation ended — your colleague kept the caller.',
  takenOver: 'The call is yours now.',
  transferNoReply: 'The gateway did not confirm the transfer. Try again.',
  needTarget: 'Type an agent ID or a queue name.',
  monitorConnecting: 'Joining the call…',
  monitorFailed: 'Could not join the call.',
  monitorDropped: 'You are no longer listening: the call ended or the connection dropped.',
  monitorTransferred: 'The call was transferred: you stopped listening. Listen again from the live calls.',
  monitorAgentLost: "The agent's connection was lost: the caller waits in the queue again. Listen again from the "
    + 'live calls once an agent answers.',
};

/** What the first agent sees when a consultation ends without the hand-over (call_status reasons). */
export const CONSULT_END = {
  consult_declined: (who) => `${who} declined the consultation — you are back with the caller.`,
  consult_no_answer: (who) => `${who} did not answer — you are back with the caller.`,
  consult_cancelled: () => 'Consultation ended — you are back with the caller.',
  consult_lost: (who) => `The connection to ${who} dropped — you are back with the caller.`,
  consult_ice_timeout: (who) => `Could not connect to ${who} — you are back with the caller.`,
};

export const ENDED_REASON = {
  caller_hangup: 'Caller hung up',
  agent_hangup: 'You hung up',
  gateway_shutdown: 'The call was interrupted: the gateway restarted',
  node_lost: 'The call was interrupted: the server holding it went down',
  ice_failed: 'The caller\'s connection failed',
  ice_timeout: 'The caller\'s connection timed out',
  connection_closed: 'The caller\'s connection closed',
  transferred: 'Transferred',
};

const MIC_TEXT = { mic_blocked: TEXT.micBlocked, no_mic: TEXT.noMic, mic_busy: TEXT.micBusy, mic_failed: TEXT.micFailed };

export function micProblem(err) {
  return MIC_TEXT[micErrorReason(err)];
}
