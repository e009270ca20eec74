// The versions of the open flow: the table (newest first; which is live, which is open, the draft), opening one,
// publishing one (the newest: publish; an older one: roll back to it), the problems of a version whose publish was
// refused (under its row), and the diff between any two.

import { F, call, flowPath } from './flows_state.js';
import { isolate } from '../shared/text.js';
import { diffLines, draftOf, errorText, newestFirst, wasLiveOf, when } from './flows_model.js';

const $ = (id) => document.getElementById(id);
let handlers = { open: () => {}, publish: () => {} };

export function initVersions(h) {
  handlers = h;
  $('fe-diff-form').addEventListener('submit', (e) => {
    e.preventDefault();
    showDiff($('fe-diff-from').value, $('fe-diff-to').value);
  });
}

function button(text, cls, onClick, label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `btn small ${cls}`;
  b.textContent = text;
  if (label) b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

export function renderVersions() {
  const body = $('fe-versions');
  body.replaceChildren();
  const versions = newestFirst(F.flow && F.flow.versions);
  const live = F.flow && F.flow.live_version;
  const draft = draftOf(F.flow);
  const wasLive = wasLiveOf(F.flow);
  const newest = versions[0] && versions[0].id;
  const liveAt = Number((versions.find((v) => v.id === live) || {}).at) || 0;
  for (const v of versions) {
    const tr = document.createElement('tr');
    tr.dataset.version = v.id;
    if (v.id === F.openId) tr.className = 'fe-open-row';
    const id = document.createElement('td');
    const code = document.createElement('code');
    code.textContent = v.id;
    id.appendChild(code);
    for (const [on, text] of [[v.id === live, 'live'], [v.id === wasLive, 'was live'], [v.id === draft, 'draft'], [v.id === F.openId, 'open']]) {
      if (!on) continue;
      const badge = document.createElement('span');
      badge.className = `fe-badge${text === 'open' ? ' fe-badge-muted' : ''}`;
      badge.textContent = text;
      id.append(' ', badge);
    }
    const at = document.createElement('td');
    at.textContent = when(v.at);
    const by = document.createElement('td');
    by.textContent = v.author || '';
    const msg = document.createElement('td');
    msg.textContent = v.message || '';
    msg.dir = 'auto'; // the author's words in their own direction
    const diff = document.createElement('td');
    if (v.parent) diff.appendChild(button('Changes', 'ghost', () => showDiff(v.parent, v.id), `Changes in ${v.id} from ${v.parent}`));
    const actions = document.createElement('td');
    const box = document.createElement('div');
    box.className = 'fe-actions';
    if (v.id !== F.openId) box.appendChild(button('Open', '', () => handlers.open(v.id), `Open version ${v.id}`));
    if (F.admin && v.id !== live) {
      const older = live && Number(v.at) < liveAt;
      const text = older || v.id !== newest ? 'Roll back to this' : 'Publish';
      box.appendChild(button(text, older ? 'danger' : 'primary', () => handlers.publish(v.id), `${text}: version ${v.id}`));
    }
    actions.appendChild(box);
    tr.append(id, at, by, msg, diff, actions);
    body.appendChild(tr);
    if (F.refused && F.refused.flow === F.name && F.refused.id === v.id) body.appendChild(problemsRow(F.refused));
  }
  fillDiffChoices(versions, live);
}

/** Under a version whose publish was refused (not the editor's text): why, and its problems by line. */
function problemsRow(refused) {
  const tr = document.createElement('tr');
  tr.className = 'fe-refused-row';
  tr.dataset.refused = refused.id;
  tr.dataset.testid = 'version-problems';
  const td = document.createElement('td');
  td.colSpan = 6;
  const p = document.createElement('p');
  const them = refused.errors.length === 1 ? 'it' : 'them';
  p.textContent = `Refused: ${refused.message}. Lines of version ${refused.id} (open it to fix ${them}):`;
  const ul = document.createElement('ul');
  for (const e of refused.errors) {
    const li = document.createElement('li');
    li.textContent = errorText(e);
    ul.appendChild(li);
  }
  td.append(p, ul);
  tr.appendChild(td);
  return tr;
}

function fillDiffChoices(versions, live) {
  for (const [id, pick] of [['fe-diff-from', live || (versions[1] || versions[0] || {}).id], ['fe-diff-to', F.openId]]) {
    const select = $(id);
    select.replaceChildren();
    for (const v of versions) {
      const o = document.createElement('option');
      o.value = v.id;
      o.textContent = `${v.id}${v.id === live ? ' (live)' : ''} — ${v.message ? isolate(v.message) : when(v.at)}`;
      select.appendChild(o);
    }
    if (pick) select.value = pick;
  }
}

/** GET .../diff?from=&to=: the unified diff, drawn line by line. */
export async function showDiff(from, to) {
  if (!from || !to) return;
  const r = await call(`${flowPath(F.name)}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  $('fe-diff-box').hidden = false;
  $('fe-diff-title').textContent = `Diff ${from} → ${to}`;
  if (!r.ok) {
    $('fe-diff').replaceChildren(document.createTextNode(r.body.message));
    return;
  }
  drawDiff($('fe-diff'), r.body.diff, 'The two versions are the same.');
}

export function drawDiff(pre, unified, emptyText) {
  const lines = diffLines(unified);
  pre.replaceChildren();
  if (!lines.length) {
    pre.textContent = emptyText;
    return;
  }
  for (const l of lines) {
    const span = document.createElement('span');
    span.className = `d-${l.kind}`;
    span.textContent = l.text || ' ';
    pre.appendChild(span);
  }
}
