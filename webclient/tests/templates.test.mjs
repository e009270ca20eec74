// node --test webclient/tests: canned responses' variables and search as the agent types.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fillTemplate, filterCanned, slashQuery } from '../static/desk/templates.js';

const values = { 'customer.name': 'Ana Lima', 'agent.name': 'Alice Smith', 'conversation.id': 'c_1', 'customer.id': '' };

test('variables are filled, spaces inside the braces or not', () => {
  assert.deepEqual(fillTemplate('Hi {{ customer.name }}, I am {{agent.name}} ({{ conversation.id }}).', values),
    { text: 'Hi Ana Lima, I am Alice Smith (c_1).', missing: [] });
});

test('a missing value takes the fallback, else is empty and named', () => {
  assert.deepEqual(fillTemplate('Hi {{ customer.id | there }}!', values), { text: 'Hi there!', missing: [] });
  assert.deepEqual(fillTemplate('Hi {{ customer.id }}!', values), { text: 'Hi !', missing: ['customer.id'] });
  assert.deepEqual(fillTemplate('Hi {{ agent.id }}', {}), { text: 'Hi ', missing: ['agent.id'] });
});

test('an unknown placeholder stays as it is and is named; text without one is unchanged', () => {
  assert.deepEqual(fillTemplate('{{ customer.email }} {{ nope }}', values),
    { text: '{{ customer.email }} {{ nope }}', missing: ['{{ customer.email }}', '{{ nope }}'] });
  assert.deepEqual(fillTemplate('no braces, $& and $1 kept', values), { text: 'no braces, $& and $1 kept', missing: [] });
  assert.deepEqual(fillTemplate(null, values), { text: '', missing: [] });
});

test('a value is inserted as text, never re-read as a template', () => {
  assert.deepEqual(fillTemplate('{{ customer.name }}', { 'customer.name': '{{ agent.name }} $&' }),
    { text: '{{ agent.name }} $&', missing: [] });
});

const canned = [
  { shortcut: 'refund', title: 'Refund policy', text: 'Refunds take 5 days', scope: 'shared' },
  { shortcut: 'hello', title: 'Greeting', text: 'Hi there', scope: 'shared' },
  { shortcut: 'shipping', title: 'Where is my parcel', text: 'Parcels ship in 2 days', scope: 'personal' },
  { shortcut: 'thx', title: 'Thanks', text: 'Thank you for the refund request', scope: 'personal' },
];

test('filtering ranks shortcut prefix, then shortcut, title and text matches', () => {
  assert.deepEqual(filterCanned(canned, 'ref').map((c) => c.shortcut), ['refund', 'thx']);
  assert.deepEqual(filterCanned(canned, 'PARCEL').map((c) => c.shortcut), ['shipping']);
  assert.deepEqual(filterCanned(canned, 'h').map((c) => c.shortcut), ['hello', 'shipping', 'thx']);
  assert.deepEqual(filterCanned(canned, 'days').map((c) => c.shortcut), ['refund', 'shipping']);
  assert.deepEqual(filterCanned(canned, '').map((c) => c.shortcut), ['hello', 'refund', 'shipping', 'thx']);
  assert.deepEqual(filterCanned(canned, 'zzz'), []);
  assert.equal(filterCanned(canned, '', 2).length, 2);
  assert.deepEqual(filterCanned([null, { title: 'no shortcut' }, ...canned], 'hello').map((c) => c.shortcut), ['hello']);
});

test('the slash opens the menu only for a shortcut alone in the composer', () => {
  assert.equal(slashQuery('/'), '');
  assert.equal(slashQuery('/ref'), 'ref');
  assert.equal(slashQuery('/re f'), null);
  assert.equal(slashQuery('hi /ref'), null);
  assert.equal(slashQuery(''), null);
});
