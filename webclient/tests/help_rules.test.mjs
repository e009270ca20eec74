// node --test webclient/tests: asking a supervisor for help (desk/help_rules.js): whether a request is open, read off
// the timeline; the frames; what an event means to the agent who asked; the timeline's words (desk/event_text.js);
// the wallboard's rows and what it says of new ones (supervisor/wallboard_format.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { askFrame, endFrame, helpNews, helpTextProblem, openHelp } from '../static/desk/help_rules.js';
import { plain, systemText } from '../static/desk/event_text.js';
import { S } from '../static/desk/state.js';
import { helpArrivals, helpRows } from '../static/supervisor/wallboard_format.js';

function ev(n, type, extra = {}) {
  return { id: `${n}-0`, ts: n, type, ...extra };
}

const ASKED = (n, who = 'alice', text = 'angry about a refund') =>
  ev(n, 'help_requested', { agent_id: who, agent_name: who === 'alice' ? 'Alice Smith' : 'Bob Jones', text });
const ENDED = (n, reason, by = 'carol', who = 'alice') =>
  ev(n, 'help_ended', { agent_id: who, by_id: by, by_name: by === 'carol' ? 'Carol White' : by, reason });

test('a request is open from its help_requested until its help_ended, the last one counting', () => {
  const events = [ev(1, 'opened'), ev(2, 'assigned', { agent_id: 'alice' }), ev(3, 'message', { author: 'customer' })];
  assert.equal(openHelp(events, 'alice'), null);
  events.push(ASKED(4, 'alice', '  angry about a refund  '));
  assert.deepEqual(openHelp(events, 'alice'),
    { eventId: '4-0', agentId: 'alice', agentName: 'Alice Smith', text: 'angry about a refund', ts: 4 });
  events.push(ev(5, 'message', { author: 'agent' }), ev(6, 'note', { supervisor: true }));
  assert.equal(openHelp(events, 'alice').eventId, '4-0'); // messages and coaching change nothing
  events.push(ENDED(7, 'answered'));
  assert.equal(openHelp(events, 'alice'), null);
  events.push(ASKED(8, 'alice', ''));
  assert.deepEqual(openHelp(events, 'alice'), { eventId: '8-0', agentId: 'alice', agentName: 'Alice Smith', text: '', ts: 8 });
  events.push(ENDED(9, 'cancelled', 'alice'));
  assert.equal(openHelp(events, 'alice'), null);
});

test('the order of the events is their ids, not the order they came in (a Map of them, a history after a live one)', () => {
  const byId = new Map([['12-0', ENDED(12, 'answered')], ['10-0', ASKED(10)], ['15-0', ASKED(15, 'alice', 'again')]]);
  assert.equal(openHelp(byId.values(), 'alice').text, 'again');
  assert.equal(openHelp([ENDED(12, 'answered'), ASKED(10)], 'alice'), null);
  assert.equal(openHelp(null), null);
  assert.equal(openHelp([null, { type: 'help_requested' }, 'junk']), null); // no id: not an event
});

test('a chat that leaves its agent takes the request along (the gateway drops it with no event of its own)', () => {
  for (const leaving of [ev(5, 'closed', { disposition: 'resolved' }), ev(5, 'assigned', { agent_id: 'bob' }),
    ev(5, 'state', { state: 'queued', queue: 'billing', transfer: 'chat' }), ev(5, 'state', { state: 'closed' })]) {
    assert.equal(openHelp([ASKED(4), leaving], 'alice'), null, leaving.type);
  }
  // ... and back to alice later: still none until she asks again
  assert.equal(openHelp([ASKED(4), ev(5, 'assigned', { agent_id: 'bob' }), ev(6, 'assigned', { agent_id: 'alice' })],
    'alice'), null);
});

test("the desk asks about the agent's own request; the watch panel about anyone's", () => {
  const events = [ASKED(4, 'bob', 'stuck')];
  assert.equal(openHelp(events, 'alice'), null);
  assert.deepEqual(openHelp(events), { eventId: '4-0', agentId: 'bob', agentName: 'Bob Jones', text: 'stuck', ts: 4 });
  // no name in the event: the id stands for it
  assert.equal(openHelp([ev(4, 'help_requested', { agent_id: 'dan' })]).agentName, 'dan');
});

test('the frames: ask with the words trimmed, end with none', () => {
  assert.deepEqual(askFrame('c1', '  angry about a refund '),
    { type: 'help', conversation_id: 'c1', active: true, text: 'angry about a refund' });
  assert.deepEqual(askFrame('c1'), { type: 'help', conversation_id: 'c1', active: true, text: '' });
  assert.deepEqual(endFrame('c1'), { type: 'help', conversation_id: 'c1', active: false });
});

