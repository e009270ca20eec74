// node --test webclient/tests: the joined /widget.js (webclient/joiner.py) runs as one classic script: every
// module's top level evaluates in order (no name used before its module ran), and it mounts once per page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const JOINED = execFileSync(process.env.CG_PYTHON || 'python3',
  ['-c', 'import sys; from webclient.joiner import join; sys.stdout.write(join())'], { cwd: ROOT, encoding: 'utf-8' });

/** A page without a DOM implementation: enough for the script's top level and its mount decision. */
function page({ alreadyMounted = false } = {}) {
  const listeners = [];
  const script = { src: 'https://gateway.test/widget.js', getAttribute: (name) => (name === 'data-gateway' ? '' : null) };
  const document = {
    currentScript: script,
    body: null,   // still loading: the widget mounts on DOMContentLoaded
    title: 'Shop',
    querySelectorAll: () => [script],
    getElementById: () => null,
    addEventListener: (type, fn, opts) => listeners.push({ type, fn, opts }),
  };
  const storage = new Map();
  const window = {
    localStorage: {
      getItem: (k) => (storage.has(k) ? storage.get(k) : null),
      setItem: (k, v) => storage.set(k, String(v)),
      removeItem: (k) => storage.delete(k),
    },
  };
  if (alreadyMounted) window.ContactGateway = { mine: true };
  const context = vm.createContext({
    window, document, location: { href: 'https://shop.test/tents', origin: 'https://shop.test' },
    navigator: { onLine: true }, console, setTimeout, clearTimeout, setInterval, clearInterval, TextEncoder, URL,
  });
  window.window = window;
  return { context, window, listeners, storage };
}

test('the joined widget is one script that mounts on DOMContentLoaded and exposes window.ContactGateway', () => {
  const p = page();
  vm.runInContext(JOINED, p.context, { filename: 'widget.js' });
  const api = p.window.ContactGateway;
  assert.deepEqual(Object.keys(api).sort(), ['_callStats', 'close', 'identify', 'open', 'setContext', 'state']);
  assert.deepEqual(p.listeners.map((l) => l.type), ['DOMContentLoaded']);
  const state = api.state();   // before mounting: not connected, nothing queued, no call
  assert.equal(state.connected, false);
  assert.equal(state.outbox, 0);
  assert.equal(state.call, null);
  assert.equal(state.incoming, false);
});

test('a second copy of the widget on the same page does nothing', () => {
  const p = page({ alreadyMounted: true });
  vm.runInContext(JOINED, p.context, { filename: 'widget.js' });
  assert.deepEqual(p.window.ContactGateway, { mine: true });
  assert.deepEqual(p.listeners, []);
});

test('nothing of the modules leaks into the page: one function scope', () => {
  const p = page();
  vm.runInContext(JOINED, p.context, { filename: 'widget.js' });
  for (const name of ['W', 'sock', 'SignalingSocket', 'MAX_TEXT_CHARS', 'boot', 'TEMPLATE']) {
    assert.equal(name in p.context, false, name);
  }
});

test('the widget CSS is inlined into the shadow root template', () => {
  assert.ok(!JOINED.includes("'/*@inline widget.css*/'"));
  assert.match(JOINED, /const CSS = ":host \{ all: initial; \}\\n/);
});
