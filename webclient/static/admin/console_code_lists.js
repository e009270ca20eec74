// The center's code lists, their pure part (the editor is console_codes.js): what each list is called, where the
// gateway keeps it, the codes the gateway keeps for itself, and the checks the gateway makes
// (gateway/contact/code_lists.py), made here before sending so that an admin sees every row's problem at once.
// Two lists: the away reasons (GET /api/away-reasons, PUT /api/admin/away-reasons, key "reasons") and the
// dispositions (GET /api/dispositions, PUT /api/admin/dispositions, key "dispositions"), each [{code, label}] in the
// order the desk offers it.

export const MAX_CODE = 30;
export const MAX_LABEL = 40;
export const MAX_CODES = 20;
const CODE = /^[a-z0-9][a-z0-9_-]{0,29}$/;
const NOT_TEXT = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u; // control characters, lone surrogates

/**
 * A list as the console shows it. name: its ids' stem (cs-<name>-row, ...); key: its field in bodies and answers;
 * read/write: its URLs; title: its heading ("Away reasons"); words: it in a sentence ("the away reasons"); one/ones:
 * an entry ("reason", "reasons"); reserved: the codes the gateway uses itself, reservedWhy: why (after the code);
 * intro: the line under the heading; unsaved: the version line at version 0; needOne: why the list keeps one entry;
 * removing: what a removal does, after "taken off the list when you save: ".
 */
export const AWAY_REASONS = Object.freeze({
  name: 'away',
  key: 'reasons',
  read: '/api/away-reasons',
  write: '/api/admin/away-reasons',
  title: 'Away reasons',
  words: 'the away reasons',
  one: 'reason',
  ones: 'reasons',
  // gateway/contact/away_reasons.py GATEWAY_REASONS: a missed call, a lost desk, a supervisor..., and "none" (the
  // reports' key of away time without a reason)
  reserved: Object.freeze([
    'missed_call', 'declined_call', 'call_lost', 'agent_absent', 'agent_logged_out', 'agent_disabled',
    'agent_removed', 'set_by_supervisor', 'none',
  ]),
  reservedWhy: 'is a reason the gateway sets itself',
  intro: 'Agents choose one of these when they go away; the wallboard shows it and reports count away time by it. '
    + 'Removing one does not change agents away with it now.',
  unsaved: '(defaults: not saved yet)',
  needOne: 'Keep at least one reason: agents choose one when they go away.',
  removing: 'the desk no longer offers it. Agents away with it now stay away with it, and past reports keep it.',
});

export const DISPOSITIONS = Object.freeze({
  name: 'dispositions',
  key: 'dispositions',
  read: '/api/dispositions',
  write: '/api/admin/dispositions',
  title: 'Dispositions',
  words: 'the dispositions',
  one: 'disposition',
  ones: 'dispositions',
  // gateway/contact/dispositions.py GATEWAY_DISPOSITIONS: the customer left or ended the chat, the agent left a
  // call's conversation, an erasure
  reserved: Object.freeze(['abandoned', 'customer_ended', 'agent_left', 'erased', 'test_queued', 'test_ended']),
  reservedWhy: 'is a disposition the gateway closes conversations with itself',
  intro: 'Agents close a conversation with one of these; reports count closes by them. Removing one does not change '
    + 'conversations already closed with it.',
  unsaved: "(the node's defaults: not saved yet)",
  needOne: 'Keep at least one disposition: agents close conversations with one.',
  removing: 'agents no longer close with it. Conversations closed with it keep it, and past reports count them.',
});

const capital = (word) => word.charAt(0).toUpperCase() + word.slice(1);

/** An entry's name by its place: entryName(AWAY_REASONS, 2) -> "Reason 3". */
export function entryName(list, index) {
  return `${capital(list.one)} ${index + 1}`;
}

/** The code suggested for a label: lower case, accents dropped, spaces to _, only a-z 0-9 _ -, a letter or digit
 * first, 30 at most ("Other work" -> other_work). */
export function suggestCode(label) {
  return String(label).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim()
    .replace(/\s+/g, '_').replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '').slice(0, MAX_CODE);
}

/** A refusal's message as the view names things: "reasons[2].code ..." -> "Reason 3 code ...". */
export function ownWords(list, text) {
  const at = new RegExp(`^${list.key}\\[(\\d+)\\]\\.?(code|label)?`);
  return String(text).replace(at, (_, i, what) => `${entryName(list, Number(i))}${what ? ` ${what}` : ''}`);
}

/** The version line: "(version 3)", or the list's words for the defaults (version 0). */
export function versionText(list, version) {
  return version ? `(version ${version})` : list.unsaved;
}

/**
 * Every problem of the rows at once, in the list's order: rows are [{label, code, fixed}] as typed (a fixed code is
 * a saved one: not checked again, but no new row may take it). Each problem is {index, part, message}: part 'label'
 * or 'code' of the row at index, or {index: null, part: null} for the list as a whole.
 */
export function codeProblems(list, rows) {
  const out = [];
  const seen = new Map(); // code -> the row that has it (a saved one first: the new row is the one to change)
  const labels = new Map(); // label (case folded) -> the first row that has it: agents could not tell two apart
  rows.forEach((row, i) => { if (row.fixed) seen.set(row.code, i); });
  rows.forEach((row, i) => {
    const at = entryName(list, i);
    const label = String(row.label || '').trim();
    const size = [...label].length; // as the gateway counts: code points
    const bad = (message) => out.push({ index: i, part: 'label', message: `${at} label: ${message}` });
    const folded = label.toLowerCase();
    if (!label) bad(`give the ${list.one} a label, or remove the row.`);
    else if (size > MAX_LABEL) bad(`at most ${MAX_LABEL} characters (it has ${size}).`);
    else if (NOT_TEXT.test(label)) bad('plain text only (no control characters).');
    else if (labels.has(folded)) bad(`the label of ${list.one} ${labels.get(folded) + 1} too: agents could not tell them apart.`);
    if (label && !labels.has(folded)) labels.set(folded, i);
    if (row.fixed) return;
    const code = String(row.code || '').trim();
    const check = (message) => out.push({ index: i, part: 'code', message: `${at} code: ${message}` });
    if (!code) check(`give the ${list.one} a code (a-z, 0-9, _ and -).`);
    else if (!CODE.test(code)) check(`1 to ${MAX_CODE} of a-z, 0-9, _ and -, starting with a letter or digit.`);
    else if (list.reserved.includes(code)) check(`${code} ${list.reservedWhy}: choose another.`);
    else if (seen.has(code) && seen.get(code) !== i) {
      check(`${code} is the code of ${list.one} ${seen.get(code) + 1} too: choose another.`);
    } else {
      seen.set(code, i);
    }
  });
  if (!rows.length) out.push({ index: null, part: null, message: list.needOne });
  if (rows.length > MAX_CODES) {
    out.push({ index: null, part: null, message: `At most ${MAX_CODES} ${list.ones}.` });
  }
  return out;
}
