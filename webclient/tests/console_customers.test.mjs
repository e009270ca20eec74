// The admin console's Customers section, its pure parts: which id was typed, an export as rows and counts, an
// erasure's answer as the status line says it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  channelsOf, conversationRows, count, erasedText, exportCounts, exportName, lookupKind,
} from '../static/admin/console_customer_data.js';

test('a conversation id is told by its shape; any other id the gateway could take is a customer id', () => {
  assert.deepEqual(lookupKind(' u_0123456789abcdef '), { kind: 'customer', id: 'u_0123456789abcdef' });
  assert.deepEqual(lookupKind('v_fedcba9876543210'), { kind: 'customer', id: 'v_fedcba9876543210' });
  assert.deepEqual(lookupKind('c_0123456789abcdef'), { kind: 'conversation', id: 'c_0123456789abcdef' });
  assert.deepEqual(lookupKind('t_0123456789abcdef'), { kind: 'conversation', id: 't_0123456789abcdef' });
  // any other id the gateway takes is a customer's (older ones too): the gateway says whether it knows it
  assert.deepEqual(lookupKind('c_0123456789abcdeg'), { kind: 'customer', id: 'c_0123456789abcdeg' });
  assert.deepEqual(lookupKind('legacy-42'), { kind: 'customer', id: 'legacy-42' });
  for (const bad of ['', '  ', 'u_01 23', 'a/b', '../x', 'é', 'x'.repeat(65), null]) {
    assert.equal(lookupKind(bad).kind, null, String(bad));
  }
});

test('the export file is named after the customer, with nothing that could leave the name', () => {
  assert.equal(exportName('u_0123456789abcdef'), 'customer-u_0123456789abcdef.json');
  assert.equal(exportName('../x y'), 'customer-___x_y.json');
});

const EXPORT = {
  customer_id: 'u_0123456789abcdef',
  exported_at: 1765000000000,
  conversations: [
    {
      conversation: { id: 'c_2', state: 'open', queue: 'support', agent_id: null, agent_name: null, created_at: 2, updated_at: 3, calls: 1 },
      events: [{ type: 'opened' }, { type: 'call_started', channel: 'voice' }],
    },
    {
      conversation: { id: 'c_1', state: 'closed', queue: null, agent_id: 'alice', agent_name: 'Alice <b>', created_at: 1, updated_at: 2 },
      events: [{ type: 'opened' }, { type: 'message', author: 'customer', text: 'hi' }, { type: 'closed', disposition: 'resolved' }],
    },
  ],
  callbacks: [{ callback_id: 'cb_1' }],
  attachments: [{ attachment_id: 'a_1' }, { attachment_id: 'a_2' }],
  recordings: [],
};

test('an export becomes one row per conversation, newest first as sent, and its counts', () => {
  assert.deepEqual(conversationRows(EXPORT), [
    { id: 'c_2', created: 2, updated: 3, state: 'open', disposition: '', queue: 'support', agent: '', channels: ['voice'], events: 2 },
    { id: 'c_1', created: 1, updated: 2, state: 'closed', disposition: 'resolved', queue: '', agent: 'Alice <b>', channels: ['chat'], events: 3 },
  ]);
  assert.deepEqual(exportCounts(EXPORT), { conversations: 2, events: 5, callbacks: 1, attachments: 2, recordings: 0 });
  assert.deepEqual(exportCounts({}), { conversations: 0, events: 0, callbacks: 0, attachments: 0, recordings: 0 });
  assert.deepEqual(conversationRows({ conversations: [null, { events: [] }] }), []);
  assert.deepEqual(channelsOf({ calls: 0 }, [{ type: 'attachment' }, { type: 'call_started', channel: 'voice' }]), ['chat', 'voice']);
});

test('an erasure reads as one sentence, each count with its plural', () => {
  assert.equal(erasedText({ conversations: 3, closed: 1, callbacks: 0, attachments: 2, recordings: 1, event_log_entries: 1,
    webhook_payloads: 4 }),
  'Erased: 3 conversations (1 open, closed first), 0 callbacks, 2 attachments, 1 recording, 1 event log entry, '
    + '4 webhook payloads.');
  assert.equal(erasedText({}), 'Erased: 0 conversations, 0 callbacks, 0 attachments, 0 recordings, 0 event log entries, 0 webhook payloads.');
  assert.equal(count(1, 'entry', 'entries'), '1 entry');
});
