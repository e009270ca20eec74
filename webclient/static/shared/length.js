// How long a message may be, counted as the gateway counts it (code points: gateway/protocol/client.py takes
// len() of the text), and what the writer (a customer in the widget, an agent in the desk) is told near and over
// the limit, before anything is sent.

import { MAX_TEXT_CHARS } from '../shared/protocol.js';
import { codePoints } from '../shared/text.js';

export const NEAR_LIMIT = 500;   // the counter shows once a message is this close to the limit

/** The note under the message box for this text: '' (nothing to say), a counter near the limit, or why it cannot
 * go (over: true, the send is refused and the text stays in the box). */
export function lengthNote(text, max = MAX_TEXT_CHARS) {
  const n = codePoints(String(text == null ? '' : text));
  if (n > max) {
    return { over: true, text: `Your message is ${n} characters; the limit is ${max} — shorten it or send it in parts.` };
  }
  if (n > max - NEAR_LIMIT) return { over: false, text: `${n} / ${max} characters` };
  return { over: false, text: '' };
}
