// The reports page's pure part (no DOM): the range presets and checks, the query of GET /api/reports, the
// metrics' names and formats, and the sums and weighted averages the charts draw across queues or agents.
// Unit tests: webclient/tests/reports_query.test.mjs.

export const MAX_DAYS = 90;
const DAY_MS = 86400000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today's date in the center's time zone (an IANA name: the reports' days are its days), as YYYY-MM-DD; null
 * when this browser does not know the zone. */
export function todayIn(zone, now = new Date()) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-US', { timeZone: zone || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(now);
  } catch (_) {
    return null; // RangeError: a zone this browser's time zone data lacks
  }
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

function parseDate(s) {
  if (typeof s !== 'string' || !DATE.test(s)) return null;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s ? null : t;
}

export function addDays(date, days) {
  return new Date(parseDate(date) + days * DAY_MS).toISOString().slice(0, 10);
}

export const PRESETS = {
  today: (today) => ({ from: today, to: today }),
  yesterday: (today) => ({ from: addDays(today, -1), to: addDays(today, -1) }),
  last7: (today) => ({ from: addDays(today, -6), to: today }),
  last30: (today) => ({ from: addDays(today, -29), to: today }),
};

/** The preset a range is, or null. */
export function presetOf(from, to, today) {
  for (const [name, make] of Object.entries(PRESETS)) {
    const r = make(today);
    if (r.from === from && r.to === to) return name;
  }
  return null;
}

/** Why a range cannot be asked for (a sentence naming the field), or null when it can. */
export function rangeProblem(from, to) {
  const a = parseDate(from);
  const b = parseDate(to);
  if (a === null) return { field: 'from', message: 'Choose the first day of the range.' };
  if (b === null) return { field: 'to', message: 'Choose the last day of the range.' };
  if (b < a) return { field: 'to', message: 'The last day comes before the first day.' };
  const days = (b - a) / DAY_MS + 1;
  if (days > MAX_DAYS) return { field: 'to', message: `A report covers at most ${MAX_DAYS} days; this range has ${days}.` };
  return null;
}

const INTERVALS = ['day', 'hour'];
const BYS = ['queue', 'agent', 'disposition', 'away_reason'];

/** The report asked for, from a query string (the page's address) with defaults: the last 7 days by day by queue. */
export function readQuery(search, today) {
  const p = new URLSearchParams(search);
  const dflt = PRESETS.last7(today);
  const from = parseDate(p.get('from')) !== null ? p.get('from') : dflt.from;
  const to = parseDate(p.get('to')) !== null ? p.get('to') : dflt.to;
  return {
    from,
    to,
    interval: INTERVALS.includes(p.get('interval')) ? p.get('interval') : 'day',
    by: BYS.includes(p.get('by')) ? p.get('by') : 'queue',
    queue: (p.get('queue') || '').trim(),
    flow: (p.get('flow') || '').trim(),
  };
}

/** The query string of GET /api/reports (and of the page's address) for a report; `extra` adds to it. */
export function reportQuery(q, extra = {}) {
  const p = new URLSearchParams({ from: q.from, to: q.to, interval: q.interval, by: q.by });
  if (q.queue) p.set('queue', q.queue);
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  return p.toString();
}

// ------------------------------------------------------------ metrics

/** The metrics of a report by queue or agent, in the order of the totals table: [name, label, kind, short, group].
 * `label` says it whole (charts, the headers' abbr titles); `short` heads its column in the totals table, under its
 * `group` (consecutive metrics of one group share a header), so 18 columns fit a 1,366 px laptop screen. */
