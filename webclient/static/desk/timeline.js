// Rendering the timeline: one element per event or pending message, in id order; recordings.

import { S, nameOf, ui } from './state.js';
import { cmpId } from '../shared/ids.js';
import { fmtClock, fmtFull, h } from './dom.js';
import { setLinkedText } from '../shared/links.js';
import { traceSessions, traceSummary } from './ivr_trace.js';
import { attachmentItem } from './attach.js';

// ------------------------------------------------------------ rendering: timeline

function nearBottom() {
  const w = ui.timelineWrap;
  return w.scrollHeight - w.scrollTop - w.clientHeight < 80;
}

function scrollToBottom() {
  const w = ui.timelineWrap;
  requestAnimationFrame(() => { w.scrollTop = w.scrollHeight; });
}

function authorName(ev) {
  if (ev.author === 'agent') return ev.agent_name || nameOf(ev.agent_id) || 'Agent';
  if (ev.author === 'bot') return 'Bot';
  if (ev.author === 'customer') return 'Customer';
  return ev.author || 'System';
}

function stateLabel(state) {
  return ({ open: 'Conversation open', queued: 'Waiting in queue', assigned: 'Assigned', closed: 'Conversation closed' })[state] ||
    `State: ${state}`;
}

function systemText(ev) {
  switch (ev.type) {
    case 'opened': {
      const page = ev.context && ev.context['context.page'];
      return 'Conversation started' + (page ? ` on ${page}` : '');
    }
    case 'state': return stateLabel(ev.state);
    case 'assigned': return `Assigned to ${ev.agent_name || nameOf(ev.agent_id) || 'an agent'}`;
    case 'closed': return 'Closed' + (ev.disposition ? ` · ${String(ev.disposition).replace(/_/g, ' ')}` : '') +
      (ev.agent_id ? ` by ${nameOf(ev.agent_id)}` : '');
    case 'context': {
      const keys = ev.values && typeof ev.values === 'object' ? Object.keys(ev.values) : [];
      return 'Context updated' + (keys.length ? `: ${keys.join(', ')}` : '');
    }
    case 'call_started': return 'Call started';
    case 'call_ended': {
      const ms = Number(ev.duration_ms) || 0;
      const s = Math.floor(ms / 1000);
      const why = ev.reason === 'caller_hangup' ? 'caller hung up' : ev.reason === 'agent_hangup' ? 'agent hung up'
        : String(ev.reason || '').replace(/_/g, ' ');
      return `Call ended${why ? ` · ${why}` : ''} · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }
    case 'ivr': return ivrText(ev);
    case 'call_answered': {
      const s = Math.floor((Number(ev.wait_ms) || 0) / 1000);
      return `Call answered by ${ev.agent_name || nameOf(ev.agent_id) || 'an agent'} · waited ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }
    case 'call_missed': return `Call ${ev.reason === 'declined' ? 'declined' : 'missed'} by ${nameOf(ev.agent_id) || 'an agent'}` +
      (ev.reason && ev.reason !== 'declined' ? ` · ${String(ev.reason).replace(/_/g, ' ')}` : '');
    case 'call_abandoned': {
      const s = Math.floor((Number(ev.wait_ms) || 0) / 1000);
      return `Caller hung up before an agent answered · waited ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }
    case 'call_held': return 'Call on hold';
    case 'call_resumed': return 'Call resumed';
    case 'call_agent_lost': return `Call connection to ${nameOf(ev.agent_id) || 'the agent'} lost · ${String(ev.reason || '').replace(/_/g, ' ')}`;
    case 'recording': {
      const s = Math.floor((Number(ev.duration_ms) || 0) / 1000);
      // the recorder's writer fell behind: that much of the call is silence in the file
      const lost = Number(ev.dropped_ms) > 0 ? ` · ${Math.max(1, Math.round(ev.dropped_ms / 1000))} s of audio lost` : '';
      return `Call recording · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}${lost}`;
    }
    case 'transcript':
      if (ev.unavailable) return `No live transcript: ${ev.unavailable}`;
      return `${ev.side === 'agent' ? 'Agent' : 'Caller'} said: “${ev.text}”`;
    case 'call_transferred':
      return `Call ${ev.warm ? 'handed over' : 'transferred'} by ${nameOf(ev.agent_id) || 'an agent'} to ` +
        (ev.to_agent_id ? nameOf(ev.to_agent_id) : `queue ${ev.to_queue}`);
    case 'call_consult': return ev.action === 'start' ? `${nameOf(ev.agent_id)} consults ${nameOf(ev.to_agent_id)}`
      : `Consultation with ${nameOf(ev.to_agent_id)} ended · ${String(ev.action || '').replace(/_/g, ' ')}`;
    case 'call_monitored': return `Supervisor ${nameOf(ev.agent_id)} ${ev.mode === 'whisper' ? 'coaching' : 'listening'}`;
    case 'call_invite': return `${ev.agent_name || nameOf(ev.agent_id) || 'The agent'} invited the customer to a call`;
    case 'call_invite_declined': return 'The customer declined the call';
    case 'callback': return callbackText(ev);
    case 'rating': return `Customer rated the conversation ${Number(ev.score) || '?'}/5` +
      (ev.comment ? `: “${ev.comment}”` : '');
    default: return ev.type;
  }
}

function callbackText(ev) {
  switch (ev.action) {
    case 'requested': return `Callback booked${ev.asap ? ': as soon as an agent is free' : ` for ${fmtFull(ev.due_ms)}`}` +
      (ev.phone ? ` · phone ${ev.phone}` : '');
    case 'queued': return `Callback in the queue (attempt ${ev.attempt || 1})`;
    case 'attempt': return `Callback attempt ${ev.attempt} of ${ev.max_attempts}: ringing the customer for ${ev.agent_name || 'an agent'}`;
    case 'outcome': return `Callback attempt ${ev.attempt}: ${String(ev.outcome || '').replace(/_/g, ' ')} · next at ${fmtClock(ev.next_attempt_ms)}`;
    case 'closed': return `Callback closed: ${String(ev.outcome || '').replace(/_/g, ' ')}`;
    default: return 'Callback';
  }
}

/** One IVR / bot step (kind, node, detail): "IVR · menu: input digits 1", "IVR said: …". */
function ivrText(ev) {
  const who = ev.channel === 'chat' ? 'Bot' : 'IVR';
  const detail = ev.detail == null ? '' : String(ev.detail);
  switch (ev.kind) {
    case 'prompt': return `${who} said: “${detail}”`;
    case 'input': return `${who} · ${ev.node}: input ${detail}`;
    case 'choice': return `${who} · choice: ${detail}`;
    case 'queue': return `${who} · queued for ${detail}`;
    case 'hangup': return `${who} · hung up: ${detail.replace(/_/g, ' ')}`;
    default: return `${who} · ${ev.node}: ${String(ev.kind || 'step').replace(/_/g, ' ')}${detail ? ` ${detail}` : ''}`;
  }
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
      'data-event-id': ev.id,
      'data-client-id': ev.client_id || null,
      'data-status': 'sent',
      title: full,
    },
    linked('div', 'tl-bubble', ev.text),
    h('div', { class: 'tl-meta', text: `${authorName(ev)} · ${time}` }));
  }
  if (ev.type === 'attachment') {
    const item = attachmentItem(ev, `${authorName(ev)} · ${time}`);
    item.title = full;
    return item;
  }
  if (ev.type === 'note') {
    return h('li', {
      class: 'tl-item tl-note',
      'data-type': 'note',
      'data-event-id': ev.id,
      'data-client-id': ev.client_id || null,
      'data-status': 'sent',
      title: full,
    },
    h('div', { class: 'note-label', text: `Internal note · ${ev.agent_name || nameOf(ev.agent_id) || 'Agent'} · ${time}` }),
    linked('div', 'note-text', ev.text));
  }
  const li = h('li', {
    class: 'tl-item tl-sys',
    'data-type': ev.type,
    'data-kind': ev.type === 'ivr' ? ev.kind : null,
    'data-event-id': ev.id,
    title: ev.type === 'ivr' && ev.flow ? `${full} · flow ${ev.flow}` : full,
  }, `${systemText(ev)} · ${time}`);
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
      `${traceSummary(session)} · ${fmtClock(session.steps[0].ts)}`),
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

function pendingMeta(p) {
  if (p.status === 'failed') return `Not delivered — ${p.error || 'rejected'}`;
  if (p.status === 'sending') return 'Sending…';
  return `${S.agent && S.agent.name ? S.agent.name : 'You'} · ${fmtClock(p.ts)}`;
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
    h('div', { class: 'note-label', text: `Internal note · ${me} · ${p.status === 'sent' ? fmtClock(p.ts) : pendingMeta(p)}` }),
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
  h('div', { class: 'tl-meta', text: pendingMeta(p) }));
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
