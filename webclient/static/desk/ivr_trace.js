// The IVR / bot trace of a conversation, one session at a time (pure: no DOM; webclient/tests/ivr_trace.test.mjs).
//
// A session is the run of `ivr` steps of one channel (voice: the IVR of a call; chat: the bot) from its first step
// to the step that ends it (queued, hung up, an error) or to the end of its call. The desk shows each session as one
// line, "IVR: menu -> billing, account 4271 confirmed, queued for billing, 0:42", that expands to its steps; the
// events between the steps (messages, call events) stay in the timeline in their places.

const ENDS_SESSION = new Set(['queue', 'hangup', 'error']);
const ENDS_CALL = new Set(['call_started', 'call_ended']);

/** Events in id order -> { sessions: [{id, channel, steps, ended}], of: Map(step event id -> session id) }. */
export function traceSessions(events) {
  const sessions = [];
  const of = new Map();
  const open = new Map(); // channel -> the session still running on it
  for (const ev of events) {
    if (!ev) continue;
    if (ENDS_CALL.has(ev.type)) { // a call's IVR does not outlive its call
      const voice = open.get('voice');
      if (voice) { voice.ended = true; open.delete('voice'); }
      continue;
    }
    if (ev.type !== 'ivr') continue;
    const channel = ev.channel === 'chat' ? 'chat' : 'voice';
    let session = open.get(channel);
    if (!session) {
      session = { id: ev.id, channel, steps: [], ended: false };
      sessions.push(session);
      open.set(channel, session);
    }
    session.steps.push(ev);
    of.set(ev.id, session.id);
    if (ENDS_SESSION.has(ev.kind)) { session.ended = true; open.delete(channel); }
  }
  return { sessions, of };
}

function clock(ms) {
  const s = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One session in one line: the path taken, the answers given, how it ended, and how long it took. */
export function traceSummary(session) {
  const who = session.channel === 'chat' ? 'Bot' : 'IVR';
  const parts = [];
  let path = [];
  const flushPath = () => { if (path.length) parts.push(path.join(' -> ')); path = []; };
  const kinds = new Map();   // node -> its type (from the 'enter' steps)
  let confirmed = null;      // the node whose answer was just confirmed (its variable is then not repeated)
  let retries = 0;
  for (const step of session.steps) {
    const detail = step.detail == null ? '' : String(step.detail);
    switch (step.kind) {
      case 'enter': kinds.set(step.node, detail); break;
      case 'choice': { // "1 (Billing) -> billing"
        const m = /->\s*(\S+)\s*$/.exec(detail);
        if (!path.length) path.push(step.node);
        path.push(m ? m[1] : detail);
        break;
      }
      case 'confirm':
        if (/ confirmed$/.test(detail)) { flushPath(); parts.push(`${step.node} ${detail}`); confirmed = step.node; }
        break;
      case 'set': { // "account=4271", set by a gather's answer
        const eq = detail.indexOf('=');
        if (kinds.get(step.node) === 'gather' && confirmed !== step.node && eq > 0) {
          flushPath();
          parts.push(`${detail.slice(0, eq)} ${detail.slice(eq + 1)}`);
        }
        break;
      }
      case 'no_input': case 'no_match': retries += 1; break;
      case 'queue': flushPath(); parts.push(`queued for ${detail}`); break;
      case 'callback': flushPath(); parts.push('callback booked'); break;
      case 'hangup': flushPath(); parts.push(`hung up: ${detail.replace(/_/g, ' ')}`); break;
      case 'error': flushPath(); parts.push(`error: ${detail}`); break;
      default: break;
    }
  }
  flushPath();
  if (retries) parts.push(`${retries} ${retries === 1 ? 'retry' : 'retries'}`);
  const first = session.steps[0];
  const last = session.steps[session.steps.length - 1];
  parts.push(clock((last && last.ts) - (first && first.ts)));
  if (!session.ended) parts.push('in progress');
  return `${who}: ${parts.join(', ')}`;
}
