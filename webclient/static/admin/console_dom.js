// The admin console's building blocks: elements made in code (no markup strings, no inline style), labelled fields
// whose error line is tied to them (aria-describedby), a refusal's message shown next to the field it names, and
// modal dialogs (<dialog>: focus kept inside, Escape closes, focus back where it was).

let uid = 0;

/** A new id for a label/field pair: `cs-<stem>-<n>`. */
export function newId(stem) {
  uid += 1;
  return `cs-${stem}-${uid}`;
}

/** h('button', {class: 'btn', type: 'button', onclick: f, dataset: {x: 1}}, 'text', child, [children]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'hidden' || key === 'disabled') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** A labelled field: {wrap, input, error}. `input` is an element (its id is set here); `hint` a short help line. */
export function field(label, input, { hint, wide } = {}) {
  const id = input.id || newId(input.name || 'field');
  input.id = id;
  const error = h('p', { class: 'cs-field-error', id: `${id}-error`, hidden: true });
  const described = [`${id}-error`];
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'cs-hint', id: `${id}-hint` }, hint);
    described.push(`${id}-hint`);
  }
  input.setAttribute('aria-describedby', described.join(' '));
  const wrap = h('div', { class: `cs-field${wide ? ' wide' : ''}`, dataset: { field: input.name || '' } },
    h('label', { for: id }, label), input, hintEl, error);
  return { wrap, input, error };
}

/** A group of fields under one name (a fieldset with its legend) that can carry an error of its own. */
export function group(legend, name, ...children) {
  const error = h('p', { class: 'cs-field-error', id: newId(`${name}-error`), hidden: true });
  const set = h('fieldset', { class: 'cs-group', dataset: { field: name }, 'aria-describedby': error.id },
    h('legend', {}, legend), ...children, error);
  return set;
}

export function input(name, attrs = {}) {
  return h('input', { name, autocomplete: 'off', spellcheck: 'false', ...attrs });
}

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

/** Forget the errors a form shows (before a new try). */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.cs-field-error, .cs-form-error')) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** The field a problem's `field` names: its exact name, or the group it belongs to ("skills.billing" -> skills,
 * "hours.schedule.mon" -> hours.schedule, then hours). */
function findField(form, name) {
  let key = String(name || '');
  while (key) {
    const el = form.querySelector(`[data-field="${CSS.escape(key)}"]`);
    if (el) return el;
    const cut = Math.max(key.lastIndexOf('.'), key.lastIndexOf('['));
    key = cut > 0 ? key.slice(0, cut) : '';
  }
  return null;
}

/** The error line of a control: the first .cs-field-error its aria-describedby names (field() and the skill rows
 * make one per control). */
function errorLine(control) {
  const root = control.getRootNode();
  for (const id of (control.getAttribute('aria-describedby') || '').split(/\s+/)) {
    const el = id && root.getElementById ? root.getElementById(id) : null;
    if (el && el.classList.contains('cs-field-error')) return el;
  }
  return null;
}

/** Where a problem goes: {control, error line, invalid: whether the control is marked aria-invalid}, or null. */
function placeOf(form, problem) {
  if (problem.control) return { control: problem.control, error: errorLine(problem.control), invalid: true };
  const holder = problem.field ? findField(form, problem.field) : null;
  if (!holder) return null;
  const group = holder.matches('fieldset');
  const control = group ? holder.querySelector('input, select, textarea, button') : holder.querySelector('input, select, textarea');
  return { control, error: holder.querySelector(':scope > .cs-field-error'), invalid: !group };
}

/** A form's problems all at once, each next to its field: [{field, message}] (a field's name, as a refusal names
 * it) or [{control, message}] (an input with its own error line); its control marked aria-invalid (a group's error
 * is under its legend), the first one focused; with more than one, the form's top line (an alert) says how many.
 * One with no place in the form goes to the top line. */
export function showProblems(form, problems) {
  const top = form.querySelector('.cs-form-error');
  const loose = [];
  let first = null;
  for (const problem of problems) {
    const place = placeOf(form, problem);
    if (!place || !place.error) {
      loose.push(problem.message);
      continue;
    }
    const error = place.error;
    error.textContent = error.hidden ? problem.message : `${error.textContent} ${problem.message}`;
    error.hidden = false;
    if (place.control && place.invalid) place.control.setAttribute('aria-invalid', 'true');
    first = first || place.control;
  }
  if (loose.length || problems.length > 1) {
    const count = problems.length - loose.length;
    top.textContent = [...loose, count > 1 ? `Fix the ${count} problems marked below.` : ''].filter(Boolean).join(' ');
    top.hidden = false;
  }
  if (first) first.focus();
  else if (!top.hidden) top.focus();
}

