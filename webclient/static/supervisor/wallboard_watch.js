// Watching a chat live from the wallboard (docs/protocol.md): `chat_watch` answers with the conversation's history,
// then its events and the customer's typing come for as long as the panel is open; nobody is told. From the panel
// the supervisor coaches the agent (a note the customer never sees), joins the chat (the customer sees them and what
// they write), moves it (to an agent, a queue, or themselves: "Take over"), or stops watching. One chat at a time.
//
// The timeline is the desk's own rendering (desk/timeline.js, desk/event_text.js), so every event reads as the agent
// reads it. What the conversation is now and what may be done in it: wallboard_watch_rules.js; the controls:
// wallboard_watch_forms.js. The panel is a modal dialog at the page's right edge, the same in the large mode.

import { S } from '../desk/state.js';
import { h, partNodes } from '../desk/dom.js';
import { authorName, systemText } from '../desk/event_text.js';
import { openHelp } from '../desk/help_rules.js';
import { eventNodes, makeEventEl } from '../desk/timeline.js';
import { newsText } from '../desk/timeline_news.js';
import { TYPING_SHOW } from '../desk/config.js';
import { lengthNote } from '../shared/length.js';
import { isolate } from '../shared/text.js';
import { cmpId, newClientId } from '../shared/ids.js';
import { focusFirst, focusLost } from '../shared/focus.js';
import { back } from './wallboard_chats.js';
import { buildActions } from './wallboard_watch_forms.js';
import { answerHelp } from './wallboard_help.js';
import { allowed, answers, chatFacts, customerName, errorText, headerFacts, inChatText } from './wallboard_watch_rules.js';

const REDRAWN = new Set(['ivr', 'call_started', 'call_ended']); // they change an IVR / bot session's one line
const ANSWER_WAIT = 10000; // an action unanswered this long takes presses again (a join another tab made already)

const P = {
  send: () => false,
  now: () => Date.now(),
  cid: null,            // the conversation watched
  summary: null,        // its summary: the list row's, then the history frame's
  events: new Map(),    // id -> event
  lastId: null,         // the newest event drawn
  loaded: false,        // its history came
  waiting: false,       // chat_watch asked, no history yet
  facts: null,
  pending: null,        // the action waiting for its answer: {kind: note|message|join|leave|transfer, button?,
                        // clientId?, frame}
  opener: null,
  region: null,
  owner: { id: '' },    // which IVR lines are expanded (desk/timeline.js eventNodes)
  typingTimer: null,
  tick: null,
  ui: null,
  actions: null,
};

const me = () => (S.agent && S.agent.id) || '';

/** send(frame) -> false when not connected; now(): the gateway's time (ms). */
export function initWatch({ send, now }) {
  P.send = send;
  P.now = now;
}

/** What the panel watches, for tests: {conversationId, loaded, state, inChat} or null. */
export function watching() {
  if (!P.cid) return null;
  return { conversationId: P.cid, loaded: P.loaded, state: P.facts && P.facts.state,
    inChat: P.facts ? Array.from(P.facts.inChat.keys()) : [] };
}

// ------------------------------------------------------------ the panel

