// What the ringing banner tells about the caller (pure: no DOM; webclient/tests/ring_path.test.mjs): the IVR
// steps of the current call, the queue, and what the customer last wrote. Steps are lines of parts
// (desk/event_text.js): what the customer said or typed is drawn isolated.

import { line, user } from '../event_text.js';
import { nameOf } from '../state.js';

const CLIP = 80;
const AFTER_HANDOVER = new Set(['call_answered', 'call_missed', 'call_agent_lost']);

function clipped(text) {
  const s = String(text);
  return s.length > CLIP ? `${s.slice(0, CLIP - 1)}…` : s;
}

/** The customer's last chat message among `events` (in order): its text, '' when they wrote none. */
export function customerLastMessage(events) {
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i];
    if (ev && ev.type === 'message' && ev.author === 'customer' && typeof ev.text === 'string' && ev.text) return ev.text;
  }
  return '';
}

/** "Transferred by Ann to queue billing" / "Handed over by Ann" (a warm transfer, to the agent it rings). */
function transferred(ev) {
  const by = user(nameOf(ev.agent_id) || ev.agent_id || 'an agent');
  if (ev.warm) return line`Handed over by ${by}`;
  if (ev.to_queue) return line`Transferred by ${by} to queue ${user(ev.to_queue)}`;
  return line`Transferred by ${by} to ${user(nameOf(ev.to_agent_id) || ev.to_agent_id || 'an agent')}`;
}

/** IVR steps that end a read-back without a yes or no (the question is asked again, or given up). */
const READBACK_ENDS = new Set(['no_input', 'no_match', 'fallback', 'enter']);

/** How a caller answered (an IVR 'input' step's detail: "digits 2", "speech 'support' (0.91)", "text 'hi'"). */
export function answerOf(detail) {
  const d = String(detail == null ? '' : detail);
  const m = /^(speech|text) (['"])(.*?)\2(?: .*)?$/.exec(d);
  if (m) return { how: m[1], text: m[3] };
  return { how: /^digits /.test(d) ? 'digits' : 'other', text: '' };
}

/** A menu choice as it happened: "Said “support”: Support -> sales" for a spoken answer ("Chose 2 (Support)" made
 * the agent think the caller pressed 2: a user test), "Typed …" for a typed one, "Chose 2 (Support) -> sales" for
 * keys. `detail`: the choice step's "2 (Support) -> sales". */
function choiceLine(answer, detail) {
  if (!answer || !answer.text) return line`Chose ${user(detail)}`;
  const m = /^\S+ \((.*)\)( -> .*)?$/.exec(detail); // the key is not what they did: the label and where it went
  const what = m ? `${m[1]}${m[2] || ''}` : detail;
  return answer.how === 'speech' ? line`Said “${user(answer.text)}”: ${user(what)}`
    : line`Typed “${user(answer.text)}”: ${user(what)}`;
}

/** The banner's steps for a call into the conversation of `events` (sorted by time) and `summary`. */
export function ringPath(events, summary) {
  let steps = [];
  const answers = new Map(); // node -> how the caller answered its menu last ({how, text}): spoken, typed, keys
  const confirming = new Set(); // nodes reading an answer back: the next input is the yes or no
  let transfer = null; // the last transfer that still says where the call comes from
  for (const ev of events) {
    if (ev.type === 'call_started') {
      steps = [];
      transfer = null;
    }
    if (ev.type === 'state' && ev.state === 'queued' && ev.from_queue && ev.queue && ev.from_queue !== ev.queue) {
      // moved to another queue while it waited (an overflow): the queue it comes from now (the banner said the
      // IVR's "Queue: sales" for a call in vip: an exploratory test)
      steps = steps.filter((st) => !st.queue);
      steps.push({ node: '', queue: true, parts: line`Queue: ${user(ev.queue)} (moved from ${user(ev.from_queue)}${
        String(ev.reason || '').startsWith('max_wait') ? ': waited too long' : ''})` });
      transfer = null;
      continue;
    }
    if (ev.type === 'call_transferred') transfer = ev;
    // a call handed to a colleague who missed it, lost it or took it went back to its queue: not "to Bob" any more
    else if (transfer && !transfer.to_queue && AFTER_HANDOVER.has(ev.type)) transfer = null;
    if (ev.type !== 'ivr') continue;
    const detail = user(ev.detail == null ? '' : String(ev.detail));
    if (ev.kind === 'confirm' && ev.node) { // "Sales?" reads an answer back; "Sales rejected" / "… confirmed" ends it
      if (/\?$/.test(String(ev.detail || ''))) confirming.add(ev.node);
      else confirming.delete(ev.node);
    } else if (ev.node && READBACK_ENDS.has(ev.kind)) confirming.delete(ev.node); // no yes or no: asked again
    if (ev.kind === 'choice') {
      steps = steps.filter((st) => st.node !== ev.node); // the choice says what the keys meant
      steps.push({ node: ev.node, parts: choiceLine(answers.get(ev.node), String(ev.detail == null ? '' : ev.detail)) });
      answers.delete(ev.node);
      confirming.delete(ev.node);
    } else if (ev.kind === 'input' && ev.node) {
      // the yes or no to a read-back is not the answer (and only one input answers it: after a "no" the caller
      // says the menu answer again, "support", which is what the choice then means: a review saw "Said “sales”")
      if (confirming.has(ev.node)) confirming.delete(ev.node);
      else answers.set(ev.node, answerOf(ev.detail));
      steps.push({ node: ev.node, parts: line`${user(ev.node)}: ${detail}` });
    } else if (ev.kind === 'queue') {
      steps.push({ node: ev.node, queue: true, parts: line`Queue: ${detail}` });
    }
  }
  // a transfer says where the call comes from now, instead of the queue the IVR chose
  if (transfer) steps = [...steps.filter((st) => !st.queue), { node: '', parts: transferred(transfer) }];
  steps = steps.map((st) => st.parts);
  // A chat customer's call: what they last wrote is the context (the summary's last text may be the agent's own
  // reply, "Sure, press the phone button", a user test). The summary only when the desk holds no messages yet.
  const theirs = customerLastMessage(events);
  const held = events.some((ev) => ev && ev.type === 'message');
  const last = summary && summary.last_text;
  if (theirs) steps.push(line`Customer's last message: “${user(clipped(theirs))}”`);
  else if (!held && last) steps.push(line`Last message: “${user(clipped(last))}”`);
  return steps;
}
