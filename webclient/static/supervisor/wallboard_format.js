// The wallboard's pure parts: durations, states in words, thresholds (tested in webclient/tests/wallboard.test.mjs).

import { reasonLabel } from '../desk/away_reasons.js';
import { isolate } from '../shared/text.js';

/** The time zone "today" is the day of (the center's: the frame's thresholds.today_zone), "UTC" when unsaid. */
export function todayZone(thresholds) {
  const zone = thresholds && thresholds.today_zone;
  return typeof zone === 'string' && zone ? zone : 'UTC';
}

const CLOCK = { hour: '2-digit', minute: '2-digit', second: '2-digit' };

/** A time of day (ms since the epoch) on the center's clock, in its time zone (an IANA name), followed by the
 * zone's name when this browser's clock reads otherwise at that moment (a supervisor in another zone, a wall
 * screen set to UTC); this browser's own time, said so, when it does not know the zone. `locales`: the browser's
 * by default; `here`: this browser's zone (tests pass one). */
export function centerClock(ms, zone, locales = [], here = undefined) {
  const when = new Date(ms);
  const local = new Intl.DateTimeFormat(locales, { ...CLOCK, timeZone: here }).format(when);
  let center;
  try {
    center = new Intl.DateTimeFormat(locales, { ...CLOCK, timeZone: zone }).format(when);
  } catch {
    return `${local} (this computer's time)`; // RangeError: a zone this browser's time zone data lacks
  }
  return center === local ? center : `${center} ${zone}`;
}

/** "0:07", "4:05", "1:02:09" for a duration in ms ("—" for none). */
export function duration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** An expected wait in words: "none" (an agent is free), "about 3 min", "under 1 min", "unknown"; a number and its
 * unit never apart (a no-break space: the cell may wrap to "about" over "3 min" in a narrow column). */
export function expected(ms) {
  if (ms == null) return 'unknown';
  if (ms === 0) return 'none';
  if (ms < 60000) return 'under 1\u00a0min';
  return `about ${Math.ceil(ms / 60000)}\u00a0min`;
}

export const STATE_WORDS = { available: 'Available', busy: 'Busy', wrap_up: 'After-call work', away: 'Away' };
/** Why an agent is away, in words: every reason the gateway sets (gateway/calls/ringing.py, agent_calls.py,
 * contact/absent_agents.py, wire/routes.py) in its own words; one the agent chose from the center's list
 * (`reasons`: welcome.away_reasons, and lists seen before) as its label; any other (never on a list this page saw) as
 * its code with its underscores as spaces (desk/away_reasons.js reasonLabel). */

/** An agent's state in words: "Available", "Away", "Away — missed a call", "Away — Lunch". */
export function stateText(state, awayReason, reasons = null) {
  const words = STATE_WORDS[state] || String(state || '').replace(/_/g, ' ');
  const why = reasonLabel(awayReason, reasons);
  return why ? `${words} — ${why}` : words;
}

export const CALL_WORDS = { connecting: 'Connecting', ivr: 'In the IVR', waiting: 'Waiting', ringing: 'Ringing',
  connected: 'Connected', ended: 'Ended' };

/** A call's state in words: a call table's row, an agent's call; ``held`` is said on the call table only. A call
 *  whose agent's connection dropped is "waiting" to the gateway, but not in a queue: the caller holds while the
 *  agent's desk comes back. */
export function callText(call, { held = true } = {}) {
  if (call.reconnecting) return 'Agent reconnecting';
  return (CALL_WORDS[call.status] || call.status) + (held && call.held ? ' (on hold)' : '');
}
export const MODE_WORDS = { listen: 'Listen', whisper: 'Whisper', barge: 'Barge in' };
// what pressing the pressed mode button again does (the buttons are toggles, as in the desk's Live calls)
export const MODE_OFF = {
  listen: 'Stop listening: leave the call',
  whisper: 'Stop whispering: listen silently again',
  barge: 'Stop barging in: listen silently again',
};

/** The wallboard frame's times are the gateway's: how far this browser's clock is ahead of it (ms). */
export function skew(frameAt, localNow) {
  return Number.isFinite(frameAt) ? localNow - frameAt : 0;
}

/** A queue's oldest wait against the target: {ms, over} (ms null when nothing waits). */
export function oldestWait(queue, now, thresholds) {
  if (!queue || queue.oldest_queued_at == null) return { ms: null, over: false };
  const ms = Math.max(0, now - queue.oldest_queued_at);
  const target = thresholds && Number(thresholds.oldest_wait_ms);
  return { ms, over: target > 0 && ms > target };
}

/** A service level (0..1 or null) against the target: {text, under}. */
export function serviceLevel(value, thresholds) {
  if (value == null || !Number.isFinite(value)) return { text: '—', under: false };
  const target = thresholds && Number(thresholds.service_level);
  return { text: `${Math.round(value * 100)}%`, under: target > 0 && value < target };
}

/** Today's average handle time in words: calls' (talk + hold + after-call work) and chats' (assignment to close),
 * whichever the queue had: {text, title}. */
export function handleTime(today) {
  const call = today && today.aht_ms != null ? duration(today.aht_ms) : null;
  const chat = today && today.aht_chat_ms != null ? duration(today.aht_chat_ms) : null;
  if (call && chat) return { text: `${call} · chat ${chat}`, title: 'Calls: talk, hold and after-call work; chats: from assignment to close' };
  if (call) return { text: call, title: 'Calls: talk, hold and after-call work' };
  if (chat) return { text: `chat ${chat}`, title: 'Chats: from assignment to close' };
  return { text: '—', title: '' };
}

/** The frame's open help requests (`help`, oldest first), each with what the board shows: [{conversation_id,
 * agent_id, agent_name, queue, customer_id, since (ms or null), text}]; [] from a gateway that sends none. */
export function helpRows(frame) {
  const rows = frame && Array.isArray(frame.help) ? frame.help : [];
  const str = (v) => (typeof v === 'string' ? v : '');
  return rows.filter((r) => r && typeof r === 'object' && str(r.conversation_id)).map((r) => ({
    conversation_id: r.conversation_id,
    agent_id: str(r.agent_id),
    agent_name: str(r.agent_name) || str(r.agent_id) || 'An agent',
    queue: str(r.queue),
    customer_id: str(r.customer_id),
    since: Number.isFinite(r.since) ? r.since : null,
    text: str(r.text).trim(),
  }));
}

/** What a screen reader is told of the requests `rows` of a new frame, `before` the conversation ids the board showed
 * (null: this is the first frame): '' when nothing is new; one new: "Alice Smith asked for help: angry about a refund";
 * several: "2 agents asked for help"; the first frame: "Alice Smith is waiting for help: …", "2 agents are waiting
 * for help" (names and words isolated: shared/text.js). */
export function helpArrivals(before, rows) {
  if (before === null) {
    if (!rows.length) return '';
    if (rows.length > 1) return `${rows.length} agents are waiting for help`;
    return `${isolate(rows[0].agent_name)} is waiting for help${rows[0].text ? `: ${isolate(rows[0].text)}` : ''}`;
  }
  const fresh = rows.filter((r) => !before.has(r.conversation_id));
  if (!fresh.length) return '';
  if (fresh.length > 1) return `${fresh.length} agents asked for help`;
  return `${isolate(fresh[0].agent_name)} asked for help${fresh[0].text ? `: ${isolate(fresh[0].text)}` : ''}`;
}
