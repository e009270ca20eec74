// The top bar's Away button as a menu of the center's away reasons (welcome.away_reasons, read again on every
// welcome): choosing one sends `status` `away` with its code; while away, choosing another switches it. A menu button
// (WAI-ARIA APG): Enter, Space or ArrowDown opens it on the current reason (else the first), ArrowUp on the last;
// arrows, Home / End and a first letter move; Enter or Space chooses; Esc closes it and gives the focus back to the
// button; Tab closes it and goes on; a click outside closes it. A center with no reasons (an older gateway) keeps the
// plain button: away with no reason. The gateway refusing a reason (an admin took it off the list meanwhile): the list
// is read again (GET /api/away-reasons), the menu shows the new one with one line of why. The pure part:
// away_reasons.js.

import { api } from './api.js';
import { h, toast } from './dom.js';
import { S } from './state.js';
import {
  awayFrame, awayMenu, knownReasons, menuKey, openingIndex, reasonLabel, reasonList, reasonRefused, refusedText,
} from './away_reasons.js';

const M = {
  button: null,
  pop: null,
  menu: null,
  note: null,      // the popup's line of why (a reason refused)
  send: () => false,
  plain: () => {}, // away with no reason (no list)
  chosen: null,    // {code, label} last sent: what a refusal is about
  items: [],
};

const isOpen = () => !!M.pop && !M.pop.hidden;
const ours = (el) => !!el && (M.pop.contains(el) || M.button.contains(el)); // (Available beside it is not)

/** button: the Away button; pop, menu, note: the popup, its role=menu list and its line; send(frame) -> false when not
 * connected; plain(): what the button does without a list. */
