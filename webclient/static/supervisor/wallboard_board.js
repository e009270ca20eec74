// The wallboard's tables: one `wallboard` frame replaces what they show (rows kept by key, so focus and buttons
// stay), and a tick every second moves the durations on from the frame's times.

import {
  MODE_OFF, callText, centerClock, duration, expected, handleTime, oldestWait, serviceLevel, skew, stateText, todayZone,
} from './wallboard_format.js';
import { isolate } from '../shared/text.js';
import { S } from '../desk/state.js';

const W = { frame: null, skew: 0, onMonitor: () => {}, monitoring: () => null, onChats: () => {}, agentActions: null };

function el(tag, attrs = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

/** Gateway time now (ms), from this browser's clock and the skew of the last frame. */
export function gatewayNow() {
  return Date.now() - W.skew;
}

/** onMonitor(callId, mode): a Listen / Whisper / Barge button; monitoring(): {callId, mode} being monitored;
 * onChats(kind, key, label, button): an agent's conversations or a queue's waiting chats pressed (to watch one);
 * agentActions(td, agent): draws the Actions cell of an agent's row (wallboard_agent_actions.js). */
export function initBoard({ onMonitor, monitoring, onChats, agentActions }) {
  W.onMonitor = onMonitor;
  W.monitoring = monitoring;
  if (onChats) W.onChats = onChats;
  if (agentActions) W.agentActions = agentActions;
  setInterval(tick, 1000);
}

export function lastFrame() {
  return W.frame;
}

/** Rows of tbody kept by key: made once, updated on every frame, removed when their key is gone, in order (the focus
 * on a row that goes moves to its table, not to <body>, where Tab starts from the top). */
export function sync(tbody, items, key, make, update) {
  const seen = new Set();
  const rows = new Map(Array.from(tbody.children, (tr) => [tr.dataset.key, tr]));
  items.forEach((item, i) => {
    const k = key(item);
    seen.add(k);
    let tr = rows.get(k);
    if (!tr) {
      tr = make(item);
      tr.dataset.key = k;
    }
    update(tr, item);
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
  });
  for (const [k, tr] of rows) {
    if (seen.has(k)) continue;
    const region = tr.contains(document.activeElement) ? tr.closest('[role=region]') : null;
    tr.remove();
    if (region) region.focus();
  }
}

function cells(tr, names) {
  for (const name of names) {
    const td = el('td', { 'data-col': name });
    if (name !== 'queue' && name !== 'agent' && name !== 'state' && name !== 'call' && name !== 'status' &&
        name !== 'actions') td.className = 'num';
    tr.append(td);
  }
  return tr;
}

function cell(tr, name) {
  return tr.querySelector(`[data-col="${name}"]`);
}

function set(td, text) {
  if (td.textContent !== String(text)) td.textContent = String(text);
}

/** A name that may wrap after each - and _ (a queue's: up to 40 characters without a space), so a long one takes
 * two lines of a narrow column instead of widening the table. */
function breakable(td, name) {
  const text = String(name);
  if (td.textContent === text) return;
  td.replaceChildren();
  for (const part of text.split(/(?<=[-_])/)) td.append(part, el('wbr'));
}

/** An agent's name: one line, a long one cut with an ellipsis (a wall display is never scrolled sideways), whole in
 * the cell's title and for screen readers; in an element of its own direction (dir=auto), so a right-to-left name
 * or an override in it stays inside it. */
export function agentName(td, name) {
  const text = String(name);
  if (td.title === text && td.firstElementChild) return;
  td.title = text;
  td.replaceChildren(el('span', { class: 'wb-name', dir: 'auto' }, text));
}

/** A count of chats (an agent's, a queue's waiting ones): a button that lists them (to watch one) while there are
 * any, plain text at none. The button is kept while the count changes, so the focus on it stays. */
function chatsCell(td, text, any, label, [kind, key, name]) {
  const button = td.querySelector('button.wb-chats');
  if (!any) {
    const hadFocus = button && document.activeElement === button;
    if (button) td.textContent = text;
    else set(td, text);
    if (hadFocus) td.closest('[role=region]').focus(); // (the button went: not to <body>)
    return;
  }
  let b = button;
  if (!b) {
    b = el('button', { type: 'button', class: 'wb-chats', 'data-testid': 'wb-chats' });
    b.addEventListener('click', () => W.onChats(b.dataset.kind, b.dataset.key, b.dataset.name, b));
    td.replaceChildren(b);
  }
  Object.assign(b.dataset, { kind, key, name: String(name || key) });
  set(b, text);
  if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
}

/** A time cell: its start is kept on it, the tick writes the duration. */
function since(td, ms) {
  td.dataset.since = ms == null ? '' : String(ms);
  set(td, ms == null ? '—' : duration(gatewayNow() - ms));
}

const QUEUE_COLS = ['queue', 'waiting_chats', 'waiting_calls', 'oldest_wait', 'expected_wait', 'logged_in',
  'available', 'busy', 'wrap_up', 'away', 'cb_scheduled', 'cb_pending', 'offered', 'handled', 'abandoned',
  'service_level', 'asa', 'aht'];

function renderQueues(frame) {
  const tbody = document.querySelector('[data-testid=wb-queues] tbody');
  sync(tbody, frame.queues, (q) => q.queue, (q) => {
    const tr = cells(el('tr', { 'data-testid': 'wb-queue', 'data-queue': q.queue }), QUEUE_COLS);
    cell(tr, 'queue').replaceWith(el('th', { scope: 'row', 'data-col': 'queue' }));
    return tr;
  }, (tr, q) => {
    breakable(cell(tr, 'queue'), q.queue);
    chatsCell(cell(tr, 'waiting_chats'), String(q.waiting_chats), q.waiting_chats > 0,
      `${q.waiting_chats}: chats waiting in ${isolate(q.queue)}, list them to watch one`, ['queue', q.queue, q.queue]);
    set(cell(tr, 'waiting_calls'), q.waiting_calls);
    cell(tr, 'oldest_wait').dataset.queued = q.oldest_queued_at == null ? '' : String(q.oldest_queued_at);
    set(cell(tr, 'expected_wait'), expected(q.expected_wait_ms));
    set(cell(tr, 'logged_in'), q.agents.logged_in);
    for (const state of ['available', 'busy', 'wrap_up', 'away']) set(cell(tr, state), q.agents[state]);
    set(cell(tr, 'cb_scheduled'), q.callbacks.scheduled);
    set(cell(tr, 'cb_pending'), q.callbacks.pending);
    const today = q.today || {};
    for (const name of ['offered', 'handled', 'abandoned']) set(cell(tr, name), today[name] ?? 0);
    set(cell(tr, 'asa'), today.asa_ms == null ? '—' : duration(today.asa_ms));
    const aht = handleTime(today);
    set(cell(tr, 'aht'), aht.text);
    cell(tr, 'aht').title = aht.title;
    level(cell(tr, 'service_level'), today.service_level);
    cell(tr, 'service_level').title = today.service_level_seconds == null ? ''
      : `Share answered within ${today.service_level_seconds} s (this queue's threshold), today (${todayZone(frame.thresholds)})`;
    oldest(tr, q);
  });
}

/** Today's service level: under the target, the alert colour, an icon and words. */
function level(td, value) {
  const { text, under } = serviceLevel(value, W.frame && W.frame.thresholds);
  td.classList.toggle('alert', under);
  td.dataset.under = String(under);
  if (td.dataset.text === text + under) return;
  td.dataset.text = text + under;
  td.replaceChildren(text);
  if (under) td.append(el('span', { class: 'wb-flag', title: 'Under the service level target' }, ' ▼ under target'));
}

/** The oldest wait cell: its duration, and over the target: the alert colour, an icon and words. */
function oldest(tr, q) {
  const td = cell(tr, 'oldest_wait');
  const { ms, over } = oldestWait(q, gatewayNow(), W.frame && W.frame.thresholds);
  td.classList.toggle('alert', over);
  td.dataset.over = String(over);
  const text = ms == null ? '—' : duration(ms);
  if (td.dataset.text === text + over) return;
  td.dataset.text = text + over;
  td.replaceChildren(text);
  if (over) td.append(el('span', { class: 'wb-flag', title: 'Over the wait target' }, ' ▲ over target'));
}

function renderAgents(frame) {
  const tbody = document.querySelector('[data-testid=wb-agents] tbody');
  sync(tbody, frame.agents, (a) => a.id, (a) => {
    const tr = cells(el('tr', { 'data-testid': 'wb-agent', 'data-agent': a.id }), ['agent', 'state', 'for',
      'conversations', 'call', 'handled', 'actions']);
    cell(tr, 'agent').replaceWith(el('th', { scope: 'row', 'data-col': 'agent' }));
    return tr;
  }, (tr, a) => {
    agentName(cell(tr, 'agent'), a.name);
    const state = cell(tr, 'state');
    state.dataset.state = a.state;
    set(state, stateText(a.state, a.away_reason, S.awayLabels)); // "Away — Lunch": the center's label
    since(cell(tr, 'for'), a.since || null);
    chatsCell(cell(tr, 'conversations'), `${a.conversations} / ${a.capacity}`, a.conversations > 0,
      `${a.conversations} / ${a.capacity}: ${isolate(a.name)}’s chats, list them to watch one`, ['agent', a.id, a.name]);
    set(cell(tr, 'call'), a.call ? callText(a.call, { held: false }) : '—');
    set(cell(tr, 'handled'), a.handled_today ?? 0);
    // occupancy today on hover (a column of its own does not fit a laptop's wallboard; the reports have it by agent)
    cell(tr, 'handled').title = a.occupancy_today == null ? ''
      : `Occupancy today: ${Math.round(a.occupancy_today * 100)}\u00a0% of available time on contacts`;
    if (W.agentActions) W.agentActions(cell(tr, 'actions'), a);
  });
  document.getElementById('wb-agents-empty').hidden = frame.agents.length > 0;
}

function renderCalls(frame) {
  const tbody = document.querySelector('[data-testid=wb-calls] tbody');
  sync(tbody, frame.calls, (c) => c.call_id, (c) => {
    const tr = cells(el('tr', { 'data-testid': 'wb-call', 'data-call': c.call_id }), ['queue', 'status', 'wait',
      'agent', 'duration', 'actions']);
    const actions = cell(tr, 'actions');
    for (const [mode, label] of [['listen', 'Listen'], ['whisper', 'Whisper'], ['barge', 'Barge in']]) {
      const b = el('button', { type: 'button', class: 'btn small', 'data-mode': mode, 'aria-pressed': 'false' }, label);
      b.addEventListener('click', () => W.onMonitor(c.call_id, mode));
      actions.append(b);
    }
    return tr;
  }, (tr, c) => {
    set(cell(tr, 'queue'), c.queue || '—');
    tr.dataset.status = c.status;
    set(cell(tr, 'status'), callText(c));
    const wait = cell(tr, 'wait');
    if (c.queued_at && c.answered_at) {
      wait.dataset.since = '';
      set(wait, duration(c.answered_at - c.queued_at));
    } else since(wait, c.queued_at);
    if (c.agent_name) agentName(cell(tr, 'agent'), c.agent_name);
    else { cell(tr, 'agent').title = ''; set(cell(tr, 'agent'), '—'); }
    since(cell(tr, 'duration'), c.started_at || null);
    buttons(tr, c);
  });
  document.getElementById('wb-calls-empty').hidden = frame.calls.length > 0;
}

/** Listen / Whisper / Barge: only on a connected call; the mode we are on is pressed. Each one's name says whose
 *  call it joins ("Listen: Alice Smith's call, billing"): tabbing from button to button, a screen reader reads the
 *  name alone, not the row's cells. */
export function buttons(tr, c) {
  const mon = W.monitoring();
  const mine = mon && mon.callId === c.call_id;
  const whose = c.agent_name ? `${isolate(c.agent_name)}’s call` : 'the call';
  for (const b of tr.querySelectorAll('button[data-mode]')) {
    b.disabled = c.status !== 'connected' && !mine;
    const pressed = Boolean(mine && mon.mode === b.dataset.mode);
    b.setAttribute('aria-pressed', String(pressed));
    b.title = pressed ? MODE_OFF[b.dataset.mode] : '';
    b.setAttribute('aria-label', `${b.textContent}: ${whose}${c.queue ? `, ${c.queue}` : ''}`);
  }
}

export function refreshButtons() {
  if (!W.frame) return;
  const byId = new Map(W.frame.calls.map((c) => [c.call_id, c]));
  for (const tr of document.querySelectorAll('[data-testid=wb-call]')) {
    const c = byId.get(tr.dataset.key);
    if (c) buttons(tr, c);
  }
}

function renderTotals(frame) {
  const t = frame.totals;
  const tiles = [
    ['waiting_chats', 'Chats waiting', t.waiting_chats], ['waiting_calls', 'Calls waiting', t.waiting_calls],
    ['logged_in', 'Agents signed in', t.logged_in], ['available', 'Available', t.available],
    ['busy', 'Busy', t.busy], ['wrap_up', 'After-call work', t.wrap_up], ['away', 'Away', t.away],
  ];
  const ul = document.querySelector('[data-testid=wb-totals]');
  sync(ul, tiles, (x) => x[0], (x) => {
    const li = el('li', { class: 'wb-tile', 'data-total': x[0] });
    li.append(el('span', { class: 'wb-tile-n' }), el('span', { class: 'wb-tile-label' }, x[1]));
    return li;
  }, (li, x) => set(li.querySelector('.wb-tile-n'), x[2]));
}

/** A `wallboard` frame arrived: everything it says replaces what was shown. */
/** The board again from the last snapshot (the away reasons' labels changed: a `codes` frame). */
export function renderAgain() {
  if (W.frame) render(W.frame, true);
}

/** Draw the board from `frame` (`again`: the last one drawn once more: its clock offset stays as measured on arrival,
 * or every timer would go back by the frame's age). */
export function render(frame, again = false) {
  W.frame = frame;
  if (!again) W.skew = skew(frame.at, Date.now());
  renderTotals(frame);
  renderQueues(frame);
  const zone = document.querySelector('.wb-zone');
  if (zone) set(zone, `(${todayZone(frame.thresholds)})`);
  renderAgents(frame);
  renderCalls(frame);
  // the center's clock (its time zone, --center-timezone), as "today" is its day
  document.getElementById('wb-updated').textContent = `Updated ${centerClock(frame.at, todayZone(frame.thresholds))}`;
}

function tick() {
  if (!W.frame) return;
  const now = gatewayNow();
  for (const td of document.querySelectorAll('.wb [data-since]')) {
    if (td.dataset.since) set(td, duration(now - Number(td.dataset.since)));
  }
  const byName = new Map(W.frame.queues.map((q) => [q.queue, q]));
  for (const tr of document.querySelectorAll('[data-testid=wb-queue]')) {
    const q = byName.get(tr.dataset.key);
    if (q) oldest(tr, q);
  }
}
