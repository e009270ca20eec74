// The agent socket (shared/socket.js) and what its frames mean: welcome, presence, queue, assignments,
// history, events, typing, acks, errors.

import { AGENT_KEY, CLOSE_SESSION_REVOKED, SIGNED_OUT, TYPING_SHOW, WELCOME_TIMEOUT, signedOutText } from './config.js';
import { S, ensureConv, saveDraftsSoon, saveOutbox, storage, updateSummary } from './state.js';
import { SignalingSocket } from '../shared/socket.js';
import { setWelcomeIce, takeCallIce } from '../shared/rtc.js';
import { customerLabel, toast } from './dom.js';
import { authorName, line, user } from './event_text.js';
import { countsUnread, newsText } from './timeline_news.js';
import { alertAgent } from './notify.js';
import { callbackAfter, renderCallbackPanel, renderComposerState, renderConnection, renderContext, renderConvList, renderDispositions, renderHeader, renderMain, renderPresence, renderQueue, renderTypingPreview } from './conversations.js';
import { cmpId } from '../shared/ids.js';
import { retryDelayMs } from '../shared/retry.js';
import { logout } from './session.js';
import { refreshToken } from './auth.js';
import { onComposerInput, select, stopTyping, typing } from './composer.js';
import { phone } from './main.js';
import { upsertEventEl, upsertPendingEl } from './timeline.js';
import { onTransferError, onTransferred } from './chat_transfer.js';
import { onHelpError, onHelpEvent, onHelpGone } from './help_request.js';
import { takeWelcomeCalls } from './welcome_calls.js';
import { onAwayAgent, onAwayError, takeAwayReasons } from './away_menu.js';
import { readDispositions } from './dispositions.js';

// ------------------------------------------------------------ connection

export const sock = new SignalingSocket({
  url: () => location.origin.replace(/^http/i, 'ws') + '/ws/agent',
  hello: () => ({ type: 'hello', token: S.token }),
  onFrame,
  onClose: (e) => {
    if (e && e.code === CLOSE_SESSION_REVOKED) { // the error frame usually got here first
      logout(SIGNED_OUT.session_revoked);
      return false;
    }
    return true;
  },
  onDown: () => {
    typing.active = false;
    if (phone) phone.onSocketDown();
  },
  onChange: renderConnection,
  enabled: () => S.running,
  welcomeTimeout: WELCOME_TIMEOUT,
});

export function send(obj) {
  return sock.send(obj);
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'agent': onAgent(f); break;
    case 'queue': onQueue(f); break;
    case 'assigned': onAssigned(f); break;
    case 'unassigned': onUnassigned(f); break;
    case 'history': onHistory(f); break;
    case 'event': onEvent(f); break;
    case 'typing': onTyping(f); break;
    case 'call_status': onCallStatus(f); break;
    case 'call_ice': takeCallIce(f); break;
    case 'call_answer': if (phone) phone.onCallAnswer(f); break;
    case 'call_supervisors': if (phone) phone.onCallSupervisors(f); break;
    case 'codes': // an admin saved the away reasons or the dispositions: offer what is on them now
      takeAwayReasons(f.away_reasons);
      ({ codes: S.dispositions, labels: S.dispositionLabels } = readDispositions(f.dispositions));
      renderDispositions();
      renderPresence(); // "Away: ..." in the label saved now
      if (phone) phone.redraw(); // the after-call bar's dispositions too
      break;
    case 'agent_names': // a colleague was added, renamed or removed: transfers offer who is there now
      if (f.agent_names && typeof f.agent_names === 'object') S.agentNames = f.agent_names;
      S.takesContacts = stringList(f.takes_contacts);
      if (phone) phone.onAgentNames();
      break;
    case 'ack': onAck(f); break;
    case 'error': onError(f); break;
    default: break;
  }
}

// ------------------------------------------------------------ frames

export function requestHistory(conv) {
  const frame = { type: 'open', conversation_id: conv.id };
  if (conv.lastEventId) frame.last_event_id = conv.lastEventId;
  send(frame);
}

function resendPending(conv) {
  for (const p of conv.pending.values()) {
    if (p.status !== 'sending') continue;
    send({ type: p.kind, conversation_id: conv.id, client_id: p.client_id, text: p.text });
  }
}

