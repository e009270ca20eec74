// node --test webclient/tests: the IVR / bot trace collapsed into one line per session (desk/ivr_trace.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { traceSessions, traceSummary } from '../static/desk/ivr_trace.js';

let seq = 0;
const T0 = 1_700_000_000_000;
function ev(type, fields, atS) {
  seq += 1;
  return { id: `${T0 + atS * 1000}-${seq}`, type, ts: T0 + atS * 1000, ...fields };
}
const step = (kind, node, detail, atS, channel = 'voice') => ev('ivr', { channel, kind, node, detail, flow: 'default' }, atS);

test('a call through a menu and a confirmed account number is one line', () => {
  const events = [
    ev('opened', {}, 0),
    ev('call_started', { call_id: 'c1' }, 0),
    step('enter', 'hello', 'say', 0),
    step('prompt', 'hello', 'Welcome.', 0),
    step('enter', 'menu', 'menu', 2),
    step('prompt', 'menu', 'For billing press 1.', 2),
    step('input', 'menu', 'digits 9', 5),
    step('no_match', 'menu', 'no choice matches (attempt 1 of 3)', 5),
    step('input', 'menu', "speech 'billing' (0.91)", 9),
    step('choice', 'menu', '1 (Billing) -> account', 9),
    ev('context', { values: { intent: 'billing' } }, 9),
    step('enter', 'account', 'gather', 9),
    step('input', 'account', 'digits 4271#', 20),
    step('confirm', 'account', '4271?', 20),
    step('input', 'account', "speech 'yes' (0.80)", 30),
    step('confirm', 'account', '4271 confirmed', 30),
    step('set', 'account', 'account=4271', 30),
    step('enter', 'billing', 'queue', 30),
    step('queue', 'billing', 'billing', 42),
    ev('state', { state: 'queued' }, 42),
  ];
  const { sessions, of } = traceSessions(events);
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].id, events[2].id);
  assert.equal(sessions[0].steps.length, 16);
  assert.equal(of.get(events[18].id), events[2].id);
  assert.equal(of.has(events[10].id), false); // the context event stays in the timeline
  assert.equal(traceSummary(sessions[0]),
    'IVR: menu -> account, account 4271 confirmed, queued for billing, 1 retry, 0:42');
});

test('an unconfirmed gather shows its variable; a call that ends mid-IVR ends its session', () => {
  const events = [
    step('enter', 'account', 'gather', 0),
    step('set', 'account', 'account=55', 4),
    ev('call_ended', { reason: 'caller_hangup' }, 6),
    ev('call_started', {}, 60),
    step('enter', 'hello', 'say', 60),
  ];
  const { sessions } = traceSessions(events);
  assert.equal(sessions.length, 2);
  assert.equal(traceSummary(sessions[0]), 'IVR: account 55, 0:04');
  assert.equal(traceSummary(sessions[1]), 'IVR: 0:00, in progress');
});

test('the bot and the IVR are separate sessions; a hang-up ends one', () => {
  const events = [
    step('enter', 'menu', 'menu', 0, 'chat'),
    step('choice', 'menu', '2 (Support) -> support', 3, 'chat'),
    ev('message', { author: 'customer', text: 'support' }, 3),
    step('hangup', 'support', 'support_closed', 4, 'chat'),
    step('enter', 'menu', 'menu', 5, 'chat'),
  ];
  const { sessions } = traceSessions(events);
  assert.deepEqual(sessions.map((s) => [s.channel, s.steps.length, s.ended]), [['chat', 3, true], ['chat', 1, false]]);
  assert.equal(traceSummary(sessions[0]), 'Bot: menu -> support, hung up: support closed, 0:04');
});
