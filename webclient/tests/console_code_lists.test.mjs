// The admin console's code lists (away reasons, dispositions), their pure part (admin/console_code_lists.js): the
// code suggested for a label, every row's problem at once (as the gateway would refuse it), a refusal's field in the
// view's words, and the codes the gateway keeps for itself, the same as the gateway's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import {
  AWAY_REASONS, DISPOSITIONS, codeProblems, entryName, ownWords, suggestCode, versionText,
} from '../static/admin/console_code_lists.js';

const rowsOf = (...pairs) => pairs.map(([label, code, fixed = true]) => ({ label, code, fixed }));
const said = (list, rows) => codeProblems(list, rows).map((p) => [p.index, p.part, p.message]);

test('a code is suggested from the label: lower case, accents gone, spaces to _, a-z 0-9 _ - only, 30 at most', () => {
  assert.equal(suggestCode('Other work'), 'other_work');
  assert.equal(suggestCode('Team Café 1:1'), 'team_cafe_11');
  assert.equal(suggestCode('  Sale made  '), 'sale_made');
  assert.equal(suggestCode('-- Follow-up!'), 'follow-up'); // no _ or - first
  assert.equal(suggestCode('x'.repeat(40)), 'x'.repeat(30));
  assert.equal(suggestCode('日本'), '');
});

test('an entry is named by its place, with the list\'s word', () => {
  assert.equal(entryName(AWAY_REASONS, 0), 'Reason 1');
  assert.equal(entryName(DISPOSITIONS, 2), 'Disposition 3');
});

test('the version line says the defaults in each list\'s words', () => {
  assert.equal(versionText(AWAY_REASONS, 0), '(defaults: not saved yet)');
  assert.equal(versionText(DISPOSITIONS, 0), "(the node's defaults: not saved yet)");
  assert.equal(versionText(DISPOSITIONS, 4), '(version 4)');
});

test('a refusal\'s field is said as the view names the row, for its own list only', () => {
  assert.equal(ownWords(DISPOSITIONS, "dispositions[1].code 'abandoned' is a disposition the gateway closes "
    + 'conversations with itself: choose another'), "Disposition 2 code 'abandoned' is a disposition the gateway "
    + 'closes conversations with itself: choose another');
  assert.equal(ownWords(AWAY_REASONS, 'reasons[6].label is 1 to 40 characters'), 'Reason 7 label is 1 to 40 characters');
  assert.equal(ownWords(DISPOSITIONS, 'dispositions[0] is {"code", "label"}'), 'Disposition 1 is {"code", "label"}');
  assert.equal(ownWords(DISPOSITIONS, 'reasons[0].code is wrong'), 'reasons[0].code is wrong');
  assert.equal(ownWords(AWAY_REASONS, 'the reasons were changed meanwhile'), 'the reasons were changed meanwhile');
});

test('a list the gateway would take has no problem', () => {
  const rows = rowsOf(['Resolved', 'resolved'], ['Sale made', 'sale', false], ['Follow up', 'follow-up']);
  assert.deepEqual(codeProblems(DISPOSITIONS, rows), []);
});

test('every row\'s problems at once, in order, each at its label or code', () => {
  const rows = rowsOf(
    ['Resolved', 'resolved'],
    ['Lost', 'abandoned', false], // the gateway's own
    ['Resolved again', 'resolved', false], // a saved row's code
    ['', 'spare', false], // no label
    ['Odd', '-odd code', false], // not a code
    ['x'.repeat(41), 'long', false],
    ['Bell\u0007', 'bell', false],
    ['Empty', ' ', false],
    ['Twin', 'twin', false],
    ['Twin too', 'twin', false], // the code of a new row before
  );
  assert.deepEqual(said(DISPOSITIONS, rows), [
    [1, 'code', 'Disposition 2 code: abandoned is a disposition the gateway closes conversations with itself: choose '
      + 'another.'],
    [2, 'code', 'Disposition 3 code: resolved is the code of disposition 1 too: choose another.'],
    [3, 'label', 'Disposition 4 label: give the disposition a label, or remove the row.'],
    [4, 'code', 'Disposition 5 code: 1 to 30 of a-z, 0-9, _ and -, starting with a letter or digit.'],
    [5, 'label', 'Disposition 6 label: at most 40 characters (it has 41).'],
    [6, 'label', 'Disposition 7 label: plain text only (no control characters).'],
    [7, 'code', 'Disposition 8 code: give the disposition a code (a-z, 0-9, _ and -).'],
    [9, 'code', 'Disposition 10 code: twin is the code of disposition 9 too: choose another.'],
  ]);
});

test('a label is counted in characters as the gateway counts them, and a saved code is not checked again', () => {
  assert.deepEqual(codeProblems(AWAY_REASONS, rowsOf(['😀'.repeat(40), 'smile', false])), []);
  assert.deepEqual(codeProblems(AWAY_REASONS, rowsOf(['Old', 'Not A Code'])), []); // the gateway's, as it gave it
});

test('each list refuses its own gateway codes only, "none" among the away reasons', () => {
  const away = (code) => said(AWAY_REASONS, rowsOf(['A', code, false]));
  assert.deepEqual(away('none'), [[0, 'code', 'Reason 1 code: none is a reason the gateway sets itself: choose another.']]);
  assert.deepEqual(away('missed_call').length, 1);
  assert.deepEqual(away('abandoned'), []); // a disposition's, not an away reason's
  assert.deepEqual(said(DISPOSITIONS, rowsOf(['A', 'none', false])), []);
  assert.deepEqual(said(DISPOSITIONS, rowsOf(['A', 'erased', false])).length, 1);
});

test('a list keeps 1 to 20 entries', () => {
  assert.deepEqual(said(DISPOSITIONS, []),
    [[null, null, 'Keep at least one disposition: agents close conversations with one.']]);
  assert.deepEqual(said(AWAY_REASONS, []),
    [[null, null, 'Keep at least one reason: agents choose one when they go away.']]);
  const many = Array.from({ length: 21 }, (_, i) => ({ label: `R${i}`, code: `r${i}`, fixed: false }));
  assert.deepEqual(said(AWAY_REASONS, many), [[null, null, 'At most 20 reasons.']]);
  assert.deepEqual(said(AWAY_REASONS, many.slice(0, 20)), []);
});

/** The quoted codes of a Python frozenset named `name` in a gateway file. */
async function gatewaySet(file, name) {
  const text = await readFile(new URL(`../../gateway/contact/${file}`, import.meta.url), 'utf8');
  const start = text.indexOf(`${name} = frozenset(`);
  assert.ok(start >= 0, `${name} in ${file}`);
  const block = text.slice(start, text.indexOf('\n\n', start)).replace(/#.*$/gm, ''); // the statement, no comments
  return [...block.matchAll(/"([a-z0-9_-]+)"/g)].map((m) => m[1]).sort();
}

test('the codes the console keeps out are the gateway\'s own', async () => {
  assert.deepEqual([...AWAY_REASONS.reserved].sort(), await gatewaySet('away_reasons.py', 'GATEWAY_REASONS'));
  assert.deepEqual([...DISPOSITIONS.reserved].sort(), await gatewaySet('dispositions.py', 'GATEWAY_DISPOSITIONS'));
});

test('two rows with one label (whatever their capitals) are marked, the second one', () => {
  const rows = [{ label: 'Lunch', code: 'lunch', fixed: true }, { label: 'LUNCH ', code: 'lunch2' }];
  assert.deepEqual(codeProblems(AWAY_REASONS, rows).map((p) => [p.index, p.part]), [[1, 'label']]);
});
