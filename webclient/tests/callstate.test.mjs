// node --test webclient/tests: what a (re)connect's welcome.calls means for the call a page holds (widget and desk).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { INTERRUPTED_REASONS, backInLine, callerHolds, reconcileCall, wasInterrupted } from '../static/shared/callstate.js';
import { CallEndReason } from '../static/shared/protocol.js';

const live = (over) => ({ id: 'call-1', known: true, media: 'connected', ...over });

test('no call, or one the gateway never heard of (offer not sent yet), is left alone', () => {
  assert.deepEqual(reconcileCall(null, []), { action: 'keep' });
  assert.deepEqual(reconcileCall(live({ known: false }), []), { action: 'keep' });
});

test('a listed call goes on with the status the gateway gives', () => {
  assert.deepEqual(reconcileCall(live(), [{ call_id: 'call-0', status: 'ivr' }, { call_id: 'call-1', status: 'waiting', conversation_id: 'c1' }]),
    { action: 'restore', status: 'waiting', held: false });
  assert.deepEqual(reconcileCall(live({ media: 'disconnected' }), [{ call_id: 'call-1', status: 'connected', held: true }]),
    { action: 'restore', status: 'connected', held: true });
  assert.deepEqual(reconcileCall(live(), [{ call_id: 'call-1', status: 'dancing' }]), { action: 'restore', status: '', held: false });
});

test('a call not listed ended while the socket was away: the node holding it was lost', () => {
  assert.deepEqual(reconcileCall(live(), []), { action: 'end', reason: 'node_lost' });
  assert.deepEqual(reconcileCall(live(), undefined), { action: 'end', reason: 'node_lost' });
  assert.deepEqual(reconcileCall(live(), [{ call_id: 'call-2', status: 'ivr' }, null, 'x']), { action: 'end', reason: 'node_lost' });
});

test('a listed call whose media is gone is over; an ended entry keeps its reason', () => {
  assert.deepEqual(reconcileCall(live({ media: 'failed' }), [{ call_id: 'call-1', status: 'connected' }]),
    { action: 'end', reason: 'node_lost' });
  assert.deepEqual(reconcileCall(live({ media: 'closed' }), [{ call_id: 'call-1', status: 'ivr' }]),
    { action: 'end', reason: 'node_lost' });
  assert.deepEqual(reconcileCall(live(), [{ call_id: 'call-1', status: 'ended', reason: 'caller_hangup' }]),
    { action: 'end', reason: 'caller_hangup' });
});

test('node loss and shutdown read as an interruption; a hang-up does not', () => {
  assert.deepEqual([...INTERRUPTED_REASONS].sort(), [CallEndReason.GATEWAY_SHUTDOWN, CallEndReason.NODE_LOST].sort());
  assert.equal(wasInterrupted('node_lost'), true);
  assert.equal(wasInterrupted('gateway_shutdown'), true);
  assert.equal(wasInterrupted('caller_hangup'), false);
  assert.equal(wasInterrupted(''), false);
});

test('a waiting status is back in line only for a ring missed or a call let go, not the IVR reaching its queue', () => {
  for (const reason of ['no_answer', 'declined', 'agent_disconnected', 'transferred', 'agent_lost']) {
    assert.equal(backInLine('waiting', reason), true, reason);
  }
  assert.equal(backInLine('waiting', 'billing'), false); // the queue node's own status, maybe after the assignment
  assert.equal(backInLine('waiting', 'your_agent'), false);
  assert.equal(backInLine('ringing', 'no_answer'), false);
});

test('the caller holds while on hold and while the agent consults a colleague, not otherwise', () => {
  assert.equal(callerHolds('connected', 'held'), true);
  assert.equal(callerHolds('connected', 'consult_ringing'), true); // music while the colleague's desk rings
  assert.equal(callerHolds('connected', 'consulting'), true); // and while the two agents talk
  assert.equal(callerHolds('connected', ''), false);
  assert.equal(callerHolds('connected', 'consult_cancelled'), false); // back with the agent
  assert.equal(callerHolds('connected', 'agent_reconnected'), false);
  assert.equal(callerHolds('waiting', 'held'), false);
});
