// The widget's paperclip: pick an image or a PDF, upload it with progress shown where the message will be, and
// an error kept there if the gateway refuses it (type, size, limits). The file arrives back as an `attachment`
// event like a message (widget/timeline.js draws it with shared/upload.js).

import { ATTACH_ACCEPT, attachmentEl, progressText, uploadAttachment, uploadInOrder } from '../shared/upload.js';
import { HTTP_BASE } from './config.js';
import { W, bubbles } from './state.js';
import { scrollToBottom, ui } from './panel.js';
import { newClientId } from '../shared/ids.js';

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

/** A file's line in the conversation while it goes up (replaced by the attachment event, same client id). */
function uploadLine(file) {
  const clientId = newClientId('f-');
  const el = document.createElement('div');
  el.className = 'cg-msg cg-upload';
  el.dataset.author = 'customer';
  el.dataset.status = 'sending';
  el.dataset.clientId = clientId;
  el.dataset.testid = 'cg-upload';
  el.setAttribute('role', 'status');
  el.textContent = progressText(file, null);
  bubbles.set(clientId, el);
  ui.messages.appendChild(el);
  scrollToBottom(true);
  return {
    clientId,
    progress: (f) => { if (el.dataset.status === 'sending') el.textContent = progressText(file, f); },
    done: () => {},
    failed: (text) => {
      el.dataset.status = 'failed';
      el.setAttribute('role', 'alert');
      el.textContent = text;
      scrollToBottom(true);
    },
  };
}

/** An attachment event's bubble content (for widget/timeline.js). */
export function attachmentContent(ev) {
  return attachmentEl(ev, { base: HTTP_BASE, token: () => W.token, prefix: 'cg', root: ui.root });
}
