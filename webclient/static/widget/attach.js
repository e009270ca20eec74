// The widget's paperclip: pick an image or a PDF, upload it with progress shown where the message will be, and
// an error kept there if the gateway refuses it (type, size, limits), also after a reload (refused.js). The file
// arrives back as an `attachment` event like a message (widget/timeline.js draws it with shared/upload.js).

import { ATTACH_ACCEPT, attachmentEl, progressText, uploadAttachment, uploadInOrder } from '../shared/upload.js';
import { HTTP_BASE } from './config.js';
import { W, bubbles, saveNow } from './state.js';
import { scrollToBottom, ui } from './panel.js';
import { newClientId } from '../shared/ids.js';
import { keepRefused, refusedNote } from './refused.js';
import { insertOrdered } from './timeline.js';

export function mountAttach() {
  const button = ui.root.querySelector('[data-testid=cg-attach]');
  const input = ui.root.querySelector('[data-testid=cg-file]');
  input.accept = ATTACH_ACCEPT;
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const files = Array.from(input.files || []);
    input.value = '';
    uploadInOrder(files, uploadLine, (file, clientId, onProgress) =>
      uploadAttachment(HTTP_BASE, W.token, file, { clientId, onProgress }));
  });
}

function uploadLineEl(clientId, status) {
  const el = document.createElement('div');
  el.className = 'cg-msg cg-upload';
  el.dataset.author = 'customer';
  el.dataset.status = status;
  el.dataset.clientId = clientId;
  el.dataset.testid = 'cg-upload';
  el.dir = 'auto';   // the file's name may be written right to left
  bubbles.set(clientId, el);
  return el;
}

/** A file's line in the conversation while it goes up (replaced by the attachment event, same client id); if it
 *  does not arrive, its note is kept (refused.js), after the last event shown now. */
function uploadLine(file) {
  const clientId = newClientId('f-');
  const el = uploadLineEl(clientId, 'sending');
  el.setAttribute('role', 'status');
  el.textContent = progressText(file, null);
  ui.messages.appendChild(el);
  scrollToBottom(true);
  return {
    clientId,
    progress: (f) => { if (el.dataset.status === 'sending') el.textContent = progressText(file, f); },
    done: () => {},
    failed: (text) => {
      const note = refusedNote(clientId, text, W.conv.id, W.lastEventId, Date.now());
      el.dataset.status = 'failed';
      el.dataset.after = note.after || '';
      el.setAttribute('role', 'alert');
      el.textContent = text;
      W.refused = keepRefused([...W.refused, note]);
      saveNow();
      scrollToBottom(true);
    },
  };
}

/** The kept notes of uploads that did not arrive, each in its place (after a reload: once the history is drawn). */
export function renderRefused() {
  for (const note of W.refused) {
    if (bubbles.has(note.client_id)) continue;   // on screen, or it arrived after all
    const el = uploadLineEl(note.client_id, 'failed');
    el.dataset.after = note.after || '';
    el.textContent = note.text;
    insertOrdered(el);
  }
}

/** An attachment event's bubble content (for widget/timeline.js). */
export function attachmentContent(ev) {
  return attachmentEl(ev, { base: HTTP_BASE, token: () => W.token, prefix: 'cg', root: ui.root });
}
