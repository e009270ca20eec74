// node --test webclient/tests: which refused messages the desk sends again, and when.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { retryDelayMs } from '../static/shared/retry.js';

test('a message refused for now is sent again after retry_after (at least a second)', () => {
  assert.equal(retryDelayMs({ code: 'rate_limited', client_id: 'a-1', retry_after: 1 }), 1000);
  assert.equal(retryDelayMs({ code: 'store_unavailable', client_id: 'a-1', retry_after: 3 }), 3000);
  assert.equal(retryDelayMs({ code: 'rate_limited', client_id: 'a-1' }), 1000);
  assert.equal(retryDelayMs({ code: 'rate_limited', client_id: 'a-1', retry_after: 0 }), 1000);
  assert.equal(retryDelayMs({ code: 'rate_limited', client_id: 'a-1', retry_after: 'junk' }), 1000);
});

test('a final refusal, or one that names no message, is not retried', () => {
  assert.equal(retryDelayMs({ code: 'bad_field', client_id: 'a-1' }), null);
  assert.equal(retryDelayMs({ code: 'timeline_full', client_id: 'a-1' }), null);
  assert.equal(retryDelayMs({ code: 'rate_limited' }), null);
  assert.equal(retryDelayMs({ code: 'rate_limited', client_id: '' }), null);
  assert.equal(retryDelayMs(null), null);
});
