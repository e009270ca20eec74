// Watching a chat from the wallboard, the pure part (no DOM; webclient/tests/wallboard_watch.test.mjs): what the
// conversation is now (read off its summary and timeline), what the supervisor may do in it, and the panel's words.
//
// The gateway decides (gateway/contact/chat_supervision.py: coach in any conversation not closed, join while an agent
// has the chat, move a chat an agent has); these rules only choose which controls the panel offers, so a refusal is
// rare and, when it comes, its message is shown as it is.

import { cmpId } from '../shared/ids.js';
import { duration } from './wallboard_format.js';

function text(v) {
  return typeof v === 'string' && v ? v : null;
}

/**
 * What the conversation is now: {state, closed, queue, agentId, agentName, since, inChat: Map(id -> name)}.
 * The summary (the history frame's, or the list row's) says where it stood; the timeline's events replayed in id
 * order say what changed since (an assignment, a transfer, a supervisor joining or leaving, the close).
 * `names`: agent names by id (welcome.agent_names), for an event that carries only an id.
 */
export function chatFacts(summary, events, names = {}) {
  const s = summary && typeof summary === 'object' ? summary : {};
  const name = (id, given) => text(given) || (id && text(names[id])) || id || null;
  const f = {
    state: text(s.state) || 'open',
    queue: text(s.queue),
    agentId: text(s.agent_id),
    agentName: name(s.agent_id, s.agent_name),
    since: Number(s.state === 'queued' ? s.queued_at : s.updated_at) || Number(s.created_at) || null,
    inChat: new Map(),
  };
  const list = (Array.isArray(events) ? events : []).filter((e) => e && typeof e.id === 'string')
    .sort((a, b) => cmpId(a.id, b.id));
  for (const ev of list) {
    const ts = Number(ev.ts) || f.since;
    switch (ev.type) {
      case 'opened':
        Object.assign(f, { state: 'open', agentId: null, agentName: null, since: ts });
        f.inChat.clear();
        break;
      case 'assigned':
        Object.assign(f, { state: 'assigned', agentId: text(ev.agent_id), agentName: name(ev.agent_id, ev.agent_name),
          since: ts });
        break;
      case 'state':
        if (ev.state === 'queued') {
          Object.assign(f, { state: 'queued', agentId: null, agentName: null, since: ts });
          if (text(ev.queue)) f.queue = ev.queue;
        } else if (text(ev.state)) f.state = ev.state;
        break;
      case 'closed':
        f.state = 'closed';
        f.since = ts;
        f.inChat.clear(); // the close ends every supervisor's place in the chat
        break;
      case 'supervisor_joined':
        if (text(ev.agent_id)) f.inChat.set(ev.agent_id, name(ev.agent_id, ev.agent_name));
        break;
      case 'supervisor_left':
        f.inChat.delete(ev.agent_id);
        break;
      default:
        break;
    }
  }
  f.closed = f.state === 'closed';
  return f;
}

/**
 * What the panel offers the supervisor `me` (an agent id) with `roles` (welcome.roles) in a conversation of facts `f`:
 * {note, join, leave, message, transfer, takeOver, mine, why}. `why`: a sentence for what is not offered, or ''.
 */
export function allowed(f, me, roles) {
  const none = { note: false, join: false, leave: false, message: false, transfer: false, takeOver: false, mine: false };
  if (!f || f.closed) return { ...none, why: 'This conversation is closed: there is nothing more to do in it.' };
  const assigned = f.state === 'assigned' && !!f.agentId;
  const mine = assigned && f.agentId === me;
  const inChat = f.inChat.has(me);
  const takes = Array.isArray(roles) && roles.includes('agent');
  let why = '';
  if (f.state === 'queued') {
    why = `Waiting${f.queue ? ` in ${f.queue}` : ''}: join or move it once an agent has it. A note now is read by whoever takes it.`;
  } else if (!assigned) why = 'No agent has this chat yet (a bot or the phone menu may): join or move it once one does.';
  else if (mine) why = 'This chat is yours now: answer it from the agent desk.';
  return {
    note: true,
    join: assigned && !mine && !inChat,
    leave: inChat,
    message: inChat && assigned, // the gateway takes a supervisor's message only beside an agent
    transfer: assigned,
    takeOver: assigned && !mine && takes,
    mine,
    why,
  };
}

