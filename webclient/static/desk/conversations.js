// Rendering: the top bar, the queue and conversations list (names and previews each in their own <bdi>), the conversation's header, callback panel,
// composer state and context.

import { S, ui } from './state.js';
import { cmpId } from '../shared/ids.js';
import { colorFor, customerLabel, fmtClock, fmtFull, fmtWaited, h, initials, partNodes, shortId, toDate, verifiedName } from './dom.js';
import { line, supervisorMove, systemText, user } from './event_text.js';
import { isolate } from '../shared/text.js';
import { renderTimeline } from './timeline.js';
import { previousSection } from './history.js';
import { select } from './composer.js';
import { send, sock } from './connection.js';
import { presenceNote } from './presence_note.js';
import { renderAwayMenu } from './away_menu.js';
import { ownReasonText } from './away_reasons.js';
import { renderHelp } from './help_request.js';
import { focusFirst, focusLost, setDisabled, setPending } from '../shared/focus.js';
import { dispositionLabel } from './dispositions.js';

// ------------------------------------------------------------ rendering: top bar

export function renderConnection() {
  let text;
  let state;
  if (sock.ready) { text = 'Connected'; state = 'online'; }
  else if (sock.everFailed) { text = 'Offline — reconnecting…'; state = 'offline'; }
  else { text = 'Connecting…'; state = 'connecting'; }
  ui.connection.textContent = text;
  ui.connection.dataset.state = state;
  renderPresence(); // the status pill is only as true as the connection
}

const ACTIVITY_LABEL = { ringing: 'Ringing', on_call: 'On a call', wrap_up: 'After-call work' };

/** How a conversation that is no longer this agent's left: closed, or handed on (it lives on elsewhere). */
function leftAs(conv) {
  return conv.returned === 'transferred' ? 'transferred' : conv.returned === 'queue' ? 'back in queue'
    : conv.returned === 'callback' ? 'callback later' : 'closed';
}

/** Someone whose roles do not include agent (a supervisor only) watches and listens in: nothing is routed to
 * them, so the desk offers no Available / Away (a supervisor-only account was given chats: a user test). */
function takesWork() {
  return !Array.isArray(S.roles) || S.roles.includes('agent');
}

export function renderPresence() {
  const a = S.agent || {};
  const working = takesWork();
  ui.statusChoice.hidden = !working;
  ui.load.hidden = !working;
  if (!working) {
    ui.agentStatus.textContent = 'not taking contacts';
    ui.statusPill.dataset.status = 'offline';
    ui.statusPill.title = 'Your roles do not include agent: no chats or calls come to you. You may watch the queue '
      + 'and listen in on calls.';
    ui.presenceNote.hidden = true;
    ui.awayWhy.hidden = true;
    ui.agentName.textContent = a.name || a.id || '';
    return;
  }
  const chosen = a.status || 'offline';
  // Disconnected, no chat reaches this desk whatever was chosen: the pill says offline until the gateway is back.
  const status = sock.ready ? chosen : 'offline';
  // on a call (or ringing, or in after-call work) routing gives no new work: say so, not a green "Available"
  const busy = sock.ready && status !== 'offline' ? ACTIVITY_LABEL[a.activity] : '';
  ui.agentStatus.textContent = busy || status;
  ui.statusPill.dataset.status = busy ? 'busy' : status;
  ui.statusPill.title = sock.ready ? '' : `Not connected: no chats reach you. Back to ${chosen} when the connection is.`;
  ui.btnAvailable.setAttribute('aria-pressed', String(status === 'available'));
  ui.btnAway.setAttribute('aria-pressed', String(status === 'away'));
  // "Away: Lunch": the reason the agent chose, in the center's words (the gateway's own: the note below explains)
  const why = status === 'away' && !busy ? ownReasonText(a, S.awayLabels) : '';
  if (ui.awayWhy.dataset.said !== why) {
    ui.awayWhy.dataset.said = why;
    ui.awayWhy.hidden = !why;
    ui.awayWhy.replaceChildren(...(why ? [': ', h('bdi', { text: why })] : []));
    ui.awayWhy.title = why; // all of a long label the pill cuts short
  }
  renderAwayMenu();
  const active = typeof a.active === 'number' ? a.active
    : Array.from(S.convs.values()).filter((c) => !c.closed).length;
  const cap = typeof a.capacity === 'number' ? a.capacity : '?';
  ui.load.textContent = `${active} / ${cap} chats`;
  const note = presenceNote(a, { connected: sock.ready, busy: !!busy });
  const said = note ? `${note.kind}|${note.text}|${note.title}` : '';
  if (ui.presenceNote.dataset.said !== said) { // a live region: written only when it changes, or it is read again
    ui.presenceNote.dataset.said = said;
    ui.presenceNote.hidden = !note;
    ui.presenceNote.replaceChildren(...(note ? [h('span', { class: 'long', text: note.text }),
      h('span', { class: 'short', 'aria-hidden': 'true', text: note.short })] : []));
    ui.presenceNote.title = note ? note.title : '';
    ui.presenceNote.dataset.kind = note ? note.kind : '';
  }
  ui.agentName.textContent = a.name || a.id || '';
  ui.agentName.title = a.id ? `Signed in as ${a.id}` : '';
}

