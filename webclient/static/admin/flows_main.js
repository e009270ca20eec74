/*
 * Contact Gateway — the flow editor (served at /admin/flows; admins write, supervisors read, agents are refused by
 * the gateway): the entry module, loaded by flows.html.
 *
 * Signing in is the desk's (desk/auth.js, desk/login_view.js: the same login session in this tab's
 * sessionStorage). The page lists the flows (GET /api/admin/flows), opens a version's YAML in the editor
 * (flows_editor.js) with its graph beside it (flows_graph.js, dagre), validates the text as it is typed
 * (POST /api/admin/flows/validate, debounced: the errors on their lines, the graph redrawn), saves versions with a
 * message (a stale save: the message and the diff), publishes and rolls back (flows_publish.js, flows_versions.js),
 * draws the reports' path analytics on the edges, runs a version in the test console (flows_test.js) and replays past
 * sessions against it (flows_replay.js), chooses the flow new calls and chats start in (flows_answers.js) and
 * retires a flow nothing needs any more (flows_retire.js).
 * The REST shapes: docs/protocol.md "Admin: flows".
 */

import { S } from '../desk/state.js';
import { isolate } from '../shared/text.js';
import { endSession, forgetSession, resumeSession, sessionHooks } from '../desk/auth.js';
import { renderLoginForm, showLoginView, submitLogin } from '../desk/login_view.js';
import { F, call, dirty, flowPath } from './flows_state.js';
import { debounce, draftOf, flowMeta, newestId, wasLiveOf, nodeAtLine, pathCounts, refusalText } from './flows_model.js';
import { cursorLine, initEditor, loadHighlighter, markNode, renderErrorList, selectLines, setText, showErrors, text } from './flows_editor.js';
import { clearGraph, drawGraph, graphNode, initGraph, loadLayout, selectNode, showCounts } from './flows_graph.js';
import { hideMissing, initNewFlow, renderNewFlow, showMissing } from './flows_new.js';
import { drawDiff, initVersions, renderVersions } from './flows_versions.js';
import { initPublish, publish } from './flows_publish.js';
import { initTest, renderTestWhat, testVersionChanged } from './flows_test.js';
import { initReplay, replayVersionChanged } from './flows_replay.js';
import { initAnswers, renderAnswers } from './flows_answers.js';
import { initRetire, renderRetire } from './flows_retire.js';
import { addDays, todayIn } from '../supervisor/reports_query.js';

const $ = (id) => document.getElementById(id);

sessionHooks({ signedOut: (message) => signedOut(message) });

const loginView = () => ({
  view: $('login-view'), app: $('flows-app'), agent: $('login-agent'), password: $('login-password'),
  submit: $('login-submit'), error: $('login-error'), title: 'Sign in — Flows — Contact Gateway',
});

function signedOut(message) {
  forgetSession();
  showLoginView(loginView(), message);
}

function status(message, bad = false) {
  $('fe-status').textContent = message || '';
  $('fe-status').classList.toggle('fe-bad-text', bad);
}

async function start() {
  if (!S.token) {
    showLoginView(loginView());
    return;
  }
  if (!(await resumeSession())) return; // signed out: the login is shown
  $('login-view').hidden = true;
  $('flows-app').hidden = false;
  document.title = 'Flows — Contact Gateway';
  $('me').textContent = S.agent ? S.agent.name || S.agent.id : '';
  F.admin = Array.isArray(S.roles) && S.roles.includes('admin');
  await loadFlows();
}

/** The gateway said no (403: an agent): its reason instead of the editor. */
function refuse(message) {
  $('refused').textContent = `${message.charAt(0).toUpperCase()}${message.slice(1)}. Sign in with an admin's account to edit flows (supervisors may read them).`;
  $('refused').hidden = false;
  $('fe-body').hidden = true;
}