function ensure() {
  if (P.ui) return P.ui;
  const title = h('h2', { id: 'wbw-title', 'data-testid': 'wb-watch-title' });
  const facts = h('dl', { class: 'wbw-facts', 'data-testid': 'wb-watch-facts' });
  const stop = h('button', { type: 'button', class: 'btn small', 'data-testid': 'wb-watch-stop', text: 'Stop watching' });
  const status = h('p', { class: 'wbw-status', 'data-testid': 'wb-watch-status' });
  const timeline = h('ol', { class: 'timeline wbw-timeline', 'data-testid': 'wb-watch-timeline', 'aria-label': 'Timeline' });
  const body = h('div', { class: 'wbw-body', tabindex: '0', role: 'region', 'aria-label': 'The conversation' }, timeline);
  const typing = h('div', { class: 'typing-preview wbw-typing', 'data-testid': 'wb-watch-typing', hidden: true });
  // new messages said once by a polite status region, as the desk's (the timeline itself is not live)
  const news = h('p', { class: 'sr-only', role: 'status', 'data-testid': 'wb-watch-news' });
  const error = h('p', { class: 'wbw-error', role: 'alert', 'data-testid': 'wb-watch-error' });
  const why = h('p', { class: 'wbw-why', 'data-testid': 'wb-watch-why' });
  // the agent's open request for help (wallboard_help.js): said, with "I'm on it"
  const helpText = h('p', { class: 'wbw-help-text', 'data-testid': 'wb-watch-help-text' });
  const helpAnswer = h('button', { type: 'button', class: 'btn small primary', 'data-testid': 'wb-watch-help-answer',
    text: 'I’m on it' });
  const help = h('div', { class: 'wbw-help', 'data-testid': 'wb-watch-help', hidden: true }, helpText, helpAnswer);
  helpAnswer.addEventListener('click', () => {
    const open = P.cid && openHelp(P.events.values());
    // (done: the line goes and the timeline says "You answered …"; refused: said as the panel's errors are)
    const said = (text, done) => { if (!done) P.ui.error.textContent = text; };
    if (open) answerHelp(P.cid, helpAnswer, { name: open.agentName, said });
  });
  P.actions = buildActions({
    cid: () => P.cid,
    facts: () => P.facts,
    note: (text) => write('note', text),
    message: (text) => write('message', text),
    join: () => ask({ kind: 'join' }, { type: 'chat_join', conversation_id: P.cid, join: true }),
    leave: () => ask({ kind: 'leave' }, { type: 'chat_join', conversation_id: P.cid, join: false }),
    transfer: (frame) => ask({ kind: 'transfer' }, frame),
    takeOver: () => ask({ kind: 'transfer', button: 'takeOver' }, { type: 'transfer', conversation_id: P.cid, agent_id: me() }),
    typing: (active) => !!P.cid && P.send({ type: 'typing', conversation_id: P.cid, active }),
  });
  const dialog = h('dialog', { class: 'wbw', 'data-testid': 'wb-watch', 'aria-labelledby': 'wbw-title' },
    h('header', { class: 'wbw-head' }, title, stop, facts),
    status, help, body, typing, news, h('div', { class: 'wbw-foot' }, error, why, P.actions.root));
  stop.addEventListener('click', () => stopWatching());
  dialog.addEventListener('cancel', (e) => { // Esc: as Stop watching (the panel closes only through it)
    e.preventDefault();
    stopWatching();
  });
  // (closed all the same: a browser lets a page refuse Esc only so often)
  dialog.addEventListener('close', () => { if (P.cid) stopWatching(); });
  document.body.append(dialog);
  P.ui = { dialog, title, facts, stop, status, help, helpText, helpAnswer, body, timeline, typing, news, error, why };
  return P.ui;
}

/** Watch the conversation of list row `row` (id, customer, queue, agent, state); `opener` and `region` take the
 * focus back when the panel closes. */
export function watch(row, opener, region) {
  const ui = ensure();
  if (P.cid && P.cid !== row.id) unwatch();
  if (P.pending) clearTimeout(P.pending.timer);
  Object.assign(P, { cid: row.id, summary: { ...row }, events: new Map(), lastId: null, loaded: false, pending: null,
    opener: opener || null, region: region || null, owner: { id: `watch:${row.id}` } });
  P.actions.reset();
  clearTyping();
  ui.error.textContent = '';
  ui.news.textContent = '';
  ui.dialog.dataset.conversationId = row.id;
  ui.timeline.replaceChildren(h('li', { class: 'tl-item tl-sys', text: 'Loading the conversation…' }));
  render();
  if (!ui.dialog.open) ui.dialog.showModal();
  ui.stop.focus();
  P.waiting = true;
  // not connected: asked again on the welcome (onWatchWelcome)
  P.send({ type: 'chat_watch', conversation_id: row.id, watch: true });
  clearInterval(P.tick);
  P.tick = setInterval(renderHeader, 1000);
}

/** Stop watching (and leave the chat if the supervisor is in it): the panel closes, the focus goes back. */
export function stopWatching() {
  if (P.cid) unwatch();
  if (P.ui && P.ui.dialog.open) P.ui.dialog.close();
  back(P.opener, P.region);
}

function unwatch() {
  P.actions.reset(); // (its typing ends first: it names the conversation)
  if (P.pending) clearTimeout(P.pending.timer);
  if (P.facts && P.facts.inChat.has(me())) P.send({ type: 'chat_join', conversation_id: P.cid, join: false });
  P.send({ type: 'chat_watch', conversation_id: P.cid, watch: false });
  clearInterval(P.tick);
  clearTyping();
  Object.assign(P, { cid: null, summary: null, events: new Map(), lastId: null, loaded: false, waiting: false,
    pending: null, facts: null });
}

// ------------------------------------------------------------ sending

