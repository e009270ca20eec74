/*
 * Contact Gateway — historical reports (served at /supervisor/reports, for supervisors and admins): the entry
 * module, loaded by reports.html.
 *
 * Signing in is the desk's (desk/auth.js, desk/login_view.js: the same login session, kept in this tab's
 * sessionStorage, so a supervisor signed in on the desk is signed in here). The page asks GET /api/reports for the
 * chosen range, interval, grouping and queue (docs/reports.md), draws the charts (reports_charts.js, Chart.js) and
 * the totals (reports_tables.js), and downloads the same report as CSV (format=csv). A second request by
 * disposition feeds the stacked bar of dispositions (not by away reason: its own stacked bar of away time, its reasons
 * in words from GET /api/away-reasons). GET /api/reports/flows/{flow} gives a flow's paths. The
 * report asked for is kept in the page's address, so a reload or a shared link shows the same report. Days and hours
 * are the center's (its time zone, --center-timezone): GET /api/reports/zone, asked once before the first report,
 * names it, and "today" (the presets, the default range) is computed in it.
 * Modules: reports_query (pure: ranges, query, formats, sums), reports_charts, reports_tables.
 */

import { S } from '../desk/state.js';
import { api } from '../desk/api.js';
import { endSession, forgetSession, refreshToken, resumeSession, sessionHooks } from '../desk/auth.js';
import { renderLoginForm, showLoginView, submitLogin } from '../desk/login_view.js';
import {
  PRESETS, awayLabel, byWords, isEmptyReport, presetOf, rangeProblem, readQuery, reportQuery, todayIn,
} from './reports_query.js';
import { clearChart, drawAwayReasons, drawDispositions, drawMetrics } from './reports_charts.js';
import { renderAgentTime, renderDispositions, renderFlow, renderTotals } from './reports_tables.js';

const $ = (sel) => document.querySelector(sel);
const ui = {};
const queues = new Set(); // queue names seen in reports by queue: the queue field's suggestions
let asked = 0; // the newest report request: an older answer arriving late is not drawn
let askedFlow = 0;
const center = { zone: '', today: '' }; // GET /api/reports/zone: the center's time zone and its date then

/** The center's date now (from the gateway's answer when this browser does not know the zone). */
function today() {
  return todayIn(center.zone) || center.today;
}

sessionHooks({ signedOut: (message) => signedOut(message) });

const loginView = () => ({
  view: ui.login, app: ui.app, agent: $('#login-agent'), password: $('#login-password'), submit: $('#login-submit'),
  error: $('#login-error'), title: 'Sign in — Reports — Contact Gateway',
});

function signedOut(message) {
  forgetSession();
  showLoginView(loginView(), message);
}

async function start() {
  if (!S.token) {
    showLoginView(loginView());
    return;
  }
  if (!(await resumeSession())) return; // signed out: the login is shown
  ui.login.hidden = true;
  ui.app.hidden = false;
  document.title = 'Reports — Contact Gateway';
  ui.me.textContent = S.agent ? S.agent.name || S.agent.id : '';
  ui.refused.hidden = true;
  if (!(await loadZone())) return;
  fillForm(readQuery(location.search, today()));
  ui.form.hidden = false;
  ui.flowSection.hidden = false;
  loadFlowNames(!new URLSearchParams(location.search).get('flow'));
  loadReport();
}

/** The flows to choose from, and, unless the address names one, the flow calls start in (--voice-flow) in the
 * field: a user test's gateway answered with its own flow while the field said "default". The list is the flow
 * editor's (GET /api/admin/flows, supervisors read it); without it the field keeps what it has. */
async function loadFlowNames(pickVoiceFlow) {
  let listing;
  try {
    listing = await call('/api/admin/flows');
  } catch (err) {
    console.warn(`the flow names could not be read: ${problemText(err)}`);
    return;
  }
  const names = (listing.flows || []).map((f) => f.name).filter((n) => typeof n === 'string');
  const list = document.getElementById('rp-flow-names');
  list.replaceChildren(...names.map((n) => Object.assign(document.createElement('option'), { value: n })));
  const field = ui.flowForm.elements.flow;
  const calls = listing.answers && listing.answers.calls;
  if (pickVoiceFlow && calls && document.activeElement !== field && field.value === field.defaultValue) field.value = calls;
}

/** The gateway said no (403: not a supervisor or admin): its reason instead of the report. */
function refuse(message) {
  ui.refused.textContent = `${message.charAt(0).toUpperCase()}${message.slice(1)}. Sign in with such an account to see them.`;
  ui.refused.hidden = false;
  for (const el of [ui.form, ui.results, ui.flowSection, ui.error, ui.empty]) el.hidden = true;
  ui.status.textContent = '';
}

