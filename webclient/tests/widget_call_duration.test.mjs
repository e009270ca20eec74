// node --test webclient/tests: the call bar's duration, the same as the conversation's "Call ended" line
// (widget/call_duration.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { callDuration } from '../static/widget/call_duration.js';
import { callTimeText } from '../static/shared/text.js';

test("once the gateway named the call's duration, the bar says it (the timeline's line does)", () => {
  // a phone: media connected 0.9 s after the gateway started the call; 4.6 s on the bar's clock, 5.5 s on the gateway's
  const c = { status: 'ended', connectedAt: 1900, endedAt: 6500 };
  assert.equal(callTimeText(callDuration(c, 9000)), '0:04');
  c.serverMs = 5500;
  assert.equal(callTimeText(callDuration(c, 9000)), '0:05');
  c.serverMs = 0;   // the line says "Call ended", no time: nor does the bar
  assert.equal(callDuration(c, 9000), null);
});

test('during the call (and before the gateway said), the time since the media connected', () => {
  assert.equal(callDuration({ status: 'connected', connectedAt: 1000, endedAt: 0 }, 62500), 61500);
  assert.equal(callDuration({ status: 'connected', connectedAt: 1000, endedAt: 0, serverMs: 5 }, 3000), 2000);
  assert.equal(callDuration({ status: 'ended', connectedAt: 1000, endedAt: 4000 }, 9000), 3000);
  assert.equal(callDuration({ status: 'ivr', connectedAt: 0 }, 9000), null);   // not connected yet: no timer
  assert.equal(callDuration({ status: 'ended', connectedAt: 0, endedAt: 5 }, 9000), null);
  assert.equal(callDuration(null, 9000), null);
});
