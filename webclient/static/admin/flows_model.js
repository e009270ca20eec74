// The flow editor's pure parts (no DOM; webclient/tests/flows_model.test.mjs): lines of the YAML text, which graph
// node holds a line, the unified diff as typed lines, the path analytics and replayed paths laid onto the graph's
// edges, which version is the draft, and the replay's one-line summary.

import { isolate } from '../shared/text.js';

/** Start offsets of each line of `text` (line n, 1-based, starts at offsets[n - 1]). */
export function lineStarts(text) {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The 1-based line holding offset `at`. */
export function lineAt(starts, at) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= at) lo = mid; else hi = mid - 1;
  }
  return lo + 1;
}

/** [start, end) offsets of lines first..last (1-based, inclusive), without the last line's newline. */
export function lineSpan(text, first, last) {
  const starts = lineStarts(text);
  const a = Math.max(1, Math.min(first, starts.length));
  const b = Math.max(a, Math.min(last || first, starts.length));
  const end = b < starts.length ? starts[b] - 1 : text.length;
  return [starts[a - 1], end];
}

/** The graph node whose lines hold `line` (the narrowest when nested), or null. */
export function nodeAtLine(graph, line) {
  let best = null;
  for (const n of (graph && graph.nodes) || []) {
    const first = Number(n.line) || 0;
    const last = Number(n.end_line) || first;
    if (!first || line < first || line > last) continue;
    if (!best || last - first < best.last - best.first) best = { id: n.id, first, last };
  }
  return best ? best.id : null;
}

/** A unified diff as lines {kind: 'meta'|'hunk'|'add'|'del'|'ctx', text}. */
export function diffLines(unified) {
  const out = [];
  for (const text of String(unified || '').split('\n')) {
    let kind = 'ctx';
    if (text.startsWith('+++') || text.startsWith('---')) kind = 'meta';
    else if (text.startsWith('@@')) kind = 'hunk';
    else if (text.startsWith('+')) kind = 'add';
    else if (text.startsWith('-')) kind = 'del';
    out.push({ kind, text });
  }
  while (out.length && out[out.length - 1].text === '') out.pop();
  return out;
}

export const START = '(start)'; // the drawn entry point: the flow's first node has a transition from it

export const edgeKey = (from, to) => `${from}\u0000${to}`;

/** GET /api/reports/flows/{flow} laid on the graph: {edges: Map(edgeKey -> count), hangups: Map(node -> n),
 * agent: Map(node -> n), total: sessions entering the flow}. '' (the flow's start) becomes START. */
export function pathCounts(report) {
  const edges = new Map();
  const hangups = new Map();
  const agent = new Map();
  let total = 0;
  for (const t of (report && report.transitions) || []) {
    const from = t.from ? String(t.from) : START;
    const key = edgeKey(from, String(t.to));
    const n = Number(t.count) || 0;
    edges.set(key, (edges.get(key) || 0) + n);
    if (from === START) total += n;
  }
  for (const x of (report && report.exits) || []) {
    if (Number(x.hangups) > 0) hangups.set(String(x.node), Number(x.hangups));
    if (Number(x.agent_requests) > 0) agent.set(String(x.node), Number(x.agent_requests));
  }
  return { edges, hangups, agent, total };
}

/** The edges a path of node ids walks (START first), as edge keys. */
export function pathEdges(path) {
  const keys = new Set();
  const nodes = [START, ...(path || [])];
  for (let i = 1; i < nodes.length; i += 1) keys.add(edgeKey(nodes[i - 1], nodes[i]));
  return keys;
}

/** The version a retired flow had live when it was retired (GET /api/admin/flows/{name}), or null. */
export function wasLiveOf(flow) {
  return (flow && flow.retired && flow.was_live) || null;
}

/** The draft of a flow (GET /api/admin/flows/{name}): the newest version when it is not the live one (for a retired
 * flow: not the one that was live). */