export function renderDispositions() {
  const current = ui.disposition.value;
  ui.disposition.replaceChildren(
    ...S.dispositions.map((d) => h('option', { value: d, text: dispositionLabel(S.dispositionLabels, d) })));
  if (S.dispositions.includes(current)) ui.disposition.value = current;
}

// ------------------------------------------------------------ rendering: sidebar

export function renderQueue() {
  const items = S.queue.filter((q) => q && q.id);
  ui.queueCount.textContent = String(items.length);
  ui.queueEmpty.hidden = items.length > 0;
  ui.queue.replaceChildren(...items.map((q) => {
    const since = toDate(q.queued_at || q.created_at);
    const li = h('li', {
      class: 'queue-item',
      'data-conversation-id': q.id,
      title: 'Waiting customers are routed automatically to available agents',
    },
    h('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(q.customer_id || q.id) }),
    h('span', { class: 'item-title' }, h('bdi', { text: verifiedName(q.context) || 'Customer ' + shortId(q.customer_id || q.id) })),
    h('span', { class: 'item-meta waited', 'data-since': since ? String(since.getTime()) : '', text: since ? fmtWaited(Date.now() - since.getTime()) : '' }),
    h('span', { class: 'item-text' }, ...partNodes(q.callback
      ? line`Callback${q.callback.phone ? line` · ${user(q.callback.phone)}` : ''}${q.last_text ? line` · ${user(q.last_text)}` : ''}`
      : q.last_text ? [user(q.last_text)] : [q.calls > 0 ? 'Voice call' : 'No message yet'])));
    if (q.callback) li.dataset.callback = q.callback.state || 'queued';
    li.querySelector('.avatar').style.background = colorFor(q.customer_id || q.id);
    return li;
  }));
}

export function renderConvList() {
  const convs = Array.from(S.convs.values()).filter((c) => c.summary.customer_id || c.historyLoaded || c.summary.state);
  ui.convCount.textContent = String(convs.filter((c) => !c.closed).length);
  ui.convEmpty.hidden = convs.length > 0;
  if (!takesWork()) { // (no Available to press: said so, not "Set yourself Available", a verifying user test)
    ui.convEmpty.textContent = 'No conversations: you take no contacts (no agent role). You may watch the queue and '
      + 'listen in on calls.';
  }
  const existing = new Map(Array.from(ui.convs.children).map((el) => [el.dataset.conversationId, el]));
  const wanted = [];
  for (const conv of convs) {
    let li = existing.get(conv.id);
    if (!li) {
      li = h('li', { class: 'conv-item', 'data-conversation-id': conv.id, role: 'option', tabindex: '-1' });
      li.addEventListener('click', () => select(conv.id));
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(conv.id); return; }
        const to = listKeyTarget(li, e.key);
        if (to) { e.preventDefault(); rove(to); }
      });
    }
    const lastEv = conv.lastEventId ? conv.events.get(conv.lastEventId) : null;
    const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(conv.summary.customer_id || conv.id) });
    avatar.style.background = colorFor(conv.summary.customer_id || conv.id);
    const meta = conv.unread > 0
      ? h('span', { class: 'unread', 'data-testid': 'unread', 'aria-label': `${conv.unread} unread`, text: String(conv.unread) })
      : h('span', { class: 'item-meta', text: conv.closed ? leftAs(conv) : fmtClock(lastEv ? lastEv.ts : conv.summary.updated_at) });
    li.replaceChildren(
      avatar,
      h('span', { class: 'item-title', title: customerLabel(conv) },
        h('bdi', { text: verifiedName(conv.context) || shortId(conv.summary.customer_id || conv.id) })),
      meta,
      h('span', { class: 'item-text' }, ...partNodes(conv.summary.last_text ? [user(conv.summary.last_text)]
        : [conv.closed ? leftAs(conv) : conv.summary.calls > 0 ? 'Voice call' : 'New conversation'])),
    );
    li.classList.toggle('closed', conv.closed);
    li.setAttribute('aria-selected', String(conv.id === S.selected));
    li.dataset.unread = String(conv.unread);
    wanted.push(li);
  }
  // Keep DOM nodes (and focus) stable; only fix order and membership.
  for (const el of Array.from(ui.convs.children)) if (!wanted.includes(el)) el.remove();
  wanted.forEach((li, i) => { if (ui.convs.children[i] !== li) ui.convs.insertBefore(li, ui.convs.children[i] || null); });
  // one tab stop in the list (the item with the focus, else the open conversation, else the first); the arrow keys,
  // Home and End move between items, Enter or Space opens one (an accessibility tester's finding: every item was a
  // tab stop, 20 Tabs to get past the list)
  const focused = wanted.find((li) => li === document.activeElement);
  const stop = focused || wanted.find((li) => li.getAttribute('aria-selected') === 'true') || wanted[0];
  for (const li of wanted) li.tabIndex = li === stop ? 0 : -1;
  const totalUnread = convs.reduce((n, c) => n + c.unread, 0);
  document.title = (totalUnread ? `(${totalUnread}) ` : '') + 'Agent desk — Contact Gateway';
  renderPresence();
}

