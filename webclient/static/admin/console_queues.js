// Queues (GET /api/admin/queues, PUT/DELETE /api/admin/queues/{name}): required skills, priority, service level,
// announcements, music on hold (a file of the flows directory, picked and listened to: console_music.js), maximum
// wait and what happens then, callback policy, opening hours. A save carries the version it was read at: when another
// admin saved meanwhile (409) the form says so and shows the latest.

import { call, enc } from './console_api.js';
import {
  confirmDialog, field, formDialog, group, h, input, invalid, problemText, select, showProblem, table,
} from './console_dom.js';
import { skillRows, skillsText } from './console_agents.js';
import { hoursEditor, hoursSummary } from './console_hours.js';
import { MUSIC_NAME, musicFiles, musicPicker } from './console_music.js';

const ACTIONS = [
  ['none', 'Nothing (keep waiting)'],
  ['overflow', 'Move to another queue'],
  ['callback', 'Offer a callback'],
  ['flow', 'Run a flow'],
];
const TARGETS = { overflow: 'Queue to move to', flow: 'Flow to run', callback: 'Callback queue (empty: this one)', none: 'Target' };

// The gateway's rules for a queue (gateway/contact/queues.py): the form checks them all before sending, so an admin
// sees every field's problem at once (as the agent form does); the gateway checks them again, and what only it knows
// (a missing overflow queue or flow, a taken name) still comes back one field at a time.
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,40}$/;
const MIN_ANNOUNCE = 5;
const whole = (text) => /^\s*-?\d+\s*$/.test(text);
const wholeIn = (text, min, max) => whole(text) && Number(text) >= min && Number(text) <= max;

export const NEW_QUEUE = {
  name: '', skills: {}, priority: 0, service_level_seconds: 20, announce_seconds: 45, music: '', max_wait_seconds: 0,
  on_max_wait: { action: 'none', target: '' }, callback: { attempts: 3, spacing_seconds: 600, expiry_hours: 24 },
  hours: null, version: 0,
};

export function createQueuesView(section, ctx) {
  const body = h('div', { class: 'cs-view-body' });
  const status = h('p', { class: 'cs-status', role: 'status' });
  const add = h('button', { type: 'button', class: 'btn primary small', dataset: { testid: 'cs-queue-add' },
    onclick: () => editDialog(null) }, 'Add queue');
  section.querySelector('.cs-view-head').append(add);
  section.append(status, body);
  let queues = [];

  async function fetchQueues() {
    queues = (await call('/api/admin/queues')).queues || [];
    return queues;
  }

  async function load() {
    add.hidden = !ctx.editable;
    status.textContent = 'Loading the queues…';
    try {
      await fetchQueues();
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `The queues could not be loaded: ${problemText(err)}`;
      return;
    }
    status.textContent = queues.length ? '' : 'No queues yet.';
    render();
  }

  function render() {
    const headers = ['Queue', 'Skills', 'Priority', 'Service level', 'Max wait', 'Callbacks', 'Hours', 'Music'];
    headers.push(ctx.editable ? 'Actions' : 'Details');
    const rows = queues.map((q) => ({
      dataset: { queue: q.name },
      cells: [
        { th: q.name },
        skillsText(q.skills),
        String(q.priority ?? 0),
        h('span', { dataset: { testid: 'cs-queue-sl' } }, `${q.service_level_seconds} s`),
        maxWaitText(q),
        q.callback ? `${q.callback.attempts} tries, ${q.callback.spacing_seconds} s apart, ${q.callback.expiry_hours} h` : '—',
        hoursSummary(q.hours),
        q.music ? h('span', { class: 'cs-url' }, q.music) : h('span', { class: 'cs-sub' }, 'Generated'),
        ctx.editable ? h('div', { class: 'cs-actions' },
          h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit queue ${q.name}`, onclick: () => editDialog(q) }, 'Edit'),
          h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete queue ${q.name}`, onclick: () => remove(q) }, 'Delete'))
          : h('button', { type: 'button', class: 'btn small', 'aria-label': `Details of queue ${q.name}`, onclick: () => editDialog(q) }, 'Details'),
      ],
    }));
    body.replaceChildren(table('Queues', headers, rows, { testid: 'cs-queues' }));
  }

  async function remove(q) {
    const ok = await confirmDialog(`Delete queue ${q.name}?`,
      `This deletes queue ${q.name} and its settings. A queue that a published flow sends callers to cannot be deleted.`,
      'Delete queue');
    if (!ok) return;
    try {
      await call(`/api/admin/queues/${enc(q.name)}`, { method: 'DELETE' });
    } catch (err) {
      ctx.notify(`Queue ${q.name} was not deleted: ${problemText(err)}`);
      return;
    }
    await load();
    ctx.notify(`Queue ${q.name} was deleted.`);
  }

  function editDialog(q) {
    const adding = !q;
    const readOnly = !ctx.editable;
    let shown = structuredClone(q || NEW_QUEUE);
    const holder = h('div', { class: 'cs-queue-form' });
    let form = null;
    const music = musicFiles(); // once per dialog (a 409 makes the form again); no list: the picker says so
    const fill = () => {
      if (form) form.stop();
      form = queueForm(shown, adding, readOnly, music);
      holder.replaceChildren(form.element);
    };
    fill();
    const dialog = formDialog({
      title: adding ? 'Add a queue' : readOnly ? `Queue ${q.name}` : `Edit queue ${q.name}`,
      body: holder,
      submitLabel: readOnly ? 'Close' : adding ? 'Add queue' : 'Save',
      wide: true,
      testid: 'cs-queue-dialog',
      onSubmit: async (formEl) => {
        if (readOnly) return true;
        const problems = form.problems(adding);
        if (problems.length) throw invalid(problems);
        const value = form.value();
        try {
          await call(`/api/admin/queues/${enc(value.name)}`, { method: 'PUT', body: value });
        } catch (err) {
          if (err.code !== 'stale_version') throw err;
          if (adding) {
            // A new queue is written only if none has the name: this one exists (nothing was written). The form
            // keeps what was typed, so another name can be tried at once.
            throw Object.assign(new Error(`A queue named ${value.name} already exists: choose another name, `
              + 'or close this and edit that queue.'), { status: 409, field: 'name' });
          }
          // Saved by someone else since this form was filled: show theirs, say so, let the admin redo the change.
          const latest = (await fetchQueues()).find((x) => x.name === value.name);
          if (latest) { shown = structuredClone(latest); fill(); }
          render();
          showProblem(formEl, { status: 409, message: `Someone else saved queue ${value.name} since you opened it `
            + `(now version ${latest ? latest.version : '?'}). The form shows their version: make your change again and save.` });
          return false;
        }
        await load();
        ctx.notify(adding ? `Queue ${value.name} was added.` : `Queue ${value.name} was saved.`);
        return true;
      },
    });
    dialog.addEventListener('close', () => form.stop()); // no music plays on after the dialog
    if (readOnly) {
      for (const el of dialog.querySelectorAll('.cs-queue-form input, .cs-queue-form select')) el.disabled = true;
      // (a supervisor may still listen to the queue's music)
      for (const el of dialog.querySelectorAll('.cs-queue-form button:not(.cs-music-listen)')) el.hidden = true;
      dialog.querySelector('.cs-dialog-actions .btn:not([type=submit])').remove();
      dialog.querySelector('[type=submit]').focus(); // its Close: the field focused on opening is disabled now
    }
  }

  return {
    load,
    reset() { queues = []; body.replaceChildren(); status.textContent = ''; },
  };
}

