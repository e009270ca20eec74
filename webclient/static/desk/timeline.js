// Rendering the timeline: one element per event or pending message, in id order; recordings.

import { S, ui } from './state.js';
import { cmpId } from '../shared/ids.js';
import { fmtClock, fmtFull, h, partNodes } from './dom.js';
import { setLinkedText } from '../shared/links.js';
import { traceSessions, traceSummary } from './ivr_trace.js';
import { attachmentItem } from './attach.js';
import { authorLine, metaLine, noteLabel, plain, systemText } from './event_text.js';

// ------------------------------------------------------------ rendering: timeline

function nearBottom() {
  const w = ui.timelineWrap;
  return w.scrollHeight - w.scrollTop - w.clientHeight < 80;
}

function scrollToBottom() {
  const w = ui.timelineWrap;
  requestAnimationFrame(() => { w.scrollTop = w.scrollHeight; });
}

/** One event as the timeline shows it (also the read-only history view: desk/history.js). */
export function makeEventEl(ev) {
  const time = fmtClock(ev.ts);
  const full = fmtFull(ev.ts);
  if (ev.type === 'message') {
    const author = ['customer', 'agent', 'bot'].includes(ev.author) ? ev.author : 'system';
    return h('li', {
      class: 'tl-item tl-msg',
      'data-type': 'message',
      'data-author': author,
      'data-supervisor': ev.supervisor && author === 'agent' ? 'true' : null, // a supervisor in the chat: their colour
      'data-event-id': ev.id,
      'data-client-id': ev.client_id || null,
      'data-status': 'sent',
      title: full,
    },
    linked('div', 'tl-bubble', ev.text),
    h('div', { class: 'tl-meta' }, ...partNodes(authorLine(ev, time))));
  }
  if (ev.type === 'attachment') {
    const item = attachmentItem(ev, partNodes(authorLine(ev, time)));
    item.title = full;
    return item;
  }
  if (ev.type === 'note') {
    // a supervisor's note coaches the agent: "Coaching from Sara", drawn apart from the agents' own notes
    return h('li', {
      class: ev.supervisor ? 'tl-item tl-note tl-coach' : 'tl-item tl-note',
      'data-type': 'note',
      'data-supervisor': ev.supervisor ? 'true' : null,
      'data-event-id': ev.id,
      'data-client-id': ev.client_id || null,
      'data-status': 'sent',
      title: full,
    },
    h('div', { class: 'note-label' }, ...partNodes(noteLabel(ev, time))),
    linked('div', 'note-text', ev.text));
  }
  const li = h('li', {
    class: 'tl-item tl-sys',
    'data-type': ev.type,
    'data-kind': ev.type === 'ivr' ? ev.kind : null,
    'data-event-id': ev.id,
    title: ev.type === 'ivr' && ev.flow ? `${full} · flow ${ev.flow}` : full,
  }, h('span', { class: 'tl-sys-text' }, ...partNodes(systemText(ev)), ` · ${time}`)); // one flex item: one line
  if (ev.type === 'recording' && ev.playable === false) {
    li.append(h('span', { class: 'tl-note-inline', text: ' (only the conversation\'s agents and supervisors may play it)' }));
  } else if (ev.type === 'recording' && typeof ev.url === 'string' && ev.url.startsWith('/') && S.token) {
    // GET /api/recordings/... takes the agent token as ?token= (an <audio> element sends no header)
    li.append(h('audio', { controls: true, preload: 'none', class: 'tl-recording', 'data-url': ev.url,
      src: recordingUrl(ev.url) }));
  }
  return li;
}

/** An element holding a message's text, its http(s) URLs as links (rel=noopener noreferrer, new tab): never HTML. */
function linked(tag, cls, text) {
  const el = h(tag, { class: cls });
  setLinkedText(el, typeof text === 'string' ? text : '');
  return el;
}

// ------------------------------------------------------------ the IVR / bot trace: one line per session

// conversation id -> ids of the sessions the agent expanded, kept across re-renders and across a refreshed
// conversation object (the desk may replace the object; the id stays)
const openTraces = new Map();

function makeTraceEl(conv, session) {
  const opened = openTraces.get(conv.id);
  const details = h('details', { class: 'trace', open: !!(opened && opened.has(session.id)) },
    h('summary', { class: 'trace-summary', title: `${session.steps.length} steps: show them` },
      // the summary holds the caller's answers: isolated from the time after it
      h('bdi', { text: traceSummary(session) }), ` · ${fmtClock(session.steps[0].ts)}`),
    h('ol', { class: 'trace-steps', 'aria-label': 'Steps' }, ...session.steps.map(makeEventEl)));
  details.addEventListener('toggle', () => {
    const ids = openTraces.get(conv.id) || new Set();
    if (details.open) ids.add(session.id);
    else ids.delete(session.id);
    openTraces.set(conv.id, ids);
    // 'toggle' is queued after the click: a step that arrived in between redrew the line from the old state,
    // so the line now on screen takes the state the agent chose
    const shown = findByEventId(session.id);
    const live = shown && shown.querySelector('details.trace');
    if (live && live !== details && live.open !== details.open) live.open = details.open;
  });
  return h('li', {
    class: 'tl-item tl-sys tl-trace',
    'data-type': 'ivr-trace',
    'data-testid': 'ivr-trace',
    'data-channel': session.channel,
    'data-event-id': session.id,
  }, details);
}

function sortedEvents(conv) {
  return Array.from(conv.events.values()).sort((a, b) => cmpId(a.id, b.id));
}

