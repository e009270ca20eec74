// Supervisors: the callbacks booked and not done yet (GET /api/callbacks, every node), in the Live calls panel.
// A callback booked for later belongs to no agent until it falls due; this is where it can be seen before.

import { hourStyle } from '../../shared/clock.js';
import { desk, ui } from './state.js';

export const booked = { callbacks: [], error: '', loading: false };

const STATE = { scheduled: 'booked', queued: 'waiting for an agent', ringing: 'ringing the customer',
  connecting: 'the customer is calling in' };

/** One GET /api/callbacks; the list (or why not) is drawn by renderBooked. */
export async function refreshBooked() {
  const token = desk.token ? desk.token() : null;
  if (!token || booked.loading) return;
  booked.loading = true;
  try {
    const res = await fetch('/api/callbacks', {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store',
    });
    if (!res.ok) {
      booked.error = `Could not load the booked callbacks (HTTP ${res.status}).`;
      return;
    }
    const body = await res.json();
    booked.callbacks = Array.isArray(body && body.callbacks) ? body.callbacks.filter((c) => c && typeof c.id === 'string') : [];
    booked.error = '';
  } catch (_) {
    booked.error = 'Could not reach the gateway to list the booked callbacks.';
  } finally {
    booked.loading = false;
    renderBooked();
  }
}

export function clearBooked() {
  booked.callbacks = [];
  booked.error = '';
  renderBooked();
}

function when(cb) {
  const due = Number(cb.due_ms) || 0;
  if (cb.state !== 'scheduled' || !due) return '';
  return new Date(due).toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: hourStyle(), minute: '2-digit' });
}

/** "not tried yet (up to 3 attempts)", then "attempt 2 of 3". */
export function attemptText(cb) {
  const most = cb.max_attempts || 1;
  return cb.attempt ? `attempt ${cb.attempt} of ${most}` : `not tried yet (up to ${most} attempt${most === 1 ? '' : 's'})`;
}

export function renderBooked() {
  if (!ui.bookedList) return;
  ui.bookedList.replaceChildren(...booked.callbacks.map((cb) => {
    const li = document.createElement('li');
    li.className = 'booked-callback';
    li.setAttribute('data-testid', 'booked-callback');
    li.dataset.callbackId = cb.id;
    li.dataset.conversationId = String(cb.conversation_id || '');
    li.dataset.state = String(cb.state || '');
    const title = document.createElement('span');
    title.className = 'live-call-title';
    // the flow's button the customer pressed ("Yes, call me back") says nothing here: the title is what it is
    title.textContent = `Callback${cb.phone ? ' by phone' : ''}${when(cb) ? ` · ${when(cb)}` : ''}`;
    const meta = document.createElement('span');
    meta.className = 'live-call-meta';
    meta.textContent = [STATE[cb.state] || cb.state, cb.label ? `chose “${cb.label}”` : '', cb.queue ? `queue ${cb.queue}` : '',
      cb.customer_id ? `customer ${String(cb.customer_id).slice(0, 10)}` : '', cb.phone ? `phone ${cb.phone}` : '',
      cb.agent_id ? `with ${cb.agent_id}` : '', attemptText(cb)]
      .filter(Boolean).join(' · ');
    li.append(title, meta);
    return li;
  }));
  ui.bookedEmpty.hidden = booked.callbacks.length > 0;
  ui.bookedError.hidden = !booked.error;
  ui.bookedError.textContent = booked.error;
}