function maxWaitText(q) {
  if (!q.max_wait_seconds) return 'None';
  const act = q.on_max_wait || { action: 'none' };
  const what = { overflow: `move to ${act.target}`, callback: 'offer a callback', flow: `run flow ${act.target}`, none: 'keep waiting' };
  return `${q.max_wait_seconds} s, then ${what[act.action] || act.action}`;
}

const num = (name, label, value, attrs, hint) =>
  field(label, input(name, { type: 'number', step: 1, value: value ?? '', ...attrs }), { hint }).wrap;

/** The queue's form: {element, problems(), stop() (its music's playing), value() -> Queue}. Field names are the
 * contract's (dotted for nested ones), so a refusal naming `on_max_wait.target` lands next to that field. */
function queueForm(q, adding, readOnly, musicList) {
  const skills = skillRows(q.skills, { legend: 'Required skills' });
  const action = select('on_max_wait.action', ACTIONS, (q.on_max_wait && q.on_max_wait.action) || 'none');
  const target = input('on_max_wait.target', { value: (q.on_max_wait && q.on_max_wait.target) || '' });
  const targetField = field(TARGETS[action.value] || 'Target', target);
  const syncTarget = () => {
    targetField.wrap.querySelector('label').textContent = TARGETS[action.value] || 'Target';
    targetField.wrap.hidden = action.value === 'none';
  };
  action.addEventListener('change', syncTarget);
  syncTarget();
  const hours = hoursEditor(q.hours);
  const cb = q.callback || NEW_QUEUE.callback;
  const musicField = musicPicker(q.music || '', musicList, { readOnly });
  const element = h('div', { class: 'cs-form-grid' },
    group('Queue', 'queue',
      field('Name', input('name', { value: q.name, required: true, readonly: !adding || readOnly, maxlength: 40 }),
        { hint: adding ? 'Flows book into the queue by this name.' : 'The name cannot be changed.' }).wrap,
      num('priority', 'Priority', q.priority, { min: -1000, max: 1000 }, 'Higher is served first when agents are shared.'),
      num('service_level_seconds', 'Service level (seconds)', q.service_level_seconds, { min: 1, max: 3600 },
        'Answered within this counts as in service level.'),
      num('announce_seconds', 'Announcement interval (seconds)', q.announce_seconds, { min: 0, max: 3600 },
        'How often callers hear their place: 0 (never) or 5 and more.'),
      musicField.wrap),
    skills.element,
    group('Maximum wait', 'on_max_wait',
      num('max_wait_seconds', 'Maximum wait (seconds)', q.max_wait_seconds, { min: 0, max: 86400 }, '0: no maximum.'),
      field('Then', action).wrap, targetField.wrap),
    group('Callbacks', 'callback',
      num('callback.attempts', 'Attempts', cb.attempts, { min: 1, max: 10 }),
      num('callback.spacing_seconds', 'Seconds between attempts', cb.spacing_seconds, { min: 60, max: 86400 }),
      num('callback.expiry_hours', 'Expires after (hours)', cb.expiry_hours, { min: 1, max: 720 })),
    group('Opening hours', 'hours', hours.element));
  const control = (name) => element.querySelector(`[name="${name}"]`);
  const read = (name) => control(name).value;
  /** Every field the gateway would refuse, each with its message (the field's label first), skills' rows too. */
  function problems(adding) {
    const out = [];
    const check = (ok, name, message) => { if (!ok) out.push({ control: control(name), message }); };
    const name = read('name').trim();
    if (adding) {
      check(name !== '', 'name', 'Name is required.');
      check(name === '' || QUEUE_NAME.test(name), 'name', 'Name: 1 to 40 of A-Z, a-z, 0-9, _ and - (no spaces).');
    }
    check(wholeIn(read('priority'), -1000, 1000), 'priority', 'Priority: a whole number from -1000 to 1000.');
    check(wholeIn(read('service_level_seconds'), 1, 3600), 'service_level_seconds',
      'Service level: a whole number of seconds from 1 to 3600.');
    const announce = read('announce_seconds');
    check(wholeIn(announce, 0, 3600) && !(Number(announce) > 0 && Number(announce) < MIN_ANNOUNCE), 'announce_seconds',
      `Announcement interval: 0 (never) or from ${MIN_ANNOUNCE} to 3600 seconds (an announcement takes a few seconds itself).`);
    const music = read('music').trim();
    check(music === '' || MUSIC_NAME.test(music), 'music',
      'Music on hold: empty (the generated music), or a .wav, .mp3 or .ogg file name of letters, digits, _ . and -.');
    const maxWait = read('max_wait_seconds');
    check(wholeIn(maxWait, 0, 86400), 'max_wait_seconds', 'Maximum wait: a whole number of seconds from 0 to 86400.');
    if (action.value !== 'none') {
      check(!wholeIn(maxWait, 0, 0), 'max_wait_seconds', 'Maximum wait: set it (above 0) for the action after it.');
      const aim = target.value.trim();
      if (action.value === 'overflow') {
        check(aim !== '', 'on_max_wait.target', 'Queue to move to: name the queue.');
        check(aim === '' || QUEUE_NAME.test(aim), 'on_max_wait.target', 'Queue to move to: that is not a queue name.');
        check(aim === '' || aim !== name, 'on_max_wait.target', 'Queue to move to: a queue cannot move callers to itself.');
      } else if (action.value === 'flow') {
        check(aim !== '', 'on_max_wait.target', 'Flow to run: name the flow.');
      }
    }
    check(wholeIn(read('callback.attempts'), 1, 10), 'callback.attempts', 'Attempts: a whole number from 1 to 10.');
    check(wholeIn(read('callback.spacing_seconds'), 60, 86400), 'callback.spacing_seconds',
      'Seconds between attempts: a whole number from 60 to 86400.');
    const expiry = read('callback.expiry_hours');
    check(/^\s*\d+(\.\d+)?\s*$/.test(expiry) && Number(expiry) >= 1 && Number(expiry) <= 720, 'callback.expiry_hours',
      'Expires after: a number of hours from 1 to 720.');
    // in the form's order, so the first one marked is the one focused
    return out.concat(skills.problems()).sort((a, b) =>
      (a.control.compareDocumentPosition(b.control) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  }
  return {
    element,
    problems,
    stop: musicField.stop,
    value() {
      return {
        name: read('name').trim(),
        skills: skills.value(),
        priority: Number(read('priority')),
        service_level_seconds: Number(read('service_level_seconds')),
        announce_seconds: Number(read('announce_seconds')),
        music: read('music').trim(),
        max_wait_seconds: Number(read('max_wait_seconds')),
        on_max_wait: { action: action.value, target: action.value === 'none' ? '' : target.value.trim() },
        callback: {
          attempts: Number(read('callback.attempts')),
          spacing_seconds: Number(read('callback.spacing_seconds')),
          expiry_hours: Number(read('callback.expiry_hours')),
        },
        hours: hours.value(),
        version: q.version || 0,
      };
    },
  };
}
