import test from 'node:test';
import assert from 'node:assert/strict';
import { typingField } from '../static/shared/focus.js';

const el = (tagName, f = {}) => ({ nodeType: 1, tagName, ...f });

test('a field the user types into: text inputs, textareas, contenteditable; not buttons, checkboxes or <body>', () => {
  assert.equal(typingField(el('TEXTAREA')), true);
  assert.equal(typingField(el('INPUT', { type: 'text' })), true);
  assert.equal(typingField(el('INPUT', { type: 'search' })), true);
  assert.equal(typingField(el('DIV', { isContentEditable: true })), true);
  assert.equal(typingField(el('INPUT', { type: 'checkbox' })), false);
  assert.equal(typingField(el('INPUT', { type: 'radio' })), false);
  assert.equal(typingField(el('BUTTON')), false);
  assert.equal(typingField(el('BODY')), false);
  assert.equal(typingField(null), false);
});
