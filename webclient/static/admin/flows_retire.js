// Retiring a flow nothing needs any more (DELETE /api/admin/flows/{name}): the button beside "Answer calls" /
// "Answer chats" of the open flow. Admins only; a confirm says what changes. The gateway refuses (409, saying why)
// while the flow answers new calls or chats or a live flow's goto leads to it. A retired flow stays listed, marked
// retired; publishing one of its versions brings it back (the button is then offered again).

import { F, call, flowPath } from './flows_state.js';
import { retireConfirmText, retiredText } from './flows_model.js';

const $ = (id) => document.getElementById(id);

let hooks = { status: () => {}, changed: async () => {} };

/** Show the button for the open flow (hidden for a supervisor, and for a flow already retired). */
export function renderRetire() {
  $('fe-retire').hidden = !F.admin || !F.name || Boolean(F.flow && F.flow.retired);
}

async function retire() {
  const name = F.name;
  if (!name || !window.confirm(retireConfirmText(name))) return;
  $('fe-retire').disabled = true;
  const r = await call(flowPath(name), { method: 'DELETE' });
  $('fe-retire').disabled = false;
  if (!r.ok) {
    hooks.status(`Not retired: ${r.body.message}`, true);
    return;
  }
  await hooks.changed();
  if (F.name === name) hooks.status(retiredText(name, r.body.was_live));
}

/** `status(message, bad)`: the page's status line; `changed()`: read the flow and the list again. */
export function initRetire(given) {
  hooks = given;
  $('fe-retire').addEventListener('click', retire);
}
