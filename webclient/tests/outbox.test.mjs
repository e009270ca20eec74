// node --test webclient/tests: the widget's outbox and event cache merged with another tab's copy.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mergeEvents, mergeOutbox } from '../static/widget/outbox.js';

const msg = (client_id, ts) => ({ client_id, text: client_id, ts });

test("another tab's unsent messages are kept, oldest first, each once", () => {
  const ours = [msg('m-b', 20), msg('m-d', 40)];
  const theirs = [msg('m-a', 10), msg('m-b', 20), msg('m-c', 30), null, { text: 'no id' }];
  assert.deepEqual(mergeOutbox(ours, theirs, () => false).map((e) => e.client_id), ['m-a', 'm-b', 'm-c', 'm-d']);
  assert.deepEqual(ours.map((e) => e.client_id), ['m-b', 'm-d']);   // ours untouched
});

test('what this tab settled (acknowledged, failed, delivered, on screen) is not brought back', () => {
  const settled = new Set(['m-a']);
  const box = mergeOutbox([], [msg('m-a', 1), msg('m-c', 3)], (id) => settled.has(id));
  assert.deepEqual(box.map((e) => e.client_id), ['m-c']);
});

test('events from both tabs by id, ours first, ascending, the newest `limit`', () => {
  const ours = [{ id: '5-0', text: 'ours' }, { id: '7-0' }];
  const theirs = [{ id: '5-0', text: 'theirs' }, { id: '6-0' }, { id: '10-0' }, { id: 42 }, null];
  const merged = mergeEvents(ours, theirs, 3);
  assert.deepEqual(merged.map((e) => e.id), ['6-0', '7-0', '10-0']);
  assert.equal(mergeEvents(ours, theirs, 10)[0].text, 'ours');
});
