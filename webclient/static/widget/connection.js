// The customer socket (shared/socket.js) and what its frames mean: welcome, acks, events, queue, errors.

import { applyAppearance } from './appearance.js';
import { MAX_CONTEXT_VALUE_CHARS } from '../shared/protocol.js';
import { SignalingSocket } from '../shared/socket.js';
import { refusedCallIce, setWelcomeIce, takeCallIce } from '../shared/rtc.js';
import { TEXT, TOKEN_KEY, WELCOME_TIMEOUT, WS_URL } from './config.js';
import { W, bubbles, rateLimited, removeFromOutbox, saveNow, saveSoon } from './state.js';
import { clearHistory, handleEvent, markDelivered, markFailed, renderPending } from './timeline.js';
import { clip } from '../shared/text.js';
import { pageContext } from './page_context.js';
import { cmpId } from '../shared/ids.js';
import { hideTyping, onDraftInput, sendFrame, showTyping } from './chat.js';
import { onCallAnswer, onCallError, onCallStatus, onCallSupervisors, onConnectionBack, onWelcomeCalls } from './call.js';
import { onCaption } from './captions.js';
import { renderCallback } from './callback.js';
import { renderStatus, scrollToBottom, setFlash, ui } from './panel.js';
import { store } from './storage.js';
import { onRatingError } from './rating.js';
import { onEndChatError } from './end_chat.js';

// ------------------------------------------------------------ connection

function helloFrame() {
  const context = {
    ...pageContext(), // the site's (data-context, ContactGateway.setContext): never its page or title
    page: clip(location.href, MAX_CONTEXT_VALUE_CHARS),
    title: clip(document.title || '', MAX_CONTEXT_VALUE_CHARS),
  };
  const frame = { type: 'hello', token: W.token || null, context };
  if (W.customerToken) frame.customer_token = W.customerToken;
  W.helloSentLastEventId = false;
  if (W.token && W.lastEventId && !W.forceFullHistory) {
    frame.last_event_id = W.lastEventId;
    W.helloSentLastEventId = true;
  }
  return frame;
}

export const sock = new SignalingSocket({
  url: () => WS_URL,
  hello: helloFrame,
  onFrame,
  onDown: (closed) => {
    W.typingActive = false;
    if (closed) hideTyping();
  },
  onChange: renderStatus,
  welcomeTimeout: WELCOME_TIMEOUT,
});

/** The header says "Offline": the browser says so, or the socket failed or dropped and is not back yet (a first
 * connection still under way is not offline). */
export function connectionLost() {
  if (sock.ready) return false;
  return sock.everFailed || (typeof navigator.onLine === 'boolean' && !navigator.onLine);
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'ack': onAck(f); break;
    case 'event': handleEvent(f.event, true); break;
    case 'typing':
      if (f.active) showTyping(f.name);
      else hideTyping();
      break;
    case 'queue': onQueue(f); break;
    case 'call_ice': takeCallIce(f); break;
    case 'call_answer': onCallAnswer(f); break;
    case 'call_status': onCallStatus(f); break;
    case 'caption': onCaption(f); break;
    case 'call_supervisors': onCallSupervisors(f); break;
    case 'error': onError(f); break;
    default: break;
  }
}

function onWelcome(f) {
  if (W.customerId && f.customer_id && W.customerId !== f.customer_id) {
    // A different identity than the history on screen: start over.
    clearHistory();
    if (W.helloSentLastEventId) {
      W.customerId = f.customer_id;
      if (f.token) { W.token = f.token; store.set(TOKEN_KEY, W.token); }
      W.forceFullHistory = true;
      sock.reconnectNow();
      return;
    }
  }
  sock.welcomed();
  onConnectionBack();   // a call refused as offline: the bar saying so goes
  setWelcomeIce(f.ice_servers); // a TURN server and credentials made for this socket (--turn-urls)
  W.forceFullHistory = false;
  if (typeof f.token === 'string' && f.token) {
    W.token = f.token;
    store.set(TOKEN_KEY, W.token);
  }
  W.customerId = f.customer_id || W.customerId;
  W.hoursOpen = typeof f.hours_open === 'boolean' ? f.hours_open : null;
  applyAppearance(f.widget);   // the admin's title, colours, greeting, launcher text, language
  const events = Array.isArray(f.events) ? f.events.slice() : [];
  events.sort((a, b) => cmpId(a && a.id, b && b.id));
  for (const ev of events) handleEvent(ev, false);
  if (Array.isArray(f.calls)) onWelcomeCalls(f.calls);  // after the events: a call_ended among them said why already
  if ('callback' in f) {   // the gateway's word on the open callback beats what the history suggested
    const cb = f.callback;
    const prev = W.callback && cb && W.callback.id === cb.id ? W.callback : null;
    W.callback = cb && typeof cb === 'object' && cb.id ? {
      id: cb.id, state: cb.state, asap: prev ? prev.asap : !cb.due_ms || cb.due_ms <= Date.now(),
      dueMs: Number(cb.due_ms) || 0,
      ringUntil: Number(cb.ring_until) || 0, agentName: prev ? prev.agentName : '',
    } : null;
    renderCallback();
  }
  const s = f.conversation;
  if (s && typeof s === 'object' && s.id) {
    if (s.id !== W.conv.id) W.conv = { id: s.id, state: null, agentName: null, queuePos: null };
    W.conv.state = s.state || W.conv.state;
    W.conv.agentName = s.agent_name || W.conv.agentName;
  }
  if (typeof f.queue_position === 'number' && f.queue_position > 0 && W.conv.state !== 'assigned' && W.conv.state !== 'closed') {
    W.conv.queuePos = f.queue_position;
    W.conv.state = 'queued';
  } else if (W.conv.state !== 'queued') {
    W.conv.queuePos = null;
  }
  // Everything not yet acknowledged goes (again); the gateway de-duplicates by client_id.
  for (const entry of W.outbox) {
    if (!bubbles.has(entry.client_id)) renderPending(entry);
    sendFrame({ type: 'message', client_id: entry.client_id, text: entry.text });
  }
  if (ui.input.value.trim()) onDraftInput();
  saveNow();
  renderStatus();
  scrollToBottom(true);
}