/** Where a key moves the focus from `li` in the conversation list (null: the key is not for moving). */
function listKeyTarget(li, key) {
  const items = Array.from(li.parentElement ? li.parentElement.children : []);
  const at = items.indexOf(li);
  if (key === 'ArrowDown') return items[Math.min(items.length - 1, at + 1)] || null;
  if (key === 'ArrowUp') return items[Math.max(0, at - 1)] || null;
  if (key === 'Home') return items[0] || null;
  if (key === 'End') return items[items.length - 1] || null;
  return null;
}

/** The focus to `to`, which becomes the list's one tab stop. */
function rove(to) {
  for (const li of to.parentElement.children) li.tabIndex = li === to ? 0 : -1;
  to.focus();
}

export function tickWaited() {
  const now = Date.now();
  for (const el of ui.queue.querySelectorAll('.waited[data-since]')) {
    const since = Number(el.dataset.since);
    if (since) el.textContent = fmtWaited(now - since);
  }
}

// ------------------------------------------------------------ rendering: main panel

export function renderMain() {
  const conv = S.convs.get(S.selected);
  if (!conv) {
    ui.main.removeAttribute('data-conversation-id');
    ui.placeholder.hidden = false;
    ui.convHead.hidden = true;
    ui.callbackPanel.hidden = true;
    ui.timeline.replaceChildren();
    ui.typingPreview.hidden = true;
    ui.readonly.hidden = true;
    renderContext();
    renderComposerState();
    return;
  }
  ui.main.setAttribute('data-conversation-id', conv.id);
  ui.placeholder.hidden = true;
  ui.convHead.hidden = false;
  renderHeader();
  renderTimeline(conv);
  renderTypingPreview();
  renderContext();
  renderComposerState();
}

