// Search over conversations in the sidebar (GET /api/conversations): words, customer, agent, queue, state, dates;
// results page with the gateway's cursor; a result opens read-only (desk/history.js).

import { api } from './api.js';
import { conversationRow } from './history.js';
import { h } from './dom.js';

const PAGE = 20;
let ui = null;
let last = null;   // {params, next} of the search shown

function dayStart(value, end) {
  if (!value) return '';
  const [y, m, d] = value.split('-').map(Number);
  const t = new Date(y, m - 1, d + (end ? 1 : 0)).getTime() - (end ? 1 : 0);   // local midnight .. 23:59:59.999
  return Number.isFinite(t) && t >= 0 ? String(t) : '';
}

function readForm() {
  const f = ui.form.elements;
  return {
    q: f.q.value.trim(),
    customer: f.customer.value.trim(),
    agent: f.agent.value.trim(),
    queue: f.queue.value.trim(),
    state: f.state.value,
    from: dayStart(f.from.value, false),
    to: dayStart(f.to.value, true),
    limit: String(PAGE),
  };
}

async function run(more) {
  const params = more && last ? { ...last.params, cursor: last.next } : readForm();
  if (!more && !Object.entries(params).some(([k, v]) => k !== 'limit' && v)) {
    ui.status.textContent = 'Type a word or choose a filter.';
    return;
  }
  ui.more.hidden = true;
  ui.status.textContent = 'Searching…';
  ui.results.setAttribute('aria-busy', 'true');
  try {
    const page = await api('/api/conversations', { params });
    const rows = Array.isArray(page.conversations) ? page.conversations : [];
    if (!more) ui.results.replaceChildren();
    ui.results.append(...rows.map((r) => conversationRow(r, 'search-result')));
    last = { params: more ? last.params : params, next: page.next };
    const n = ui.results.children.length;
    ui.status.textContent = n ? `${n} conversation${n === 1 ? '' : 's'}${page.next ? ' so far' : ''}` : (page.next
      ? 'Nothing yet among the conversations looked at.' : 'No conversation matches.');
    ui.more.hidden = !page.next;
  } catch (err) {
    ui.status.textContent = err.field ? `${err.message}` : `Search failed: ${err.message}`;
  } finally {
    ui.results.removeAttribute('aria-busy');
  }
}

/** Wire the search box (agent.html's #search-form) once at boot. */
export function initSearch() {
  const form = document.getElementById('search-form');
  if (!form) return;
  ui = {
    form,
    status: document.querySelector('[data-testid=search-status]'),
    results: document.querySelector('[data-testid=search-results]'),
    more: document.querySelector('[data-testid=search-more]'),
    clear: document.querySelector('[data-testid=search-clear]'),
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); run(false); });
  ui.more.addEventListener('click', () => run(true));
  ui.clear.addEventListener('click', () => {
    form.reset();
    last = null;
    ui.results.replaceChildren();
    ui.status.textContent = '';
    ui.more.hidden = true;
    form.elements.q.focus();
  });
  if (!ui.status) ui.status = h('p');
}