async function loadFlows() {
  const r = await call('/api/admin/flows');
  if (r.status === 403 || r.status === 401) { refuse(r.body.message); return; }
  if (!r.ok) { status(r.body.message, true); return; }
  F.flows = r.body.flows || [];
  F.answers = r.body.answers || null;
  renderList();
  renderNewFlow();
  const wanted = new URLSearchParams(location.search).get('flow');
  // a flow the address names that is not there is said so, never replaced by another flow
  if (wanted && !F.flows.some((f) => f.name === wanted)) { showMissing(wanted); return; }
  // none named: the flow calls start in (a new admin met the sub-flow after_hours, first by name, and not the line)
  const calls = F.answers && F.answers.calls;
  const first = F.flows.find((f) => f.name === wanted) || F.flows.find((f) => f.name === calls) || F.flows[0];
  if (first) await openFlow(first.name);
}

/** A new flow was saved (flows_new.js): list it and open it, its address in the bar. */
async function created(name) {
  const list = await call('/api/admin/flows');
  if (list.ok) { F.flows = list.body.flows || []; renderList(); }
  history.replaceState(null, '', `/admin/flows?flow=${encodeURIComponent(name)}`);
  await openFlow(name);
  if (F.name === name) status(`Created the flow ${name} with a starter text as its first version (not live until it is published).`);
}

function renderList() {
  const ul = $('flow-list');
  ul.replaceChildren();
  $('flow-list-empty').hidden = F.flows.length > 0;
  for (const f of F.flows) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `/admin/flows?flow=${encodeURIComponent(f.name)}`;
    a.dataset.flow = f.name;
    a.textContent = f.name;
    const meta = document.createElement('span');
    meta.className = 'fe-flow-meta';
    meta.textContent = flowMeta(f, F.answers);
    a.appendChild(meta);
    if (f.name === F.name) a.setAttribute('aria-current', 'page');
    a.addEventListener('click', (e) => {
      e.preventDefault();
      history.replaceState(null, '', a.href);
      openFlow(f.name);
    });
    li.appendChild(a);
    ul.appendChild(li);
  }
}

/** Open a flow: its versions, then the version asked for, else the draft, else the live one. */
async function openFlow(name, versionId = null) {
  // the flow already open: its list entry refreshes what is around the editor, never what the editor holds (a
  // click on it threw away unsaved changes, or the typing that followed the page's own opening of it)
  if (name === F.name && versionId === null && F.openId) { await refreshFlow(); return; }
  if (dirty(text()) && name !== F.name && !window.confirm('Leave this flow? Your unsaved changes will be lost.')) return;
  F.opening += 1;
  const mine = F.opening;
  const r = await call(flowPath(name));
  if (mine !== F.opening) return; // another flow was asked for meanwhile
  if (!r.ok) { status(r.body.message, true); return; }
  if (name !== F.name) F.refused = null; // another flow's refusal is not shown under this one's versions
  F.name = name;
  F.flow = r.body;
  renderList();
  hideMissing();
  $('fe-pick').hidden = true;
  $('fe-flow').hidden = false;
  $('fe-flow-title').textContent = name;
  const id = versionId || draftOf(F.flow) || F.flow.live_version || newestId(F.flow);
  if (id) await openVersion(id, mine);
  loadStats();
}

async function refreshFlow() {
  const r = await call(flowPath(F.name));
  if (r.ok) F.flow = r.body;
  const list = await call('/api/admin/flows');
  if (list.ok) { F.flows = list.body.flows || []; renderList(); }
  renderVersions();
  renderBadge();
  renderTestWhat(); // "(not live)" until it is published, "(live)" after; a test in progress goes on
}

