import test from 'node:test';
import assert from 'node:assert/strict';
import { leaveText } from '../static/desk/leave_confirm.js';

test('one open chat and several are worded for what happens to them', () => {
  assert.equal(leaveText(1), 'You have an open chat. It goes back to the queue for another agent, and the customer keeps their place.');
  assert.equal(leaveText(3), 'You have 3 open chats. They go back to the queue for another agent, and the customer keeps their place.');
});
