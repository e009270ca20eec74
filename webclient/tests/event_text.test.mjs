// node --test webclient/tests: the desk timeline's system lines in words (desk/event_text.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  authorLine, authorName, choicesText, line, metaLine, noteLabel, plain, supervisorMove, supervisorsText, systemText, user,
} from '../static/desk/event_text.js';
import { S } from '../static/desk/state.js';

const EVE = 'Eve \u202ereversed\u202c'; // a right-to-left override in a name (a user test)

test('a bot menu reads as what the bot offered, not "choices"', () => {
  const ev = { type: 'choices', listen_id: 'l1', choices: [{ key: '1', label: 'Billing' }, { key: '2', label: 'Call me back' }] };
  assert.equal(plain(systemText(ev)), 'Bot offered: Billing, Call me back');
  assert.deepEqual(choicesText(ev), ['Bot offered: ', { user: 'Billing' }, ', ', { user: 'Call me back' }]);
  // a choice with no label says its key; none at all still reads as words
  assert.equal(plain(choicesText({ choices: [{ key: 'yes' }, null, { label: '' }] })), 'Bot offered: yes');
  assert.equal(plain(choicesText({ type: 'choices' })), 'Bot offered choices');
});

test('names and typed text are parts of their own, so the desk draws them isolated', () => {
  S.agentNames = { eve: EVE };
  assert.deepEqual(systemText({ type: 'assigned', agent_id: 'eve', agent_name: EVE }), ['Assigned to ', { user: EVE }]);
  assert.deepEqual(systemText({ type: 'closed', agent_id: 'eve', disposition: 'resolved' }),
    ['Closed · ', { user: 'resolved' }, ' by ', { user: EVE }]);
  // the gateway closed it (the caller hung up while it rang for eve): not "by eve", who did nothing
  assert.deepEqual(systemText({ type: 'closed', agent_id: 'eve', disposition: 'abandoned', by_gateway: true }),
    ['Closed · ', { user: 'abandoned' }]);
  assert.deepEqual(systemText({ type: 'closed', agent_id: 'eve', disposition: 'abandoned' }), // a center's own code
    ['Closed · ', { user: 'abandoned' }, ' by ', { user: EVE }]);
  assert.deepEqual(metaLine(EVE, '5:27 PM'), [{ user: EVE }, ' · 5:27 PM']);
  assert.deepEqual(systemText({ type: 'call_missed', agent_id: 'eve', reason: 'no_answer' }),
    ['Call missed by ', { user: EVE }, ' · no answer']);
  assert.deepEqual(systemText({ type: 'call_missed', agent_id: 'eve', reason: 'agent_busy' }), // never rung
    ['Call not put through to ', { user: EVE }, ': on another call']);
  assert.deepEqual(systemText({ type: 'call_missed', agent_id: 'eve', reason: 'agent_away' }),
    ['Call not put through to ', { user: EVE }, ': away']);
  assert.deepEqual(systemText({ type: 'transcript', side: 'customer', text: 'שלום' }), ['Caller said: “', { user: 'שלום' }, '”']);
  assert.deepEqual(systemText({ type: 'opened', context: { 'context.page': '/\u202eevil' } }),
    ['Conversation started on ', { user: '/\u202eevil' }]);
  assert.deepEqual(systemText({ type: 'ivr', channel: 'chat', kind: 'prompt', node: 'menu', detail: 'Hi' }),
    ['Bot said: “', { user: 'Hi' }, '”']);
  assert.deepEqual(systemText({ type: 'rating', score: 4, comment: 'ok' }),
    ['Customer rated the conversation 4/5: “', { user: 'ok' }, '”']);
  // our own words stay plain text
  assert.deepEqual(systemText({ type: 'call_ended', reason: 'caller_hangup', duration_ms: 65000 }),
    ['Call ended · caller hung up · 1:05']);
  assert.deepEqual(systemText({ type: 'state', state: 'queued' }), ['Waiting in queue']);
  // moved to another queue while it waited: said (it read "Waiting in queue" again)
  assert.equal(plain(systemText({ type: 'state', state: 'queued', queue: 'vip', from_queue: 'sales',
    reason: 'max_wait_overflow' })), 'Moved from queue sales to vip · waited too long');
  assert.equal(plain(systemText({ type: 'state', state: 'queued', queue: 'billing', from_queue: 'default',
    reason: 'flow' })), 'Moved from queue default to billing');
  assert.deepEqual(systemText({ type: 'state', state: 'queued', queue: 'billing', from_queue: 'billing' }),
    ['Waiting in queue']);
  // handed to a queue by an agent: who, and where
  S.agentNames = { ann: 'Ann' };
  assert.equal(plain(systemText({ type: 'state', state: 'queued', reason: 'transferred', transfer: 'chat', agent_id: 'ann',
    queue: 'support' })), 'Transferred by Ann to queue support');
});

