// node --test webclient/tests: away reasons, the pure part (desk/away_reasons.js): the center's list, a reason's
// words on the desk and the wallboard, the Away menu's model and keys, and the line said when a reason is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  GATEWAY_REASONS, awayFrame, awayMenu, gatewayReason, knownReasons, menuKey, openingIndex, ownReasonText, reasonLabel,
  reasonList, reasonRefused, refusedText,
} from '../static/desk/away_reasons.js';
import { stateText } from '../static/supervisor/wallboard_format.js';

const DEFAULTS = [
  { code: 'break', label: 'Break' },
  { code: 'lunch', label: 'Lunch' },
  { code: 'meeting', label: 'Meeting' },
  { code: 'training', label: 'Training' },
  { code: 'other', label: 'Other work' },
];

test('the list is taken as the gateway sends it, in its order, and nothing else', () => {
  assert.deepEqual(reasonList(DEFAULTS), DEFAULTS);
  assert.deepEqual(reasonList([{ code: 'b', label: ' B ' }, { code: 'a', label: 'A' }]), [
    { code: 'b', label: 'B' }, { code: 'a', label: 'A' }]); // the order to offer them, not sorted
  assert.deepEqual(reasonList([
    null, 'lunch', { code: 3, label: 'x' }, { code: '', label: 'none' }, { code: 'lunch', label: 'Lunch' },
    { code: 'lunch', label: 'Again' }, { code: 'missed_call', label: 'Missed' }, { code: 'gym', label: '  ' },
  ]), [{ code: 'lunch', label: 'Lunch' }, { code: 'gym', label: 'gym' }]);
  assert.deepEqual(reasonList([]), []); // a center with none: the plain Away button
  assert.equal(reasonList(undefined), null); // an older gateway said nothing
  assert.equal(reasonList({ reasons: DEFAULTS }), null);
});

test('a reason taken off the list keeps the label this page knew it by', () => {
  const now = [{ code: 'break', label: 'Short break' }, { code: 'coaching', label: 'Coaching' }];
  const known = knownReasons(DEFAULTS, now);
  assert.deepEqual(known.map((r) => r.code), ['break', 'coaching', 'lunch', 'meeting', 'training', 'other']);
  assert.equal(reasonLabel('break', known), 'Short break'); // the new label wins
  assert.equal(reasonLabel('meeting', known), 'Meeting');
  assert.equal(reasonLabel('meeting', now), 'meeting'); // never known here: the code
  assert.deepEqual(knownReasons(null, DEFAULTS), DEFAULTS);
  assert.deepEqual(knownReasons(DEFAULTS, null), DEFAULTS); // a welcome that said nothing forgets nothing
  assert.equal(knownReasons(null, null), null);
});

test('a reason reads as its label, the gateway\'s own in their words, any other as its code', () => {
  assert.equal(reasonLabel('lunch', DEFAULTS), 'Lunch');
  assert.equal(reasonLabel('other', DEFAULTS), 'Other work');
  assert.equal(reasonLabel('missed_call', DEFAULTS), 'missed a call');
  assert.equal(reasonLabel('set_by_supervisor', DEFAULTS), 'by a supervisor');
  assert.equal(reasonLabel('agent_removed', DEFAULTS), 'agent removed');
  assert.equal(reasonLabel('coaching', DEFAULTS), 'coaching'); // taken off the list since: the code itself
  assert.equal(reasonLabel('back_office', DEFAULTS), 'back office'); // (a narrow column may wrap it)
  assert.equal(reasonLabel('toString', DEFAULTS), 'toString');
  assert.equal(reasonLabel('', DEFAULTS), '');
  assert.equal(reasonLabel(undefined, DEFAULTS), '');
  // no list known (an older gateway): the words the wallboard always used
  assert.equal(reasonLabel('break', null), 'on a break');
  assert.equal(reasonLabel('back_office', null), 'back office');
  // a center whose admin relabelled "break"
  assert.equal(reasonLabel('break', [{ code: 'break', label: 'Short break' }]), 'Short break');
  assert.ok(GATEWAY_REASONS.every(gatewayReason));
  assert.equal(gatewayReason('lunch'), false);
});

test('the wallboard says an away agent\'s reason by its label', () => {
  assert.equal(stateText('away', 'lunch', DEFAULTS), 'Away — Lunch');
  assert.equal(stateText('away', 'other', DEFAULTS), 'Away — Other work');
  assert.equal(stateText('away', 'missed_call', DEFAULTS), 'Away — missed a call');
  assert.equal(stateText('away', 'declined_call', DEFAULTS), 'Away — declined a call');
  assert.equal(stateText('away', 'gone_fishing', DEFAULTS), 'Away — gone fishing');
  assert.equal(stateText('away', '', DEFAULTS), 'Away');
  assert.equal(stateText('away', 'lunch'), 'Away — lunch'); // before the welcome's list: as before
  assert.equal(stateText('available', '', DEFAULTS), 'Available');
});

