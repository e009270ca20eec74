// The widget's paperclip: pick an image or a PDF, upload it with progress shown where the message will be, and
// an error kept there if the gateway refuses it (type, size, limits). The file arrives back as an `attachment`
// event like a message (widget/timeline.js draws it with shared/upload.js).

import { ATTACH_ACCEPT, attachmentEl, fileSize, uploadAttachment } from '../shared/upload.js';
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
    for (const file of Array.from(input.files || [])) sendFile(file);
    input.value = '';
  });
}

async function sendFile(file) {
  const clientId = newClientId('f-');
  const el = document.createElement('div');
  el.className = 'cg-msg cg-upload';
  el.dataset.author = 'customer';
  el.dataset.status = 'sending';
  el.dataset.clientId = clientId;
  el.dataset.testid = 'cg-upload';
  el.setAttribute('role', 'status');
  el.textContent = `${file.name} · ${fileSize(file.size)} · uploading 0%`;
  bubbles.set(clientId, el);
  ui.messages.appendChild(el);
  scrollToBottom(true);
  const result = await uploadAttachment(HTTP_BASE, W.token, file, {
    clientId,
    onProgress: (f) => { if (el.dataset.status === 'sending') el.textContent = `${file.name} · uploading ${Math.round(f * 100)}%`; },
  });
  if (result.status === 200) return; // the event replaces this line (same client id)
  el.dataset.status = 'failed';
  el.setAttribute('role', 'alert');
  el.textContent = `${file.name} was not sent: ${(result.body && result.body.message) || 'upload failed'}`;
}

/** An attachment event's bubble content (for widget/timeline.js). */
export function attachmentContent(ev) {
  return attachmentEl(ev, { base: HTTP_BASE, token: () => W.token, prefix: 'cg', root: ui.root });
}
