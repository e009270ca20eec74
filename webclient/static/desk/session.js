// Signing in and out of the desk (the session itself, its token and its refresh: auth.js; the form: login_view.js).

import { DRAFTS_KEY, OUTBOX_KEY, ROLES_KEY } from './config.js';
import { S, drafts, restoreOutbox, storage, ui } from './state.js';
import { audio } from './dom.js';
import { phone } from './main.js';
import { refreshRecordingUrls } from './timeline.js';
import { renderConvList, renderMain, renderPresence, renderQueue } from './conversations.js';
import { sock } from './connection.js';
import { stopTyping } from './composer.js';
import { endSession, forgetSession, resumeSession, sessionHooks } from './auth.js';
import { showLoginView, submitLogin } from './login_view.js';
import { confirmLeave } from './leave_confirm.js';

sessionHooks({ token: () => refreshRecordingUrls(), signedOut: (message) => logout(message) });

// ------------------------------------------------------------ login / logout

const loginView = () => ({
  view: ui.loginView, app: ui.desk, agent: ui.loginAgent, password: ui.loginPassword, submit: ui.loginSubmit,
  error: ui.loginError, title: 'Agent desk — Contact Gateway',
});

export function showLogin(message) {
  showLoginView(loginView(), message);
}

function showDesk() {
  ui.loginView.hidden = true;
  ui.desk.hidden = false;
  renderPresence();
  renderQueue();
  renderConvList();
  renderMain();
}

export function onLoginSubmit(e) {
  audio(); // unlock WebAudio inside the user gesture
  return submitLogin(e, loginView(), startDesk);
}

export async function startDesk() {
  // A tab reopened later, or a laptop that slept: an expired token still refreshes for a while (the gateway's
  // grace); a refusal signs out.
  if (!(await resumeSession())) return;
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

/** The Log out button: end the session on the gateway (every tab and node of it), then show the login; with chats
 * still open, only once the agent confirms (they go back to the queue). */
export function signOut() {
  const live = Array.from(S.convs.values()).filter((c) => !c.closed);
  const call = phone ? phone.state().call : null;
  const onCall = Boolean(call && call.phase !== 'ended');
  // a finished call's conversation nobody wrote in is closed by the gateway, not queued (gateway/contact/handover.py)
  const callsDone = live.filter((c) => (!onCall || c.id !== call.conversation_id)
    && !(c.summary && c.summary.callback) // a callback booked: someone waits for it, it goes back to the queue
    && !Array.from(c.events.values()).some((ev) => ev.type === 'message')
    && Array.from(c.events.values()).some((ev) => ev.type === 'call_ended')).length;
  confirmLeave(live.length, () => {
    endSession();
    logout();
  }, ui.logout, onCall, callsDone);
}

export function logout(message) {
  if (phone) phone.reset(); // hangs up a live call while the socket can still say so
  S.running = false;
  stopTyping();
  sock.stop('logout');
  for (const conv of S.convs.values()) clearTimeout(conv.typingTimer);
  forgetSession();
  S.convs.clear();
  S.queue = [];
  S.selected = null;
  S.closing = null;
  storage.remove(OUTBOX_KEY);
  storage.remove(DRAFTS_KEY);
  for (const k of Object.keys(drafts)) delete drafts[k];
  ui.timeline.replaceChildren();
  ui.composer.value = '';
  showLogin(message);
}
