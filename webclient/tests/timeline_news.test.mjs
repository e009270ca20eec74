import test from 'node:test';
import assert from 'node:assert/strict';
import { countsUnread, newsText } from '../static/desk/timeline_news.js';

const name = (ev) => (ev.author === 'customer' ? 'Customer' : ev.author === 'bot' ? 'Bot' : ev.agent_name || 'Agent');

test('a message from the customer is news, with who said it', () => {
  assert.equal(newsText({ type: 'message', author: 'customer', text: ' Hello ' }, 'alice', name), 'Customer: Hello');
});

test("the agent's own message, notes and system lines are not news", () => {
  assert.equal(newsText({ type: 'message', author: 'agent', agent_id: 'alice', text: 'Hi' }, 'alice', name), '');
  assert.equal(newsText({ type: 'note', author: 'agent', agent_id: 'bob', text: 'x' }, 'alice', name), '');
  assert.equal(newsText({ type: 'assigned', agent_id: 'bob' }, 'alice', name), '');
  assert.equal(newsText({ type: 'message', author: 'system', text: 'x' }, 'alice', name), '');
  assert.equal(newsText(null, 'alice', name), '');
});

test("another agent's message and the bot's are news; a file says its name; a long text is cut", () => {
  assert.equal(newsText({ type: 'message', author: 'agent', agent_id: 'bob', agent_name: 'Bob', text: 'Hi' }, 'alice', name),
    'Bob: Hi');
  assert.equal(newsText({ type: 'message', author: 'bot', text: 'Menu' }, 'alice', name), 'Bot: Menu');
  assert.equal(newsText({ type: 'attachment', author: 'customer', name: 'a.pdf' }, 'alice', name), 'Customer sent a file: a.pdf');
  const long = newsText({ type: 'message', author: 'customer', text: 'x'.repeat(400) }, 'alice', name);
  assert.equal(long.length, 'Customer: '.length + 301);
});

test("a supervisor's coaching note is news, and counts as unread with their messages; the agent's own never", () => {
  const coach = { type: 'note', agent_id: 'sara', agent_name: 'Sara', supervisor: true, text: ' Offer the refund ' };
  assert.equal(newsText(coach, 'alice', name), 'Coaching from Sara: Offer the refund');
  assert.equal(newsText({ ...coach, agent_id: 'alice' }, 'alice', name), ''); // (a supervisor's own note in their chat)
  assert.equal(countsUnread(coach, 'alice'), true);
  assert.equal(countsUnread({ type: 'message', author: 'agent', agent_id: 'sara', supervisor: true, text: 'Hi' }, 'alice'), true);
  assert.equal(countsUnread({ type: 'message', author: 'customer', text: 'Hi' }, 'alice'), true);
  assert.equal(countsUnread({ type: 'note', agent_id: 'bob', text: 'x' }, 'alice'), false);
  assert.equal(countsUnread({ type: 'message', author: 'agent', agent_id: 'alice', text: 'x' }, 'alice'), false);
  assert.equal(countsUnread({ type: 'supervisor_joined', agent_id: 'sara' }, 'alice'), false);
  assert.equal(countsUnread(null, 'alice'), false);
});