/** A step arrived: redraw its session's line (a new one goes in its place by id). */
function upsertTraceEl(conv, ev) {
  const { sessions, of } = traceSessions(sortedEvents(conv));
  const session = sessions.find((s) => s.id === of.get(ev.id));
  if (!session) return;
  const fresh = makeTraceEl(conv, session);
  const old = findByEventId(session.id);
  if (old) old.replaceWith(fresh);
  else insertOrdered(fresh);
}

/** The line under one of our messages not yet acknowledged (parts: event_text.js). */
function pendingMeta(p) {
  if (p.status === 'failed') return [`Not delivered — ${p.error || 'rejected'}`];
  if (p.status === 'sending') return ['Sending…'];
  return metaLine(S.agent && S.agent.name ? S.agent.name : 'You', fmtClock(p.ts));
}

function makePendingEl(p) {
  const me = S.agent && (S.agent.name || S.agent.id) || 'You';
  if (p.kind === 'note') {
    return h('li', {
      class: 'tl-item tl-note',
      'data-type': 'note',
      'data-client-id': p.client_id,
      'data-status': p.status,
      'data-event-id': p.event_id || null,
      title: fmtFull(p.ts),
    },
    h('div', { class: 'note-label' }, 'Internal note · ', ...partNodes(metaLine(me, p.status === 'sent' ? fmtClock(p.ts) : plain(pendingMeta(p))))),
    linked('div', 'note-text', p.text));
  }
  return h('li', {
    class: 'tl-item tl-msg',
    'data-type': 'message',
    'data-author': 'agent',
    'data-client-id': p.client_id,
    'data-status': p.status,
    'data-event-id': p.event_id || null,
    title: fmtFull(p.ts),
  },
  linked('div', 'tl-bubble', p.text),
  h('div', { class: 'tl-meta' }, ...partNodes(pendingMeta(p))));
}

function isPendingEl(el) {
  return !el.dataset.eventId && el.dataset.status === 'sending';
}

/** Insert in event-id order; unacknowledged items stay at the end. */
function insertOrdered(el) {
  const id = el.dataset.eventId;
  let ref = null;
  if (id) {
    for (let c = ui.timeline.lastElementChild; c; c = c.previousElementSibling) {
      if (c === el) continue;
      if (isPendingEl(c)) { ref = c; continue; }
      const cid = c.dataset.eventId;
      if (cid && cmpId(cid, id) > 0) { ref = c; continue; }
      break;
    }
  }
  ui.timeline.insertBefore(el, ref);
}

function findByClientId(clientId) {
  for (const el of ui.timeline.children) if (el.dataset.clientId === clientId) return el;
  return null;
}

function findByEventId(eventId) {
  if (!ui.timeline) return null; // (a page drawing events without the desk's timeline: the wallboard's watch panel)
  for (const el of ui.timeline.children) if (el.dataset.eventId === eventId) return el;
  return null;
}

/** The elements of ``events`` (in id order), each IVR / bot session as one line; ``owner`` (the conversation, or
 *  any object standing for a view) remembers which lines the agent expanded. */
export function eventNodes(events, owner) {
  const { sessions, of } = traceSessions(events);
  const starts = new Map(sessions.map((s) => [s.id, s]));
  const nodes = [];
  for (const ev of events) {
    if (!of.has(ev.id)) nodes.push(makeEventEl(ev));
    else if (starts.has(ev.id)) nodes.push(makeTraceEl(owner, starts.get(ev.id)));
  }
  return nodes;
}

export function renderTimeline(conv) {
  const events = sortedEvents(conv);
  const nodes = eventNodes(events, conv);
  const inEvents = new Set(events.map((e) => e.client_id).filter(Boolean));
  const pend = Array.from(conv.pending.values()).filter((p) => !inEvents.has(p.client_id));
  ui.timeline.replaceChildren(...nodes);
  for (const p of pend.sort((a, b) => a.ts - b.ts)) {
    const el = makePendingEl(p);
    if (p.event_id) insertOrdered(el);
    else ui.timeline.append(el);
  }
  scrollToBottom();
}

export function upsertEventEl(conv, ev) {
  const stick = nearBottom();
  if (ev.type === 'ivr') {
    upsertTraceEl(conv, ev);
    if (stick) scrollToBottom();
    return;
  }
  if (findByEventId(ev.id)) return;
  const fresh = makeEventEl(ev);
  const old = ev.client_id ? findByClientId(ev.client_id) : null;
  if (old) old.remove();
  insertOrdered(fresh);
  if (stick || (old && ev.author === 'agent')) scrollToBottom();
}

export function upsertPendingEl(conv, p, own) {
  const stick = nearBottom();
  const old = findByClientId(p.client_id);
  if (old && old.dataset.eventId && !p.event_id) return;
  if (old && conv.events.has(old.dataset.eventId)) return; // the real event is already drawn
  const fresh = makePendingEl(p);
  if (old) old.remove();
  insertOrdered(fresh);
  if (own || stick) scrollToBottom();
}

// ------------------------------------------------------------ recordings

/** GET /api/recordings/... takes the access token as ?token= (an <audio> element sends no header). */
function recordingUrl(url) {
  return `${url}?token=${encodeURIComponent(S.token || '')}`;
}

/** After a refresh: players not started yet get the fresh token (the old one expires soon). */
export function refreshRecordingUrls() {
  if (!ui.timeline) return;
  for (const el of ui.timeline.querySelectorAll('audio.tl-recording[data-url]')) {
    if (el.paused && el.currentTime === 0) el.src = recordingUrl(el.dataset.url);
  }
}
