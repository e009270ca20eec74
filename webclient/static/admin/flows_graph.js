// The flow graph: the loader's nodes and transitions (GET .../graph or the validator's `graph`) laid out by dagre
// (vendored) and drawn here as SVG. Each node is a focusable button (Enter / Space / click selects its lines in
// the editor); the node the editor's caret is in is highlighted; edges carry their labels, and when the reports
// have data, how many sessions took each transition and how many hung up at each node. A path (a test run's
// steps, a replayed session) is drawn over it.

import { START, edgeCountLabels, edgeKey, nodeKindText, pathEdges } from './flows_model.js';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 150;
const NODE_H = 44;
let dagre = null;
const gr = { host: null, svg: null, graph: null, onSelect: null, selected: null, counts: null, path: null, at: null, oldPath: null };

export async function loadLayout() {
  ({ default: dagre } = await import('../vendor/dagre/dagre.esm.js'));
}

export function initGraph(host, { onSelect }) {
  gr.host = host;
  gr.onSelect = onSelect;
}

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

/** Draw `graph` ({start, nodes, edges}); null leaves the last good picture (the text does not load right now). */
export function drawGraph(graph) {
  if (!graph || !dagre) return;
  gr.graph = graph;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 46, edgesep: 14, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  g.setNode(START, { width: 70, height: 26 });
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  if (graph.start) g.setEdge(START, graph.start, { label: '', width: 0, height: 0 }, 'start');
  graph.edges.forEach((e, i) => {
    if (!g.hasNode(e.from) || !g.hasNode(e.to)) return;
    const label = e.label || '';
    g.setEdge(e.from, e.to, { label, width: label ? Math.min(120, label.length * 6.5 + 8) : 0, height: label ? 16 : 0, labelpos: 'c' }, `e${i}`);
  });
  dagre.layout(g);
  const { width, height } = g.graph();
  // shrunk to the pane's width when it is wider (down to 60 %: past that it scrolls, so labels stay readable)
  const room = gr.host.clientWidth - 4;
  const scale = room > 0 && width > room ? Math.max(0.6, room / width) : 1;
  const svg = el('svg', {
    viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`, width: Math.ceil(width * scale), height: Math.ceil(height * scale),
    role: 'group', 'aria-label': 'Flow graph',
  });
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'fg-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'fg-arrowhead' }, marker);
  const edges = el('g', { class: 'fg-edges', 'aria-hidden': 'true' }, svg);
  for (const ref of g.edges()) {
    const e = g.edge(ref);
    const key = edgeKey(ref.v, ref.w);
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const group = el('g', { class: 'fg-edge', 'data-key': key, 'data-from': ref.v, 'data-to': ref.w }, edges);
    el('path', { d, 'marker-end': 'url(#fg-arrow)' }, group);
    const label = el('text', { x: e.x ?? e.points[1].x, y: (e.y ?? e.points[1].y) + 4, class: 'fg-edge-label', 'text-anchor': 'middle' }, group);
    label.textContent = e.label || '';
    const count = el('text', { x: (e.x ?? e.points[1].x) + 2, y: (e.y ?? e.points[1].y) + (e.label ? 17 : 4), class: 'fg-count', 'text-anchor': 'start' }, group);
    count.dataset.count = '';
  }
  const nodes = el('g', { class: 'fg-nodes' }, svg);
  const s = g.node(START);
  const startG = el('g', { class: 'fg-start', 'aria-hidden': 'true' }, nodes);
  el('rect', { x: s.x - 35, y: s.y - 13, width: 70, height: 26, rx: 13 }, startG);
  el('text', { x: s.x, y: s.y + 4, 'text-anchor': 'middle' }, startG).textContent = 'Start';
  for (const n of graph.nodes) {
    const p = g.node(n.id);
    const x = p.x - NODE_W / 2;
    const y = p.y - NODE_H / 2;
    const lines = n.line ? `, lines ${n.line} to ${n.end_line || n.line}` : '';
    const idText = clip(n.id, 20);
    const kindText = nodeKindText(n, 24);
    // the accessible name: an SVG <title> (also a tooltip), the visible text first, then its lines and hang-ups
    const node = el('g', {
      class: `fg-node fg-kind-${String(n.kind || '').replace(/[^\w-]/g, '')}`, tabindex: 0, role: 'button', 'data-node': n.id,
    }, nodes);
    node.dataset.name = `${idText} ${kindText}${lines}`;
    el('title', {}, node).textContent = node.dataset.name;
    el('rect', { x, y, width: NODE_W, height: NODE_H, rx: 6 }, node);
    el('text', { x: p.x, y: y + 18, 'text-anchor': 'middle', class: 'fg-node-id' }, node).textContent = idText;
    el('text', { x: p.x, y: y + 34, 'text-anchor': 'middle', class: 'fg-node-kind' }, node).textContent = kindText;
    const badge = el('text', { x: x + NODE_W - 4, y: y + NODE_H + 13, 'text-anchor': 'end', class: 'fg-hangups', 'aria-hidden': 'true' }, node);
    badge.dataset.count = '';
    node.addEventListener('click', () => gr.onSelect(n.id));
    node.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); gr.onSelect(n.id); }
    });
  }
  gr.svg = svg;
  gr.host.replaceChildren(svg);
  paintSelected();
  paintCounts();
  paintPath();
}

function clip(s, n) {
  const t = String(s || '');
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

/** No graph for the editor's text (it was refused unread): `why` in its place, no old picture. */
export function clearGraph(why) {
  gr.graph = null;
  gr.svg = null;
  const p = document.createElement('p');
  p.className = 'fe-muted fe-small fe-graph-empty';
  p.dataset.testid = 'graph-empty';
  p.textContent = why;
  gr.host.replaceChildren(p);
}

export function graphNode(id) {
  return gr.graph ? gr.graph.nodes.find((n) => n.id === id) || null : null;
}

/** Highlight the node the editor's caret is in (null: none). */
export function selectNode(id) {
  gr.selected = id;
  paintSelected();
  reveal(id);
}

/** Scroll the graph so that node `id` is in view (the editor's caret moved into it, a test run entered it). */
function reveal(id) {
  const node = id && gr.svg ? gr.svg.querySelector(`.fg-node[data-node="${CSS.escape(id)}"]`) : null;
  if (!node) return;
  const box = node.getBoundingClientRect();
  const view = gr.host.getBoundingClientRect();
  if (box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom) return;
  gr.host.scrollLeft += box.left + box.width / 2 - (view.left + view.width / 2);
  gr.host.scrollTop += box.top + box.height / 2 - (view.top + view.height / 2);
}

function paintSelected() {
  if (!gr.svg) return;
  for (const n of gr.svg.querySelectorAll('.fg-node')) {
    const on = n.dataset.node === gr.selected;
    n.classList.toggle('fg-selected', on);
    n.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
}

/** Path analytics (flows_model.pathCounts) on the edges and nodes; null clears. */
export function showCounts(counts) {
  gr.counts = counts;
  paintCounts();
}

function paintCounts() {
  if (!gr.svg) return;
  const c = gr.counts;
  const max = c ? Math.max(1, ...c.edges.values()) : 1;
  const groups = [...gr.svg.querySelectorAll('.fg-edge')];
  // a node pair's count once, on the first of its edges: the reports do not say which transition was taken
  const labels = edgeCountLabels(groups.map((g) => g.dataset.key), c ? c.edges : null);
  groups.forEach((g, i) => {
    const { count: n, text, routes, first } = labels[i];
    const t = g.querySelector('.fg-count');
    t.textContent = c ? text : '';
    t.dataset.count = c && first ? String(n) : '';
    const shared = Boolean(c) && routes > 1 && n > 0;
    const tip = g.querySelector('title') || el('title', {}, g);
    tip.textContent = shared
      ? `${n.toLocaleString('en-US')}× from ${g.dataset.from} to ${g.dataset.to} by any of its ${routes} transitions: the reports count from node to node, not which transition was taken`
      : '';
    // one pair's count is not each edge's: its edges are drawn alike (fg-shared), never each as thick as the pair
    g.querySelector('path').style.strokeWidth = c && n && !shared ? String(1.5 + (4 * n) / max) : '';
    g.classList.toggle('fg-shared', shared);
    g.classList.toggle('fg-unused', Boolean(c) && !n);
  });
  for (const node of gr.svg.querySelectorAll('.fg-node')) {
    const h = c ? c.hangups.get(node.dataset.node) || 0 : 0;
    const badge = node.querySelector('.fg-hangups');
    badge.textContent = h ? `${h.toLocaleString('en-US')} hung up` : '';
    badge.dataset.count = h ? String(h) : '';
    node.querySelector('title').textContent = `${node.dataset.name}${h ? `, ${badge.textContent}` : ''}`;
  }
}

/** Draw a walked path over the graph: `path` (node ids) in bold, `at` the current node, `oldPath` (a replay's
 * old ending) dashed; null clears. */
export function showPath(path, { at = null, oldPath = null } = {}) {
  gr.path = path;
  gr.at = at;
  gr.oldPath = oldPath;
  paintPath();
}

function paintPath() {
  if (!gr.svg) return;
  const walked = gr.path ? pathEdges(gr.path) : new Set();
  const old = gr.oldPath ? pathEdges(gr.oldPath) : new Set();
  const on = new Set(gr.path || []);
  for (const g of gr.svg.querySelectorAll('.fg-edge')) {
    g.classList.toggle('fg-walked', walked.has(g.dataset.key));
    g.classList.toggle('fg-old', old.has(g.dataset.key) && !walked.has(g.dataset.key));
  }
  for (const n of gr.svg.querySelectorAll('.fg-node')) {
    n.classList.toggle('fg-on-path', on.has(n.dataset.node));
    n.classList.toggle('fg-current', n.dataset.node === gr.at);
    if (n.dataset.node === gr.at) reveal(gr.at);
    if (n.dataset.node === gr.at) n.setAttribute('aria-current', 'step'); else n.removeAttribute('aria-current');
  }
}
