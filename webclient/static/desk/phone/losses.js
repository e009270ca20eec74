// Whether a conversation's events say that this agent's leg of a call was lost since they answered it: the desk ends
// its call on such a loss, never on one from before (the same call, lost once and answered again, was ended at
// once by the old event: an exploratory test could never take the call back). "Since" is the timeline's own order
// (stream ids): a loss after this agent's latest `call_answered` of the call, whenever the history arrived.

import { cmpId } from '../../shared/ids.js';

/** The ids of the `call_agent_lost` events of call `callId` for agent `agentId` (or naming no agent: a call handed on
 * to us may have lost another agent before) in `events` (timeline events with `id`, `type`, `call_id`, `agent_id`). */
export function lossIds(events, callId, agentId) {
  const out = new Set();
  for (const ev of events || []) {
    if (ev.type === 'call_agent_lost' && ev.call_id === callId && (!agentId || !ev.agent_id || ev.agent_id === agentId)) {
      out.add(ev.id);
    }
  }
  return out;
}

/** Whether `events` hold such a loss that comes after that agent's latest `call_answered` of the call (a loss always
 * follows the answer the gateway recorded when the leg connected) and is not one of `known` (the losses the desk
 * had seen when the agent accepted: the browser's side can connect a moment before the new answer is recorded). */
export function lostSinceAnswered(events, callId, agentId, known = new Set()) {
  let answered = null;
  for (const ev of events || []) {
    const mine = !agentId || !ev.agent_id || ev.agent_id === agentId;
    if (ev.call_id === callId && ev.type === 'call_answered' && mine && (answered === null || cmpId(ev.id, answered) > 0)) {
      answered = ev.id;
    }
  }
  if (answered === null) return false;
  return [...lossIds(events, callId, agentId)].some((id) => !known.has(id) && cmpId(id, answered) > 0);
}
