// The audit log (GET /api/admin/audit?limit=&before=&target=): who did what to what and when, newest first, with
// what changed as a compact diff (console_diff.js); filtered by target, a page at a time (Older / Newer).

import { call } from './console_api.js';
import { h, newId, problemText, table, timeText } from './console_dom.js';
import { changeText, diffEntries } from './console_diff.js';

const PAGE = 25;
const MAX_LINES = 8;

export function createAuditView(section, ctx) {
  const targetId = newId('target');
  const helpId = newId('target-help');
  const target = h('input', { id: targetId, name: 'target', type: 'search', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'e.g. dave, billing or queue:billing', 'aria-describedby': helpId, dataset: { testid: 'cs-audit-target' } });
  const filter = h('form', { class: 'cs-filter', role: 'search', 'aria-label': 'Filter the audit log' },
    h('label', { for: targetId }, 'Target'), target,
    h('button', { type: 'submit', class: 'btn small' }, 'Filter'),
    h('button', { type: 'button', class: 'btn small ghost', onclick: () => { target.value = ''; first(); } }, 'Show all'));
  const help = h('p', { id: helpId, class: 'cs-hint', dataset: { testid: 'cs-audit-help' } },
    'A whole name: an agent id (dave), a queue or flow name (billing finds queue:billing and flow:billing), ',
    'queue:billing or flow:billing for just that one, a webhook id (wh_…), or widget. Part of a name finds nothing.');
  const status = h('p', { class: 'cs-status', role: 'status' });
  const body = h('div', { class: 'cs-view-body' });
  const newer = h('button', { type: 'button', class: 'btn small', onclick: () => page(-1) }, '← Newer');
  const older = h('button', { type: 'button', class: 'btn small', onclick: () => page(1) }, 'Older →');
  const pager = h('nav', { class: 'cs-pager', 'aria-label': 'Audit log pages' }, newer, older);
  section.append(filter, help, status, body, pager);
  filter.addEventListener('submit', (e) => { e.preventDefault(); first(); });

  // cursors[i]: the `before` cursor of page i (page 0: none); next: the gateway's cursor after the shown page.
  let cursors = [null];
  let index = 0;
  let next = null;

  function first() {
    cursors = [null];
    index = 0;
    show();
  }

  function page(step) {
    if (step > 0 && !next) return;
    if (step > 0) {
      index += 1;
      cursors[index] = next;
    } else if (index > 0) {
      index -= 1;
    }
    show();
  }

  async function show() {
    status.textContent = 'Loading the audit log…';
    const params = { limit: PAGE, before: cursors[index], target: target.value.trim() };
    let answer;
    try {
      answer = await call('/api/admin/audit', { params });
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `The audit log could not be loaded: ${problemText(err)}`;
      return;
    }
    const entries = answer.entries || [];
    next = answer.next || null;
    newer.disabled = index === 0;
    older.disabled = !next;
    const filtered = params.target ? ` for ${params.target}` : '';
    status.textContent = entries.length ? `Page ${index + 1}${filtered}, newest first.` : `Nothing in the audit log${filtered}.`;
    const rows = entries.map((e) => ({
      dataset: { entry: e.id, action: e.action },
      cells: [
        { th: h('time', { datetime: new Date(Number(e.at)).toISOString() }, timeText(e.at)) },
        e.actor,
        h('code', {}, e.action),
        h('button', { type: 'button', class: 'cs-link', 'aria-label': `Show only ${e.target}`,
          onclick: () => { target.value = e.target; first(); } }, e.target),
        changes(e),
      ],
    }));
    body.replaceChildren(table('Audit log entries, newest first', ['When', 'Who', 'Action', 'Target', 'What changed'], rows,
      { testid: 'cs-audit' }));
  }

  return {
    load: first,
    reset() { body.replaceChildren(); status.textContent = ''; target.value = ''; },
  };
}

/** The entry's changes as a short list (the first lines, and how many more behind a disclosure). */
function changes(e) {
  const list = diffEntries(e.before, e.after);
  if (!list.length) return h('span', { class: 'cs-sub' }, e.before || e.after ? 'No field changed' : '—');
  const line = (c) => h('li', { class: `cs-diff ${c.kind}` }, changeText(c));
  const shown = h('ul', { class: 'cs-diffs' }, list.slice(0, MAX_LINES).map(line));
  if (list.length <= MAX_LINES) return shown;
  return h('div', {}, shown, h('details', {}, h('summary', {}, `${list.length - MAX_LINES} more`),
    h('ul', { class: 'cs-diffs' }, list.slice(MAX_LINES).map(line))));
}
