// node --test webclient/tests: whether a call_agent_lost event ends the desk's call (desk/phone/losses.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { lossIds, lostSinceAnswered } from '../static/desk/phone/losses.js';

const answered = (id, agent = 'demo', call = 'k1') => ({ id, type: 'call_answered', call_id: call, agent_id: agent });
const lost = (id, agent = 'demo', call = 'k1') => ({ id, type: 'call_agent_lost', call_id: call, agent_id: agent });

test('a loss after our latest answer of the call ends it; one from before does not', () => {
  assert.equal(lostSinceAnswered([answered('1-0'), lost('2-0')], 'k1', 'demo'), true);
  // answered again after the first loss: the old loss is history, whichever order the events came in
  assert.equal(lostSinceAnswered([answered('1-0'), lost('2-0'), answered('3-0')], 'k1', 'demo'), false);
  assert.equal(lostSinceAnswered([answered('3-0'), answered('1-0'), lost('2-0')], 'k1', 'demo'), false);
  assert.equal(lostSinceAnswered([answered('1-0'), lost('2-0'), answered('3-0'), lost('4-0')], 'k1', 'demo'), true);
  // stream ids compare as numbers, not text ("10-0" after "9-0")
  assert.equal(lostSinceAnswered([answered('9-0'), lost('10-0')], 'k1', 'demo'), true);
});

test('only our own losses of this call count, and those that name no agent', () => {
  assert.equal(lostSinceAnswered([answered('1-0'), lost('2-0', 'bob')], 'k1', 'demo'), false);
  assert.equal(lostSinceAnswered([answered('1-0'), lost('2-0', 'demo', 'k2')], 'k1', 'demo'), false);
  assert.equal(lostSinceAnswered([answered('1-0'), { id: '2-0', type: 'call_agent_lost', call_id: 'k1' }], 'k1', 'demo'), true);
  assert.equal(lostSinceAnswered([answered('5-0', 'bob'), lost('6-0')], 'k1', 'demo'), false); // not answered by us
  assert.equal(lostSinceAnswered(null, 'k1', 'demo'), false);
  assert.deepEqual([...lossIds([lost('2-0'), lost('3-0', 'bob'), lost('4-0', 'demo', 'k2')], 'k1', 'demo')], ['2-0']);
});

test('a loss the desk had seen when the agent accepted never counts (its new answer may not be recorded yet)', () => {
  const events = [answered('1-0'), lost('2-0')];
  assert.equal(lostSinceAnswered(events, 'k1', 'demo', new Set(['2-0'])), false);
  assert.equal(lostSinceAnswered([...events, answered('3-0'), lost('4-0')], 'k1', 'demo', new Set(['2-0'])), true);
});
