// Publishing a version of the open flow: the open one ("Publish this version") or one from the versions table. One
// older than the newest (and not live) is a rollback ("Roll back to this"), done only after a confirm naming it.
// A refusal's problems are the refused version's: on the editor's lines only when the editor holds that very text
// (unchanged), else in the status and under that version's row in the table (F.refused, drawn by flows_versions.js),
// never on another version's text. A publish that goes through clears them.

import { F, call, dirty, flowPath } from './flows_state.js';
import { newestId, publishedText, rollbackConfirmText } from './flows_model.js';
import { text } from './flows_editor.js';

let hooks = { status: () => {}, setErrors: () => {}, refreshFlow: async () => {}, renderVersions: () => {} };

/** `status(message, bad)`: the page's status line; `setErrors(errors)`: the editor's problems; `refreshFlow()`:
 * read the flow again (and draw the versions); `renderVersions()`: draw the versions table. */
export function initPublish(given) {
  hooks = given;
}

const plural = (n, one, many) => (n === 1 ? one : many);

/** Publish version `id` of the open flow (a rollback, asked first, when it is neither the newest nor the live one). */
export async function publish(id) {
  const name = F.name;
  const live = F.flow && F.flow.live_version;
  const rollback = id !== newestId(F.flow) && id !== live;
  if (id === F.openId && dirty(text())) {
    const n = F.errors.length;
    hooks.status(n
      ? `Publish refused: the text has ${n} problem${plural(n, '', 's')}. Fix ${plural(n, 'it', 'them')}, save, then publish.`
      : 'Publish refused: save your changes first, then publish the saved version.', true);
    return;
  }
  const version = ((F.flow && F.flow.versions) || []).find((v) => v.id === id) || { id };
  if (rollback && !window.confirm(rollbackConfirmText(name, version, live))) return;
  const r = await call(`${flowPath(name)}/publish`, { method: 'POST', body: { version: id } });
  if (F.name !== name) return; // another flow was opened meanwhile: this answer is not about what is shown
  const inEditor = id === F.openId && !dirty(text()); // the editor holds the text that was (or was not) published
  if (!r.ok) { refused(id, r.body, { rollback, inEditor }); return; }
  F.refused = null;
  if (inEditor) hooks.setErrors([]);
  await hooks.refreshFlow();
  hooks.status(publishedText(id, live, name, F.answers));
}

function refused(id, body, { rollback, inEditor }) {
  const errors = Array.isArray(body.errors) ? body.errors : [];
  const what = rollback ? `Roll back to ${id} refused` : 'Publish refused';
  if (inEditor || !errors.length) {
    if (inEditor && errors.length) hooks.setErrors(errors);
    hooks.status(`${what}: ${body.message}`, true);
    return;
  }
  F.refused = { flow: F.name, id, message: body.message, errors };
  hooks.renderVersions();
  const n = errors.length;
  hooks.status(`${what}: ${body.message}; see ${plural(n, 'its problem', 'its problems')} under it in Versions.`, true);
}
