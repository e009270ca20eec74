// The timeline's system lines in words (pure: no DOM; webclient/tests/event_text.test.mjs).
//
// A line is a list of parts: plain strings (our words) and `{ user: text }` for what someone typed or named (an
// agent's name, a customer's answer, a page address, a menu's labels). timeline.js draws each user part in its own
// <bdi>, so a right-to-left override in a name ("Eve \u202ereversed") stays inside the name instead of reversing
// the time and the words after it ("Assigned to Eve 5:27 · desrever PM", a user test).

import { S, nameOf } from './state.js';
import { fmtClock, fmtFull } from './dom.js';
import { cmpId } from '../shared/ids.js';
import { dispositionLabel } from './dispositions.js';

/** Text someone else wrote: drawn isolated (<bdi>). */
export function user(text) {
  return { user: text == null ? '' : String(text) };
}

/** A tagged template: `line\`Assigned to ${user(name)}\`` -> ['Assigned to ', {user: name}]. */
export function line(strings, ...values) {
  const parts = [];
  const push = (p) => {
    if (typeof p === 'string' && typeof parts[parts.length - 1] === 'string') parts[parts.length - 1] += p;
    else if (typeof p !== 'string' || p) parts.push(p);
  };
  strings.forEach((s, i) => {
    push(s);
    if (i >= values.length) return;
    const v = values[i];
    if (Array.isArray(v)) v.forEach(push);
    else push(v && typeof v === 'object' && 'user' in v ? v : String(v == null ? '' : v));
  });
  return parts;
}

/** A line's text, as a screen reader or a test reads it. */
export function plain(parts) {
  return parts.map((p) => (typeof p === 'string' ? p : p.user)).join('');
}

/** "A, B, C" of user texts, each isolated. */
function list(texts) {
  return texts.flatMap((t, i) => (i ? [', ', user(t)] : [user(t)]));
}

function words(code) {
  return String(code || '').replace(/_/g, ' ');
}

