// node --test webclient/tests: the notes of uploads that did not arrive, kept with the widget's state (widget/refused.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  REFUSED_MAX, REFUSED_PER_CONVERSATION, REFUSED_TEXT_MAX, keepRefused, mergeRefused, refusedNote,
} from '../static/widget/refused.js';

const note = (id, conv, ts, after = '1-0') => refusedNote(id, `${id}.png was not sent: no.`, conv, after, ts);

test('a note keeps what its line said, its conversation and the event before it', () => {
  assert.deepEqual(refusedNote('f-1', 'fake.png was not sent: the file is not a valid PNG image.', 'c1', '17-0', 5), {
    client_id: 'f-1', text: 'fake.png was not sent: the file is not a valid PNG image.', conversation_id: 'c1',
    after: '17-0', ts: 5,
  });
  assert.equal(refusedNote('f-2', 'x', null, null, 1).after, null);   // refused before any event
  assert.equal(refusedNote('f-3', '😀'.repeat(REFUSED_TEXT_MAX + 5), 'c', '1-0', 1).text, '😀'.repeat(REFUSED_TEXT_MAX));
});

test('stored notes: the valid ones, each once, oldest first', () => {
  const kept = keepRefused([note('f-b', 'c', 20), null, { text: 'no id' }, { client_id: 'f-x' }, note('f-a', 'c', 10),
    { ...note('f-b', 'c', 20), text: 'again' }]);
  assert.deepEqual(kept.map((n) => n.client_id), ['f-a', 'f-b']);
  assert.equal(kept[1].text, 'f-b.png was not sent: no.');
  assert.deepEqual(keepRefused('not a list'), []);
  assert.deepEqual(keepRefused(undefined), []);
});

test('bounded: the newest few of a conversation, and of all', () => {
  const many = Array.from({ length: REFUSED_PER_CONVERSATION + 4 }, (_, i) => note(`f-${i}`, 'c1', i));
  const kept = keepRefused(many);
  assert.equal(kept.length, REFUSED_PER_CONVERSATION);
  assert.equal(kept[0].client_id, 'f-4');
  assert.equal(kept.at(-1).client_id, `f-${REFUSED_PER_CONVERSATION + 3}`);
  const everywhere = Array.from({ length: REFUSED_MAX + 7 }, (_, i) => note(`f-${i}`, `c${i}`, i));
  const all = keepRefused(everywhere);
  assert.equal(all.length, REFUSED_MAX);
  assert.equal(all[0].client_id, 'f-7');
});

test("another tab's notes are merged in, ours first", () => {
  const ours = [note('f-1', 'c', 1), { ...note('f-2', 'c', 2), text: 'ours' }];
  const theirs = [{ ...note('f-2', 'c', 2), text: 'theirs' }, note('f-3', 'c', 3), 'junk'];
  const merged = mergeRefused(ours, theirs);
  assert.deepEqual(merged.map((n) => n.client_id), ['f-1', 'f-2', 'f-3']);
  assert.equal(merged[1].text, 'ours');
  assert.deepEqual(mergeRefused(ours, undefined).map((n) => n.client_id), ['f-1', 'f-2']);
});
