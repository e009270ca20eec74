// node --test webclient/tests: which call a desk takes back after a (re)connect (desk/phone/rejoin.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { callToRejoin } from '../static/desk/phone/rejoin.js';

const call = (id, status, extra = {}) => ({ call_id: id, conversation_id: `c-${id}`, status, ...extra });

test('a call whose leg dropped is taken back by any desk of the agent', () => {
  const dropped = call('k1', 'waiting', { rejoin: true });
  assert.equal(callToRejoin([call('k0', 'ringing'), dropped], ''), dropped);
  assert.equal(callToRejoin([dropped], 'k9'), dropped);
});

test('a connected call is taken back only by the tab that was on it', () => {
  const connected = call('k1', 'connected');
  assert.equal(callToRejoin([connected], 'k1'), connected); // this tab reloaded
  assert.equal(callToRejoin([connected], ''), null); // another tab: its media lives elsewhere
  assert.equal(callToRejoin([connected], 'k2'), null);
  assert.equal(callToRejoin([call('k1', 'ringing')], 'k1'), null); // a ring rings again instead
});

test('nothing usable: nothing to take back', () => {
  assert.equal(callToRejoin(null, 'k1'), null);
  assert.equal(callToRejoin([null, 7, { call_id: 5, rejoin: true }, call('', 'connected', { rejoin: true })], ''), null);
});
