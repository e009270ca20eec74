// node --test webclient/tests: the reports page's pure part (supervisor/reports_query.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ahtMs, fmtMetric, fmtMs, fmtRatio, hasFigures, intervalLabel, isEmptyReport, metricGroups, METRICS, noFigureWhy, presetOf,
  PRESETS, rangeProblem, rankMetric, readQuery, reportQuery, slThreshold, sumPoints, todayIn, topKeys, weightedPoints,
} from '../static/supervisor/reports_query.js';

test("today is the center's date in its time zone, whatever this browser's own", () => {
  const at = new Date('2026-12-05T03:30:00Z');
  assert.equal(todayIn('UTC', at), '2026-12-05');
  assert.equal(todayIn('America/New_York', at), '2026-12-04'); // 22:30 the evening before
  assert.equal(todayIn('Asia/Kolkata', at), '2026-12-05'); // 09:00
  assert.equal(todayIn('Asia/Kolkata', new Date('2026-12-05T18:29:59Z')), '2026-12-05'); // 23:59:59
  assert.equal(todayIn('Asia/Kolkata', new Date('2026-12-05T18:30:00Z')), '2026-12-06'); // midnight at :30 UTC
  assert.equal(todayIn('Pacific/Kiritimati', new Date('2026-12-31T10:00:00Z')), '2027-01-01'); // UTC+14: a new year
  // daylight saving time: New York's midnight is 05:00 UTC in winter, 04:00 in summer
  assert.equal(todayIn('America/New_York', new Date('2026-03-08T04:59:59Z')), '2026-03-07');
  assert.equal(todayIn('America/New_York', new Date('2026-03-08T05:00:00Z')), '2026-03-08');
  assert.equal(todayIn('America/New_York', new Date('2026-11-01T03:59:59Z')), '2026-10-31');
  assert.equal(todayIn('America/New_York', new Date('2026-11-01T04:00:00Z')), '2026-11-01');
  assert.equal(todayIn('Mars/Olympus_Mons', at), null); // a zone this browser does not know: the gateway's date
  // the presets in New York at 22:30 on Dec 4 (03:30 UTC on Dec 5): today is the 4th, yesterday the 3rd
  assert.deepEqual(PRESETS.yesterday(todayIn('America/New_York', at)), { from: '2026-12-03', to: '2026-12-03' });
});

test('presets are days ending today, across month and year ends', () => {
  assert.deepEqual(PRESETS.today('2026-12-05'), { from: '2026-12-05', to: '2026-12-05' });
  assert.deepEqual(PRESETS.yesterday('2027-01-01'), { from: '2026-12-31', to: '2026-12-31' });
  assert.deepEqual(PRESETS.last7('2026-03-03'), { from: '2026-02-25', to: '2026-03-03' });
  assert.deepEqual(PRESETS.last30('2026-12-05'), { from: '2026-11-06', to: '2026-12-05' });
  assert.equal(presetOf('2026-11-29', '2026-12-05', '2026-12-05'), 'last7');
  assert.equal(presetOf('2026-11-28', '2026-12-05', '2026-12-05'), null);
});

test('a range is two real dates in order, at most 90 days', () => {
  assert.equal(rangeProblem('2026-09-07', '2026-12-05'), null); // 90 days
  assert.deepEqual(rangeProblem('2026-09-06', '2026-12-05'),
    { field: 'to', message: 'A report covers at most 90 days; this range has 91.' });
  assert.equal(rangeProblem('2026-12-05', '2026-12-04').field, 'to');
  assert.equal(rangeProblem('', '2026-12-04').field, 'from');
  assert.equal(rangeProblem('2026-02-30', '2026-03-01').field, 'from');
  assert.equal(rangeProblem('2026-12-01', 'tomorrow').field, 'to');
});

