// node --test webclient/tests: which call_agent_lost events end the desk's call (desk/phone/losses.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { agentLosses } from '../static/desk/phone/losses.js';

const events = [
  { id: '1-0', type: 'call_started', call_id: 'k1' },
  { id: '2-0', type: 'call_agent_lost', call_id: 'k1', agent_id: 'demo' },
  { id: '3-0', type: 'call_agent_lost', call_id: 'k1', agent_id: 'bob' },
  { id: '4-0', type: 'call_agent_lost', call_id: 'k2', agent_id: 'demo' },
  { id: '5-0', type: 'call_agent_lost', call_id: 'k1' },
];

test('only our own losses of this call, and those that name no agent', () => {
  assert.deepEqual([...agentLosses(events, 'k1', 'demo')], ['2-0', '5-0']);
  assert.deepEqual([...agentLosses(events, 'k1', 'bob')], ['3-0', '5-0']);
  assert.deepEqual([...agentLosses(events, 'k3', 'demo')], []);
  assert.deepEqual([...agentLosses(null, 'k1', 'demo')], []);
});

test('a loss from before the agent answered again is not a new one', () => {
  const before = agentLosses(events.slice(0, 2), 'k1', 'demo');
  const now = agentLosses([...events.slice(0, 2), { id: '9-0', type: 'call_started', call_id: 'k1' }], 'k1', 'demo');
  assert.equal([...now].some((id) => !before.has(id)), false);
  const later = agentLosses([...events, { id: '10-0', type: 'call_agent_lost', call_id: 'k1', agent_id: 'demo' }], 'k1', 'demo');
  assert.equal([...later].some((id) => !before.has(id)), true);
});