export function draftOf(flow) {
  const versions = (flow && flow.versions) || [];
  if (!versions.length) return null;
  const newest = versions.reduce((a, b) => (Number(b.at) > Number(a.at) ? b : a));
  return newest.id === (flow.live_version || wasLiveOf(flow)) ? null : newest.id;
}

/** Versions newest first. */
export function newestFirst(versions) {
  return [...(versions || [])].sort((a, b) => Number(b.at) - Number(a.at));
}

/** The newest version's id (a save's parent), or null for a flow with none. */
export function newestId(flow) {
  const v = newestFirst(flow && flow.versions)[0];
  return v ? v.id : null;
}

/** POST .../replay's answer in one line: "1,240 sessions, 1,198 same, 42 differ". */
export function replaySummary(result) {
  const n = Number(result && result.sessions) || 0;
  const differ = ((result && result.differ) || []).length;
  const same = result && result.same != null ? Number(result.same) : n - differ;
  const f = (x) => x.toLocaleString('en-US');
  return `${f(n)} session${n === 1 ? '' : 's'}, ${f(same)} same, ${f(differ)} differ${differ === 1 ? 's' : ''}`;
}

/** Where two paths part: the index of the first node that differs (the shorter length when one is a prefix). */
export function divergence(a, b) {
  const x = a || [];
  const y = b || [];
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i += 1;
  return i;
}

/** An error of the loader (validate / save) in one line for the list: "Line 12: message". */
export function errorText(e) {
  const where = e.line ? `Line ${e.line}${e.column ? `:${e.column}` : ''}` : e.node ? `Node ${e.node}` : 'Flow';
  return `${where}: ${e.message || e.code || 'invalid'}`;
}

/** Errors grouped by line (errors with no line are kept apart under 0). */
export function errorsByLine(errors) {
  const by = new Map();
  for (const e of errors || []) {
    const line = Number(e.line) || 0;
    if (!by.has(line)) by.set(line, []);
    by.get(line).push(e);
  }
  return by;
}

