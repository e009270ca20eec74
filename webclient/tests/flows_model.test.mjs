// node --test webclient/tests: the flow editor's pure parts (admin/flows_model.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  START, debounce, diffLines, divergence, draftOf, edgeCountLabels, edgeKey, errorText, flowNameProblem, lineAt,
  lineSpan, lineStarts, newestId, nodeAtLine, nodeKindText, flowRoles, publishedText, answerConfirmText, answeredText, takeOffConfirmText, takenOffText, flowMeta, retireConfirmText, retiredText, wasLiveOf, pathCounts, pathEdges, refusalText, replaySummary, starterFlow,
} from '../static/admin/flows_model.js';

const TEXT = 'start: hello\nnodes:\n  hello:\n    type: say\n    next: menu\n  menu:\n    type: menu\n';
const GRAPH = {
  start: 'hello',
  nodes: [
    { id: 'hello', kind: 'say', line: 3, end_line: 5, label: 'hello' },
    { id: 'menu', kind: 'menu', line: 6, end_line: 7, label: 'menu' },
  ],
  edges: [{ from: 'hello', to: 'menu', label: '' }],
};

test('lines: offsets, the line of an offset, and the span of lines', () => {
  const starts = lineStarts(TEXT);
  assert.deepEqual(starts.slice(0, 3), [0, 13, 20]);
  assert.equal(lineAt(starts, 0), 1);
  assert.equal(lineAt(starts, 13), 2);
  assert.equal(lineAt(starts, 12), 1); // the newline belongs to its line
  assert.equal(lineAt(starts, TEXT.length), starts.length);
  const [a, b] = lineSpan(TEXT, 3, 5);
  assert.equal(TEXT.slice(a, b), '  hello:\n    type: say\n    next: menu');
  const [c, d] = lineSpan(TEXT, 99, 120); // past the end: the last line
  assert.equal(TEXT.slice(c, d), '');
});

test('the node holding a line is the narrowest that spans it; none outside nodes', () => {
  assert.equal(nodeAtLine(GRAPH, 4), 'hello');
  assert.equal(nodeAtLine(GRAPH, 7), 'menu');
  assert.equal(nodeAtLine(GRAPH, 1), null);
  const nested = { nodes: [...GRAPH.nodes, { id: 'inner', line: 4, end_line: 4 }] };
  assert.equal(nodeAtLine(nested, 4), 'inner');
  assert.equal(nodeAtLine(null, 4), null);
});

test('a unified diff as typed lines', () => {
  const lines = diffLines('--- a\n+++ b\n@@ -1,2 +1,2 @@\n start: hello\n-  x: 1\n+  x: 2\n');
  assert.deepEqual(lines.map((l) => l.kind), ['meta', 'meta', 'hunk', 'ctx', 'del', 'add']);
  assert.deepEqual(diffLines(''), []);
});

test('path analytics: transitions on edges (the start is START), hang-ups and hand-offs per node', () => {
  const c = pathCounts({
    transitions: [{ from: '', to: 'hello', count: 5 }, { from: 'hello', to: 'menu', count: 4 }, { from: 'hello', to: 'menu', count: 1 }],
    exits: [{ node: 'menu', hangups: 2, agent_requests: 0 }, { node: 'billing', hangups: 0, agent_requests: 3 }],
  });
  assert.equal(c.edges.get(edgeKey(START, 'hello')), 5);
  assert.equal(c.edges.get(edgeKey('hello', 'menu')), 5);
  assert.equal(c.total, 5);
  assert.deepEqual([...c.hangups], [['menu', 2]]);
  assert.deepEqual([...c.agent], [['billing', 3]]);
  assert.equal(pathCounts(null).edges.size, 0);
});

test('a path walks its edges from the start', () => {
  assert.deepEqual([...pathEdges(['hello', 'menu'])], [edgeKey(START, 'hello'), edgeKey('hello', 'menu')]);
  assert.equal(divergence(['a', 'b', 'c'], ['a', 'b', 'd']), 2);
  assert.equal(divergence(['a'], ['a', 'b']), 1);
});

test('the draft is the newest version unless it is live; a save names the newest as its parent', () => {
  const flow = { live_version: 'v1', versions: [{ id: 'v1', at: 1 }, { id: 'v3', at: 3 }, { id: 'v2', at: 2 }] };
  assert.equal(draftOf(flow), 'v3');
  assert.equal(newestId(flow), 'v3');
  assert.equal(draftOf({ ...flow, live_version: 'v3' }), null);
  assert.equal(draftOf({ versions: [] }), null);
  assert.equal(newestId({ versions: [] }), null);
});

