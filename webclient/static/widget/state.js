// What the widget knows (one object, W), and its copy in localStorage: the event cache and the outbox of
// unacknowledged messages, merged with what another tab of the same customer wrote.

import { CACHE_LIMIT, SCRIPT, STATE_KEY, TOKEN_KEY } from './config.js';
import { cmpId } from '../shared/ids.js';
import { mergeEvents, mergeOutbox } from './outbox.js';
import { keepRefused, mergeRefused } from './refused.js';
import { store } from './storage.js';

// ------------------------------------------------------------ state

/** What the widget knows, in one place: every module reads and writes it here. */
export const W = {
  // A token the site's backend signed to vouch for the customer (README "Verified customers"); optional.
  customerToken: SCRIPT ? (SCRIPT.getAttribute('data-customer-token') || '').trim() : '',
  token: store.get(TOKEN_KEY) || null,
  customerId: null,
  lastEventId: null,          // highest event id rendered
  outbox: [],                 // [{client_id, text, ts}] not yet acked
  cache: [],                  // customer-visible events, ascending id (localStorage copy)
  refused: [],                // uploads that did not arrive: their notes, kept for the timeline (refused.js)
  conv: { id: null, state: null, agentName: null, queuePos: null },
  rateTimer: null,            // resends the messages the gateway refused as rate_limited
  helloSentLastEventId: false,
  forceFullHistory: false,
  flashText: '',
  flashTimer: null,
  unread: 0,
  seenId: null,               // the last event shown with the panel open (kept): newer agent messages are unread
  isOpen: false,
  focusInPanel: false, // the focus was last inside the panel (panel.js keepFocus)
  call: null,                 // the current call, or the last one (status 'ended'); see call.js
  callHideTimer: null,
  callback: null,             // the open callback: {id, state, asap, dueMs, ringUntil, agentName}
  invite: null,               // an agent's invitation to a call: {eventId, agentName, ringUntil}
  typingActive: false,        // we told the agent we are typing
  hoursOpen: null,            // the gateway's word at the last welcome: true / false by opening hours, null: no hours
};
export const seen = new Set();        // event ids rendered
export const bubbles = new Map();     // client_id -> bubble element
export const resolved = new Set();    // client_ids acked or failed in this tab
export const rateLimited = new Set();   // the client ids refused as rate_limited (they stay in the outbox)

export function loadState() {
  let st = null;
  try { st = JSON.parse(store.get(STATE_KEY) || 'null'); } catch (_) { st = null; }
  if (!st || st.v !== 1) return;
  if (Array.isArray(st.outbox)) {
    W.outbox = st.outbox.filter((e) => e && typeof e.client_id === 'string' && typeof e.text === 'string');
  }
  // The event cache is only trusted for the identity it was written for.
  if (W.token && st.token === W.token) {
    W.customerId = st.customer_id || null;
    W.conv.id = st.conversation_id || null;
    if (typeof st.seen === 'string') W.seenId = st.seen;
    if (Array.isArray(st.events)) {
      W.cache = st.events.filter((e) => e && typeof e.id === 'string').sort((a, b) => cmpId(a.id, b.id));
    }
    W.refused = keepRefused(st.refused);
  }
  if (!W.customerToken && typeof W.customerId === 'string' && W.customerId.startsWith('v_')) {
    // A site's logged-in customer, on a page that no longer vouches for them (they logged out; maybe a
    // shared computer): nothing of theirs is shown or sent from here on (the gateway refuses it too).
    W.token = null;
    W.customerId = null;
    W.conv.id = null;
    W.cache = [];
    W.outbox = [];
    W.refused = [];
    store.remove(TOKEN_KEY);
    store.remove(STATE_KEY);
  }
}

export let saveTimer = null;
export function saveSoon() {
  if (saveTimer) return;
  saveTimer = setTimeout(saveNow, 150);
}

export function saveNow() {
  clearTimeout(saveTimer);
  saveTimer = null;
  let stored = null;
  try { stored = JSON.parse(store.get(STATE_KEY) || 'null'); } catch (_) { stored = null; }
  let events = W.cache;
  let box = W.outbox.slice();
  let refused = W.refused;
  // Another tab of the same customer may have written too: merge, never drop.
  if (stored && stored.v === 1) {
    if (W.token && stored.token === W.token && Array.isArray(stored.events)) {
      events = mergeEvents(W.cache, stored.events, CACHE_LIMIT);
    }
    if (W.token && stored.token === W.token) refused = mergeRefused(W.refused, stored.refused);
    if (Array.isArray(stored.outbox)) {
      const delivered = new Set(events.map((e) => e.client_id).filter(Boolean));
      box = mergeOutbox(box, stored.outbox, (id) => resolved.has(id) || delivered.has(id) || bubbles.has(id));
    }
  }
  const last = events.length ? events[events.length - 1].id : W.lastEventId;
  if (W.isOpen && W.lastEventId) W.seenId = W.lastEventId; // shown with the panel open: read
  let seen = W.seenId;
  if (stored && stored.token === W.token && typeof stored.seen === 'string' && (!seen || cmpId(stored.seen, seen) > 0)) {
    seen = stored.seen; // another tab showed more
  }
  const st = {
    v: 1,
    token: W.token,
    customer_id: W.customerId,
    conversation_id: W.conv.id,
    last_event_id: last,
    seen,
    events,
    outbox: box,
    // (an upload that failed here and arrived after all, its attachment event in the history, is no note)
    refused: refused.filter((n) => !events.some((e) => e.client_id === n.client_id)),
  };
  if (!store.set(STATE_KEY, JSON.stringify(st))) {
    // Quota: keep the outbox (it matters), shrink the cache.
    st.events = events.slice(-20);
    if (!store.set(STATE_KEY, JSON.stringify(st))) {
      st.events = [];
      store.set(STATE_KEY, JSON.stringify(st));
    }
  }
}

export function removeFromOutbox(clientId) {
  resolved.add(clientId);
  const before = W.outbox.length;
  W.outbox = W.outbox.filter((e) => e.client_id !== clientId);
  if (W.outbox.length !== before) saveNow();
}
