// The admin console's pure parts: the audit log's compact diff and the opening hours' week <-> schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { changeText, diffEntries, valueText } from '../static/admin/console_diff.js';
import { timeText } from '../static/admin/console_dom.js';
import { compressSchedule, daysOf, expandSchedule, hoursSummary, rangesOf } from '../static/admin/console_hours.js';

test('a change lists only the fields that differ, nested ones by dotted path', () => {
  const before = { name: 'billing', service_level_seconds: 20, callback: { attempts: 3, expiry_hours: 24 }, skills: { billing: 1 } };
  const after = { name: 'billing', service_level_seconds: 30, callback: { attempts: 3, expiry_hours: 48 }, skills: { billing: 1, vip: 2 } };
  assert.deepEqual(diffEntries(before, after), [
    { path: 'callback.expiry_hours', kind: 'changed', from: 24, to: 48 },
    { path: 'service_level_seconds', kind: 'changed', from: 20, to: 30 },
    { path: 'skills.vip', kind: 'added', from: undefined, to: 2 },
  ]);
});

test('a creation lists its fields as added, a removal as removed; lists are compared whole', () => {
  assert.deepEqual(diffEntries(null, { id: 'dave', roles: ['agent'] }).map(changeText), ['+ id: dave', '+ roles: ["agent"]']);
  assert.deepEqual(diffEntries({ id: 'dave' }, null).map(changeText), ['− id: dave']);
  assert.deepEqual(diffEntries({ roles: ['agent'] }, { roles: ['agent', 'admin'] }).map(changeText),
    ['roles: ["agent"] → ["agent","admin"]']);
  assert.deepEqual(diffEntries({ a: 1 }, { a: 1 }), []);
});

test("a flow.save entry: its time as a date in the viewer's zone, its empty fields left out", () => {
  const at = 1796598386453;
  const lines = diffEntries({ version: null }, { id: 'v1', author: 'ada', at, message: '', parent: null, name: 'shop' })
    .map(changeText);
  assert.deepEqual(lines, [`+ at: ${timeText(at)}`, '+ author: ada', '+ id: v1', '+ name: shop']);
  assert.match(timeText(at), /2026/);
  assert.ok(!lines.some((l) => l.includes('null') || l.includes(String(at))), lines.join('\n'));
  // a field set to null or emptied is removed, one set from null added; only the time fields read as dates
  assert.deepEqual(diffEntries({ music: 'hold.wav' }, { music: null }).map(changeText), ['− music: hold.wav']);
  assert.deepEqual(diffEntries({ music: 'hold.wav' }, { music: '' }).map(changeText), ['− music: hold.wav']);
  assert.deepEqual(diffEntries({ music: null }, { music: 'a.wav' }).map(changeText), ['+ music: a.wav']);
  assert.deepEqual(diffEntries({ created_at: String(at), format: 1796598386453 }, {}).map(changeText),
    [`− created_at: ${timeText(at)}`, '− format: 1796598386453']);
});

test('long values are cut to one short line', () => {
  assert.equal(valueText('x'.repeat(200)).length, 80);
  assert.equal(valueText({ a: 1 }), '{"a":1}');
});

test('day specs: ranges, lists and a range over the weekend', () => {
  assert.deepEqual(daysOf('mon-fri'), ['mon', 'tue', 'wed', 'thu', 'fri']);
  assert.deepEqual(daysOf('sat,sun'), ['sat', 'sun']);
  assert.deepEqual(daysOf('fri-mon'), ['fri', 'sat', 'sun', 'mon']);
  assert.equal(daysOf('weekdays'), null);
  assert.deepEqual(rangesOf('9:00-12:00, 13:00-17:30'), [['09:00', '12:00'], ['13:00', '17:30']]);
});

test('a schedule becomes a week and back, neighbouring days with the same hours joined', () => {
  const week = expandSchedule({ 'mon-fri': '09:00-17:00', sat: '10:00-12:00, 13:00-16:00' });
  assert.deepEqual(week.wed, [['09:00', '17:00']]);
  assert.deepEqual(week.sun, []);
  assert.deepEqual(compressSchedule(week), { 'mon-fri': '09:00-17:00', sat: '10:00-12:00, 13:00-16:00' });
  week.wed = [];
  assert.deepEqual(compressSchedule(week), { 'mon-tue': '09:00-17:00', 'thu-fri': '09:00-17:00', sat: '10:00-12:00, 13:00-16:00' });
  assert.equal(hoursSummary({ timezone: 'Europe/Paris', schedule: { 'mon-fri': '09:00-17:00' } }), 'mon-fri 09:00-17:00 (Europe/Paris)');
  assert.equal(hoursSummary(null), 'Always open');
});

test('a code list is compared code by code, and its order as one line', () => {
  const before = { reasons: [{ code: 'break', label: 'Break' }, { code: 'lunch', label: 'Lunch' }, { code: 'other', label: 'Other' }] };
  const after = { reasons: [{ code: 'lunch', label: 'Lunch (1 h)' }, { code: 'break', label: 'Break' }, { code: 'coaching', label: 'Coaching' }] };
  assert.deepEqual(diffEntries(before, after).map(changeText), [
    'reasons (order): break, lunch, other → lunch, break, coaching',
    '+ reasons.coaching: Coaching',
    'reasons.lunch: Lunch → Lunch (1 h)',
    '− reasons.other: Other',
  ]);
  const same = { reasons: [{ code: 'break', label: 'Break' }] };
  assert.deepEqual(diffEntries(same, structuredClone(same)), []);
});
