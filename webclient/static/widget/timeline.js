// The conversation as the customer sees it: events rendered once each, in id order, pending bubbles last.

import { CACHE_LIMIT, DECLINED_INVITE_KEY, TEXT } from './config.js';
import { W, bubbles, removeFromOutbox, saveSoon, seen } from './state.js';
import { mergeEvents } from './outbox.js';
import { callLive, onCallEndedEvent } from './call.js';
import { cmpId } from '../shared/ids.js';
import { hideTyping, submit } from './chat.js';
import { announceClosed, nearBottom, renderBadge, renderStatus, scrollToBottom, ui } from './panel.js';
import { notify, onCallbackEvent, renderCallback } from './callback.js';
import { sessionGet } from './storage.js';
import { dropRating, offerRating, onRated } from './rating.js';
import { setLinkedText } from '../shared/links.js';
import { attachmentContent } from './attach.js';
import { renderTranscriptLink } from './tools.js';
import { setDisabled } from '../shared/focus.js';
import { closedLineKey } from './end_chat_rules.js';

// ------------------------------------------------------------ helpers

function formatTime(ts) {
  const d = new Date(typeof ts === 'number' ? ts : Date.now());
  try {
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  } catch (_) {
    return d.toLocaleString();
  }
}

// ------------------------------------------------------------ timeline rendering

function isPending(el) {
  return !el.dataset.eventId && el.dataset.status === 'sending';
}

/** A line that is no event but goes after one: a refused upload's note (data-after: the event before it, '' for
 *  none), see attach.js. */
function isNote(el) {
  return !el.dataset.eventId && el.dataset.after !== undefined;
}

/** Insert an element carrying data-event-id (or a note, after its event) in id order, before any pending bubbles.
 *  An event goes before the notes that came after it. */
export function insertOrdered(el) {
  const id = el.dataset.eventId || el.dataset.after || '';
  const note = isNote(el);
  let ref = null;
  for (let c = ui.messages.lastElementChild; c; c = c.previousElementSibling) {
    if (c === el) continue;
    if (isPending(c)) { ref = c; continue; }
    const cid = c.dataset.eventId || (isNote(c) ? c.dataset.after : null);
    if (cid === null) break;   // neither an event nor a note: the order stops there
    const order = cmpId(cid, id);
    if (order > 0 || (order === 0 && isNote(c) && !note)) { ref = c; continue; }
    break;
  }
  // already there (a message of ours the server acknowledged): not moved, the log region would read it again
  if (el.parentNode !== ui.messages || el.nextElementSibling !== ref) ui.messages.insertBefore(el, ref);
  regroup(el);
}

/** data-first marks the first bubble of a run from the same author (shows the name). */
function regroup(el) {
  for (const node of [el, el.nextElementSibling]) {
    if (!node || !node.classList.contains('cg-msg')) continue;
    const prev = node.previousElementSibling;
    const first = !prev || !prev.classList.contains('cg-msg') || prev.dataset.author !== node.dataset.author ||
      (prev.dataset.name || '') !== (node.dataset.name || '');
    node.dataset.first = first ? 'true' : 'false';
  }
}

function makeBubble(author, text) {
  const el = document.createElement('div');
  el.className = 'cg-msg';
  el.dataset.author = author;
  el.dir = 'auto'; // each message reads in its own direction (Arabic in an English widget, and the other way)
  setLinkedText(el, text);   // text nodes, and its http(s) URLs as safe links: never HTML
  return el;
}

export function renderPending(entry) {
  const el = makeBubble('customer', entry.text);
  el.dataset.clientId = entry.client_id;
  el.dataset.status = 'sending';
  el.title = formatTime(entry.ts) + ' · Sending…';
  bubbles.set(entry.client_id, el);
  ui.messages.appendChild(el);
  regroup(el);
  return el;
}

export function markDelivered(el, eventId, ts) {
  el.dataset.status = 'sent';
  el.title = formatTime(ts);
  if (eventId && el.dataset.eventId !== eventId) {
    el.dataset.eventId = eventId;
    insertOrdered(el); // (moved only if another message now comes before it)
  }
}

export function markFailed(clientId, message) {
  const el = bubbles.get(clientId);
  removeFromOutbox(clientId);
  if (el && !el.dataset.eventId) {
    el.dataset.status = 'failed';
    el.title = 'Not delivered' + (message ? ': ' + message : '');
  }
}