export function initAwayMenu({ button, pop, menu, note, send, plain }) {
  Object.assign(M, { button, pop, menu, note, send, plain });
  button.append(h('span', { class: 'away-caret', 'aria-hidden': 'true' }));
  button.addEventListener('click', () => {
    if (!awayMenu(S.awayReasons, S.agent).menu) { M.plain(); return; }
    if (isOpen()) close({ focus: true });
    else open();
  });
  button.addEventListener('keydown', (e) => {
    if (!awayMenu(S.awayReasons, S.agent).menu || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
    e.preventDefault();
    open({ last: e.key === 'ArrowUp' });
  });
  menu.addEventListener('keydown', onMenuKey);
  menu.addEventListener('click', (e) => {
    const item = e.target.closest('[role=menuitemradio]');
    if (item) choose(item.dataset.code);
  });
  pop.addEventListener('focusout', (e) => {
    if (isOpen() && e.relatedTarget && !ours(e.relatedTarget)) close();
  });
  document.addEventListener('pointerdown', (e) => {
    if (isOpen() && !ours(e.target)) close();
  });
}

/** The center's reasons from a welcome (an older gateway's says none: the plain button). */
export function takeAwayReasons(value) {
  setReasons(reasonList(value));
  renderAwayMenu();
}

function setReasons(list) {
  S.awayReasons = list;
  S.awayLabels = knownReasons(S.awayLabels, list);
}

/** The button and the menu as the list and the agent's status now are (renderPresence). */
export function renderAwayMenu() {
  const b = M.button;
  if (!b) return;
  const model = awayMenu(S.awayReasons, S.agent);
  b.dataset.menu = String(model.menu);
  if (model.menu) {
    b.setAttribute('aria-haspopup', 'menu');
    b.setAttribute('aria-controls', M.menu.id);
    b.setAttribute('aria-expanded', String(isOpen()));
    b.title = 'Away: choose why';
  } else {
    if (isOpen()) close({ focus: b.contains(document.activeElement) || M.pop.contains(document.activeElement) });
    for (const a of ['aria-haspopup', 'aria-controls', 'aria-expanded', 'title']) b.removeAttribute(a);
  }
  const key = JSON.stringify(model.items);
  if (M.menu.dataset.items === key) return; // unchanged: the focus inside stays where it is
  const focused = M.menu.contains(document.activeElement) ? document.activeElement.dataset.code : null;
  M.menu.dataset.items = key;
  M.items = model.items;
  M.menu.replaceChildren(...model.items.map((item) => h('li', {
    role: 'menuitemradio', tabindex: '-1', 'aria-checked': String(item.current), 'data-code': item.code,
    'data-testid': 'away-reason-item', class: 'away-item',
  }, h('bdi', { text: item.label }))));
  if (isOpen()) {
    const again = focused ? M.items.findIndex((i) => i.code === focused) : -1;
    focusItem(again >= 0 ? again : openingIndex(M.items));
  }
}

function itemEls() {
  return Array.from(M.menu.querySelectorAll('[role=menuitemradio]'));
}

function focusItem(i) {
  const els = itemEls();
  if (els[i]) els[i].focus();
}

/** Open the popup, the focus on the current reason (else the first; `last`: the last); `note`: its line of why. */
function open({ last = false, note = '' } = {}) {
  renderAwayMenu();
  if (!M.items.length) return;
  M.note.textContent = '';
  M.pop.hidden = false;
  M.button.setAttribute('aria-expanded', 'true');
  focusItem(openingIndex(M.items, { last }));
  // the line is a polite status: written once it is shown, or a screen reader never hears it
  if (note) setTimeout(() => { if (isOpen()) M.note.textContent = note; }, 60);
}

/** Close the popup; `focus`: give the focus back to the button (Esc, a choice), not where a click put it. */
function close({ focus = false } = {}) {
  if (!M.pop) return;
  M.pop.hidden = true;
  M.note.textContent = '';
  if (M.button.hasAttribute('aria-haspopup')) M.button.setAttribute('aria-expanded', 'false');
  if (focus) M.button.focus();
}

function onMenuKey(e) {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const els = itemEls();
  const at = els.indexOf(document.activeElement);
  const act = menuKey(e.key, at, els.length, M.items.map((i) => i.label));
  if (!act) return;
  if (act.close === 'leave') { // Tab: on from the button, as if the menu were not there (the default goes on)
    close({ focus: true });
    return;
  }
  e.preventDefault(); // (Enter or Space would press the button the focus goes back to)
  e.stopPropagation(); // Esc is the menu's, not a drawer's or a dialog's
  if (act.close) close({ focus: true });
  else if (act.choose) choose(els[at].dataset.code);
  else focusItem(act.focus);
}

/** Away for `code` (the menu's choice): the popup closes, the focus goes back to the button. */
function choose(code) {
  const item = M.items.find((i) => i.code === code);
  close({ focus: true });
  if (!item || item.current) return; // away with it already
  if (!M.send(awayFrame(code))) { toast('Not connected — try again in a moment.'); return; }
  M.chosen = { code, label: item.label };
}

/** The agent frame said what the status is now: a choice it shows is no longer waiting. */
export function onAwayAgent(agent) {
  if (M.chosen && agent && agent.away_reason === M.chosen.code) M.chosen = null;
}

/** An error frame: true when it was the gateway refusing a reason (the list is read again, the menu shows the new one
 * with a line of why: reopened when the focus is still on the button, said in a toast when the agent went on). */
export function onAwayError(f) {
  if (!reasonRefused(f)) return false;
  const chosen = M.chosen || { code: '', label: '' };
  M.chosen = null;
  api('/api/away-reasons').then((data) => {
    const list = reasonList(data && data.reasons);
    if (list) setReasons(list);
    renderAwayMenu();
    const stillThere = !!chosen.code && !!list && list.some((r) => r.code === chosen.code);
    const label = chosen.label || reasonLabel(chosen.code, S.awayLabels);
    const text = refusedText(label, { stillThere, message: f.message });
    const where = document.activeElement;
    if (awayMenu(S.awayReasons, S.agent).menu && (where === M.button || !where || where === document.body)) {
      open({ note: text });
    } else {
      toast(text);
    }
  }).catch(() => toast(f.message || 'That reason was refused: choose another'));
  return true;
}
