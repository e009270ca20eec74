import test from 'node:test';
import assert from 'node:assert/strict';
import { mergedContext, siteContext } from '../static/widget/page_context.js';

test('a site context keeps valid keys as text and says what it left out', () => {
  const { context, problems } = siteContext({ plan: 'gold', visits: 3, member: true, page: 'x', 'Bad-Key': 'y', cart: { items: 2 } });
  assert.deepEqual(context, { plan: 'gold', visits: '3', member: 'true' });
  assert.equal(problems.length, 3);
  assert.match(problems.join(' '), /"page" is the widget's own/);
  assert.match(problems.join(' '), /"Bad-Key" is not a context key/);
  assert.match(problems.join(' '), /"cart" is not text/);
});

test('values are cut to the protocol length and keys to the count left beside page and title', () => {
  const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, 'v'.repeat(600)]));
  const { context, problems } = siteContext(many);
  assert.equal(Object.keys(context).length, 18);
  assert.equal(context.k0.length, 500);
  assert.equal(problems.length, 7);
  assert.deepEqual(siteContext('gold').context, {});
  assert.deepEqual(siteContext(null), { context: {}, problems: [] });
});

test('setContext adds to what the tag said; a key set to null is taken out', () => {
  const tag = mergedContext({}, { plan: 'gold', cart_items: 3 }).context;
  const { context, problems } = mergedContext(tag, { order: 'A-1042', plan: null, vip: true });
  assert.deepEqual(context, { cart_items: '3', order: 'A-1042', vip: 'true' });
  assert.deepEqual(problems, []);
  assert.deepEqual(mergedContext(tag, 'gold').context, tag);  // not an object: nothing changes
  const full = Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`k${i}`, 'v']));
  const over = mergedContext(full, { one_more: 'x', k0: 'changed' });
  assert.equal(over.context.k0, 'changed');
  assert.ok(!('one_more' in over.context) && over.problems[0].includes('too many keys'));
});