/** The center's time zone, before the first report (the presets are its days): false when it could not be read. */
async function loadZone() {
  if (center.zone) return true;
  let answer;
  try {
    answer = await call('/api/reports/zone');
  } catch (err) {
    if (err.status === 403) refuse(err.message);
    else if (err.status !== 401) showError(ui.error, `The reports could not be opened: ${problemText(err)}`);
    return false;
  }
  Object.assign(center, { zone: answer.zone, today: answer.today });
  for (const el of document.querySelectorAll('[data-zone]')) el.textContent = answer.zone;
  return true;
}

// ------------------------------------------------------------ the form

function formQuery() {
  const f = ui.form.elements;
  const by = f.by.value;
  return { from: f.from.value, to: f.to.value, interval: f.interval.value, by, queue: by === 'queue' ? f.queue.value.trim() : '' };
}

let heldQueue = ''; // the queue filter while the report is by agent, disposition or away reason: back when by queue

/** The queue filter is for a report by queue (an agent's, a disposition's or an away reason's figures span every
 * queue; the gateway refuses queue with any other grouping). Grouped
 * otherwise, the box is empty and disabled (it showed "billing" over a report of every queue: an exploratory test),
 * and the queue comes back when the report is by queue again. */
function syncQueueField() {
  const f = ui.form.elements;
  const off = f.by.value !== 'queue';
  if (off && !f.queue.disabled) [heldQueue, f.queue.value] = [f.queue.value, ''];
  else if (!off && f.queue.disabled) [f.queue.value, heldQueue] = [f.queue.value || heldQueue, ''];
  f.queue.disabled = off;
  f.queue.placeholder = off ? 'by queue only' : 'all queues';
}

function fillForm(q) {
  const f = ui.form.elements;
  f.from.value = q.from;
  f.to.value = q.to;
  f.interval.value = q.interval;
  f.by.value = q.by;
  f.queue.value = q.queue;
  if (q.flow) ui.flowForm.elements.flow.value = q.flow;
  syncQueueField();
  markPreset();
}

function markPreset() {
  const f = ui.form.elements;
  const preset = presetOf(f.from.value, f.to.value, today());
  for (const b of ui.form.querySelectorAll('[data-preset]')) b.setAttribute('aria-pressed', String(b.dataset.preset === preset));
}

/** The range's problem shown on its field (and focused), or null when the query can be asked. */
function checkedQuery() {
  const q = formQuery();
  const f = ui.form.elements;
  f.from.removeAttribute('aria-invalid');
  f.to.removeAttribute('aria-invalid');
  const problem = rangeProblem(q.from, q.to);
  if (!problem) return q;
  f[problem.field].setAttribute('aria-invalid', 'true');
  f[problem.field].focus();
  withdraw();
  showError(ui.error, problem.message);
  return null;
}

/** The report shown no longer answers the form (its range or queue was refused): taken away, never left under the
 * error as if it were the answer. */
function withdraw() {
  ui.results.hidden = true;
  ui.empty.hidden = true;
  ui.status.textContent = '';
}

function showError(el, message) {
  el.textContent = message;
  el.hidden = false;
}

// ------------------------------------------------------------ HTTP

/** An API call with the session's token; an expired token is refreshed once, a refused session signs out. */
async function call(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err.status !== 401 || !(await refreshToken())) throw err;
    return api(path);
  }
}

function problemText(err) {
  return err.status ? err.message : 'Cannot reach the gateway. Check your connection and try again.';
}

// ------------------------------------------------------------ the report

async function loadReport() {
  const q = checkedQuery();
  if (!q) return;
  history.replaceState(null, '', `${location.pathname}?${reportQuery(q, { flow: ui.flowForm.elements.flow.value.trim() })}`);
  const seq = ++asked;
  if (!ui.flowResults.hidden) loadFlow(); // the paths shown follow the range
  ui.error.hidden = true;
  ui.status.textContent = 'Loading the report…';
  ui.results.setAttribute('aria-busy', 'true');
  ui.results.classList.add('loading');
  let report;
  let dispositions;
  let reasons = null;
  let labels = null;
  try {
    const main = call(`/api/reports?${reportQuery(q)}`);
    const own = q.by === 'disposition' || q.by === 'away_reason'; // (no stacked bar of dispositions beside it)
    [report, dispositions, reasons, labels] = await Promise.all([
      main,
      own ? main : call(`/api/reports?${reportQuery({ ...q, by: 'disposition', queue: '' })}`),
      q.by === 'away_reason' ? centerList('/api/away-reasons', 'reasons') : null,
      q.by === 'away_reason' ? null : centerList('/api/dispositions', 'dispositions'),
    ]);
  } catch (err) {
    if (seq !== asked) return;
    ui.results.removeAttribute('aria-busy');
    ui.results.classList.remove('loading');
    if (err.status === 403) refuse(err.message);
    else if (err.status !== 401) {
      withdraw();
      showError(ui.error, `The report could not be made: ${problemText(err)}`);
    }
    return;
  }
  if (seq !== asked) return;
  const known = new Map((labels || []).map((d) => [d.code, d.label]));
  render(report, dispositions, q.queue, reasons, (code) => known.get(code) || String(code).replace(/_/g, ' '));
}

