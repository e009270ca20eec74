// The widget's writing direction: right to left for a right-to-left language (Arabic, Hebrew, Persian, Urdu, ...).
// Pure (no DOM): appearance.js reads the languages and sets the widget's own root's dir. Unit tests:
// webclient/tests/widget_direction.test.mjs.

// languages written right to left unless a script subtag says otherwise ("az-Arab" is, "ar-Latn" is not)
const RTL_LANGUAGES = new Set(['ar', 'arc', 'ckb', 'dv', 'fa', 'he', 'iw', 'ps', 'sd', 'syr', 'ug', 'ur', 'yi']);
const RTL_SCRIPTS = new Set(['Adlm', 'Arab', 'Hebr', 'Mand', 'Nkoo', 'Rohg', 'Samr', 'Syrc', 'Thaa']);
const TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

/** True for a BCP 47 tag of a right-to-left language or script ("ar", "he-IL", "fa", "ur-PK", "pa-Arab"); false
 * for anything else, a hostile or empty value included. */
export function isRtlLocale(tag) {
  const text = typeof tag === 'string' ? tag.trim().replace(/_/g, '-') : '';
  if (!TAG.test(text)) return false;
  const [language, ...rest] = text.split('-');
  const script = rest.find((part) => /^[A-Za-z]{4}$/.test(part));
  if (script) return RTL_SCRIPTS.has(script[0].toUpperCase() + script.slice(1).toLowerCase());
  return RTL_LANGUAGES.has(language.toLowerCase());
}

/** 'rtl' or 'ltr' for the widget: right to left when the language it is read in is: the host page's (its <html
 * lang>: the language the site shows this visitor), else, on a page that declares none, the visitor's browser's
 * first; or when the admin's widget language (the title and greeting they wrote) is. */
export function widgetDirection({ page = '', visitor = '', setting = '' } = {}) {
  const reader = typeof page === 'string' && page.trim() ? page : visitor;
  return isRtlLocale(reader) || isRtlLocale(setting) ? 'rtl' : 'ltr';
}
