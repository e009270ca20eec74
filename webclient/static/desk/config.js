// The desk's storage keys, timings and sign-out sentences.

import { CloseCode } from '../shared/protocol.js';

export const TOKEN_KEY = 'cg.agent.token';
export const TOKEN_EXP_KEY = 'cg.agent.token_exp';   // when the access token expires (ms, this browser's clock)
export const AGENT_KEY = 'cg.agent.info';
export const ROLES_KEY = 'cg.agent.roles';
export const OUTBOX_KEY = 'cg.agent.outbox';
export const DRAFTS_KEY = 'cg.agent.drafts';
export const NOTIFY_KEY = 'cg.agent.notify:';   // + agent id: {notify, sound} (desk/notify.js)

export const TYPING_IDLE = 3000;           // active:false after this long without input
export const TYPING_REFRESH = 2000;        // re-announce active:true while typing continues
export const TYPING_SHOW = 6000;           // hide the customer's draft preview after this
export const TOAST_MS = 4500;
export const WELCOME_TIMEOUT = 10000;
export const REFRESH_RETRY = 15000;        // a refresh that could not reach the gateway is tried again this soon
export const CLOSE_SESSION_REVOKED = CloseCode.SESSION_REVOKED; // the session was revoked; do not reconnect
export const SIGNED_OUT = {
  session_revoked: 'You were signed out (logged out elsewhere or your session was revoked). Please sign in again.',
  token_expired: 'Your session has expired. Please sign in again.',
  unauthorized: 'Your session has expired or is not valid. Please sign in again.',
};

// the gateway's revocation reasons worth saying (gateway/wire/agent_socket.py: "a supervisor signed you out; log in
// again"); any other revocation ("your session was revoked", a password changed, an account removed) reads as above
const REVOKED_BECAUSE = /^(your session has expired|an admin changed your roles|a supervisor signed you out)\s*(;|$)/i;

/** The sign-in screen's sentence for an error frame that ends the session (`code`, the gateway's `message`): why,
 * when the gateway said why ("A supervisor signed you out. Please sign in again."). */
export function signedOutText(code, message) {
  const found = code === 'session_revoked' && typeof message === 'string' ? REVOKED_BECAUSE.exec(message.trim()) : null;
  if (!found) return SIGNED_OUT[code] || SIGNED_OUT.unauthorized;
  const why = found[1].toLowerCase();
  if (/signed you out$/.test(why)) return `${why[0].toUpperCase()}${why.slice(1)}. Please sign in again.`;
  return `You were signed out: ${why}. Please sign in again.`;
}