/** One of the center's code lists ([{code, label}]: GET /api/away-reasons, GET /api/dispositions), read again with
 * each report (an admin may have changed it); null when it could not be read: the codes are shown then, and the
 * report. */
async function centerList(path, key) {
  try {
    const answer = await call(path);
    return Array.isArray(answer[key]) ? answer[key] : null;
  } catch (err) {
    if (err.status === 401) throw err; // signed out: no report either
    console.warn(`${path} could not be read: ${problemText(err)}`);
    return null;
  }
}

function render(report, dispositions, queue, reasons, dispositionLabel) {
  ui.results.removeAttribute('aria-busy');
  ui.results.classList.remove('loading');
  if (report.by === 'queue') {
    for (const t of report.totals) if (t.key) queues.add(t.key);
    ui.queueList.replaceChildren(...[...queues].sort().map((name) => new Option(name)));
  }
  const span = report.from === report.to ? report.from : `${report.from} to ${report.to}`;
  const away = report.by === 'away_reason';
  const empty = isEmptyReport(report) && (away || isEmptyReport(dispositions));
  ui.empty.hidden = !empty;
  ui.results.hidden = empty;
  const every = report.interval === 'hour' ? 'by hour' : 'by day';
  ui.status.textContent = empty ? '' : `Showing ${span} (${report.zone}), ${every}, by ${byWords(report.by)}.`;
  if (empty) {
    const when = `${report.from === report.to ? 'on' : 'from'} ${span}`;
    ui.empty.textContent = away ? `No agent was away ${when}. Choose another range.`
      : `Nothing happened ${when}${queue ? ` in queue ${queue}` : ''}. Choose another range or queue.`;
    return;
  }
  const metrics = report.by !== 'disposition' && !away;
  for (const name of ['volume', 'service_level', 'speed']) ui.figures[name].hidden = !metrics;
  if (metrics) {
    const subs = drawMetrics(report, ui.canvases);
    for (const [name, text] of Object.entries(subs)) ui.subs[name].textContent = text;
  } else {
    for (const name of ['volume', 'service_level', 'speed']) clearChart(ui.canvases[name]);
  }
  ui.figures.dispositions.hidden = away;
  ui.figures.away.hidden = !away;
  if (away) {
    clearChart(ui.canvases.dispositions);
    const drawn = drawAwayReasons(report, ui.canvases.away, (code) => awayLabel(code, reasons));
    ui.canvases.away.parentElement.hidden = !drawn;
    ui.subs.away.textContent = `(every agent, a bar per ${report.interval === 'hour' ? 'hour' : 'day'}, by reason)`;
  } else {
    clearChart(ui.canvases.away);
    const closed = drawDispositions(dispositions, ui.canvases.dispositions, dispositionLabel);
    ui.canvases.dispositions.parentElement.hidden = !closed;
    ui.noneClosed.hidden = closed;
    ui.subs.dispositions.textContent = queue ? '(all queues)' : '';
  }
  ui.totalsTitle.textContent = away ? 'Away time by reason'
    : metrics ? `Totals by ${report.by}` : 'Closed conversations by disposition';
  ui.awayHint.hidden = !away;
  renderTotals(ui.totals, report, reasons, dispositionLabel);
  ui.agentTimeSection.hidden = report.by !== 'agent';
  if (report.by === 'agent') renderAgentTime(ui.agentTime, report);
  ui.dispositionSection.hidden = !metrics;
  if (metrics) renderDispositions(ui.dispositions, dispositions, dispositionLabel);
}

