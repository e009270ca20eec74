// node --test webclient/tests: the reports page by away reason, the pure part (supervisor/reports_query.js): a
// reason's words, the table's rows and shares, the address keeping the choice, the empty check and the chart's axis.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  awayLabel, awayRows, awayStep, awayTick, byWords, isEmptyReport, readQuery, reportQuery,
} from '../static/supervisor/reports_query.js';

const REASONS = [
  { code: 'break', label: 'Break' }, { code: 'lunch', label: 'Lunch' }, { code: 'other', label: 'Other work' },
];
const MIN = 60000;

test('a reason reads as the center\'s label, the gateway\'s own in words, none as no reason, any other as its code', () => {
  assert.equal(awayLabel('lunch', REASONS), 'Lunch');
  assert.equal(awayLabel('other', REASONS), 'Other work');
  assert.equal(awayLabel('none', REASONS), 'No reason given');
  const words = {
    missed_call: 'Missed a call', declined_call: 'Declined a call', call_lost: 'Call lost',
    agent_absent: 'Left without signing out', agent_logged_out: 'Signed out', agent_disabled: 'Disabled',
    agent_removed: 'Removed', set_by_supervisor: 'Set away by a supervisor',
  };
  for (const [code, text] of Object.entries(words)) assert.equal(awayLabel(code, REASONS), text, code);
  assert.equal(awayLabel('coaching', REASONS), 'coaching'); // taken off the list since: its code
  assert.equal(awayLabel('lunch', null), 'lunch'); // the list could not be read
  assert.equal(awayLabel('gym', [{ code: 'gym', label: '  ' }]), 'gym');
  assert.equal(awayLabel('constructor', REASONS), 'constructor'); // (no inherited property taken for a label)
});

test('the rows: most time first, each one\'s share of all away time; a reason without time is left out', () => {
  const report = {
    by: 'away_reason',
    totals: [
      { key: 'none', time_away_ms: 15000 }, { key: 'lunch', time_away_ms: 30 * MIN },
      { key: 'missed_call', time_away_ms: 15000 }, { key: 'break', time_away_ms: 15 * MIN },
      { key: 'meeting', time_away_ms: 0 },
    ],
  };
  const all = 45 * MIN + 30000;
  assert.deepEqual(awayRows(report, REASONS), [
    { key: 'lunch', label: 'Lunch', ms: 30 * MIN, share: (30 * MIN) / all },
    { key: 'break', label: 'Break', ms: 15 * MIN, share: (15 * MIN) / all },
    { key: 'missed_call', label: 'Missed a call', ms: 15000, share: 15000 / all },
    { key: 'none', label: 'No reason given', ms: 15000, share: 15000 / all }, // (equal times: by label)
  ]);
  assert.deepEqual(awayRows({ totals: [] }, REASONS), []);
  assert.deepEqual(awayRows({ totals: [{ key: 'lunch', time_away_ms: null }] }, REASONS), []);
});

test('the address keeps the grouping by away reason; the status line says it in words', () => {
  const q = readQuery('?from=2026-12-01&to=2026-12-05&by=away_reason&interval=hour', '2026-12-09');
  assert.equal(q.by, 'away_reason');
  assert.equal(reportQuery(q, { format: 'csv' }), 'from=2026-12-01&to=2026-12-05&interval=hour&by=away_reason&format=csv');
  assert.equal(readQuery('?by=away', '2026-12-09').by, 'queue');
  assert.equal(byWords('away_reason'), 'away reason');
  assert.equal(byWords('disposition'), 'disposition');
});

test('a report by away reason is empty when no agent was away', () => {
  assert.equal(isEmptyReport({ by: 'away_reason', totals: [] }), true);
  assert.equal(isEmptyReport({ by: 'away_reason', totals: [{ key: 'lunch', time_away_ms: 0 }] }), true);
  assert.equal(isEmptyReport({ by: 'away_reason', totals: [{ key: 'lunch', time_away_ms: 15000 }] }), false);
  // the other groupings as before: a report by agent with only away time still counts nothing
  assert.equal(isEmptyReport({ by: 'agent', totals: [{ key: 'alice', handled: 0, time_away_ms: 15000 }] }), true);
});

test('the away chart\'s axis steps are whole seconds, minutes or hours', () => {
  assert.equal(awayStep(0), 15000);
  assert.equal(awayStep(30000), 15000);
  assert.equal(awayStep(45 * MIN), 10 * MIN);
  assert.equal(awayStep(8 * 60 * MIN), 2 * 60 * MIN);
  assert.equal(awayStep(100 * 60 * MIN), 24 * 60 * MIN); // beyond 12 h steps: whole half days
  assert.equal(awayTick(0), '0');
  assert.equal(awayTick(15000), '15\u00a0s');
  assert.equal(awayTick(10 * MIN), '10\u00a0min');
  assert.equal(awayTick(90 * MIN), '1.5\u00a0h');
});
