// The desk's attachments: the paperclip in the composer, files dropped on the conversation or pasted into the
// composer, uploaded to the selected conversation with progress and errors shown in the timeline; an attachment
// event drawn as a thumbnail or a file chip (shared/upload.js).

import { attachmentEl, progressText, uploadAttachment, uploadInOrder } from '../shared/upload.js';
import { S, ui } from './state.js';
import { h, toast } from './dom.js';
import { newClientId } from '../shared/ids.js';

export function initAttach() {
  const button = document.getElementById('attach-btn');
  const input = document.getElementById('attach-input');
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    sendFiles(Array.from(input.files || []));
    input.value = '';
  });
  ui.composer.addEventListener('paste', (e) => {
    const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
    if (files.length) { e.preventDefault(); sendFiles(files); }
  });
  const zone = ui.timelineWrap.parentElement;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  zone.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    const conv = S.convs.get(S.selected);
    zone.dataset.dropping = conv && !conv.closed ? 'true' : 'closed';
  });
  // leaving for a child of the zone is no leaving
  zone.addEventListener('dragleave', (e) => { if (!zone.contains(e.relatedTarget)) delete zone.dataset.dropping; });
  zone.addEventListener('drop', (e) => {
    delete zone.dataset.dropping;
    const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
    if (files.length) { e.preventDefault(); sendFiles(files); }
  });
}

function sendFiles(files) {
  const conv = S.convs.get(S.selected);
  if (!conv || conv.closed) { toast('Open a conversation to send a file.'); return; }
  const cid = conv.id;
  uploadInOrder(files, (file) => uploadLine(cid, file), (file, clientId, onProgress) =>
    uploadAttachment('', S.token, file, { clientId, conversationId: cid, onProgress }));
}

/** A file's line in the timeline while it goes up; the attachment event takes its place. */
function uploadLine(cid, file) {
  const clientId = newClientId('f-');
  const line = h('li', { class: 'tl-item tl-upload', 'data-client-id': clientId, 'data-status': 'sending', 'data-testid': 'upload', role: 'status' },
    progressText(file, null));
  if (S.selected === cid) { ui.timeline.append(line); line.scrollIntoView({ block: 'end' }); }
  return {
    clientId,
    progress: (f) => { if (line.dataset.status === 'sending') line.textContent = progressText(file, f); },
    done: () => line.remove(),
    failed: (text) => {
      line.dataset.status = 'failed';
      line.setAttribute('role', 'alert');
      line.textContent = text;
      if (line.isConnected) line.scrollIntoView({ block: 'end' });
      else toast(text);
    },
  };
}

/** The timeline item of an attachment event (desk/timeline.js). */
export function attachmentItem(ev, meta) {
  const author = ev.author === 'agent' ? 'agent' : 'customer';
  return h('li', {
    class: 'tl-item tl-msg tl-attachment',
    'data-type': 'attachment',
    'data-author': author,
    'data-event-id': ev.id,
    'data-client-id': ev.client_id || null,
    'data-status': 'sent',
  },
  h('div', { class: 'tl-bubble' }, attachmentEl(ev, { base: '', token: () => S.token, prefix: 'tl' })),
  h('div', { class: 'tl-meta' }, ...(Array.isArray(meta) ? meta : [meta]))); // (nodes: a name in its <bdi>)
}
