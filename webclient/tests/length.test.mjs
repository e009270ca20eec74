// node --test webclient/tests: a message's length, counted as the gateway counts it (shared/length.js: the widget and the desk).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_TEXT_CHARS } from '../static/shared/protocol.js';
import { lengthNote } from '../static/shared/length.js';

test('nothing to say far from the limit, a counter near it, the reason over it', () => {
  assert.equal(MAX_TEXT_CHARS, 4000);
  assert.deepEqual(lengthNote(''), { over: false, text: '' });
  assert.deepEqual(lengthNote('x'.repeat(3500)), { over: false, text: '' });
  assert.deepEqual(lengthNote('x'.repeat(3501)), { over: false, text: '3501 / 4000 characters' });
  assert.deepEqual(lengthNote('x'.repeat(4000)), { over: false, text: '4000 / 4000 characters' });
  assert.deepEqual(lengthNote('x'.repeat(4500)), {
    over: true,
    text: 'Your message is 4500 characters; the limit is 4000 — shorten it or send it in parts.',
  });
});

test('characters are code points, as the gateway counts them, not UTF-16 units', () => {
  const emoji = '😀'.repeat(4000);   // 8000 UTF-16 units, 4000 characters: the gateway takes it
  assert.equal(emoji.length, 8000);
  assert.deepEqual(lengthNote(emoji), { over: false, text: '4000 / 4000 characters' });
  assert.equal(lengthNote(emoji + '😀').over, true);
  assert.equal(lengthNote(emoji + '😀').text.startsWith('Your message is 4001 characters'), true);
});
