// Agents' requests for help on the wallboard (the `wallboard` frame's `help`, oldest first; gateway/contact/
// help_requests.py): a card at the top of the board while there are any (an agent is waiting: it stands out), each
// row who asks, in which queue, for how long and why, with **Watch** (the chat live beside the board:
// wallboard_watch.js) and **I'm on it** (frame `help`, active false: the agent's desk says who answered; the row
// goes with the next frame). The watch panel offers "I'm on it" too (answerHelp). The large mode (a wall display
// nobody clicks) shows the list without buttons (wallboard_help.css).
//
// New requests are said by a polite status region that is always there (the card appears with them); the result of
// "I'm on it" by the line under the card. A row that goes with the focus on it hands the focus to its table, and the
// card that goes with the last one to the Queues table (never to <body>).

import { h } from '../desk/dom.js';
import { endFrame } from '../desk/help_rules.js';
import { focusFirst, setPending } from '../shared/focus.js';
import { isolate } from '../shared/text.js';
import { agentName, gatewayNow, sync } from './wallboard_board.js';
import { duration, helpArrivals, helpRows } from './wallboard_format.js';
import { errorText } from './wallboard_watch_rules.js';

const ANSWER_WAIT = 8000; // "I'm on it" unanswered this long (no frame without the row, no error) takes presses again
const SAID_MS = 20000;    // how long the result stays under the card

const HW = {
  send: () => false,
  watch: () => {},
  shown: null,          // the conversation ids the board shows (null before the first frame)
  rows: new Map(),      // conversation id -> the last frame's row
  pending: null,        // {cid, name, button, said, timer} while "I'm on it" waits for its answer
  saidTimer: null,
};

/** send(frame) -> false when not connected; watch(row, opener, region): open the watch panel on a chat. */
export function initHelp({ send, watch }) {
  HW.send = send;
  HW.watch = watch;
}

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------ the card

/** A `wallboard` frame came: the card shows its requests (hidden when there are none). */
export function renderHelp(frame) {
  const rows = helpRows(frame);
  const card = $('wb-help');
  if (!card) return;
  const news = helpArrivals(HW.shown, rows);
  if (news) say($('wb-help-news'), news);
  HW.shown = new Set(rows.map((r) => r.conversation_id));
  HW.rows = new Map(rows.map((r) => [r.conversation_id, r]));
  const p = HW.pending;
  if (p && !HW.shown.has(p.cid)) settle(`Done: ${isolate(p.name)} is told you are on it.`, true);
  const had = card.contains(document.activeElement);
  sync(card.querySelector('tbody'), rows, (r) => r.conversation_id, makeRow, updateRow);
  $('wb-help-count').textContent = rows.length ? `(${rows.length})` : '';
  card.hidden = rows.length === 0;
  // the last one went with the focus in the card: on to the Queues table, not to <body>
  if (had && card.hidden) focusFirst([document.querySelector('[data-testid=wb-queues]').closest('[role=region]')]);
}

function makeRow(r) {
  const cid = r.conversation_id;
  const tr = h('tr', { 'data-testid': 'wb-help-row', 'data-conversation-id': cid },
    h('th', { scope: 'row', 'data-col': 'agent' }),
    h('td', { 'data-col': 'queue' }),
    h('td', { class: 'num', 'data-col': 'waiting' }),
    h('td', { 'data-col': 'why' }),
    h('td', { 'data-col': 'actions' }));
  const watch = h('button', { type: 'button', class: 'btn small', 'data-testid': 'wb-help-watch', text: 'Watch' });
  const answer = h('button', { type: 'button', class: 'btn small primary', 'data-testid': 'wb-help-answer',
    text: 'I’m on it' });
  watch.addEventListener('click', () => {
    const row = HW.rows.get(cid);
    if (!row) return;
    HW.watch({ id: cid, customer_id: row.customer_id, queue: row.queue, agent_id: row.agent_id,
      agent_name: row.agent_name, state: 'assigned' }, watch, tr.closest('[role=region]'));
  });
  answer.addEventListener('click', () => {
    const row = HW.rows.get(cid);
    if (row) answerHelp(cid, answer, { name: row.agent_name });
  });
  tr.querySelector('[data-col=actions]').append(watch, answer);
  return tr;
}

function updateRow(tr, r) {
  agentName(tr.querySelector('[data-col=agent]'), r.agent_name);
  const queue = tr.querySelector('[data-col=queue]');
  if (queue.textContent !== (r.queue || '—')) queue.textContent = r.queue || '—';
  const waiting = tr.querySelector('[data-col=waiting]');
  waiting.dataset.since = r.since == null ? '' : String(r.since); // the board's tick moves it on every second
  waiting.textContent = r.since == null ? '—' : duration(gatewayNow() - r.since);
  const why = tr.querySelector('[data-col=why]');
  if (why.dataset.text !== r.text) {
    why.dataset.text = r.text;
    why.replaceChildren(r.text ? h('span', { dir: 'auto', text: r.text })
      : h('span', { class: 'wb-help-none', text: 'No reason given' }));
  }
  const whose = `${isolate(r.agent_name)}’s`;
  tr.querySelector('[data-testid=wb-help-watch]').setAttribute('aria-label', `Watch ${whose} chat`);
  tr.querySelector('[data-testid=wb-help-answer]').setAttribute('aria-label', `I’m on it: answer ${whose} request`);
  setPending(tr.querySelector('[data-testid=wb-help-answer]'), !!HW.pending && HW.pending.cid === r.conversation_id);
}

// ------------------------------------------------------------ answering

/** "I'm on it" for the request open in `cid` (a row's button, or the watch panel's), `name` the agent who asked;
 * `said(text, done)` shows the result where it was pressed (the line under the card by default; `done`: it went
 * through). False when not sent. */
export function answerHelp(cid, button, { name = 'the agent', said = null } = {}) {
  const tell = said || ((text) => say($('wb-help-said'), text, true));
  if (HW.pending) {
    tell('Wait a moment: the gateway has not answered the last one yet.');
    return false;
  }
  if (!HW.send(endFrame(cid))) {
    tell('Not connected to the gateway: try again in a moment.');
    return false;
  }
  const p = { cid, name, button, said: tell };
  p.timer = setTimeout(() => { if (HW.pending === p) settle(''); }, ANSWER_WAIT);
  HW.pending = p;
  setPending(button, true); // (aria-disabled: the focus stays on it until the row goes)
  return true;
}

/** The pending "I'm on it" is over: `text` says how ('' for nothing), `done` whether it went through. */
function settle(text, done = false) {
  const p = HW.pending;
  HW.pending = null;
  if (!p) return;
  clearTimeout(p.timer);
  setPending(p.button, false);
  if (text) p.said(text, done);
}

/** An error frame while "I'm on it" waits (someone answered first, the chat left its agent): said. True when ours. */
export function onHelpError(f) {
  const p = HW.pending;
  if (!p || f.client_id || f.call_id) return false;
  settle(f.code === 'conflict' ? `${isolate(p.name)}’s request is no longer open: someone answered it, or the chat moved on.`
    : `Could not answer ${isolate(p.name)}’s request: ${errorText(f)}`);
  return true;
}

/** Signed out: nothing waits, the next sign-in's first frame is the first again. */
export function resetHelp() {
  settle('');
  HW.shown = null;
}

function say(el, text, fades = false) {
  if (!el) return;
  el.textContent = el.textContent === text ? `${text}\u00a0` : text; // the same words again are still news
  if (!fades) return;
  clearTimeout(HW.saidTimer);
  HW.saidTimer = setTimeout(() => { el.textContent = ''; }, SAID_MS);
}
