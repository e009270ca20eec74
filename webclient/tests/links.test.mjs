// node --test webclient/tests: which parts of a message become links (only http(s), never javascript: or data:).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { linkSegments, safeHref } from '../static/shared/links.js';

const links = (text) => linkSegments(text).filter((s) => s.href).map((s) => s.href);

test('http and https URLs become links; the texts joined are the message exactly', () => {
  const text = 'See https://shop.test/orders/42?x=1#top and http://EXAMPLE.test/a_b-c~d, thanks';
  const segs = linkSegments(text);
  assert.equal(segs.map((s) => s.text).join(''), text);
  assert.deepEqual(segs, [
    { text: 'See ' },
    { text: 'https://shop.test/orders/42?x=1#top', href: 'https://shop.test/orders/42?x=1#top' },
    { text: ' and ' },
    { text: 'http://EXAMPLE.test/a_b-c~d', href: 'http://example.test/a_b-c~d' },
    { text: ', thanks' },
  ]);
});

test('a message without a URL is one text segment', () => {
  assert.deepEqual(linkSegments('hello there'), [{ text: 'hello there' }]);
  assert.deepEqual(linkSegments(''), [{ text: '' }]);
  assert.deepEqual(linkSegments(null), [{ text: '' }]);
});

test('javascript:, data:, vbscript:, file: and other schemes are never links', () => {
  for (const text of [
    'javascript:alert(1)', 'JaVaScRiPt:alert(document.cookie)', 'click javascript://%0Aalert(1)',
    'data:text/html,<script>alert(1)</script>', 'data:text/html;base64,PHNjcmlwdD4=', 'vbscript:msgbox(1)',
    'file:///etc/passwd', 'ftp://files.test/a', 'mailto:a@b.test', 'blob:https://x.test/1', '//evil.test/x',
    'java\nscript:alert(1)', 'xhttp://evil.test', 'javascript:http://evil.test', 'https:evil.test', 'http://',
  ]) {
    assert.deepEqual(links(text), [], text);
    assert.equal(linkSegments(text).map((s) => s.text).join(''), text);
  }
});

test('safeHref takes only http(s) and refuses junk', () => {
  assert.equal(safeHref('https://a.test'), 'https://a.test/');
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('data:text/plain,hi'), null);
  assert.equal(safeHref('https://a.test/' + 'x'.repeat(3000)), null);
  assert.equal(safeHref(42), null);
});

test('sentence punctuation and brackets around a URL stay text', () => {
  assert.deepEqual(links('Go to https://a.test/x.'), ['https://a.test/x']);
  assert.deepEqual(links('(see https://a.test/x)'), ['https://a.test/x']);
  assert.deepEqual(links('wiki https://en.wikipedia.test/wiki/Tent_(camping) ok'),
    ['https://en.wikipedia.test/wiki/Tent_(camping)']);
  assert.deepEqual(links('"https://a.test/q" and <https://b.test/>'), ['https://a.test/q', 'https://b.test/']);
  assert.deepEqual(links('really? https://a.test!?'), ['https://a.test/']);
});

test('inside other text only the http(s) URL itself is a link, never what surrounds it', () => {
  assert.deepEqual(links('javascript:fetch("https://a.test")'), ['https://a.test/']);
  assert.deepEqual(links('<a href="javascript:x">https://a.test</a>'), ['https://a.test/']);
});

test('several links, unicode and line breaks', () => {
  const text = 'Ünïcode 😀 https://a.test/ü\nhttps://b.test/1 https://c.test';
  assert.deepEqual(links(text), ['https://a.test/%C3%BC', 'https://b.test/1', 'https://c.test/']);
  assert.equal(linkSegments(text).map((s) => s.text).join(''), text);
});
