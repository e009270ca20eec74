// node --test webclient/tests: the keyboard while a call rings (desk/phone/ring_keys.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isAnswerKey, typingIn } from '../static/desk/phone/ring_keys.js';

test('the agent is typing in the composer, a text field or an editable element: the ring leaves the focus there', () => {
  for (const el of [{ tagName: 'TEXTAREA' }, { tagName: 'INPUT', type: 'text' }, { tagName: 'INPUT', type: '' },
    { tagName: 'INPUT', type: 'search' }, { tagName: 'SELECT' }, { tagName: 'DIV', isContentEditable: true }]) {
    assert.equal(typingIn(el), true, JSON.stringify(el));
  }
  for (const el of [null, { tagName: 'BODY' }, { tagName: 'BUTTON' }, { tagName: 'INPUT', type: 'checkbox' },
    { tagName: 'INPUT', type: 'radio' }, { tagName: 'A' }]) {
    assert.equal(typingIn(el), false, JSON.stringify(el));
  }
});

test('Alt+Shift+A answers, on any layout and on a Mac (where Option makes it Å); nothing else does', () => {
  assert.equal(isAnswerKey({ altKey: true, shiftKey: true, code: 'KeyA', key: 'A' }), true);
  assert.equal(isAnswerKey({ altKey: true, shiftKey: true, code: 'KeyA', key: 'Å' }), true);
  assert.equal(isAnswerKey({ altKey: true, shiftKey: true, code: 'KeyQ', key: 'A' }), true); // AZERTY
  assert.equal(isAnswerKey({ altKey: true, shiftKey: false, code: 'KeyA', key: 'a' }), false);
  assert.equal(isAnswerKey({ altKey: false, shiftKey: true, code: 'KeyA', key: 'A' }), false);
  assert.equal(isAnswerKey({ altKey: true, shiftKey: true, ctrlKey: true, code: 'KeyA', key: 'A' }), false);
  assert.equal(isAnswerKey({ altKey: true, shiftKey: true, metaKey: true, code: 'KeyA', key: 'A' }), false);
  assert.equal(isAnswerKey({ key: 'Enter', code: 'Enter' }), false);
  assert.equal(isAnswerKey(null), false);
});
