// node --test webclient/tests: the widget panel's layouts and its focus trap when full screen (widget/layout.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FULL_SCREEN_MEDIA, currentLayout, tabTarget } from '../static/widget/layout.js';

test('Tab goes round inside a modal panel: from the last to the first, Shift+Tab from the first to the last', () => {
  assert.equal(tabTarget(5, 4, false), 0);
  assert.equal(tabTarget(5, 0, true), 4);
  assert.equal(tabTarget(5, 2, false), -1);   // the browser's own move, to the next one inside
  assert.equal(tabTarget(5, 2, true), -1);
  assert.equal(tabTarget(1, 0, false), 0);
  assert.equal(tabTarget(1, 0, true), 0);
  assert.equal(tabTarget(5, -1, false), 0);   // focus outside the panel comes back in at its start...
  assert.equal(tabTarget(5, -1, true), 4);    // ...or its end
  assert.equal(tabTarget(0, -1, false), -1);
});

test('full screen on a phone in either orientation, floating otherwise (a short desktop window too)', () => {
  const win = (width, height) => ({
    matchMedia: (query) => {
      assert.equal(query, FULL_SCREEN_MEDIA);
      return { matches: width <= 480 || (height <= 500 && width <= 950) };
    },
  });
  assert.equal(currentLayout(win(375, 667)), 'full');
  assert.equal(currentLayout(win(667, 375)), 'full');
  assert.equal(currentLayout(win(1280, 800)), 'float');
  assert.equal(currentLayout(win(800, 600)), 'float');
  assert.equal(currentLayout(win(932, 430)), 'full');    // a large phone in landscape
  assert.equal(currentLayout(win(1280, 480)), 'float');  // a desktop window made short
  assert.equal(currentLayout({}), 'float');   // no matchMedia
});
