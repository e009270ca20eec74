// Supervisors act on an agent from the wallboard (gateway/wire/supervisor_routes.py): each row of the Agents table
// has an "Actions" button (named for the agent: "Actions for Alice Smith") that opens a small modal dialog with Set
// away, Set available (when the row does not show them available already) and Sign out… (a confirmation that says
// what happens first). What the row offers and every sentence: wallboard_agent_rules.js.
//
// Done: the dialog closes, the focus goes back to the row's button (to the Agents table when the row went: a signed-
// out agent leaves the board), and the result is said in words by the line beside the Agents heading (a polite
// status). Refused: said in the dialog (a polite status too), which stays open for another try. The large mode (a
// wall display nobody clicks) hides the buttons and that line (wallboard_agent_actions.css).

import { api } from '../desk/api.js';
import { refreshToken } from '../desk/auth.js';
import { h } from '../desk/dom.js';
import { S } from '../desk/state.js';
import { focusFirst, focusLost, setPending } from '../shared/focus.js';
import { isolate } from '../shared/text.js';
import { back } from './wallboard_chats.js';
import { stateText } from './wallboard_format.js';
import {
  ACTIONS, actionsLabel, agentName, factsText, offers, pendingText, refusalText, request, resultText, signOutText,
} from './wallboard_agent_rules.js';

const SAID_MS = 20000; // how long a result stays beside the Agents heading (it goes stale: the row says what is now)

const A = {
  agents: new Map(), // id -> the last wallboard frame's row
  agentId: null,     // the agent the dialog is about
  name: '',          // their name, as the board last showed it
  opener: null,      // the row's Actions button it was opened from
  region: null,      // the Agents table (the focus when the button went)
  step: 'choose',    // 'choose' or 'confirm' (Sign out…)
  pending: null,     // {kind, agentId} while a POST waits for its answer
  saidTimer: null,
  ui: null,
};

const me = () => (S.agent && S.agent.id) || '';

// ------------------------------------------------------------ the rows

/** The Actions cell of `agent`'s row (called by the board on every frame): its button made once and kept, so the
 * focus on it stays while the row is updated. */
export function actionsCell(td, agent) {
  let b = td.querySelector('button.wb-agent-act');
  if (!b) {
    b = h('button', { type: 'button', class: 'btn small wb-agent-act', 'data-testid': 'wb-agent-actions',
      'aria-haspopup': 'dialog', title: 'Actions: set away or available, sign out', text: '⋯' });
    b.addEventListener('click', () => openActions(b.dataset.agent, b));
    td.replaceChildren(b);
  }
  b.dataset.agent = agent.id;
  const label = actionsLabel(agent);
  if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
}

/** A wallboard frame came: the rows it has; the open dialog follows what its agent is now. */
export function onAgents(frame) {
  A.agents = new Map((Array.isArray(frame && frame.agents) ? frame.agents : []).map((a) => [a.id, a]));
  if (A.ui && A.ui.dialog.open) render();
}

// ------------------------------------------------------------ the dialog

function ensure() {
  if (A.ui) return A.ui;
  const title = h('h2', { id: 'wba-title', 'data-testid': 'wb-agent-title', dir: 'auto' });
  const close = h('button', { type: 'button', class: 'btn small', 'data-testid': 'wb-agent-close', text: 'Close' });
  const facts = h('p', { id: 'wba-facts', class: 'wba-facts', 'data-testid': 'wb-agent-facts' });
  const action = (kind, extra = {}) => h('button', { type: 'button', class: 'btn small',
    'data-testid': `wb-agent-${kind}`, text: ACTIONS[kind].label, ...extra });
  const away = action('away');
  const available = action('available');
  const signOut = action('signOut', { class: 'btn small danger', 'data-testid': 'wb-agent-signout' });
  const choose = h('div', { class: 'wba-choose', 'data-testid': 'wb-agent-choose' }, away, available, signOut);
  const confirmText = h('p', { id: 'wba-confirm-text', class: 'wba-confirm-text', 'data-testid': 'wb-agent-confirm-text' });
  const go = h('button', { type: 'button', class: 'btn small danger', 'data-testid': 'wb-agent-signout-go',
    'aria-describedby': 'wba-confirm-text' });
  const cancel = h('button', { type: 'button', class: 'btn small', 'data-testid': 'wb-agent-signout-cancel',
    'aria-describedby': 'wba-confirm-text' });
  const confirmTitle = h('h3', { id: 'wba-confirm-title', class: 'wba-confirm-title',
    'data-testid': 'wb-agent-confirm-title' });
  const confirm = h('div', { class: 'wba-confirm', 'data-testid': 'wb-agent-confirm', role: 'group',
    'aria-labelledby': 'wba-confirm-title', hidden: true },
  confirmTitle, confirmText, h('div', { class: 'wba-bar' }, go, cancel));
  const status = h('p', { class: 'wba-status', role: 'status', 'data-testid': 'wb-agent-status' });
  const dialog = h('dialog', { class: 'wba', 'data-testid': 'wb-agent-dialog', 'aria-labelledby': 'wba-title',
    'aria-describedby': 'wba-facts' },
  h('header', { class: 'wba-head' }, title, close), facts, choose, confirm, status);

  close.addEventListener('click', () => dialog.close());
  away.addEventListener('click', () => act('away', away));
  available.addEventListener('click', () => act('available', available));
  signOut.addEventListener('click', () => {
    A.step = 'confirm';
    status.textContent = '';
    render();
    focusFirst([cancel]); // the safe choice first; Shift+Tab reaches the sign-out, both described by what it does
  });
  go.addEventListener('click', () => act('signOut', go));
  cancel.addEventListener('click', () => toChoose());
  confirm.addEventListener('keydown', (e) => { // Esc in the confirmation: back to the choices, not out of the dialog
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      toChoose();
    }
  });
  dialog.addEventListener('close', () => {
    A.step = 'choose';
    back(A.opener, A.region);
  });
  document.body.append(dialog);
  A.ui = { dialog, title, close, facts, choose, away, available, signOut, confirm, confirmTitle, confirmText, go,
    cancel, status };
  return A.ui;
}