/** A version time (ms) for people: "2026-12-05 13:04" in their time zone. */
export function when(ms) {
  const d = new Date(Number(ms) || 0);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Calls `fn` once `ms` after the last of a burst of calls; `.cancel()` drops a pending one. */
export function debounce(fn, ms, timers = globalThis) {
  let timer = null;
  const wrapped = (...args) => {
    timers.clearTimeout(timer);
    timer = timers.setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  wrapped.cancel = () => { timers.clearTimeout(timer); timer = null; };
  return wrapped;
}

/** The path counts laid on the drawn edges (`keys`: their edge keys in drawing order; `edges`: pathCounts().edges).
 * The reports count node to node, not which transition was taken: where several transitions join the same two
 * nodes (a menu choice and the fallback), the pair's count is shown once, on the first of them, saying it is all
 * of theirs, and the others show none. Per edge: {count (the pair's), text, routes (edges of the pair), first}. */
export function edgeCountLabels(keys, edges) {
  const routes = new Map();
  for (const k of keys) routes.set(k, (routes.get(k) || 0) + 1);
  const labelled = new Set();
  return keys.map((k) => {
    const count = (edges && edges.get(k)) || 0;
    const n = routes.get(k);
    const first = !labelled.has(k);
    labelled.add(k);
    let text = '';
    if (count && first) text = n > 1 ? `${count.toLocaleString('en-US')}× (${n === 2 ? 'both' : `all ${n}`} routes)` : `${count.toLocaleString('en-US')}×`;
    return { count, text, routes: n, first };
  });
}

/**
 * A graph node's second line: its kind, and where it leads when the loader's label says so (GET .../graph labels a
 * queue node "name → queue billing", a goto "name → flow#entry"). The node's name is the first line already, so it
 * is not repeated: "queue → billing", "goto → after_hours". Clipped to `most` characters.
 */
export function nodeKindText(node, most = 24) {
  const kind = String(node.kind || '');
  const label = typeof node.label === 'string' ? node.label : '';
  let text = kind;
  if (label && label !== node.id) {
    const prefix = `${node.id} → `;
    let rest = label.startsWith(prefix) ? label.slice(prefix.length) : label;
    if (rest.startsWith(`${kind} `)) rest = rest.slice(kind.length + 1);
    text = label.startsWith(prefix) ? `${kind} → ${rest}` : `${kind} · ${rest}`;
  }
  return text.length > most ? `${text.slice(0, most - 1)}…` : text;
}

/** What a flow starts, from GET /api/admin/flows' `answers` ({calls, chats}: an admin's choice, else the node's
 * --voice-flow / --chat-flow): "answers calls", "answers chats". */
export function flowRoles(name, answers) {
  const a = answers || {};
  return [a.calls === name ? 'answers calls' : '', a.chats === name ? 'answers chats' : ''].filter(Boolean);
}

/**
 * The status after a publish. A flow that answers neither calls nor chats runs only where a goto leads to it: said
 * so, rather than "new calls and chats take it" (a user test published the README's example as a new flow and
 * nothing answered with it), with the way to put it in service (the "Answer calls" / "Answer chats" buttons).
 */
export function publishedText(id, was, name, answers) {
  const roles = flowRoles(name, answers);
  const head = `Version ${id} is live${was ? ` (was ${was})` : ''}`;
  if (roles.length) {
    const what = roles.length === 2 ? 'calls and chats' : roles[0] === 'answers calls' ? 'calls' : 'chats';
    return `${head}: new ${what} take it on every node; sessions in progress keep theirs.`;
  }
  const a = answers || {};
  const chats = a.chats ? `chats in '${a.chats}'` : 'chats go straight to the agents';
  return `${head}, but nothing starts in it: calls start in '${a.calls || 'default'}' and ${chats}. ` +
    'It runs where a goto leads to it, or once you make it answer calls or chats (the buttons beside Publish).';
}

const ENTRY_WORDS = { calls: ['calls', 'call'], chats: ['chats', 'chat'] };

/** The confirm before flow `name` answers `entry` ('calls' or 'chats'): what changes, and what does not. */
export function answerConfirmText(name, entry, answers) {
  const [many, one] = ENTRY_WORDS[entry];
  const now = (answers || {})[entry];
  const was = now ? `now they start in '${now}'` : `now ${many} go straight to the agents`;
  return `Make '${name}' answer ${many}? Only NEW ${many} start in '${name}' (${was}), on every node within a ` +
    `second. A ${one} in progress keeps the flow it started in.`;
}

/** The status after flow `name` was made to answer `entry`; `previous`: the flow that answered before (or null). */
export function answeredText(name, entry, previous) {
  const many = ENTRY_WORDS[entry][0];
  const was = previous && previous !== name ? ` (was '${previous}')` : '';
  return `'${name}' now answers new ${many} on every node${was}; ${many} in progress keep their flow.`;
}

/** The confirm before flow `name` stops answering chats (only chats may have no flow). */
export function takeOffConfirmText(name) {
  return `Take '${name}' off chats? Only NEW chats go straight to the agents, with no bot first, on every node ` +
    `within a second. A chat in progress keeps the flow it started in. Make any flow answer chats to put one back.`;
}

/** The status after flow `previous` was taken off chats. */
export function takenOffText(previous) {
  const was = previous ? ` ('${previous}' answered them)` : '';
  return `New chats now go straight to the agents on every node${was}; chats in progress keep their flow.`;
}

/** A flow's line in the list (GET /api/admin/flows): live / not live (retired: the version that was live), its
 * draft, what it answers. */
export function flowMeta(flow, answers) {
  const f = flow || {};
  const state = f.retired ? `retired${f.was_live ? `, was live ${f.was_live}` : ''}` : f.live_version ? `live ${f.live_version}` : 'not live';
  const draft = f.draft_version && f.draft_version !== (f.retired ? f.was_live : null) ? `draft ${f.draft_version}` : '';
  return [state, draft, ...flowRoles(f.name, answers)].filter(Boolean).join(' · ');
}

/** The confirm before flow `name` is retired (DELETE /api/admin/flows/{name}). */
export function retireConfirmText(name) {
  return `Retire '${name}'? It goes out of service on every node within a second: no new call or chat can reach ` +
    `it. Calls and chats in it now finish on their version. Its versions stay (timelines, replays and reports ` +
    `name them): publish one to bring it back.`;
}

/** The question before a rollback: flow `name` to version `v` ({id, at, author, message}) in place of `live`. */
export function rollbackConfirmText(name, v, live) {
  const what = [v.message ? `“${isolate(v.message)}”` : '', v.at ? `saved ${when(v.at)}` : '', v.author ? `by ${isolate(v.author)}` : '']
    .filter(Boolean).join(', ');
  const instead = live ? ` instead of version ${live}` : '';
  return `Roll '${name}' back to version ${v.id}${what ? ` (${what})` : ''}? New calls and chats in it take that ` +
    `version on every node${instead}; sessions in progress keep theirs.`;
}

/** The status after flow `name` was retired; `wasLive`: the version that was live (or null). */
export function retiredText(name, wasLive) {
  const was = wasLive ? ` (version ${wasLive} was live)` : '';
  return `'${name}' is retired: out of service on every node${was}. Publish a version of it to bring it back.`;
}

export const FLOW_NAME_MAX = 64;

/** What is wrong with a new flow's name, in words, or null: the server's rule (gateway/flows/versions.py
 * check_name): letters A-Z a-z, digits, _ and -, 1 to 64 of them; and not a flow that exists. */
export function flowNameProblem(name, existing = []) {
  const n = String(name || '');
  if (!n.trim()) return 'Give the flow a name.';
  if (n.length > FLOW_NAME_MAX) return `A flow name is at most ${FLOW_NAME_MAX} characters (this one has ${n.length}).`;
  if (!/^[A-Za-z0-9_-]+$/.test(n)) return 'A flow name uses Latin letters (A-Z, a-z), digits, _ and - only (no spaces).';
  if (existing.includes(n)) return `There is a flow named ${n} already.`;
  const twin = existing.find((e) => e.toLowerCase() === n.toLowerCase());
  if (twin) return `There is a flow named ${twin} already (names may not differ only in capitals).`;
  return null;
}

/** A new flow's first text: a greeting, then the conversation goes to `queue` (an existing queue), or, with no
 * queue, a goodbye. It loads as it is (the editor shows its graph at once) and is there to be changed. */
export function starterFlow(name, queue = null) {
  const end = queue
    ? ['  agents:', '    type: queue', `    queue: ${queue}`, '    prompt: "Connecting you to an agent."']
    : ['  agents:', '    type: hangup', '    prompt: "Goodbye."'];
  return [
    `# ${name}: a new flow. Change it, save a version, then publish it (README, "Writing a flow").`,
    `description: ${name}`,
    'start: welcome',
    'nodes:',
    '  welcome:',
    '    type: say',
    '    prompt: "Hello, thank you for contacting us."',
    '    next: agents',
    ...end,
    '',
  ].join('\n');
}

export const FLOW_MAX_BYTES = 256 * 1024; // gateway/flows/versions.py MAX_FLOW_BYTES

/** A refused validate / save ({code, field, message} of the problem JSON) in words about the editor's `text`:
 * too large (the text over the flow limit, or the request body over the gateway's), empty, or the message. */
export function refusalText(body, text) {
  const b = body || {};
  const message = String(b.message || 'The gateway refused the text.');
  const bytes = new TextEncoder().encode(String(text || '')).length;
  if (b.code === 'frame_too_large' || (b.field === 'yaml' && / is over /.test(message)) || bytes > FLOW_MAX_BYTES) {
    return `This flow is too large: ${Math.ceil(bytes / 1024).toLocaleString('en-US')} KB, the limit is ${FLOW_MAX_BYTES / 1024} KB.`;
  }
  if (b.field === 'yaml' && / is required/.test(message)) return 'The flow is empty.';
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`.replace(/\.\.$/, '.');
}