test('the lines read as before', () => {
  S.agentNames = { bob: 'Bob' };
  const cases = [
    [{ type: 'call_transferred', agent_id: 'bob', to_queue: 'billing' }, 'Call transferred by Bob to queue billing'],
    [{ type: 'call_consult', action: 'start', agent_id: 'bob', to_agent_id: 'al' }, 'Bob consults al'],
    [{ type: 'context', values: { a: 1, b: 2 } }, 'Context updated: a, b'],
    [{ type: 'ivr', channel: 'voice', kind: 'input', node: 'menu', detail: 'digits 1' }, 'IVR · menu: input digits 1'],
    [{ type: 'ivr', channel: 'voice', kind: 'enter', node: 'menu', detail: '' }, 'IVR · menu: enter'],
    [{ type: 'callback', action: 'attempt', attempt: 1, max_attempts: 3, agent_name: 'Bob' },
      'Callback attempt 1 of 3: ringing the customer for Bob'],
    [{ type: 'something_new' }, 'something_new'],
  ];
  for (const [ev, text] of cases) assert.equal(plain(systemText(ev)), text);
});

test('line joins our words and keeps user parts apart', () => {
  assert.deepEqual(line`a ${'b'} ${user('c')}${''}d`, ['a b ', { user: 'c' }, 'd']);
  assert.deepEqual(line`x${['y', user('z')]}`, ['xy', { user: 'z' }]);
});

test('a supervisor who barges in has joined the call, not "listening" (a user test)', () => {
  S.agentNames = { sara: 'Sara Sup' };
  const monitored = (mode) => plain(systemText({ type: 'call_monitored', agent_id: 'sara', mode }));
  assert.deepEqual([monitored('listen'), monitored('whisper'), monitored('barge')], [
    'Supervisor Sara Sup listening',
    'Supervisor Sara Sup coaching',
    'Supervisor Sara Sup joined the call: the caller hears them',
  ]);
  assert.deepEqual(systemText({ type: 'call_monitored', agent_id: 'sara', mode: 'barge' }),
    ['Supervisor ', { user: 'Sara Sup' }, ' joined the call: the caller hears them']);
});

test('a supervisor leaving is on the timeline too: "listening" does not read as if it never ended (a user test)', () => {
  S.agentNames = { sara: 'Sara Sup' };
  const ended = (mode, reason) => plain(systemText({ type: 'call_monitor_ended', agent_id: 'sara', mode, reason }));
  assert.deepEqual([
    ended('listen', 'supervisor_hangup'), ended('whisper', 'supervisor_hangup'), ended('barge', 'supervisor_hangup'),
    ended('listen', 'call_ended'), ended('whisper', 'call_transferred'),
  ], [
    'Supervisor Sara Sup stopped listening',
    'Supervisor Sara Sup stopped coaching',
    'Supervisor Sara Sup left the call',
    'Supervisor Sara Sup stopped listening · call ended',
    'Supervisor Sara Sup stopped coaching · call transferred',
  ]);
  assert.deepEqual(systemText({ type: 'call_monitor_ended', agent_id: 'sara', mode: 'barge', reason: 'supervisor_hangup' }),
    ['Supervisor ', { user: 'Sara Sup' }, ' left the call']);
});