export function renderSystem(ev, text) {
  const el = document.createElement('div');
  el.className = 'cg-msg';
  el.dataset.author = 'system';
  el.dir = 'auto';
  el.dataset.status = 'sent';
  el.dataset.eventId = ev.id;
  el.title = formatTime(ev.ts);
  el.textContent = text;
  insertOrdered(el);
  return el;
}

/** A bot's buttons (a menu in chat): pressing one sends its label as the customer's answer. */
function renderChoices(ev) {
  if (!Array.isArray(ev.choices) || !ev.choices.length) return;
  const el = document.createElement('div');
  el.className = 'cg-choices';
  el.dataset.testid = 'cg-choices';
  el.dataset.eventId = ev.id;
  el.setAttribute('role', 'group');
  el.setAttribute('aria-label', 'Choose an answer');
  for (const choice of ev.choices) {
    if (!choice || typeof choice.label !== 'string') continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'cg-choice';
    button.textContent = choice.label;
    button.addEventListener('click', () => {
      if (el.dataset.answered) return;
      retireChoices();
      ui.input.value = choice.label;
      submit();
    });
    el.appendChild(button);
  }
  insertOrdered(el);
}

/** Once the customer answered (button or typed), earlier buttons stay visible but inactive. */
function retireChoices() {
  for (const el of ui.messages.querySelectorAll('.cg-choices:not([data-answered])')) {
    el.dataset.answered = '1';
    // the button just pressed is turned off: the focus goes on to the message box, not to <body>
    for (const b of el.querySelectorAll('button')) setDisabled(b, true, [ui.input]);
  }
}

function renderDivider(ev) {
  const el = document.createElement('div');
  el.className = 'cg-divider';
  el.setAttribute('role', 'separator');
  el.dataset.eventId = ev.id;
  el.title = formatTime(ev.ts);
  el.textContent = TEXT.newConversation;
  insertOrdered(el);
}

export function clearHistory() {
  for (const el of Array.from(ui.messages.children)) {
    if (!isPending(el)) el.remove();
  }
  for (const [cid, el] of bubbles) if (!el.isConnected) bubbles.delete(cid);
  seen.clear();
  W.cache = [];
  W.refused = [];
  W.lastEventId = null;
  W.conv = { id: null, state: null, agentName: null, queuePos: null };
  renderTranscriptLink();
}

/** An event newer than the last one the customer saw with the panel open (on an earlier visit too). */
function unseen(id) {
  return !!W.seenId && cmpId(id, W.seenId) > 0;
}