test("the page's address reads back into the query it was made from", () => {
  const q = { from: '2026-12-01', to: '2026-12-05', interval: 'hour', by: 'agent', queue: 'billing' };
  assert.equal(reportQuery(q), 'from=2026-12-01&to=2026-12-05&interval=hour&by=agent&queue=billing');
  assert.equal(reportQuery({ ...q, queue: '' }, { format: 'csv' }), 'from=2026-12-01&to=2026-12-05&interval=hour&by=agent&format=csv');
  assert.deepEqual(readQuery(`?${reportQuery(q, { flow: 'default' })}`, '2026-12-09'), { ...q, flow: 'default' });
  assert.deepEqual(readQuery('?interval=week&by=customer&from=2026-13-01', '2026-12-09'),
    { from: '2026-12-03', to: '2026-12-09', interval: 'day', by: 'queue', queue: '', flow: '' });
});

test('figures as people read them', () => {
  assert.equal(fmtMs(null), '—');
  assert.equal(fmtMs(850), '<\u00a01\u00a0s');
  assert.equal(fmtMs(4), '<\u00a01\u00a0s');
  assert.equal(fmtMs(0), '0\u00a0s');
  assert.equal(fmtMs(12500), '13\u00a0s');
  assert.equal(fmtMs(9400), '9.4\u00a0s');
  assert.equal(fmtMs(185000), '3\u00a0min 05\u00a0s');
  assert.equal(fmtMs(3720000), '1\u00a0h 02\u00a0min');
  assert.equal(fmtRatio(0.875), '87.5\u00a0%');
  assert.equal(fmtRatio(1), '100\u00a0%');
  assert.equal(fmtRatio(null), '—');
  assert.equal(intervalLabel('2026-12-03T00:00:00Z', 'day'), 'Dec 3');
  assert.equal(intervalLabel('2026-12-03T14:00:00Z', 'hour'), 'Dec 3 14:00');
  // a center's local time with its offset, read as written (not in this browser's zone)
  assert.equal(intervalLabel('2026-12-03T00:00:00-05:00', 'day'), 'Dec 3');
  assert.equal(intervalLabel('2026-12-03T22:00:00-05:00', 'hour'), 'Dec 3 22:00');
  assert.equal(intervalLabel('2026-12-05T09:00:00+05:30', 'hour'), 'Dec 5 09:00');
  assert.equal(intervalLabel('2026-11-01T01:00:00-04:00', 'hour'), 'Nov 1 01:00');
  assert.equal(intervalLabel('not a time', 'hour'), 'not a time');
});

const p = (start, m) => ({ start, ...m });
const report = {
  series: [
    { key: 'billing', points: [p('d1', { offered: 4, handled: 3, asa_ms: 10000, call_segments: 2, aht_call_ms: 65000 }),
      p('d2', { offered: 0, handled: 0, asa_ms: null, call_segments: 0, aht_call_ms: null })] },
    { key: 'sales', points: [p('d1', { offered: 2, handled: 1, asa_ms: 30000, call_segments: 1, aht_call_ms: 20000 }),
      p('d2', { offered: 1, handled: 1, asa_ms: 4000, call_segments: 1, aht_call_ms: 3000 })] },
  ],
  totals: [{ key: 'billing', offered: 4, handled: 3 }, { key: 'sales', offered: 3, handled: 2 }],
};

test('counts add up across queues; averages are weighted by what they average over', () => {
  assert.deepEqual(sumPoints(report.series, 'offered'), [6, 1]);
  assert.deepEqual(weightedPoints(report.series, 'handled', (x) => x.asa_ms), [(3 * 10000 + 30000) / 4, 4000]);
  assert.equal(ahtMs(report.series[0].points[0]), 65000);
  assert.equal(ahtMs(report.series[0].points[1]), null);
  // call handle time over call segments (a reports auditor: weighted by every handled contact, chats too, before)
  assert.deepEqual(weightedPoints(report.series, 'call_segments', ahtMs), [(2 * 65000 + 20000) / 3, 3000]);
  assert.deepEqual(weightedPoints([{ key: 'x', points: [p('d1', { handled: 0, asa_ms: null })] }], 'handled', (x) => x.asa_ms), [null]);
  assert.deepEqual(topKeys(report.totals, 'offered', 1), ['billing']);
});