/** The conversation's callback after one of its timeline events (the summary's dict, or null once closed). */
export function callbackAfter(cb, ev) {
  const id = ev.callback_id;
  const base = cb && cb.id === id ? Object.assign({}, cb, { sending: false }) : { id, attempt: 0, max_attempts: ev.max_attempts || 1 };
  switch (ev.action) {
    case 'requested': return Object.assign(base, { state: 'scheduled', due_ms: ev.due_ms, label: ev.label, phone: ev.phone || '' });
    case 'queued': return Object.assign(base, { state: 'queued' });
    case 'attempt': return Object.assign(base, { state: 'ringing', attempt: ev.attempt, max_attempts: ev.max_attempts,
      phone: ev.phone || base.phone || '', ring_until: ev.ring_until, label: ev.label || base.label });
    case 'outcome': return Object.assign(base, { state: 'scheduled', due_ms: ev.next_attempt_ms });
    case 'closed': return null;
    default: return cb;
  }
}

const CALLBACK_STATE = { scheduled: 'scheduled', queued: 'waiting in the queue', ringing: 'ringing the customer\'s browser',
  connecting: 'the customer is calling in' };

export function renderCallbackPanel() {
  const conv = S.convs.get(S.selected);
  const cb = conv && !conv.closed ? conv.summary.callback : null;
  const hadFocus = ui.callbackPanel.contains(document.activeElement);
  ui.callbackPanel.hidden = !cb;
  if (cb) fillCallbackPanel(cb);
  // its buttons went (the attempt told, the callback cancelled): the focus goes on to the reply, not to <body>
  if (hadFocus && focusLost(document.activeElement)) focusFirst([ui.composer, ui.timelineWrap]);
}

function fillCallbackPanel(cb) {
  ui.callbackPanel.dataset.state = cb.state || '';
  ui.callbackPanel.dataset.callbackId = cb.id;
  const when = cb.state === 'scheduled' && cb.due_ms ? ` for ${fmtClock(cb.due_ms)}` : '';
  const phone = cb.phone ? ` · phone ${cb.phone}` : '';
  const attempts = cb.attempt ? `attempt ${cb.attempt} of ${cb.max_attempts || 1}` : `up to ${cb.max_attempts || 1} attempts`;
  ui.callbackText.textContent = `Callback${cb.label ? ` “${cb.label}”` : ''}: ${CALLBACK_STATE[cb.state] || cb.state}${when}` +
    ` · ${attempts}${phone}`;
  ui.callbackActions.hidden = !(cb.state === 'ringing' || cb.state === 'connecting');
  // no number to dial: the browser call is "reached" when the customer answers (the gateway says so); the agent
  // may only give the attempt up
  for (const b of ui.callbackActions.querySelectorAll('[data-outcome]')) {
    b.hidden = !cb.phone && b.dataset.outcome !== 'no_answer';
  }
  // booked for later (the customer wrote meanwhile): the agent keeps it (it rings for them when due) or cancels it
  ui.callbackPendingActions.hidden = !(cb.state === 'scheduled' || cb.state === 'queued');
  // waiting for the gateway's word: aria-disabled, the focus stays on the button pressed (sendCallbackOutcome
  // ignores them meanwhile)
  for (const b of ui.callbackPanel.querySelectorAll('button')) setPending(b, cb.sending === true);
}

/** The agent's word on the attempt, or `cancel` for a booked one; the buttons wait for the gateway's callback
 * event (or an error). */
export function sendCallbackOutcome(outcome) {
  const conv = S.convs.get(S.selected);
  const cb = conv && conv.summary.callback;
  if (!cb || !cb.id || cb.sending) return;
  const frame = outcome === 'cancel' ? { type: 'callback_cancel', callback_id: cb.id }
    : { type: 'callback_outcome', callback_id: cb.id, outcome };
  if (!send(frame)) return;
  cb.sending = true;
  renderCallbackPanel();
  setTimeout(() => {   // no event came (an error frame was toasted): let the agent try again
    if (conv.summary.callback === cb && cb.sending) {
      cb.sending = false;
      if (S.selected === conv.id) renderCallbackPanel();
    }
  }, 5000);
}

