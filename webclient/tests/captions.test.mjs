// node --test webclient/tests: call captions as the widget shows them (widget/caption_text.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { captionLine, captionsOn, keepLast } from '../static/widget/caption_text.js';

test('a prompt is shown as it is; what the IVR understood says so', () => {
  assert.deepEqual(captionLine('prompt', ' For billing press 1. '), { kind: 'prompt', text: 'For billing press 1.' });
  assert.deepEqual(captionLine('said', 'billing'), { kind: 'said', text: 'You said: billing' });
  assert.deepEqual(captionLine('keys', '4271#'), { kind: 'keys', text: 'You pressed: 4 2 7 1 #' });
});

test('an unknown kind or no text shows nothing', () => {
  assert.equal(captionLine('whisper', 'psst'), null);
  assert.equal(captionLine('prompt', '   '), null);
  assert.equal(captionLine('said', null), null);
});

test('the last two lines are kept, oldest first', () => {
  let lines = [];
  for (const t of ['a', 'b', 'c']) lines = keepLast(lines, { kind: 'prompt', text: t });
  assert.deepEqual(lines.map((l) => l.text), ['b', 'c']);
});

test('captions are on until the caller turns them off', () => {
  assert.equal(captionsOn(null), true);
  assert.equal(captionsOn('on'), true);
  assert.equal(captionsOn('off'), false);
});
