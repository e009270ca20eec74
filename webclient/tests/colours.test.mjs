// The widget's colours on the admin's brand colour (widget/colours.js): text on the accent, and the accent as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { inkFor, textOnWhite } from '../static/widget/colours.js';

test('text on the accent is white on dark colours and near-black on light ones', () => {
  assert.equal(inkFor('#1f6f4a'), '#ffffff');
  assert.equal(inkFor('#000000'), '#ffffff');
  assert.equal(inkFor('#ffffff'), '#111111');
  assert.equal(inkFor('#ffd400'), '#111111');
});

function contrastOnWhite(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}

test('the accent is used as text on the white panel only where it reads (4.5:1)', () => {
  assert.equal(textOnWhite('#1f6f4a'), '#1f6f4a'); // the default green: 6.3:1
  assert.equal(textOnWhite('#7a1fa2'), '#7a1fa2');
  assert.equal(textOnWhite('#ffffff'), '#1b1f1d'); // a white brand colour: invisible buttons before
  assert.equal(textOnWhite('#d0d0d0'), '#1b1f1d'); // a light grey: no hue to keep
  for (const light of ['#ffd400', '#2f80ed', '#ff9900', '#7fd3ff']) { // yellow, mid blue, orange, sky
    const text = textOnWhite(light);
    assert.notEqual(text, light);
    assert.ok(contrastOnWhite(text) >= 4.5, `${light} -> ${text}`);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(text.slice(i, i + 2), 16));
    assert.ok(Math.max(r, g, b) - Math.min(r, g, b) > 0, `${light} -> ${text} keeps a hue`);
  }
});
