// node --test webclient/tests: supervisors acting on an agent from the wallboard, the rules
// (supervisor/wallboard_agent_rules.js): what a row offers, the requests, every sentence; and the desk's sign-in
// sentence for a session a supervisor ended (desk/config.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  actionsLabel, agentName, factsText, offers, onCall, pendingText, refusalText, request, resultText, signOutText,
} from '../static/supervisor/wallboard_agent_rules.js';
import { SIGNED_OUT, signedOutText } from '../static/desk/config.js';

const plain = (s) => s.replace(/[\u2066-\u2069]/g, ''); // our sentences isolate names (FSI ... PDI)

function agent(extra = {}) {
  return { id: 'alice', name: 'Alice Smith', state: 'available', since: 1, away_reason: '', conversations: 2,
    capacity: 2, call: null, handled_today: 0, ...extra };
}

test('what a row offers follows the board state: away, available, or both when the board cannot tell', () => {
  const pick = (a, me = 'carol') => {
    const o = offers(a, me);
    return [o.away, o.available, o.signOut, Boolean(o.blocked)];
  };
  assert.deepEqual(pick(agent({ state: 'available' })), [true, false, true, false]);
  assert.deepEqual(pick(agent({ state: 'away', away_reason: 'missed_call' })), [false, true, true, false]);
  // busy with chats only (full): their status is available
  assert.deepEqual(pick(agent({ state: 'busy' })), [true, false, true, false]);
  // on a call, or after-call work: the board does not say whether they are available or away
  const connected = { call_id: 'k1', status: 'connected', since: 5, reconnecting: false };
  assert.deepEqual(pick(agent({ state: 'busy', call: connected })), [true, true, true, true]);
  assert.deepEqual(pick(agent({ state: 'wrap_up' })), [true, true, true, false]);
  // a call only ringing for them goes on to the next agent: no reason not to sign out
  const ringing = { call_id: 'k2', status: 'ringing', since: 5, reconnecting: false };
  assert.deepEqual(pick(agent({ state: 'busy', call: ringing })), [true, true, true, false]);
  // a call waiting for their desk to come back is theirs still
  const back = { call_id: 'k3', status: 'waiting', since: 5, reconnecting: true };
  assert.deepEqual(pick(agent({ state: 'busy', call: back })), [true, true, true, true]);
  // their own row: Log out signs the supervisor out, not this
  assert.deepEqual(pick(agent({ id: 'carol', name: 'Carol White' }), 'carol'), [true, false, false, false]);
});

test('a call in progress says why there is no sign-out, and what to do instead', () => {
  const o = offers(agent({ state: 'busy', call: { call_id: 'k1', status: 'connected', reconnecting: false } }), 'carol');
  assert.equal(plain(o.blocked), 'Alice Smith is on a call: signing out now would cut the caller off. Set them away '
    + '(no new chat or call comes to them), and sign them out when the call ends.');
  assert.equal(onCall(agent()), false);
  assert.equal(onCall(null), false);
});

test('the requests are the gateway routes, the id encoded', () => {
  assert.deepEqual(request('away', 'alice'), { path: '/api/supervisor/agents/alice/status', body: { status: 'away' } });
  assert.deepEqual(request('available', 'alice'),
    { path: '/api/supervisor/agents/alice/status', body: { status: 'available' } });
  assert.deepEqual(request('signOut', 'a b'), { path: '/api/supervisor/agents/a%20b/logout', body: undefined });
});

test("the row's button is named for the agent; a row without a name uses the id", () => {
  assert.equal(actionsLabel(agent()), 'Actions for \u2068Alice Smith\u2069');
  assert.equal(agentName({ id: 'dan', name: '  ' }), 'dan');
  assert.equal(agentName(null), 'This agent');
});

test('the sign-out confirmation says what happens: the desk closes, they are set away, their chats go back', () => {
  assert.equal(plain(signOutText(agent())),
    'Alice Smith’s desk closes and shows the sign-in, and they are set away; their 2 chats go back to the queue.');
  assert.equal(plain(signOutText(agent({ conversations: 1 }))),
    'Alice Smith’s desk closes and shows the sign-in, and they are set away; their chat goes back to the queue.');
  assert.equal(plain(signOutText(agent({ conversations: 0 }))),
    'Alice Smith’s desk closes and shows the sign-in, and they are set away; they have no chat to hand back.');
  const ringing = agent({ conversations: 0, call: { call_id: 'k2', status: 'ringing', reconnecting: false } });
  assert.equal(plain(signOutText(ringing)), 'Alice Smith’s desk closes and shows the sign-in, and they are set away; '
    + 'they have no chat to hand back. The call ringing for them goes on to the next agent.');
});

