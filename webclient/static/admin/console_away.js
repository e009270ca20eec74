// Away reasons ("aux codes": GET /api/away-reasons, PUT /api/admin/away-reasons): the center's reasons agents go away
// with, each a code and a label, in the order the desk's menu offers them. Admins add a reason (its code suggested from
// the label, editable until saved: reports count away time by it, so a saved code is fixed), rename, remove and move
// rows, then save the whole list with the version it was read at: when another admin saved meanwhile (409) the view
// says so and shows theirs. A reason removed stays on the agents away with it now, and in past reports. Supervisors
// see the list without an edit control.

import { call } from './console_api.js';
import {
  clearErrors, confirmDialog, formError, h, newId, problemText, showProblem, showProblems, table,
} from './console_dom.js';

// The gateway's rules (gateway/contact/away_reasons.py): the view checks them all before sending, so an admin sees
// every row's problem at once; the gateway checks them again.
const CODE = /^[a-z0-9][a-z0-9_-]{0,29}$/;
const MAX_CODE = 30;
const MAX_LABEL = 40;
const MAX_REASONS = 20;
const NOT_TEXT = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u; // control characters, lone surrogates
/** The reasons the gateway sets itself (a missed call, a lost desk, a supervisor...): no code of the list. */
export const GATEWAY_REASONS = new Set([
  'missed_call', 'declined_call', 'call_lost', 'agent_absent', 'agent_logged_out', 'agent_disabled', 'agent_removed',
  'set_by_supervisor',
]);
export const INTRO = 'Agents choose one of these when they go away; the wallboard shows it and reports count away time '
  + 'by it. Removing one does not change agents away with it now.';

/** The code suggested for a label: lower case, accents dropped, spaces to _, only a-z 0-9 _ -, a letter or digit
 * first, 30 at most ("Other work" -> other_work). */
export function suggestCode(label) {
  return String(label).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim()
    .replace(/\s+/g, '_').replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '').slice(0, MAX_CODE);
}

/** A refusal's message as the view names things: "reasons[2].code ..." -> "Reason 3 code ...". */
function ownWords(err) {
  return problemText(err).replace(/^reasons\[(\d+)\]\.?(code|label)?/, (_, i, what) =>
    `Reason ${Number(i) + 1}${what ? ` ${what}` : ''}`);
}

