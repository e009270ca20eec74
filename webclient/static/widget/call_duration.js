// How long the call bar says a call lasted: the same number as the conversation's "Call ended · 0:05" line. Once
// the gateway's call_ended event named the call's duration, that (the timeline shows it), else the time since the
// media connected; both written by shared/text.js callTimeText. Pure. Unit tests: webclient/tests/widget_call_duration.test.mjs.

/** The call's duration in ms to show, or null to show none: c = {status, connectedAt, endedAt, serverMs} (serverMs:
 * the gateway's duration_ms, once known; 0 or less shows none, as the timeline's "Call ended" then). */
export function callDuration(c, now) {
  if (!c) return null;
  if (c.status === 'ended' && typeof c.serverMs === 'number') return c.serverMs > 0 ? c.serverMs : null;
  if (!c.connectedAt) return null;
  const end = c.status === 'ended' ? c.endedAt : now;
  return Math.max(0, end - c.connectedAt);
}