async function openVersion(id, opening = null) {
  if (opening === null && dirty(text()) && id !== F.openId && !window.confirm('Open another version? Your unsaved changes will be lost.')) return;
  F.opening += opening === null ? 1 : 0;
  const mine = F.opening;
  const [v, g] = await Promise.all([call(`${flowPath(F.name)}/versions/${id}`), call(`${flowPath(F.name)}/versions/${id}/graph`)]);
  if (mine !== F.opening) return; // another flow or version was asked for meanwhile
  if (!v.ok) { status(v.body.message, true); return; }
  F.openId = id;
  F.openYaml = v.body.yaml;
  F.errors = [];
  setText(v.body.yaml, { readOnly: !F.admin });
  showErrors([]);
  renderErrorList($('fe-errors'), []);
  $('fe-error-count').textContent = '';
  F.graph = g.ok ? g.body : null;
  drawGraph(F.graph);
  selectNode(null);
  renderBadge();
  renderVersions();
  $('fe-conflict').hidden = true;
  $('fe-valid').textContent = '';
  status(`Version ${id}${v.body.message ? ` — “${isolate(v.body.message)}”` : ''} by ${isolate(v.body.author || 'unknown')}.`);
  testVersionChanged();
  replayVersionChanged();
  $('fe-flow').dataset.open = `${F.name}@${id}`; // what the editor holds (tests wait for it)
}

function renderBadge() {
  const live = F.flow && F.flow.live_version;
  const kind = F.openId === live ? 'live' : F.openId === wasLiveOf(F.flow) ? 'was live' : F.openId === draftOf(F.flow) ? 'draft' : 'older version';
  const retired = F.flow && F.flow.retired ? ' · flow retired' : '';
  $('fe-version-badge').textContent = F.openId ? `${F.openId} · ${kind}${retired}` : '';
  $('fe-readonly').hidden = F.admin;
  $('fe-save').hidden = !F.admin;
  renderAnswers();
  renderRetire();
}

// ------------------------------------------------------------ live validation

const validateSoon = debounce(validate, 350);

function onInput(value) {
  status(dirty(value) ? 'Unsaved changes.' : '');
  $('fe-valid').textContent = '— checking…';
  validateSoon(value);
}

async function validate(value) {
  F.validating += 1;
  const mine = F.validating;
  const r = await call('/api/admin/flows/validate', { method: 'POST', body: { yaml: value } });
  if (mine !== F.validating) return; // a newer edit's answer counts
  if (!r.ok) { refused(r.body, value); return; }
  setErrors(r.body.errors || []);
  if (r.body.graph) {
    F.graph = r.body.graph;
    drawGraph(F.graph);
    onCursor(cursorLine());
  }
}

