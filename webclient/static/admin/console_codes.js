// A center code list's view (the list's words, URLs and rules: console_code_lists.js): the away reasons ("aux
// codes") agents go away with, the dispositions they close conversations with. Each is a code and a label, in the
// order the desk offers them. Admins add an entry (its code suggested from the label, editable until saved: reports
// count by it, so a saved code is fixed), rename, remove and move rows, then save the whole list with the version it
// was read at: when another admin saved meanwhile (409) the view says so and shows theirs. An entry removed stays
// where it was used (an agent away with it, a conversation closed with it) and in past reports. Supervisors see the
// list without an edit control.

import { call } from './console_api.js';
import {
  MAX_CODE, MAX_CODES, MAX_LABEL, codeProblems, entryName, ownWords, suggestCode, versionText,
} from './console_code_lists.js';
import {
  clearErrors, confirmDialog, formError, h, newId, problemText, showProblem, showProblems, table,
} from './console_dom.js';

/** The view of `list` (AWAY_REASONS, DISPOSITIONS) in `section`. Its elements are styled by .cs-codes-*; the rows
 * and saved codes are also .cs-<name>-row and .cs-<name>-fixed, and the parts' test ids cs-<name>-... */
export function createCodeListView(section, ctx, list) {
  const { key, name: stem } = list;
  const testid = (part) => `cs-${stem}-${part}`;
  const { one, ones } = list; // "reason", "reasons"
  const version = h('span', { class: 'cs-sub', dataset: { testid: testid('version') } });
  section.querySelector('.cs-view-head').append(version);
  const status = h('p', { class: 'cs-status', role: 'status' });
  const body = h('div', { class: 'cs-view-body' });
  section.append(h('p', { class: 'cs-hint', dataset: { testid: testid('intro') } }, list.intro), status, body);

  let saved = { entries: [], version: 0 }; // as the gateway last gave it
  let rows = []; // the editor's rows, in order: {el, labelIn, codeIn (null: a saved code, fixed), code, auto, ...}
  let editor = null; // {form, list, add, note, save}

  async function fetchList() {
    const got = await call(list.read);
    return { entries: Array.isArray(got[key]) ? got[key] : [], version: Number(got.version) || 0 };
  }

  async function load() {
    status.textContent = `Loading ${list.words}…`;
    try {
      saved = await fetchList();
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `${capitalFirst(list.words)} could not be loaded: ${problemText(err)}`;
      return;
    }
    status.textContent = ctx.editable ? '' : 'Read only: an admin changes these.';
    if (ctx.editable) build();
    else readOnly();
  }

  function showVersion() {
    version.textContent = versionText(list, saved.version);
  }

  /** A supervisor's view: the list as a table, nothing to change. */
  function readOnly() {
    editor = null;
    rows = [];
    showVersion();
    const view = table(`${list.title}, in the order the desk offers them`, ['#', 'Label', 'Code'],
      saved.entries.map((r, i) => ({
        dataset: { code: r.code }, cells: [String(i + 1), { th: r.label }, h('code', {}, r.code)],
      })),
      { testid: testid('table') });
    view.classList.add('cs-codes-read');
    body.replaceChildren(view);
  }

  // ------------------------------------------------------------ the admin's editor

  function build() {
    const ol = h('ol', { class: 'cs-codes-list', dataset: { testid: testid('list') } });
    const add = h('button', { type: 'button', class: 'btn small', dataset: { testid: testid('add') },
      onclick: () => addRow() }, `Add ${one}`);
    const listError = h('p', { class: 'cs-field-error', id: newId(`${key}-error`), hidden: true });
    const rules = h('p', { class: 'cs-hint', id: newId(`${key}-rules`) },
      `A label: up to ${MAX_LABEL} characters. A code: up to ${MAX_CODE} of a-z, 0-9, _ and -, suggested from the `
      + `label and fixed once saved (reports count by it). At most ${MAX_CODES} ${ones}.`);
    const note = h('p', { class: 'cs-codes-note', role: 'status', dataset: { testid: testid('note') } });
    const save = h('button', { type: 'submit', class: 'btn primary', dataset: { testid: testid('save') } },
      `Save ${ones}`);
    const undo = h('button', { type: 'button', class: 'btn', onclick: undoChanges }, 'Undo changes');
    const form = h('form', { class: 'cs-card cs-codes', novalidate: true, 'aria-label': list.title },
      formError(),
      h('fieldset', { class: 'cs-group cs-codes-group', dataset: { field: key },
        'aria-describedby': `${rules.id} ${listError.id}` },
      h('legend', {}, `${capitalFirst(ones)}, in the order the desk offers them`),
      h('div', { class: 'cs-codes-grid' },
        h('div', { class: 'cs-codes-cols', 'aria-hidden': 'true' }, h('span', {}, '#'), h('span', {}, 'Label'),
          h('span', {}, 'Code'), h('span', {})),
        ol),
      h('div', {}, add), rules, listError),
      h('div', { class: 'cs-form-actions cs-codes-actions' }, save, undo, note));
    form.addEventListener('submit', submit);
    editor = { form, list: ol, add, note, save };
    fill(saved.entries);
    body.replaceChildren(form);
  }

  /** The rows for `entries` (saved ones: their codes are fixed). */
  function fill(entries) {
    rows = [];
    editor.list.replaceChildren();
    for (const r of entries) makeRow(r.label, r.code);
    renumber();
    showVersion();
    editor.note.textContent = '';
  }

  function makeRow(label, code) {
    const fixed = code !== null;
    const row = { code: fixed ? code : '', fixed, auto: !fixed };
    const cell = (what, control) => {
      const error = h('p', { class: 'cs-field-error', id: newId(`${stem}-${what}-error`), hidden: true });
      const which = h('span', { class: 'sr-only' });
      const name = control.matches('input')
        ? h('label', { class: 'cs-codes-label', for: control.id }, which, what === 'label' ? 'Label' : 'Code')
        : h('span', { class: 'cs-codes-label' }, which, 'Code');
      if (control.matches('input')) control.setAttribute('aria-describedby', error.id);
      return { el: h('div', { class: `cs-field cs-codes-cell cs-codes-cell-${what}` }, name, control, error), which };
    };
    row.labelIn = h('input', { id: newId(`${stem}-label`), name: 'label', value: label, autocomplete: 'off',
      spellcheck: 'true' });
    row.codeIn = fixed ? null : h('input', { id: newId(`${stem}-code`), name: 'code', value: code || '',
      autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
    const labelCell = cell('label', row.labelIn);
    const codeCell = cell('code', row.codeIn || h('code', { class: `cs-codes-fixed cs-${stem}-fixed` }, code));
    row.labelCell = labelCell;
    row.codeCell = codeCell;
    row.pos = h('span', { class: 'cs-codes-pos', 'aria-hidden': 'true' });
    row.up = h('button', { type: 'button', class: 'btn small ghost', onclick: () => move(row, -1) },
      h('span', { 'aria-hidden': 'true' }, '↑ '), 'Up');
    row.down = h('button', { type: 'button', class: 'btn small ghost', onclick: () => move(row, 1) },
      h('span', { 'aria-hidden': 'true' }, '↓ '), 'Down');
    row.remove = h('button', { type: 'button', class: 'btn small danger', onclick: () => remove(row) }, 'Remove');
    const marks = fixed ? { testid: testid('row'), code: row.code } : { testid: testid('row'), new: '' };
    row.el = h('li', { class: `cs-codes-row cs-${stem}-row`, dataset: marks },
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
    return row.labelIn.value.trim() || `${one} ${rows.indexOf(row) + 1}`;
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
      row.labelCell.which.textContent = `${entryName(list, i)} `;
      row.codeCell.which.textContent = `${entryName(list, i)} `;
      row.labelCell.el.dataset.field = `${key}[${i}].label`;
      row.codeCell.el.dataset.field = `${key}[${i}].code`;
      row.up.disabled = i === 0;
      row.down.disabled = i === rows.length - 1;
      name(row);
    });
    editor.add.disabled = rows.length >= MAX_CODES;
  }

  function value() {
    return rows.map((row) => ({
      code: row.codeIn ? row.codeIn.value.trim() : row.code, label: row.labelIn.value.trim(),
    }));
  }

  function dirty() {
    return JSON.stringify(value()) !== JSON.stringify(saved.entries.map((r) => ({ code: r.code, label: r.label })));
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
    if (rows.length >= MAX_CODES) return;
    const row = makeRow('', null);
    renumber();
    row.labelIn.focus();
    changed(`${entryName(list, rows.length - 1)} added: type its label.`);
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
    if (row.fixed) { // an entry of the saved list (a new row has nothing to lose)
      const ok = await confirmDialog(`Remove ${n}?`,
        `${n} (${row.code}) is taken off the list when you save: ${list.removing}`, `Remove ${one}`);
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
    fill(saved.entries);
    editor.note.textContent = 'Changes undone: the list as saved.';
    editor.save.focus();
  }

  /** Every row's problem at once, each at its input ("Reason 3 code: ..."), in the list's order. */
  function problems() {
    const typed = rows.map((row) => ({
      label: row.labelIn.value, code: row.codeIn ? row.codeIn.value : row.code, fixed: !row.codeIn,
    }));
    return codeProblems(list, typed).map(({ index, part, message }) => (index === null
      ? { field: key, message }
      : { control: part === 'label' ? rows[index].labelIn : rows[index].codeIn, message }));
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
      const stored = await call(list.write, { method: 'PUT', body: { [key]: sent, version: saved.version } });
      saved = { entries: stored[key] || sent, version: Number(stored.version) || 0 };
      fill(saved.entries);
      const labels = saved.entries.map((r) => r.label).join(', ');
      ctx.notify(`${capitalFirst(list.words)} were saved (version ${saved.version}): ${labels}.`);
    } catch (err) {
      if (err.code === 'stale_version') await stale(form);
      else showProblem(form, { status: err.status, field: err.field, message: ownWords(list, problemText(err)) });
    } finally {
      save.disabled = false;
    }
  }

  /** Saved by someone else since this list was read: theirs is shown, and what to do. */
  async function stale(form) {
    let latest = null;
    try {
      latest = await fetchList();
    } catch (_) {
      latest = null;
    }
    if (latest) {
      saved = latest;
      fill(saved.entries);
    }
    const message = latest
      ? `Someone else saved ${list.words} since you loaded them (now version ${latest.version}). The list shows `
        + 'theirs: make your change again and save.'
      : `Someone else saved ${list.words} since you loaded them, and theirs could not be loaded: reload the page.`;
    showProblem(form, { status: 409, message });
  }

  return {
    load,
    reset() { body.replaceChildren(); status.textContent = ''; version.textContent = ''; rows = []; editor = null; },
  };
}

function capitalFirst(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
