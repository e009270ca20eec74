import test from 'node:test';
import assert from 'node:assert/strict';
import { clockTime, hourStyle } from '../static/shared/clock.js';

test('a 24-hour locale writes a leading zero, a 12-hour one does not', () => {
  const midnight = new Date(2026, 11, 7, 0, 24);
  const afternoon = new Date(2026, 11, 7, 13, 4);
  assert.equal(hourStyle('en-GB'), '2-digit');
  assert.equal(hourStyle('en-US'), 'numeric');
  assert.equal(clockTime(midnight, 'en-GB'), '00:24');
  assert.equal(clockTime(afternoon, 'en-GB'), '13:04');
  assert.match(clockTime(afternoon, 'en-US'), /^1:04\s?PM$/);
});
