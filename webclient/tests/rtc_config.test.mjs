// rtcConfig: the script tag's ICE servers, then the welcome's TURN server; relay-only on request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rtcConfig, setWelcomeIce } from '../static/shared/rtc.js';

function tag(attrs) {
  return { getAttribute: (name) => (name in attrs ? attrs[name] : null) };
}

test('without a welcome TURN server: the tag only, no policy', () => {
  setWelcomeIce(undefined);
  assert.deepEqual(rtcConfig(null), { iceServers: [] });
  assert.deepEqual(rtcConfig(tag({ 'data-ice-servers': '[{"urls": "stun:s:3478"}]' })), { iceServers: [{ urls: 'stun:s:3478' }] });
});

test("the welcome's TURN server follows the tag's; relay-only when the tag asks", () => {
  const turn = { urls: ['turn:t:3478'], username: '1700000000:customer-c1', credential: 'x' };
  setWelcomeIce([turn, null, 'nonsense']);
  const script = tag({ 'data-ice-servers': '[{"urls": "stun:s:3478"}]', 'data-ice-transport-policy': 'relay' });
  assert.deepEqual(rtcConfig(script), { iceServers: [{ urls: 'stun:s:3478' }, turn], iceTransportPolicy: 'relay' });
  setWelcomeIce('not a list');
  assert.deepEqual(rtcConfig(tag({ 'data-ice-transport-policy': 'all' })), { iceServers: [] });
});
