// Customers: a data-protection request ("send me my data", "delete my data"). Admins only (the routes answer
// supervisors 403): the nav hides the section from them and the section says why if they open it anyway.
// Find a customer by their id, by one of their conversations (GET /api/conversations/{id} names its customer_id)
// or as a site's verified user (GET /api/admin/customers?site=&subject=); see what the gateway keeps of them (GET
// /api/admin/customers/{id}), download exactly that as JSON, or erase it all (console_customer_erase.js).
// Customer data is hostile: every piece of it goes into the page as text.

import { call, enc } from './console_api.js';
import { clearErrors, field, formError, h, input, problemText, showProblem, showProblems, table, timeText } from './console_dom.js';
import { conversationRows, count, erasedText, exportCounts, exportName, lookupKind } from './console_customer_data.js';
import { eraseDialog } from './console_customer_erase.js';

const BAD_ID = 'Enter a customer id (u_… or v_…) or a conversation id (c_…): up to 64 letters, digits, _ and -.';

export function createCustomersView(section, ctx) {
  const status = h('p', { class: 'cs-customer-status', role: 'status', 'aria-live': 'polite',
    dataset: { testid: 'cs-customer-status' } });
  const denied = h('p', { class: 'cs-refused', role: 'alert', hidden: true, dataset: { testid: 'cs-customers-denied' } });
  const lookup = field('Customer id or conversation id',
    input('lookup', { maxlength: 64, placeholder: 'u_…, v_… or c_…', dataset: { testid: 'cs-customer-lookup' } }),
    { hint: 'A customer id as the desk shows it (u_… or v_…), or the id of one of their conversations (c_…).' });
  const lookupForm = h('form', { class: 'cs-card cs-customer-form', 'aria-labelledby': 'h-customer-lookup', novalidate: true },
    h('h3', { id: 'h-customer-lookup' }, 'Find a customer'), formError(), lookup.wrap,
    h('div', { class: 'cs-form-actions' }, h('button', { type: 'submit', class: 'btn primary small' }, 'Look up')));
  const site = field('Key id', input('site', { maxlength: 64, dataset: { testid: 'cs-customer-site' } }),
    { hint: 'The site key (--site-keys) the site signs its customer tokens with. May stay empty when there is one.' });
  const subject = field('User id', input('subject', { maxlength: 500, dataset: { testid: 'cs-customer-subject' } }),
    { hint: 'The site’s own id of the user: their token’s sub.' });
  const siteForm = h('form', { class: 'cs-card cs-customer-form', 'aria-labelledby': 'h-customer-site', novalidate: true },
    h('h3', { id: 'h-customer-site' }, 'Find a site user'), formError(),
    h('div', { class: 'cs-customer-pair' }, site.wrap, subject.wrap),
    h('div', { class: 'cs-form-actions' }, h('button', { type: 'submit', class: 'btn small' }, 'Find site user')));
  const forms = h('div', { class: 'cs-customer-forms' }, lookupForm, siteForm);
  const result = h('section', { class: 'cs-card cs-customer', 'aria-labelledby': 'h-customer', hidden: true,
    dataset: { testid: 'cs-customer' } });
  section.append(h('p', { class: 'cs-hint' }, 'A customer’s request about their data: see and download all the gateway ',
    'keeps of them, or erase it. Each look-up of a customer’s data and each erasure is written to the audit log.'), denied, forms, status, result);
  lookupForm.addEventListener('submit', (e) => { e.preventDefault(); lookupTyped(); });
  siteForm.addEventListener('submit', (e) => { e.preventDefault(); lookupSiteUser(); });

  let shown = null; // {id, data, via}: the customer on screen
  let asked = 0; // the newest lookup: an older one's answer is dropped

  function load() {
    const admin = ctx.editable;
    forms.hidden = !admin;
    denied.hidden = admin;
    denied.textContent = admin ? '' : 'Customer data (export and erasure) is for admins. Sign in with an admin account.';
    if (!admin) clear();
  }

  function clear() {
    shown = null;
    result.replaceChildren();
    result.hidden = true;
  }

  /** The lookup field's id: a customer's as is, a conversation's through its customer. */
  async function lookupTyped() {
    clearErrors(lookupForm);
    clearErrors(siteForm);
    const { kind, id } = lookupKind(lookup.input.value);
    if (!kind) {
      showProblems(lookupForm, [{ control: lookup.input, message: BAD_ID }]);
      return;
    }
    if (kind === 'customer') {
      await showCustomer(id, null);
      return;
    }
    const n = begin(`Looking up conversation ${id}…`);
    let answer;
    try {
      answer = await call(`/api/conversations/${enc(id)}`);
    } catch (err) {
      if (n !== asked) return;
      if (err.status === 404) notFound(`Not found: the gateway has no conversation ${id}.`);
      else failed(lookupForm, lookup.input, err);
      return;
    }
    if (n !== asked) return;
    const customer = answer && answer.conversation ? answer.conversation.customer_id : null;
    if (typeof customer !== 'string' || !customer) {
      notFound(`Conversation ${id} has no customer (a flow test run has none).`);
      return;
    }
    await showCustomer(customer, id);
  }

  /** A site's user: the gateway names their customer id (v_...), then they are looked up. */
  async function lookupSiteUser() {
    clearErrors(lookupForm);
    clearErrors(siteForm);
    const params = { site: site.input.value.trim(), subject: subject.input.value.trim() };
    if (!params.subject) {
      showProblems(siteForm, [{ control: subject.input, message: 'User id: give the site’s id of the user.' }]);
      return;
    }
    const of = params.site ? ` of site ${params.site}` : '';
    const n = begin(`Looking up user ${params.subject}${of}…`);
    let answer;
    try {
      answer = await call('/api/admin/customers', { params });
    } catch (err) {
      if (n !== asked) return;
      if (err.status === 404) notFound(`Not found: the gateway knows no user ${params.subject}${of}.`);
      else if (err.status === 400 && err.field) { status.textContent = ''; showProblem(siteForm, err); }
      else failed(siteForm, null, err);
      return;
    }
    if (n !== asked) return;
    if (!answer || typeof answer.customer_id !== 'string') {
      failed(siteForm, null, { status: 200, message: 'The gateway’s answer named no customer.' });
      return;
    }
    await showCustomer(answer.customer_id, null);
  }

  function begin(text) {
    asked += 1;
    denied.hidden = true;
    status.textContent = text;
    return asked;
  }

  function notFound(text) {
    clear();
    status.textContent = text;
  }

  /** A refusal other than "not found": 403 in the section's alert line; one naming a field next to the field. */
  function failed(form, control, err) {
    status.textContent = '';
    if (err.status === 403) {
      clear();
      denied.textContent = problemText(err);
      denied.hidden = false;
    } else if (err.status === 400 && control) {
      showProblems(form, [{ control, message: problemText(err) }]);
    } else {
      showProblems(form, [{ message: `The customer could not be looked up: ${problemText(err)}` }]);
    }
  }

  async function showCustomer(id, via) {
    const n = begin(`Looking up customer ${id}…`);
    let data;
    try {
      data = await call(`/api/admin/customers/${enc(id)}`);
    } catch (err) {
      if (n !== asked) return;
      if (err.status === 404) notFound(`Not found: the gateway keeps no data of customer ${id}.`);
      else failed(lookupForm, via ? null : lookup.input, err);
      return;
    }
    if (n !== asked) return;
    shown = { id, data, via };
    render();
    const counts = exportCounts(data);
    status.textContent = `Customer ${id}: ${count(counts.conversations, 'conversation')}, ${count(counts.callbacks, 'callback')}, `
      + `${count(counts.attachments, 'attachment')}, ${count(counts.recordings, 'recording')}.`;
  }

  function render() {
    const { id, data, via } = shown;
    const counts = exportCounts(data);
    const facts = [
      ['Conversations', counts.conversations], ['Events in them', counts.events], ['Callbacks', counts.callbacks],
      ['Attachments', counts.attachments], ['Recordings', counts.recordings],
    ];
    const rows = conversationRows(data).map((r) => ({
      dataset: { conversation: r.id },
      cells: [
        { th: h('span', { class: 'cs-agent' }, h('code', {}, r.id),
          r.id === via ? h('span', { class: 'cs-sub' }, 'the one looked up') : null) },
        timeText(r.created),
        timeText(r.updated),
        r.disposition ? `${r.state} (${r.disposition})` : r.state,
        r.queue || '—',
        r.agent || '—',
        r.channels.length ? r.channels.join(', ') : '—',
        String(r.events),
      ],
    }));
    result.replaceChildren(
      h('div', { class: 'cs-view-head' }, h('h3', { id: 'h-customer', tabindex: '-1' }, `Customer ${id}`)),
      h('p', { class: 'cs-sub' }, [
        id.startsWith('v_') ? 'Verified by a site. ' : '',
        via ? `Found through conversation ${via}. ` : '',
        `As of ${timeText(data.exported_at) || 'now'}.`,
      ]),
      h('dl', { class: 'cs-counts', dataset: { testid: 'cs-customer-counts' } },
        facts.map(([name, n]) => h('div', { dataset: { count: name.toLowerCase().split(' ')[0] } }, h('dt', {}, name), h('dd', {}, String(n))))),
      h('div', { class: 'cs-actions' },
        h('button', { type: 'button', class: 'btn small', dataset: { testid: 'cs-customer-download' }, onclick: download },
          'Download export (JSON)'),
        h('button', { type: 'button', class: 'btn small danger', dataset: { testid: 'cs-customer-erase' }, onclick: erase },
          'Erase all data of this customer…')),
      rows.length
        ? table(`Conversations of ${id}, newest first`,
          ['Conversation', 'Created', 'Last change', 'State', 'Queue', 'Last agent', 'Channels', 'Events'], rows,
          { testid: 'cs-customer-conversations' })
        : h('p', { class: 'cs-sub' }, 'No conversations.'),
    );
    result.hidden = false;
  }

  /** Exactly what the gateway answered, as customer-<id>.json (a Blob: no network). */
  function download() {
    if (!shown) return;
    const name = exportName(shown.id);
    const url = URL.createObjectURL(new Blob([`${JSON.stringify(shown.data, null, 2)}\n`], { type: 'application/json' }));
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    status.textContent = `Saved ${name}.`;
  }

  function erase() {
    if (!shown) return;
    const { id, data } = shown;
    const dialog = eraseDialog({
      customerId: id,
      counts: exportCounts(data),
      onErased: (answer) => {
        asked += 1;
        clear();
        status.textContent = erasedText(answer);
      },
      onGone: () => {
        asked += 1;
        notFound(`Nothing to erase: the gateway keeps no data of customer ${id} (erased already?).`);
      },
    });
    // after an erasure the button is gone: the keyboard goes back to the lookup
    dialog.addEventListener('close', () => { if (!shown) lookup.input.focus(); });
  }

  return {
    load,
    reset() {
      asked += 1;
      clear();
      status.textContent = '';
      for (const form of [lookupForm, siteForm]) {
        form.reset();
        clearErrors(form);
      }
    },
  };
}
