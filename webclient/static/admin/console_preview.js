// The widget preview's frame (a srcdoc <iframe> of the widget settings page, console_widget.js): the real widget,
// mounted by its own modules (widget/panel.js) with its own style (widget/widget.css, which /widget.js inlines),
// open, never connected, and inert (a picture: nothing in it takes focus or sends). The console posts the settings
// as typed ({type: 'cg-preview', settings, closed}); they are applied the way the widget applies the gateway's.

import { buildDom, renderStatus, ui } from '../widget/panel.js';
import { W } from '../widget/state.js';
import { sock } from '../widget/connection.js';
import { applyAppearance } from '../widget/appearance.js';

async function mount() {
  buildDom();
  const css = await (await fetch('/static/widget/widget.css', { cache: 'no-cache' })).text();
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  ui.root.adoptedStyleSheets = [sheet];
  document.body.inert = true;
  sock.ready = true; // a preview never connects; its status line reads as a connected widget's would
  W.isOpen = true;
  ui.panel.hidden = false;
  ui.launcher.setAttribute('aria-expanded', 'true');
  renderStatus();
  window.addEventListener('message', (e) => {
    if (e.origin !== window.origin || e.source !== window.parent || !e.data || e.data.type !== 'cg-preview') return;
    show(e.data.settings || {}, Boolean(e.data.closed));
  });
  window.parent.postMessage({ type: 'cg-preview-ready' }, window.origin); // about:srcdoc: its location has no origin, the document has the console's
}

function show(settings, closed) {
  W.hoursOpen = closed ? false : settings.hours_queue ? true : null;
  applyAppearance(settings);
  renderStatus();
  document.documentElement.dataset.shown = JSON.stringify({ ...settings, closed }); // what the frame shows (tests)
}

mount();
