// Uploads that did not arrive (refused by the gateway, or the connection failed), kept on this device so that the
// line saying why stays in the conversation after a reload (README "Attachments": "a refused one stays in the
// timeline saying why"): stored with the widget's state (state.js), for its customer only, a few per conversation.
// Each note remembers the last event before it, so it comes back in its place. Pure. Unit tests:
// webclient/tests/widget_refused.test.mjs.

import { clip } from '../shared/text.js';

export const REFUSED_PER_CONVERSATION = 10;   // the newest this many of a conversation...
export const REFUSED_MAX = 30;                // ...and of all, on this device
export const REFUSED_TEXT_MAX = 400;          // code points of a note ("<name> was not sent: <why>.")

/** A note: the upload's client id, what its line said, its conversation and the last event shown before it. */
export function refusedNote(clientId, text, conversationId, after, ts) {
  return {
    client_id: String(clientId),
    text: clip(text, REFUSED_TEXT_MAX),
    conversation_id: typeof conversationId === 'string' ? conversationId : null,
    after: typeof after === 'string' ? after : null,
    ts: Number(ts) || 0,
  };
}

/** Valid notes, once each by client id (the first wins), oldest first, within the bounds above. */
export function keepRefused(notes) {
  const byId = new Map();
  for (const n of Array.isArray(notes) ? notes : []) {
    if (!n || typeof n.client_id !== 'string' || !n.client_id || typeof n.text !== 'string' || byId.has(n.client_id)) continue;
    byId.set(n.client_id, refusedNote(n.client_id, n.text, n.conversation_id, n.after, n.ts));
  }
  const newestFirst = Array.from(byId.values()).sort((a, b) => b.ts - a.ts);
  const perConversation = new Map();
  const kept = [];
  for (const n of newestFirst) {
    const key = n.conversation_id || '';
    const count = perConversation.get(key) || 0;
    if (count >= REFUSED_PER_CONVERSATION || kept.length >= REFUSED_MAX) continue;
    perConversation.set(key, count + 1);
    kept.push(n);
  }
  return kept.reverse();
}

/** Ours and another tab's (stored) notes, ours first. */
export function mergeRefused(ours, theirs) {
  return keepRefused([...(Array.isArray(ours) ? ours : []), ...(Array.isArray(theirs) ? theirs : [])]);
}