export function renderHeader() {
  const conv = S.convs.get(S.selected);
  if (!conv) return;
  renderCallbackPanel();
  ui.convCustomer.textContent = customerLabel(conv);
  ui.convCustomer.title = conv.summary.customer_id || '';
  ui.convAvatar.textContent = initials(conv.summary.customer_id || conv.id);
  ui.convAvatar.style.background = colorFor(conv.summary.customer_id || conv.id);
  const state = conv.returned ? 'returned' : conv.closed ? 'closed' : (conv.summary.state || 'assigned');
  ui.convState.textContent = conv.returned === 'queue' ? 'back in queue'
    : conv.returned === 'callback' ? 'callback later' : conv.returned || state;
  ui.convState.dataset.state = state;
  renderCallBadge(conv);
  // Invite to call: only in an open conversation of ours without a call going on.
  const onCall = !ui.callBadge.hidden && ui.callBadge.dataset.status !== 'ended';
  // (turned off with the focus on it, as the invited call starts: on to the conversation, not to <body>; not to the
  // composer, a text field: the call's ringing banner that follows still takes the focus on Accept)
  const next = [ui.timelineWrap];
  setDisabled(ui.inviteCall, conv.closed || !!conv.returned || onCall, next);
  // Transfer a chat: the same; with a call going on, the softphone's transfer moves the call and the chat together
  setDisabled(ui.transferChat, conv.closed || !!conv.returned || onCall, next);
  renderHelp(conv); // Ask for help, or the open request's Cancel: not in a closed or read-only conversation
  renderComposerState(); // Close waits for the call's end
}

/** A call of this conversation rings for the agent or is connected to them: closing the conversation waits for its
 * end (the gateway refuses it: call_in_progress; a customer still talking saw "This conversation was closed"). */
function callInProgress(conv) {
  return !!conv && !conv.returned && !!conv.call && (conv.call.status === 'ringing' || conv.call.status === 'connected');
}

const CALL_BADGE = { connecting: 'On a call: connecting', ringing: 'On a call: ringing', ivr: 'On a call: in IVR',
  waiting: 'On a call: waiting', connected: 'On a call', held: 'On a call: on hold', ended: 'Call ended' };

/** The live call status if one came in, else what the timeline says (a call started and not ended). */
function renderCallBadge(conv) {
  if (conv.returned) { // transferred or back in the queue: whatever the call does now is not ours
    ui.callBadge.hidden = true;
    return;
  }
  let status = conv.call ? conv.call.status : null;
  if (status === 'connected' && conv.call.reason === 'held') status = 'held';
  // closed while its call rang (the caller hung up): no call goes on in it ("On a call: ringing" stayed)
  if (conv.closed && status && status !== 'ended') status = 'ended';
  if (!status) {
    // No live status yet (e.g. the call was routed to us mid-call): read it off the timeline.
    for (const ev of Array.from(conv.events.values()).sort((a, b) => cmpId(a.id, b.id))) {
      if (ev.type === 'call_started') status = 'ivr';
      else if (ev.type === 'call_ended') status = null;
      else if (status && ev.type === 'ivr' && ev.kind === 'queue') status = 'waiting';
      else if (status && (ev.type === 'call_answered' || ev.type === 'call_resumed')) status = 'connected';
      else if (status && ev.type === 'call_held') status = 'held';
      else if (status && (ev.type === 'call_missed' || ev.type === 'call_agent_lost')) status = 'waiting';
    }
  }
  ui.callBadge.hidden = !status;
  ui.callBadge.dataset.status = status || '';
  ui.callBadge.textContent = status ? (CALL_BADGE[status] || `On a call: ${status}`) : '';
  ui.callBadge.title = conv.call && conv.call.reason ? `${conv.call.status}: ${conv.call.reason.replace(/_/g, ' ')}` : '';
}

