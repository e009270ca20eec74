// Attachments in the browser (widget and desk): upload with progress, files fetched with the bearer token (never
// a token in a URL) into blob: URLs, and the element that shows an `attachment` event: an image's thumbnail that
// opens the full image, or a file chip (name, size) that downloads it. docs/protocol.md "Attachments".

export const ATTACH_ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,application/pdf';

/** POST the file: resolves {status, body}; onProgress(fraction) while it goes up (XMLHttpRequest has progress). */
export function uploadAttachment(base, token, file, { clientId, conversationId, onProgress } = {}) {
  const params = new URLSearchParams({ name: file.name || 'file', client_id: clientId });
  if (conversationId) params.set('conversation_id', conversationId);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${base}/api/attachments?${params}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token || ''}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (onProgress) xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => resolve({ status: 0, body: { message: 'network error' } });
    xhr.send(file);
  });
}

/** The file at `path` as a blob: URL (the caller revokes it when done with it). */
export async function attachmentBlobUrl(base, token, path) {
  const res = await fetch(base + path, { headers: { Authorization: `Bearer ${token || ''}` }, cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1000) return `${n} B`;
  if (n < 1000 * 1000) return `${Math.round(n / 100) / 10} kB`;
  return `${Math.round(n / 100000) / 10} MB`;
}

function attachmentPath(ev, suffix) {
  return `/api/attachments/${encodeURIComponent(ev.conversation_id)}/${encodeURIComponent(ev.attachment_id)}${suffix}`;
}

/** Download (a PDF) or open (an image, in a new tab) the whole file. */
async function openAttachment(ev, ctx) {
  const url = await attachmentBlobUrl(ctx.base, ctx.token(), attachmentPath(ev, ''));
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  if (String(ev.media_type).startsWith('image/')) a.target = '_blank';
  else a.download = ev.name || 'file.pdf';
  a.style.display = 'none';
  (ctx.root || document.body).appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

const ICON_FILE = '<svg viewBox="0 0 24 24" width="28" height="28" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><path d="M14 2v6h6"/><path d="M12 12v6"/><path d="m9 15 3 3 3-3"/></svg>';

/** What an upload line says when the gateway (or the network) refused the file: "<name> was not sent: <why>". */
export function uploadError(name, result) {
  const body = result.body || {};
  let why = body.message || 'the upload failed';
  if (result.status === 0) why = 'the connection failed. Check it and try again';
  else if (result.status === 429) why = 'too many files for now. Try again in a few minutes';
  return `${name} was not sent: ${why}.`.replace(/\.\.$/, '.');
}

// Every upload of the page, one after the other: a drop, a paste and the file picker each call uploadInOrder, and a
// file chosen later must not arrive first (two drops in a row went up at once, and the second could land first).
let uploading = Promise.resolve();

/**
 * Upload `files` one after the other, in the order chosen (so they arrive in that order), after those chosen
 * before on this page: `line(file)` makes and shows each one's progress line at once and returns
 * {progress(fraction), done(), failed(text)}. Resolves when these files are done.
 */
export function uploadInOrder(files, line, upload) {
  const lines = files.map((file) => [file, line(file)]);
  const mine = uploading.then(async () => {
    for (const [file, ui] of lines) {
      let result;
      try {
        result = await upload(file, ui.clientId, (f) => ui.progress(f));
      } catch (err) { // (uploadAttachment resolves on every failure; a thrown one must not stop the files after it)
        result = { status: 0, body: { message: String(err && err.message ? err.message : err) } };
      }
      if (result.status === 200) ui.done();
      else ui.failed(uploadError(file.name || 'The file', result));
    }
  });
  uploading = mine;
  return mine;
}

/** An upload line's text while it goes up. */
export function progressText(file, fraction) {
  const pct = fraction === null ? 'waiting' : `uploading ${Math.round(fraction * 100)}%`;
  return `${file.name} · ${fileSize(file.size)} · ${pct}`;
}

/**
 * The content of an attachment event: ctx = {base, token: () => string, prefix (class/testid prefix), root}.
 * A button (keyboard: Enter/Space): an image's thumbnail labelled "Open image <name> (<size>)", or a file chip whose
 * visible text (icon, name, "PDF · size") is its name, after a hidden "Download"; errors are shown next to it.
 */
export function attachmentEl(ev, ctx) {
  const p = ctx.prefix || 'cg';
  const name = typeof ev.name === 'string' ? ev.name : 'file';
  const image = String(ev.media_type).startsWith('image/');
  const wrap = document.createElement('div');
  wrap.className = `${p}-att`;
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.className = image ? `${p}-att-thumb` : `${p}-att-file`;
  btn.dataset.testid = image ? `${p}-att-image` : `${p}-att-file`;
  const err = document.createElement('span');
  err.className = `${p}-att-error`;
  err.setAttribute('role', 'alert');
  if (image) {
    btn.setAttribute('aria-label', `Open image ${name} (${fileSize(ev.size)})`);
    btn.title = `Open ${name} in a new tab`;
    const img = document.createElement('img');
    img.alt = '';
    const w = Number(ev.width) || 0;
    const hgt = Number(ev.height) || 0;
    if (w && hgt) { const s = Math.min(1, 240 / Math.max(w, hgt)); img.width = Math.round(w * s); img.height = Math.round(hgt * s); }
    btn.appendChild(img);
    attachmentBlobUrl(ctx.base, ctx.token(), attachmentPath(ev, '/thumbnail'))
      .then((url) => { img.src = url; })
      .catch(() => { err.textContent = `${name}: image not available`; });
  } else {
    btn.title = `Download ${name}`;
    btn.insertAdjacentHTML('afterbegin', ICON_FILE);
    const hidden = document.createElement('span');
    hidden.className = `${p}-att-sr`;
    hidden.textContent = 'Download ';
    const label = document.createElement('span');
    label.className = `${p}-att-name`;
    label.textContent = name;
    const size = document.createElement('span');
    size.className = `${p}-att-size`;
    size.textContent = `PDF · ${fileSize(ev.size)}`;
    const text = document.createElement('span');
    text.className = `${p}-att-text`;
    text.append(hidden, label, size);
    btn.append(text);
  }
  btn.addEventListener('click', () => {
    err.textContent = '';
    openAttachment(ev, ctx).catch(() => { err.textContent = `${name}: download failed. Try again`; });
  });
  wrap.append(btn, err);
  return wrap;
}