test('pending and done, in words', () => {
  assert.deepEqual(['away', 'available', 'signOut'].map((k) => plain(pendingText(k, agent()))),
    ['Setting Alice Smith away…', 'Making Alice Smith available…', 'Signing Alice Smith out…']);
  assert.equal(plain(resultText('away', agent(), { id: 'alice', status: 'away', away_reason: 'set_by_supervisor' })),
    'Alice Smith is away now: no new chat or call comes to them.');
  const onACall = agent({ state: 'busy', call: { call_id: 'k1', status: 'connected', reconnecting: false } });
  assert.equal(plain(resultText('away', onACall, { status: 'away', activity: 'on_call' })),
    'Alice Smith is away now: no new chat or call comes to them. The call they are on goes on.');
  assert.equal(plain(resultText('available', agent({ state: 'away' }), { status: 'available' })),
    'Alice Smith is available now: the next chat or call can go to them.');
  assert.equal(plain(resultText('signOut', agent(), { status: 'signed_out', sessions: 1, requeued: 2 })),
    'Alice Smith is signed out and set away: 2 chats went back to the queue.');
  assert.equal(plain(resultText('signOut', agent(), { status: 'signed_out', sessions: 2, requeued: 1 })),
    'Alice Smith is signed out and set away: 1 chat went back to the queue.');
  assert.equal(plain(resultText('signOut', agent(), { status: 'signed_out', sessions: 1, requeued: 0 })),
    'Alice Smith is signed out and set away: they had no chat to hand back.');
  assert.equal(plain(resultText('signOut', agent(), { status: 'signed_out', sessions: 0, requeued: 0 })),
    'Alice Smith had no session open any more: they are set away, and they had no chat to hand back.');
});

test("a refusal says the gateway's message in words, or why no answer came", () => {
  const problem = (status, code, message) => Object.assign(new Error(message), { status, code });
  assert.equal(plain(refusalText('available', agent(), problem(409, 'conflict',
    'Alice Smith has no desk open: only they can make themselves available by opening it'))),
  'Could not make Alice Smith available: Alice Smith has no desk open: only they can make themselves available by '
    + 'opening it.');
  assert.equal(plain(refusalText('signOut', agent(), problem(409, 'call_in_progress',
    'Alice Smith is on a call: set them away (no new contact comes), and sign them out when it ends'))),
  'Could not sign Alice Smith out: Alice Smith is on a call: set them away (no new contact comes), and sign them out '
    + 'when it ends.');
  assert.equal(plain(refusalText('away', agent(), problem(404, 'not_found', "there is no agent 'alice'."))),
    "Could not set Alice Smith away: there is no agent 'alice'.");
  assert.equal(plain(refusalText('away', agent(), problem(403, 'forbidden', 'x'))),
    'Could not set Alice Smith away: only supervisors and admins can do that.');
  assert.equal(plain(refusalText('away', agent(), problem(502, undefined, 'HTTP 502'))),
    'Could not set Alice Smith away: refused (HTTP 502).');
  assert.equal(plain(refusalText('away', agent(), problem(503, 'store_unavailable', 'redis'))),
    'Could not set Alice Smith away: the gateway could not store it just now. Try again in a moment.');
  assert.equal(plain(refusalText('signOut', agent(), new TypeError('Failed to fetch'))),
    'Could not sign Alice Smith out: the gateway did not answer. Check the connection and try again.');
});

test("the dialog's facts line: state, chats, call", () => {
  assert.equal(factsText(agent(), 'Available'), 'Available · 2 / 2 chats');
  assert.equal(factsText(agent({ capacity: 1, conversations: 0 }), 'Away — by a supervisor'),
    'Away — by a supervisor · 0 / 1 chat');
  assert.equal(factsText(agent({ call: { status: 'connected', reconnecting: false } }), 'Busy'),
    'Busy · 2 / 2 chats · on a call');
  assert.equal(factsText(agent({ call: { status: 'ringing', reconnecting: false } }), 'Busy'),
    'Busy · 2 / 2 chats · a call rings for them');
});

test("the desk's sign-in says a supervisor signed the agent out; other revocations read as before", () => {
  assert.equal(signedOutText('session_revoked', 'a supervisor signed you out; log in again'),
    'A supervisor signed you out. Please sign in again.');
  assert.equal(signedOutText('session_revoked', 'an admin changed your roles; log in again'),
    'You were signed out: an admin changed your roles. Please sign in again.');
  assert.equal(signedOutText('session_revoked', 'your session was revoked; log in again'), SIGNED_OUT.session_revoked);
  assert.equal(signedOutText('session_revoked', undefined), SIGNED_OUT.session_revoked);
  assert.equal(signedOutText('token_expired', 'a supervisor signed you out'), SIGNED_OUT.token_expired);
  assert.equal(signedOutText('unauthorized', ''), SIGNED_OUT.unauthorized);
});