/** A refusal (problem JSON) shown in the form: next to the field it names, focused; else at the form's top. */
export function showProblem(form, err) {
  showProblems(form, [{ field: err && err.field, message: problemText(err) }]);
}

/** What a form's own checks found, to throw from a dialog's onSubmit: formDialog shows every one (showProblems). */
export function invalid(problems) {
  return Object.assign(new Error(problems.map((p) => p.message).join(' ')), { status: 400, problems });
}

export function problemText(err) {
  if (!err) return 'Something went wrong.';
  if (!err.status) return 'Cannot reach the gateway. Check your connection and try again.';
  return err.message || `The gateway answered HTTP ${err.status}.`;
}

/** A form-level error line (role alert, focusable so a refusal can be read at once). */
export function formError() {
  return h('p', { class: 'cs-form-error', role: 'alert', tabindex: '-1', hidden: true });
}

// ------------------------------------------------------------ dialogs

/** A modal dialog holding a form: `onSubmit(form)` resolves to true to close it; a throw is shown in the form
 * (showProblem; every one of an invalid(problems)'s, showProblems). Returns the dialog (already open). */
export function formDialog({ title, body, submitLabel, onSubmit, danger = false, wide = false, testid }) {
  const titleId = newId('dialog-title');
  const submit = h('button', { type: 'submit', class: `btn ${danger ? 'danger' : 'primary'}` }, submitLabel);
  const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Cancel');
  const form = h('form', { class: 'cs-dialog-form', novalidate: true },
    h('h2', { id: titleId }, title), formError(), h('div', { class: 'cs-dialog-body' }, body),
    h('div', { class: 'cs-dialog-actions' }, cancel, submit));
  const dialog = h('dialog', { class: `cs-dialog${wide ? ' wide' : ''}`, 'aria-labelledby': titleId,
    dataset: { testid: testid || 'cs-dialog' } }, form);
  const opener = document.activeElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      if (await onSubmit(form)) dialog.close();
    } catch (err) {
      if (err && Array.isArray(err.problems)) showProblems(form, err.problems);
      else showProblem(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  // the first field one can change: an edit's read-only name is skipped (a viewer's form has none: the submit; a
  // question before something that cannot be undone has none either: Cancel, so that an Enter by habit does nothing)
  const first = form.querySelector(['input:not([type=hidden])', 'select', 'textarea']
    .map((f) => `${f}:not([disabled]):not([readonly])`).join(', '));
  (first || (danger ? cancel : submit)).focus();
  return dialog;
}

/** Ask before something that cannot be undone: resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel) {
  return new Promise((resolve) => {
    let answered = false;
    const dialog = formDialog({
      title,
      body: h('p', {}, message),
      submitLabel: confirmLabel,
      danger: true,
      testid: 'cs-confirm',
      onSubmit: async () => { answered = true; return true; },
    });
    dialog.addEventListener('close', () => resolve(answered));
  });
}

/** A message to read and dismiss (a one-time secret, a one-time password). */
export function noticeDialog(title, ...body) {
  return new Promise((resolve) => {
    const dialog = formDialog({ title, body, submitLabel: 'Done', testid: 'cs-notice', onSubmit: async () => true });
    dialog.querySelector('.cs-dialog-actions .btn:not([type=submit])').remove();
    dialog.addEventListener('close', () => resolve());
  });
}

// ------------------------------------------------------------ tables and times

/** A table with a caption and column headers; rows are arrays of cells (a node or text; a {th: text} cell is a
 * row header). */
export function table(caption, headers, rows, { testid } = {}) {
  return h('div', { class: 'cs-scroll', tabindex: '0', role: 'region', 'aria-label': `${caption} (table)` },
    h('table', { class: 'cs-table', dataset: { testid: testid || '' } },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', { dataset: r.dataset || {} },
        r.cells.map((c) => (c && c.th !== undefined ? h('th', { scope: 'row' }, c.th) : h('td', {}, c))))))));
}

/** A time as local text: epoch milliseconds (a number or digits) or an ISO 8601 string (the webhook delivery log's
 *  "time"); anything unreadable is shown as it came rather than as "Invalid Date". */
export function timeText(ms) {
  if (ms == null || ms === '' || ms === 0) return '';
  const d = new Date(typeof ms === 'string' && !/^\d+$/.test(ms) ? ms : Number(ms));
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
