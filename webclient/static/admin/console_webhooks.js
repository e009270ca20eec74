// Event webhooks (docs/webhooks.md: GET/POST /api/webhooks, PATCH/DELETE /api/webhooks/{id}, GET
// /api/webhooks/{id}/deliveries): the subscriptions, their event types and whether they are on, each one's delivery
// log. A new subscription's secret is shown once, in the answer to its creation; no other answer holds it.

import { call, enc } from './console_api.js';
import { confirmDialog, field, formDialog, group, h, input, newId, noticeDialog, problemText, table, timeText } from './console_dom.js';

/** The event types a subscription may ask for (docs/webhooks.md "Event types and payload"). */
export const EVENT_TYPES = [
  'conversation.opened', 'conversation.assigned', 'conversation.closed', 'call.started', 'call.answered', 'call.ended',
  'callback.booked', 'callback.closed', 'message.created',
];

export function createWebhooksView(section, ctx) {
  const body = h('div', { class: 'cs-view-body' });
  const status = h('p', { class: 'cs-status', role: 'status' });
  const log = h('section', { class: 'cs-card cs-log', 'aria-labelledby': 'cs-log-title', hidden: true },
    h('div', { class: 'cs-view-head' }, h('h3', { id: 'cs-log-title', tabindex: '-1' }, 'Delivery log'),
      h('button', { type: 'button', class: 'btn small ghost', onclick: () => { log.hidden = true; } }, 'Close log')),
    h('div', { class: 'cs-log-body' }));
  const add = h('button', { type: 'button', class: 'btn primary small', dataset: { testid: 'cs-webhook-add' },
    onclick: () => editDialog(null) }, 'Add webhook');
  section.querySelector('.cs-view-head').append(add);
  section.append(h('p', { class: 'cs-hint' }, 'Each event a subscription asks for is POSTed to its URL, signed with its secret (docs/webhooks.md).'),
    status, body, log);
  let hooks = [];

  async function load() {
    add.hidden = !ctx.editable;
    status.textContent = 'Loading the webhooks…';
    try {
      hooks = (await call('/api/webhooks')).webhooks || [];
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `The webhooks could not be loaded: ${problemText(err)}`;
      return;
    }
    status.textContent = hooks.length ? '' : 'No webhook subscriptions yet.';
    render();
  }

  function render() {
    const headers = ['URL', 'Events', 'Enabled', 'Description', 'Updated', 'Actions'];
    const rows = hooks.map((w) => ({
      dataset: { webhook: w.id },
      cells: [
        { th: h('span', { class: 'cs-url' }, w.url) },
        w.events.join(', '),
        h('span', { class: `cs-badge ${w.enabled ? 'ok' : 'off'}` }, w.enabled ? 'On' : 'Off'),
        w.description || '',
        timeText(w.updated_ms || w.created_ms),
        h('div', { class: 'cs-actions' },
          h('button', { type: 'button', class: 'btn small', 'aria-label': `Deliveries of ${w.url}`, onclick: () => showLog(w) }, 'Deliveries'),
          ctx.editable && h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit webhook ${w.url}`, onclick: () => editDialog(w) }, 'Edit'),
          ctx.editable && h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete webhook ${w.url}`, onclick: () => remove(w) }, 'Delete')),
      ],
    }));
    body.replaceChildren(table('Webhook subscriptions', headers, rows, { testid: 'cs-webhooks' }));
  }

  async function showLog(w) {
    const holder = log.querySelector('.cs-log-body');
    log.querySelector('h3').textContent = `Delivery log: ${w.url}`;
    holder.replaceChildren(h('p', { class: 'cs-status' }, 'Loading…'));
    log.hidden = false;
    log.querySelector('h3').focus();
    let found;
    try {
      found = (await call(`/api/webhooks/${enc(w.id)}/deliveries?limit=50`)).deliveries || [];
    } catch (err) {
      holder.replaceChildren(h('p', { class: 'cs-status' }, `The log could not be loaded: ${problemText(err)}`));
      return;
    }
    if (!found.length) {
      holder.replaceChildren(h('p', { class: 'cs-status' }, 'No delivery yet: events that happen from now on are posted.'));
      return;
    }
    holder.replaceChildren(table('Deliveries, newest first', ['Time', 'Event', 'Conversation', 'Attempt', 'Answer', 'Took', 'Outcome', 'Node'],
      found.map((d) => ({
        cells: [timeText(d.time), d.event, d.conversation_id || '', String(d.attempt),
          d.error ? `${d.status ?? '—'} · ${d.error}` : String(d.status ?? '—'),
          d.latency_ms != null ? `${d.latency_ms} ms` : '', h('span', { class: `cs-badge ${OUTCOME[d.outcome] || ''}` }, d.outcome), d.node || ''],
      })), { testid: 'cs-deliveries' }));
  }

  async function remove(w) {
    const ok = await confirmDialog('Delete this webhook?', `${w.url} stops receiving events; its queued deliveries and delivery log go too.`,
      'Delete webhook');
    if (!ok) return;
    try {
      await call(`/api/webhooks/${enc(w.id)}`, { method: 'DELETE' });
    } catch (err) {
      ctx.notify(`The webhook was not deleted: ${problemText(err)}`);
      return;
    }
    log.hidden = true;
    await load();
    ctx.notify(`The webhook to ${w.url} was deleted.`);
  }

  function editDialog(w) {
    const adding = !w;
    const chosen = new Set(w ? w.events : ['conversation.opened', 'conversation.closed']);
    const enabledId = newId('enabled');
    const fields = [
      field('URL', input('url', { type: 'url', value: w ? w.url : '', required: true, placeholder: 'https://crm.example.com/hooks' }),
        { hint: 'A public http(s) address, or a host the gateway allows (--webhook-allow).' }).wrap,
      field('Description', input('description', { value: w ? w.description || '' : '', maxlength: 200, spellcheck: 'true' })).wrap,
      group('Event types', 'events', h('div', { class: 'cs-checks' }, EVENT_TYPES.map((t) => {
        const id = newId('event');
        return h('div', { class: 'cs-check' }, h('input', { type: 'checkbox', id, name: 'event', value: t, checked: chosen.has(t) }),
          h('label', { for: id }, t));
      }))),
      h('div', { class: 'cs-check' }, h('input', { type: 'checkbox', id: enabledId, name: 'enabled', checked: w ? w.enabled : true }),
        h('label', { for: enabledId }, 'Enabled (off: nothing is posted, what was queued is dropped)')),
      adding ? null : field('New secret (optional)', input('secret', { type: 'password', autocomplete: 'new-password', minlength: 16 }),
        { hint: 'Rotates the secret: 16 to 256 characters. Leave empty to keep the current one.' }).wrap,
    ];
    formDialog({
      title: adding ? 'Add a webhook' : 'Edit webhook',
      body: fields,
      submitLabel: adding ? 'Add webhook' : 'Save',
      testid: 'cs-webhook-dialog',
      onSubmit: async (form) => {
        const f = form.elements;
        const value = {
          url: f.url.value.trim(),
          description: f.description.value.trim(),
          events: [...form.querySelectorAll('input[name=event]:checked')].map((x) => x.value),
          enabled: f.enabled.checked,
        };
        let answer;
        if (adding) {
          answer = await call('/api/webhooks', { method: 'POST', body: value });
        } else {
          if (f.secret.value) value.secret = f.secret.value;
          answer = await call(`/api/webhooks/${enc(w.id)}`, { method: 'PATCH', body: value });
        }
        await load();
        ctx.notify(adding ? `The webhook to ${value.url} was added.` : `The webhook to ${value.url} was saved.`);
        if (adding && answer && answer.secret) setTimeout(() => showSecret(answer.secret), 0);
        return true;
      },
    });
  }

  function showSecret(secret) {
    const id = newId('secret');
    const box = h('input', { id, class: 'cs-secret', readonly: true, value: secret, dataset: { testid: 'cs-webhook-secret' } });
    const copy = h('button', { type: 'button', class: 'btn small', onclick: async () => {
      box.select();
      try { await navigator.clipboard.writeText(secret); copied.textContent = 'Copied.'; } catch (_) { copied.textContent = 'Select it and copy it.'; }
    } }, 'Copy');
    const copied = h('span', { class: 'cs-sub', role: 'status' });
    noticeDialog('The webhook’s secret',
      h('p', {}, 'Copy it now into the receiving system: it verifies each request’s signature with it. It is not shown again.'),
      h('div', { class: 'cs-field' }, h('label', { for: id }, 'Secret'), h('div', { class: 'cs-row' }, box, copy), copied));
  }

  return {
    load,
    reset() { hooks = []; body.replaceChildren(); status.textContent = ''; log.hidden = true; },
  };
}

const OUTCOME = { delivered: 'ok', retry: 'warn', gave_up: 'off' };
