// Signing in and out, and the access token of the login session (refreshed while the desk is open).

import { AGENT_KEY, DRAFTS_KEY, OUTBOX_KEY, REFRESH_RETRY, ROLES_KEY, SIGNED_OUT, TOKEN_EXP_KEY, TOKEN_KEY } from './config.js';
import { S, drafts, restoreOutbox, storage, ui } from './state.js';
import { audio } from './dom.js';
import { phone } from './main.js';
import { refreshRecordingUrls } from './timeline.js';
import { REFRESH_GRACE_SECONDS } from '../shared/protocol.js';
import { renderConvList, renderMain, renderPresence, renderQueue } from './conversations.js';
import { sock } from './connection.js';
import { stopTyping } from './composer.js';

// ------------------------------------------------------------ login / logout

export function showLogin(message) {
  ui.loginView.hidden = false;
  ui.desk.hidden = true;
  document.title = 'Agent desk — Contact Gateway';
  if (message) {
    ui.loginError.textContent = message;
    ui.loginError.hidden = false;
  } else {
    ui.loginError.textContent = '';
    ui.loginError.hidden = true;
  }
  ui.loginSubmit.disabled = false;
  ui.loginSubmit.textContent = 'Sign in';
  setTimeout(() => (ui.loginAgent.value ? ui.loginPassword : ui.loginAgent).focus(), 0);
}

let loginWaitTimer = null;

/** Too many failed sign-ins: say until when, count down, and keep Sign in off until then. */
function loginWait(seconds) {
  clearInterval(loginWaitTimer);
  const until = Date.now() + Math.ceil(seconds) * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(loginWaitTimer);
      loginWaitTimer = null;
      showLogin('You can sign in again now.');
      return;
    }
    const wait = left >= 120 ? `${Math.ceil(left / 60)} minutes` : `${left} second${left === 1 ? '' : 's'}`;
    ui.loginError.textContent = `Too many failed sign-ins. You can try again in ${wait}.`;
    ui.loginError.hidden = false;
    ui.loginSubmit.disabled = true;
    ui.loginSubmit.textContent = 'Sign in';
  };
  ui.loginView.hidden = false;
  ui.desk.hidden = true;
  tick();
  loginWaitTimer = setInterval(tick, 1000);
}

function showDesk() {
  ui.loginView.hidden = true;
  ui.desk.hidden = false;
  renderPresence();
  renderQueue();
  renderConvList();
  renderMain();
}

export async function onLoginSubmit(e) {
  e.preventDefault();
  audio(); // unlock WebAudio inside the user gesture
  const agentId = ui.loginAgent.value.trim();
  const password = ui.loginPassword.value;
  if (!agentId || !password) {
    ui.loginError.textContent = 'Enter your agent ID and password.';
    ui.loginError.hidden = false;
    return;
  }
  ui.loginError.hidden = true;
  ui.loginSubmit.disabled = true;
  ui.loginSubmit.textContent = 'Signing in…';
  let res;
  try {
    res = await fetch('/api/agent/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ agent_id: agentId, password }),
      credentials: 'same-origin',
    });
  } catch (_) {
    showLogin('Cannot reach the gateway. Check your connection and try again.');
    return;
  }
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (res.status === 429 && body && Number(body.retry_after) > 0) {
    loginWait(Number(body.retry_after));
    ui.loginPassword.value = '';
    return;
  }
  if (!res.ok || !body || typeof body.token !== 'string') {
    let msg = body && typeof body.message === 'string' && body.message ? body.message : null;
    if (!msg) {
      msg = res.status === 401 ? 'Wrong agent ID or password.'
        : res.status === 429 ? 'Too many attempts. Please wait a moment and try again.'
          : `Sign-in failed (HTTP ${res.status}).`;
    }
    showLogin(msg);
    ui.loginPassword.value = '';
    return;
  }
  setToken(body.token, body.expires_in);
  S.agent = body.agent ? Object.assign({ status: 'offline' }, body.agent) : null;
  S.roles = body.agent && Array.isArray(body.agent.roles) ? body.agent.roles.filter((r) => typeof r === 'string') : null;
  if (S.roles) storage.set(ROLES_KEY, JSON.stringify(S.roles));
  else storage.remove(ROLES_KEY);
  if (S.agent) storage.set(AGENT_KEY, JSON.stringify(S.agent));
  ui.loginPassword.value = '';
  startDesk();
}

