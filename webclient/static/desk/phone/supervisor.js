// Supervisors: the Live calls panel (GET /api/calls, polled while open), with the booked callbacks (booked.js).

import { LIVE_POLL } from './config.js';
import { P, desk, ui } from './state.js';
import { endMonitor, joinMonitor, leaveMonitor, monitorText } from './monitor.js';
import { clearBooked, refreshBooked } from './booked.js';
import { placeLivePanel } from './render.js';

// ------------------------------------------------------------ supervisors: live calls, listen in, whisper, barge in

// The Live calls panel: GET /api/calls while it is open (or while we listen to a call).
export const board = { open: false, calls: [], error: '', fetchedAt: 0, timer: null, loading: false, rows: new Map() };

export function monLive(m) {
  return !!m && m === P.mon && m.phase !== 'ended';
}

function shortConv(id) {
  const m = /^([A-Za-z]{1,5}_)(.+)$/.exec(String(id || ''));
  return m ? m[1] + m[2].slice(0, 6) : String(id || '—').slice(0, 10);
}

/** The desk says whether this agent has the supervisor role (login response, or GET /api/calls answering 200). */
export function setSupervisor(on) {
  P.supervisor = !!on;
  if (ui.liveToggle) ui.liveToggle.hidden = !P.supervisor;
  if (!P.supervisor) {
    closeLivePanel();
    board.calls = [];
    board.rows.clear();
    if (ui.liveList) ui.liveList.replaceChildren();
    clearBooked();
  }
}

export function openLivePanel() {
  if (!P.supervisor || !ui.livePanel) return;
  board.open = true;
  ui.livePanel.hidden = false;
  ui.liveToggle.setAttribute('aria-expanded', 'true');
  renderLive();
  poll();
}

/** Close the panel; the focus, if it was in it, goes back to the Live calls button (not to <body>). */
export function closeLivePanel() {
  board.open = false;
  const had = !!ui.livePanel && !ui.livePanel.hidden && ui.livePanel.contains(document.activeElement);
  if (ui.livePanel) ui.livePanel.hidden = true;
  if (ui.liveToggle) ui.liveToggle.setAttribute('aria-expanded', 'false');
  if (had && ui.liveToggle && !ui.liveToggle.hidden) ui.liveToggle.focus();
  schedulePoll();
}

function wantPolling() {
  return P.supervisor && (board.open || monLive(P.mon));
}

export function schedulePoll() {
  clearTimeout(board.timer);
  board.timer = null;
  if (wantPolling()) board.timer = setTimeout(poll, LIVE_POLL);
}

function poll() {
  clearTimeout(board.timer);
  board.timer = null;
  if (!wantPolling()) return;
  Promise.all([refreshCalls(), board.open ? refreshBooked() : null]).finally(schedulePoll);
}

async function refreshCalls() {
  const token = desk.token ? desk.token() : null;
  if (!token || board.loading) return;
  board.loading = true;
  try {
    const res = await fetch('/api/calls', {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store',
    });
    if (res.status === 403) {
      board.error = 'Only supervisors can see the live calls.';
      setSupervisor(false);
      return;
    }
    if (!res.ok) {
      board.error = res.status === 401 ? 'Your session has expired. Sign in again.'
        : `Could not load the live calls (HTTP ${res.status}).`;
      return;
    }
    const body = await res.json();
    board.calls = Array.isArray(body && body.calls)
      ? body.calls.filter((x) => x && typeof x.call_id === 'string' && x.call_id) : [];
    board.error = '';
    board.fetchedAt = Date.now();
    const m = P.mon;
    if (monLive(m) && m.listed && m.phase === 'answered' && !board.calls.some((x) => x.call_id === m.callId)) {
      endMonitor(m, 'The call ended.'); // the gateway closed our leg with it
    }
  } catch (_) {
    board.error = 'Could not reach the gateway to list the live calls.';
  } finally {
    board.loading = false;
    renderLive();
  }
}

// the mode buttons (as the wallboard's: Listen, Whisper, Barge in), what each does, and what pressing it again does
const MODE_HINT = {
  listen: 'Hear the caller and the agent; nobody hears you',
  whisper: 'The agent hears you; the caller does not',
  barge: 'Join the call: the caller and the agent hear you',
};
const MODE_OFF = {
  listen: 'Stop listening: leave the call',
  whisper: 'Stop whispering: listen silently again',
  barge: 'Stop barging in: listen silently again',
};
const OTHERS_WORDS = { listen: 'listening', whisper: 'whispering', barge: 'on the call' };

