// node --test webclient/tests: when the desk alerts its agent (desk/notify_rules.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { alertFor, notificationText, parseNotifySettings } from '../static/desk/notify_rules.js';

const on = { notify: true, sound: true };

test('notifications only in the background, with consent and permission', () => {
  assert.deepEqual(alertFor('message', { hidden: true, settings: on, permission: 'granted' }), { notify: true, sound: true });
  assert.deepEqual(alertFor('message', { hidden: false, settings: on, permission: 'granted' }), { notify: false, sound: false });
  assert.deepEqual(alertFor('message', { hidden: true, settings: on, permission: 'denied' }), { notify: false, sound: true });
  assert.deepEqual(alertFor('message', { hidden: true, settings: { notify: false, sound: false }, permission: 'granted' }),
    { notify: false, sound: false });
});

test('a new conversation always sounds (unless the sound is off)', () => {
  assert.deepEqual(alertFor('assigned', { hidden: false, settings: on, permission: 'granted' }), { notify: false, sound: true });
  assert.deepEqual(alertFor('assigned', { hidden: true, settings: { notify: true, sound: false }, permission: 'granted' }),
    { notify: true, sound: false });
});

test('stored settings: defaults for anything unreadable', () => {
  assert.deepEqual(parseNotifySettings(null), { notify: false, sound: true });
  assert.deepEqual(parseNotifySettings('{"notify":true}'), { notify: true, sound: true });
  assert.deepEqual(parseNotifySettings('{"notify":"yes","sound":false}'), { notify: false, sound: false });
  assert.deepEqual(parseNotifySettings('not json'), { notify: false, sound: true });
});

test('the words of a notification', () => {
  assert.deepEqual(notificationText('message', 'Ann', '  where is\nmy order?  '),
    { title: 'New message from Ann', body: 'where is my order?' });
  assert.deepEqual(notificationText('assigned', 'Customer u_1', ''), { title: 'New conversation: Customer u_1', body: 'Assigned to you' });
  assert.equal(notificationText('message', 'Ann', 'x'.repeat(300)).body.length, 140);
});
