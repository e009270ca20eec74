// Replay before publish: the inputs of this flow's real past sessions (keys, words, webhook answers, no-inputs)
// run again against the open version (POST /api/admin/flows/{name}/replay): "N sessions, M same, K differ" and the
// sessions whose path changes, each openable step by step with its old and new paths drawn on the graph.

import { F, call, flowPath } from './flows_state.js';
import { divergence, replaySummary } from './flows_model.js';
import { showPath } from './flows_graph.js';

const $ = (id) => document.getElementById(id);
const LIMIT = 5000;
let asked = 0;

export function initReplay() {
  $('fe-replay-form').addEventListener('submit', (e) => { e.preventDefault(); run(); });
}

/** Another version was opened: the last replay was of another one. */
export function replayVersionChanged() {
  asked += 1;
  $('fe-replay-summary').textContent = '';
  $('fe-replay-list').replaceChildren();
  $('fe-replay-steps').replaceChildren();
  $('fe-replay-detail-title').hidden = true;
}

async function run() {
  const mine = ++asked;
  const version = F.openId;
  $('fe-replay-summary').textContent = `Replaying against ${version}…`;
  $('fe-replay-list').replaceChildren();
  $('fe-replay-steps').replaceChildren();
  $('fe-replay-detail-title').hidden = true;
  const since = $('fe-replay-since').value;
  const r = await call(`${flowPath(F.name)}/replay`, { method: 'POST', body: { version, since, limit: LIMIT } });
  if (mine !== asked) return;
  if (!r.ok) { $('fe-replay-summary').textContent = `Replay failed: ${r.body.message}`; return; }
  const differ = r.body.differ || [];
  $('fe-replay-summary').textContent = `${replaySummary(r.body)} with version ${version}.`;
  const list = $('fe-replay-list');
  for (const d of differ) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'linkish';
    b.dataset.cid = d.cid;
    b.setAttribute('aria-pressed', 'false');
    const at = divergence(d.old_path, d.new_path);
    const old = document.createElement('span');
    old.className = 'fe-path-old';
    old.textContent = `was ${pathText(d.old_path, at)}`;
    const now = document.createElement('span');
    now.className = 'fe-path-new';
    now.textContent = `now ${pathText(d.new_path, at)}`;
    b.append(`${d.cid}: `, old, ' · ', now);
    b.addEventListener('click', () => openSession(d, b));
    li.appendChild(b);
    list.appendChild(li);
  }
  if (!differ.length && r.body.sessions) {
    const li = document.createElement('li');
    li.textContent = 'Every replayed session ends the same way with this version.';
    list.appendChild(li);
  }
}

/** A path from where it parts from the other one ("… menu → billing"). */
function pathText(path, at) {
  const p = path || [];
  if (!p.length) return '(nothing)';
  const from = Math.max(0, at - 1);
  return `${from > 0 ? '… ' : ''}${p.slice(from).join(' → ')}`;
}

function stepText(s) {
  if (typeof s === 'string') return s;
  const parts = [s.node, s.kind || s.type, s.detail ?? s.text ?? s.input].filter((x) => x != null && x !== '');
  return parts.join(' · ');
}

function openSession(d, button) {
  for (const b of $('fe-replay-list').querySelectorAll('button')) b.setAttribute('aria-pressed', b === button ? 'true' : 'false');
  const title = $('fe-replay-detail-title');
  title.hidden = false;
  title.textContent = `Session ${d.cid}, step by step with version ${F.openId}`;
  const ol = $('fe-replay-steps');
  ol.replaceChildren();
  const steps = d.steps && d.steps.length ? d.steps : (d.new_path || []).map((node) => ({ node, kind: 'enter' }));
  const parted = divergence(d.old_path, d.new_path);
  steps.forEach((s, i) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'linkish';
    b.textContent = stepText(s);
    const node = typeof s === 'string' ? s : s.node;
    const upto = (d.new_path || []).indexOf(node);
    if (upto >= parted) li.className = 'fe-step-diff';
    b.addEventListener('click', () => showPath((d.new_path || []).slice(0, upto + 1 || undefined), { at: node, oldPath: d.old_path }));
    li.appendChild(b);
    ol.appendChild(li);
    if (i === 0) li.dataset.first = '1';
  });
  showPath(d.new_path, { at: (d.new_path || [])[d.new_path.length - 1] || null, oldPath: d.old_path });
}
