// Uploads go up one after the other in the order chosen, across calls (a drop, then a paste): the second call's
// files wait for the first call's, though its lines show at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uploadInOrder } from '../static/shared/upload.js';

function recorder(log) {
  return (file) => {
    log.push(`line ${file.name}`);
    return { clientId: file.name, progress: () => {}, done: () => log.push(`done ${file.name}`), failed: (t) => log.push(`failed ${t}`) };
  };
}

test('a later call waits for the files of an earlier one', async () => {
  const log = [];
  const delays = { 'dropped.png': 30, 'pasted.png': 1 };
  const upload = (file) => new Promise((resolve) => {
    log.push(`start ${file.name}`);
    setTimeout(() => resolve({ status: 200, body: {} }), delays[file.name]);
  });
  const first = uploadInOrder([{ name: 'dropped.png' }], recorder(log), upload);
  const second = uploadInOrder([{ name: 'pasted.png' }], recorder(log), upload);
  await Promise.all([first, second]);
  assert.deepEqual(log, [
    'line dropped.png', 'line pasted.png', // both shown at once
    'start dropped.png', 'done dropped.png', 'start pasted.png', 'done pasted.png',
  ]);
});

test('a failed or throwing upload does not stop the ones after it', async () => {
  const log = [];
  const upload = (file) => (file.name === 'a.png'
    ? Promise.reject(new Error('network down'))
    : Promise.resolve({ status: 413, body: { message: 'the file is over 10 MB' } }));
  await uploadInOrder([{ name: 'a.png' }, { name: 'b.png' }], recorder(log), upload);
  const ok = [];
  await uploadInOrder([{ name: 'c.png' }], recorder(ok), () => Promise.resolve({ status: 200, body: {} }));
  assert.deepEqual(log, [
    'line a.png', 'line b.png',
    'failed a.png was not sent: the connection failed. Check it and try again.',
    'failed b.png was not sent: the file is over 10 MB.',
  ]);
  assert.deepEqual(ok, ['line c.png', 'done c.png']);
});