function onWelcome(f) {
  sock.welcomed();
  setWelcomeIce(f.ice_servers); // a TURN server and credentials made for this socket (--turn-urls)
  if (f.agent) {
    S.agent = f.agent;
    storage.set(AGENT_KEY, JSON.stringify(S.agent));
  }
  ({ codes: S.dispositions, labels: S.dispositionLabels } = readDispositions(f.dispositions)); // the center's, now
  if (Array.isArray(f.roles)) S.roles = f.roles.filter((r) => typeof r === 'string');
  S.agentNames = f.agent_names && typeof f.agent_names === 'object' ? f.agent_names : {};
  S.queueNames = Array.isArray(f.queue_names) ? f.queue_names.filter((q) => typeof q === 'string') : [];
  S.takesContacts = stringList(f.takes_contacts);
  takeAwayReasons(f.away_reasons); // the Away menu offers the center's reasons as they are now
  S.queue = Array.isArray(f.queue) ? f.queue : [];
  const live = new Set();
  for (const s of Array.isArray(f.conversations) ? f.conversations : []) {
    if (!s || !s.id) continue;
    const conv = ensureConv(s.id);
    updateSummary(conv, s);
    conv.closed = s.state === 'closed';
    if (!conv.closed) live.add(s.id);
  }
  // Whatever we showed that is no longer ours was closed or reassigned while we were away.
  for (const conv of Array.from(S.convs.values())) {
    if (live.has(conv.id)) continue;
    failPending(conv, 'conversation is no longer assigned to you');
    if (!conv.closed) conv.closed = true;
    if (conv.id !== S.selected) removeConv(conv.id);
  }
  for (const id of live) {
    const conv = S.convs.get(id);
    requestHistory(conv);
    resendPending(conv);
  }
  takeWelcomeCalls(S.convs.values(), Array.isArray(f.calls) ? f.calls : []);
  saveOutbox();
  renderDispositions();
  renderPresence();
  renderQueue();
  renderConnection();
  if (!S.selected || !S.convs.has(S.selected)) {
    const first = live.values().next();
    if (!first.done) select(first.value);
    else { S.selected = null; renderMain(); }
  } else {
    renderMain();
  }
  renderConvList();
  if (typing.wanted()) onComposerInput();
  if (phone) phone.onWelcome(Array.isArray(f.calls) ? f.calls : null);
  if (phone && f.agent) phone.onAgent(S.agent, { welcome: true });
}

function onAgent(f) {
  if (!f.agent) return;
  S.agent = Object.assign({}, S.agent, f.agent);
  storage.set(AGENT_KEY, JSON.stringify(S.agent));
  onAwayAgent(S.agent);
  renderPresence();
  if (phone) phone.onAgent(S.agent);
}

function onQueue(f) {
  S.queue = Array.isArray(f.waiting) ? f.waiting : [];
  renderQueue();
}

function onAssigned(f) {
  const s = f.conversation;
  if (!s || !s.id) return;
  const conv = ensureConv(s.id);
  conv.closed = false;
  conv.returned = '';
  updateSummary(conv, s);
  conv.closed = s.state === 'closed';
  S.queue = S.queue.filter((q) => q && q.id !== s.id);
  alertAgent('assigned', conv, conv.summary.last_text);
  conv.freshAssign = true; // its backlog counts as unread until the agent looks at it
  requestHistory(conv);
  renderQueue();
  if (!S.selected) select(conv.id);
  else if (S.selected === conv.id) renderMain();
  renderConvList();
  if (S.selected !== conv.id) toast(line`New conversation: ${user(customerLabel(conv))}`);
  if (phone) phone.onAssigned(conv.id); // a consultation handed over to us: the call is ours now
}

