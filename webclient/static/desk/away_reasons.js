// Away reasons ("aux codes"), the pure part (no DOM; webclient/tests/away_reasons.test.mjs): the center's list an
// admin keeps (welcome.away_reasons, GET /api/away-reasons: [{code, label}], gateway/contact/away_reasons.py), a
// reason's words for the desk's top bar and the wallboard, the desk's Away menu as a model (its items, which one is
// current, where a key moves the focus) and the line said when the gateway refuses a reason an admin took away
// meanwhile. The menu itself: desk/away_menu.js.

import { awayWords } from '../shared/away_words.js';
import { AgentStatus, ErrorCode } from '../shared/protocol.js';

/** The reasons the gateway sets itself (gateway/contact/away_reasons.py GATEWAY_REASONS): never on the center's
 * list, never offered; they keep their own words (shared/away_words.js, desk/presence_note.js). */
export const GATEWAY_REASONS = Object.freeze([
  'missed_call', 'declined_call', 'call_lost', 'agent_absent', 'agent_logged_out', 'agent_disabled', 'agent_removed',
  'set_by_supervisor',
]);

/** A frame's or a response's list as [{code, label}], in its order: an entry that is not {code, label} strings is
 * left out, a code twice counts once. null when there is no list at all (an older gateway said nothing). */
export function reasonList(value) {
  if (!Array.isArray(value)) return null;
  const out = [];
  const seen = new Set();
  for (const r of value) {
    if (!r || typeof r !== 'object' || typeof r.code !== 'string' || !r.code || seen.has(r.code)) continue;
    if (GATEWAY_REASONS.includes(r.code)) continue;
    const label = typeof r.label === 'string' && r.label.trim() ? r.label.trim() : r.code;
    seen.add(r.code);
    out.push({ code: r.code, label });
  }
  return out;
}

/** The reasons whose labels a page shows: the `current` list, then those of `past` lists no longer on it (an agent
 * away with one an admin took off the list meanwhile still reads "Away: Meeting", not "meeting"). null: none known. */
export function knownReasons(past, current) {
  if (!Array.isArray(current)) return Array.isArray(past) ? past : null;
  const codes = new Set(current.map((r) => r.code));
  return current.concat((Array.isArray(past) ? past : []).filter((r) => r && !codes.has(r.code)));
}

/** Was `code` set by the gateway (a missed call, a supervisor...) rather than chosen by the agent? */
export function gatewayReason(code) {
  return typeof code === 'string' && GATEWAY_REASONS.includes(code);
}

/**
 * An away reason in words: '' for none; the gateway's own in its words ("missed a call"); one of `reasons` (the
 * center's list) as its label ("Lunch"); any other as its code, its underscores as spaces ("back office work": a
 * reason an admin took off the list stays on the agents away with it; spaces let a narrow table column wrap it), as
 * the wallboard always said a reason it did not know.
 */
export function reasonLabel(code, reasons) {
  const c = typeof code === 'string' ? code.trim() : '';
  if (!c) return '';
  const found = !gatewayReason(c) && Array.isArray(reasons) ? reasons.find((r) => r && r.code === c) : null;
  return found ? found.label : awayWords(c);
}

/** What the desk's top bar adds to "Away" for the agent's own reason ("Lunch": the bar reads "Away: Lunch"); '' when
 * not away, away without a reason, or away for a reason of the gateway's (desk/presence_note.js explains those). */
export function ownReasonText(agent, reasons) {
  if (!agent || agent.status !== AgentStatus.AWAY) return '';
  const code = typeof agent.away_reason === 'string' ? agent.away_reason : '';
  if (!code || gatewayReason(code)) return '';
  return reasonLabel(code, reasons || []);
}

/**
 * The Away control: `{menu, items}`. `menu` false when the center has no reasons (or did not say): the button sends
 * `away` with no reason, as it always did. `items`: [{code, label, current}] in the list's order; `current` is the
 * reason the agent is away with now (choosing another switches it).
 */
export function awayMenu(reasons, agent) {
  const list = Array.isArray(reasons) ? reasons : [];
  const away = !!agent && agent.status === AgentStatus.AWAY;
  const now = away && typeof agent.away_reason === 'string' ? agent.away_reason : '';
  const items = list.map((r) => ({ code: r.code, label: r.label, current: away && r.code === now }));
  return { menu: items.length > 0, items };
}

/** The `status` frame that sets the agent away for `code` ('' for none). */
export function awayFrame(code) {
  return { type: 'status', status: AgentStatus.AWAY, reason: typeof code === 'string' ? code : '' };
}

/**
 * Where a key moves the focus in a menu of `count` items whose item `index` has it (the menu button pattern):
 * `{focus: i}` to move, `{choose: true}` (Enter, Space), `{close: 'button'}` (Escape: closed, the focus back on the
 * button), `{close: 'leave'}` (Tab: closed, the focus goes on as Tab would from the button), or null (not the menu's
 * key). A printable character moves to the next item whose label starts with it (`labels`).
 */
export function menuKey(key, index, count, labels = []) {
  if (count <= 0) return key === 'Escape' ? { close: 'button' } : key === 'Tab' ? { close: 'leave' } : null;
  const at = Number.isInteger(index) && index >= 0 && index < count ? index : -1;
  switch (key) {
    case 'ArrowDown': return { focus: (at + 1) % count };
    case 'ArrowUp': return { focus: at < 0 ? count - 1 : (at - 1 + count) % count };
    case 'Home': case 'PageUp': return { focus: 0 };
    case 'End': case 'PageDown': return { focus: count - 1 };
    case 'Enter': case ' ': case 'Spacebar': return at < 0 ? null : { choose: true };
    case 'Escape': return { close: 'button' };
    case 'Tab': return { close: 'leave' };
    default: break;
  }
  if (typeof key !== 'string' || [...key].length !== 1 || !key.trim()) return null;
  const ch = key.toLocaleLowerCase();
  for (let step = 1; step <= count; step++) {
    const i = (at + step + count) % count;
    if (String(labels[i] || '').trim().toLocaleLowerCase().startsWith(ch)) return { focus: i };
  }
  return null;
}

/** The item the menu focuses when it opens: the current reason, else the first (`last`: the last, for ArrowUp). */
export function openingIndex(items, { last = false } = {}) {
  if (!items.length) return -1;
  if (last) return items.length - 1;
  const current = items.findIndex((i) => i.current);
  return current >= 0 ? current : 0;
}

/** Is this `error` frame the gateway refusing an away reason (not on the center's list any more)? */
export function reasonRefused(frame) {
  return !!frame && frame.type === 'error' && frame.field === 'reason'
    && (!frame.code || frame.code === ErrorCode.BAD_FIELD);
}

/** The one line said when the reason `label` was refused; `stillThere`: the list read again still has it (the
 * gateway refused it for another reason: its own words are said then, not ours). */
export function refusedText(label, { stillThere = false, message = '' } = {}) {
  if (stillThere) return message || 'That reason was refused: choose another';
  return `${label || 'That reason'} is no longer a reason here: choose another`;
}
