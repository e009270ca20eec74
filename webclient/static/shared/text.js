// Lengths as the gateway counts them (code points, UTF-8 bytes).

export function codePoints(s) {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line no-unused-vars
  return n;
}

/** At most max code points (never half a surrogate pair). */
export function clip(s, max) {
  s = String(s == null ? '' : s);
  if (s.length <= max) return s;
  return Array.from(s).slice(0, max).join('');
}

export function byteLength(s) {
  return new TextEncoder().encode(s).length;
}

/** A call's duration: "m:ss", or "h:mm:ss" from an hour on. */
export function callTimeText(ms) {
  const s = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Someone's text (a name, a message) set inside a line of ours, isolated for the bidi algorithm (FSI ... PDI):
 *  a right-to-left override in it ends with it, and never reverses the words around it ("by demo"). For plain
 *  text where no element can be used (a status line, an <option>). */
export function isolate(s) {
  return `\u2068${String(s)}\u2069`;
}
