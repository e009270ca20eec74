// Supervisors acting on an agent from the wallboard, the pure part (no DOM; webclient/tests/wallboard_agent_actions.
// test.mjs): which of Set away, Set available and Sign out… an agent's row offers, and every sentence the actions
// say (the confirmation, what is being done, the result, a refusal).
//
// The gateway decides (gateway/wire/supervisor_routes.py: away at once; available only with a desk open; no sign-out
// during a call): these rules only choose what to offer from the wallboard frame's row, so a refusal is rare, and
// said in the gateway's words when it comes. A row's `state` is the board's (available, busy, wrap_up, away), not
// the agent's own status: an agent on a call or in after-call work may be either available or away.

import { isolate } from '../shared/text.js';

/** The three actions, as the POST they make: `status` sets {status}, `logout` signs out. */
export const ACTIONS = {
  away: { path: 'status', body: { status: 'away' }, label: 'Set away' },
  available: { path: 'status', body: { status: 'available' }, label: 'Set available' },
  signOut: { path: 'logout', body: undefined, label: 'Sign out…' },
};

/** The POST of action `kind` on agent `id`: {path, body}. */
export function request(kind, id) {
  const a = ACTIONS[kind];
  return { path: `/api/supervisor/agents/${encodeURIComponent(id)}/${a.path}`, body: a.body };
}

/** Is the agent (a wallboard row) on a call that signing out would cut: connected, or waiting for their desk to
 * come back (a call only ringing for them goes on to the next agent). */
export function onCall(agent) {
  const call = agent && agent.call;
  return !!call && (call.status !== 'ringing' || !!call.reconnecting);
}

/**
 * What the row of `agent` offers the supervisor `me` (their agent id): {away, available, signOut, blocked}.
 * - away: unless the board shows them away already;
 * - available: unless the board shows them available, or busy with chats only (both mean their status is available);
 *   on a call or in after-call work the board does not say, so both are offered;
 * - signOut: for anyone but the supervisor themselves (their Log out button does that); `blocked`: why it cannot be
 *   done now (on a call), '' otherwise.
 */
export function offers(agent, me) {
  const state = agent && agent.state;
  const name = agentName(agent);
  const statusAvailable = state === 'available' || (state === 'busy' && !agent.call);
  const self = !!me && !!agent && agent.id === me;
  return {
    away: state !== 'away',
    available: !statusAvailable,
    signOut: !self,
    blocked: !self && onCall(agent)
      ? `${isolate(name)} is on a call: signing out now would cut the caller off. Set them away (no new chat or call `
        + 'comes to them), and sign them out when the call ends.'
      : '',
  };
}

/** The name the row shows (the id when it has none). */
export function agentName(agent) {
  const a = agent || {};
  return typeof a.name === 'string' && a.name.trim() ? a.name.trim() : String(a.id || 'This agent');
}

/** The row's button's name: "Actions for Alice Smith". */
export function actionsLabel(agent) {
  return `Actions for ${isolate(agentName(agent))}`;
}

function chats(n) {
  return n === 1 ? 'chat' : 'chats';
}

/** What signing `agent` out does, said before it is done: their desk closes, they are set away, their chats (the
 * row's count) go back to the queue, a call ringing for them goes on. */
export function signOutText(agent) {
  const name = isolate(agentName(agent));
  const n = Math.max(0, Number(agent && agent.conversations) || 0);
  const held = n === 0 ? 'they have no chat to hand back'
    : n === 1 ? 'their chat goes back to the queue' : `their ${n} chats go back to the queue`;
  const ringing = agent && agent.call && agent.call.status === 'ringing' && !onCall(agent)
    ? ' The call ringing for them goes on to the next agent.' : '';
  return `${name}’s desk closes and shows the sign-in, and they are set away; ${held}.${ringing}`;
}

/** The words while action `kind` on `agent` waits for the gateway. */
export function pendingText(kind, agent) {
  const name = isolate(agentName(agent));
  if (kind === 'away') return `Setting ${name} away…`;
  if (kind === 'available') return `Making ${name} available…`;
  return `Signing ${name} out…`;
}

/**
 * The result of action `kind` on `agent` (the row as it was), from the gateway's `answer`: the agent's presence
 * ({status, active, activity, ...}) after a status change, {status: 'signed_out', sessions, requeued} after a sign-out.
 */
export function resultText(kind, agent, answer) {
  const name = isolate(agentName(agent));
  const a = answer && typeof answer === 'object' ? answer : {};
  if (kind === 'signOut') {
    const n = Math.max(0, Number(a.requeued) || 0);
    const back = n === 0 ? 'they had no chat to hand back' : `${n} ${chats(n)} went back to the queue`;
    if (Number(a.sessions) === 0) return `${name} had no session open any more: they are set away, and ${back}.`;
    return `${name} is signed out and set away: ${back}.`;
  }
  if (a.status === 'available') return `${name} is available now: the next chat or call can go to them.`;
  if (a.status === 'away') {
    const call = a.activity === 'on_call' || onCall(agent) ? ' The call they are on goes on.' : '';
    return `${name} is away now: no new chat or call comes to them.${call}`;
  }
  return `${name} is ${String(a.status || kind).replace(/_/g, ' ')} now.`;
}

/** A refusal of action `kind` on `agent`, in words: the gateway's message (it names why), or why it did not answer.
 * `err`: the Error desk/api.js throws (status, code, message), or a network failure (no status). */
export function refusalText(kind, agent, err) {
  const name = isolate(agentName(agent));
  const what = kind === 'away' ? `set ${name} away` : kind === 'available' ? `make ${name} available`
    : `sign ${name} out`;
  const e = err || {};
  if (!e.status) return `Could not ${what}: the gateway did not answer. Check the connection and try again.`;
  if (e.status === 403) return `Could not ${what}: only supervisors and admins can do that.`;
  if (e.code === 'store_unavailable') return `Could not ${what}: the gateway could not store it just now. Try again in a moment.`;
  const message = typeof e.message === 'string' && e.message && !/^HTTP \d+$/.test(e.message) ? e.message : '';
  return `Could not ${what}: ${message || `refused (HTTP ${e.status})`}.`.replace(/([.!?])\.$/, '$1');
}

/** The row's facts as one line, for the dialog: "Away — by a supervisor · 1 / 2 chats · on a call". */
export function factsText(agent, stateWords) {
  const a = agent || {};
  const parts = [stateWords];
  if (typeof a.conversations === 'number') {
    parts.push(`${a.conversations} / ${a.capacity ?? '?'} ${chats(a.capacity)}`);
  }
  if (a.call) {
    parts.push(a.call.reconnecting ? 'their call waits for their desk to come back'
      : a.call.status === 'ringing' ? 'a call rings for them' : 'on a call');
  }
  return parts.filter(Boolean).join(' · ');
}
