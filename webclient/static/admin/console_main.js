/*
 * Contact Gateway — the admin console (served at /admin): the entry module, loaded by admin.html.
 *
 * Signing in is the desk's (desk/auth.js, desk/login_view.js: the same login session, kept in this tab's
 * sessionStorage). An admin edits; a supervisor sees the same pages read-only (no edit controls at all); anyone
 * else is refused with a message. Sections, chosen by the address's #fragment: agents (console_agents.js), queues
 * (console_queues.js, hours in console_hours.js), the center's code lists (console_codes.js: the away reasons agents
 * choose from, the dispositions they close conversations with; their words in console_code_lists.js), widget
 * settings with a live preview (console_widget.js), event webhooks (console_webhooks.js), customers' data export and
 * erasure (console_customers.js: admins only, its nav link hidden from supervisors), the audit log
 * (console_audit.js, diffs in console_diff.js). The flows pages are /admin/flows (their own page). Every change goes
 * through the REST of /api/admin/... and /api/webhooks, which write it to the audit log.
 */

import { S } from '../desk/state.js';
import { endSession, forgetSession, resumeSession, sessionHooks } from '../desk/auth.js';
import { renderLoginForm, showLoginView, submitLogin } from '../desk/login_view.js';
import { createAgentsView } from './console_agents.js';
import { createQueuesView } from './console_queues.js';
import { createCodeListView } from './console_codes.js';
import { AWAY_REASONS, DISPOSITIONS } from './console_code_lists.js';
import { createWidgetView } from './console_widget.js';
import { createWebhooksView } from './console_webhooks.js';
import { createCustomersView } from './console_customers.js';
import { createAuditView } from './console_audit.js';

const $ = (sel) => document.querySelector(sel);
const ui = {};
const VIEWS = ['agents', 'queues', 'away-reasons', 'dispositions', 'widget', 'webhooks', 'customers', 'audit'];
const TITLES = {
  agents: 'Agents', queues: 'Queues', 'away-reasons': 'Away reasons', dispositions: 'Dispositions',
  widget: 'Widget settings', webhooks: 'Event webhooks', customers: 'Customers', audit: 'Audit log',
};
const views = {};
const ctx = { editable: false, me: '', notify, refuse }; // what the sections share: may they edit, who is signed in,
// the notice line
let current = null;

sessionHooks({ signedOut: (message) => signedOut(message) });

const loginView = () => ({
  view: ui.login, app: ui.app, agent: $('#login-agent'), password: $('#login-password'), submit: $('#login-submit'),
  error: $('#login-error'), title: 'Sign in — Admin console — Contact Gateway',
});

function signedOut(message) {
  forgetSession();
  for (const v of Object.values(views)) v.reset();
  showLoginView(loginView(), message);
}

/** What this account may do here: 'edit' (admin), 'read' (supervisor) or null (refused). */
export function accessOf(roles) {
  const list = Array.isArray(roles) ? roles : [];
  if (list.includes('admin')) return 'edit';
  if (list.includes('supervisor')) return 'read';
  return null;
}

async function start() {
  if (!S.token) {
    showLoginView(loginView());
    return;
  }
  if (!(await resumeSession())) return; // signed out: the login is shown
  ui.login.hidden = true;
  ui.app.hidden = false;
  ui.me.textContent = S.agent ? S.agent.name || S.agent.id : '';
  const access = accessOf(S.roles);
  if (!access) {
    const who = S.agent ? S.agent.id : 'This account';
    refuse(`The admin console is for admins (supervisors may look). ${who} is an agent only: sign in with an admin account.`);
    return;
  }
  ui.refused.hidden = true;
  ui.nav.hidden = false;
  ui.mode.hidden = access !== 'read';
  ui.mode.textContent = 'Read only (supervisor)';
  ctx.editable = access === 'edit';
  ctx.me = S.agent ? S.agent.id : '';
  for (const link of ui.nav.querySelectorAll('[data-admin-only]')) link.hidden = !ctx.editable; // admins' sections
  if (!views.agents) {
    views.agents = createAgentsView($('#view-agents'), ctx);
    views.queues = createQueuesView($('#view-queues'), ctx);
    views['away-reasons'] = createCodeListView($('#view-away-reasons'), ctx, AWAY_REASONS);
    views.dispositions = createCodeListView($('#view-dispositions'), ctx, DISPOSITIONS);
    views.widget = createWidgetView($('#view-widget'), ctx);
    views.webhooks = createWebhooksView($('#view-webhooks'), ctx);
    views.customers = createCustomersView($('#view-customers'), ctx);
    views.audit = createAuditView($('#view-audit'), ctx);
  }
  current = null;
  route();
}

/** The gateway (or the roles) said no: the reason instead of the pages. */
function refuse(message) {
  ui.refused.textContent = message;
  ui.refused.hidden = false;
  ui.nav.hidden = true;
  for (const name of VIEWS) $(`#view-${name}`).hidden = true;
  document.title = 'Admin console — Contact Gateway';
}

/** A short line saying what was done (read by screen readers: role status). */
function notify(text) {
  ui.notice.textContent = text;
}

function route() {
  if (ui.app.hidden || !ui.refused.hidden) return;
  const name = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'agents';
  for (const link of ui.nav.querySelectorAll('[data-view]')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== name;
  document.title = `${TITLES[name]} — Admin console — Contact Gateway`;
  const moved = current !== null && current !== name;
  current = name;
  notify('');
  views[name].load();
  if (moved) $(`#h-${name}`).focus();
}

function boot() {
  renderLoginForm($('#login-view'));
  Object.assign(ui, {
    login: $('#login-view'), app: $('#console'), me: $('#me'), mode: $('#mode'), refused: $('#refused'),
    notice: $('#notice'), nav: $('.cs-nav'),
  });
  $('#login-form').addEventListener('submit', (e) => submitLogin(e, loginView(), start));
  $('#logout').addEventListener('click', () => {
    endSession();
    signedOut('');
  });
  window.addEventListener('hashchange', route);
  start();
}

boot();
