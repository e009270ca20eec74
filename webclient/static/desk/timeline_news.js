// What the desk says (a polite status region, not the timeline itself) when a message arrives in the conversation
// on screen (pure: no DOM; webclient/tests/timeline_news.test.mjs). The timeline is not a live region: it was
// read out whole on each conversation switch, and the agent's own reply twice (an accessibility test).

const CLIP = 300; // a long message: its start (the timeline has it all)

/** The words for a new event `ev` of the open conversation, or '' when it is not news: only messages and files
 * from the customer, the bot or another agent; not the agent's own (`myId`), nor notes or system lines.
 * `name(ev)`: the author's name as the timeline says it. */
export function newsText(ev, myId, name) {
  if (!ev || (ev.type !== 'message' && ev.type !== 'attachment')) return '';
  if (ev.author === 'agent' && (!ev.agent_id || ev.agent_id === myId)) return '';
  if (!['customer', 'agent', 'bot'].includes(ev.author)) return '';
  const who = name(ev);
  if (ev.type === 'attachment') return `${who} sent a file${ev.name ? `: ${String(ev.name)}` : ''}`;
  const text = String(ev.text || '').trim();
  if (!text) return '';
  return `${who}: ${text.length > CLIP ? `${text.slice(0, CLIP)}…` : text}`;
}