/** The text was not even checked (too large, empty): none of the last text's problems or graph stay shown. */
function refused(body, value) {
  const why = refusalText(body, value);
  setErrors([{ code: body.code || 'refused', message: why }]);
  $('fe-valid').textContent = `— ${why}`;
  F.graph = null;
  clearGraph(`No graph: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
  markNode(null, null);
}

function setErrors(errors) {
  F.errors = errors;
  showErrors(errors);
  renderErrorList($('fe-errors'), errors);
  $('fe-error-count').textContent = errors.length ? `(${errors.length})` : '';
  $('fe-valid').textContent = errors.length ? `— ${errors.length} problem${errors.length === 1 ? '' : 's'}` : '— valid';
}

// ------------------------------------------------------------ editor <-> graph

function onCursor(line) {
  const id = nodeAtLine(F.graph, line);
  selectNode(id);
  const n = id ? graphNode(id) : null;
  markNode(n ? n.line : null, n ? n.end_line : null);
}

function onNodeSelected(id) {
  const n = graphNode(id);
  if (!n || !n.line) return;
  selectNode(id);
  selectLines(n.line, n.end_line || n.line);
}

// ------------------------------------------------------------ save (publishing: flows_publish.js)

async function save(e) {
  e.preventDefault();
  const yaml = text();
  if (!dirty(yaml) && F.openId) { status('Nothing to save: the text is the open version.'); return; }
  const message = $('fe-message').value.trim();
  $('fe-save-btn').disabled = true;
  const r = await call(`${flowPath(F.name)}/versions`, { method: 'POST', body: { yaml, message, parent: newestId(F.flow) } });
  $('fe-save-btn').disabled = false;
  $('fe-conflict').hidden = true;
  if (r.status === 409) {
    const msg = r.body.message.charAt(0).toUpperCase() + r.body.message.slice(1);
    $('fe-conflict-msg').textContent = `${msg}. What changed in ${r.body.current || 'it'} since the version you opened (your text stays in the editor):`;
    drawDiff($('fe-conflict-diff'), r.body.diff, 'No difference in the text.');
    $('fe-conflict').hidden = false;
    status('Not saved: someone saved a newer version.', true);
    await refreshFlow();
    return;
  }
  if (!r.ok) {
    if (Array.isArray(r.body.errors)) setErrors(r.body.errors);
    else if (r.status === 400 && (r.body.field === 'yaml' || r.body.code === 'frame_too_large')) refused(r.body, yaml);
    status(`Not saved: ${Array.isArray(r.body.errors) ? r.body.message : refusalText(r.body, yaml)}`, true);
    return;
  }
  F.openId = r.body.id;
  F.openYaml = yaml;
  $('fe-message').value = '';
  await refreshFlow();
  status(`Saved as version ${r.body.id} (a draft: live calls and chats are untouched until it is published).`);
  testVersionChanged();
  replayVersionChanged();
}

// ------------------------------------------------------------ path analytics

let center = null; // GET /api/reports/zone: the path figures' days are the center's (its time zone)

async function loadStats() {
  const days = Number($('fe-stats-days').value);
  const note = $('fe-stats-note');
  if (!days || !F.name) { showCounts(null); note.textContent = ''; return; }
  if (!center) {
    const z = await call('/api/reports/zone');
    if (!z.ok) { showCounts(null); note.textContent = `No path figures: ${z.body.message}`; return; }
    center = z.body;
  }
  const to = todayIn(center.zone) || center.today;
  const from = addDays(to, -(days - 1));
  const r = await call(`/api/reports/flows/${encodeURIComponent(F.name)}?from=${from}&to=${to}`);
  if (r.status === 404) { showCounts(null); note.textContent = 'This gateway keeps no path figures.'; return; }
  if (!r.ok) { showCounts(null); note.textContent = `No path figures: ${r.body.message}`; return; }
  const counts = pathCounts(r.body);
  if (!counts.edges.size && !counts.hangups.size) {
    showCounts(null);
    note.textContent = 'No sessions of this flow in that range yet.';
    return;
  }
  showCounts(counts);
  note.textContent = `${counts.total.toLocaleString('en-US')} session${counts.total === 1 ? '' : 's'} (${from} – ${to}, ${center.zone}): how many took each transition, and where callers hung up.`;
}

// ------------------------------------------------------------ tabs (arrow keys move between them)

function initTabs() {
  const tabs = [...document.querySelectorAll('.fe-tabs [role="tab"]')];
  const pick = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    tab.focus();
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => pick(t));
    t.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowRight') pick(tabs[(i + 1) % tabs.length]);
      else if (e.key === 'ArrowLeft') pick(tabs[(i + tabs.length - 1) % tabs.length]);
    });
  });
}

function wire() {
  renderLoginForm($('login-view'));
  $('login-form').addEventListener('submit', (e) => submitLogin(e, loginView(), start));
  $('logout').addEventListener('click', () => { endSession(); signedOut(); });
  initEditor({ frame: $('fe-frame'), area: $('fe-yaml'), hl: $('fe-hl'), gutter: $('fe-gutter'), marks: $('fe-marks') }, { onInput, onCursor });
  initGraph($('fe-graph'), { onSelect: onNodeSelected });
  initVersions({ open: (id) => openVersion(id), publish });
  initPublish({ status, setErrors, refreshFlow, renderVersions });
  initTest();
  initReplay();
  initNewFlow({ created });
  initAnswers({ status, changed: renderList });
  initRetire({ status, changed: refreshFlow });
  initTabs();
  $('fe-save').addEventListener('submit', save);
  $('fe-publish').addEventListener('click', () => publish(F.openId));
  $('fe-stats-days').addEventListener('change', loadStats);
  window.addEventListener('beforeunload', (e) => { if (dirty(text())) e.preventDefault(); });
}

wire();
Promise.all([loadHighlighter(), loadLayout()])
  .catch((err) => console.error('flow editor: a vendored module did not load', err))
  .finally(start);
