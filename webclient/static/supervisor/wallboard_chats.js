// The chats behind a count on the wallboard (an agent's conversations, a queue's waiting chats), listed in a dialog
// from GET /api/conversations (the desk's token: an agent's open conversations and a queue's waiting ones are read
// from their live sets, docs/protocol.md), each with Watch (wallboard_watch.js).

import { api } from '../desk/api.js';
import { fmtClock, h } from '../desk/dom.js';
import { focusFirst, usable } from '../shared/focus.js';
import { isolate } from '../shared/text.js';
import { chatList, customerName } from './wallboard_watch_rules.js';

const C = { dialog: null, opener: null, region: null, asked: 0, watch: () => {} };

/** watch(row, opener, region): Watch pressed on a row (the list closes first; `opener` is the count button it came
 * from, `region` its table, for the focus when the panel closes). */
export function initChats({ watch }) {
  C.watch = watch;
}

function ensure() {
  if (C.dialog) return C.dialog;
  const close = h('button', { type: 'button', class: 'btn small', 'data-testid': 'wb-chats-close', text: 'Close' });
  C.dialog = h('dialog', { class: 'wbw-list', 'data-testid': 'wb-chats-list', 'aria-labelledby': 'wbw-list-title' },
    h('header', { class: 'wbw-list-head' }, h('h2', { id: 'wbw-list-title', 'data-testid': 'wb-chats-title' }), close),
    h('p', { class: 'wbw-list-status', 'data-testid': 'wb-chats-status', role: 'status' }),
    h('ul', { class: 'wbw-rows', 'data-testid': 'wb-chats-rows', 'aria-labelledby': 'wbw-list-title' }));
  close.addEventListener('click', () => C.dialog.close());
  // back to the count it was opened from, unless a Watch took the focus on to the panel
  C.dialog.addEventListener('close', () => {
    if (C.dialog.dataset.watching !== 'true') back(C.opener, C.region);
  });
  document.body.append(C.dialog);
  return C.dialog;
}

/** The focus back to `opener` (a count button), or to its table (`region`) when the count went to none meanwhile
 * (the button is gone: not to <body>, where Tab starts from the top), or to the board's first table when the table
 * went too (the help requests' card, with its last request). */
export function back(opener, region) {
  if (usable(opener)) opener.focus();
  else if (usable(region)) region.focus();
  else focusFirst(Array.from(document.querySelectorAll('#wb-live [role=region]')));
}

/** One chat: the customer, where it is, its last message, and Watch. */
function row(r) {
  const who = customerName(r);
  const where = [r.queue ? `queue ${r.queue}` : '', r.agent_name ? `with ${r.agent_name}` : '',
    r.created_at ? `started ${fmtClock(r.created_at)}` : ''].filter(Boolean).join(' · ');
  const watch = h('button', { type: 'button', class: 'btn small primary', 'data-testid': 'wb-chats-watch',
    'aria-label': `Watch ${isolate(who)}’s chat`, text: 'Watch' });
  watch.addEventListener('click', () => {
    C.dialog.dataset.watching = 'true';
    C.dialog.close();
    C.watch(r, C.opener, C.region);
  });
  return h('li', { class: 'wbw-row', 'data-testid': 'wb-chats-row', 'data-conversation-id': r.id },
    h('div', { class: 'wbw-row-text' },
      h('bdi', { class: 'wbw-row-who', text: who }),
      h('span', { class: 'wbw-row-where', text: where }),
      r.last_text ? h('bdi', { class: 'wbw-row-last', text: r.last_text }) : null),
    watch);
}

/** Open the list of `kind` ('agent' or 'queue') `key` (an agent id, a queue name), `label` its name on the board. */
export async function openChats(kind, key, label, opener) {
  const d = ensure();
  const list = chatList(kind, key, label);
  const asked = ++C.asked;
  C.opener = opener || null;
  C.region = opener ? opener.closest('[role=region]') : null;
  d.dataset.watching = 'false';
  d.querySelector('[data-testid=wb-chats-title]').textContent = list.title;
  const status = d.querySelector('[data-testid=wb-chats-status]');
  const rows = d.querySelector('[data-testid=wb-chats-rows]');
  status.textContent = 'Loading…';
  rows.replaceChildren();
  if (!d.open) d.showModal();
  d.querySelector('[data-testid=wb-chats-close]').focus();
  try {
    const page = await api('/api/conversations', { params: list.params });
    if (asked !== C.asked || !d.open) return;
    const found = Array.isArray(page.conversations) ? page.conversations : [];
    rows.replaceChildren(...found.map(row));
    status.textContent = !found.length ? list.empty
      : `${found.length} chat${found.length === 1 ? '' : 's'}${page.next ? ' (the newest; more wait)' : ''}`;
    const first = rows.querySelector('button');
    // the focus on to the first Watch, if it is still on Close where the opening put it
    if (first && document.activeElement === d.querySelector('[data-testid=wb-chats-close]')) first.focus();
  } catch (err) {
    if (asked === C.asked) status.textContent = `Could not list them: ${err.message}`;
  }
}