async function downloadCsv() {
  const q = checkedQuery();
  if (!q) return;
  ui.error.hidden = true;
  ui.status.textContent = 'Preparing the CSV…';
  const send = () => fetch(`/api/reports?${reportQuery(q, { format: 'csv' })}`, {
    headers: { Authorization: `Bearer ${S.token || ''}`, Accept: 'text/csv' }, cache: 'no-store',
  });
  let res;
  try {
    res = await send();
    if (res.status === 401 && (await refreshToken())) res = await send();
  } catch (_) {
    ui.status.textContent = '';
    showError(ui.error, 'The CSV could not be downloaded: cannot reach the gateway.');
    return;
  }
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    ui.status.textContent = '';
    showError(ui.error, `The CSV could not be downloaded: ${(body && body.message) || `HTTP ${res.status}`}`);
    return;
  }
  const disposition = res.headers.get('Content-Disposition') || '';
  const named = /filename="?([^";]+)"?/.exec(disposition);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await res.blob());
  link.download = named ? named[1] : `report-${q.by}-${q.from}-${q.to}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  ui.status.textContent = `Downloaded ${link.download}.`;
}

// ------------------------------------------------------------ flow paths

async function loadFlow() {
  const q = checkedQuery();
  const flowField = ui.flowForm.elements.flow;
  const flow = flowField.value.trim();
  ui.flowError.hidden = true;
  if (!q) return;
  if (!flow) {
    flowField.setAttribute('aria-invalid', 'true');
    flowField.focus();
    showError(ui.flowError, 'Name the flow whose paths to show.');
    return;
  }
  flowField.removeAttribute('aria-invalid');
  history.replaceState(null, '', `${location.pathname}?${reportQuery(q, { flow })}`);
  const seq = ++askedFlow;
  ui.flowStatus.textContent = `Loading the paths of ${flow}…`;
  let data;
  try {
    data = await call(`/api/reports/flows/${encodeURIComponent(flow)}?${new URLSearchParams({ from: q.from, to: q.to })}`);
  } catch (err) {
    if (seq !== askedFlow) return;
    ui.flowStatus.textContent = '';
    ui.flowResults.hidden = true;
    if (err.status !== 401) showError(ui.flowError, `The paths could not be read: ${problemText(err)}`);
    return;
  }
  if (seq !== askedFlow) return;
  renderFlow(ui.transitions, ui.exits, data);
  ui.flowResults.hidden = false;
  ui.flowStatus.textContent = `Paths of ${data.flow}, ${data.from} to ${data.to} (${center.zone}).`;
}

// ------------------------------------------------------------ boot

function boot() {
  renderLoginForm($('#login-view'));
  Object.assign(ui, {
    login: $('#login-view'),
    app: $('#reports'),
    me: $('[data-testid=reports-me]'),
    refused: $('[data-testid=reports-refused]'),
    form: $('#rp-form'),
    queueList: $('#rp-queues'),
    status: $('[data-testid=reports-status]'),
    error: $('[data-testid=reports-error]'),
    empty: $('[data-testid=reports-empty]'),
    results: $('[data-testid=reports-results]'),
    totalsTitle: $('#rp-totals-title'),
    totals: $('[data-testid=reports-totals]'),
    awayHint: $('[data-testid=away-hint]'),
    dispositionSection: $('[data-testid=reports-dispositions-section]'),
    agentTimeSection: $('[data-testid=agent-time-section]'),
    agentTime: $('[data-testid=agent-time]'),
    dispositions: $('[data-testid=reports-dispositions]'),
    noneClosed: $('[data-testid=chart-dispositions-none]'),
    flowSection: $('[data-testid=flow-section]'),
    flowForm: $('#rp-flow-form'),
    flowStatus: $('[data-testid=flow-status]'),
    flowError: $('[data-testid=flow-error]'),
    flowResults: $('[data-testid=flow-results]'),
    transitions: $('[data-testid=flow-transitions]'),
    exits: $('[data-testid=flow-exits]'),
    figures: {}, canvases: {}, subs: {},
  });
  for (const fig of document.querySelectorAll('[data-chart]')) {
    ui.figures[fig.dataset.chart] = fig;
    ui.canvases[fig.dataset.chart] = fig.querySelector('canvas');
  }
  for (const sub of document.querySelectorAll('[data-sub]')) ui.subs[sub.dataset.sub] = sub;

  $('#login-form').addEventListener('submit', (e) => submitLogin(e, loginView(), start));
  $('[data-testid=reports-logout]').addEventListener('click', () => {
    endSession();
    signedOut();
  });
  ui.form.addEventListener('submit', (e) => { e.preventDefault(); loadReport(); });
  ui.form.addEventListener('input', markPreset);
  ui.form.elements.by.addEventListener('change', syncQueueField);
  for (const b of ui.form.querySelectorAll('[data-preset]')) {
    b.addEventListener('click', () => {
      const range = PRESETS[b.dataset.preset](today());
      ui.form.elements.from.value = range.from;
      ui.form.elements.to.value = range.to;
      markPreset();
      loadReport();
    });
  }
  $('[data-testid=reports-csv]').addEventListener('click', downloadCsv);
  ui.flowForm.addEventListener('submit', (e) => { e.preventDefault(); loadFlow(); });
  start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();
