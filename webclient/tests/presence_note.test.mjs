// node --test webclient/tests: what the desk's top bar says of the agent's own status beyond the pill.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { presenceNote } from '../static/desk/presence_note.js';

test('the desk says why the gateway set the agent away, and not when the agent chose it', () => {
  const away = (reason) => presenceNote({ status: 'away', away_reason: reason, active: 0, capacity: 3 });
  assert.deepEqual(away('missed_call'), {
    kind: 'away',
    text: 'Set away: missed a call',
    short: 'Set away',
    title: 'You missed a call, so you were set to Away. Press Available when you are ready.',
  });
  assert.equal(away('declined_call').text, 'Set away: declined a call');
  assert.equal(away('call_lost').text, 'Set away: lost the connection during a call');
  assert.match(away('call_lost').title, /lost its connection during a call/);
  assert.match(away('agent_absent').title, /No desk of yours was open/);
  assert.equal(away('set_by_supervisor').text, 'Set away: by a supervisor');
  assert.match(away('set_by_supervisor').title, /A supervisor set you to Away/);
  for (const chosen of ['', 'break', 'lunch', 'agent_logged_out', 'toString', undefined]) assert.equal(away(chosen), null);
});

test('an available agent holding all the conversations they can is told that nothing new comes', () => {
  const note = (active, capacity, extra = {}) => presenceNote({ status: 'available', active, capacity, ...extra });
  assert.deepEqual(note(3, 3), {
    kind: 'full',
    text: 'Full: close a conversation for new work',
    short: 'Full',
    title: 'All 3 of your conversations are open: no new chat or call comes to you until you close one.',
  });
  assert.match(note(1, 1).title, /^Your conversation is open/);
  assert.equal(note(4, 3).kind, 'full'); // the capacity lowered under what they hold
  assert.equal(note(2, 3), null);
  assert.equal(note(0, 0), null); // not known yet
  assert.equal(note(3, 3, { status: 'away' }), null); // away says nothing of it: nothing would come anyway
  assert.equal(presenceNote({ status: 'available', active: 3, capacity: 3 }, { busy: true }), null); // on a call
  assert.equal(presenceNote({ status: 'available', active: 3, capacity: 3 }, { connected: false }), null);
  assert.equal(presenceNote({ status: 'away', away_reason: 'missed_call' }, { connected: false }), null);
  assert.equal(presenceNote(null), null);
});
