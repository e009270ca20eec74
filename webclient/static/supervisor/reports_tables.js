// The reports page's tables: the totals of a report (by queue or agent: every metric; by disposition: closed
// conversations and their share; by away reason: agents' away time and its share) and a flow's paths (transitions
// and exits). Every figure cell carries its metric name and raw value (data-metric, data-value) beside the text
// people read.

import { h } from '../desk/dom.js';
import {
  AGENT_TIME, METRICS, awayRows, fmtMetric, metricGroups, noFigureWhy, rankMetric, slThreshold,
} from './reports_query.js';

const KEY_HEADER = { queue: 'Queue', agent: 'Agent', disposition: 'Disposition', away_reason: 'Reason' };

function head(...labels) {
  return h('thead', null, h('tr', null, ...labels.map((l) => h('th', { scope: 'col' }, l))));
}

function cell(metric, kind, value, why = '') {
  const attrs = { 'data-metric': metric, 'data-value': value == null ? '' : String(value) };
  if (value == null && why) attrs.title = why; // "—": no figure exists for this key, not zero
  return h('td', attrs, fmtMetric(kind, value));
}

/** A key that may wrap after each - _ . and @ (a queue's or an agent's id: up to 40 characters without a space),
 * so a long one takes two lines of a narrow column instead of widening the table. */
function breakable(key) {
  const out = [];
  for (const part of String(key).split(/(?<=[-_.@])/)) out.push(part, h('wbr'));
  return out;
}

function row(key, ...cells) {
  return h('tr', { 'data-key': key }, h('th', { scope: 'row' }, ...(key === '' ? ['(none)'] : breakable(key))), ...cells);
}

/** A row whose key is shown by its label (a disposition's), the key still its `data-key`. */
function labelledRow(key, label, ...cells) {
  return h('tr', { 'data-key': key }, h('th', { scope: 'row' }, label), ...cells);
}

/** A column's header: its short name, and its whole meaning in an abbr's title where the short one says less. */
function metricHead(short, label) {
  return h('th', { scope: 'col' }, short === label ? short : h('abbr', { title: label }, short));
}

const WHEN_ANY = new Set(['moved_out', 'transfers', 'csat']);  // (csat: a center whose customers rate)

/** The totals of a report by queue or agent, busiest first: one row per key, one column per metric, the metrics'
 * columns under their group's header (two header rows). */
export function renderTotals(table, report, reasons = null, dispositionLabel = (code) => code) {
  table.classList.toggle('rp-narrow', report.by === 'away_reason'); // (three columns: not spread over the page)
  if (report.by === 'disposition') {
    renderDispositions(table, report, dispositionLabel);
    return;
  }
  if (report.by === 'away_reason') {
    renderAwayReasons(table, report, reasons);
    return;
  }
  const rank = rankMetric(report.by);
  const rows = [...report.totals].sort((a, b) => (b[rank] || 0) - (a[rank] || 0) || String(a.key).localeCompare(b.key));
  // a column only some centers have (contacts moved to another queue): shown when a row has one (the CSV has it always)
  const shown = METRICS.filter(([name]) => !WHEN_ANY.has(name) || rows.some((t) => t[name]));
  const sl = slThreshold(report);
  const heads = shown.map(([name, label, , short]) => (name === 'service_level'
    ? metricHead(sl.short, `${label}: the share ${sl.long}`)
    : metricHead(short, label)));
  table.replaceChildren(
    h('caption', { class: 'sr-only' }, `Totals by ${report.by}, ${report.from} to ${report.to}`),
    h('colgroup', { span: 1 }), ...metricGroups(shown).map(({ span }) => h('colgroup', { span })),
    h('thead', null,
      h('tr', null, h('th', { scope: 'col', rowSpan: 2 }, KEY_HEADER[report.by] || 'Key'),
        ...metricGroups(shown).map(({ group, span }) => h('th', { scope: 'colgroup', colSpan: span, class: 'rp-group' }, group))),
      h('tr', null, ...heads)),
    h('tbody', null, ...rows.map((t) => row(t.key, ...shown.map(([name, , kind]) => cell(name, kind, t[name], noFigureWhy(report.by, name)))))),
  );
  // every key together, as the gateway summed their counters (an average over all of their contacts, not of the
  // rows' averages): with two rows or more (a reports auditor found no totals row)
  if (rows.length > 1 && report.overall) {
    const all = report.overall;
    table.append(h('tfoot', null, h('tr', { 'data-key': '', 'data-testid': 'reports-overall' },
      h('th', { scope: 'row' }, ALL_HEADER[report.by] || 'All'),
      ...shown.map(([name, , kind]) => cell(name, kind, all[name], noFigureWhy(report.by, name))))));
  }
}

const ALL_HEADER = { queue: 'All queues', agent: 'All agents' };

