// Links in message text, safely: only http(s) URLs become links (rel="noopener noreferrer", a new tab); everything
// else stays text. User text never goes through innerHTML: the element gets text nodes and <a> elements.

const URL_IN_TEXT = /(?<![\w+.\-:/@])https?:\/\/[^\s<>"`]+/gi;
const TRAILING = /[.,;:!?'*_~]+$/;          // "see https://x.test/a." : the full stop ends the sentence
export const MAX_LINK_CHARS = 2048;

/** A URL as typed, without what ends the sentence around it: trailing punctuation, an unbalanced ) or ]. */
function trimUrl(raw) {
  let url = raw;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING, '');
    for (const [open, close] of [['(', ')'], ['[', ']']]) {
      if (url.endsWith(close) && url.split(close).length > url.split(open).length) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

/** The http(s) address a typed URL goes to, or null (not parseable, another scheme, too long). */
export function safeHref(text) {
  if (typeof text !== 'string' || text.length > MAX_LINK_CHARS) return null;
  let url;
  try { url = new URL(text); } catch (_) { return null; }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.href;
}

/** Text -> segments in order: {text} for plain text, {text, href} for an http(s) link. Joined, the texts are
 *  the input exactly. */
export function linkSegments(text) {
  const s = typeof text === 'string' ? text : '';
  const out = [];
  let last = 0;
  for (const match of s.matchAll(URL_IN_TEXT)) {
    const url = trimUrl(match[0]);
    const href = safeHref(url);
    if (!href) continue;
    if (match.index > last) out.push({ text: s.slice(last, match.index) });
    out.push({ text: url, href });
    last = match.index + url.length;
  }
  if (last < s.length || !out.length) out.push({ text: s.slice(last) });
  return out;
}

/** Fill el with text, its http(s) URLs as links that open in a new tab without access to this page. */
export function setLinkedText(el, text) {
  const doc = el.ownerDocument;
  el.replaceChildren(...linkSegments(text).map((seg) => {
    if (!seg.href) return doc.createTextNode(seg.text);
    const a = doc.createElement('a');
    a.href = seg.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = seg.text;
    return a;
  }));
}
