// The widget's settings: where the gateway is (the script tag), storage keys, timings, and every sentence shown.

import { callTimeText } from '../shared/text.js';

// ------------------------------------------------------------ configuration

export const SCRIPT = document.currentScript ||
  Array.from(document.querySelectorAll('script[src]')).find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src)) ||
  null;

const GATEWAY = resolveGateway();
export const WS_URL = GATEWAY.replace(/^http/i, 'ws') + '/ws/customer';
export const HTTP_BASE = GATEWAY; // uploads and downloads (shared/upload.js)
export const TOKEN_KEY = 'cg.token:' + GATEWAY;
export const STATE_KEY = 'cg.state:' + GATEWAY;
export const OPEN_KEY = 'cg.open:' + GATEWAY;
export const DRAFT_KEY = 'cg.draft:' + GATEWAY;   // what is typed and not sent yet (this tab: kept over a reload)
export const CAPTIONS_KEY = 'cg.captions:' + GATEWAY;  // 'off' when the caller turned call captions off
export const DECLINED_INVITE_KEY = 'cg.declinedInvite:' + GATEWAY; // the call invitation this tab declined (event id)
export const RATING_DISMISSED_KEY = 'cg.ratingDismissed:' + GATEWAY; // conversations whose rating question was dismissed

export const CACHE_LIMIT = 200;            // events kept in localStorage for instant history
export const TYPING_THROTTLE = 250;
export const TYPING_IDLE = 3000;
export const TYPING_SHOW = 6000;
export const FLASH_MS = 4000;
export const WELCOME_TIMEOUT = 10000;
export const CALL_ICE_WAIT = 3000;         // cap on ICE gathering before the (non-trickle) offer goes
export const CALL_TURN_WAIT = 2000;        // at most this long for the call's own TURN pair (call_ice), else the welcome's
export const CALL_SOCKET_WAIT = 10000;     // the offer waits this long for the socket to be ready
export const CALL_ANSWER_WAIT = 20000;     // no call_answer by then: give up
export const HANGUP_GRACE = 1500;          // after our hangup frame, media stops at the gateway's "ended" or this
export const CALL_ENDED_SHOW = 6000;       // an ordinary "call ended" bar fades after this
export const DTMF_DURATION = 100;          // ms per RFC 4733 key
export const DTMF_GAP = 70;                // ms between keys

export const TEXT = {
  connecting: 'Connecting…',
  offline: 'Offline — messages will be sent when you\'re back',
  idle: 'We typically reply in a few minutes',
  afterHours: 'We\u2019re closed now. Leave us a message',   // the line's opening hours say closed
  queued: (n) => (n ? `You are number ${n} in the queue. An agent will be with you shortly.`
    : 'You are in the queue. An agent will be with you shortly.'),
  chatting: (name) => `You are chatting with ${name || 'an agent'}`,
  closed: 'This conversation was closed',
  newMessage: 'New message',   // said while the panel is closed, when a message has no author's name
  assignedLine: (name) => `You are now chatting with ${name || 'an agent'}`,
  // assigned while a call rings them: not taken yet ("Bob is taking your call" stayed when Bob missed the ring)
  assignedCall: (name) => `Connecting you to ${name || 'an agent'}…`,
  callAnswered: (name) => `${name || 'An agent'} answered your call`,
  // a supervisor joined the agent's chat: the customer sees them, and what they write, under this name
  supervisorName: (name) => (name ? `${name} (supervisor)` : 'A supervisor'),
  supervisorJoinedChat: (name) => `${name ? `${name} (supervisor)` : 'A supervisor'} joined the chat`,
  supervisorLeftChat: (name) => `${name ? `${name} (supervisor)` : 'A supervisor'} left the chat`,
  connectingTo: (name) => `Connecting you to ${name || 'an agent'}…`,
  onCallWith: (name) => `On a call with ${name || 'an agent'}`,
  reconnectingTo: (name) => `${name || 'Your agent'}\u2019s connection dropped \u2014 please hold while they reconnect`,
  onHold: 'On hold — please stay on the line',
  inviteDeclined: 'You declined the call',
  closedLine: 'This conversation was closed',
  closedByYou: 'You ended the chat',                      // disposition customer_ended (end_chat_rules.js)
  closedAway: 'This chat ended while you were away',      // abandoned while it waited: no widget of theirs was open
  endChat: 'End chat',                                    // the panel foot's button, and the confirmation's
  endChatQuestion: 'End this chat?',
  endChatKeep: 'Keep chatting',
  endChatOffline: 'Not connected — try again in a moment',
  endChatFailed: 'The chat could not be ended',
  endChatOnCall: 'You\u2019re on a call \u2014 hang up first, then end the chat',   // refused: call_in_progress
  newConversation: 'New conversation',
  typing: (name) => `${name || 'Agent'} is typing…`,
  tooLong: 'Your message is too long to send — shorten it or send it in parts.',   // over the frame's bytes (rare)
  rateLimited: (s) => `Sending shortly (${s >= 120 ? `${Math.ceil(s / 60)} min` : `${s} s`})…`,   // over the message limit: resent by itself
  storeUnavailable: 'Sending shortly…',   // the gateway's store was down for a moment: resent by itself
  callStarted: 'Call started',
  callEnded: (ms) => (ms > 0 ? `Call ended · ${callTimeText(ms)}` : 'Call ended'),
  callbackAsap: 'We\'ll call you back as soon as an agent is free — you keep your place in line.',
  callbackAt: (when) => `We'll call you back at ${when}.`,
  callbackRetry: (when) => `We missed you — we'll try again at ${when}.`,
  callbackBooked: (asap, when) => (asap ? 'Callback booked: as soon as an agent is free' : `Callback booked for ${when}`),
  callbackCalling: (name) => `${name || 'An agent'} is calling you back`,
  invitation: (name) => `${name || 'Your agent'} invites you to a call`,
  ratingQuestion: 'How was your conversation?',
  ratingScores: ['Very poor', 'Poor', 'OK', 'Good', 'Excellent'],   // 1..5
  ratingCommentHint: 'Tell us more (optional)',
  ratingSend: 'Send rating',
  ratingDismiss: 'No thanks',
  ratingSending: 'Sending…',
  ratingOffline: 'Not connected — try again in a moment',
  ratingFailed: 'Your rating could not be sent',
  rated: (score) => `You rated this conversation ${score} out of 5. Thank you!`,
  transcriptTitle: (host) => `Conversation with ${host || 'us'}`,
  callbackClosed: {
    reached: 'Callback: you were reached',
    unreachable: 'Callback closed: we could not reach you',
    wrong_number: 'Callback closed: wrong number',
    cancelled: 'Callback cancelled',
    declined: 'Callback declined',
    expired: 'Callback expired',
    conversation_closed: 'Callback closed with the conversation',
    replaced: 'Callback replaced by a new one',
    agent_cancelled: 'Callback cancelled by your agent — we answer you here',
  },
};

