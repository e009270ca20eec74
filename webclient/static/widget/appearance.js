// The admin's widget settings (the welcome frame's `widget`, docs/protocol.md): title, colours, greeting, launcher
// text, language. Colours go in as CSS custom properties through the CSSOM (a strict style-src allows it; no markup),
// and only when they are #rrggbb; every text goes through textContent (the greeting's line breaks kept by a
// white-space: pre-line set the same way).

import { inkFor, textOnWhite } from './colours.js';
import { widgetDirection } from './direction.js';
import { ui } from './panel.js';

const COLOUR = /^#[0-9a-fA-F]{6}$/;
const looks = { language: '' };   // the admin's widget language, once the welcome said it

/** The widget's own root reads right to left when the admin's widget language is written so (direction.js); the
 * host page's elements are never touched. */
export function applyDirection() {
  if (!ui.root) return;
  const dir = widgetDirection(looks.language);
  const box = ui.root.querySelector('.root');
  if (box.getAttribute('dir') !== dir) box.setAttribute('dir', dir);
}

export function applyAppearance(w) {
  if (!ui.root || !w || typeof w !== 'object') return;
  const box = ui.root.querySelector('.root');
  const text = (v) => (typeof v === 'string' ? v.trim() : '');
  if (text(w.title)) {
    const title = ui.root.querySelector('#cg-title');
    title.textContent = text(w.title);
    title.dir = 'auto'; // the admin's words read in their own direction whatever the layout's
  }
  if (COLOUR.test(w.colour || '')) {
    box.style.setProperty('--cg-accent', w.colour);
    box.style.setProperty('--cg-accent-ink', inkFor(w.colour));
    box.style.setProperty('--cg-accent-text', textOnWhite(w.colour));
  }
  if (COLOUR.test(w.accent || '')) box.style.setProperty('--cg-accent-strong', w.accent);
  const intro = ui.root.querySelector('.intro');
  if (intro && text(w.greeting)) {
    intro.textContent = text(w.greeting);
    intro.style.whiteSpace = 'pre-line'; // the admin's line breaks stay (still text: never markup)
    intro.dir = 'auto';
    intro.dataset.custom = '1';
  }
  let label = ui.root.querySelector('.launcher-text');
  if (text(w.launcher_text)) {
    if (!label) {
      label = document.createElement('span');
      label.className = 'launcher-text';
      label.setAttribute('data-testid', 'cg-launcher-text');
      label.setAttribute('aria-hidden', 'true'); // the launcher's own label says it to screen readers
      ui.launcher.after(label);
      label.addEventListener('click', () => ui.launcher.click());
    }
    label.textContent = text(w.launcher_text);
    label.dir = 'auto';
  } else if (label) {
    label.remove();
  }
  if (/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(w.language || '')) {
    ui.panel.setAttribute('lang', w.language);
    looks.language = w.language;
  }
  applyDirection();
}
