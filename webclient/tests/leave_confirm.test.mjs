import test from 'node:test';
import assert from 'node:assert/strict';
import { leaveText } from '../static/desk/leave_confirm.js';

test('one open chat and several are worded for what happens to them', () => {
  assert.equal(leaveText(1), 'You have an open chat. Unless your desk is open in another tab or browser, it goes back '
    + 'to the queue for another agent, and the customer keeps their place.');
  assert.equal(leaveText(3), 'You have 3 open chats. Unless your desk is open in another tab or browser, they go back '
    + 'to the queue for another agent, and the customer keeps their place.');
});

test('a call in progress is named first: logging out hangs it up; the other chats go back to the queue', () => {
  assert.equal(leaveText(1, true), 'You are on a call: logging out hangs it up and closes its conversation.');
  assert.equal(leaveText(3, true), 'You are on a call: logging out hangs it up and closes its conversation. '
    + 'You have 2 other open chats. Unless your desk is open in another tab or browser, they go back to the queue '
    + 'for another agent, and the customer keeps their place.');
  assert.equal(leaveText(2, true), 'You are on a call: logging out hangs it up and closes its conversation. '
    + 'You have another open chat. Unless your desk is open in another tab or browser, it goes back to the queue '
    + 'for another agent, and the customer keeps their place.');
});

test('finished calls nobody wrote in are said to be closed, not sent back to the queue', () => {
  assert.equal(leaveText(1, false, 1), 'The conversation of your finished call is closed for you (nobody wrote in '
    + 'it: nobody waits for an answer).');
  assert.equal(leaveText(3, false, 2), 'You have an open chat. Unless your desk is open in another tab or browser, it '
    + 'goes back to the queue for another agent, and the customer keeps their place. The conversations of your 2 '
    + 'finished calls are closed for you (nobody wrote in them: nobody waits for an answer).');
});
