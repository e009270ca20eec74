// A new flow (admins): a name checked like the server checks it (flows_model.flowNameProblem), a starter text
// (flows_model.starterFlow) saved as the flow's first version (POST /api/admin/flows/NAME/versions with parent '');
// and what the page says when its address names a flow that does not exist (never another flow in its place).

import { F, call, flowPath } from './flows_state.js';
import { flowNameProblem, starterFlow } from './flows_model.js';

const $ = (id) => document.getElementById(id);
const nw = { created: null };

/** `created(name)`: the flow now exists (the page lists and opens it). */
export function initNewFlow({ created }) {
  nw.created = created;
  $('fe-new').addEventListener('click', () => openForm(''));
  $('fe-new-cancel').addEventListener('click', closeForm);
  $('fe-new-form').addEventListener('submit', (e) => { e.preventDefault(); create($('fe-new-name').value.trim()); });
  $('fe-new-name').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeForm(); });
  $('fe-missing-create').addEventListener('click', () => create($('fe-missing-create').dataset.name));
}

/** Admins see "New flow"; supervisors read only. */
export function renderNewFlow() {
  $('fe-new').hidden = !F.admin || !$('fe-new-form').hidden;
}

function openForm(name) {
  $('fe-new-form').hidden = false;
  $('fe-new').setAttribute('aria-expanded', 'true');
  $('fe-new').hidden = true;
  $('fe-new-error').textContent = '';
  $('fe-new-name').value = name;
  $('fe-new-name').focus();
}

function closeForm() {
  $('fe-new-form').hidden = true;
  $('fe-new').setAttribute('aria-expanded', 'false');
  renderNewFlow();
  $('fe-new').focus();
}

function refuse(message) {
  if ($('fe-new-form').hidden) openForm($('fe-missing-create').dataset.name || '');
  $('fe-new-error').textContent = message;
  $('fe-new-name').focus();
}

async function create(name) {
  const problem = flowNameProblem(name, F.flows.map((f) => f.name));
  if (problem) { refuse(problem); return; }
  // the starter hands the conversation to a queue that exists (the default one when there is one)
  const q = await call('/api/admin/queues');
  const queues = q.ok && q.body && Array.isArray(q.body.queues) ? q.body.queues.map((x) => x.name) : [];
  const queue = queues.includes('default') ? 'default' : queues[0] || null;
  const r = await call(`${flowPath(name)}/versions`, {
    method: 'POST', body: { yaml: starterFlow(name, queue), parent: '', message: 'New flow' },
  });
  if (!r.ok) {
    const m = String(r.body.message || '');
    refuse(r.status === 409 ? `There is a flow named ${name} already.` : `Not created: ${m}`);
    return;
  }
  $('fe-new-form').hidden = true;
  $('fe-new').setAttribute('aria-expanded', 'false');
  renderNewFlow();
  await nw.created(name);
}

/** The address names a flow that is not there: say so (admins may create it); no other flow is opened. */
export function showMissing(name) {
  const shown = name.length > 80 ? `${name.slice(0, 79)}…` : name;
  const problem = flowNameProblem(name);
  $('fe-pick').hidden = true;
  $('fe-flow').hidden = true;
  $('fe-missing').hidden = false;
  $('fe-missing-msg').textContent = `There is no flow named “${shown}”.${problem && name ? ` ${problem}` : ''}${
    F.admin ? '' : ' Open a flow from the list.'}`;
  const offer = $('fe-missing-create');
  offer.hidden = !F.admin || Boolean(problem);
  offer.dataset.name = name;
  offer.textContent = `Create the flow ${shown}`;
}

export function hideMissing() {
  $('fe-missing').hidden = true;
}