test('the replay summary and error lines read as people say them', () => {
  assert.equal(replaySummary({ sessions: 1240, same: 1198, differ: new Array(42).fill({}) }), '1,240 sessions, 1,198 same, 42 differ');
  assert.equal(replaySummary({ sessions: 1, same: 0, differ: [{}] }), '1 session, 0 same, 1 differs');
  assert.equal(errorText({ line: 12, column: 3, message: 'unknown node' }), 'Line 12:3: unknown node');
  assert.equal(errorText({ line: null, node: 'menu', code: 'bad' }), 'Node menu: bad');
});

test('debounce runs once after a burst, and cancel drops it', () => {
  const pending = new Map();
  let n = 0;
  const timers = {
    setTimeout: (fn) => { n += 1; pending.set(n, fn); return n; },
    clearTimeout: (id) => pending.delete(id),
  };
  const seen = [];
  const f = debounce((x) => seen.push(x), 100, timers);
  f(1); f(2); f(3);
  assert.equal(pending.size, 1);
  const [id, fire] = [...pending][0];
  pending.delete(id);
  fire();
  assert.deepEqual(seen, [3]);
  f(4);
  f.cancel();
  assert.equal(pending.size, 0);
});

test('path counts on edges: a node pair joined by two transitions shows its count once, for both', () => {
  const keys = [edgeKey(START, 'menu'), edgeKey('menu', 'billing'), edgeKey('menu', 'support'), edgeKey('menu', 'billing')];
  const edges = new Map([[edgeKey(START, 'menu'), 12], [edgeKey('menu', 'billing'), 12]]);
  assert.deepEqual(edgeCountLabels(keys, edges), [
    { count: 12, text: '12×', routes: 1, first: true },
    { count: 12, text: '12× (both routes)', routes: 2, first: true },
    { count: 0, text: '', routes: 1, first: true },
    { count: 12, text: '', routes: 2, first: false },
  ]);
  const three = [edgeKey('a', 'b'), edgeKey('a', 'b'), edgeKey('a', 'b')];
  assert.equal(edgeCountLabels(three, new Map([[edgeKey('a', 'b'), 1500]]))[0].text, '1,500× (all 3 routes)');
  assert.deepEqual(edgeCountLabels(three, null).map((x) => x.text), ['', '', '']);
});