// Call bar wording; keys of the first group are the gateway's call statuses (gateway/protocol/states.py CallStatus).
export const CALL_TEXT = {
  start: 'Call us',
  // the header says closed (the line's opening hours): the call button says so too, and what a call may meet then
  // (the phone line decides: its menu may say it is closed, or take a message; an agent may not answer)
  startAfterHours: 'Call us \u2014 we\u2019re closed now, so an agent may not answer',
  // ... and in words under the button, for the eye (a touch screen shows no tooltip; the name is for screen readers)
  afterHoursHint: 'Calls: an agent may not answer now',
  // the page's policy forbids the microphone (a frame without allow="microphone"): the button's name and its words
  notHere: 'Calls aren\u2019t available on this page',
  active: 'On a call',
  connecting: 'Connecting…',
  ringing: 'Ringing…',
  ivr: 'In the menu (IVR)',
  waiting: 'Waiting for an agent',
  toOwnAgent: (name) => (name ? `Calling ${name}…` : 'Calling your agent…'), // a call from a chat with an agent
  connected: 'Connected',
  held: 'On hold — please stay on the line',
  agentReconnecting: 'Your agent\u2019s connection dropped — please hold while they reconnect',
  mic: 'Waiting for the microphone…',
  reconnecting: 'Connection lost — reconnecting…',
  ended: 'The call ended',
  youHungUp: 'The call ended',
  agentDeclined: 'Your agent can\'t take a call right now. Keep chatting with them here.',
  agentBusy: 'Your agent is on another call right now. Keep chatting with them here, or call again in a few minutes.',
  linesBusyTitle: 'All lines are busy',
  linesBusy: 'All our lines are busy right now. Please keep chatting with us here, or try again in a few minutes.',
  connectionFailed: 'Connection failed. Check your network and try again.',
  micBlocked: 'Microphone access was blocked. Allow the microphone for this site in your browser settings, then call again.',
  // the page (the site framing the widget) forbids the microphone: nothing the customer can change
  micPolicy: 'Calls aren\u2019t available on this page. Please keep chatting with us here.',
  noMic: 'No microphone found. Connect one and call again.',
  micBusy: 'Your microphone is in use by another app. Close it and call again.',
  micFailed: 'The microphone could not be started.',
  unsupported: 'Calls need a browser with microphone support on a secure (https) page.',
  offline: 'You are offline. Calls need a connection; please try again in a moment.',
  failed: 'We could not connect your call. Please try again.',
  interrupted: 'The call was interrupted',   // node_lost, gateway_shutdown: shown with a "Call again" button
  keyNotSent: 'Not connected — that key was not sent',
  supervisorJoined: 'A supervisor joined the call',  // call_supervisors: one barged in (the caller hears them)
};

function resolveGateway() {
  const attr = SCRIPT ? (SCRIPT.getAttribute('data-gateway') || '').trim() : '';
  const src = SCRIPT && SCRIPT.src ? SCRIPT.src : location.href;
  try {
    if (attr) return new URL(attr, src).origin;
  } catch (_) { /* fall through to the script's own origin */ }
  try {
    return new URL(src, location.href).origin;
  } catch (_) {
    return location.origin;
  }
}