export function createAwayView(section, ctx) {
  const version = h('span', { class: 'cs-sub', dataset: { testid: 'cs-away-version' } });
  section.querySelector('.cs-view-head').append(version);
  const status = h('p', { class: 'cs-status', role: 'status' });
  const body = h('div', { class: 'cs-view-body' });
  section.append(h('p', { class: 'cs-hint', dataset: { testid: 'cs-away-intro' } }, INTRO), status, body);

  let saved = { reasons: [], version: 0 }; // as the gateway last gave it
  let rows = []; // the editor's rows, in order: {el, labelIn, codeIn (null: a saved code, fixed), code, auto, ...}
  let editor = null; // {form, list, add, note, save}

  async function fetchReasons() {
    const got = await call('/api/away-reasons');
    return { reasons: Array.isArray(got.reasons) ? got.reasons : [], version: Number(got.version) || 0 };
  }

  async function load() {
    status.textContent = 'Loading the away reasons…';
    try {
      saved = await fetchReasons();
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `The away reasons could not be loaded: ${problemText(err)}`;
      return;
    }
    status.textContent = ctx.editable ? '' : 'Read only: an admin changes these.';
    if (ctx.editable) build();
    else readOnly();
  }

  function showVersion() {
    version.textContent = saved.version ? `(version ${saved.version})` : '(defaults: not saved yet)';
  }

  /** A supervisor's view: the list as a table, nothing to change. */
  function readOnly() {
    editor = null;
    rows = [];
    showVersion();
    const list = table('Away reasons, in the order the desk offers them', ['#', 'Label', 'Code'],
      saved.reasons.map((r, i) => ({
        dataset: { code: r.code }, cells: [String(i + 1), { th: r.label }, h('code', {}, r.code)],
      })),
      { testid: 'cs-away-table' });
    list.classList.add('cs-away-read');
    body.replaceChildren(list);
  }

  // ------------------------------------------------------------ the admin's editor

  function build() {
    const list = h('ol', { class: 'cs-away-list', dataset: { testid: 'cs-away-list' } });
    const add = h('button', { type: 'button', class: 'btn small', dataset: { testid: 'cs-away-add' },
      onclick: () => addRow() }, 'Add reason');
    const listError = h('p', { class: 'cs-field-error', id: newId('reasons-error'), hidden: true });
    const rules = h('p', { class: 'cs-hint', id: newId('reasons-rules') },
      `A label: up to ${MAX_LABEL} characters. A code: up to ${MAX_CODE} of a-z, 0-9, _ and -, suggested from the `
      + `label and fixed once saved (reports count by it). At most ${MAX_REASONS} reasons.`);
    const note = h('p', { class: 'cs-away-note', role: 'status', dataset: { testid: 'cs-away-note' } });
    const save = h('button', { type: 'submit', class: 'btn primary', dataset: { testid: 'cs-away-save' } },
      'Save reasons');
    const undo = h('button', { type: 'button', class: 'btn', onclick: undoChanges }, 'Undo changes');
    const form = h('form', { class: 'cs-card cs-away', novalidate: true, 'aria-label': 'Away reasons' },
      formError(),
      h('fieldset', { class: 'cs-group cs-away-group', dataset: { field: 'reasons' },
        'aria-describedby': `${rules.id} ${listError.id}` },
      h('legend', {}, 'Reasons, in the order the desk offers them'),
      h('div', { class: 'cs-away-grid' },
        h('div', { class: 'cs-away-cols', 'aria-hidden': 'true' }, h('span', {}, '#'), h('span', {}, 'Label'),
          h('span', {}, 'Code'), h('span', {})),
        list),
      h('div', {}, add), rules, listError),
      h('div', { class: 'cs-form-actions cs-away-actions' }, save, undo, note));
    form.addEventListener('submit', submit);
    editor = { form, list, add, note, save };
    fill(saved.reasons);
    body.replaceChildren(form);
  }

  /** The rows for `reasons` (saved ones: their codes are fixed). */
  function fill(reasons) {
    rows = [];
    editor.list.replaceChildren();
    for (const r of reasons) makeRow(r.label, r.code);
    renumber();
    showVersion();
    editor.note.textContent = '';
  }

  function makeRow(label, code) {
    const fixed = code !== null;
    const row = { code: fixed ? code : '', fixed, auto: !fixed };
    const cell = (what, control) => {
      const error = h('p', { class: 'cs-field-error', id: newId(`away-${what}-error`), hidden: true });
      const which = h('span', { class: 'sr-only' });
      const name = control.matches('input')
        ? h('label', { class: 'cs-away-label', for: control.id }, which, what === 'label' ? 'Label' : 'Code')
        : h('span', { class: 'cs-away-label' }, which, 'Code');
      if (control.matches('input')) control.setAttribute('aria-describedby', error.id);
      return { el: h('div', { class: `cs-field cs-away-cell cs-away-cell-${what}` }, name, control, error), which };
    };
    row.labelIn = h('input', { id: newId('away-label'), name: 'label', value: label, autocomplete: 'off',
      spellcheck: 'true' });
    row.codeIn = fixed ? null : h('input', { id: newId('away-code'), name: 'code', value: code || '',
      autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
    const labelCell = cell('label', row.labelIn);
    const codeCell = cell('code', row.codeIn || h('code', { class: 'cs-away-fixed' }, code));
    row.labelCell = labelCell;
    row.codeCell = codeCell;
    row.pos = h('span', { class: 'cs-away-pos', 'aria-hidden': 'true' });
    row.up = h('button', { type: 'button', class: 'btn small ghost', onclick: () => move(row, -1) },
      h('span', { 'aria-hidden': 'true' }, '↑ '), 'Up');
    row.down = h('button', { type: 'button', class: 'btn small ghost', onclick: () => move(row, 1) },
      h('span', { 'aria-hidden': 'true' }, '↓ '), 'Down');
    row.remove = h('button', { type: 'button', class: 'btn small danger', onclick: () => remove(row) }, 'Remove');
    const marks = fixed ? { testid: 'cs-away-row', code: row.code } : { testid: 'cs-away-row', new: '' };
    row.el = h('li', { class: 'cs-away-row', dataset: marks },
      row.pos, labelCell.el, codeCell.el, h('div', { class: 'cs-actions' }, row.up, row.down, row.remove));
    row.labelIn.addEventListener('input', () => {
      if (row.codeIn && row.auto) row.codeIn.value = suggestCode(row.labelIn.value);
      name(row);
      changed();
    });
    if (row.codeIn) {
      row.codeIn.addEventListener('input', () => {
        row.auto = row.codeIn.value.trim() === ''; // typed by hand: the label no longer changes it (emptied: again)
        changed();
      });
    }
    rows.push(row);
    editor.list.append(row.el);
    return row;
  }

  /** A row's name in its buttons: its label as typed, else its place. */
  function nameOf(row) {
    return row.labelIn.value.trim() || `reason ${rows.indexOf(row) + 1}`;
  }

  function name(row) {
    const n = nameOf(row);
    row.up.setAttribute('aria-label', `Move ${n} up`);
    row.down.setAttribute('aria-label', `Move ${n} down`);
    row.remove.setAttribute('aria-label', `Remove ${n}`);
  }

  /** Places: the field names a refusal uses (reasons[2].code), the inputs' names ("Reason 3 label"), the buttons at
   * the ends (disabled), Add at the most. */
  function renumber() {
    rows.forEach((row, i) => {
      row.pos.textContent = String(i + 1);
      row.labelCell.which.textContent = `Reason ${i + 1} `;
      row.codeCell.which.textContent = `Reason ${i + 1} `;
      row.labelCell.el.dataset.field = `reasons[${i}].label`;
      row.codeCell.el.dataset.field = `reasons[${i}].code`;
      row.up.disabled = i === 0;
      row.down.disabled = i === rows.length - 1;
      name(row);
    });
    editor.add.disabled = rows.length >= MAX_REASONS;
  }

  function value() {
    return rows.map((row) => ({
      code: row.codeIn ? row.codeIn.value.trim() : row.code, label: row.labelIn.value.trim(),
    }));
  }

  function dirty() {
    return JSON.stringify(value()) !== JSON.stringify(saved.reasons.map((r) => ({ code: r.code, label: r.label })));
  }

  /** The line beside Save (role status): what was just done, and whether it waits to be saved. Typing only changes it
   * when the list turns changed or back (no word per key). */
  function changed(done) {
    const waiting = dirty();
    let text = waiting ? 'Changes not saved yet.' : '';
    if (done) text = `${done}${waiting ? ' Not saved yet.' : ''}`;
    else if (waiting && editor.note.textContent.endsWith(' Not saved yet.')) return; // what was done stays said
    if (editor.note.textContent !== text) editor.note.textContent = text;
  }

  function addRow() {
    if (rows.length >= MAX_REASONS) return;
    const row = makeRow('', null);
    renumber();
    row.labelIn.focus();
    changed(`Reason ${rows.length} added: type its label.`);
  }

  function move(row, step) {
    const from = rows.indexOf(row);
    const to = from + step;
    if (to < 0 || to >= rows.length) return;
    rows.splice(from, 1);
    rows.splice(to, 0, row);
    if (step < 0) editor.list.insertBefore(row.el, rows[to + 1].el);
    else rows[to - 1].el.after(row.el);
    renumber();
    // the button pressed keeps the focus; at an end (disabled now) the other one takes it
    const pressed = step < 0 ? row.up : row.down;
    (pressed.disabled ? (step < 0 ? row.down : row.up) : pressed).focus();
    changed(`${nameOf(row)} moved ${step < 0 ? 'up' : 'down'}: now ${to + 1} of ${rows.length}.`);
  }

  async function remove(row) {
    const n = nameOf(row);
    if (row.fixed) { // a reason of the saved list (a new row has nothing to lose)
      const ok = await confirmDialog(`Remove ${n}?`, `${n} (${row.code}) is taken off the list when you save: the `
        + 'desk no longer offers it. Agents away with it now stay away with it, and past reports keep it.',
      'Remove reason');
      if (!ok) return;
    }
    const at = rows.indexOf(row);
    if (at < 0) return;
    rows.splice(at, 1);
    row.el.remove();
    renumber();
    const next = rows[at] || rows[at - 1];
    (next ? next.remove : editor.add).focus();
    changed(`${n} removed.`);
  }

  function undoChanges() {
    clearErrors(editor.form);
    fill(saved.reasons);
    editor.note.textContent = 'Changes undone: the list as saved.';
    editor.save.focus();
  }

  /** Every row's problems at once, each at its input ("Reason 3 code: ..."), in the list's order. */
  function problems() {
    const out = [];
    const seen = new Map(); // code -> the row that has it (a saved one first: the new row is the one to change)
    for (const row of rows) if (row.fixed) seen.set(row.code, row);
    rows.forEach((row, i) => {
      const at = `Reason ${i + 1}`;
      const label = row.labelIn.value.trim();
      const size = [...label].length; // as the gateway counts: code points
      const bad = (message) => out.push({ control: row.labelIn, message: `${at} label: ${message}` });
      if (!label) bad('give the reason a label, or remove the row.');
      else if (size > MAX_LABEL) bad(`at most ${MAX_LABEL} characters (it has ${size}).`);
      else if (NOT_TEXT.test(label)) bad('plain text only (no control characters).');
      if (!row.codeIn) return;
      const code = row.codeIn.value.trim();
      const check = (message) => out.push({ control: row.codeIn, message: `${at} code: ${message}` });
      if (!code) check('give the reason a code (a-z, 0-9, _ and -).');
      else if (!CODE.test(code)) check(`1 to ${MAX_CODE} of a-z, 0-9, _ and -, starting with a letter or digit.`);
      else if (GATEWAY_REASONS.has(code)) check(`${code} is a reason the gateway sets itself: choose another.`);
      else if (seen.has(code) && seen.get(code) !== row) {
        check(`${code} is the code of reason ${rows.indexOf(seen.get(code)) + 1} too: choose another.`);
      } else {
        seen.set(code, row);
      }
    });
    if (!rows.length) {
      out.push({ field: 'reasons', message: 'Keep at least one reason: agents choose one when they go away.' });
    }
    if (rows.length > MAX_REASONS) out.push({ field: 'reasons', message: `At most ${MAX_REASONS} reasons.` });
    return out;
  }

  async function submit(e) {
    e.preventDefault();
    if (!ctx.editable || !editor) return;
    const { form, save } = editor;
    clearErrors(form);
    const found = problems();
    if (found.length) {
      editor.note.textContent = 'Not saved: fix the problems marked.';
      showProblems(form, found);
      return;
    }
    const sent = value();
    save.disabled = true;
    try {
      const stored = await call('/api/admin/away-reasons',
        { method: 'PUT', body: { reasons: sent, version: saved.version } });
      saved = { reasons: stored.reasons || sent, version: Number(stored.version) || 0 };
      fill(saved.reasons);
      const labels = saved.reasons.map((r) => r.label).join(', ');
      ctx.notify(`The away reasons were saved (version ${saved.version}): ${labels}.`);
    } catch (err) {
      if (err.code === 'stale_version') await stale(form);
      else showProblem(form, { status: err.status, field: err.field, message: ownWords(err) });
    } finally {
      save.disabled = false;
    }
  }

  /** Saved by someone else since this list was read: theirs is shown, and what to do. */
  async function stale(form) {
    let latest = null;
    try {
      latest = await fetchReasons();
    } catch (_) {
      latest = null;
    }
    if (latest) {
      saved = latest;
      fill(saved.reasons);
    }
    const message = latest
      ? `Someone else saved the away reasons since you loaded them (now version ${latest.version}). The list shows `
        + 'theirs: make your change again and save.'
      : 'Someone else saved the away reasons since you loaded them, and theirs could not be loaded: reload the page.';
    showProblem(form, { status: 409, message });
  }

  return {
    load,
    reset() { body.replaceChildren(); status.textContent = ''; version.textContent = ''; rows = []; editor = null; },
  };
}