function onUnassigned(f) {
  onTransferred(f.conversation_id);   // the transfer dialog over it closes, whatever took it (closed, handed on, left)
  onHelpGone(f.conversation_id);      // and the help dialog
  if (phone) phone.onUnassigned(f.conversation_id, f.reason || '');
  const conv = S.convs.get(f.conversation_id);
  if (!conv) return;
  conv.closed = true;
  // Not closed, only no longer ours: a missed call took it back to the queue (call_no_answer, call_declined,
  // call_agent_lost), or it was handed to someone else (transferred). Read-only here either way.
  const reason = f.reason || '';
  const transferred = reason === 'transferred' || reason === 'call_transferred'; // to an agent / to a queue
  // A callback attempt that ended without the customer: callback_no_answer (its next attempt routes it again),
  // callback_declined / callback_cancelled / ... (the callback is over).
  // The agent left (agent_absent: no desk of theirs open for minutes; agent_logged_out / _disabled / _removed):
  // back to the queue too.
  conv.returned = transferred ? 'transferred' : /^(call|agent)_/.test(reason) ? 'queue'
    : reason === 'callback_no_answer' ? 'callback' : /^callback_/.test(reason) ? 'released' : '';
  conv.returnedReason = reason;
  conv.summary.state = conv.returned === 'queue' || reason === 'call_transferred' ? 'queued'
    : conv.returned ? conv.summary.state : 'closed';
  if (S.closing === conv.id) S.closing = null;
  clearTyping(conv);
  // the customer pressed End chat: said, whichever conversation is on screen (it leaves the list if not this one)
  if (reason === 'customer_ended') toast(line`${user(customerLabel(conv))} ended the chat`);
  if (S.selected === conv.id) {
    stopTyping();
    renderMain();
  } else {
    removeConv(conv.id);
  }
  renderConvList();
}

function onHistory(f) {
  const s = f.conversation;
  const id = (s && s.id) || f.conversation_id;
  if (!id) return;
  const conv = S.convs.get(id);
  if (!conv) return; // not (or no longer) ours
  updateSummary(conv, s);
  const events = Array.isArray(f.events) ? f.events.slice() : [];
  events.sort((a, b) => cmpId(a && a.id, b && b.id));
  const countUnread = conv.freshAssign && (S.selected !== id || document.hidden);
  conv.freshAssign = false;
  const me = S.agent && S.agent.id;
  for (const ev of events) {
    if (!applyEvent(conv, ev, false) || !countUnread || (ev.type !== 'message' && ev.type !== 'note')) continue;
    // the customer's messages and a supervisor's coaching since the last answer (a supervisor's message is none)
    if (countsUnread(ev, me)) conv.unread++;
    else if (ev.type === 'message' && ev.author === 'agent') conv.unread = 0;
  }
  if (s && 'callback' in s) conv.summary.callback = s.callback; // the gateway's word beats the replayed events
  conv.historyLoaded = true;
  if (S.selected === id) renderMain();
  renderConvList();
  if (phone) phone.onConversation(id);
}

function onEvent(f) {
  const ev = f.event;
  const id = f.conversation_id || (ev && ev.conversation_id);
  if (!id || !ev) return;
  let conv = S.convs.get(id);
  if (!conv && ev.type === 'rating') { // a conversation closed earlier and no longer shown: say so, track nothing
    toast(line`A customer rated a conversation you closed ${Number(ev.score) || '?'}/5${ev.comment ? line`: “${user(ev.comment)}”` : ''}`);
    return;
  }
  if (!conv) {
    // An event before its "assigned" frame: track it and fetch the rest.
    conv = ensureConv(id);
    requestHistory(conv);
  }
  const isNew = applyEvent(conv, ev, true);
  if (!isNew) return;
  onHelpEvent(conv, ev); // the agent's own help request: opened, cancelled, or a supervisor is on it
  if (S.selected === id && ev.type === 'call_invite_declined') {
    toast('The customer declined the call'); // in place of "The customer's browser is ringing"
  }
  if (S.selected === id) {
    renderHeader();
    renderContext();
    renderComposerState();
    announce(newsText(ev, S.agent && S.agent.id, authorName));
  }
  renderConvList();
  if (phone) phone.onConversation(id);
}

/** Said once by the polite status region under the timeline (the timeline itself is not live). */
function announce(text) {
  const el = document.getElementById('timeline-news');
  if (!text || !el) return;
  el.textContent = el.textContent === text ? `${text}\u00a0` : text; // the same words again are still news
}

