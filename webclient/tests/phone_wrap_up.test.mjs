// node --test webclient/tests: the after-call bar ends when the gateway says after-call work is over.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { wrapUpStep } from '../static/desk/phone/wrap_up.js';

test('after-call work the gateway began and then ended ends the bar', () => {
  let seen = false;
  const frames = [['on_call', false], ['wrap_up', false], ['wrap_up', false], ['', true], ['', false]];
  for (const [activity, over] of frames) {
    const step = wrapUpStep(seen, activity);
    assert.equal(step.over, over, activity);
    seen = step.seen;
  }
});

test('no after-call work configured (the gateway never says wrap_up): the bar stays until Done', () => {
  assert.deepEqual(wrapUpStep(false, ''), { seen: false, over: false });
  assert.deepEqual(wrapUpStep(false, 'on_call'), { seen: false, over: false });
});

test('a new call during after-call work is no end of it to show', () => {
  assert.deepEqual(wrapUpStep(true, 'ringing'), { seen: false, over: false });
  assert.deepEqual(wrapUpStep(true, 'on_call'), { seen: false, over: false });
});
