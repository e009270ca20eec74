// Which of a conversation's events say that this agent's leg of a call was lost (call_agent_lost): the desk ends
// its call on a new one, never on one from before it answered (the same call, lost once and answered again, was
// ended at once by the old event: an exploratory test could never take the call back).

/** The ids of the `call_agent_lost` events of call `callId` that are this agent's (`agentId`; events that name
 * no agent count for everyone, a call handed on to us may have lost another agent before), from `events` (an
 * iterable of timeline events with `id`, `type`, `call_id`, `agent_id`). */
export function agentLosses(events, callId, agentId) {
  const out = new Set();
  for (const ev of events || []) {
    if (ev.type !== 'call_agent_lost' || ev.call_id !== callId) continue;
    if (!agentId || !ev.agent_id || ev.agent_id === agentId) out.add(ev.id);
  }
  return out;
}
