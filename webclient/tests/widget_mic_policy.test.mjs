// node --test webclient/tests: may the page use the microphone (its Permissions Policy; widget/mic_policy.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { micAllowedHere, refusedByPolicy } from '../static/widget/mic_policy.js';

const policy = (allowed) => ({ allowsFeature: (name) => (name === 'microphone' ? allowed : true) });

test('the Permissions Policy says, else the older Feature Policy, else allowed', () => {
  assert.equal(micAllowedHere({ permissionsPolicy: policy(false) }), false);
  assert.equal(micAllowedHere({ permissionsPolicy: policy(true), featurePolicy: policy(false) }), true);
  assert.equal(micAllowedHere({ featurePolicy: policy(false) }), false);   // Chromium today
  assert.equal(micAllowedHere({ featurePolicy: policy(true) }), true);
  assert.equal(micAllowedHere({}), true);                                  // neither API: only trying tells
  assert.equal(micAllowedHere(null), true);
  assert.equal(micAllowedHere({ permissionsPolicy: {} }), true);
  assert.equal(micAllowedHere({ featurePolicy: { allowsFeature: () => { throw new Error('no'); } } }), true);
});

test("a refusal is the page's policy only when the policy forbids the microphone", () => {
  const denied = { name: 'NotAllowedError', message: 'Permission denied' };
  assert.equal(refusedByPolicy(denied, { featurePolicy: policy(false) }), true);
  assert.equal(refusedByPolicy({ name: 'SecurityError' }, { permissionsPolicy: policy(false) }), true);
  assert.equal(refusedByPolicy(denied, { featurePolicy: policy(true) }), false);   // the customer said no
  assert.equal(refusedByPolicy(denied, {}), false);
  assert.equal(refusedByPolicy({ name: 'NotFoundError' }, { featurePolicy: policy(false) }), false);
  assert.equal(refusedByPolicy(null, { featurePolicy: policy(false) }), false);
});
