// What the desk knows (S) and its elements (ui); sessionStorage that never throws, holding the token, the
// outbox of unacknowledged messages and the drafts.

import { AGENT_KEY, DRAFTS_KEY, OUTBOX_KEY, ROLES_KEY, TOKEN_EXP_KEY, TOKEN_KEY } from './config.js';

export const storage = {
  get(k) { try { return sessionStorage.getItem(k); } catch (_) { return null; } },
  set(k, v) { try { sessionStorage.setItem(k, v); } catch (_) { /* ignore */ } },
  remove(k) { try { sessionStorage.removeItem(k); } catch (_) { /* ignore */ } },
  json(k, fallback) {
    try { const v = JSON.parse(sessionStorage.getItem(k) || 'null'); return v == null ? fallback : v; } catch (_) { return fallback; }
  },
};

// ------------------------------------------------------------ state

export const S = {
  token: storage.get(TOKEN_KEY),
  tokenExp: Number(storage.get(TOKEN_EXP_KEY)) || 0,
  refreshTimer: null,
  agent: storage.json(AGENT_KEY, null),
  roles: storage.json(ROLES_KEY, null),   // from the login response (the socket's agent info has none)
  dispositions: [],           // the codes a conversation is closed with (welcome.dispositions), in the order offered
  dispositionLabels: {},      // and each one's label
  agentNames: {},             // every agent's name by id (welcome.agent_names)
  takesContacts: null,        // the ids a transfer can go to (welcome.takes_contacts; null: not said, every agent)
  queueNames: [],             // every queue's name (welcome.queue_names): suggested for transfers to a queue
  awayReasons: null,          // the center's away reasons, [{code, label}] (welcome.away_reasons; null: not said)
  awayLabels: null,           // those and any this page saw before (a reason taken off the list keeps its label)
  queue: [],
  convs: new Map(),       // id -> conversation state (insertion order = list order)
  selected: null,
  running: false,
  closing: null,          // conversation id of a pending close request
};

/** The desk's elements, found at boot. */
export const ui = {};
export const drafts = storage.json(DRAFTS_KEY, {});

function newConv(id) {
  return {
    id,
    summary: { id },
    events: new Map(),    // event id -> event
    pending: new Map(),   // client_id -> {client_id, kind, text, ts, status, event_id?, error?}
    context: {},
    unread: 0,
    draft: typeof drafts[id] === 'string' ? drafts[id] : '',
    note: false,
    closed: false,
    historyLoaded: false,
    lastEventId: null,
    typingDraft: null,
    typingTimer: null,
  };
}

export function ensureConv(id) {
  let conv = S.convs.get(id);
  if (!conv) {
    conv = newConv(id);
    S.convs.set(id, conv);
  }
  return conv;
}

export function updateSummary(conv, s) {
  if (!s || typeof s !== 'object') return;
  conv.summary = Object.assign({}, conv.summary, s);
  if (s.context && typeof s.context === 'object') conv.context = Object.assign({}, conv.context, s.context);
  if (s.state === 'closed') conv.closed = true;
}

// ------------------------------------------------------------ persistence

export function saveOutbox() {
  const out = [];
  for (const conv of S.convs.values()) {
    for (const p of conv.pending.values()) {
      if (p.status === 'sending') {
        out.push({ conversation_id: conv.id, client_id: p.client_id, kind: p.kind, text: p.text, ts: p.ts });
      }
    }
  }
  if (out.length) storage.set(OUTBOX_KEY, JSON.stringify(out));
  else storage.remove(OUTBOX_KEY);
}

export function restoreOutbox() {
  const saved = storage.json(OUTBOX_KEY, []);
  if (!Array.isArray(saved)) return;
  for (const e of saved) {
    if (!e || typeof e.conversation_id !== 'string' || typeof e.client_id !== 'string' || typeof e.text !== 'string') continue;
    const conv = ensureConv(e.conversation_id);
    conv.pending.set(e.client_id, {
      client_id: e.client_id, kind: e.kind === 'note' ? 'note' : 'message', text: e.text, ts: e.ts || Date.now(), status: 'sending',
    });
  }
}

let draftTimer = null;
export function saveDraftsSoon() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => {
    const out = {};
    for (const conv of S.convs.values()) if (conv.draft) out[conv.id] = conv.draft;
    storage.set(DRAFTS_KEY, JSON.stringify(out));
  }, 300);
}

/** An agent's display name ("Bob Jones" rather than "bob"); the id when the name is not known. */
export function nameOf(agentId) {
  const name = agentId && Object.prototype.hasOwnProperty.call(S.agentNames, agentId) ? S.agentNames[agentId] : '';
  return typeof name === 'string' && name ? name : agentId;
}