/** A closed conversation's header shows the disposition it was closed with (it showed the list's first,
 * "resolved", for one closed "no-response": an exploratory test); an open one the list as it is. */
function showDisposition(conv, writable) {
  const shown = ui.disposition.querySelector('option[data-closed]');
  if (writable || !conv) {
    if (shown) {
      const selected = shown.selected;
      shown.remove();
      if (selected) {
        ui.disposition.value = conv && S.dispositions.includes(conv.disposition) ? conv.disposition
          : (S.dispositions[0] || '');
      }
    }
    return;
  }
  let last = null; // the last close (a conversation reopened and closed again has several)
  for (const ev of conv.events.values()) {
    if (ev.type === 'closed' && typeof ev.disposition === 'string' && (!last || cmpId(ev.id, last.id) > 0)) last = ev;
  }
  const summary = conv.summary && typeof conv.summary.disposition === 'string' ? conv.summary.disposition : '';
  const closedWith = last ? last.disposition : summary;
  if (!closedWith) return;
  if (shown) shown.remove();
  if (!S.dispositions.includes(closedWith)) { // one of the gateway's own (abandoned, agent_left): shown as it is
    ui.disposition.append(h('option', { value: closedWith, text: dispositionLabel(null, closedWith), 'data-closed': '' }));
  }
  ui.disposition.value = closedWith;
}

export function renderComposerState() {
  const conv = S.convs.get(S.selected);
  const writable = !!conv && !conv.closed;
  ui.composer.disabled = !writable;
  ui.sendBtn.disabled = !writable;
  for (const id of ['attach-btn', 'emoji-btn']) { const b = document.getElementById(id); if (b) b.disabled = !writable; }
  // nothing selected: the placeholder covers the timeline and the composer; they take no focus and are not read
  ui.timelineWrap.inert = !conv;
  ui.composerForm.inert = !conv;
  ui.noteMode.disabled = !writable;
  ui.disposition.disabled = !writable || S.closing === (conv && conv.id);
  showDisposition(conv, writable);
  const onCall = callInProgress(conv);
  const hadFocus = document.activeElement === ui.closeBtn;
  ui.closeBtn.disabled = !writable || onCall;
  setPending(ui.closeBtn, !!S.closing); // closing: the focus stays on it (closeConversation ignores it meanwhile)
  ui.closeBtn.title = writable && onCall ? 'Hang up first: the customer is on the call' : '';
  ui.closeBtn.textContent = conv && S.closing === conv.id ? 'Closing…' : 'Close';
  ui.readonly.hidden = !conv || !conv.closed;
  ui.readonly.textContent = !conv || !conv.returned ? 'This conversation is closed. It is read-only.'
    : conv.returned === 'queue' && /^agent_/.test(conv.returnedReason || '')
      ? 'Your desk was closed too long (or you signed out), so this conversation went back to the queue. It is read-only here.'
      : conv.returned === 'queue' ? 'The call was not taken, so this conversation went back to the queue. It is read-only here.'
      : conv.returned === 'callback' ? 'The customer was not reached; the callback will try again later. It is read-only here.'
        : conv.returned === 'released' ? `The callback ended (${String(conv.returnedReason || '').replace(/^callback_/, '')
          .replace(/_/g, ' ')}), so this conversation is no longer yours. It is read-only here.`
          : movedNotice(conv);
  ui.composerForm.hidden = !!conv && conv.closed;
  ui.composerForm.classList.toggle('note-mode', ui.noteMode.checked);
  if (hadFocus && ui.closeBtn.disabled) { // closed: on to the next open conversation, else this one's timeline
    const next = Array.from(ui.convs.querySelectorAll('.conv-item')).find((li) => {
      const other = S.convs.get(li.dataset.conversationId);
      return other && other !== conv && !other.closed;
    });
    focusFirst([next, ui.timelineWrap]);
  }
  ui.composer.placeholder = ui.noteMode.checked
    ? 'Write an internal note — only agents see it…'
    : 'Reply to the customer…  (Enter to send, Shift+Enter for a new line)';
}