function mmss(ms) {
  const s = Math.floor((Number(ms) || 0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function authorName(ev) {
  // a supervisor who joined the chat writes as an agent: said so, the agent and the customer see both
  if (ev.author === 'agent' && ev.supervisor) return `${ev.agent_name || nameOf(ev.agent_id) || 'A supervisor'} (supervisor)`;
  if (ev.author === 'agent') return ev.agent_name || nameOf(ev.agent_id) || 'Agent';
  if (ev.author === 'bot') return 'Bot';
  if (ev.author === 'customer') return 'Customer';
  return ev.author || 'System';
}

/** The line under a message or an attachment: "Alice · 5:27 PM" (the name isolated from the time). */
export function metaLine(name, time) {
  return line`${user(name)} · ${time}`;
}

/** A supervisor as the timeline names them, as parts: "Sara (supervisor)" (the name isolated, our word not). */
export function supervisorParts(id, name) {
  const who = name || nameOf(id);
  return who ? line`${user(who)} (supervisor)` : ['A supervisor'];
}

/** The line under an event's text: its author and time; a supervisor's message says "(supervisor)" after the name. */
export function authorLine(ev, time) {
  if (ev.author === 'agent' && ev.supervisor) return line`${supervisorParts(ev.agent_id, ev.agent_name)} · ${time}`;
  return metaLine(authorName(ev), time);
}

/** A note's label: an agent's "Internal note · Bob · 5:27 PM"; a supervisor's coaching, "Coaching from Sara · ...". */
export function noteLabel(ev, time) {
  const who = ev.agent_name || nameOf(ev.agent_id) || 'Agent';
  return ev.supervisor ? line`Coaching from ${user(who)} · ${time}` : line`Internal note · ${user(who)} · ${time}`;
}

/** A chat moved by a supervisor (the transfer's event carries transferred_by): who moved it, and where to. */
function movedText(ev) {
  const by = supervisorParts(ev.transferred_by, ev.transferred_by_name);
  if (ev.type === 'state') return line`${by} transferred this chat to queue ${user(ev.queue || '?')}`;
  if (ev.agent_id && ev.agent_id === ev.transferred_by) return line`${by} took over this chat`;
  return line`${by} transferred this chat to ${user(ev.agent_name || nameOf(ev.agent_id) || 'an agent')}`;
}

/** The chat's latest transfer when a supervisor made it (its event carries transferred_by), else null (the agent's
 * own, or none): the read-only notice of the agent it was taken from names the supervisor. */
export function supervisorMove(events) {
  let last = null;
  for (const ev of events) {
    const move = ev && ((ev.type === 'assigned' && (ev.transferred_from || ev.transferred_by))
      || (ev.type === 'state' && ev.state === 'queued' && ev.transfer === 'chat'));
    if (move && (!last || cmpId(ev.id, last.id) > 0)) last = ev;
  }
  return last && last.transferred_by ? last : null;
}

function stateLabel(state) {
  return ({ open: 'Conversation open', queued: 'Waiting in queue', assigned: 'Assigned', closed: 'Conversation closed' })[state] ||
    line`State: ${user(state)}`;
}

/** The labels of a bot's buttons: "Bot offered: Billing, Call me back". */
export function choicesText(ev) {
  const labels = (Array.isArray(ev.choices) ? ev.choices : [])
    .map((c) => (c && typeof c === 'object' ? c.label || c.key : c))
    .filter((l) => typeof l === 'string' && l);
  return labels.length ? line`Bot offered: ${list(labels)}` : ['Bot offered choices'];
}

/** One event that is not a message, a note or an attachment, as parts. */
export function systemText(ev) {
  const agent = (id, fallback) => user(nameOf(id) || fallback);
  switch (ev.type) {
    case 'opened': {
      const page = ev.context && ev.context['context.page'];
      return page ? line`Conversation started on ${user(page)}` : ['Conversation started'];
    }
    case 'state':
      // a waiting conversation moved to another queue (its queue's maximum wait: overflow; a flow chose another):
      // said, where it read "Waiting in queue" again (an exploratory test)
      if (ev.state === 'queued' && ev.from_queue && ev.queue && ev.from_queue !== ev.queue) {
        return line`Moved from queue ${user(ev.from_queue)} to ${user(ev.queue)}${
          String(ev.reason || '').startsWith('max_wait') ? ' · waited too long' : ''}`;
      }
      if (ev.state === 'queued' && ev.transfer === 'chat' && ev.transferred_by) return movedText(ev);
      // an agent handed the chat to a queue (its timeline read "Waiting in queue" alone: an exploratory test)
      if (ev.state === 'queued' && ev.transfer === 'chat' && ev.agent_id) {   // (a call's: call_transferred says it)
        return line`Transferred by ${agent(ev.agent_id)}${ev.queue ? line` to queue ${user(ev.queue)}` : ''}`;
      }
      return line`${stateLabel(ev.state)}`;
    case 'assigned':
      if (ev.transferred_by) return movedText(ev);
      return line`Assigned to ${user(ev.agent_name || nameOf(ev.agent_id) || 'an agent')}`;
    case 'closed': return line`Closed${ev.disposition ? line` · ${user(dispositionLabel(S.dispositionLabels, ev.disposition))}` : ''}${
      ev.agent_id && !ev.by_gateway ? line` by ${agent(ev.agent_id)}` : ''}`;
    case 'context': {
      const keys = ev.values && typeof ev.values === 'object' ? Object.keys(ev.values) : [];
      return keys.length ? line`Context updated: ${list(keys)}` : ['Context updated'];
    }
    case 'choices': return choicesText(ev);
    case 'call_started': return ['Call started'];
    case 'call_ended': {
      const why = ev.reason === 'caller_hangup' ? 'caller hung up' : ev.reason === 'agent_hangup' ? 'agent hung up'
        : words(ev.reason);
      return [`Call ended${why ? ` · ${why}` : ''} · ${mmss(ev.duration_ms)}`];
    }
    case 'ivr': return ivrText(ev);
    case 'call_answered':
      return line`Call answered by ${user(ev.agent_name || nameOf(ev.agent_id) || 'an agent')} · waited ${mmss(ev.wait_ms)}`;
    case 'call_missed':
      // not missed: the agent was on another call, or away (never rung, or went away as it rang)
      if (ev.reason === 'agent_busy' || ev.reason === 'agent_away') {
        return line`Call not put through to ${agent(ev.agent_id, 'the agent')}: ${
          ev.reason === 'agent_busy' ? 'on another call' : 'away'}`;
      }
      return line`Call ${ev.reason === 'declined' ? 'declined' : 'missed'} by ${agent(ev.agent_id, 'an agent')}${
        ev.reason && ev.reason !== 'declined' ? ` · ${words(ev.reason)}` : ''}`;
    case 'call_abandoned': return [`Caller hung up before an agent answered · waited ${mmss(ev.wait_ms)}`];
    case 'call_held': return ['Call on hold'];
    case 'call_resumed': return ['Call resumed'];
    case 'call_agent_lost': return line`Call connection to ${agent(ev.agent_id, 'the agent')} lost · ${words(ev.reason)}`;
    case 'call_rejoined': return line`Call connection to ${agent(ev.agent_id, 'the agent')} dropped and came back · the caller held ${
      Number(ev.gap_ms) < 1000 ? 'under a second' : mmss(ev.gap_ms)}`;
    case 'recording': {
      // the recorder's writer fell behind: that much of the call is silence in the file
      const lost = Number(ev.dropped_ms) > 0 ? ` · ${Math.max(1, Math.round(ev.dropped_ms / 1000))} s of audio lost` : '';
      return [`Call recording · ${mmss(ev.duration_ms)}${lost}`];
    }
    case 'transcript':
      if (ev.unavailable) return line`No live transcript: ${user(ev.unavailable)}`;
      return line`${ev.side === 'agent' ? 'Agent' : 'Caller'} said: “${user(ev.text)}”`;
    case 'call_transferred':
      return line`Call ${ev.warm ? 'handed over' : 'transferred'} by ${agent(ev.agent_id, 'an agent')} to ${
        ev.to_agent_id ? agent(ev.to_agent_id) : line`queue ${user(ev.to_queue)}`}`;
    case 'call_consult': return ev.action === 'start' ? line`${agent(ev.agent_id)} consults ${agent(ev.to_agent_id)}`
      : line`Consultation with ${agent(ev.to_agent_id)} ended · ${words(ev.action)}`;
    case 'call_monitored': return line`Supervisor ${agent(ev.agent_id)} ${MONITOR_WORDS[ev.mode] || 'listening'}`;
    case 'call_monitor_ended': return monitorEndText(ev, agent(ev.agent_id));
    case 'call_invite': return line`${user(ev.agent_name || nameOf(ev.agent_id) || 'The agent')} invited the customer to a call`;
    case 'call_invite_declined': return ['The customer declined the call'];
    case 'callback': return callbackText(ev);
    // a supervisor joined or left the agent's chat: the customer sees them and what they write meanwhile
    case 'supervisor_joined': return line`${supervisorParts(ev.agent_id, ev.agent_name)} joined the chat`;
    case 'supervisor_left': return line`${supervisorParts(ev.agent_id, ev.agent_name)} left the chat${
      ev.reason === 'page_closed' ? ' · their page closed' : ev.reason && ev.reason !== 'left' ? ` · ${words(ev.reason)}` : ''}`;
    case 'rating': return line`Customer rated the conversation ${Number(ev.score) || '?'}/5${
      ev.comment ? line`: “${user(ev.comment)}”` : ''}`;
    // an agent asked a supervisor for help (desk/help_request.js): agents only, the customer never sees it
    case 'help_requested': return helpAskedText(ev);
    case 'help_ended': return helpEndedText(ev);
    default: return [String(ev.type)];
  }
}

/** The agent on screen (the desk's, or the supervisor's on the wallboard): "You" in their own lines. */
function myId() {
  return (S.agent && S.agent.id) || '';
}

/** "You asked for help: angry about a refund", "Alice Smith asked for help" (no words given). */
function helpAskedText(ev) {
  const who = ev.agent_id && ev.agent_id === myId() ? 'You' : user(ev.agent_name || nameOf(ev.agent_id) || 'An agent');
  const why = typeof ev.text === 'string' ? ev.text.trim() : '';
  return line`${who} asked for help${why ? line`: ${user(why)}` : ''}`;
}

/** "Carol White answered your help request" (a supervisor: "You answered Alice Smith’s help request"); "Help request
 * cancelled" (the agent who asked cancelled it). */
function helpEndedText(ev) {
  if (ev.reason !== 'answered') return ['Help request cancelled'];
  const me = myId();
  const by = ev.by_id && ev.by_id === me ? 'You' : user(ev.by_name || nameOf(ev.by_id) || 'A supervisor');
  const whose = ev.agent_id && ev.agent_id === me ? 'your' : line`${user(nameOf(ev.agent_id) || 'the agent')}’s`;
  return line`${by} answered ${whose} help request`;
}

// a supervisor's mode (the wallboard's Listen / Whisper / Barge in): a barge read "listening" (a user test)
const MONITOR_WORDS = { listen: 'listening', whisper: 'coaching', barge: 'joined the call: the caller hears them' };
// ... and how they left it (call_monitor_ended: the mode they were in)
const MONITOR_END_WORDS = { listen: 'stopped listening', whisper: 'stopped coaching', barge: 'left the call' };

/** "Supervisor Sara stopped listening" (they left), "... · call ended" (or another reason they did not choose). */
function monitorEndText(ev, who) {
  const why = ev.reason && ev.reason !== 'supervisor_hangup' ? ` · ${words(ev.reason)}` : '';
  return line`Supervisor ${who} ${MONITOR_END_WORDS[ev.mode] || 'stopped listening'}${why}`;
}

/** The agent's call bar: who of the supervisors they hear ([{agent_id, name, mode}] of call_supervisors), as parts:
 *  "Sara is whispering to you", "Sara joined the call" (several: joined by " · "); [] for none. */
export function supervisorsText(list) {
  const parts = [];
  (Array.isArray(list) ? list : []).forEach((s) => {
    if (!s || (s.mode !== 'whisper' && s.mode !== 'barge')) return;
    const who = user(s.name || nameOf(s.agent_id) || 'A supervisor');
    parts.push(...line`${parts.length ? ' · ' : ''}${who} ${s.mode === 'whisper' ? 'is whispering to you' : 'joined the call'}`);
  });
  return line`${parts}`;
}

function callbackText(ev) {
  switch (ev.action) {
    case 'requested': return line`Callback booked${ev.asap ? ': as soon as an agent is free' : ` for ${fmtFull(ev.due_ms)}`}${
      ev.phone ? line` · phone ${user(ev.phone)}` : ''}`;
    case 'queued': return [`Callback in the queue (attempt ${ev.attempt || 1})`];
    case 'attempt': return line`Callback attempt ${ev.attempt} of ${ev.max_attempts}: ringing the customer for ${
      user(ev.agent_name || 'an agent')}`;
    case 'outcome': return [`Callback attempt ${ev.attempt}: ${words(ev.outcome)} · next at ${fmtClock(ev.next_attempt_ms)}`];
    case 'closed': return [`Callback closed: ${words(ev.outcome)}`];
    default: return ['Callback'];
  }
}

/** One IVR / bot step (kind, node, detail): "IVR · menu: input digits 1", "IVR said: …". */
function ivrText(ev) {
  const who = ev.channel === 'chat' ? 'Bot' : 'IVR';
  const detail = user(ev.detail == null ? '' : String(ev.detail));
  switch (ev.kind) {
    case 'prompt': return line`${who} said: “${detail}”`;
    case 'input': return line`${who} · ${user(ev.node)}: input ${detail}`;
    case 'choice': return line`${who} · choice: ${detail}`;
    case 'queue': return line`${who} · queued for ${detail}`;
    case 'hangup': return line`${who} · hung up: ${words(ev.detail)}`;
    default: return line`${who} · ${user(ev.node)}: ${words(ev.kind || 'step')}${detail.user ? line` ${detail}` : ''}`;
  }
}
