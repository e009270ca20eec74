// Erasing a customer (DELETE /api/admin/customers/{id}): a confirmation that says what goes, whose button is
// enabled only once the admin typed the customer id exactly; focus starts on Cancel, never on the erase button.
// 409 call_in_progress (the customer is on a call now): its message in the dialog, nothing erased, the dialog open.

import { call, enc } from './console_api.js';
import { field, formDialog, h, input, invalid } from './console_dom.js';
import { count } from './console_customer_data.js';

/** Ask, then erase. `counts`: what the shown export holds (exportCounts); `onErased(answer)` after a 200,
 * `onGone()` after a 404 (nothing of that customer is left), each once the dialog has closed. */
export function eraseDialog({ customerId, counts, onErased, onGone }) {
  const confirm = field('Customer id, to confirm', input('confirm', { dataset: { testid: 'cs-erase-confirm' } }),
    { hint: `Type ${customerId} exactly: the erase button is enabled once it matches.` });
  const c = counts || {};
  const body = [
    h('p', {}, `Everything the gateway keeps about ${customerId} goes, on every node:`),
    h('ul', { class: 'cs-erase-list' },
      h('li', {}, `${count(c.conversations, 'conversation')}, with every message, note, transcript and context value in them`),
      h('li', {}, `${count(c.callbacks, 'callback')}, ${count(c.attachments, 'attachment')} and `
        + `${count(c.recordings, 'call recording')} (other nodes delete their own copies at their next retention pass)`),
      h('li', {}, 'their copies in the event log and in the webhook outboxes (payloads not delivered yet)')),
    h('p', {}, 'A conversation of theirs that is open is closed, and the browser they used starts afresh, as a new visitor.'),
    h('p', { class: 'cs-erase-warning' }, 'This cannot be undone. Report counters keep only their totals. ',
      'Download the export first if the customer also asked for their data.'),
    confirm.wrap,
  ];
  let answer = null;
  let gone = false;
  const dialog = formDialog({
    title: `Erase all data of customer ${customerId}?`,
    body,
    submitLabel: 'Erase all data',
    danger: true,
    testid: 'cs-erase-dialog',
    onSubmit: async (form) => {
      if (form.elements.confirm.value.trim() !== customerId) {
        throw invalid([{ field: 'confirm', message: `Type ${customerId} exactly, to confirm.` }]);
      }
      try {
        answer = await call(`/api/admin/customers/${enc(customerId)}`, { method: 'DELETE' });
      } catch (err) {
        if (err.status === 404) {
          gone = true;
          return true;
        }
        // the gateway's words say what happened: "on a call now ... (nothing was erased)", or "erase again" after
        // a run stopped half-way (what it erased stays erased; the next run finishes it)
        if (err.status === 409) throw Object.assign(new Error(sentence(err.message)), { status: 409 });
        throw err;
      }
      return true;
    },
  });
  const submit = dialog.querySelector('button[type=submit]');
  const cancel = dialog.querySelector('.cs-dialog-actions button:not([type=submit])');
  const sync = () => { submit.disabled = confirm.input.value.trim() !== customerId; };
  confirm.input.addEventListener('input', sync);
  // the dialog re-enables its button after a refused try (a 409): the typed id decides again
  new MutationObserver(() => { if (!submit.disabled) sync(); }).observe(submit, { attributes: true, attributeFilter: ['disabled'] });
  sync();
  cancel.focus();
  dialog.addEventListener('close', () => {
    if (answer) onErased(answer);
    else if (gone) onGone();
  });
  return dialog;
}

/** The gateway's message as a sentence: a capital first, a full stop last ("customer … has ended" reads so). */
function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return 'The gateway refused.';
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