/** One timeline event (customer-visible). Rendered at most once per id / client_id. */
export function handleEvent(ev, live, fromCache) {
  if (!ev || typeof ev !== 'object' || typeof ev.id !== 'string') return;
  if (seen.has(ev.id)) return;
  seen.add(ev.id);
  if (!W.lastEventId || cmpId(ev.id, W.lastEventId) > 0) W.lastEventId = ev.id;
  if (!fromCache) {
    if (!W.cache.length || cmpId(ev.id, W.cache[W.cache.length - 1].id) > 0) W.cache.push(ev);
    else W.cache = mergeEvents(W.cache, [ev], CACHE_LIMIT);
    if (W.cache.length > CACHE_LIMIT) W.cache = W.cache.slice(-CACHE_LIMIT);
  }
  renderTranscriptLink();

  const cid = ev.conversation_id || W.conv.id;
  const atBottom = nearBottom();
  switch (ev.type) {
    case 'opened':
      W.conv = { id: cid, state: 'open', agentName: null, queuePos: null };
      renderDivider(ev);
      dropRating();
      break;
    case 'message': {
      const author = ['customer', 'agent', 'bot'].includes(ev.author) ? ev.author : 'system';
      if (author === 'customer') retireChoices();
      const existing = ev.client_id ? bubbles.get(ev.client_id) : null;
      if (existing) {
        if (ev.client_id) removeFromOutbox(ev.client_id);
        markDelivered(existing, ev.id, ev.ts);
        break;
      }
      const el = makeBubble(author, typeof ev.text === 'string' ? ev.text : '');
      el.dataset.eventId = ev.id;
      el.dataset.status = author === 'customer' ? 'sent' : 'received';
      if (ev.client_id) {
        el.dataset.clientId = ev.client_id;
        bubbles.set(ev.client_id, el);
        removeFromOutbox(ev.client_id);
      }
      if (author === 'agent') el.dataset.name = ev.supervisor ? TEXT.supervisorName(ev.agent_name) : ev.agent_name || 'Agent';
      else if (author === 'bot') el.dataset.name = 'Assistant';
      el.title = formatTime(ev.ts) + (el.dataset.name ? ' · ' + el.dataset.name : '');
      insertOrdered(el);
      if (author === 'agent') {
        // a supervisor who joined writes beside the agent: the customer still chats with the agent (the status line)
        if (ev.agent_name && !ev.supervisor) W.conv.agentName = ev.agent_name;
        hideTyping();
      }
      if (author !== 'customer' && !W.isOpen && (live || unseen(ev.id))) { // live, or came while nobody looked
        W.unread++;
        renderBadge();
        if (live) announceClosed(el.dataset.name || TEXT.newMessage, ev.text);
      }
      break;
    }
    case 'attachment': {
      const who = ['customer', 'agent'].includes(ev.author) ? ev.author : 'system';
      const pending = ev.client_id ? bubbles.get(ev.client_id) : null;
      if (pending) pending.remove(); // the upload's progress line: the file is there now
      const el = makeBubble(who, '');
      el.classList.add('cg-msg-att');
      el.dataset.eventId = ev.id;
      el.dataset.status = who === 'customer' ? 'sent' : 'received';
      if (ev.client_id) { el.dataset.clientId = ev.client_id; bubbles.set(ev.client_id, el); }
      if (who === 'agent') el.dataset.name = ev.supervisor ? TEXT.supervisorName(ev.agent_name) : ev.agent_name || 'Agent';
      el.title = formatTime(ev.ts) + (el.dataset.name ? ' · ' + el.dataset.name : '');
      el.appendChild(attachmentContent(ev));
      insertOrdered(el);
      if (who !== 'customer' && !W.isOpen && (live || unseen(ev.id))) {
        W.unread++;
        renderBadge();
        if (live) announceClosed(el.dataset.name || TEXT.newMessage, ev.name);
      }
      break;
    }
    case 'assigned':
      W.conv.id = cid;
      W.conv.state = 'assigned';
      W.conv.agentName = ev.agent_name || W.conv.agentName;
      W.conv.queuePos = null;
      renderSystem(ev, live && callLive(W.call) ? TEXT.assignedCall(ev.agent_name) : TEXT.assignedLine(ev.agent_name));
      break;
    case 'choices':
      renderChoices(ev);
      break;
    case 'call_answered':
      renderSystem(ev, TEXT.callAnswered(ev.agent_name));
      break;
    case 'supervisor_joined':
      renderSystem(ev, TEXT.supervisorJoinedChat(ev.agent_name));
      break;
    case 'supervisor_left':
      renderSystem(ev, TEXT.supervisorLeftChat(ev.agent_name));
      break;
    case 'call_started':
      renderSystem(ev, TEXT.callStarted);
      if (W.invite && cmpId(ev.id, W.invite.eventId) > 0) { W.invite = null; renderCallback(); } // answered (or called anyway)
      break;
    case 'call_ended':
      renderSystem(ev, TEXT.callEnded(Number(ev.duration_ms) || 0));
      // The timeline has it even when a call_status was missed (socket down): our side ends too; the bar's timer
      // says the same duration as this line.
      onCallEndedEvent(ev);
      break;
    case 'callback':
      onCallbackEvent(ev, live);
      break;
    case 'call_invite':
      if (Number(ev.ring_until) > Date.now() && sessionGet(DECLINED_INVITE_KEY) !== ev.id) {
        W.invite = { eventId: ev.id, agentName: ev.agent_name || '', ringUntil: Number(ev.ring_until) };
        if (live) notify(TEXT.invitation(ev.agent_name));
      }
      renderSystem(ev, TEXT.invitation(ev.agent_name));
      renderCallback();
      break;
    case 'call_invite_declined': // declined here or in another tab: no tab rings for it any more
      if (W.invite && W.invite.eventId === ev.invite_id) { W.invite = null; renderCallback(); }
      renderSystem(ev, TEXT.inviteDeclined);
      break;
    case 'closed':
      if (!W.conv.id || W.conv.id === cid) {
        W.conv.state = 'closed';
        W.conv.queuePos = null;
      }
      // who ended it, or that it ended while they were away (end_chat_rules.js); the rating question if served
      offerRating(ev, renderSystem(ev, TEXT[closedLineKey(ev)]));
      hideTyping();
      if (W.invite) { W.invite = null; renderCallback(); }
      break;
    case 'rating':
      renderSystem(ev, TEXT.rated(Number(ev.score) || 0));
      onRated(ev);
      break;
    default:
      return; // not customer-visible; nothing to draw
  }
  if (live) {
    saveSoon();
    renderStatus();
    scrollToBottom(atBottom || (ev.type === 'message' && ev.author === 'customer'));
  }
}