/** A frame for an action that waits for its answer (an event of the conversation, or an error). */
function ask(pending, frame) {
  if (!P.cid) return false;
  if (P.pending) { // one at a time: its answer first
    P.ui.error.textContent = 'Wait a moment: the gateway has not answered the last one yet.';
    return false;
  }
  if (!P.send(frame)) {
    P.ui.error.textContent = 'Not connected to the gateway: try again in a moment.';
    return false;
  }
  P.ui.error.textContent = '';
  const mine = { ...pending, frame };
  P.pending = mine;
  mine.timer = setTimeout(() => {
    if (P.pending === mine) settle(false, 'The gateway did not answer: the timeline says whether it happened.');
  }, ANSWER_WAIT);
  return true;
}

/** A coach note or a message to the customer: acknowledged by the gateway (ack), drawn when its event comes. */
function write(kind, text) {
  const long = lengthNote(text);
  if (long.over) {
    P.ui.error.textContent = long.text;
    return false;
  }
  const clientId = newClientId('s-');
  return ask({ kind, clientId }, { type: kind, conversation_id: P.cid, client_id: clientId, text });
}

/** The pending action was answered (`done`) or refused (`text` says why). */
function settle(done, text = '') {
  const p = P.pending;
  P.pending = null;
  if (!p) return;
  clearTimeout(p.timer);
  P.actions.settle(p.button || p.kind, done);
  if (!done && p.kind === 'transfer' && !p.button) P.actions.transferFailed(text); // said in its form
  else P.ui.error.textContent = done ? '' : text;
  render();
  const boxes = P.actions.boxes;
  if (done && p.kind === 'join') focusFirst([boxes.message, P.ui.stop]); // write to the customer now
  if (done && p.kind === 'leave') focusFirst([boxes.join, boxes.note, P.ui.stop]);
}

// ------------------------------------------------------------ frames

/** The socket is (again) welcomed: the gateway forgot what this socket watched; a note or message not acknowledged
 * goes again (the gateway stores it once per client id). */
export function onWatchWelcome() {
  if (!P.cid) return;
  P.send({ type: 'chat_watch', conversation_id: P.cid, watch: true });
  P.waiting = true;
  const p = P.pending;
  if (p && p.clientId) P.send(p.frame);
  else if (p) settle(false, 'The connection dropped: the timeline says whether it happened.');
}

/** `history`: the watched conversation's summary and events. True when it was ours. */
export function onWatchHistory(f) {
  const s = f.conversation && typeof f.conversation === 'object' ? f.conversation : {};
  const id = s.id || f.conversation_id;
  if (!P.cid || id !== P.cid) return false;
  P.summary = { ...P.summary, ...s };
  for (const ev of Array.isArray(f.events) ? f.events : []) {
    if (ev && typeof ev.id === 'string') P.events.set(ev.id, ev);
  }
  P.loaded = true;
  P.waiting = false;
  renderTimeline();
  render();
  return true;
}

/** `event` of the watched conversation: drawn, and what it changes (a supervisor joined, a transfer, the close). */
export function onWatchEvent(f) {
  const ev = f.event;
  const id = f.conversation_id || (ev && ev.conversation_id);
  if (!P.cid || id !== P.cid) return false;
  if (!ev || typeof ev.id !== 'string' || P.events.has(ev.id)) return true;
  P.events.set(ev.id, ev);
  if (P.loaded) drawEvent(ev);
  if ((ev.type === 'message' || ev.type === 'attachment') && ev.author === 'customer') clearTyping();
  announce(newsText(ev, me(), authorName));
  if (answers(P.pending, ev, me())) settle(true);
  else render();
  return true;
}

/** The customer's typing (`customer_typing`, or the desk's `typing`) in the watched conversation: their draft. */
export function onWatchTyping(f) {
  if (!P.cid || f.conversation_id !== P.cid) return false;
  if (f.author && f.author !== 'customer') return true; // (the agent's, or a supervisor's)
  clearTimeout(P.typingTimer);
  const ui = P.ui;
  if (!f.active || (P.facts && P.facts.closed)) {
    clearTyping();
    return true;
  }
  const draft = typeof f.draft === 'string' ? f.draft : '';
  ui.typing.textContent = draft ? `Customer is typing: ${draft}` : 'Customer is typing…';
  ui.typing.hidden = false;
  P.typingTimer = setTimeout(clearTyping, TYPING_SHOW);
  return true;
}

/** `ack` of our note or message: stored (its event is drawn when it comes). */
export function onWatchAck(f) {
  if (!P.pending || !P.pending.clientId || f.client_id !== P.pending.clientId) return false;
  settle(true);
  return true;
}

