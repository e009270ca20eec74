// node --test webclient/tests: the wallboard's durations, words and thresholds.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AWAY_WORDS } from '../static/shared/away_words.js';
import {
  callText, centerClock, duration, expected, handleTime, oldestWait, serviceLevel, skew, stateText, todayZone,
} from '../static/supervisor/wallboard_format.js';

test('durations read as a clock', () => {
  assert.equal(duration(7400), '0:07');
  assert.equal(duration(245000), '4:05');
  assert.equal(duration(3729000), '1:02:09');
  assert.equal(duration(-5), '0:00');
  assert.equal(duration(null), '—');
});

test('expected waits in words', () => {
  assert.deepEqual([0, 30000, 61000, null].map(expected), ['none', 'under 1\u00a0min', 'about 2\u00a0min', 'unknown']);
});

test('the oldest wait is over its target only past it, and nothing waiting is never over', () => {
  const thresholds = { oldest_wait_ms: 60000 };
  assert.deepEqual(oldestWait({ oldest_queued_at: 1000 }, 61000, thresholds), { ms: 60000, over: false });
  assert.deepEqual(oldestWait({ oldest_queued_at: 1000 }, 61001, thresholds), { ms: 60001, over: true });
  assert.deepEqual(oldestWait({ oldest_queued_at: null }, 61001, thresholds), { ms: null, over: false });
});

test('a service level under its target is marked', () => {
  assert.deepEqual(serviceLevel(0.79, { service_level: 0.8 }), { text: '79%', under: true });
  assert.deepEqual(serviceLevel(0.8, { service_level: 0.8 }), { text: '80%', under: false });
  assert.deepEqual(serviceLevel(null, { service_level: 0.8 }), { text: '—', under: false });
});

test('the clock skew is the browser ahead of the gateway', () => {
  assert.equal(skew(1000, 1600), 600);
  assert.equal(skew(undefined, 1600), 0);
});

test('a chat-only queue has a handle time too, a mixed one both', () => {
  assert.equal(handleTime({ aht_ms: null, aht_chat_ms: 125000 }).text, 'chat 2:05');
  assert.equal(handleTime({ aht_ms: 245000, aht_chat_ms: null }).text, '4:05');
  assert.equal(handleTime({ aht_ms: 245000, aht_chat_ms: 125000 }).text, '4:05 · chat 2:05');
  assert.deepEqual(handleTime({}), { text: '—', title: '' });
});

test("today is the center's day: the frame names its zone", () => {
  assert.equal(todayZone({ today_zone: 'America/New_York' }), 'America/New_York');
  assert.equal(todayZone({ today_zone: 'UTC' }), 'UTC');
  assert.equal(todayZone({}), 'UTC');
  assert.equal(todayZone(null), 'UTC');
});

test("the wallboard's clock is the center's, named when this browser's reads otherwise", () => {
  const at = Date.UTC(2026, 0, 15, 9, 5, 7); // 09:05:07 UTC: 14:35:07 in Kolkata, 04:05:07 in New York
  assert.equal(centerClock(at, 'Asia/Kolkata', 'en-GB', 'America/New_York'), '14:35:07 Asia/Kolkata');
  assert.equal(centerClock(at, 'Asia/Kolkata', 'en-GB', 'Asia/Kolkata'), '14:35:07');
  assert.equal(centerClock(at, 'UTC', 'en-GB', 'Etc/UTC'), '09:05:07'); // one clock, two names
  assert.equal(centerClock(at, 'UTC', 'en-GB', 'America/New_York'), '09:05:07 UTC');
  assert.equal(centerClock(at, 'Mars/Olympus', 'en-GB', 'America/New_York'), "04:05:07 (this computer's time)");
});

test('an away reason reads as words, never as a code (a user test saw "Away (missed_call)")', () => {
  assert.equal(stateText('away', 'missed_call'), 'Away — missed a call');
  assert.equal(stateText('away', 'declined_call'), 'Away — declined a call');
  assert.equal(stateText('away', 'call_lost'), 'Away — lost the connection during a call');
  assert.equal(stateText('away', 'agent_absent'), 'Away — no desk open');
  assert.equal(stateText('away', 'agent_logged_out'), 'Away — logged out');
  assert.equal(stateText('away', 'agent_disabled'), 'Away — disabled by an admin');
  assert.equal(stateText('away', 'break'), 'Away — on a break');
  assert.equal(stateText('away', 'back_office_work'), 'Away — back office work'); // one we do not know
  assert.equal(stateText('away', 'toString'), 'Away — toString'); // not an Object.prototype key
  assert.equal(stateText('away', ''), 'Away');
  assert.equal(stateText('available', undefined), 'Available');
  assert.equal(stateText('wrap_up', ''), 'After-call work');
  assert.equal(stateText('on_lunch', ''), 'on lunch'); // a state this page does not know yet
});

test('every away reason the gateway sets has its words', async () => {
  const { readFile, readdir } = await import('node:fs/promises');
  const root = new URL('../../gateway/', import.meta.url);
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.py'));
  const reasons = new Set();
  for (const f of files) {
    const text = await readFile(new URL(f, root), 'utf8');
    // set_status(agent, AgentStatus.AWAY, "reason") or with `away = "..." if ... else "..."` the line before, and
    // the release reasons (release_agent(agent, "agent_..."), absent_agents' `return "agent_..."`): the away reason
    for (const row of text.split('\n')) {
      if (/AgentStatus\.AWAY, "|^\s*away = /.test(row) || /release(_agent)?\(|return "agent_/.test(row)) {
        for (const m of row.matchAll(/"([a-z]+_[a-z_]+)"/g)) reasons.add(m[1]);
      }
    }
  }
  reasons.delete('agent_removed'); // a removed agent has no status to set (gateway/contact/handover.py)
  assert.ok(reasons.has('missed_call') && reasons.has('agent_absent'), [...reasons].join(' '));
  for (const r of reasons) assert.ok(Object.hasOwn(AWAY_WORDS, r), `no words for the away reason ${r}`);
});

test("a call's state in words: on hold on the call table, and a dropped agent is not a waiting caller", () => {
  assert.equal(callText({ status: 'connected', held: true }), 'Connected (on hold)');
  assert.equal(callText({ status: 'connected', held: true }, { held: false }), 'Connected');
  assert.equal(callText({ status: 'waiting', held: false }), 'Waiting');
  assert.equal(callText({ status: 'waiting', held: true, reconnecting: true }), 'Agent reconnecting');
  assert.equal(callText({ status: 'odd_new_status' }), 'odd_new_status');
});
