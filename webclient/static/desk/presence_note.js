// What the top bar tells an agent about their own status that the pill alone does not: why the gateway set them
// away (a missed or lost call: an agent coming back to the desk saw "Away" and never knew why), and that an
// available agent holding as many conversations as they can gets no new chat or call until they close one (an
// exploratory test: three finished calls left open, "Available", and no call rang for the rest of the shift).

import { awayWords } from '../shared/away_words.js';

// the reasons the gateway sets (an agent's own, such as a break, need no explaining), each with the whole story
const SET_AWAY = {
  missed_call: 'You missed a call, so you were set to Away.',
  declined_call: 'You declined a call, so you were set to Away.',
  call_lost: 'Your desk lost its connection during a call, so you were set to Away.',
  agent_absent: 'No desk of yours was open for a while, so you were set to Away.',
  set_by_supervisor: 'A supervisor set you to Away.',
};
const SHORT = { away: 'Set away', full: 'Full' }; // where the bar has no room for more (agent.css)

/** The note for `agent` (the `agent` frame's agent_info), or null: `{kind: 'away'|'full', text, short, title}`:
 * `text` short enough for a wide top bar, `short` for a narrow one, `title` the whole of it. `busy`: on a call, ringing or in after-call work (the pill
 * says so already). */
export function presenceNote(agent, { connected = true, busy = false } = {}) {
  if (!connected || !agent || busy) return null;
  if (agent.status === 'away') {
    if (!Object.prototype.hasOwnProperty.call(SET_AWAY, agent.away_reason)) return null; // their own choice
    return {
      kind: 'away',
      text: `Set away: ${awayWords(agent.away_reason)}`, // the words the wallboard uses
      short: SHORT.away,
      title: `${SET_AWAY[agent.away_reason]} Press Available when you are ready.`,
    };
  }
  const { active, capacity } = agent;
  if (agent.status === 'available' && typeof active === 'number' && typeof capacity === 'number' && capacity > 0
      && active >= capacity) {
    const all = capacity === 1 ? 'Your conversation is' : `All ${capacity} of your conversations are`;
    return {
      kind: 'full',
      text: 'Full: close a conversation for new work',
      short: SHORT.full,
      title: `${all} open: no new chat or call comes to you until you close one.`,
    };
  }
  return null;
}
