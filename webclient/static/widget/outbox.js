// The widget's outbox (messages typed but not yet acknowledged) and event cache as kept in localStorage,
// merged with what another tab of the same customer wrote there: merge, never drop. Pure functions.

import { cmpId } from '../shared/ids.js';

/** Events by id from both lists (ours win on the same id), ascending, the newest `limit`. */
export function mergeEvents(ours, theirs, limit) {
  const map = new Map();
  for (const e of ours) map.set(e.id, e);
  for (const e of theirs) if (e && typeof e.id === 'string' && !map.has(e.id)) map.set(e.id, e);
  return Array.from(map.values()).sort((x, y) => cmpId(x.id, y.id)).slice(-limit);
}

/** Our unacknowledged messages, plus those another tab stored that this tab has not settled (settled(id):
 *  acknowledged, failed, delivered or on screen here), oldest first. */
export function mergeOutbox(ours, stored, settled) {
  const box = ours.slice();
  const known = new Set(box.map((e) => e.client_id));
  for (const e of stored) {
    if (!e || typeof e.client_id !== 'string' || known.has(e.client_id)) continue;
    if (settled(e.client_id)) continue;
    box.push(e);
  }
  return box.sort((x, y) => (x.ts || 0) - (y.ts || 0));
}
