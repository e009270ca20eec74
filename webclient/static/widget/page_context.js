// What the site says about the visit, for the flows: `context.<key>` variables (ivr/flows/README.md) next to the page
// and title the widget sends itself. The customer's word, never proof (a flow cannot route or prioritise on it without
// `trust_unverified`; use a signed customer token for that). From the script tag's data-context='{"plan": "gold"}' or
// ContactGateway.setContext({...}), which adds to what the tag said (a key set to null is taken out: it replaced the
// tag's keys without a word, a verifying test); sent with the next hello, so it counts for the conversation opened
// after it.

import { CONTEXT_KEY_PATTERN, MAX_CONTEXT_KEYS, MAX_CONTEXT_VALUE_CHARS } from '../shared/protocol.js';

const CONTEXT_KEY = new RegExp(CONTEXT_KEY_PATTERN);
const OWN = ['page', 'title']; // the widget's own keys: a site cannot replace them

/** The valid part of what a site gave (pure): keys as the protocol takes them, values as text (numbers and booleans
 * written out, longer ones cut), at most the keys left beside page and title; ``problems`` says what was dropped. */
export function siteContext(given) {
  const out = {};
  const problems = [];
  if (given == null) return { context: out, problems };
  if (typeof given !== 'object' || Array.isArray(given)) {
    return { context: out, problems: ['the context must be an object of keys and text values'] };
  }
  for (const [key, value] of Object.entries(given)) {
    if (OWN.includes(key)) { problems.push(`"${key}" is the widget's own`); continue; }
    if (!CONTEXT_KEY.test(key)) { problems.push(`"${key}" is not a context key (${CONTEXT_KEY_PATTERN})`); continue; }
    if (!['string', 'number', 'boolean'].includes(typeof value)) { problems.push(`"${key}" is not text`); continue; }
    if (Object.keys(out).length >= MAX_CONTEXT_KEYS - OWN.length) { problems.push(`"${key}": too many keys`); continue; }
    out[key] = String(value).slice(0, MAX_CONTEXT_VALUE_CHARS);
  }
  return { context: out, problems };
}

/** data-context on the script tag, parsed: an object, or null (with a warning) when it is not JSON. */
export function parseAttribute(text) {
  if (!text || !text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch (_) {
    console.warn('Contact widget: data-context is not JSON; left out');
    return null;
  }
}

let siteGiven = {};

/** What the site's context becomes when ``given`` is added to ``before`` (pure): valid keys added or replaced, a key
 * given null taken out, at most the keys left beside page and title; ``problems`` says what was left out. */
export function mergedContext(before, given) {
  if (given != null && (typeof given !== 'object' || Array.isArray(given))) {
    return { context: { ...before }, problems: ['the context must be an object of keys and text values'] };
  }
  const next = { ...before };
  const added = {};
  for (const [key, value] of Object.entries(given || {})) {
    if (value === null) delete next[key];
    else added[key] = value;
  }
  const checked = siteContext(added);
  const problems = [...checked.problems];
  for (const [key, value] of Object.entries(checked.context)) {
    if (!(key in next) && Object.keys(next).length >= MAX_CONTEXT_KEYS - OWN.length) {
      problems.push(`"${key}": too many keys`);
      continue;
    }
    next[key] = value;
  }
  return { context: next, problems };
}

/** Add what the site gave (invalid keys left out, said on the console); the next hello carries it. */
export function setPageContext(given) {
  const { context, problems } = mergedContext(siteGiven, given);
  for (const p of problems) console.warn(`Contact widget: context ${p}; left out`);
  siteGiven = context;
}

/** The site's context now (a copy). */
export function pageContext() {
  return { ...siteGiven };
}