/** Open the actions of agent `id` (a row's button, `opener`). */
export function openActions(id, opener) {
  const ui = ensure();
  ui.status.textContent = ''; // (a refusal said before is no news now)
  Object.assign(A, { agentId: id, name: '', opener: opener || null,
    region: opener ? opener.closest('[role=region]') : null, step: 'choose' });
  render();
  if (!ui.dialog.open) ui.dialog.showModal();
  focusFirst([ui.away, ui.available, ui.signOut, ui.close]);
}

/** Close the dialog (signed out of the wallboard). */
export function closeActions() {
  if (A.ui && A.ui.dialog.open) A.ui.dialog.close();
}

function toChoose() {
  A.step = 'choose';
  render();
  focusFirst([A.ui.signOut, A.ui.away, A.ui.available, A.ui.close]);
}

/** The dialog from its agent's row as the last frame has it (the agent may have changed meanwhile, or left). */
function render() {
  const ui = A.ui;
  const agent = A.agents.get(A.agentId) || null;
  const had = ui.dialog.contains(document.activeElement);
  if (agent) A.name = agentName(agent);
  const name = A.name || A.agentId;
  ui.title.textContent = name;
  ui.dialog.dataset.agent = A.agentId || '';
  if (!agent) {
    ui.facts.textContent = `${isolate(name)} is not on the board any more: no desk of theirs is open.`;
    ui.choose.hidden = true;
    ui.confirm.hidden = true;
  } else {
    ui.facts.textContent = factsText(agent, stateText(agent.state, agent.away_reason, S.awayLabels));
    const may = offers(agent, me());
    if (!may.signOut && A.step === 'confirm') A.step = 'choose';
    ui.choose.hidden = A.step !== 'choose';
    ui.confirm.hidden = A.step !== 'confirm';
    ui.away.hidden = !may.away;
    ui.available.hidden = !may.available;
    ui.signOut.hidden = !may.signOut;
    ui.confirm.dataset.blocked = String(!!may.blocked);
    ui.go.hidden = !!may.blocked;
    ui.go.textContent = `Sign ${isolate(name)} out`;
    ui.cancel.textContent = may.blocked ? 'Back' : 'Cancel';
    ui.confirmText.textContent = may.blocked || signOutText(agent);
    ui.confirmTitle.textContent = may.blocked ? `${isolate(name)} cannot be signed out now` : `Sign ${isolate(name)} out?`;
  }
  // a control that had the focus went (the agent changed, or left the board): not to <body>
  if (had && focusLost(document.activeElement)) {
    focusFirst(A.step === 'confirm' ? [ui.cancel, ui.go, ui.close] : [ui.away, ui.available, ui.signOut, ui.close]);
  }
}

// ------------------------------------------------------------ acting

/** POST with the session's token: an expired one is refreshed once (a refused session signs the page out). */
async function post(path, body) {
  try {
    return await api(path, { method: 'POST', body });
  } catch (err) {
    if (err.status !== 401 || !(await refreshToken())) throw err;
    return api(path, { method: 'POST', body });
  }
}

/** Do `kind` to the dialog's agent (its `button` waits meanwhile); one action at a time. */
async function act(kind, button) {
  const ui = A.ui;
  const agent = A.agents.get(A.agentId);
  if (!agent || button.getAttribute('aria-disabled') === 'true') return;
  if (A.pending) { // (another agent's, asked before the dialog moved on)
    ui.status.textContent = 'Wait a moment: the gateway has not answered the last one yet.';
    return;
  }
  A.pending = { kind, agentId: agent.id };
  setPending(button, true);
  ui.status.textContent = pendingText(kind, agent);
  const { path, body } = request(kind, agent.id);
  let answer = null;
  let failure = null;
  try {
    answer = await post(path, body);
  } catch (err) {
    failure = err;
  }
  A.pending = null;
  setPending(button, false);
  const here = ui.dialog.open && A.agentId === agent.id; // (the dialog may have closed, or moved to another agent)
  if (failure) {
    const text = refusalText(kind, agent, failure);
    if (here) ui.status.textContent = text;
    else say(text);
    return;
  }
  say(resultText(kind, agent, answer));
  if (here) {
    ui.status.textContent = '';
    ui.dialog.close(); // the focus back to the row's button (or the table, once the row is gone)
  }
}

/** A result beside the Agents heading, for a while. */
function say(text) {
  const line = document.getElementById('wb-agents-said');
  if (!line) return;
  clearTimeout(A.saidTimer);
  line.textContent = line.textContent === text ? `${text}\u00a0` : text; // the same words again are still news
  A.saidTimer = setTimeout(() => { line.textContent = ''; }, SAID_MS);
}
