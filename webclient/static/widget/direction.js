// The widget's writing direction: right to left when the admin's widget language is written right to left (Arabic,
// Hebrew, Persian, Urdu, ...): the title, greeting and launcher text they wrote are in it. Not the host page's or
// the visitor's language: the widget's own words are English, and an English text laid out right to left reads
// wrong ("!Hi there"). Each message and text of the widget also reads in its own direction (dir="auto"), so an
// Arabic message reads right in a left-to-right widget and an English one in a right-to-left one.
// Pure (no DOM): appearance.js sets the widget's own root's dir. Unit tests: webclient/tests/widget_direction.test.mjs.

// languages written right to left unless a script subtag says otherwise ("az-Arab" is, "ar-Latn" is not)
const RTL_LANGUAGES = new Set(['ar', 'arc', 'ckb', 'dv', 'fa', 'he', 'iw', 'ks', 'lrc', 'mzn', 'ps', 'sd', 'syr',
  'ug', 'ur', 'yi']);
const RTL_SCRIPTS = new Set(['Adlm', 'Arab', 'Hebr', 'Mand', 'Nkoo', 'Rohg', 'Samr', 'Syrc', 'Thaa']);
const TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** The script subtag of a BCP 47 tag: the 4 letters right after the language (and its extended language subtags,
 * 3 letters each), before any region, variant or extension ("az-Arab-IR": Arab; "ar-u-nu-latn": none). */
function scriptOf(parts) {
  let i = 1;
  while (i < parts.length && i <= 3 && /^[A-Za-z]{3}$/.test(parts[i])) i += 1; // extlang
  const part = parts[i] || '';
  return /^[A-Za-z]{4}$/.test(part) ? part[0].toUpperCase() + part.slice(1).toLowerCase() : '';
}

/** True for a BCP 47 tag of a right-to-left language or script ("ar", "he-IL", "fa", "ur-PK", "pa-Arab",
 * "ar-u-nu-latn"); false for anything else, a hostile or empty value included. */
export function isRtlLocale(tag) {
  const text = typeof tag === 'string' ? tag.trim().replace(/_/g, '-') : '';
  if (!TAG.test(text)) return false;
  const parts = text.split('-');
  const script = scriptOf(parts);
  if (script) return RTL_SCRIPTS.has(script);
  return RTL_LANGUAGES.has(parts[0].toLowerCase());
}

/** 'rtl' or 'ltr' for the widget's layout: the admin's widget language's direction. */
export function widgetDirection(setting) {
  return isRtlLocale(setting) ? 'rtl' : 'ltr';
}