/** How each agent's signed-in time was spent (a report by agent), busiest first, with all agents together. */
export function renderAgentTime(table, report) {
  const rows = [...report.totals].sort((a, b) => (b.time_signed_in_ms || 0) - (a.time_signed_in_ms || 0)
    || String(a.key).localeCompare(b.key));
  const cells = (t) => AGENT_TIME.map(([name, , kind]) => cell(name, kind, t[name]));
  table.replaceChildren(
    h('caption', { class: 'sr-only' }, `Agent time, ${report.from} to ${report.to}`),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Agent'),
      ...AGENT_TIME.map(([, label, , short]) => metricHead(short, label)))),
    h('tbody', null, ...rows.map((t) => row(t.key, ...cells(t)))),
  );
  if (rows.length > 1 && report.overall) {
    table.append(h('tfoot', null, h('tr', { 'data-key': '', 'data-testid': 'agent-time-overall' },
      h('th', { scope: 'row' }, 'All agents'), ...cells(report.overall))));
  }
}

/** Closed conversations by disposition over the range, most first, with each one's share. */
export function renderDispositions(table, report, labelOf = (code) => code) {
  const rows = [...report.totals].sort((a, b) => (b.closed || 0) - (a.closed || 0) || String(a.key).localeCompare(b.key));
  const all = rows.reduce((n, t) => n + (t.closed || 0), 0);
  table.replaceChildren(
    h('caption', { class: 'sr-only' }, `Closed conversations by disposition, ${report.from} to ${report.to}`),
    head('Disposition', 'Closed', 'Share'),
    h('tbody', null, ...(all ? rows : []).map((t) => labelledRow(t.key, labelOf(t.key), cell('closed', 'count', t.closed),
      cell('share', 'ratio', (t.closed || 0) / all)))),
  );
  // a new center's first look: a sentence, not a table of headers alone
  if (!all) table.tBodies[0].append(h('tr', null, h('td', { colSpan: 3, class: 'rp-none' }, 'No conversation was closed in this range.')));
}

/** Agents' away time by reason over the range (a report by away reason), most first: each reason in words (`reasons`:
 * the center's list, GET /api/away-reasons), its time and its share of all away time, then every reason together. */
export function renderAwayReasons(table, report, reasons) {
  const rows = awayRows(report, reasons);
  table.replaceChildren(
    h('caption', { class: 'sr-only' }, `Away time by reason, ${report.from} to ${report.to}`),
    head('Reason', 'Time away', 'Share'),
    h('tbody', null, ...rows.map((r) => h('tr', { 'data-key': r.key }, h('th', { scope: 'row' }, r.label),
      cell('time_away_ms', 'ms', r.ms), cell('share', 'ratio', r.share)))),
  );
  if (!rows.length) {
    const none = h('td', { colSpan: 3, class: 'rp-none' }, 'No agent was away in this range.');
    table.tBodies[0].append(h('tr', null, none));
    return;
  }
  // every reason together, as the gateway summed them (a reports auditor found no totals row): with two rows or more
  if (rows.length > 1) {
    const all = report.overall && Number.isFinite(report.overall.time_away_ms)
      ? report.overall.time_away_ms : rows.reduce((n, r) => n + r.ms, 0);
    table.append(h('tfoot', null, h('tr', { 'data-key': '', 'data-testid': 'reports-overall' },
      h('th', { scope: 'row' }, 'All reasons'), cell('time_away_ms', 'ms', all), cell('share', 'ratio', 1))));
  }
}

/** A flow's paths: how many sessions took each transition (most first), and where callers left it. */
export function renderFlow(transitions, exits, data) {
  const moves = [...(data.transitions || [])].sort((a, b) => b.count - a.count);
  transitions.replaceChildren(
    h('caption', { class: 'sr-only' }, `Transitions of flow ${data.flow}`),
    head('From step', 'To step', 'Sessions'),
    h('tbody', null, ...moves.map((t) => h('tr', { 'data-from': t.from, 'data-to': t.to },
      h('td', null, t.from || '(start)'), h('td', null, t.to), cell('count', 'count', t.count)))),
  );
  if (!moves.length) transitions.tBodies[0].append(h('tr', null, h('td', { colSpan: 3, class: 'rp-none' }, 'No session took a step in this range.')));
  const left = [...(data.exits || [])].sort((a, b) => (b.hangups + b.agent_requests) - (a.hangups + a.agent_requests));
  exits.replaceChildren(
    h('caption', { class: 'sr-only' }, `Where callers left flow ${data.flow}`),
    head('Step', 'Hung up', 'Asked for an agent'),
    h('tbody', null, ...left.map((e) => h('tr', { 'data-node': e.node },
      h('td', null, e.node), cell('hangups', 'count', e.hangups), cell('agent_requests', 'count', e.agent_requests)))),
  );
  if (!left.length) exits.tBodies[0].append(h('tr', null, h('td', { colSpan: 3, class: 'rp-none' }, 'Nobody left the flow in this range.')));
}
