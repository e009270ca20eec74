// "End chat", as rules: when the widget offers it, which error frame answers it, what a conversation's "closed" line
// says and whether the rating question follows it. Pure (no DOM): end_chat.js draws the button and its confirmation,
// timeline.js and rating.js read the rest. Unit tests: webclient/tests/widget_end_chat.test.mjs.

import { ConversationState, ErrorCode } from '../shared/protocol.js';

const CUSTOMER_ENDED = 'customer_ended';   // gateway/contact/chat_end.py: the customer pressed "End chat"
const ABANDONED = 'abandoned';             // ... or had no widget open while the chat waited (gone_customers.py)

/** May the customer end the conversation now: there is one, it is not closed, the socket is connected (the frame
 *  goes now or not at all) and no call is live (the gateway refuses it then: hang up first). */
export function endChatAllowed({ conversationId, state, connected, callLive }) {
  return !!conversationId && state !== ConversationState.CLOSED && !!connected && !callLive;
}

/** Is this error frame the gateway's answer to our end_chat (sent while one waits for its answer): a call of it is in
 *  progress, the conversation id is refused (not_found, forbidden, changed meanwhile), or the store was down. Error
 *  frames about a message (client_id) or a call (call_id) are not. */
export function answersEndChat(f) {
  if (!f || typeof f !== 'object') return false;
  if (f.code === ErrorCode.CALL_IN_PROGRESS || f.field === 'conversation_id') return true;
  return f.code === ErrorCode.STORE_UNAVAILABLE && !f.client_id && !f.call_id;
}

/** Was the conversation still waiting for an agent when it closed (the gateway's closed event then says how long)? */
export function closedWhileWaiting(ev) {
  return !!ev && typeof ev === 'object' && 'queued_wait_ms' in ev;
}

/** Which of config.js's TEXT says a conversation's "closed" line: the customer ended it; it waited while they were
 *  away (not a caller who hung up in the queue: that is a call's end); or closed, by whoever. */
export function closedLineKey(ev) {
  const d = ev && typeof ev === 'object' ? ev.disposition : '';
  if (d === CUSTOMER_ENDED) return 'closedByYou';
  if (d === ABANDONED && closedWhileWaiting(ev) && !ev.voice) return 'closedAway';
  return 'closedLine';
}

/** Ask for a rating under this "closed" line? Not when it closed while still waiting: nobody served them. */
export function ratingOffered(ev) {
  return !closedWhileWaiting(ev);
}