/** A chat handed on: by the agent ("transferred"), or by a supervisor, said with their name and where it went
 * ("Sara (supervisor) transferred this chat to Ben"). */
function movedNotice(conv) {
  const move = supervisorMove(conv.events.values());
  if (!move) return 'This conversation was transferred. It is read-only here.';
  // (plain text: each name isolated, so a right-to-left one does not reverse the words after it)
  return `${systemText(move).map((p) => (typeof p === 'string' ? p : isolate(p.user))).join('')}. It is read-only here.`;
}

export function renderTypingPreview() {
  const conv = S.convs.get(S.selected);
  const draft = conv ? conv.typingDraft : null;
  if (draft == null || (conv && conv.closed)) {
    ui.typingPreview.hidden = true;
    ui.typingPreview.textContent = '';
    return;
  }
  ui.typingPreview.textContent = draft ? `Customer is typing: ${draft}` : 'Customer is typing…';
  ui.typingPreview.hidden = false;
}

export function renderContext() {
  const conv = S.convs.get(S.selected);
  if (!conv) {
    ui.context.replaceChildren(h('p', { class: 'empty', text: 'No conversation selected.' }));
    return;
  }
  const s = conv.summary;
  const details = [
    ['Customer', s.customer_id || '—'],
    ['Conversation', conv.id],
    ['State', conv.closed ? leftAs(conv) : (s.state || '—')],
    ['Queue', s.queue],
    ['Agent', s.agent_name || s.agent_id],
    ['Started', fmtFull(s.created_at)],
    ['Updated', fmtFull(s.updated_at)],
    ['Rating', s.rating && s.rating.score ? `${s.rating.score}/5 ${'★'.repeat(s.rating.score)}${'☆'.repeat(5 - s.rating.score)}` : ''],
    ['Comment', s.rating ? s.rating.comment : ''],
  ].filter(([, v]) => v != null && v !== '');
  // Three sources, never mixed up: what the site's backend signed (verified.*), what the customer's
  // browser said (context.*: unverified), and what the flow collected (everything else).
  const groups = { verified: [], browser: [], collected: [] };
  for (const [k, v] of Object.entries(conv.context || {})) {
    if (k.startsWith('verified.')) groups.verified.push([k.slice(9), v]);
    else if (k.startsWith('context.')) groups.browser.push([k.slice(8), v]);
    else groups.collected.push([k, v]);
  }
  const section = (title, entries, note) => h('div', { class: 'ctx-section' }, h('h3', { text: title }),
    note ? h('p', { class: 'ctx-note', text: note }) : null, dl(entries));
  const sections = [h('div', { class: 'ctx-section' }, h('h3', { text: 'Details' }), dl(details))];
  if (groups.verified.length) sections.push(section('Verified by the site', groups.verified));
  if (groups.collected.length) sections.push(section('Collected', groups.collected));
  if (groups.browser.length) sections.push(section('From the browser', groups.browser, 'Sent by the customer\'s browser: unverified.'));
  if (sections.length === 1) {
    sections.push(h('div', { class: 'ctx-section' }, h('h3', { text: 'Context' }),
      h('p', { class: 'empty', text: 'No context shared.' })));
  }
  sections.push(previousSection(conv));
  ui.context.replaceChildren(...sections);
}

function dl(entries) {
  const list = h('dl', { class: 'ctx' });
  for (const [k, v] of entries) {
    const value = typeof v === 'string' ? v : JSON.stringify(v);
    let dd;
    if (/^https?:\/\//i.test(value)) {
      dd = h('dd', null, h('a', { href: value, target: '_blank', rel: 'noopener noreferrer', text: value }));
    } else {
      dd = h('dd', { text: value });
    }
    list.append(h('dt', { text: k, 'data-key': k }), dd);
  }
  return list;
}
