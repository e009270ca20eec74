// node --test webclient/tests: the widget's writing direction (widget/direction.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isRtlLocale, widgetDirection } from '../static/widget/direction.js';

test('right-to-left languages and scripts, whatever their region or case', () => {
  for (const tag of ['ar', 'ar-EG', 'AR', 'he', 'he-IL', 'iw', 'fa', 'fa-IR', 'ur', 'ur-PK', 'ps', 'ckb', 'yi',
    'pa-Arab', 'az-arab-IR', 'ar_SA']) {
    assert.equal(isRtlLocale(tag), true, tag);
  }
  for (const tag of ['en', 'en-US', 'fr', 'de-CH', 'ar-Latn', 'zh-Hant-TW', 'ja', 'hi', 'tr']) {
    assert.equal(isRtlLocale(tag), false, tag);
  }
});

test('a hostile or empty value is left to right', () => {
  for (const value of ['', ' ', null, undefined, 42, {}, ['ar'], 'ar;', 'ar-<script>', 'arabic-'.repeat(20), 'a']) {
    assert.equal(isRtlLocale(value), false, String(value));
  }
});

test("the host page's language decides, the visitor's only on a page that declares none, the admin's setting too", () => {
  assert.equal(widgetDirection({ page: 'ar', visitor: 'en-US', setting: 'en' }), 'rtl');
  assert.equal(widgetDirection({ page: '', visitor: 'ar', setting: 'en' }), 'rtl');
  assert.equal(widgetDirection({ page: 'en', visitor: 'ar', setting: 'en' }), 'ltr');  // an English page
  assert.equal(widgetDirection({ page: 'en', visitor: 'en', setting: 'he' }), 'rtl');  // a Hebrew widget
  assert.equal(widgetDirection({ page: 'fr', visitor: 'fr', setting: 'en' }), 'ltr');
  assert.equal(widgetDirection(), 'ltr');
});
