// Canned responses in the composer: "/" opens a menu that searches as the agent types (arrows, Enter or Tab to
// pick, Esc to close); the picked text has its variables filled in and stays in the composer for the agent to
// read (and change) before sending. Shared and personal ones come from GET /api/canned.

import { api } from './api.js';
import { S, ui } from './state.js';
import { fillTemplate, filterCanned, slashQuery } from './templates.js';
import { h, toast, verifiedName } from './dom.js';

const FRESH_MS = 60000;
const menu = { el: null, items: [], active: 0, open: false };
let canned = { at: 0, items: [], loading: null };

export function loadCanned(force) {
  if (canned.loading) return canned.loading;
  if (!force && Date.now() - canned.at < FRESH_MS) return Promise.resolve(canned.items);
  canned.loading = api('/api/canned')
    .then((body) => {
      const items = [...(body.personal || []), ...(body.shared || [])];
      canned = { at: Date.now(), items, loading: null };
      return items;
    })
    .catch((err) => { canned.loading = null; toast(`Canned responses: ${err.message}`); return canned.items; });
  return canned.loading;
}

function values() {
  const conv = S.convs.get(S.selected);
  const ctx = (conv && conv.context) || {};
  return {
    'customer.name': verifiedName(ctx) || (typeof ctx.name === 'string' ? ctx.name : ''),
    'customer.id': (conv && conv.summary.customer_id) || '',
    'agent.name': (S.agent && S.agent.name) || '',
    'agent.id': (S.agent && S.agent.id) || '',
    'conversation.id': conv ? conv.id : '',
  };
}

function close() {
  if (!menu.el) return;
  menu.open = false;
  menu.el.hidden = true;
  ui.composer.removeAttribute('aria-activedescendant');
}

function render() {
  const { el } = menu;
  if (!menu.items.length) {
    el.replaceChildren(h('li', { class: 'canned-empty', role: 'option', 'aria-disabled': 'true', text: canned.at
      ? 'No canned response matches.' : 'Loading canned responses…' }));
  } else {
    el.replaceChildren(...menu.items.map((item, i) => {
      const li = h('li', { id: `canned-${i}`, class: 'canned-item', role: 'option', 'data-testid': 'canned-item',
        'data-shortcut': item.shortcut, 'aria-selected': String(i === menu.active) },
      h('span', { class: 'canned-shortcut', text: `/${item.shortcut}` }),
      h('span', { class: 'canned-title', text: item.title }),
      h('span', { class: 'canned-scope', text: item.scope === 'personal' ? 'mine' : 'shared' }),
      h('span', { class: 'canned-preview', text: fillTemplate(item.text, values()).text }));
      li.addEventListener('mousedown', (e) => { e.preventDefault(); pick(i); });
      return li;
    }));
  }
  el.hidden = false;
  menu.open = true;
  if (menu.items.length) ui.composer.setAttribute('aria-activedescendant', `canned-${menu.active}`);
  else ui.composer.removeAttribute('aria-activedescendant');
  const active = el.querySelector('[aria-selected=true]');
  if (active) active.scrollIntoView({ block: 'nearest' });
}

function update() {
  const query = slashQuery(ui.composer.value);
  if (query == null || ui.composer.disabled) { close(); return; }
  const show = () => {
    if (slashQuery(ui.composer.value) !== query) return;
    menu.items = filterCanned(canned.items, query);
    menu.active = Math.min(menu.active, Math.max(0, menu.items.length - 1));
    render();
  };
  if (!canned.at || Date.now() - canned.at >= FRESH_MS) loadCanned().then(show);
  show();
}

function pick(i) {
  const item = menu.items[i];
  if (!item) return;
  const { text, missing } = fillTemplate(item.text, values());
  close();
  ui.composer.value = text;
  ui.composer.dispatchEvent(new Event('input', { bubbles: true }));   // the draft and typing follow
  ui.composer.focus();
  ui.composer.setSelectionRange(text.length, text.length);
  if (missing.length) toast(`No value for ${missing.join(', ')}: check the text before sending.`);
}

function onKeydown(e) {
  if (!menu.open) return;
  const n = menu.items.length;
  let handled = true;
  if (e.key === 'ArrowDown' && n) menu.active = (menu.active + 1) % n;
  else if (e.key === 'ArrowUp' && n) menu.active = (menu.active - 1 + n) % n;
  else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && n) { e.preventDefault(); e.stopImmediatePropagation(); pick(menu.active); return; }
  else if (e.key === 'Escape') close();
  else handled = false;
  if (!handled) return;
  e.preventDefault();
  e.stopImmediatePropagation();   // Enter picks here; it must not also send (desk/main.js)
  if (menu.open) render();
}

/** Add the menu under the composer; its key handler runs before the composer's Enter-to-send. */
export function initCanned() {
  menu.el = h('ul', { id: 'canned-menu', class: 'canned-menu', role: 'listbox', 'data-testid': 'canned-menu',
    'aria-label': 'Canned responses', hidden: true });
  ui.composer.before(menu.el);
  ui.composer.setAttribute('aria-controls', 'canned-menu');
  ui.composer.setAttribute('aria-autocomplete', 'list');
  ui.composer.addEventListener('keydown', onKeydown, true);
  ui.composer.addEventListener('input', () => { menu.active = 0; update(); });
  ui.composer.addEventListener('blur', () => setTimeout(close, 150));
}