export const METRICS = [
  ['offered', 'Offered', 'count', 'Offered', 'Contacts'],
  ['handled', 'Handled', 'count', 'Handled', 'Contacts'],
  ['abandoned', 'Abandoned', 'count', 'Abandoned', 'Contacts'],
  ['abandoned_wait_ms_avg', 'Avg wait before abandoning', 'ms', 'Avg wait to abandon', 'Contacts'],
  ['moved_out', 'Moved out while waiting: to another queue (an overflow, a flow\'s choice), a bot flow or a callback',
    'count', 'Moved out', 'Contacts'],
  ['transfers', 'Transfers: chats and calls an agent handed to a colleague or a queue', 'count', 'Trans\u00adfers', 'Contacts'],
  ['service_level', 'Service level', 'ratio', 'Service level', 'Contacts'],
  ['asa_ms', 'Avg speed of answer', 'ms', 'ASA', 'Contacts'],
  // (the average hold, in the CSV and the API, is in this one: the table fits a laptop)
  ['aht_call_ms', 'Call handle time (AHT): talk + hold + wrap-up per call segment (an agent\'s part of a call)', 'ms',
    'AHT', 'Calls (avg)'],
  ['aht_talk_ms', 'Avg talk', 'ms', 'Talk', 'Calls (avg)'],
  ['aht_wrap_ms', 'Avg wrap-up', 'ms', 'Wrap-up', 'Calls (avg)'],
  ['chat_first_response_ms', 'Chat first response', 'ms', 'First reply', 'Chats (avg)'],
  ['chat_resolution_ms', 'Chat resolution', 'ms', 'Resolution', 'Chats (avg)'],
  ['aht_chat_ms', 'Chat handle time', 'ms', 'Handle time', 'Chats (avg)'],
  ['callbacks_booked', 'Callbacks booked', 'count', 'Booked', 'Callbacks'],
  ['callbacks_reached', 'Callbacks reached', 'count', 'Reached', 'Callbacks'],
  ['callbacks_unreachable', 'Callbacks unreachable', 'count', 'Not reached', 'Callbacks'],
  ['escalations', 'Escalations chat → voice', 'count', 'Chat → voice', 'Escalated'],
  ['ivr_sessions', 'IVR calls: calls that ran the voice flow (chats through a bot flow are not counted)', 'count', 'Calls', 'IVR'],
  ['ivr_contained', 'IVR contained: calls that ended without waiting for an agent', 'count', 'Contained', 'IVR'],
  // one column (the table fits a laptop): the count and the average rating are in the CSV and the API
  ['csat', 'CSAT: the share of customers\' ratings that were 4 or 5 (of 5)', 'ratio', 'CSAT', 'Satisfaction'],
];

/** The metrics counted per queue only (gateway/ops/rollup_rules.py NOT_BY_AGENT): by agent the report has no
 * figure for them (null), shown "—" with this reason in its title, never 0. */
export const NOT_BY_AGENT = new Set(['offered', 'abandoned', 'abandoned_wait_ms_avg', 'moved_out', 'callbacks_booked',
  'ivr_sessions', 'ivr_contained']);

/** Why a cell of a report `by` has no figure for `metric`, or '' (then "—" means nothing to count or divide). */
export function noFigureWhy(by, metric) {
  return by === 'agent' && NOT_BY_AGENT.has(metric)
    ? 'Counted per queue only: a contact is offered, abandoned, booked a callback or ran the voice flow before any agent had it. See the report by queue.'
    : '';
}

/** The metric that ranks a report's keys (busiest first): offered, or by agent (who have none) handled. */
export const rankMetric = (by) => (by === 'agent' ? 'handled' : 'offered');

/** Whether any point of `series` has a figure for `metric` (by agent, offered and abandoned have none). */
export function hasFigures(series, metric) {
  return (series || []).some((s) => s.points.some((p) => isNum(p[metric])));
}

/** The metrics' groups in table order: [{group, span}] (a header over `span` consecutive columns). */
export function metricGroups(metrics = METRICS) {
  const out = [];
  for (const [, , , , group] of metrics) {
    const last = out[out.length - 1];
    if (last && last.group === group) last.span += 1;
    else out.push({ group, span: 1 });
  }
  return out;
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

const NB = '\u00a0'; // a number and its unit never apart: a narrow cell wraps between "3 min" and "05 s"

/** A duration in ms as people read it: "850 ms", "12.5 s", "3 min 05 s", "1 h 02 min" (no-break spaces between a
 * number and its unit); "—" for none. */
export function fmtMs(ms) {
  if (!isNum(ms)) return '—';
  if (ms < 1000) return ms <= 0 ? `0${NB}s` : `<${NB}1${NB}s`; // a wait of 4 ms is "under a second" to a supervisor
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}${NB}s`;
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m}${NB}min ${String(whole % 60).padStart(2, '0')}${NB}s`;
  return `${Math.floor(m / 60)}${NB}h ${String(m % 60).padStart(2, '0')}${NB}min`;
}

