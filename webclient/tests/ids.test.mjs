// node --test webclient/tests: client ids and the order of the gateway's event ids.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cmpId, newClientId } from '../static/shared/ids.js';

test('client ids carry their prefix and are unique', () => {
  const ids = new Set(Array.from({ length: 200 }, () => newClientId('m-')));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^m-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(newClientId('call-'), /^call-/);
});

test('without randomUUID (no secure context) an id is 32 hex digits from getRandomValues', () => {
  const crypto = { getRandomValues: (bytes) => bytes.fill(0xab) };
  assert.equal(newClientId('a-', crypto), 'a-' + 'ab'.repeat(16));
});

test('without crypto at all an id is still 32 hex digits', () => {
  assert.match(newClientId('m-', null), /^m-[0-9a-f]{32}$/);
});

test('event ids compare as Redis stream ids: milliseconds, then sequence, as numbers', () => {
  const sorted = ['1700000000000-0', '1700000000000-2', '1700000000000-10', '1700000000001-0', '1800000000000'];
  const shuffled = [sorted[3], sorted[0], sorted[4], sorted[2], sorted[1]];
  assert.deepEqual(shuffled.sort(cmpId), sorted);
  assert.equal(cmpId('5-1', '5-1'), 0);
  assert.equal(cmpId('5', '5-0'), 0);
  assert.equal(cmpId('9-0', '10-0'), -1);
});
