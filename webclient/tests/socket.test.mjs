// node --test webclient/tests: the signaling socket's backoff, welcome timeout and reconnects, driven by a
// scripted WebSocket class and a manual clock (what the browser tests cannot make happen on demand).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CloseCode } from '../static/shared/protocol.js';
import { BACKOFF_MAX, BACKOFF_MIN, MAX_ATTEMPT, RESTART_RETRY, STORE_RETRY, SignalingSocket, backoffDelay } from '../static/shared/socket.js';

/** setTimeout / clearTimeout on a clock that moves only when told to. */
function manualClock() {
  let now = 0;
  let next = 1;
  const timers = new Map();
  return {
    setTimeout: (fn, ms) => { timers.set(next, { at: now + ms, fn }); return next++; },
    clearTimeout: (id) => { timers.delete(id); },
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
    },
  };
}

/** A WebSocket stand-in: records what was sent; the test opens, closes and feeds it. */
class ScriptedSocket {
  static OPEN = 1;
  static made = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    ScriptedSocket.made.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code, reason) {
    this.closedWith = [code, reason];
    this.readyState = 3;
    if (this.onclose) this.onclose({ code: code || 1006 });
  }
  // the test's side
  open() { this.readyState = 1; this.onopen(); }
  receive(frame) { this.onmessage({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code }); }
}

function setup(options = {}) {
  ScriptedSocket.made = [];
  const clock = manualClock();
  const log = [];
  const sock = new SignalingSocket({
    url: () => 'ws://gateway.test/ws/customer',
    hello: () => ({ type: 'hello', token: 't' }),
    onFrame: (f) => log.push(['frame', f.type]),
    onDown: (e) => log.push(['down', e ? e.code : null]),
    onChange: () => log.push(['change']),
    WebSocket: ScriptedSocket,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    ...options,
  });
  return { sock, clock, log, last: () => ScriptedSocket.made[ScriptedSocket.made.length - 1] };
}

