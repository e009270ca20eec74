// The customer's earlier conversations in the context panel, and any conversation opened read-only in a dialog
// with the same rendering as the live timeline (GET /api/conversations?customer=, GET /api/conversations/{id}).

import { api } from './api.js';
import { cmpId } from '../shared/ids.js';
import { S } from './state.js';
import { dispositionLabel } from './dispositions.js';
import { fmtFull, h, partNodes, shortId } from './dom.js';
import { line, user } from './event_text.js';
import { eventNodes } from './timeline.js';

const PREVIOUS_LIMIT = 10;
const FRESH_MS = 15000;
const cache = new Map();   // 'customer|selected conversation' -> {at, rows}: once per selection, not per event

/** One conversation in a list (previous conversations, search results): date, channel, agent, disposition. */
export function conversationRow(row, testid) {
  const channels = Array.isArray(row.channels) && row.channels.length ? row.channels.join(' + ') : 'chat';
  const who = row.customer_name || `Customer ${shortId(row.customer_id)}`;
  const outcome = row.state === 'closed' ? (row.disposition ? dispositionLabel(S.dispositionLabels, row.disposition) : 'closed')
    : row.state;
  const button = h('button', { type: 'button', class: 'hist-open', 'data-conversation-id': row.id,
    title: `Open ${row.id} (read-only)` },
  h('span', { class: 'hist-line' },
    h('span', { class: 'hist-date', text: fmtFull(row.created_at) }),
    h('span', { class: 'hist-channel', 'data-channel': channels, text: channels })),
  h('span', { class: 'hist-line hist-sub' },
    h('span', { class: 'hist-who', text: testid === 'search-result' ? who : (row.agent_name || row.agent_id || 'no agent') }),
    h('span', { class: 'hist-outcome', 'data-state': row.state || '', text: outcome || '' })),
  row.last_text ? h('span', { class: 'hist-text', text: row.last_text }) : null);
  if (testid === 'search-result') {
    button.querySelector('.hist-sub').append(h('span', { class: 'hist-agent', text: row.agent_name || row.agent_id || 'no agent' }));
  }
  button.addEventListener('click', () => openReadOnly(row.id, button));
  return h('li', { class: 'hist-item', 'data-testid': testid, 'data-conversation-id': row.id }, button);
}

/** The "Previous conversations" section for the selected conversation's customer (filled when it arrives). */
export function previousSection(conv) {
  const customer = conv && conv.summary && conv.summary.customer_id;
  const list = h('ul', { class: 'hist-list', 'aria-label': 'Previous conversations' });
  const status = h('p', { class: 'empty', text: 'Loading…' });
  const section = h('div', { class: 'ctx-section', 'data-testid': 'previous-conversations' },
    h('h3', { text: 'Previous conversations' }), status, list);
  if (!customer) { status.textContent = 'Unknown customer.'; return section; }
  const show = (entry) => {
    const rows = entry.rows.filter((r) => r.id !== conv.id);
    status.hidden = rows.length > 0;
    status.textContent = 'No earlier conversations.';
    list.replaceChildren(...rows.map((r) => conversationRow(r, 'previous-conversation')));
  };
  const key = `${customer}|${conv.id}`;
  const cached = cache.get(key);
  if (cached && Date.now() - cached.at < FRESH_MS) { show(cached); return section; }
  api('/api/conversations', { params: { customer, limit: PREVIOUS_LIMIT + 1 } })
    .then((page) => {
      const entry = { at: Date.now(), rows: Array.isArray(page.conversations) ? page.conversations : [] };
      cache.set(key, entry);
      show(entry);
    })
    .catch((err) => { status.textContent = `Could not load them: ${err.message}`; });
  return section;
}

// ------------------------------------------------------------ the read-only view

let dialog = null;

function ensureDialog() {
  if (dialog) return dialog;
  const title = h('h2', { id: 'history-title', 'data-testid': 'history-title' });
  const meta = h('p', { class: 'history-meta', 'data-testid': 'history-meta' });
  const close = h('button', { type: 'button', class: 'btn ghost small', 'data-testid': 'history-close', text: 'Close' });
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'history-timeline', 'aria-label': 'Timeline (read-only)' });
  dialog = h('dialog', { class: 'history-view', 'data-testid': 'history-view', 'aria-labelledby': 'history-title' },
    h('header', { class: 'history-head' }, h('div', null, title, meta), close),
    h('div', { class: 'history-body' }, timeline),
    h('p', { class: 'readonly', text: 'Read-only: an earlier or another agent\'s conversation.' }));
  close.addEventListener('click', () => dialog.close());
  document.body.append(dialog);
  return dialog;
}

/** Open a conversation read-only: every event, recordings where this agent may play them. */
export async function openReadOnly(cid, returnFocus) {
  const d = ensureDialog();
  const title = d.querySelector('[data-testid=history-title]');
  const meta = d.querySelector('[data-testid=history-meta]');
  const timeline = d.querySelector('[data-testid=history-timeline]');
  title.textContent = `Conversation ${cid}`;
  meta.textContent = 'Loading…';
  timeline.replaceChildren();
  d.dataset.conversationId = cid;
  if (!d.open) d.showModal();
  if (returnFocus) d.addEventListener('close', () => returnFocus.focus(), { once: true });
  try {
    const body = await api(`/api/conversations/${encodeURIComponent(cid)}`);
    if (d.dataset.conversationId !== cid) return;
    const c = body.conversation || {};
    const ctx = c.context || {};
    // names isolated (<bdi>): an override in a customer's or an agent's name stays in it (event_text.js)
    title.replaceChildren(...partNodes(line`${user(ctx['verified.name'] || `Customer ${shortId(c.customer_id)}`)} · ${
      fmtFull(c.created_at)}`));
    const who = c.agent_name || c.agent_id;
    meta.replaceChildren(...partNodes(line`${c.state === 'closed'
      ? `closed${c.disposition ? ` · ${dispositionLabel(S.dispositionLabels, c.disposition)}` : ''}` : c.state}${
      who ? line` · agent ${user(who)}` : ''} · ${c.id}`));
    const events = (Array.isArray(body.events) ? body.events : []).slice().sort((a, b) => cmpId(a.id, b.id));
    timeline.replaceChildren(...eventNodes(events, body));   // the IVR trace collapsed as in the live timeline
  } catch (err) {
    meta.textContent = `Could not open it: ${err.message}`;
  }
}
