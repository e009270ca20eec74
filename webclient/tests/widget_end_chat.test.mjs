// node --test webclient/tests: the widget's "End chat" rules (widget/end_chat_rules.js): when it is offered, which
// error frame answers it, what the "closed" line says and whether the rating question follows.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  answersEndChat, closedLineKey, closedWhileWaiting, endChatAllowed, ratingOffered,
} from '../static/widget/end_chat_rules.js';

const can = { conversationId: 'c1', state: 'queued', connected: true, callLive: false };

test('offered for a conversation that is not closed, while connected and no call is live', () => {
  for (const state of ['open', 'queued', 'assigned', null]) assert.equal(endChatAllowed({ ...can, state }), true, state);
  assert.equal(endChatAllowed({ ...can, state: 'closed' }), false);
  assert.equal(endChatAllowed({ ...can, conversationId: null }), false);   // nothing written yet
  assert.equal(endChatAllowed({ ...can, connected: false }), false);
  assert.equal(endChatAllowed({ ...can, callLive: true }), false);        // the gateway refuses it: hang up first
});

test('the error frames that answer an end_chat, and those that do not', () => {
  const ours = [
    { type: 'error', code: 'call_in_progress', message: 'a call of this conversation is in progress: hang up first' },
    { type: 'error', code: 'not_found', field: 'conversation_id', message: 'conversation c9 does not exist' },
    { type: 'error', code: 'forbidden', field: 'conversation_id', message: 'another customer' },
    { type: 'error', code: 'conflict', field: 'conversation_id', message: 'try again' },
    { type: 'error', code: 'store_unavailable', message: 'down' },
  ];
  for (const f of ours) assert.equal(answersEndChat(f), true, JSON.stringify(f));
  const others = [
    { type: 'error', code: 'store_unavailable', client_id: 'm-1', retry_after: 1 },   // a message, resent by itself
    { type: 'error', code: 'store_unavailable', call_id: 'call-1' },
    { type: 'error', code: 'rate_limited', client_id: 'm-2' },
    { type: 'error', code: 'bad_sdp', field: 'sdp' },
    { type: 'error', code: 'not_found', field: 'call_id' },
    { type: 'error', code: 'already_rated' },
    null, undefined, 'error',
  ];
  for (const f of others) assert.equal(answersEndChat(f), false, JSON.stringify(f));
});

test('the closed line: ended by the customer, ended while they were away, or closed', () => {
  const closed = (data) => ({ id: '9-0', type: 'closed', conversation_id: 'c1', ...data });
  assert.equal(closedLineKey(closed({ disposition: 'customer_ended', by_gateway: true, queued_wait_ms: 4200 })),
    'closedByYou');
  assert.equal(closedLineKey(closed({ disposition: 'customer_ended', voice: false })), 'closedByYou');
  assert.equal(closedLineKey(closed({ disposition: 'abandoned', by_gateway: true, queued_wait_ms: 181000 })),
    'closedAway');
  assert.equal(closedLineKey(closed({ disposition: 'abandoned', queued_wait_ms: 0, voice: false })), 'closedAway');
  // a caller who hung up in the queue, or a call abandoned as it rang: not "while you were away"
  assert.equal(closedLineKey(closed({ disposition: 'abandoned', queued_wait_ms: 9000, voice: true })), 'closedLine');
  assert.equal(closedLineKey(closed({ disposition: 'abandoned', by_gateway: true })), 'closedLine');
  for (const disposition of ['resolved', 'agent_left', '', undefined]) {
    assert.equal(closedLineKey(closed({ disposition })), 'closedLine', String(disposition));
  }
  assert.equal(closedLineKey(null), 'closedLine');
});

test('no rating question for a conversation that closed while it still waited: nobody served it', () => {
  assert.equal(closedWhileWaiting({ type: 'closed', disposition: 'customer_ended', queued_wait_ms: 0 }), true);
  assert.equal(ratingOffered({ type: 'closed', disposition: 'customer_ended', queued_wait_ms: 3100 }), false);
  assert.equal(ratingOffered({ type: 'closed', disposition: 'abandoned', queued_wait_ms: 180000 }), false);
  assert.equal(ratingOffered({ type: 'closed', disposition: 'customer_ended', by_gateway: true }), true);   // served
  assert.equal(ratingOffered({ type: 'closed', disposition: 'resolved' }), true);
});
