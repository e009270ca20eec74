// The audit log's compact diff: what an entry's `before` and `after` differ in, field by field (nested objects by
// dotted paths, lists and scalars whole, except a code list — [{code, label}], the away reasons and dispositions —
// by code, with its order as one more field; empty fields left out, times as dates in the viewer's time zone). Pure,
// tested by node (webclient/tests/console_diff.test.mjs).

import { timeText } from './console_dom.js';

// A time field (`at`, `created_at`, `callback.due_at`): epoch milliseconds, shown as a date.
const TIME_FIELD = /(^|[._])at$/;

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A code list ([{code, label}...]) as {code: label}, or null for any other value. */
function codeList(value) {
  const item = (x) => isObject(x) && typeof x.code === 'string' && typeof x.label === 'string';
  if (!Array.isArray(value) || !value.length || !value.every(item)) return null;
  return Object.fromEntries(value.map((x) => [x.code, x.label]));
}

function flatten(value, prefix, out) {
  const codes = prefix ? codeList(value) : null;
  if (codes) { // "reasons.lunch: Lunch → Lunch break", "+ reasons.coaching: Coaching", and the order if it changed
    for (const [code, label] of Object.entries(codes)) out.set(`${prefix}.${code}`, label);
    out.set(`${prefix} (order)`, Object.keys(codes).join(', '));
  } else if (isObject(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix && value !== null && value !== '') { // an empty field says nothing (a first flow.save's
    // `version: null`, `parent: ''`): left out, so a field emptied reads as removed
    out.set(prefix, value);
  }
  return out;
}

/** [{path, kind: 'added'|'removed'|'changed', from, to}] sorted by path; a created thing (no before) lists its
 * fields as added, a removed one (no after) as removed. Equal values are left out. */
export function diffEntries(before, after) {
  const a = flatten(isObject(before) ? before : {}, '', new Map());
  const b = flatten(isObject(after) ? after : {}, '', new Map());
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out = [];
  for (const path of paths) {
    const had = a.has(path);
    const has = b.has(path);
    if (had && has && JSON.stringify(a.get(path)) === JSON.stringify(b.get(path))) continue;
    out.push({ path, kind: had && has ? 'changed' : has ? 'added' : 'removed', from: a.get(path), to: b.get(path) });
  }
  return out;
}

/** A value as one short line: strings bare, the rest as JSON, long ones cut. */
export function valueText(value, max = 80) {
  const text = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A field's value as a short line: a time field's epoch milliseconds as a date and time, the rest as valueText. */
export function fieldText(path, value) {
  const ms = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (TIME_FIELD.test(path) && typeof ms === 'number' && ms > 1e11) return timeText(ms);
  return valueText(value);
}

/** One change as a line of text: "capacity: 2 → 3", "+ skills.billing: 3", "− music: hold.wav". */
export function changeText(c) {
  if (c.kind === 'added') return `+ ${c.path}: ${fieldText(c.path, c.to)}`;
  if (c.kind === 'removed') return `− ${c.path}: ${fieldText(c.path, c.from)}`;
  return `${c.path}: ${fieldText(c.path, c.from)} → ${fieldText(c.path, c.to)}`;
}