test('the call bar names the supervisors the agent hears, never a silent listener', () => {
  assert.deepEqual(supervisorsText([]), []);
  assert.deepEqual(supervisorsText([{ agent_id: 'sara', name: 'Sara', mode: 'listen' }]), []);
  assert.deepEqual(supervisorsText([{ agent_id: 'sara', name: EVE, mode: 'whisper' }]),
    [{ user: EVE }, ' is whispering to you']);
  assert.equal(plain(supervisorsText([{ agent_id: 'sara', name: 'Sara', mode: 'barge' },
    { agent_id: 'tom', name: 'Tom', mode: 'whisper' }])), 'Sara joined the call · Tom is whispering to you');
  assert.equal(plain(supervisorsText(null)), '');
});

test('a supervisor in an agent\'s chat: joined, left, their messages and coaching notes say "(supervisor)"', () => {
  S.agentNames = { sara: 'Sara Lee', ben: 'Ben Green', alice: 'Alice Smith' };
  assert.deepEqual(systemText({ type: 'supervisor_joined', agent_id: 'sara', agent_name: EVE }),
    [{ user: EVE }, ' (supervisor) joined the chat']);
  assert.equal(plain(systemText({ type: 'supervisor_left', agent_id: 'sara', reason: 'left' })),
    'Sara Lee (supervisor) left the chat');
  assert.equal(plain(systemText({ type: 'supervisor_left', agent_id: 'sara', reason: 'page_closed' })),
    'Sara Lee (supervisor) left the chat · their page closed');
  assert.equal(plain(systemText({ type: 'supervisor_joined' })), 'A supervisor joined the chat');
  const said = { type: 'message', author: 'agent', agent_id: 'sara', agent_name: 'Sara Lee', supervisor: true, text: 'Hi' };
  assert.equal(authorName(said), 'Sara Lee (supervisor)');
  assert.deepEqual(authorLine(said, '5:27 PM'), [{ user: 'Sara Lee' }, ' (supervisor) · 5:27 PM']);
  assert.deepEqual(authorLine({ ...said, supervisor: undefined }, '5:27 PM'), [{ user: 'Sara Lee' }, ' · 5:27 PM']);
  assert.deepEqual(noteLabel({ type: 'note', agent_id: 'sara', agent_name: 'Sara Lee', supervisor: true }, '5:27 PM'),
    ['Coaching from ', { user: 'Sara Lee' }, ' · 5:27 PM']);
  assert.deepEqual(noteLabel({ type: 'note', agent_id: 'ben' }, '5:27 PM'), ['Internal note · ', { user: 'Ben Green' }, ' · 5:27 PM']);
});

test('a chat a supervisor moved names them: to an agent, to a queue, taken over', () => {
  S.agentNames = { sara: 'Sara Lee', ben: 'Ben Green', alice: 'Alice Smith' };
  const moved = { type: 'assigned', agent_id: 'ben', agent_name: 'Ben Green', transferred_from: 'alice',
    transferred_by: 'sara', transferred_by_name: 'Sara Lee' };
  assert.equal(plain(systemText(moved)), 'Sara Lee (supervisor) transferred this chat to Ben Green');
  assert.equal(plain(systemText({ ...moved, agent_id: 'sara', agent_name: 'Sara Lee' })), 'Sara Lee (supervisor) took over this chat');
  const queued = { type: 'state', state: 'queued', transfer: 'chat', agent_id: 'alice', queue: 'billing',
    transferred_by: 'sara', transferred_by_name: 'Sara Lee' };
  assert.equal(plain(systemText(queued)), 'Sara Lee (supervisor) transferred this chat to queue billing');
  // an agent's own transfer reads as before
  assert.equal(plain(systemText({ type: 'assigned', agent_id: 'ben', agent_name: 'Ben Green', transferred_from: 'alice' })),
    'Assigned to Ben Green');
  // the read-only notice of the agent it was taken from: the chat's latest transfer, when a supervisor made it
  const a = { id: '1-0', ...moved };
  const own = { id: '2-0', type: 'assigned', agent_id: 'alice', transferred_from: 'ben' };
  assert.equal(supervisorMove([own, a]), null); // (a later transfer by an agent: not the supervisor's)
  assert.equal(supervisorMove([{ id: '0-5', type: 'assigned', agent_id: 'alice' }, a]), a);
  assert.equal(supervisorMove([{ id: '3-0', ...queued }, a]).type, 'state');
  assert.equal(supervisorMove([]), null);
});
