// node --test webclient/tests: what the ringing banner says about the caller (desk/phone/ring_path.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { plain } from '../static/desk/event_text.js';
import { customerLastMessage, ringPath } from '../static/desk/phone/ring_path.js';

let ts = 0;
const ev = (type, fields) => ({ id: `${++ts}-0`, ts, type, ...fields });
const say = (author, text) => ev('message', { author, text });
const texts = (steps) => steps.map(plain);

test("a chat customer's call shows what the customer last wrote, not the agent's reply", () => {
  const events = [
    ev('opened', {}),
    say('customer', 'My tent pole snapped, order 5555'),
    say('agent', 'Sure, press the phone button.'),
    ev('call_started', { call_id: 'c1' }),
  ];
  const summary = { last_text: 'Sure, press the phone button.' };
  assert.deepEqual(texts(ringPath(events, summary)), ['Customer\'s last message: “My tent pole snapped, order 5555”']);
  assert.equal(customerLastMessage(events), 'My tent pole snapped, order 5555');
  // the customer's words are a part of their own (drawn in a <bdi>)
  assert.deepEqual(ringPath(events, summary)[0][1], { user: 'My tent pole snapped, order 5555' });
});

test('the last of several customer messages, clipped', () => {
  const long = 'x'.repeat(100);
  const events = [say('customer', 'first'), say('bot', 'Welcome'), say('customer', long), say('agent', 'ok')];
  assert.deepEqual(texts(ringPath(events, { last_text: 'ok' })), [`Customer's last message: “${'x'.repeat(79)}…”`]);
});

test("the summary's last text only when the desk holds no messages", () => {
  assert.deepEqual(texts(ringPath([], { last_text: 'Hello?' })), ['Last message: “Hello?”']);
  // the agent talked alone (the customer wrote nothing): not "the last message" of the agent's own
  assert.deepEqual(texts(ringPath([say('agent', 'Hi there')], { last_text: 'Hi there' })), []);
  assert.deepEqual(texts(ringPath([], {})), []);
  assert.deepEqual(texts(ringPath([], null)), []);
});

test("the IVR path of the current call, then the customer's words", () => {
  const events = [
    say('customer', 'hello'),
    ev('call_started', {}),
    ev('ivr', { kind: 'input', node: 'menu', detail: 'digits 1' }),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '1 (Billing) -> billing' }),
    ev('ivr', { kind: 'input', node: 'account', detail: 'digits 4271#' }),
    ev('ivr', { kind: 'queue', node: 'billing', detail: 'billing' }),
  ];
  assert.deepEqual(texts(ringPath(events, { last_text: 'hello' })), [
    'Chose 1 (Billing) -> billing', 'account: digits 4271#', 'Queue: billing', 'Customer\'s last message: “hello”',
  ]);
});

test('a transferred call says who sent it and where, not the queue the IVR chose', () => {
  const events = [
    ev('call_started', {}),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '1 (Billing) -> billing' }),
    ev('ivr', { kind: 'queue', node: 'billing', detail: 'billing' }),
    ev('call_answered', { agent_id: 'ann' }),
    ev('call_transferred', { agent_id: 'ann', to_queue: 'support', to_agent_id: '' }),
  ];
  assert.deepEqual(texts(ringPath(events, {})), ['Chose 1 (Billing) -> billing', 'Transferred by ann to queue support']);
  const toBob = [...events.slice(0, 4), ev('call_transferred', { agent_id: 'ann', to_agent_id: 'bob', to_queue: '' })];
  assert.deepEqual(texts(ringPath(toBob, {})), ['Chose 1 (Billing) -> billing', 'Transferred by ann to bob']);
  const warm = [...events.slice(0, 4), ev('call_transferred', { agent_id: 'ann', to_agent_id: 'bob', warm: true })];
  assert.deepEqual(texts(ringPath(warm, {})), ['Chose 1 (Billing) -> billing', 'Handed over by ann']);
  // a second transfer replaces the first: where the call comes from now
  const twice = [...events, ev('call_transferred', { agent_id: 'bob', to_queue: 'sales', to_agent_id: '' })];
  assert.deepEqual(texts(ringPath(twice, {})), ['Chose 1 (Billing) -> billing', 'Transferred by bob to queue sales']);
});