/** An error frame that answers the panel's pending action (a note's or message's by its client id; a join, leave,
 * transfer or watch carry none: the one waiting). True when it was ours. */
export function onWatchError(f) {
  const p = P.pending;
  if (!P.cid || f.call_id) return false;
  if (p && (p.clientId ? f.client_id === p.clientId : !f.client_id)) {
    settle(false, errorText(f));
    return true;
  }
  if (P.waiting && !f.client_id) { // the watch itself refused (not a supervisor's, gone, too many)
    P.waiting = false;
    P.ui.error.textContent = `Could not watch this chat: ${errorText(f)}`;
    return true;
  }
  return false;
}

// ------------------------------------------------------------ drawing

function clearTyping() {
  clearTimeout(P.typingTimer);
  P.typingTimer = null;
  if (!P.ui) return;
  P.ui.typing.hidden = true;
  P.ui.typing.textContent = '';
}

function announce(text) {
  if (!text) return;
  const el = P.ui.news;
  el.textContent = el.textContent === text ? `${text}\u00a0` : text; // the same words again are still news
}

function sortedEvents() {
  return Array.from(P.events.values()).sort((a, b) => cmpId(a.id, b.id));
}

function nearBottom() {
  const b = P.ui.body;
  return b.scrollHeight - b.scrollTop - b.clientHeight < 80;
}

function toBottom() {
  const b = P.ui.body;
  requestAnimationFrame(() => { b.scrollTop = b.scrollHeight; });
}

function renderTimeline() {
  const events = sortedEvents();
  P.lastId = events.length ? events[events.length - 1].id : null;
  P.ui.timeline.replaceChildren(...(events.length ? eventNodes(events, P.owner)
    : [h('li', { class: 'tl-item tl-sys', text: 'Nothing in this conversation yet.' })]));
  toBottom();
}

/** A new event at the end (most are): appended; a step of an IVR / bot session, or one out of order: all again. */
function drawEvent(ev) {
  const stick = nearBottom();
  if (REDRAWN.has(ev.type) || !P.lastId || cmpId(ev.id, P.lastId) < 0) {
    renderTimeline();
    return;
  }
  P.lastId = ev.id;
  P.ui.timeline.append(makeEventEl(ev));
  if (stick) toBottom();
}

function renderHeader() {
  if (!P.cid || !P.facts) return;
  const dl = P.ui.facts;
  dl.replaceChildren(...headerFacts(P.facts, P.now()).map(([k, v]) =>
    h('div', null, h('dt', { text: k }), h('dd', { 'data-fact': k, text: v }))));
}

/** The agent's open request for help in the watched chat ("Alice Smith asked for help: …"), with "I'm on it". */
function renderHelpLine(f) {
  const open = f.closed ? null : openHelp(P.events.values());
  const ev = open && P.events.get(open.eventId);
  P.ui.help.hidden = !ev;
  if (!ev || P.ui.help.dataset.eventId === ev.id) return;
  P.ui.help.dataset.eventId = ev.id;
  P.ui.helpText.replaceChildren(...partNodes(systemText(ev)));
  P.ui.helpAnswer.setAttribute('aria-label', `I’m on it: answer ${isolate(open.agentName)}’s request`);
}

/** Everything but the timeline, from what the conversation is now. */
function render() {
  const ui = P.ui;
  const f = chatFacts(P.summary, Array.from(P.events.values()), S.agentNames);
  P.facts = f;
  const had = ui.dialog.contains(document.activeElement);
  ui.title.textContent = customerName(P.summary);
  ui.dialog.dataset.state = f.state;
  renderHeader();
  const allow = allowed(f, me(), S.roles);
  ui.stop.textContent = f.closed ? 'Close' : allow.leave ? 'Leave the chat and stop watching' : 'Stop watching';
  ui.status.dataset.inChat = String(allow.leave);
  ui.status.textContent = f.closed ? 'This conversation is closed.'
    : inChatText(f, me()) || 'Watching silently: neither the agent nor the customer is told.';
  ui.why.replaceChildren(allow.why);
  if (allow.mine) ui.why.append(' ', h('a', { href: '/agent', text: 'Open the agent desk' }));
  ui.why.hidden = !allow.why;
  renderHelpLine(f);
  P.actions.update(f, allow, me());
  if (f.closed) clearTyping();
  // a control that had the focus went (joined: Join; closed: everything): not to <body>
  const boxes = P.actions.boxes;
  if (had && focusLost(document.activeElement)) focusFirst([boxes.message, boxes.join, boxes.note, ui.body, ui.stop]);
}
