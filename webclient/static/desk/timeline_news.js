// What the desk says (a polite status region, not the timeline itself) when a message or a supervisor's coaching
// note arrives in the conversation on screen, and what counts as unread in one that is not (pure: no DOM;
// webclient/tests/timeline_news.test.mjs). The timeline is not a live region: it was read out whole on each
// conversation switch, and the agent's own reply twice (an accessibility test).

const CLIP = 300; // a long message: its start (the timeline has it all)

/** The words for a new event `ev` of the open conversation, or '' when it is not news: only messages and files
 * from the customer, the bot or another agent, and a supervisor's coaching note; not the agent's own (`myId`), nor
 * other notes or system lines. `name(ev)`: the author's name as the timeline says it. */
export function newsText(ev, myId, name) {
  if (coaching(ev, myId)) return `Coaching from ${ev.agent_name || 'a supervisor'}: ${clip(String(ev.text || '').trim())}`;
  if (!ev || (ev.type !== 'message' && ev.type !== 'attachment')) return '';
  if (ev.author === 'agent' && (!ev.agent_id || ev.agent_id === myId)) return '';
  if (!['customer', 'agent', 'bot'].includes(ev.author)) return '';
  const who = name(ev);
  if (ev.type === 'attachment') return `${who} sent a file${ev.name ? `: ${String(ev.name)}` : ''}`;
  const text = String(ev.text || '').trim();
  if (!text) return '';
  return `${who}: ${clip(text)}`;
}

function clip(text) {
  return text.length > CLIP ? `${text.slice(0, CLIP)}…` : text;
}

/** A supervisor's note to the agent (coaching), not the agent's own. */
function coaching(ev, myId) {
  return !!ev && ev.type === 'note' && !!ev.supervisor && ev.agent_id !== myId;
}

/** Whether a new event counts as unread in a conversation the agent is not looking at: what the customer sent,
 * and what a supervisor wrote in it (a coaching note, a message of one who joined the chat), never the agent's own. */
export function countsUnread(ev, myId) {
  if (!ev || (ev.type !== 'message' && ev.type !== 'attachment' && ev.type !== 'note')) return false;
  if (ev.author === 'customer') return ev.type !== 'note';
  return !!ev.supervisor && ev.agent_id !== myId;
}