test('an empty report: nothing counted anywhere', () => {
  assert.equal(isEmptyReport({ totals: [] }), true);
  assert.equal(isEmptyReport({ totals: [{ key: 'billing', offered: 0, handled: 0, asa_ms: null, service_level: null }] }), true);
  assert.equal(isEmptyReport({ totals: [{ key: 'resolved', closed: 2 }] }), false);
  assert.equal(isEmptyReport(report), false);
});

test("the totals table's headers: each metric's group once over its consecutive columns, every column under one", () => {
  const groups = metricGroups();
  assert.deepEqual(groups.map((g) => g.group), ['Contacts', 'Calls (avg)', 'Chats (avg)', 'Callbacks', 'Escalated', 'IVR', 'Satisfaction']);
  assert.equal(groups.reduce((n, g) => n + g.span, 0), METRICS.length);
  assert.deepEqual(metricGroups([['a', 'A', 'count', 'A', 'x'], ['b', 'B', 'count', 'B', 'y'], ['c', 'C', 'count', 'C', 'x']]),
    [{ group: 'x', span: 1 }, { group: 'y', span: 1 }, { group: 'x', span: 1 }]);  // apart: two headers
  for (const [name, label, kind, short, group] of METRICS) {
    assert.ok(label && short && group && ['count', 'ms', 'ratio'].includes(kind), name);
  }
});

test('by agent, the metrics counted per queue only have no figure and say why; agents rank by handled', () => {
  assert.match(noFigureWhy('agent', 'offered'), /^Counted per queue only/);
  for (const name of ['abandoned', 'callbacks_booked', 'ivr_sessions', 'ivr_contained']) assert.notEqual(noFigureWhy('agent', name), '');
  assert.equal(noFigureWhy('agent', 'handled'), '');
  assert.equal(noFigureWhy('queue', 'offered'), '');
  assert.equal(rankMetric('agent'), 'handled');
  assert.equal(rankMetric('queue'), 'offered');
  const series = [{ key: 'alice', points: [{ offered: null, handled: 3 }, { offered: null, handled: 0 }] }];
  assert.equal(hasFigures(series, 'offered'), false);
  assert.equal(hasFigures(series, 'handled'), true);
  assert.equal(fmtMetric('count', null), '—');
});

test('the IVR column names what it counts: calls through the voice flow, not chat-bot sessions', () => {
  const [, label, , short, group] = METRICS.find(([name]) => name === 'ivr_sessions');
  assert.equal(`${group} ${short}`, 'IVR Calls');
  assert.match(label, /^IVR calls: calls that ran the voice flow \(chats through a bot flow are not counted\)$/);
});

test("the service level's threshold: one when the queues agree, each queue's own when they differ", () => {
  const report = (by, totals, own) => ({ by, sl_threshold_s: 10, sl_thresholds_s: own, totals: totals.map((key) => ({ key })) });
  assert.deepEqual(slThreshold(report('queue', ['billing'], { billing: 20, support: 30 })),
    { short: 'SL ≤ 20 s', long: 'answered within 20 s' });
  assert.deepEqual(slThreshold(report('queue', ['billing', 'support'], { billing: 10, support: 20 })),
    { short: 'SL ≤ target', long: "answered within its queue's target (billing 10 s, support 20 s)" });
  assert.deepEqual(slThreshold(report('agent', ['alice'], { billing: 20, support: 20 })),
    { short: 'SL ≤ 20 s', long: 'answered within 20 s' });
  assert.deepEqual(slThreshold(report('queue', ['old'], {})), { short: 'SL ≤ 10 s', long: 'answered within 10 s' });
  assert.deepEqual(slThreshold({ by: 'queue', sl_threshold_s: 20, totals: [] }),
    { short: 'SL ≤ 20 s', long: 'answered within 20 s' });
});