function onTyping(f) {
  const conv = S.convs.get(f.conversation_id);
  if (!conv) return;
  clearTimeout(conv.typingTimer);
  if (f.active) {
    conv.typingDraft = typeof f.draft === 'string' ? f.draft : '';
    conv.typingTimer = setTimeout(() => clearTyping(conv), TYPING_SHOW);
  } else {
    conv.typingDraft = null;
  }
  if (S.selected === conv.id) renderTypingPreview();
}

/** A call changed status (connecting, ivr, waiting, ringing, connected, ended); the softphone acts on it. */
function onCallStatus(f) {
  if (typeof f.status !== 'string') return;
  const conv = S.convs.get(f.conversation_id);
  // a supervisor's listening leg ends on its own: the call itself goes on (leaving a call one listened to marked
  // one's own call in the same conversation "Call ended": an exploratory test)
  if (conv && !f.monitor) {
    conv.call = { id: f.call_id, status: f.status, reason: f.reason || '' };
    if (S.selected === conv.id) renderHeader();
  }
  if (phone) phone.onCallStatus(f);
}

function clearTyping(conv) {
  clearTimeout(conv.typingTimer);
  conv.typingTimer = null;
  conv.typingDraft = null;
  if (S.selected === conv.id) renderTypingPreview();
}

function findPending(clientId, convId) {
  const conv = convId ? S.convs.get(convId) : null;
  if (conv && conv.pending.has(clientId)) return [conv, conv.pending.get(clientId)];
  for (const c of S.convs.values()) if (c.pending.has(clientId)) return [c, c.pending.get(clientId)];
  return [null, null];
}

function onAck(f) {
  if (typeof f.client_id !== 'string') return;
  const [conv, p] = findPending(f.client_id, f.conversation_id);
  if (!conv) return;
  if (typeof f.event_id === 'string' && conv.events.has(f.event_id)) {
    conv.pending.delete(f.client_id); // the event already arrived
  } else {
    p.status = 'sent';
    if (typeof f.event_id === 'string') p.event_id = f.event_id;
  }
  saveOutbox();
  if (S.selected === conv.id) upsertPendingEl(conv, p);
}

function onError(f) {
  if (f.code === 'token_expired') { // the refresh came too late (a laptop that slept): refresh, then say hello again
    refreshToken().then((ok) => { if (ok && S.running) sock.reconnectNow(); });
    return;
  }
  if (f.code === 'unauthorized' || f.code === 'session_revoked') {
    logout(signedOutText(f.code, f.message)); // why, when the gateway says (a supervisor signed them out)
    return;
  }
  if (onAwayError(f)) return; // an away reason an admin took off the list meanwhile: the menu shows the new list
  if (onTransferError(f)) return; // a chat's transfer, refused: said in its dialog
  if (onHelpError(f)) return; // a help request, refused: said in its dialog or a toast
  if (phone && phone.onError(f)) return; // about a call (call_id, sdp, hold)
  const wait = retryDelayMs(f);
  if (wait !== null) {
    const [conv, p] = findPending(f.client_id, f.conversation_id);
    if (conv && p) { // the store was down for a moment, or the socket sent too fast: still sending, again later
      setTimeout(() => { if (p.status === 'sending' && sock.ready) resendPending(conv); }, wait);
      return;
    }
  }
  if (typeof f.client_id === 'string' && f.client_id) {
    const [conv, p] = findPending(f.client_id, f.conversation_id);
    if (conv && p) {
      p.status = 'failed';
      p.error = f.message || f.code;
      saveOutbox();
      if (S.selected === conv.id) upsertPendingEl(conv, p);
    }
  }
  if (S.closing) {
    const conv = S.convs.get(S.closing);
    S.closing = null;
    if (f.code === 'conflict' && conv) {
      conv.closed = true;
      conv.summary.state = 'closed';
    }
    if (conv && S.selected === conv.id) renderMain();
    if (phone) phone.redraw(); // the after-call bar's Close was pending too
  }
  toast(f.message || `Error: ${f.code || 'unknown'}`);
}

function failPending(conv, reason) {
  for (const p of conv.pending.values()) {
    if (p.status === 'sending') {
      p.status = 'failed';
      p.error = reason;
    }
  }
}