/** The coach note's label: whom it reaches, and that the customer does not see it. */
export function noteLabel(f, me) {
  if (f && f.state === 'assigned' && f.agentName && f.agentId !== me) {
    return `Note to ${f.agentName} — the customer does not see it`;
  }
  if (f && f.state === 'assigned') return 'Note — the customer does not see it';
  return 'Note for whoever takes this chat — the customer does not see it';
}

/** Who is in the chat besides its agent, in words ('' for nobody): "You are in the chat", "Ben Green (supervisor)
 * is in the chat too". */
export function inChatText(f, me) {
  if (!f || f.closed || !f.inChat.size) return '';
  const others = Array.from(f.inChat).filter(([id]) => id !== me).map(([, n]) => `${n} (supervisor)`);
  const said = [];
  if (f.inChat.has(me)) {
    said.push(`You are in the chat: ${f.agentName && f.agentId !== me ? `the customer and ${f.agentName} see`
      : 'the customer sees'} what you write.`);
  }
  if (others.length) said.push(`${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} in the chat${f.inChat.has(me) ? ' too' : ''}.`);
  return said.join(' ');
}

const STATE_WORDS = { open: 'Not with an agent', queued: 'Waiting', assigned: 'With an agent', closed: 'Closed' };

/** The panel header's facts as [label, value] pairs: queue, agent, state, and for how long (gateway time `now`). */
export function headerFacts(f, now) {
  const how = f.since && !f.closed ? duration(now - f.since) : null;
  return [
    ['Queue', f.queue || '—'],
    ['Agent', f.agentName || 'none'],
    ['State', STATE_WORDS[f.state] || String(f.state).replace(/_/g, ' ')],
    ...(how ? [[f.state === 'queued' ? 'Waiting for' : f.state === 'assigned' ? 'With them for' : 'For', how]] : []),
  ];
}

/** The customer as the wallboard names them: the name the site vouched for, else the short id. */
export function customerName(summary) {
  const s = summary || {};
  const ctx = s.context && typeof s.context === 'object' ? s.context : {};
  const verified = text(ctx['verified.name']) || text(s.customer_name);
  if (verified) return verified.trim();
  const id = String(s.customer_id || s.id || '');
  const m = /^([A-Za-z]{1,5}_)(.+)$/.exec(id);
  return `Customer ${m ? m[1] + m[2].slice(0, 6) : id.slice(0, 8)}`;
}

/** The chats list of an agent's row or a queue's: {params} for GET /api/conversations, its title and empty words. */
export function chatList(kind, key, label) {
  if (kind === 'agent') {
    return { params: { agent: key, state: 'assigned', limit: 50 }, title: `${label || key}’s chats`,
      empty: `${label || key} has no chat now.` };
  }
  return { params: { queue: key, state: 'queued', limit: 50 }, title: `Chats waiting in ${key}`,
    empty: `No chat waits in ${key} now.` };
}

/**
 * Whether an event of the watched conversation answers the supervisor's pending action
 * ({kind: 'join' | 'leave' | 'transfer'}): their supervisor_joined, supervisor_left, or a move they made.
 */
export function answers(pending, ev, me) {
  if (!pending || !ev) return false;
  if (pending.kind === 'join') return ev.type === 'supervisor_joined' && ev.agent_id === me;
  if (pending.kind === 'leave') return ev.type === 'supervisor_left' && ev.agent_id === me;
  if (pending.kind === 'transfer') {
    return (ev.type === 'assigned' || (ev.type === 'state' && ev.state === 'queued')) && ev.transferred_by === me;
  }
  return false;
}

/** An error frame's words in the panel: the gateway's message (it names why), a few codes said better. */
export function errorText(f) {
  const message = f && typeof f.message === 'string' && f.message ? f.message : '';
  switch (f && f.code) {
    case 'store_unavailable': return 'The gateway could not store it just now. Try again in a moment.';
    case 'rate_limited': return 'Too many at once: try again in a moment.';
    case 'not_found': return message || 'This conversation does not exist (any more).';
    default: return message || `Refused (${String((f && f.code) || 'error').replace(/_/g, ' ')}).`;
  }
}