test('a new flow name follows the server rule; the starter text names it', () => {
  assert.equal(flowNameProblem('after_hours-2'), null);
  assert.equal(flowNameProblem(''), 'Give the flow a name.');
  assert.match(flowNameProblem('two words'), /Latin letters/);
  assert.match(flowNameProblem('תפריט'), /Latin letters/);
  assert.equal(flowNameProblem('x'.repeat(64)), null);
  assert.match(flowNameProblem('x'.repeat(65)), /at most 64 characters \(this one has 65\)/);
  assert.equal(flowNameProblem('sales', ['default', 'sales']), 'There is a flow named sales already.');
  assert.equal(flowNameProblem('Default', ['default', 'sales']), 'There is a flow named default already (names may not differ only in capitals).');
  const text = starterFlow('sales', 'support');
  assert.match(text, /^# sales: a new flow/);
  assert.match(text, /queue: support/);
  assert.match(starterFlow('sales'), /type: hangup/);
});

test('a refused validation reads in words: too large, empty, or the message', () => {
  const big = 'x'.repeat(280 * 1024);
  assert.equal(refusalText({ code: 'frame_too_large', message: 'body is over 278528 bytes' }, big),
    'This flow is too large: 280 KB, the limit is 256 KB.');
  assert.equal(refusalText({ code: 'bad_request', field: 'yaml', message: "'yaml' is over 262144 characters" }, 'x'.repeat(262145)),
    'This flow is too large: 257 KB, the limit is 256 KB.');
  assert.equal(refusalText({ code: 'bad_request', field: 'yaml', message: "'yaml' is required text" }, ''), 'The flow is empty.');
  assert.equal(refusalText({ message: 'not signed in' }, 'a: 1'), 'Not signed in.');
});

test("a node's second line says where a queue or goto leads, not its own name again (a user test saw it cut off)", () => {
  // the README's example: the name filled the line and the queue was clipped away ("queue · billing_queue →…")
  assert.equal(nodeKindText({ id: 'billing_queue', kind: 'queue', label: 'billing_queue → queue billing' }), 'queue → billing');
  assert.equal(nodeKindText({ id: 'closed', kind: 'goto', label: 'closed → after_hours#menu' }), 'goto → after_hours#menu');
  assert.equal(nodeKindText({ id: 'greeting', kind: 'say', label: 'greeting' }), 'say');
  assert.equal(nodeKindText({ id: 'x', kind: 'say' }), 'say');
  assert.equal(nodeKindText({ id: 'q', kind: 'queue', label: 'q → queue premium_support_after_hours' }), 'queue → premium_support…');
});

test('a published flow is said to take calls or chats only when the settings start them in it', () => {
  const answers = { calls: 'default', chats: null };
  assert.deepEqual(flowRoles('default', answers), ['answers calls']);
  assert.deepEqual(flowRoles('shop', { calls: 'shop', chats: 'shop' }), ['answers calls', 'answers chats']);
  assert.deepEqual(flowRoles('shop', null), []);
  assert.equal(publishedText('abc', 'old', 'default', answers),
    'Version abc is live (was old): new calls take it on every node; sessions in progress keep theirs.');
  assert.equal(publishedText('abc', null, 'shop', { calls: 'shop', chats: 'shop' }),
    'Version abc is live: new calls and chats take it on every node; sessions in progress keep theirs.');
  const idle = publishedText('abc', null, 'shop', answers);
  assert.match(idle, /^Version abc is live, but nothing starts in it: calls start in 'default' and chats go straight to the agents\./);
  assert.match(idle, /once you make it answer calls or chats/);
  assert.match(publishedText('abc', null, 'shop', { calls: 'default', chats: 'bot' }), /and chats in 'bot'\./);
});

test('choosing the flow that answers calls or chats says only new ones change', () => {
  assert.equal(answerConfirmText('shop', 'chats', { calls: 'default', chats: 'bot' }),
    "Make 'shop' answer chats? Only NEW chats start in 'shop' (now they start in 'bot'), on every node within a second. " +
    'A chat in progress keeps the flow it started in.');
  assert.match(answerConfirmText('shop', 'chats', { calls: 'default', chats: null }), /\(now chats go straight to the agents\)/);
  assert.match(answerConfirmText('shop', 'calls', { calls: 'default' }), /^Make 'shop' answer calls\? Only NEW calls .* A call in progress/);
  assert.equal(answeredText('shop', 'calls', 'default'), "'shop' now answers new calls on every node (was 'default'); calls in progress keep their flow.");
  assert.equal(answeredText('shop', 'chats', null), "'shop' now answers new chats on every node; chats in progress keep their flow.");
});

test('taking the bot off chats says new chats go straight to the agents and how to put one back', () => {
  assert.match(takeOffConfirmText('shop'), /^Take 'shop' off chats\? Only NEW chats go straight to the agents, with no bot first/);
  assert.match(takeOffConfirmText('shop'), /Make any flow answer chats to put one back\.$/);
  assert.equal(takenOffText('shop'), "New chats now go straight to the agents on every node ('shop' answered them); chats in progress keep their flow.");
  assert.equal(takenOffText(null), 'New chats now go straight to the agents on every node; chats in progress keep their flow.');
});

test('a flow\'s line in the list says retired, live, draft and what it answers', () => {
  const answers = { calls: 'default', chats: null };
  assert.equal(flowMeta({ name: 'default', live_version: 'a1', draft_version: 'b2' }, answers), 'live a1 · draft b2 · answers calls');
  assert.equal(flowMeta({ name: 'old', live_version: null, draft_version: 'c3', retired: true, was_live: 'c3' }, answers), 'retired, was live c3');
  assert.equal(flowMeta({ name: 'old', live_version: null, draft_version: 'd4', retired: true, was_live: 'c3' }, answers), 'retired, was live c3 · draft d4');
  assert.equal(flowMeta({ name: 'old', live_version: null, draft_version: 'd4', retired: true, was_live: null }, answers), 'retired · draft d4');
  assert.equal(flowMeta({ name: 'x', live_version: null, draft_version: null }, null), 'not live');
});

test('retiring a flow: the confirm says what changes and how to bring it back; the status after it', () => {
  assert.match(retireConfirmText('shop'), /^Retire 'shop'\? It goes out of service on every node within a second/);
  assert.match(retireConfirmText('shop'), /publish one to bring it back\.$/);
  assert.equal(retiredText('shop', 'a1b2c3d4e5f6'), "'shop' is retired: out of service on every node (version a1b2c3d4e5f6 was live). Publish a version of it to bring it back.");
  assert.equal(retiredText('shop', null), "'shop' is retired: out of service on every node. Publish a version of it to bring it back.");
});

test('a retired flow: the version that was live is neither live nor its draft', () => {
  const versions = [{ id: 'a1', at: 1 }, { id: 'b2', at: 2 }];
  const retired = { live_version: null, retired: true, was_live: 'b2', versions };
  assert.equal(wasLiveOf(retired), 'b2');
  assert.equal(draftOf(retired), null);
  assert.equal(draftOf({ ...retired, was_live: 'a1' }), 'b2');
  assert.equal(wasLiveOf({ live_version: 'b2', retired: false, was_live: null, versions }), null);
  assert.equal(draftOf({ live_version: null, versions }), 'b2');
});
