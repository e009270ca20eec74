// The YAML editor: a plain <textarea> (so typing, undo, selection, the keyboard and screen readers are the
// browser's own) over a <pre> that paints the same text highlighted by highlight.js (vendored), a line-number
// gutter and a layer of line marks behind the text: errors on their lines with their messages, and the lines of
// the node selected in the graph. The textarea grows to its text and the frame around them scrolls, so the layers
// never need scrolling in step.

import { errorText, errorsByLine, lineAt, lineSpan, lineStarts } from './flows_model.js';

const LINE_PX = 20; // flows.css: .fe-code line-height
const PAD_PX = 8; // flows.css: .fe-code padding-top

let hljs = null; // set by loadHighlighter (a dynamic import: the vendored module's default export)
const ed = { frame: null, area: null, hl: null, gutter: null, marks: null, errors: [], nodeLines: null, onCursor: null, onInput: null };

export async function loadHighlighter() {
  try {
    const [{ default: core }, { default: yaml }] = await Promise.all([
      import('../vendor/highlightjs/core.min.js'), import('../vendor/highlightjs/yaml.min.js'),
    ]);
    core.registerLanguage('yaml', yaml);
    hljs = core;
  } catch (err) {
    console.warn('flow editor: no syntax highlighting', err); // the editor works without it
  }
  paint();
}

/** `els`: {frame, area, hl, gutter, marks}; onInput(text) after each edit, onCursor(line) when the caret moves. */
export function initEditor(els, { onInput, onCursor }) {
  Object.assign(ed, els, { onInput, onCursor });
  ed.area.addEventListener('input', () => { paint(); ed.onInput(ed.area.value); });
  ed.area.addEventListener('keydown', onKey);
  document.addEventListener('selectionchange', () => {
    if (document.activeElement === ed.area) ed.onCursor(cursorLine());
  });
  paint();
}

/** Tab indents by two spaces (YAML has no tabs); Escape leaves the editor so the keyboard is never trapped. */
function onKey(e) {
  if (e.key === 'Escape') { ed.area.blur(); return; }
  if (e.key !== 'Tab' || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
  e.preventDefault();
  document.execCommand('insertText', false, '  '); // keeps the browser's undo history
}

export function text() { return ed.area.value; }

/** Replace the whole text (opening a version): the caret at the top, errors and marks cleared. */
export function setText(value, { readOnly = false } = {}) {
  ed.area.value = value;
  ed.area.readOnly = readOnly;
  ed.errors = [];
  ed.nodeLines = null;
  ed.area.setSelectionRange(0, 0);
  ed.frame.scrollTop = 0;
  paint();
}

export function cursorLine() {
  return lineAt(lineStarts(ed.area.value), ed.area.selectionStart);
}

/** Select lines first..last (a node clicked in the graph) and bring them into view. */
export function selectLines(first, last, { focus = true } = {}) {
  const [a, b] = lineSpan(ed.area.value, first, last);
  if (focus) ed.area.focus({ preventScroll: true });
  ed.area.setSelectionRange(a, b);
  markNode(first, last);
  const top = PAD_PX + (first - 1) * LINE_PX;
  const bottom = PAD_PX + last * LINE_PX;
  if (top < ed.frame.scrollTop || bottom > ed.frame.scrollTop + ed.frame.clientHeight) {
    ed.frame.scrollTop = Math.max(0, top - LINE_PX * 2);
  }
}

/** The lines of the node the caret is in (or that was clicked), shaded; null clears. */
export function markNode(first, last) {
  ed.nodeLines = first ? [first, last || first] : null;
  paintMarks();
}

/** The loader's errors, each on its line: the gutter number, the line shaded, the message after the line. */
export function showErrors(errors) {
  ed.errors = errors || [];
  paintGutter();
  paintMarks();
}

function paint() {
  const value = ed.area.value;
  const lines = value.split('\n');
  // the textarea grows to its text: the frame scrolls (one scroll for the gutter, marks, colours and text)
  ed.area.style.height = `${PAD_PX * 2 + lines.length * LINE_PX}px`;
  ed.area.style.width = `calc(${Math.max(40, ...lines.map((l) => l.length)) + 24}ch)`;
  const code = ed.hl.firstElementChild || ed.hl.appendChild(document.createElement('code'));
  if (hljs) {
    code.innerHTML = hljs.highlight(value, { language: 'yaml', ignoreIllegals: true }).value + '\n';
  } else {
    code.textContent = `${value}\n`;
  }
  paintGutter();
  paintMarks();
}

function paintGutter() {
  const count = ed.area.value.split('\n').length;
  const bad = errorsByLine(ed.errors);
  const frag = document.createDocumentFragment();
  for (let n = 1; n <= count; n += 1) {
    const div = document.createElement('div');
    div.textContent = String(n);
    if (bad.has(n)) {
      div.className = 'fe-bad';
      div.title = bad.get(n).map((e) => e.message).join('\n');
    }
    frag.appendChild(div);
  }
  ed.gutter.replaceChildren(frag);
}

function paintMarks() {
  const lines = ed.area.value.split('\n');
  const frag = document.createDocumentFragment();
  if (ed.nodeLines) {
    const [a, b] = ed.nodeLines;
    const div = document.createElement('div');
    div.className = 'fe-mark-node';
    div.style.top = `${PAD_PX + (a - 1) * LINE_PX}px`;
    div.style.height = `${(b - a + 1) * LINE_PX}px`;
    frag.appendChild(div);
  }
  for (const [line, errs] of errorsByLine(ed.errors)) {
    if (!line || line > lines.length) continue;
    const row = document.createElement('div');
    row.className = 'fe-mark-error';
    row.dataset.line = String(line);
    row.style.top = `${PAD_PX + (line - 1) * LINE_PX}px`;
    const msg = document.createElement('span');
    msg.className = 'fe-mark-msg';
    msg.style.left = `calc(${lines[line - 1].length + 3}ch)`;
    msg.textContent = errs.map((e) => e.message || e.code).join(' · ');
    row.appendChild(msg);
    frag.appendChild(row);
  }
  ed.marks.replaceChildren(frag);
}

/** The error list under the editor: each a button that puts the caret on its line. */
export function renderErrorList(list, errors) {
  list.replaceChildren();
  for (const e of errors || []) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'linkish';
    b.textContent = errorText(e);
    b.dataset.line = String(e.line || '');
    b.addEventListener('click', () => { if (e.line) selectLines(e.line, e.line); });
    li.appendChild(b);
    list.appendChild(li);
  }
}
