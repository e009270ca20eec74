// Canned responses, the pure part: filling in their variables and finding them as the agent types (no DOM).
// The gateway refuses a canned response naming any other variable (gateway/contact/canned.py).

export const VARIABLES = ['customer.name', 'customer.id', 'agent.name', 'agent.id', 'conversation.id'];

const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g;
const VARIABLE = /^\s*([a-z]+\.[a-z]+)\s*(?:\|([^{}|]*))?$/;

/**
 * `text` with every `{{ name }}` / `{{ name | fallback }}` replaced by `values[name]` (trimmed), else the fallback.
 * Returns {text, missing}: `missing` names each variable that had neither (filled with nothing) and each
 * placeholder that is no known variable (left as it is), so the desk can say so before the agent sends.
 */
export function fillTemplate(text, values) {
  const missing = [];
  const out = String(text == null ? '' : text).replace(PLACEHOLDER, (whole, inner) => {
    const m = VARIABLE.exec(inner);
    if (!m || !VARIABLES.includes(m[1])) { missing.push(whole); return whole; }
    const value = values && values[m[1]];
    if (typeof value === 'string' && value.trim()) return value.trim();
    const fallback = m[2] == null ? '' : m[2].trim();
    if (!fallback) missing.push(m[1]);
    return fallback;
  });
  return { text: out, missing };
}

/**
 * The canned responses matching what follows the `/` (case-insensitive), best first: shortcut starts with it,
 * then shortcut contains it, then title, then text; ties by shortcut. At most `limit`.
 */
export function filterCanned(items, query, limit = 8) {
  const q = String(query || '').toLowerCase();
  const ranked = [];
  for (const item of Array.isArray(items) ? items : []) {
    if (!item || typeof item.shortcut !== 'string') continue;
    const shortcut = item.shortcut.toLowerCase();
    const title = String(item.title || '').toLowerCase();
    const text = String(item.text || '').toLowerCase();
    const rank = shortcut.startsWith(q) ? 0 : shortcut.includes(q) ? 1 : title.includes(q) ? 2 : text.includes(q) ? 3 : -1;
    if (rank >= 0) ranked.push([rank, item]);
  }
  ranked.sort((a, b) => a[0] - b[0] || (a[1].shortcut < b[1].shortcut ? -1 : a[1].shortcut > b[1].shortcut ? 1 : 0) ||
    (a[1].scope === 'personal' ? -1 : 1));
  return ranked.slice(0, limit).map(([, item]) => item);
}

/** What follows `/` when the composer holds only a shortcut being typed (`/ref`), else null. */
export function slashQuery(value) {
  const m = /^\/([\w-]{0,32})$/.exec(String(value || ''));
  return m ? m[1] : null;
}