export function renderLive() {
  if (!ui.livePanel) return;
  const m = P.mon;
  const listening = monLive(m);
  ui.liveToggle.dataset.monitoring = listening ? (m.mode === 'listen' ? 'true' : m.mode) : 'false';
  if (ui.livePanel.hidden) return;
  placeLivePanel();
  ui.liveUpdated.textContent = board.fetchedAt
    ? `Updated ${new Date(board.fetchedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`
    : 'Loading…';
  ui.liveError.hidden = !board.error;
  ui.liveError.textContent = board.error;
  // the call we listen to (or why we stopped)
  const showBar = !!m; // the call we listen to, or how the last one ended
  ui.monitorBar.hidden = !showBar;
  if (showBar) {
    ui.monitorBar.dataset.mode = m.mode;
    ui.monitorBar.dataset.phase = m.phase === 'ended' ? 'ended' : (m.phase === 'answered' && m.connectedAt ? 'connected' : 'joining');
    ui.monitorBar.dataset.callId = m.callId;
    ui.monitorStatus.textContent = monitorText(m) + (listening && m.error ? ` (${m.error})` : '');
    // the row of the call has its own Leave; this one is for a call the list does not show (any more)
    ui.monitorLeave.hidden = !listening || board.calls.some((x) => x.call_id === m.callId);
  }
  const me = desk.me();
  const seen = new Set();
  const focused = ui.livePanel.contains(document.activeElement) ? document.activeElement : null;
  board.calls.forEach((entry, i) => {
    seen.add(entry.call_id);
    let row = board.rows.get(entry.call_id);
    if (!row) {
      row = makeRow(entry.call_id);
      board.rows.set(entry.call_id, row);
    }
    const mine = listening && m.callId === entry.call_id;
    const status = String(entry.status || '');
    const others = Object.entries(entry.monitors && typeof entry.monitors === 'object' ? entry.monitors : {})
      .filter(([sid]) => !(me && sid === me.id))
      .map(([sid, mode]) => `${desk.nameOf ? desk.nameOf(sid) : sid} ${OTHERS_WORDS[mode] || 'listening'}`);
    row.li.dataset.status = status;
    row.li.dataset.conversationId = entry.conversation_id || '';
    row.li.dataset.monitoring = String(mine);
    row.title.textContent = entry.agent_name || entry.agent_id || 'Agent';
    row.meta.textContent = [`Customer ${shortConv(entry.conversation_id)}`,
      entry.reconnecting ? 'agent reconnecting' : status === 'connected' ? (entry.held ? 'on hold' : 'connected') : status,
      ...others].join(' · ');
    const own = !!me && entry.agent_id === me.id;
    const joinable = status === 'connected' && !own;
    const joining = mine && m.phase !== 'answered';
    for (const [btn, mode] of [[row.listen, 'listen'], [row.whisper, 'whisper'], [row.barge, 'barge']]) {
      const pressed = mine && m.mode === mode;
      btn.disabled = !(joinable || mine) || joining;
      btn.setAttribute('aria-pressed', String(pressed));
      btn.title = own ? 'This is your own call' : !joinable && !mine ? 'Possible once the call is connected'
        : pressed ? MODE_OFF[mode] : MODE_HINT[mode];
    }
    row.leave.hidden = !mine;
    if (ui.liveList.children[i] !== row.li) ui.liveList.insertBefore(row.li, ui.liveList.children[i] || null);
  });
  for (const [id, row] of board.rows) {
    if (!seen.has(id)) {
      row.li.remove();
      board.rows.delete(id);
    }
  }
  keepFocus(focused);
  ui.liveEmpty.hidden = board.calls.length > 0 || !board.fetchedAt;
}

/** A button that had focus and is disabled or gone now (Listen while joining, Leave once left): focus goes to what
 *  its row offers next (Leave, the mode we are in, Listen), else to the list's Close, not to <body>, where a keyboard
 *  user's next Tab started again from the top of the page (a user test). */
function keepFocus(had) {
  if (!had || (had.isConnected && !had.disabled && !had.hidden)) return;
  const row = Array.from(board.rows.values()).find((r) => r.li.isConnected && r.li.contains(had));
  const pressed = row && [row.listen, row.whisper, row.barge].find((b) => b.getAttribute('aria-pressed') === 'true');
  const next = (row ? [row.leave, pressed, row.listen, row.whisper, row.barge] : [])
    .find((b) => b && !b.hidden && !b.disabled) || ui.liveClose;
  next.focus();
}

/** One row of the Live calls list; its buttons stay the same DOM nodes across refreshes. */
function makeRow(callId) {
  const el = (tag, cls, attrs) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };
  const li = el('li', 'live-call', { 'data-testid': 'live-call', 'data-call-id': callId });
  const title = el('span', 'live-call-title', { 'data-testid': 'live-call-agent' });
  const meta = el('span', 'live-call-meta', { 'data-testid': 'live-call-meta' });
  const actions = el('span', 'live-call-actions');
  const listen = el('button', 'btn small', { type: 'button', 'data-testid': 'live-call-listen', 'aria-pressed': 'false' });
  listen.textContent = 'Listen';
  const whisper = el('button', 'btn small', { type: 'button', 'data-testid': 'live-call-whisper', 'aria-pressed': 'false' });
  whisper.textContent = 'Whisper';
  const barge = el('button', 'btn small', { type: 'button', 'data-testid': 'live-call-barge', 'aria-pressed': 'false' });
  barge.textContent = 'Barge in';
  const leave = el('button', 'btn small danger', { type: 'button', 'data-testid': 'live-call-leave' });
  leave.textContent = 'Leave';
  leave.hidden = true;
  listen.addEventListener('click', () => { joinMonitor(callId, 'listen'); });
  whisper.addEventListener('click', () => { joinMonitor(callId, 'whisper'); });
  barge.addEventListener('click', () => { joinMonitor(callId, 'barge'); });
  leave.addEventListener('click', () => leaveMonitor(''));
  actions.append(listen, whisper, barge, leave);
  li.append(title, actions, meta);
  return { li, title, meta, listen, whisper, barge, leave };
}

export function monitorState() {
  const m = P.mon;
  return {
    supervisor: P.supervisor,
    panelOpen: board.open,
    calls: board.calls.map((x) => x.call_id),
    monitor: m ? { call_id: m.callId, mode: m.mode, phase: m.phase, connected: !!m.connectedAt, error: m.error } : null,
  };
}
