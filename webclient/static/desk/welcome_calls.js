// The calls a (re)opened desk is told of in its welcome, marked on its conversations (pure: no DOM;
// webclient/tests/welcome_calls.test.mjs).

/** `calls`: the welcome's list of what rings for this agent or is connected to them. A conversation among them has
 * its call marked at once, so that its Close waits for the call's end (a desk reloaded mid-call offered Close until
 * the first call status came: an exploratory test), also when the reload dropped the agent's leg and the caller
 * holds for this desk to come back (`rejoin`: the gateway lists it `waiting`); a call this desk showed as ringing
 * or connected that is not among them any more ended while the socket was away. */
export function takeWelcomeCalls(convs, calls) {
  const ours = new Map();
  for (const c of calls) {
    if (c && typeof c.conversation_id === 'string' && typeof c.status === 'string') ours.set(c.conversation_id, c);
  }
  for (const conv of convs) {
    const c = ours.get(conv.id);
    if (c && c.rejoin === true) conv.call = { id: c.call_id, status: 'connected', reason: 'agent_reconnecting' };
    else if (c) conv.call = { id: c.call_id, status: c.status, reason: c.held ? 'held' : '' };
    else if (conv.call && (conv.call.status === 'ringing' || conv.call.status === 'connected')) {
      conv.call = { id: conv.call.id, status: 'ended', reason: '' };
    }
  }
}