function onAck(f) {
  if (typeof f.client_id !== 'string') return;
  removeFromOutbox(f.client_id);
  const el = bubbles.get(f.client_id);
  if (el) markDelivered(el, typeof f.event_id === 'string' ? f.event_id : null, Date.now());
  if (f.conversation_id && f.conversation_id !== W.conv.id) {
    // The first message after "closed" opened a new conversation.
    W.conv = { id: f.conversation_id, state: 'open', agentName: null, queuePos: null };
  }
  saveSoon();
  renderStatus();
}

function onQueue(f) {
  const pos = typeof f.position === 'number' && f.position > 0 ? f.position : null;
  if (f.conversation_id && W.conv.id && f.conversation_id !== W.conv.id) {
    W.conv = { id: f.conversation_id, state: null, agentName: null, queuePos: null };
  }
  if (!W.conv.id && f.conversation_id) W.conv.id = f.conversation_id;
  // waiting again after an agent had it (handed to a queue, the agent signed out): nobody is on it now. Any other
  // place while assigned is older than the assignment, and ignored.
  if (f.back === true && pos && W.conv.state === 'assigned') [W.conv.state, W.conv.agentName] = ['queued', null];
  if (W.conv.state === 'assigned' || W.conv.state === 'closed') return;
  W.conv.queuePos = pos;
  W.conv.state = pos ? 'queued' : W.conv.state;
  renderStatus();
}

/** Over the gateway's message limit, or its store down for a moment (store_unavailable): nothing is lost. The
 *  message stays in the outbox (shown as pending), the customer is told, and it goes again by itself after
 *  retry_after. */
function onRateLimited(f) {
  const wait = Math.max(1, Math.ceil(Number(f.retry_after) || 5));
  rateLimited.add(f.client_id);
  setFlash(f.code === 'store_unavailable' ? TEXT.storeUnavailable : TEXT.rateLimited(wait));
  if (W.rateTimer) return;
  W.rateTimer = setTimeout(() => {
    W.rateTimer = null;
    const again = W.outbox.filter((e) => rateLimited.has(e.client_id));
    rateLimited.clear();
    if (!sock.ready) return; // the welcome after a reconnect sends the whole outbox anyway
    for (const entry of again) sendFrame({ type: 'message', client_id: entry.client_id, text: entry.text });
  }, wait * 1000);
}

function onError(f) {
  if (f.code === 'customer_token_invalid') {
    // The site's token was refused: the customer chats on unverified; tell the site's developer, not them.
    console.warn('[contact gateway] ' + (f.message || 'customer token refused'));
    return;
  }
  if (f.code === 'unauthorized') {
    // Forged or expired token: forget it (and the history it owned) and start as a new customer.
    const hadToken = !!W.token;
    W.token = null;
    W.customerId = null;
    store.remove(TOKEN_KEY);
    clearHistory();
    saveNow();
    if (hadToken) { sock.reconnectNow(); return; }
    setFlash(f.message || 'Not authorized');
    return;
  }
  if (!sock.ready && f.field === 'last_event_id') {
    W.forceFullHistory = true;
    sock.reconnectNow();
    return;
  }
  if ((f.code === 'rate_limited' || f.code === 'store_unavailable') && typeof f.client_id === 'string' && f.client_id) {
    onRateLimited(f);
    return;
  }
  if (refusedCallIce(f)) return; // no TURN pair of its own (too many asked): the call uses the welcome's
  if (onCallError(f)) return;
  if (onEndChatError(f)) return;
  if (onRatingError(f)) return;
  if (typeof f.client_id === 'string' && f.client_id) markFailed(f.client_id, f.message);
  setFlash(f.message || 'Something went wrong');
}
