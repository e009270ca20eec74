// Which flow answers new calls and new chats (PUT /api/admin/flows/answers/{entry}): the buttons beside Publish
// of the open flow. Admins choose; a confirm says what changes (only NEW calls or chats, on every node; those in
// progress keep their flow). A flow with no published version is refused by the gateway, which says why. The
// chats button of the flow that answers chats takes it off again (new chats then go straight to the agents);
// calls always need a flow, so the calls button of the flow that answers them is off.

import { F, call } from './flows_state.js';
import { answerConfirmText, answeredText, takeOffConfirmText, takenOffText } from './flows_model.js';

const $ = (id) => document.getElementById(id);
const ENTRIES = ['calls', 'chats'];

let hooks = { status: () => {}, changed: () => {} };

/** Show the buttons for the open flow: pressed (and off) for what it answers already; hidden for a supervisor. */
export function renderAnswers() {
  $('fe-answers').hidden = !F.admin || !F.name;
  for (const entry of ENTRIES) {
    const button = $(`fe-answer-${entry}`);
    const answers = Boolean(F.answers && F.answers[entry] === F.name);
    button.textContent = answers ? `Answers ${entry}` : `Answer ${entry}`;
    button.setAttribute('aria-pressed', answers ? 'true' : 'false');
    button.disabled = answers && entry === 'calls';
    if (!answers) button.title = `Make new ${entry} start in this flow (only a published flow may answer)`;
    else if (entry === 'calls') button.title = 'New calls start in this flow; to change that, make another answer them';
    else button.title = 'New chats start in this flow: press to take it off (new chats then go straight to agents)';
  }
}

async function choose(entry) {
  const name = F.name;
  if (!name) return;
  const takeOff = entry === 'chats' && F.answers && F.answers.chats === name;
  if (!window.confirm(takeOff ? takeOffConfirmText(name) : answerConfirmText(name, entry, F.answers))) return;
  // taking a flow off says which one: if another admin made another flow answer meanwhile, it is refused (409)
  const body = takeOff ? { flow: null, replacing: name } : { flow: name };
  const r = await call(`/api/admin/flows/answers/${entry}`, { method: 'PUT', body });
  if (!r.ok) {
    hooks.status(`Not changed: ${r.body.message}${r.status === 409 ? ' (reload the page to see what answers)' : ''}`, true);
    return;
  }
  F.answers = r.body.answers;
  hooks.changed();
  renderAnswers();
  hooks.status(takeOff ? takenOffText(r.body.previous) : answeredText(name, entry, r.body.previous));
}

/** `status(message, bad)`: the page's status line; `changed()`: redraw what shows which flow answers what. */
export function initAnswers(given) {
  hooks = given;
  for (const entry of ENTRIES) $(`fe-answer-${entry}`).addEventListener('click', () => choose(entry));
}