test('backoff doubles from BACKOFF_MIN up to BACKOFF_MAX, jittered within [base/2, base)', () => {
  const bases = Array.from({ length: 8 }, (_, a) => backoffDelay(a, () => 0) * 2);
  assert.deepEqual(bases, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.equal(BACKOFF_MIN, 500);
  assert.equal(backoffDelay(MAX_ATTEMPT, () => 0), BACKOFF_MAX / 2);
  assert.ok(backoffDelay(3, () => 0.999999) < 4000);
  assert.equal(backoffDelay(3, () => 0.5), 3000);
});

test('on open the hello goes first; frames reach the page; a non-object frame is ignored', () => {
  const { sock, log, last } = setup();
  sock.connect();
  assert.equal(last().url, 'ws://gateway.test/ws/customer');
  assert.equal(sock.send({ type: 'message' }), false);   // not open yet: the page keeps it
  last().open();
  assert.deepEqual(last().sent, [{ type: 'hello', token: 't' }]);
  last().receive({ type: 'welcome' });
  last().receive('not json');
  last().receive('42');
  assert.deepEqual(log.filter((e) => e[0] === 'frame'), [['frame', 'welcome']]);
  assert.equal(sock.send({ type: 'message' }), true);
  assert.deepEqual(last().sent[1], { type: 'message' });
});

test('each loss waits longer; a welcome starts the backoff over', () => {
  const { sock, clock, log, last } = setup();
  sock.connect();
  const waits = [];
  for (let i = 0; i < 7; i++) {
    last().drop();
    waits.push(clock.pending()[0]);
    clock.advance(waits[waits.length - 1]);
  }
  assert.deepEqual(waits, [375, 750, 1500, 3000, 6000, 11250, 11250]);
  assert.equal(ScriptedSocket.made.length, 8);
  assert.ok(sock.everFailed);
  assert.deepEqual(log.filter((e) => e[0] === 'down').length, 7);
  last().open();
  last().receive({ type: 'welcome' });
  sock.welcomed();
  assert.equal(sock.attempt, 0);
  assert.equal(sock.everFailed, false);
  last().drop();
  assert.equal(clock.pending()[0], 375);
});

test('hellos refused while the store is down are retried soon, without growing the backoff', () => {
  const { sock, clock, log, last } = setup({ welcomeTimeout: 1e9 });  // (its timers would come first)
  sock.connect();
  last().drop();                      // an ordinary loss first: attempt 1
  clock.advance(clock.pending()[0]);
  const waits = [];
  for (let i = 0; i < 20; i++) {      // a 15 s outage: every hello refused, closed with 4503
    last().open();
    last().receive({ type: 'error', code: 'store_unavailable' });
    last().drop(CloseCode.STORE_UNAVAILABLE);
    waits.push(clock.pending()[0]);
    clock.advance(waits[waits.length - 1]);
  }
  assert.deepEqual([...new Set(waits)], [STORE_RETRY * 0.75]);   // random() = 0.5 in [STORE_RETRY/2, STORE_RETRY)
  assert.equal(sock.attempt, 1);
  assert.equal(log.filter((e) => e[0] === 'down').length, 21);
  last().drop();                      // any other loss: the backoff goes on from where it was
  assert.equal(clock.pending()[0], 750);
});

test('a node closing for a restart or a drain (1012): reconnect at once, the backoff not grown', () => {
  const { sock, clock, last } = setup({ welcomeTimeout: 1e9 });
  sock.connect();
  for (let i = 0; i < 3; i++) { last().drop(); clock.advance(clock.pending()[0]); }  // attempt 3: 3000 ms next
  last().open();
  last().drop(CloseCode.RESTARTING);
  assert.equal(clock.pending()[0], RESTART_RETRY * 0.75);    // random() = 0.5 in [RESTART_RETRY/2, RESTART_RETRY)
  assert.ok(RESTART_RETRY <= 250);
  assert.equal(sock.attempt, 3);
  const made = ScriptedSocket.made.length;
  clock.advance(RESTART_RETRY);
  assert.equal(ScriptedSocket.made.length, made + 1);
});

test('no welcome within welcomeTimeout: the socket is closed and retried', () => {
  const { sock, clock, last } = setup({ welcomeTimeout: 10000 });
  sock.connect();
  last().open();
  clock.advance(9999);
  assert.equal(ScriptedSocket.made.length, 1);
  clock.advance(1);
  assert.ok(last().closedWith);
  clock.advance(375);
  assert.equal(ScriptedSocket.made.length, 2);
});

test('a welcomed socket is not closed by the welcome timer', () => {
  const { sock, clock, last } = setup({ welcomeTimeout: 10000 });
  sock.connect();
  last().open();
  sock.welcomed();
  clock.advance(60000);
  assert.equal(last().closedWith, null);
  assert.equal(ScriptedSocket.made.length, 1);
});

test('onClose returning false keeps the socket down (a revoked session)', () => {
  let running = true;
  const { sock, clock, log, last } = setup({
    onClose: (e) => { if (e.code === 4401) { running = false; sock.stop('logout'); return false; } return true; },
    enabled: () => running,
  });
  sock.connect();
  last().open();
  last().drop(4401);
  clock.advance(60000);
  assert.equal(ScriptedSocket.made.length, 1);
  assert.deepEqual(log.filter((e) => e[0] === 'down'), []);
  assert.equal(sock.ws, null);
});

test('reconnectNow drops the old socket silently and connects at once', () => {
  const { sock, log, last } = setup();
  sock.connect();
  const first = last();
  first.open();
  sock.reconnectNow();
  assert.deepEqual(first.closedWith, [1000, undefined]);
  assert.equal(ScriptedSocket.made.length, 2);
  assert.deepEqual(log.filter((e) => e[0] === 'down'), []);   // its close handler was detached
});

test('offline: the socket goes at once and comes back with backoff', () => {
  const { sock, clock, log, last } = setup();
  assert.equal(sock.dropOffline(), false);   // nothing to drop
  sock.connect();
  last().open();
  sock.welcomed();
  assert.equal(sock.dropOffline(), true);
  assert.deepEqual(log.filter((e) => e[0] === 'down'), [['down', null]]);
  assert.equal(sock.ready, false);
  assert.ok(sock.everFailed);
  clock.advance(375);
  assert.equal(ScriptedSocket.made.length, 2);
});

test('stop: no socket, no pending reconnect, the backoff starts over', () => {
  let running = true;
  const { sock, clock, last } = setup({ enabled: () => running });
  sock.connect();
  last().drop();
  last().drop();   // the same closed socket again is no news
  assert.equal(sock.attempt, 1);
  clock.advance(375);
  last().open();
  running = false;
  sock.stop('logout');
  assert.deepEqual(last().closedWith, [1000, 'logout']);
  clock.advance(60000);
  assert.equal(ScriptedSocket.made.length, 2);
  assert.equal(sock.attempt, 0);
  sock.connect();   // disabled: stays down
  assert.equal(ScriptedSocket.made.length, 2);
});

test('a constructor that throws counts as a failed attempt', () => {
  class Refused { constructor() { throw new Error('blocked'); } }
  const { sock, clock } = setup({ WebSocket: Refused });
  sock.connect();
  assert.ok(sock.everFailed);
  assert.deepEqual(clock.pending(), [375]);
});
