import test from 'node:test';
import assert from 'node:assert/strict';
import { leaveText } from '../static/desk/leave_confirm.js';

test('one open chat and several are worded for what happens to them', () => {
  assert.equal(leaveText(1), 'You have an open chat. Unless your desk is open in another tab or browser, it goes back '
    + 'to the queue for another agent, and the customer keeps their place.');
  assert.equal(leaveText(3), 'You have 3 open chats. Unless your desk is open in another tab or browser, they go back '
    + 'to the queue for another agent, and the customer keeps their place.');
});
