// node --test webclient/tests: watching a chat from the wallboard, the rules (supervisor/wallboard_watch_rules.js):
// what the conversation is now, what the panel offers, its words.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  allowed, answers, chatFacts, chatList, customerName, errorText, headerFacts, inChatText, noteLabel,
} from '../static/supervisor/wallboard_watch_rules.js';

const ROW = { id: 'c1', customer_id: 'cus_0123456789', state: 'assigned', queue: 'billing', agent_id: 'alice',
  agent_name: 'Alice Smith', created_at: 1000, updated_at: 2000 };

function ev(n, type, extra = {}) {
  return { id: `${n}-0`, ts: n, type, ...extra };
}

test("the facts follow the timeline: assigned, a supervisor in and out, moved to a queue, taken, closed", () => {
  const events = [
    ev(10, 'opened'),
    ev(20, 'state', { state: 'queued', queue: 'billing' }),
    ev(30, 'assigned', { agent_id: 'alice', agent_name: 'Alice Smith' }),
  ];
  let f = chatFacts(ROW, events);
  assert.deepEqual([f.state, f.agentId, f.agentName, f.queue, f.since, f.closed], ['assigned', 'alice', 'Alice Smith', 'billing', 30, false]);
  events.push(ev(40, 'supervisor_joined', { agent_id: 'carol', agent_name: 'Carol White' }));
  events.push(ev(41, 'supervisor_joined', { agent_id: 'dan' })); // a name from the directory
  f = chatFacts(ROW, events, { dan: 'Dan Brown' });
  assert.deepEqual(Array.from(f.inChat), [['carol', 'Carol White'], ['dan', 'Dan Brown']]);
  events.push(ev(50, 'supervisor_left', { agent_id: 'dan', reason: 'left' }));
  events.push(ev(60, 'state', { state: 'queued', queue: 'support', transfer: 'chat', agent_id: 'alice', transferred_by: 'carol' }));
  f = chatFacts(ROW, events);
  assert.deepEqual([f.state, f.agentId, f.queue, f.since], ['queued', null, 'support', 60]);
  assert.deepEqual(Array.from(f.inChat.keys()), ['carol']); // a supervisor stays in a chat handed on
  events.push(ev(70, 'assigned', { agent_id: 'bob', agent_name: 'Bob Jones' }));
  events.push(ev(80, 'closed', { agent_id: 'bob', disposition: 'resolved' }));
  f = chatFacts(ROW, events);
  assert.deepEqual([f.state, f.closed, f.inChat.size], ['closed', true, 0]); // the close ends everyone's place
});

test('events in any order are read in id order; before any, the summary says it', () => {
  const f = chatFacts(ROW, [ev(30, 'assigned', { agent_id: 'bob' }), ev(20, 'assigned', { agent_id: 'alice' })]);
  assert.equal(f.agentId, 'bob');
  const bare = chatFacts({ ...ROW, state: 'queued', queued_at: 500, agent_id: null, agent_name: null }, []);
  assert.deepEqual([bare.state, bare.agentId, bare.since], ['queued', null, 500]);
  assert.equal(chatFacts(null, null).state, 'open');
});

test('what the panel offers: note anywhere open, join and move while an agent has it, take over with the agent role', () => {
  const assigned = chatFacts(ROW, []);
  assert.deepEqual(allowed(assigned, 'carol', ['agent', 'supervisor']),
    { note: true, join: true, leave: false, message: false, transfer: true, takeOver: true, mine: false, why: '' });
  assert.equal(allowed(assigned, 'sara', ['supervisor']).takeOver, false); // no agent role: nothing comes to her
  const joined = chatFacts(ROW, [ev(5, 'supervisor_joined', { agent_id: 'carol', agent_name: 'Carol' })]);
  const a = allowed(joined, 'carol', ['supervisor']);
  assert.deepEqual([a.join, a.leave, a.message], [false, true, true]);
  // handed to a queue while she is in it: she may leave, but writes to the customer only beside an agent
  const waiting = allowed(chatFacts(ROW, [ev(5, 'supervisor_joined', { agent_id: 'carol' }),
    ev(6, 'state', { state: 'queued', queue: 'support' })]), 'carol', ['supervisor']);
  assert.deepEqual([waiting.leave, waiting.message], [true, false]);
  const queued = chatFacts({ ...ROW, state: 'queued', agent_id: null }, []);
  const q = allowed(queued, 'carol', ['agent', 'supervisor']);
  assert.deepEqual([q.note, q.join, q.transfer, q.takeOver], [true, false, false, false]);
  assert.match(q.why, /^Waiting in billing: join or move it once an agent has it/);
  const mine = allowed(chatFacts({ ...ROW, agent_id: 'carol' }, []), 'carol', ['agent', 'supervisor']);
  assert.deepEqual([mine.mine, mine.join, mine.takeOver, mine.transfer], [true, false, false, true]);
  const closed = allowed(chatFacts({ ...ROW, state: 'closed' }, []), 'carol', ['supervisor']);
  assert.deepEqual([closed.note, closed.join, closed.leave, closed.message, closed.transfer, closed.takeOver],
    [false, false, false, false, false, false]);
  assert.match(closed.why, /closed/);
  assert.equal(allowed(null, 'carol', []).note, false);
});