/** A share 0..1 as a percentage ("87.5 %", "100 %", a no-break space before the sign); "—" for none. */
export function fmtRatio(x) {
  if (!isNum(x)) return '—';
  const pct = Math.round(x * 1000) / 10;
  return `${pct}${NB}%`;
}

export function fmtCount(n) {
  return isNum(n) ? String(n) : '—';
}

export function fmtMetric(kind, v) {
  return kind === 'ms' ? fmtMs(v) : kind === 'ratio' ? fmtRatio(v) : fmtCount(v);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LOCAL_START = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;

/** An interval's label on a chart's axis: "Dec 3" by day, "Dec 3 14:00" by hour, in the center's time: a point's
 * start is its local time with its offset ("2026-12-03T14:00:00-05:00"; "...Z" in UTC), read as written. */
export function intervalLabel(start, interval) {
  const m = LOCAL_START.exec(String(start));
  if (!m || !MONTHS[Number(m[2]) - 1]) return String(start);
  const day = `${MONTHS[Number(m[2]) - 1]} ${Number(m[3])}`;
  return interval === 'hour' ? `${day} ${m[4]}:${m[5]}` : day;
}

// ------------------------------------------------------------ across keys

/** The interval starts of a report (every series covers the same ones). */
export function starts(report) {
  const first = report.series && report.series[0];
  return first ? first.points.map((p) => p.start) : [];
}

/** Per interval, the sum of a count over every series. */
export function sumPoints(series, metric) {
  const out = [];
  for (const s of series) {
    s.points.forEach((p, i) => { out[i] = (out[i] || 0) + (isNum(p[metric]) ? p[metric] : 0); });
  }
  return out;
}

/** Per interval, the average of `metric` over every series weighted by `weight` (an average per contact stays an
 * average per contact); null where no series has a value with weight. `value(p)` reads the metric. */
export function weightedPoints(series, weight, value) {
  const sum = [];
  const total = [];
  for (const s of series) {
    s.points.forEach((p, i) => {
      const v = value(p);
      const w = p[weight];
      sum[i] = sum[i] || 0;
      total[i] = total[i] || 0;
      if (isNum(v) && isNum(w) && w > 0) {
        sum[i] += v * w;
        total[i] += w;
      }
    });
  }
  return sum.map((v, i) => (total[i] > 0 ? v / total[i] : null));
}

/** How agents' signed-in time was spent (reports by agent only: gateway/ops/agent_time.py samples it every 15 s): a
 * table of its own, [name, label, kind, short]. */
export const AGENT_TIME = [
  ['time_signed_in_ms', 'Signed in: a desk of theirs open, in any state', 'ms', 'Signed in'],
  ['time_idle_ms', 'Idle: available with nothing to do', 'ms', 'Idle'],
  ['time_chats_ms', 'On chats: available, holding at least one chat', 'ms', 'On chats'],
  ['time_calls_ms', 'On calls: ringing or talking', 'ms', 'On calls'],
  ['time_wrap_up_ms', 'After-call work', 'ms', 'Wrap-up'],
  ['time_away_ms', 'Away (any reason)', 'ms', 'Away'],
  ['occupancy', 'Occupancy: the share of available time spent on contacts, (calls + wrap-up + chats) / (those + idle)',
    'ratio', 'Occupancy'],
];

/** Average handle time of a point's calls: talk + hold + wrap-up per call segment, as the gateway divides it (one
 * divisor: adding up the three averages mixed segments with closes). */
export function ahtMs(p) {
  return isNum(p.aht_call_ms) ? p.aht_call_ms : null;
}

/** The keys with the most of `metric` in the totals, at most n, busiest first. */
export function topKeys(totals, metric, n) {
  return [...totals].sort((a, b) => (b[metric] || 0) - (a[metric] || 0)).slice(0, n).map((t) => t.key);
}

/** True when nothing at all happened in the report: no total counts anything (by disposition: nothing closed; by
 * away reason: no agent was away). */
export function isEmptyReport(report) {
  const counts = report.by === 'away_reason' ? ['time_away_ms']
    : [...METRICS.filter(([, , kind]) => kind === 'count').map(([name]) => name), 'closed'];
  return (report.totals || []).every((t) => counts.every((name) => !isNum(t[name]) || t[name] === 0));
}

/** What a report's service level counts as answered in time: one threshold ({short: 'SL ≤ 20 s', long: 'answered
 * within 20 s'}), or, when its queues have different ones, each queue's own ('SL ≤ target', 'answered within its
 * queue's target (billing 10 s, support 20 s)'). A report by queue weighs its rows' queues; by agent, every queue. */
export function slThreshold(report) {
  const own = report.sl_thresholds_s || {};
  const keys = report.by === 'queue' ? (report.totals || []).map((t) => t.key) : Object.keys(own);
  const used = [...new Set(keys.map((k) => (k in own ? own[k] : report.sl_threshold_s)))].sort((a, b) => a - b);
  if (used.length <= 1) {
    const s = used.length ? used[0] : report.sl_threshold_s;
    return { short: `SL ≤ ${s} s`, long: `answered within ${s} s` };
  }
  const each = keys.filter((k) => k in own).sort().map((k) => `${k} ${own[k]} s`).join(', ');
  return { short: 'SL ≤ target', long: `answered within its queue's target (${each})` };
}

// ------------------------------------------------------------ away reasons

/** A grouping in words, as the status line says it ("by away reason"). */
export function byWords(by) {
  return by === 'away_reason' ? 'away reason' : String(by);
}

/** The away reasons the gateway sets itself (gateway/contact/away_reasons.py GATEWAY_REASONS), in the report's
 * words; `none`: away without a reason. */
export const GATEWAY_AWAY = {
  missed_call: 'Missed a call',
  declined_call: 'Declined a call',
  call_lost: 'Call lost',
  agent_absent: 'Left without signing out',
  agent_logged_out: 'Signed out',
  agent_disabled: 'Disabled',
  agent_removed: 'Removed',
  set_by_supervisor: 'Set away by a supervisor',
  none: 'No reason given',
};

/** An away reason's code in words: the gateway's own (and `none`) in GATEWAY_AWAY's, one of `reasons` (the center's
 * list, GET /api/away-reasons: [{code, label}]) as its label, any other as the code itself (a reason an admin took off
 * the list keeps its past time under its code). */
export function awayLabel(code, reasons) {
  const c = String(code);
  if (Object.hasOwn(GATEWAY_AWAY, c)) return GATEWAY_AWAY[c];
  const found = (Array.isArray(reasons) ? reasons : []).find((r) => r && r.code === c);
  return found && typeof found.label === 'string' && found.label.trim() ? found.label.trim() : c;
}

/** The rows of the away table of a report by away reason: [{key, label, ms, share}], most time first (then by
 * label), each one's share of all away time (null when there was none); a reason without time is left out. */
export function awayRows(report, reasons) {
  const rows = (report.totals || []).filter((t) => isNum(t.time_away_ms) && t.time_away_ms > 0);
  const all = rows.reduce((n, t) => n + t.time_away_ms, 0);
  return rows.map((t) => ({
    key: String(t.key), label: awayLabel(t.key, reasons), ms: t.time_away_ms, share: all ? t.time_away_ms / all : null,
  })).sort((a, b) => b.ms - a.ms || a.label.localeCompare(b.label));
}

/** An axis tick of away time (ms): "0", "45 s", "30 min", "1.5 h". */
export function awayTick(ms) {
  if (!isNum(ms) || ms <= 0) return '0';
  if (ms < 60000) return `${Math.round(ms / 100) / 10}${NB}s`;
  if (ms < 3600000) return `${Math.round(ms / 6000) / 10}${NB}min`;
  return `${Math.round(ms / 360000) / 10}${NB}h`;
}

const STEPS_MS = [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200].map((s) => s * 1000);

/** The step between an away-time axis's ticks (ms) for a highest bar of `ms`: a whole number of seconds, minutes or
 * hours, with at most 6 steps up to it (Chart.js's own steps are tens of ms: "3.3 min"). */
export function awayStep(ms) {
  const high = isNum(ms) && ms > 0 ? ms : 0;
  const step = STEPS_MS.find((s) => high / s <= 6);
  return step || 43200000 * Math.ceil(high / 6 / 43200000); // (beyond: whole half days)
}
