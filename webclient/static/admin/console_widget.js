// Widget settings (GET/PUT /api/admin/widget): title, colours, greeting, launcher text, language and the queue whose
// opening hours say "closed". Beside the form, a live preview: the real widget (its own modules and style) drawn in a
// frame (console_preview.js) with the settings as typed, open or closed.

import { call } from './console_api.js';
import { field, formError, h, input, newId, problemText, select, showProblem, clearErrors } from './console_dom.js';

export const DEFAULT_SETTINGS = {
  title: 'Contact us', colour: '#1f6f4a', accent: '#17573a', greeting: '', launcher_text: '', language: 'en', hours_queue: '',
};

/** The preview frame's document: a plain page that loads the widget's modules (no inline script: it inherits the
 * console's policy). */
const FRAME_DOC = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Widget preview</title>'
  + '<link rel="stylesheet" href="/static/admin/console_preview.css">'
  + '<script type="module" src="/static/admin/console_preview.js"></script></head>'
  + '<body><div class="site" aria-hidden="true"><div class="bar"></div><div class="hero"></div>'
  + '<div class="line"></div><div class="line short"></div></div></body></html>';

export function createWidgetView(section, ctx) {
  const status = h('p', { class: 'cs-status', role: 'status' });
  const form = h('form', { class: 'cs-card cs-widget-form', novalidate: true, 'aria-label': 'Widget settings',
    dataset: { testid: 'cs-widget-form' } });
  const frame = h('iframe', { class: 'cs-preview-frame', title: 'Widget preview', dataset: { testid: 'cs-widget-preview' },
    srcdoc: FRAME_DOC, tabindex: '-1' });
  const showClosed = newId('closed');
  const closedBox = h('input', { type: 'checkbox', id: showClosed, dataset: { testid: 'cs-preview-closed' } });
  const preview = h('section', { class: 'cs-card cs-preview', 'aria-labelledby': 'cs-preview-title' },
    h('h3', { id: 'cs-preview-title' }, 'Preview'),
    h('div', { class: 'cs-check' }, closedBox, h('label', { for: showClosed }, 'Show it outside opening hours')),
    frame,
    h('p', { class: 'cs-hint' }, 'The real widget with the settings as typed; visitors see them once saved.'));
  // the tag a site adds (README "Embedding the widget"): this console's address is the gateway's
  const tag = `<script src="${location.origin}/widget.js" data-gateway="${location.origin}"></script>`;
  const embed = h('section', { class: 'cs-card cs-embed', 'aria-labelledby': 'cs-embed-title' },
    h('h3', { id: 'cs-embed-title' }, 'Add it to your site'),
    h('p', { class: 'cs-hint' }, 'Paste this tag into every page that shows the widget, before </body>. Open the console at '
      + 'the address visitors reach (behind a proxy, its public one) so the tag names it. A page with a '
      + 'Content-Security-Policy allows that address in script-src and connect-src (README, "Embedding the widget").'),
    h('pre', { class: 'cs-snippet', dataset: { testid: 'cs-widget-embed' } }, h('code', {}, tag)));
  section.append(status, h('div', { class: 'cs-widget' }, form, h('div', { class: 'cs-widget-side' }, preview, embed)));
  let saved = { ...DEFAULT_SETTINGS };
  let ready = false;

  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || e.source !== frame.contentWindow || !e.data || e.data.type !== 'cg-preview-ready') return;
    ready = true;
    push();
  });
  closedBox.addEventListener('change', push);

  function current() {
    if (!form.elements.length) return saved;
    const f = form.elements;
    const out = {};
    for (const name of Object.keys(DEFAULT_SETTINGS)) out[name] = f.namedItem(name).value.trim();
    return out;
  }

  /** The preview follows the form (and the "closed" switch) as it changes. */
  function push() {
    if (!ready || !frame.contentWindow) return;
    frame.contentWindow.postMessage({ type: 'cg-preview', settings: current(), closed: closedBox.checked }, location.origin);
  }

  function build(settings, queues) {
    const ro = !ctx.editable;
    const text = (name, label, attrs, hint) => field(label, input(name, { value: settings[name] ?? '', readonly: ro, ...attrs }), { hint }).wrap;
    const colour = (name, label, hint) => field(label, h('input', { type: 'color', name, value: settings[name] || '#000000', disabled: ro }), { hint }).wrap;
    const greeting = h('textarea', { name: 'greeting', rows: 3, maxlength: 500, readonly: ro }, settings.greeting || '');
    const options = [['', 'None (always say we reply soon)'], ...queues.map((q) => [q.name, q.name])];
    if (settings.hours_queue && !queues.some((q) => q.name === settings.hours_queue)) options.push([settings.hours_queue, settings.hours_queue]);
    const hoursQueue = select('hours_queue', options, settings.hours_queue || '');
    hoursQueue.disabled = ro;
    form.replaceChildren(
      formError(),
      text('title', 'Title', { maxlength: 60, spellcheck: 'true' }, 'The panel’s heading.'),
      colour('colour', 'Colour', 'The launcher, the header and the visitor’s messages.'),
      colour('accent', 'Accent colour', 'Hover and pressed shades.'),
      field('Greeting', greeting, { hint: 'The first lines a visitor reads in the panel.' }).wrap,
      text('launcher_text', 'Launcher text', { maxlength: 40, spellcheck: 'true' }, 'Beside the round button; empty: the button alone.'),
      text('language', 'Language', { maxlength: 35, placeholder: 'en' }, 'A BCP 47 tag such as en, fr or pt-BR.'),
      field('Opening hours from queue', hoursQueue, { hint: 'Outside its hours the widget says you are closed and asks for a message, and its Call button says '
        + 'an agent may not answer (only the words change: chats and calls are routed as your flows say).' }).wrap,
      ro ? null : h('div', { class: 'cs-form-actions' },
        h('button', { type: 'submit', class: 'btn primary', dataset: { testid: 'cs-widget-save' } }, 'Save settings'),
        h('button', { type: 'button', class: 'btn', onclick: () => { build(saved, queues); push(); } }, 'Undo changes')),
    );
  }

  form.addEventListener('input', push);
  form.addEventListener('change', push);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!ctx.editable) return;
    clearErrors(form);
    const value = current();
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    try {
      saved = { ...DEFAULT_SETTINGS, ...(await call('/api/admin/widget', { method: 'PUT', body: value })) };
      ctx.notify('The widget settings were saved: visitors see them from their next page load.');
    } catch (err) {
      showProblem(form, err);
    } finally {
      button.disabled = false;
    }
  });

  async function load() {
    status.textContent = 'Loading the widget settings…';
    let queues = [];
    try {
      const [settings, list] = await Promise.all([call('/api/admin/widget'), call('/api/admin/queues').catch(() => ({ queues: [] }))]);
      saved = { ...DEFAULT_SETTINGS, ...settings };
      queues = list.queues || [];
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `The widget settings could not be loaded: ${problemText(err)}`;
      return;
    }
    status.textContent = ctx.editable ? '' : 'Read only: an admin changes these.';
    build(saved, queues);
    push();
  }

  return {
    load,
    reset() { form.replaceChildren(); status.textContent = ''; saved = { ...DEFAULT_SETTINGS }; },
  };
}
