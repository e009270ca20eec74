// node --test webclient/tests: the emoji picker's caret insertion and grid keys, and the transcript file's text.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EMOJI, gridMove, insertAt } from '../static/shared/emoji.js';
import { hasTranscript, transcriptText } from '../static/shared/transcript.js';

test('an emoji goes at the caret, replacing the selection, and the caret follows it', () => {
  assert.deepEqual(insertAt('Thanks!', 6, 6, ' 👍'), { value: 'Thanks 👍!', caret: 9 });
  assert.deepEqual(insertAt('I hate it', 2, 6, '❤️'), { value: 'I ❤️ it', caret: 4 });
  assert.deepEqual(insertAt('', 0, 0, '😀'), { value: '😀', caret: 2 });
  assert.deepEqual(insertAt('abc', undefined, undefined, '😀'), { value: 'abc😀', caret: 5 });   // no caret: the end
  assert.deepEqual(insertAt('abc', 99, 120, 'x'), { value: 'abcx', caret: 4 });
  assert.deepEqual(insertAt(null, 0, 0, 'x'), { value: 'x', caret: 1 });
});

test('the picker has a name for every emoji, each once, and no image or address', () => {
  assert.ok(EMOJI.length >= 24);
  assert.equal(new Set(EMOJI.map(([c]) => c)).size, EMOJI.length);
  for (const [char, name] of EMOJI) {
    assert.ok(char && !/[a-z/:.]/i.test(char), char);
    assert.match(name, /^[a-z][a-z -]+$/);
  }
});

test('arrow keys move in the grid, wrapping', () => {
  assert.equal(gridMove('ArrowRight', 0, 32, 8), 1);
  assert.equal(gridMove('ArrowRight', 31, 32, 8), 0);
  assert.equal(gridMove('ArrowLeft', 0, 32, 8), 31);
  assert.equal(gridMove('ArrowDown', 3, 32, 8), 11);
  assert.equal(gridMove('ArrowDown', 27, 32, 8), 3);
  assert.equal(gridMove('ArrowUp', 11, 32, 8), 3);
  assert.equal(gridMove('ArrowUp', 3, 32, 8), 27);
  assert.equal(gridMove('ArrowUp', 7, 30, 8), 23);   // last row is short: the lowest cell of the column
  assert.equal(gridMove('Home', 9, 32, 8), 0);
  assert.equal(gridMove('End', 9, 32, 8), 31);
  assert.equal(gridMove('a', 9, 32, 8), null);
});

test('the transcript has the messages and attachments in order with their authors, and leaves out buttons', () => {
  const stamp = (ts) => `T${ts}`;
  const events = [
    { id: '300-0', type: 'message', ts: 300, author: 'agent', agent_name: 'Alice Smith', text: 'Yes: https://shop.test/n' },
    { id: '100-0', type: 'opened', ts: 100 },
    { id: '200-0', type: 'message', ts: 200, author: 'customer', text: 'Do you ship to Norway? 🇳🇴\nAnd Åland?' },
    { id: '250-0', type: 'assigned', ts: 250, agent_name: 'Alice Smith' },
    { id: '260-0', type: 'choices', ts: 260, choices: [{ key: '1', label: 'x' }] },
    { id: '300-1', type: 'message', ts: 300, author: 'bot', text: 'Bye' },
    { id: '310-0', type: 'attachment', ts: 310, author: 'customer', name: 'box.jpg', media_type: 'image/jpeg' },
    { id: '320-0', type: 'attachment', ts: 320, author: 'agent', agent_name: 'Alice Smith', name: 'label.pdf', media_type: 'application/pdf' },
    { id: '400-0', type: 'closed', ts: 400 },
    { id: '500-0', type: 'rating', ts: 500, score: 5, comment: 'Great' },
  ];
  assert.equal(transcriptText(events, { title: 'Shop chat', stamp, now: 999 }), [
    'Shop chat',
    'Downloaded T999',
    '',
    '[T100] --- New conversation ---',
    '[T200] You: Do you ship to Norway? 🇳🇴',
    '    And Åland?',
    '[T250] (Alice Smith joined)',
    '[T300] Alice Smith: Yes: https://shop.test/n',
    '[T300] Assistant: Bye',
    '[T310] You: [image: box.jpg]',
    '[T320] Alice Smith: [file: label.pdf]',
    '[T400] (The conversation was closed)',
    '[T500] (You rated it 5 out of 5: Great)',
    '',
  ].join('\n'));
  assert.equal(transcriptText([], { stamp, now: 1 }), 'Conversation transcript\nDownloaded T1\n\n');
});

test('a transcript is worth downloading once something was said, sent, called or rated', () => {
  assert.equal(hasTranscript([]), false);
  assert.equal(hasTranscript(null), false);
  assert.equal(hasTranscript([{ id: '1-0', type: 'opened' }, { id: '2-0', type: 'assigned' }]), false);
  assert.equal(hasTranscript([{ id: '1-0', type: 'opened' }, { id: '2-0', type: 'message', text: 'hi' }]), true);
  assert.equal(hasTranscript([{ id: '3-0', type: 'attachment', name: 'a.pdf' }]), true);
});

test("a supervisor who joined the chat is named so in the transcript, as in the widget", () => {
  const stamp = (ts) => `T${ts}`;
  const events = [
    { id: '1-0', type: 'supervisor_joined', ts: 1, agent_name: 'Sara Lee' },
    { id: '2-0', type: 'message', ts: 2, author: 'agent', agent_name: 'Sara Lee', supervisor: true, text: 'Hello' },
    { id: '3-0', type: 'supervisor_left', ts: 3, agent_name: 'Sara Lee', reason: 'left' },
  ];
  assert.deepEqual(transcriptText(events, { title: 't', stamp, now: 9 }).split('\n').slice(3, 6), [
    '[T1] (Sara Lee (supervisor) joined the chat)',
    '[T2] Sara Lee (supervisor): Hello',
    '[T3] (Sara Lee (supervisor) left the chat)',
  ]);
});
