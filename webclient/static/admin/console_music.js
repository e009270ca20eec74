// A queue's music on hold in the queue form: a picker of the audio files of the flows directory (GET
// /api/admin/music), each with its size, and a Listen button that plays the chosen one (GET /api/admin/music/{name},
// fetched with the session's token, played from a blob: URL). The control is named `music`, so a refusal naming that
// field lands next to it; when the list cannot be loaded the admin types a file's name instead (the old text input).

import { S } from '../desk/state.js';
import { refreshToken } from '../desk/auth.js';
import { call, enc } from './console_api.js';
import { field, h, input, problemText } from './console_dom.js';

/** The gateway's rule for the name a queue stores (gateway/contact/queues.py MUSIC_NAME). */
export const MUSIC_NAME = /^[A-Za-z0-9_.-]{1,100}\.(wav|mp3|ogg)$/;
const GENERATED = 'Generated music (the gateway\u2019s own)';
const HINT = 'Callers waiting in this queue, and callers their agent puts on hold, hear it in a loop. Files: the .wav, '
  + '.mp3 and .ogg files of the flows directory (1 s to 10 minutes).';
const NO_FILES = 'No music files yet: callers hear the gateway\u2019s own music. To use your own, put a .wav, .mp3 or '
  + '.ogg file (1 s to 10 minutes) in the gateway\u2019s flows directory, then open this form again.';

/** The music files of the flows directory, by name: resolves to [{name, bytes}]; rejects as call() does. */
export async function musicFiles() {
  return (await call('/api/admin/music')).files || [];
}

/** GET `path`'s body as a Blob with the session's token (as desk/api.js sends it; an expired token is refreshed once,
 * as console_api.js's call() does). Throws Error {status, code, field, body} for a refusal, like call(). */
export async function fetchBlob(path) {
  const get = () => fetch(path, { headers: { Authorization: `Bearer ${S.token || ''}` }, cache: 'no-store' });
  let res = await get();
  if (res.status === 401 && (await refreshToken())) res = await get();
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    throw Object.assign(new Error((data && data.message) || `HTTP ${res.status}`),
      { status: res.status, code: data && data.code, field: data && data.field, body: data });
  }
  return res.blob();
}

/** A file's size as people read it: "812 bytes", "192 kB", "1.2 MB". */
export function sizeText(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1000) return `${n} bytes`;
  if (n < 1000 * 1000) return `${Math.round(n / 1000)} kB`;
  return `${(n / (1000 * 1000)).toFixed(1)} MB`;
}

/** The options of the picker: [[value, text, disabled]]: the generated music, the stored `current` when the
 * directory has no such file (kept, so saving the queue unchanged does not change it), then every file (one whose
 * name a queue cannot store is shown, not offered). */
export function musicOptions(files, current) {
  const out = [['', GENERATED, false]];
  if (current && !files.some((f) => f.name === current)) {
    out.push([current, `${current} \u2014 not in the flows directory`, false]);
  }
  for (const f of files) {
    const usable = MUSIC_NAME.test(f.name);
    out.push([f.name, `${f.name} \u2014 ${sizeText(f.bytes)}${usable ? '' : ' (rename it: letters, digits, _ . - only, '
      + 'ending .wav, .mp3 or .ogg)'}`, !usable]);
  }
  return out;
}

/** The form's music field: {wrap, stop()}. `files` is musicFiles()'s promise (one per dialog); until it settles the
 * select holds the stored value alone. `readOnly`: the choice is disabled, Listen still plays it. stop() ends any
 * playback (the dialog closed, or the form is made again). */
