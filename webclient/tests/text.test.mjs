// node --test webclient/tests: lengths as the gateway counts them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { byteLength, callTimeText, clip, codePoints, isolate } from '../static/shared/text.js';

test('code points, not UTF-16 units', () => {
  assert.equal(codePoints('héllo'), 5);
  assert.equal(codePoints('👍🏽'), 2);
  assert.equal('👍🏽'.length, 4);
});

test('clip never cuts a surrogate pair', () => {
  assert.equal(clip('a😀b', 2), 'a😀');
  assert.equal(clip('short', 10), 'short');
  assert.equal(clip(null, 3), '');
});

test('bytes as UTF-8', () => {
  assert.equal(byteLength('é'), 2);
  assert.equal(byteLength('😀'), 4);
});

test('call durations', () => {
  assert.deepEqual([0, 999, 61000, 3599000, 3600000, 3725000].map(callTimeText),
    ['0:00', '0:00', '1:01', '59:59', '1:00:00', '1:02:05']);
  assert.equal(callTimeText(-5), '0:00');
});

test('isolate ends an override with the text it came in', () => {
  const line = `“${isolate('msg \u202e evil')}” by ${isolate('demo')}`;
  assert.equal(line, '“\u2068msg \u202e evil\u2069” by \u2068demo\u2069');
  assert.equal(isolate(7), '\u20687\u2069');
});