test('a call handed to a colleague who missed it rings the next agent with its queue again', () => {
  const base = [
    ev('call_started', {}),
    ev('ivr', { kind: 'queue', node: 'billing', detail: 'billing' }),
    ev('call_answered', { agent_id: 'ann' }),
  ];
  for (const after of ['call_missed', 'call_agent_lost', 'call_answered']) {
    const toBob = [...base, ev('call_transferred', { agent_id: 'ann', to_agent_id: 'bob', to_queue: '' }), ev(after, {})];
    assert.deepEqual(texts(ringPath(toBob, {})), ['Queue: billing'], after);
  }
  // sent to a queue, it stays there whoever misses it
  const toQueue = [...base, ev('call_transferred', { agent_id: 'ann', to_queue: 'support' }), ev('call_missed', {})];
  assert.deepEqual(texts(ringPath(toQueue, {})), ['Transferred by ann to queue support']);
});

test('a call moved to another queue while it waited rings with the queue it is in now', () => {
  const events = [
    ev('call_started', {}),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '3 (Sales) -> sales_queue' }),
    ev('ivr', { kind: 'queue', node: 'sales_queue', detail: 'sales' }),
    ev('state', { state: 'queued', queue: 'vip', from_queue: 'sales', reason: 'max_wait_overflow' }),
  ];
  assert.deepEqual(texts(ringPath(events, {})), [
    'Chose 3 (Sales) -> sales_queue', 'Queue: vip (moved from sales: waited too long)',
  ]);
});

test('a spoken menu answer says what the caller said, not a key they never pressed', () => {
  const events = [
    ev('call_started', { call_id: 'c1' }),
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'support' (0.91)" }),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '2 (Support) -> support_q' }),
    ev('ivr', { kind: 'queue', node: 'support_q', detail: 'support' }),
  ];
  assert.deepEqual(texts(ringPath(events, {})), ['Said “support”: Support -> support_q', 'Queue: support']);
  // read back and confirmed: what they said to the menu, not their "yes"
  const confirmed = [
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'sales' (0.55, unsure)" }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales?' }),
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'yes' (0.97)" }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales confirmed' }),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '3 (Sales) -> sales' }),
  ];
  assert.deepEqual(texts(ringPath(confirmed, {})), ['Said “sales”: Sales -> sales']);
  // read back and rejected: the caller's next answer is what the choice means, not the rejected one
  const rejected = [
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'sales' (0.55, unsure)" }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales?' }),
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'no' (0.97)" }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales rejected' }),
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'support' (0.93)" }),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '2 (Support) -> support_q' }),
  ];
  assert.deepEqual(texts(ringPath(rejected, {})), ['Said “support”: Support -> support_q']);
  // rejected, then keys pressed: "Chose", not what was said before
  const thenKeys = [...rejected.slice(0, 4), ev('ivr', { kind: 'input', node: 'menu', detail: 'digits 2' }),
    rejected[5]];
  assert.deepEqual(texts(ringPath(thenKeys, {})), ['Chose 2 (Support) -> support_q']);
  // a read-back that ends without an input step of its own ("… rejected" at once): the next input is the answer
  const noReply = [
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'sales' (0.55, unsure)" }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales?' }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales rejected (no answer)' }),
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'billing' (0.9)" }),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '1 (Billing) -> b' }),
  ];
  assert.deepEqual(texts(ringPath(noReply, {})), ['Said “billing”: Billing -> b']);
  // no yes or no before the listen timed out: asked again, the next answer is the menu's
  const timedOut = [
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'sales' (0.55, unsure)" }),
    ev('ivr', { kind: 'confirm', node: 'menu', detail: 'Sales?' }),
    ev('ivr', { kind: 'no_input', node: 'menu', detail: 'no yes or no to Sales' }),
    ev('ivr', { kind: 'input', node: 'menu', detail: "speech 'support' (0.93)" }),
    ev('ivr', { kind: 'choice', node: 'menu', detail: '2 (Support) -> support_q' }),
  ];
  assert.deepEqual(texts(ringPath(timedOut, {})), ['Said “support”: Support -> support_q']);
  // typed to a chat bot's menu; keys stay "Chose"
  assert.deepEqual(texts(ringPath([ev('ivr', { kind: 'input', node: 'm', detail: "text 'billing'" }),
    ev('ivr', { kind: 'choice', node: 'm', detail: '1 (Billing) -> b' })], {})), ['Typed “billing”: Billing -> b']);
  assert.deepEqual(texts(ringPath([ev('ivr', { kind: 'input', node: 'm', detail: 'digits 1' }),
    ev('ivr', { kind: 'choice', node: 'm', detail: '1 (Billing) -> b' })], {})), ['Chose 1 (Billing) -> b']);
});