export async function startDesk() {
  // A tab reopened later, or a laptop that slept: an expired token still refreshes for a while (the gateway's
  // grace); refreshToken signs out when it cannot.
  if (S.tokenExp && S.tokenExp <= Date.now() && !(await refreshToken())) return;
  scheduleRefresh();
  S.running = true;
  restoreOutbox();
  showDesk();
  sock.connect();
  applyRoles();
}

/** Supervisors get the Live calls panel. A session restored from before roles were kept: ask the gateway. */
async function applyRoles() {
  if (!phone) return;
  if (Array.isArray(S.roles)) {
    phone.setSupervisor(S.roles.includes('supervisor'));
    return;
  }
  const token = S.token;
  try {
    const res = await fetch('/api/calls', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (S.token !== token || (res.status !== 200 && res.status !== 403)) return;
    S.roles = res.status === 200 ? ['agent', 'supervisor'] : ['agent'];
    storage.set(ROLES_KEY, JSON.stringify(S.roles));
    phone.setSupervisor(res.status === 200);
  } catch (_) { /* no panel this time */ }
}

// ------------------------------------------------------------ access token

/** A new access token (from login or refresh); `expiresIn` seconds as the gateway counts them. */
function setToken(token, expiresIn) {
  S.token = token;
  S.tokenExp = Date.now() + (Number(expiresIn) > 0 ? Number(expiresIn) * 1000 : 15 * 60 * 1000);
  storage.set(TOKEN_KEY, token);
  storage.set(TOKEN_EXP_KEY, String(S.tokenExp));
  scheduleRefresh();
  refreshRecordingUrls();
}

/** Refresh when two thirds of what is left have passed (10 of 15 minutes), so a slow or failed try has time. */
function scheduleRefresh() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = null;
  if (!S.token) return;
  const left = S.tokenExp ? S.tokenExp - Date.now() : 0;
  S.refreshTimer = setTimeout(refreshToken, Math.max(1000, (left * 2) / 3));
}

/** Ask the gateway for a fresh access token: true when the desk has one, false when it signed out (or gave way
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
    logout(SIGNED_OUT[body && body.code] || SIGNED_OUT.unauthorized);
    return false;
  }
  // The gateway is unreachable or busy: try again soon while the token can still be refreshed.
  if (S.tokenExp && Date.now() >= S.tokenExp + REFRESH_GRACE_SECONDS * 1000) {
    logout(SIGNED_OUT.token_expired);
    return false;
  }
  S.refreshTimer = setTimeout(refreshToken, REFRESH_RETRY);
  return true;
}

/** The Log out button: end the session on the gateway (every tab and node of it), then show the login. */
export function signOut() {
  const token = S.token;
  if (token) {
    fetch('/api/agent/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, keepalive: true })
      .catch(() => { /* the session still ends by itself */ });
  }
  logout();
}

export function logout(message) {
  if (phone) phone.reset(); // hangs up a live call while the socket can still say so
  clearTimeout(S.refreshTimer);
  S.refreshTimer = null;
  S.running = false;
  stopTyping();
  sock.stop('logout');
  for (const conv of S.convs.values()) clearTimeout(conv.typingTimer);
  S.token = null;
  S.tokenExp = 0;
  S.agent = null;
  S.roles = null;
  S.convs.clear();
  S.queue = [];
  S.selected = null;
  S.closing = null;
  storage.remove(TOKEN_KEY);
  storage.remove(TOKEN_EXP_KEY);
  storage.remove(AGENT_KEY);
  storage.remove(ROLES_KEY);
  storage.remove(OUTBOX_KEY);
  storage.remove(DRAFTS_KEY);
  for (const k of Object.keys(drafts)) delete drafts[k];
  ui.timeline.replaceChildren();
  ui.composer.value = '';
  showLogin(message);
}