test('the desk\'s top bar adds the agent\'s own reason to "Away", never the gateway\'s', () => {
  assert.equal(ownReasonText({ status: 'away', away_reason: 'lunch' }, DEFAULTS), 'Lunch');
  assert.equal(ownReasonText({ status: 'away', away_reason: 'other' }, DEFAULTS), 'Other work');
  assert.equal(ownReasonText({ status: 'away', away_reason: 'coaching' }, DEFAULTS), 'coaching'); // removed since
  assert.equal(ownReasonText({ status: 'away', away_reason: 'lunch' }, null), 'lunch');
  for (const gateway of GATEWAY_REASONS) {
    assert.equal(ownReasonText({ status: 'away', away_reason: gateway }, DEFAULTS), '');
  }
  assert.equal(ownReasonText({ status: 'away', away_reason: '' }, DEFAULTS), '');
  assert.equal(ownReasonText({ status: 'available', away_reason: 'lunch' }, DEFAULTS), '');
  assert.equal(ownReasonText(null, DEFAULTS), '');
});

test('the Away menu offers the list in its order, the current reason checked', () => {
  const menu = awayMenu(DEFAULTS, { status: 'away', away_reason: 'lunch' });
  assert.equal(menu.menu, true);
  assert.deepEqual(menu.items.map((i) => [i.code, i.label, i.current]), [
    ['break', 'Break', false], ['lunch', 'Lunch', true], ['meeting', 'Meeting', false],
    ['training', 'Training', false], ['other', 'Other work', false]]);
  assert.deepEqual(awayMenu(DEFAULTS, { status: 'available', away_reason: '' }).items.filter((i) => i.current), []);
  const setAway = awayMenu(DEFAULTS, { status: 'away', away_reason: 'missed_call' });
  assert.deepEqual(setAway.items.filter((i) => i.current), []);
  assert.deepEqual(awayMenu([], { status: 'available' }), { menu: false, items: [] }); // none: the plain button
  assert.deepEqual(awayMenu(null, null), { menu: false, items: [] });
  assert.equal(openingIndex(menu.items), 1); // opens on the current reason
  assert.equal(openingIndex(awayMenu(DEFAULTS, null).items), 0);
  assert.equal(openingIndex(menu.items, { last: true }), 4);
  assert.equal(openingIndex([]), -1);
  assert.deepEqual(awayFrame('lunch'), { type: 'status', status: 'away', reason: 'lunch' });
  assert.deepEqual(awayFrame(undefined), { type: 'status', status: 'away', reason: '' });
});

test('keys move in the menu, wrap around, choose, and close it', () => {
  const labels = DEFAULTS.map((r) => r.label);
  assert.deepEqual(menuKey('ArrowDown', 0, 5), { focus: 1 });
  assert.deepEqual(menuKey('ArrowDown', 4, 5), { focus: 0 });
  assert.deepEqual(menuKey('ArrowUp', 0, 5), { focus: 4 });
  assert.deepEqual(menuKey('ArrowUp', 3, 5), { focus: 2 });
  assert.deepEqual(menuKey('ArrowDown', -1, 5), { focus: 0 });
  assert.deepEqual(menuKey('ArrowUp', -1, 5), { focus: 4 });
  assert.deepEqual(menuKey('Home', 3, 5), { focus: 0 });
  assert.deepEqual(menuKey('End', 0, 5), { focus: 4 });
  assert.deepEqual(menuKey('Enter', 2, 5), { choose: true });
  assert.deepEqual(menuKey(' ', 2, 5), { choose: true });
  assert.equal(menuKey('Enter', -1, 5), null); // nothing focused: nothing chosen
  assert.deepEqual(menuKey('Escape', 2, 5), { close: 'button' });
  assert.deepEqual(menuKey('Tab', 2, 5), { close: 'leave' });
  assert.deepEqual(menuKey('Escape', -1, 0), { close: 'button' });
  assert.equal(menuKey('ArrowDown', 0, 0), null);
  // a first letter: the next item starting with it, around the end
  assert.deepEqual(menuKey('m', 0, 5, labels), { focus: 2 });
  assert.deepEqual(menuKey('T', 0, 5, labels), { focus: 3 });
  assert.deepEqual(menuKey('b', 1, 5, labels), { focus: 0 });
  const twoB = ['Break', 'Lunch', 'Briefing'];
  assert.deepEqual(menuKey('b', 0, 3, twoB), { focus: 2 });
  assert.deepEqual(menuKey('b', 2, 3, twoB), { focus: 0 });
  assert.equal(menuKey('z', 0, 5, labels), null);
  assert.equal(menuKey('Shift', 0, 5, labels), null);
  assert.equal(menuKey('F5', 0, 5, labels), null);
});

test('a refused reason is told in one line', () => {
  const refused = { type: 'error', code: 'bad_field', field: 'reason',
    message: "'lunch' is not an away reason of this center (reasons: break, coaching)" };
  assert.equal(reasonRefused(refused), true);
  assert.equal(reasonRefused({ ...refused, field: 'status' }), false);
  assert.equal(reasonRefused({ ...refused, code: 'forbidden' }), false);
  assert.equal(reasonRefused({ type: 'ack', field: 'reason' }), false);
  assert.equal(reasonRefused(null), false);
  assert.equal(refusedText('Lunch'), 'Lunch is no longer a reason here: choose another');
  assert.equal(refusedText(''), 'That reason is no longer a reason here: choose another');
  assert.equal(refusedText('Lunch', { stillThere: true, message: refused.message }), refused.message);
});
