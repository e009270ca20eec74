// rtcConfig: the script tag's ICE servers, then the welcome's TURN server; relay-only on request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askCallIce, refusedCallIce, rtcConfig, setWelcomeIce, takeCallIce } from '../static/shared/rtc.js';

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

test("a call's own TURN pair (call_ice) takes the welcome's place for that call", async () => {
  const socketPair = { urls: ['turn:t:3478'], username: '1700000000:customer-c1', credential: 'x' };
  const callPair = { urls: ['turn:t:3478'], username: '1700000000:call-k1-customer-c1', credential: 'y' };
  setWelcomeIce([socketPair]);
  const sent = [];
  const asked = askCallIce((f) => { sent.push(f); return true; }, 'k1', 5000);
  assert.deepEqual(sent, [{ type: 'call_ice', call_id: 'k1' }]);
  takeCallIce({ type: 'call_ice', call_id: 'other', ice_servers: [socketPair] }); // not ours: still waiting
  takeCallIce({ type: 'call_ice', call_id: 'k1', ice_servers: [callPair, null] });
  const got = await asked;
  assert.deepEqual(got, [callPair]);
  assert.deepEqual(rtcConfig(null, got), { iceServers: [callPair] });
  assert.deepEqual(rtcConfig(null, []), { iceServers: [socketPair] }); // an empty answer: the welcome's
  // not sent (socket down), or never answered: null at once / after the wait, and the welcome's pair is used
  assert.equal(await askCallIce(() => false, 'k2', 5000), null);
  assert.equal(await askCallIce(() => true, 'k3', 10), null);
  setWelcomeIce(undefined); // no TURN on this gateway: nothing is asked
  const none = [];
  assert.equal(await askCallIce((f) => { none.push(f); return true; }, 'k4', 5000), null);
  assert.deepEqual(none, []);
});

test('a refused call_ice (rate_limited) answers the asker at once: the call goes on with the welcome pair', async () => {
  setWelcomeIce([{ urls: ['turn:t:3478'], username: '1700000000:customer-c1', credential: 'x' }]);
  const asked = askCallIce(() => true, 'k5', 60000);
  const refusal = { type: 'error', code: 'rate_limited', field: 'call_id', retry_after: 1700 };
  assert.equal(refusedCallIce({ ...refusal, call_id: 'other' }), false); // not ours: still waiting
  assert.equal(refusedCallIce({ type: 'error', code: 'rate_limited', client_id: 'm1' }), false); // a message's
  assert.equal(refusedCallIce({ ...refusal, call_id: 'k5' }), true);
  assert.equal(await asked, null); // at once, not after the 60 s wait
  assert.equal(refusedCallIce({ ...refusal, call_id: 'k5' }), false); // answered once
  setWelcomeIce(undefined);
});

test("a welcome with an empty ice_servers (the hourly TURN budget spent): a call still asks for its own pair", async () => {
  setWelcomeIce([]);
  const sent = [];
  const asked = askCallIce((f) => { sent.push(f); return true; }, 'k6', 5000);
  assert.deepEqual(sent, [{ type: 'call_ice', call_id: 'k6' }]);
  const callPair = { urls: ['turn:t:3478'], username: '1700000000:call-k6-customer-c1', credential: 'z' };
  takeCallIce({ type: 'call_ice', call_id: 'k6', ice_servers: [callPair] });
  assert.deepEqual(rtcConfig(null, await asked), { iceServers: [callPair] });
  // refused too: the call goes on without TURN
  const refused = askCallIce(() => true, 'k7', 60000);
  refusedCallIce({ type: 'error', code: 'rate_limited', field: 'call_id', call_id: 'k7', retry_after: 60 });
  assert.deepEqual(rtcConfig(null, await refused), { iceServers: [] });
  setWelcomeIce(undefined);
});
