// Asking a supervisor for help with a chat, the pure part (no DOM; webclient/tests/help_rules.test.mjs): whether a
// request is open, read off the conversation's timeline, the frames, and what a new event means to the agent who
// asked. The desk's control: desk/help_request.js; the wallboard's list: supervisor/wallboard_help.js; the gateway's
// rules: gateway/contact/help_requests.py (frame `help`, events `help_requested` / `help_ended`, docs/protocol.md).

import { cmpId } from '../shared/ids.js';
import { ClientFrame, EventType, MAX_HELP_TEXT_CHARS } from '../shared/protocol.js';
import { codePoints } from '../shared/text.js';

export const HELP_TEXT_MAX = MAX_HELP_TEXT_CHARS; // why, in a few words (the gateway counts code points)

/** Events that end a request without a help_ended of their own: the chat was closed, went back to a queue or to
 * another agent (the gateway drops the request then and says nothing more), or started again. */
function leavesItsAgent(ev) {
  return ev.type === 'closed' || ev.type === 'assigned' || ev.type === 'opened'
    || (ev.type === 'state' && (ev.state === 'queued' || ev.state === 'closed'));
}

/**
 * The help request open in a conversation whose timeline is `events` (any iterable, any order): the last
 * `help_requested` not followed by a `help_ended` nor by the chat leaving its agent. `asker`: only that agent's (the
 * desk asks about its own); left out, anyone's (the wallboard's watch panel). Returns {eventId, agentId, agentName,
 * text, ts} or null.
 */
export function openHelp(events, asker = null) {
  const list = Array.from(events || []).filter((e) => e && typeof e === 'object' && typeof e.id === 'string')
    .sort((a, b) => cmpId(a.id, b.id));
  let open = null;
  for (const ev of list) {
    if (ev.type === EventType.HELP_REQUESTED) {
      open = asker && ev.agent_id !== asker ? null : {
        eventId: ev.id,
        agentId: typeof ev.agent_id === 'string' ? ev.agent_id : '',
        agentName: typeof ev.agent_name === 'string' && ev.agent_name ? ev.agent_name : String(ev.agent_id || ''),
        text: typeof ev.text === 'string' ? ev.text.trim() : '',
        ts: Number(ev.ts) || 0,
      };
    } else if (ev.type === EventType.HELP_ENDED || leavesItsAgent(ev)) {
      open = null;
    }
  }
  return open;
}

/** The frame asking for help with conversation `cid`, with the agent's words (trimmed; none is fine). */
export function askFrame(cid, text) {
  return { type: ClientFrame.HELP, conversation_id: cid, active: true, text: String(text || '').trim() };
}

/** The frame ending the request open in `cid`: the agent's cancel, or a supervisor's "I'm on it". */
export function endFrame(cid) {
  return { type: ClientFrame.HELP, conversation_id: cid, active: false };
}

/** What is wrong with the words typed, or '' (the box's maxlength counts UTF-16 units: an emoji counts two there). */
export function helpTextProblem(text) {
  const n = codePoints(String(text || '').trim());
  return n > HELP_TEXT_MAX ? `At most ${HELP_TEXT_MAX} characters (${n} now).` : '';
}

/**
 * What a new event of the conversation means to agent `me` about their own request: 'asked' (theirs is open now),
 * 'answered' (a supervisor took it: `by` names them), 'cancelled' (they cancelled it), or null (nothing of theirs).
 */
export function helpNews(ev, me) {
  if (!ev || !me || ev.agent_id !== me) return null;
  if (ev.type === EventType.HELP_REQUESTED) return { kind: 'asked' };
  if (ev.type !== EventType.HELP_ENDED) return null;
  if (ev.reason === 'answered') {
    return { kind: 'answered', by: (typeof ev.by_name === 'string' && ev.by_name) || ev.by_id || 'A supervisor' };
  }
  return { kind: 'cancelled' };
}