export function removeConv(id) {
  const conv = S.convs.get(id);
  if (!conv) return;
  clearTimeout(conv.typingTimer);
  S.convs.delete(id);
  saveOutbox();
  saveDraftsSoon();
}

/** Fold one event into a conversation. Returns false for a duplicate. */
function applyEvent(conv, ev, live) {
  if (!ev || typeof ev !== 'object' || typeof ev.id !== 'string') return false;
  if (conv.events.has(ev.id)) return false;
  conv.events.set(ev.id, ev);
  if (!conv.lastEventId || cmpId(ev.id, conv.lastEventId) > 0) conv.lastEventId = ev.id;
  // "Updated" in the context panel: the latest event's time (a call, a close), not the summary's at assignment
  const ts = Number(ev.ts);
  if (ts > (Number(conv.summary.updated_at) || 0)) conv.summary.updated_at = ts;
  if (ev.client_id && conv.pending.has(ev.client_id)) {
    conv.pending.delete(ev.client_id);
    saveOutbox();
  }
  switch (ev.type) {
    case 'opened':
      if (ev.customer_id && !conv.summary.customer_id) conv.summary.customer_id = ev.customer_id;
      if (ev.context && typeof ev.context === 'object') conv.context = Object.assign({}, ev.context, conv.context);
      break;
    case 'message':
      if (typeof ev.text === 'string') conv.summary.last_text = ev.text;
      if (ev.author === 'customer') {
        if (live) clearTyping(conv);
        if (live && (S.selected !== conv.id || document.hidden)) conv.unread++;
        if (live) alertAgent('message', conv, ev.text);
      } else if (live && unseen(conv) && countsUnread(ev, S.agent && S.agent.id)) conv.unread++; // a supervisor's
      break;
    case 'note': // a supervisor's coaching in a conversation the agent is not looking at counts as unread
      if (live && unseen(conv) && countsUnread(ev, S.agent && S.agent.id)) conv.unread++;
      break;
    case 'attachment': {
      // a file counts as a message: the list's preview, unread, and the background notification
      const what = `${String(ev.media_type).startsWith('image/') ? 'Image' : 'File'}: ${typeof ev.name === 'string' ? ev.name : 'file'}`;
      conv.summary.last_text = what;
      if (ev.author === 'customer') {
        if (live && (S.selected !== conv.id || document.hidden)) conv.unread++;
        if (live) alertAgent('message', conv, what);
      }
      break;
    }
    case 'state':
      if (ev.state) conv.summary.state = ev.state;
      if (ev.state === 'closed') conv.closed = true;
      break;
    case 'assigned':
      conv.summary.agent_id = ev.agent_id;
      conv.summary.agent_name = ev.agent_name;
      if (!conv.closed) conv.summary.state = 'assigned';
      break;
    case 'closed':
      conv.summary.state = 'closed';
      conv.closed = true;
      break;
    case 'context':
      if (ev.values && typeof ev.values === 'object') conv.context = Object.assign({}, conv.context, ev.values);
      break;
    case 'rating':
      conv.summary.rating = { score: Number(ev.score) || 0, comment: ev.comment || '', rated_at: ev.ts };
      break;
    case 'callback':
      conv.summary.callback = callbackAfter(conv.summary.callback, ev);
      if (S.selected === conv.id) renderCallbackPanel();
      break;
    case 'call_started': {
      // The customer answered the ringing callback: their call is on its way here (the gateway's 'connecting').
      const cb = conv.summary.callback;
      if (cb && cb.state === 'ringing') conv.summary.callback = Object.assign({}, cb, { state: 'connecting', ring_until: 0 });
      if (S.selected === conv.id) renderCallbackPanel();
      break;
    }
    default:
      break;
  }
  if (live && S.selected === conv.id) upsertEventEl(conv, ev);
  return true;
}

/** The agent is not looking at this conversation: another one is open, or the desk is in the background. */
function unseen(conv) {
  return S.selected !== conv.id || document.hidden;
}

/** A frame's list of strings (null when it has none: an older gateway). */
function stringList(value) {
  return Array.isArray(value) ? value.filter((v) => typeof v === 'string') : null;
}