export function musicPicker(current, files, { readOnly = false } = {}) {
  let control = h('select', { name: 'music', disabled: readOnly },
    h('option', { value: current || '', selected: true }, current || GENERATED));
  const made = field('Music on hold', control, { hint: HINT });
  const hint = made.wrap.querySelector('.cs-hint');
  const listen = h('button', {
    type: 'button', class: 'btn small cs-music-listen', dataset: { testid: 'cs-music-listen' },
    onclick: () => (url || loading ? stop() : play()) }, 'Listen');
  const status = h('p', { class: 'cs-music-status', role: 'status', dataset: { testid: 'cs-music-status' } });
  const audio = h('audio', { preload: 'none', dataset: { testid: 'cs-music-audio' } });
  const row = h('div', { class: 'cs-music-row' });
  control.replaceWith(row);
  row.append(control, listen);
  hint.after(status);
  made.wrap.append(audio);
  let listed = null; // the names the directory has (null: not known)
  let url = null; // the blob: URL playing
  let loading = false;
  let turn = 0; // a newer play or stop makes an older play's answer moot
  let closed = false;

  const chosen = () => control.value.trim();
  const sync = () => {
    const name = chosen();
    listen.disabled = !name || !MUSIC_NAME.test(name) || (listed !== null && !listed.has(name));
  };
  const say = (text, problem = false) => {
    status.textContent = text;
    status.classList.toggle('problem', problem);
  };
  const onChange = () => { stop(); sync(); };
  control.addEventListener('change', onChange);
  sync();

  async function play() {
    const name = chosen();
    const mine = ++turn;
    loading = true;
    listen.textContent = 'Stop';
    say(`Loading ${name}\u2026`);
    try {
      const blob = await fetchBlob(`/api/admin/music/${enc(name)}`);
      if (mine !== turn) return;
      url = URL.createObjectURL(blob);
      audio.src = url;
      await audio.play();
      if (mine !== turn) return;
      loading = false;
      say(`Playing ${name}.`);
    } catch (err) {
      if (mine !== turn) return;
      const why = err instanceof DOMException ? playError(err) : problemText(err);
      stop();
      say(`${name} could not be played: ${sentence(why)}`, true);
    }
  }

  function stop() {
    turn += 1;
    loading = false;
    audio.pause();
    if (url) {
      audio.removeAttribute('src');
      audio.load();
      URL.revokeObjectURL(url);
      url = null;
    }
    listen.textContent = 'Listen';
    say('');
  }

  audio.addEventListener('ended', () => stop());
  audio.addEventListener('error', () => {
    if (!url || loading) return; // (play()'s own rejection says it)
    const name = chosen();
    stop();
    say(`${name} could not be played: ${sentence(playError(audio.error))}`, true);
  });

  files.then((list) => {
    if (closed) return;
    listed = new Set(list.map((f) => f.name));
    const keep = chosen();
    control.replaceChildren(...musicOptions(list, keep).map(([value, text, disabled]) =>
      h('option', { value, disabled, selected: value === keep }, text)));
    if (!list.length) hint.textContent = NO_FILES;
    sync();
  }, (err) => {
    if (closed) return;
    // the list is not there (no connection, a refusal): the admin can still type a file's name, as before
    const typed = input('music', { value: chosen(), placeholder: 'hold.wav', maxlength: 104, disabled: readOnly,
      id: control.id, 'aria-describedby': control.getAttribute('aria-describedby') });
    control.replaceWith(typed);
    control = typed;
    control.addEventListener('input', onChange);
    hint.textContent = `${HINT} The list of files could not be loaded: ${sentence(problemText(err))} Type a file\u2019s `
      + 'name, or leave it empty for the gateway\u2019s own music.';
    sync();
  });

  return {
    wrap: made.wrap,
    stop() { closed = true; stop(); },
  };
}

/** Why the browser did not play a file (a MediaError or the DOMException of play()). */
function playError(err) {
  if (err && (err.name === 'NotSupportedError' || err.code === 4)) {
    return 'this browser cannot play it (the gateway decodes files itself: callers may still hear it)';
  }
  if (err && err.name === 'NotAllowedError') return 'the browser did not allow playing sound on this page';
  return (err && err.message) || 'the browser could not play it';
}

const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);
