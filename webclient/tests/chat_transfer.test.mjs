import test from 'node:test';
import assert from 'node:assert/strict';
import { transferFrame, transferTargets } from '../static/desk/chat_transfer.js';

test('the agents offered are everyone but oneself, by name with their id', () => {
  assert.deepEqual(transferTargets({ alice: 'Alice Smith', bob: 'Bob Jones', carol: 'carol' }, 'alice'),
    [{ id: 'bob', label: 'Bob Jones (bob)' }, { id: 'carol', label: 'carol' }]);
  assert.deepEqual(transferTargets(null, 'alice'), []);
});

test('what was typed or picked becomes the frame', () => {
  assert.deepEqual(transferFrame('c1', 'agent', 'Bob Jones (bob)'), { type: 'transfer', conversation_id: 'c1', agent_id: 'bob' });
  assert.deepEqual(transferFrame('c1', 'agent', ' bob '), { type: 'transfer', conversation_id: 'c1', agent_id: 'bob' });
  assert.deepEqual(transferFrame('c1', 'queue', 'support'), { type: 'transfer', conversation_id: 'c1', queue: 'support' });
  assert.equal(transferFrame('c1', 'queue', '   '), null);
});

test('accounts the gateway says take no contacts (a supervisor only, a disabled agent) are not offered', () => {
  const names = { alice: 'Alice', bob: 'Bob', sue: 'Sue Supervisor' };
  assert.deepEqual(transferTargets(names, 'alice', ['alice', 'bob']).map((t) => t.id), ['bob']);
  assert.deepEqual(transferTargets(names, 'alice', null).map((t) => t.id), ['bob', 'sue']);
});