test("the panel's words: whom the note reaches, who is in the chat, the header's facts", () => {
  const f = chatFacts(ROW, []);
  assert.equal(noteLabel(f, 'carol'), 'Note to Alice Smith — the customer does not see it');
  assert.equal(noteLabel(chatFacts({ ...ROW, state: 'queued' }, []), 'carol'),
    'Note for whoever takes this chat — the customer does not see it');
  assert.equal(noteLabel(chatFacts({ ...ROW, agent_id: 'carol' }, []), 'carol'), 'Note — the customer does not see it');
  assert.equal(inChatText(f, 'carol'), '');
  const both = chatFacts(ROW, [ev(5, 'supervisor_joined', { agent_id: 'carol', agent_name: 'Carol' }),
    ev(6, 'supervisor_joined', { agent_id: 'dan', agent_name: 'Dan' })]);
  assert.equal(inChatText(both, 'carol'),
    'You are in the chat: the customer and Alice Smith see what you write. Dan (supervisor) is in the chat too.');
  assert.equal(inChatText(both, 'eve'), 'Carol (supervisor), Dan (supervisor) are in the chat.');
  assert.deepEqual(headerFacts(chatFacts(ROW, [ev(1000, 'assigned', { agent_id: 'alice', agent_name: 'Alice Smith' })]), 193000),
    [['Queue', 'billing'], ['Agent', 'Alice Smith'], ['State', 'With an agent'], ['With them for', '3:12']]);
  assert.deepEqual(headerFacts(chatFacts({ ...ROW, state: 'closed' }, []), 5000).map(([k]) => k), ['Queue', 'Agent', 'State']);
});

test("the customer's name: the one the site vouched for, else a short id", () => {
  assert.equal(customerName(ROW), 'Customer cus_012345');
  assert.equal(customerName({ ...ROW, context: { 'verified.name': ' Jane Doe ' } }), 'Jane Doe');
  assert.equal(customerName({ id: 'c9', customer_name: 'Ann' }), 'Ann');
});

test('the lists an agent or a queue opens ask the conversations search for the live sets', () => {
  assert.deepEqual(chatList('agent', 'alice', 'Alice Smith'), { params: { agent: 'alice', state: 'assigned', limit: 50 },
    title: 'Alice Smith’s chats', empty: 'Alice Smith has no chat now.' });
  assert.deepEqual(chatList('queue', 'billing').params, { queue: 'billing', state: 'queued', limit: 50 });
});

test("an action is answered by the supervisor's own event: joined, left, moved", () => {
  assert.equal(answers({ kind: 'join' }, ev(1, 'supervisor_joined', { agent_id: 'carol' }), 'carol'), true);
  assert.equal(answers({ kind: 'join' }, ev(1, 'supervisor_joined', { agent_id: 'dan' }), 'carol'), false);
  assert.equal(answers({ kind: 'leave' }, ev(1, 'supervisor_left', { agent_id: 'carol' }), 'carol'), true);
  assert.equal(answers({ kind: 'transfer' }, ev(1, 'assigned', { agent_id: 'bob', transferred_by: 'carol' }), 'carol'), true);
  assert.equal(answers({ kind: 'transfer' }, ev(1, 'state', { state: 'queued', transferred_by: 'carol' }), 'carol'), true);
  assert.equal(answers({ kind: 'transfer' }, ev(1, 'assigned', { agent_id: 'bob' }), 'carol'), false); // not theirs
  assert.equal(answers(null, ev(1, 'supervisor_joined', { agent_id: 'carol' }), 'carol'), false);
});

test("errors read as the gateway's message, a few codes in words of ours", () => {
  assert.equal(errorText({ code: 'transfer_refused', message: 'bob is away' }), 'bob is away');
  assert.equal(errorText({ code: 'conflict', message: 'you watch 10 chats already: stop watching one first' }),
    'you watch 10 chats already: stop watching one first');
  assert.equal(errorText({ code: 'store_unavailable' }), 'The gateway could not store it just now. Try again in a moment.');
  assert.equal(errorText({ code: 'bad_field' }), 'Refused (bad field).');
});

test('a supervisor who took the chat over and stayed in it is told the customer sees what they write', () => {
  const f = chatFacts({ ...ROW, agent_id: 'carol', agent_name: 'Carol' }, [ev(5, 'supervisor_joined', { agent_id: 'carol' })]);
  assert.equal(inChatText(f, 'carol'), 'You are in the chat: the customer sees what you write.');
});
