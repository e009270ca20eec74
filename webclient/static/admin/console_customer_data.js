// The Customers section's pure parts (no DOM): what a typed id is, a customer's export (GET
// /api/admin/customers/{id}) as table rows and counts, and an erasure's answer (DELETE) as one sentence.
// The data in them is the customer's and the agents' words: the view puts every piece in as text, never as markup.

/** A customer id as the gateway takes it: today `u_` + 16 hex (a browser's customer) or `v_` + 16 hex (a site's
 * verified user), older ids too (gateway/wire/customer_routes.py). */
export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A conversation id: `c_` + 16 hex (`t_` a flow test run's), as gateway/contact/conversations.py makes them. */
export const CONVERSATION_ID = /^[ct]_[0-9a-f]{16}$/;

/** What the lookup field holds: {kind: 'conversation'|'customer', id} (a conversation's shape first: any other id
 * the gateway could take is a customer's), or {kind: null, id} for what no id looks like. */
export function lookupKind(text) {
  const id = String(text ?? '').trim();
  if (CONVERSATION_ID.test(id)) return { kind: 'conversation', id };
  if (CUSTOMER_ID.test(id)) return { kind: 'customer', id };
  return { kind: null, id };
}

/** The export's file name: `customer-<id>.json` (anything but letters, digits, _ and - made _). */
export function exportName(customerId) {
  return `customer-${String(customerId).replace(/[^A-Za-z0-9_-]/g, '_')}.json`;
}

const list = (value) => (Array.isArray(value) ? value : []);

/** How the customer reached us in one conversation: 'chat' (messages, files), 'voice' (calls), both or neither. */
export function channelsOf(summary, events) {
  const found = new Set();
  for (const e of list(events)) {
    if (!e || typeof e !== 'object') continue;
    if (e.type === 'message' || e.type === 'attachment') found.add('chat');
    if (e.type === 'call_started') found.add(e.channel === 'chat' ? 'chat' : 'voice');
  }
  if (summary && Number(summary.calls) > 0) found.add('voice');
  return ['chat', 'voice'].filter((c) => found.has(c));
}

/** How a conversation ended: the summary's disposition, else its last `closed` event's; '' while it is open. */
export function dispositionOf(summary, events) {
  if (summary && typeof summary.disposition === 'string' && summary.disposition) return summary.disposition;
  const closed = list(events).filter((e) => e && e.type === 'closed');
  const last = closed[closed.length - 1];
  return last && typeof last.disposition === 'string' ? last.disposition : '';
}

/** One row per conversation of the export, in its order (newest first): what the table shows. */
export function conversationRows(data) {
  return list(data && data.conversations).filter((c) => c && c.conversation).map(({ conversation: s, events }) => ({
    id: String(s.id ?? ''),
    created: s.created_at ?? null,
    updated: s.updated_at ?? null,
    state: String(s.state ?? ''),
    disposition: dispositionOf(s, events),
    queue: s.queue == null ? '' : String(s.queue),
    agent: s.agent_name || s.agent_id ? String(s.agent_name || s.agent_id) : '',
    channels: channelsOf(s, events),
    events: list(events).length,
  }));
}

/** What the export holds, counted: conversations, their events, callbacks, attachments, recordings. */
export function exportCounts(data) {
  const convs = list(data && data.conversations);
  return {
    conversations: convs.length,
    events: convs.reduce((n, c) => n + list(c && c.events).length, 0),
    callbacks: list(data && data.callbacks).length,
    attachments: list(data && data.attachments).length,
    recordings: list(data && data.recordings).length,
  };
}

/** `n thing` / `n things` (an irregular plural given whole). */
export function count(n, one, many = `${one}s`) {
  const k = Number(n) || 0;
  return `${k} ${k === 1 ? one : many}`;
}

/** The erasure's answer as the status line says it: "Erased: 3 conversations (1 open, closed first), ...". */
export function erasedText(answer) {
  const a = answer || {};
  const closed = Number(a.closed) || 0;
  const parts = [
    count(a.conversations, 'conversation') + (closed ? ` (${closed} open, closed first)` : ''),
    count(a.callbacks, 'callback'),
    count(a.attachments, 'attachment'),
    count(a.recordings, 'recording'),
    count(a.event_log_entries, 'event log entry', 'event log entries'),
    count(a.webhook_payloads, 'webhook payload'),
  ];
  return `Erased: ${parts.join(', ')}.`;
}
