// Why an agent is away, in words (the wallboard's agents and the agent's own desk): the reasons the gateway sets
// (gateway/contact/presence.py's callers: a missed call, a lost desk...) and those an agent's status frame gave.

export const AWAY_WORDS = {
  missed_call: 'missed a call',
  declined_call: 'declined a call',
  call_lost: 'lost the connection during a call',
  agent_absent: 'no desk open',
  agent_logged_out: 'logged out',
  agent_disabled: 'disabled by an admin',
  set_by_supervisor: 'by a supervisor',
  break: 'on a break',
};

/** The words for an away reason: its own words when known, else the reason with spaces ('' for none). */
export function awayWords(reason) {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (!r) return '';
  return Object.prototype.hasOwnProperty.call(AWAY_WORDS, r) ? AWAY_WORDS[r] : r.replace(/_/g, ' ');
}
