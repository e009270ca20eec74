// node --test webclient/tests: the welcome's calls marked on the desk's conversations (desk/welcome_calls.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { takeWelcomeCalls } from '../static/desk/welcome_calls.js';

test("a reloaded desk marks its conversation's call at once, held or not, and ends one that is gone", () => {
  const convs = [
    { id: 'c1' },                                                   // reloaded: nothing known yet
    { id: 'c2', call: { id: 'k2', status: 'connected', reason: '' } }, // ended while the socket was away
    { id: 'c3', call: { id: 'k3', status: 'ended', reason: 'hangup' } },
    { id: 'c4' },
    { id: 'c5' },                                                   // reloaded: its leg dropped, the caller holds
  ];
  takeWelcomeCalls(convs, [
    { call_id: 'k1', conversation_id: 'c1', status: 'connected', held: true },
    { call_id: 'k4', conversation_id: 'c4', status: 'ringing', held: false },
    { call_id: 'kx', conversation_id: 'elsewhere', status: 'connected' },
    { call_id: 'k5', conversation_id: 'c5', status: 'waiting', held: false, rejoin: true },
    null, { conversation_id: 7, status: 'connected' },
  ]);
  assert.deepEqual(convs.map((c) => c.call), [
    { id: 'k1', status: 'connected', reason: 'held' },
    { id: 'k2', status: 'ended', reason: '' },
    { id: 'k3', status: 'ended', reason: 'hangup' },
    { id: 'k4', status: 'ringing', reason: '' },
    { id: 'k5', status: 'connected', reason: 'agent_reconnecting' },
  ]);
});
