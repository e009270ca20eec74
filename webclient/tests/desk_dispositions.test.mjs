// The desk's dispositions (desk/dispositions.js): the welcome's [{code, label}] as codes in order and labels, and
// what a code the list does not have reads as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispositionLabel, readDispositions } from '../static/desk/dispositions.js';

test('the welcome list gives codes in order and their labels; junk entries are skipped', () => {
  const got = readDispositions([
    { code: 'sale', label: 'Sale made' }, 'resolved', null, { code: 'sale', label: 'Twice' }, { code: 'no_label' },
    { code: '', label: 'Empty' }, { code: 'follow-up', label: '  ' },
  ]);
  assert.deepEqual(got.codes, ['sale', 'no_label', 'follow-up']);
  assert.deepEqual(got.labels, { sale: 'Sale made', no_label: 'no label', 'follow-up': 'follow up' });
  assert.deepEqual(readDispositions(undefined), { codes: [], labels: {} });
});

test('a code off the list reads in words; one on it by its label', () => {
  const { labels } = readDispositions([{ code: 'sale', label: 'Sale made' }]);
  assert.equal(dispositionLabel(labels, 'sale'), 'Sale made');
  assert.equal(dispositionLabel(labels, 'agent_left'), 'agent left');
  assert.equal(dispositionLabel(null, 'customer_ended'), 'customer ended');
  assert.equal(dispositionLabel(labels, 'toString'), 'toString'); // not the object's own properties
});
