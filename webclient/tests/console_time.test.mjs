// The admin console's time text: the audit log sends epoch milliseconds, the webhook delivery log an ISO string.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { timeText } from '../static/admin/console_dom.js';

test('an ISO time (the webhook delivery log) reads as the same instant as its milliseconds', () => {
  const iso = '2026-12-06T18:16:51.978Z';
  const ms = Date.parse(iso);
  assert.notEqual(timeText(iso), 'Invalid Date');
  assert.equal(timeText(iso), timeText(ms));
  assert.equal(timeText(String(ms)), timeText(ms));
  assert.match(timeText(iso), /2026/);
});

test('nothing gives no text, and an unreadable time is shown as it came, never "Invalid Date"', () => {
  assert.equal(timeText(null), '');
  assert.equal(timeText(undefined), '');
  assert.equal(timeText(''), '');
  assert.equal(timeText('soon'), 'soon');
});
