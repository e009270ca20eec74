// node --test webclient/tests: the widget's writing direction (widget/direction.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isRtlLocale, widgetDirection } from '../static/widget/direction.js';

test('right-to-left languages and scripts, whatever their region, case or extensions', () => {
  for (const tag of ['ar', 'ar-EG', 'AR', 'he', 'he-IL', 'iw', 'fa', 'fa-IR', 'ur', 'ur-PK', 'ps', 'ckb', 'yi',
    'ks', 'mzn', 'lrc', 'pa-Arab', 'az-arab-IR', 'ar_SA', 'ar-u-nu-latn', 'fa-IR-u-nu-latn', 'he-x-test']) {
    assert.equal(isRtlLocale(tag), true, tag);
  }
  for (const tag of ['en', 'en-US', 'fr', 'de-CH', 'ar-Latn', 'zh-Hant-TW', 'ja', 'hi', 'tr', 'en-US-u-nu-arab',
    'en-x-arab', 'zh-yue-Hant']) {
    assert.equal(isRtlLocale(tag), false, tag);
  }
});

test('a hostile or empty value is left to right', () => {
  for (const value of ['', ' ', null, undefined, 42, {}, ['ar'], 'ar;', 'ar-<script>', 'arabic-'.repeat(20), 'a']) {
    assert.equal(isRtlLocale(value), false, String(value));
  }
});

test("the layout follows the admin's widget language only", () => {
  assert.equal(widgetDirection('ar'), 'rtl');
  assert.equal(widgetDirection('he-IL'), 'rtl');
  assert.equal(widgetDirection('en'), 'ltr');
  assert.equal(widgetDirection(''), 'ltr');
  assert.equal(widgetDirection(undefined), 'ltr');
});