test('at most 200 characters as the gateway counts them (code points, after trimming)', () => {
  assert.equal(helpTextProblem(''), '');
  assert.equal(helpTextProblem(`  ${'x'.repeat(200)}  `), '');
  assert.equal(helpTextProblem('x'.repeat(201)), 'At most 200 characters (201 now).');
  assert.equal(helpTextProblem('😀'.repeat(200)), ''); // 400 UTF-16 units, 200 characters
});

test("what an event means to the agent who asked: open, answered by whom, cancelled; nothing of anyone else's", () => {
  assert.deepEqual(helpNews(ASKED(4), 'alice'), { kind: 'asked' });
  assert.deepEqual(helpNews(ENDED(5, 'answered'), 'alice'), { kind: 'answered', by: 'Carol White' });
  assert.deepEqual(helpNews(ev(5, 'help_ended', { agent_id: 'alice', by_id: 'dan', reason: 'answered' }), 'alice'),
    { kind: 'answered', by: 'dan' });
  assert.deepEqual(helpNews(ENDED(5, 'cancelled', 'alice'), 'alice'), { kind: 'cancelled' });
  assert.equal(helpNews(ASKED(4, 'bob'), 'alice'), null);
  assert.equal(helpNews(ev(5, 'message', { agent_id: 'alice' }), 'alice'), null);
  assert.equal(helpNews(ASKED(4), ''), null);
});

test('the timeline says it in words, "You" to the agent who asked and to the supervisor who answered', () => {
  S.agentNames = { alice: 'Alice Smith', carol: 'Carol White' };
  S.agent = { id: 'alice', name: 'Alice Smith' };
  assert.deepEqual(systemText(ASKED(4)), ['You asked for help: ', { user: 'angry about a refund' }]);
  assert.equal(plain(systemText(ASKED(4, 'alice', ''))), 'You asked for help');
  assert.equal(plain(systemText(ENDED(5, 'answered'))), 'Carol White answered your help request');
  assert.deepEqual(systemText(ENDED(5, 'answered')), [{ user: 'Carol White' }, ' answered your help request']);
  assert.equal(plain(systemText(ENDED(5, 'cancelled', 'alice'))), 'Help request cancelled');
  // the same events on carol's screen (the wallboard's watch panel) and a colleague's
  S.agent = { id: 'carol', name: 'Carol White' };
  assert.deepEqual(systemText(ASKED(4)), [{ user: 'Alice Smith' }, ' asked for help: ', { user: 'angry about a refund' }]);
  assert.deepEqual(systemText(ENDED(5, 'answered')), ['You answered ', { user: 'Alice Smith' }, '’s help request']);
  S.agent = { id: 'bob', name: 'Bob Jones' };
  assert.equal(plain(systemText(ENDED(5, 'answered'))), 'Carol White answered Alice Smith’s help request');
  S.agent = null;
});

test("the wallboard's rows: what the frame has, usable; none from a gateway that sends none", () => {
  assert.deepEqual(helpRows({}), []);
  assert.deepEqual(helpRows({ help: [
    { conversation_id: 'c1', agent_id: 'alice', agent_name: 'Alice Smith', queue: 'billing', customer_id: 'u_1',
      since: 1000, text: ' angry about a refund ' },
    { conversation_id: 'c2', agent_id: 'bob', queue: '', since: null },
    { agent_id: 'nobody' }, null,
  ] }), [
    { conversation_id: 'c1', agent_id: 'alice', agent_name: 'Alice Smith', queue: 'billing', customer_id: 'u_1',
      since: 1000, text: 'angry about a refund' },
    { conversation_id: 'c2', agent_id: 'bob', agent_name: 'bob', queue: '', customer_id: '', since: null, text: '' },
  ]);
});

test('the wallboard says new requests once: who and why, or how many; the first frame says who waits', () => {
  const I = (s) => `\u2068${s}\u2069`;
  const alice = { conversation_id: 'c1', agent_name: 'Alice Smith', text: 'angry about a refund' };
  const bob = { conversation_id: 'c2', agent_name: 'Bob Jones', text: '' };
  assert.equal(helpArrivals(null, []), '');
  assert.equal(helpArrivals(null, [alice]), `${I('Alice Smith')} is waiting for help: ${I('angry about a refund')}`);
  assert.equal(helpArrivals(null, [alice, bob]), '2 agents are waiting for help');
  assert.equal(helpArrivals(new Set(), [alice]), `${I('Alice Smith')} asked for help: ${I('angry about a refund')}`);
  assert.equal(helpArrivals(new Set(['c1']), [alice, bob]), `${I('Bob Jones')} asked for help`);
  assert.equal(helpArrivals(new Set(['c1', 'c2']), [alice]), ''); // one went: nothing new to say
  assert.equal(helpArrivals(new Set(), [alice, bob]), '2 agents asked for help');
});
