// The login session of a person who works the center (agent, supervisor, admin; docs/protocol.md "HTTP"): sign in
// over HTTP, keep the short-lived access token fresh while the page is open, sign out. Used by the desk
// (desk/session.js) and the supervisor pages; they keep it in S and this tab's sessionStorage, so one sign-in
// serves every page opened in the tab. A page says what happens on a new token and on being signed out (hooks).

import { AGENT_KEY, REFRESH_RETRY, ROLES_KEY, SIGNED_OUT, TOKEN_EXP_KEY, TOKEN_KEY } from './config.js';
import { S, storage } from './state.js';
import { ErrorCode, REFRESH_GRACE_SECONDS } from '../shared/protocol.js';

const hooks = { token: () => {}, signedOut: () => {} };

/** `token()`: a fresh access token was stored; `signedOut(message)`: the session ended (refused refresh). */
export function sessionHooks({ token, signedOut }) {
  if (token) hooks.token = token;
  if (signedOut) hooks.signedOut = signedOut;
}

/** POST /api/agent/login: {ok: true} with the session stored, {wait: seconds} after too many failures,
 * {changePassword: true} for a one-time password (desk/password_change.js), or {message} saying why not (and
 * {unreached: true} when no answer came). */
export async function signIn(agentId, password) {
  let res;
  try {
    res = await fetch('/api/agent/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      // a one-time password answers 200 {password_change_required} then, not a 403 the console shows as an error
      body: JSON.stringify({ agent_id: agentId, password, ask_password_change: true }),
      credentials: 'same-origin',
    });
  } catch (_) {
    return { message: 'Cannot reach the gateway. Check your connection and try again.', unreached: true };
  }
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (res.status === 429 && body && Number(body.retry_after) > 0) return { wait: Number(body.retry_after) };
  if (res.ok && body && body.password_change_required === true) return { changePassword: true };
  if (res.status === 403 && body && body.code === ErrorCode.PASSWORD_CHANGE_REQUIRED) return { changePassword: true };
  if (!res.ok || !body || typeof body.token !== 'string') {
    let message = body && typeof body.message === 'string' && body.message ? body.message : null;
    if (!message) {
      message = res.status === 401 ? 'Wrong agent ID or password.'
        : res.status === 429 ? 'Too many attempts. Please wait a moment and try again.'
          : `Sign-in failed (HTTP ${res.status}).`;
    }
    return { message };
  }
  setToken(body.token, body.expires_in);
  S.agent = body.agent ? Object.assign({ status: 'offline' }, body.agent) : null;
  S.roles = body.agent && Array.isArray(body.agent.roles) ? body.agent.roles.filter((r) => typeof r === 'string') : null;
  if (S.roles) storage.set(ROLES_KEY, JSON.stringify(S.roles));
  else storage.remove(ROLES_KEY);
  if (S.agent) storage.set(AGENT_KEY, JSON.stringify(S.agent));
  return { ok: true };
}

/** A page opens with the tab's session: true when it holds a usable token (refreshed first if it expired while
 * the tab slept, within the gateway's grace), false when it signed out. */
export async function resumeSession() {
  if (S.tokenExp && S.tokenExp <= Date.now() && !(await refreshToken())) return false;
  scheduleRefresh();
  return Boolean(S.token);
}

/** A new access token (from login or refresh); `expiresIn` seconds as the gateway counts them. */
function setToken(token, expiresIn) {
  S.token = token;
  S.tokenExp = Date.now() + (Number(expiresIn) > 0 ? Number(expiresIn) * 1000 : 15 * 60 * 1000);
  storage.set(TOKEN_KEY, token);
  storage.set(TOKEN_EXP_KEY, String(S.tokenExp));
  scheduleRefresh();
  hooks.token();
}

/** Refresh when two thirds of what is left have passed (10 of 15 minutes), so a slow or failed try has time. */
function scheduleRefresh() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = null;
  if (!S.token) return;
  const left = S.tokenExp ? S.tokenExp - Date.now() : 0;
  S.refreshTimer = setTimeout(refreshToken, Math.max(1000, (left * 2) / 3));
}

/** Ask the gateway for a fresh access token: true when the page has one, false when it signed out (or gave way
 * to a newer login); on no answer it tries again soon, until the token is past the gateway's grace. */
export async function refreshToken() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = null;
  const token = S.token;
  if (!token) return false;
  let res = null;
  let body = null;
  try {
    res = await fetch('/api/agent/refresh', {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store',
    });
    body = await res.json();
  } catch (_) { res = res || null; }
  if (S.token !== token) return Boolean(S.token); // logged out (or in again) meanwhile
  if (res && res.ok && body && typeof body.token === 'string') {
    setToken(body.token, body.expires_in);
    return true;
  }
  if (res && res.status === 401) {
    hooks.signedOut(SIGNED_OUT[body && body.code] || SIGNED_OUT.unauthorized);
    return false;
  }
  // The gateway is unreachable or busy: try again soon while the token can still be refreshed.
  if (S.tokenExp && Date.now() >= S.tokenExp + REFRESH_GRACE_SECONDS * 1000) {
    hooks.signedOut(SIGNED_OUT.token_expired);
    return false;
  }
  S.refreshTimer = setTimeout(refreshToken, REFRESH_RETRY);
  return true;
}

/** The Log out button: end the session on the gateway (every tab and node of it). The page then forgets it. */
export function endSession() {
  const token = S.token;
  if (token) {
    fetch('/api/agent/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, keepalive: true })
      .catch(() => { /* the session still ends by itself */ });
  }
}

/** Forget the session in this page and tab (token, its refresh, who signed in). */
export function forgetSession() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = null;
  S.token = null;
  S.tokenExp = 0;
  S.agent = null;
  S.roles = null;
  storage.remove(TOKEN_KEY);
  storage.remove(TOKEN_EXP_KEY);
  storage.remove(AGENT_KEY);
  storage.remove(ROLES_KEY);
}
