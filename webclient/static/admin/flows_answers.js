// Which flow answers new calls and new chats (PUT /api/admin/flows/answers/{entry}): the buttons beside Publish
// of the open flow. Admins choose; a confirm says what changes (only NEW calls or chats, on every node; those in
// progress keep their flow). A flow with no published version is refused by the gateway, which says why.

import { F, call } from './flows_state.js';
import { answerConfirmText, answeredText } from './flows_model.js';

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
    button.disabled = answers;
    button.title = answers
      ? `New ${entry} start in this flow`
      : `Make new ${entry} start in this flow (only a published flow may answer)`;
  }
}

async function choose(entry) {
  const name = F.name;
  if (!name || !window.confirm(answerConfirmText(name, entry, F.answers))) return;
  const r = await call(`/api/admin/flows/answers/${entry}`, { method: 'PUT', body: { flow: name } });
  if (!r.ok) { hooks.status(`Not changed: ${r.body.message}`, true); return; }
  F.answers = r.body.answers;
  hooks.changed();
  renderAnswers();
  hooks.status(answeredText(name, entry, r.body.previous));
}

/** `status(message, bad)`: the page's status line; `changed()`: redraw what shows which flow answers what. */
export function initAnswers(given) {
  hooks = given;
  for (const entry of ENTRIES) $(`fe-answer-${entry}`).addEventListener('click', () => choose(entry));
}
