// Agents (GET/POST /api/admin/agents, PATCH/DELETE /api/admin/agents/{id}, POST .../{id}/password): who works the
// center, their roles, skills with levels and capacity, whether they are disabled or must change their password,
// and where they are signed in. Admins add, edit, disable, remove and set one-time passwords; supervisors read.

import { call, enc } from './console_api.js';
import {
  confirmDialog, field, formDialog, group, h, input, invalid, newId, noticeDialog, problemText, table, timeText,
} from './console_dom.js';

export const ROLES = [['agent', 'Agent'], ['supervisor', 'Supervisor'], ['admin', 'Admin']];
// the gateway's rules (gateway/contact/agents.py, routing.py): the form checks them all before sending, so an admin
// sees every field's problem at once; the gateway checks them again (and what only it knows: a taken ID, a breached
// password)
const MIN_PASSWORD = 10;
const AGENT_ID = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const MAX_NAME = 80;
const MAX_CAPACITY = 50;
const SKILL_NAME = /^[A-Za-z0-9_-]{1,40}$/;
const MAX_SKILL_LEVEL = 10;
const MAX_SKILLS = 32;  // an agent's (a queue's are not counted)

const wholeIn = (text, min, max) => /^\s*\d+\s*$/.test(text) && Number(text) >= min && Number(text) <= max;

export function createAgentsView(section, ctx) {
  const body = h('div', { class: 'cs-view-body' });
  const status = h('p', { class: 'cs-status', role: 'status' });
  const add = h('button', { type: 'button', class: 'btn primary small', dataset: { testid: 'cs-agent-add' },
    onclick: () => editDialog(null) }, 'Add agent');
  section.querySelector('.cs-view-head').append(add);
  section.append(status, body);
  let agents = [];

  async function load() {
    add.hidden = !ctx.editable;
    status.textContent = 'Loading the agents…';
    try {
      agents = (await call('/api/admin/agents')).agents || [];
    } catch (err) {
      if (err.status === 403) ctx.refuse(problemText(err));
      else status.textContent = `The agents could not be loaded: ${problemText(err)}`;
      return;
    }
    status.textContent = agents.length ? '' : 'No agents yet.';
    render();
  }

  function render() {
    const headers = ['Agent', 'Roles', 'Skills (level)', 'Capacity', 'Status', 'Signed in'];
    if (ctx.editable) headers.push('Actions');
    const rows = agents.map((a) => {
      const cells = [
        { th: h('span', { class: 'cs-agent' }, h('b', {}, a.name || a.id), h('span', { class: 'cs-sub' }, a.id)) },
        (a.roles || []).join(', '),
        skillsText(a.skills),
        String(a.capacity ?? ''),
        statusBadge(a),
        sessionsList(a.sessions),
      ];
      if (ctx.editable) cells.push(actions(a));
      return { cells, dataset: { agent: a.id } };
    });
    body.replaceChildren(table('Agents', headers, rows, { testid: 'cs-agents' }));
  }

  function actions(a) {
    const label = a.name || a.id;
    const edit = [
      h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit ${label}`, onclick: () => editDialog(a) }, 'Edit'),
      h('button', { type: 'button', class: 'btn small', 'aria-label': `Reset password of ${label}`,
        onclick: () => passwordDialog(a) }, 'Reset password'),
    ];
    // one's own account: the gateway refuses to disable or remove it (after a confirm, an exploratory test): not offered
    if (ctx.me && a.id === ctx.me) return h('div', { class: 'cs-actions' }, ...edit, h('span', { class: 'cs-sub' }, '(you)'));
    return h('div', { class: 'cs-actions' }, ...edit,
      h('button', { type: 'button', class: 'btn small', 'aria-label': `${a.disabled ? 'Enable' : 'Disable'} ${label}`,
        onclick: () => setDisabled(a, !a.disabled) }, a.disabled ? 'Enable' : 'Disable'),
      h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Remove ${label}`, onclick: () => remove(a) },
        'Remove'));
  }

  async function setDisabled(a, disabled) {
    try {
      await call(`/api/admin/agents/${enc(a.id)}`, { method: 'PATCH', body: { disabled } });
    } catch (err) {
      ctx.notify(`${a.id} could not be ${disabled ? 'disabled' : 'enabled'}: ${problemText(err)}`);
      return;
    }
    await load();
    ctx.notify(disabled ? `${a.id} is disabled: signed out everywhere, cannot sign in.` : `${a.id} can sign in again.`);
  }

  async function remove(a) {
    const ok = await confirmDialog(`Remove ${a.name || a.id}?`,
      `${a.id} is removed for good: signed out on every node at once, and cannot sign in again.`, 'Remove agent');
    if (!ok) return;
    try {
      await call(`/api/admin/agents/${enc(a.id)}`, { method: 'DELETE' });
    } catch (err) {
      ctx.notify(`${a.id} could not be removed: ${problemText(err)}`);
      return;
    }
    await load();
    ctx.notify(`${a.id} was removed.`);
  }

  function editDialog(a) {
    const adding = !a;
    const roles = new Set(a ? a.roles || [] : ['agent']);
    const skills = skillRows(a ? a.skills : {}, { most: MAX_SKILLS });
    const fields = [
      adding ? field('Agent ID', input('id', { required: true, maxlength: 32 }), { hint: 'Used to sign in; cannot be changed later.' }).wrap : null,
      field('Name', input('name', { required: true, value: a ? a.name || '' : '', maxlength: 80, spellcheck: 'true' })).wrap,
      adding ? field('Password', input('password', { type: 'password', required: true, autocomplete: 'new-password' }),
        { hint: `At least ${MIN_PASSWORD} characters, not a common one. The agent changes it at first sign-in.` }).wrap : null,
      field('Capacity', input('capacity', { type: 'number', min: 1, max: 50, step: 1, required: true, value: a ? a.capacity : 2 }),
        { hint: 'Chats at once.' }).wrap,
      group('Roles', 'roles', ROLES.map(([value, text]) => {
        const id = newId('role');
        return h('div', { class: 'cs-check' },
          h('input', { type: 'checkbox', id, name: 'role', value, checked: roles.has(value) }), h('label', { for: id }, text));
      })),
      skills.element,
    ];
    formDialog({
      title: adding ? 'Add an agent' : `Edit ${a.name || a.id}`,
      body: fields,
      submitLabel: adding ? 'Add agent' : 'Save',
      testid: 'cs-agent-dialog',
      onSubmit: async (form) => {
        const f = form.elements;
        const problems = agentProblems(form, adding).concat(skills.problems());
        if (problems.length) throw invalid(problems);
        const value = {
          name: f.namedItem('name').value.trim(),
          capacity: Number(f.capacity.value),
          roles: [...form.querySelectorAll('input[name=role]:checked')].map((x) => x.value),
          skills: skills.value(),
        };
        if (adding) {
          Object.assign(value, { id: f.namedItem('id').value.trim(), password: f.password.value });
          await call('/api/admin/agents', { method: 'POST', body: value });
        } else {
          await call(`/api/admin/agents/${enc(a.id)}`, { method: 'PATCH', body: value });
        }
        await load();
        ctx.notify(adding ? `${value.id} was added: they sign in with this password once, then choose their own.`
          : `${a.id} was saved.`);
        return true;
      },
    });
  }

  /** Every field of the agent form that the gateway would refuse, each with its message (as the form names it). */
  function agentProblems(form, adding) {
    const f = form.elements;
    const out = [];
    const check = (ok, control, message) => { if (!ok) out.push({ control, message }); };
    if (adding) {
      const id = f.namedItem('id');
      check(id.value.trim() !== '', id, 'Agent ID is required.');
      check(id.value.trim() === '' || AGENT_ID.test(id.value.trim()), id,
        'Agent ID: 1 to 32 of a-z, 0-9, dot, _ and -, starting with a letter or digit.');
    }
    const name = f.namedItem('name');
    check(name.value.trim() !== '', name, 'Name is required.');
    check([...name.value.trim()].length <= MAX_NAME, name, `Name: at most ${MAX_NAME} characters.`); // as the gateway counts: code points
    check(!/[\u0000-\u001f\u007f]/.test(name.value), name, 'Name: no control characters.');
    if (adding) {
      check([...f.password.value].length >= MIN_PASSWORD, f.password, `Password: at least ${MIN_PASSWORD} characters.`);
    }
    check(wholeIn(f.capacity.value, 1, MAX_CAPACITY), f.capacity, `Capacity: a whole number from 1 to ${MAX_CAPACITY}.`);
    if (!form.querySelector('input[name=role]:checked')) out.push({ field: 'roles', message: 'Roles: choose at least one.' });
    return out;
  }

  function passwordDialog(a) {
    formDialog({
      title: `Reset the password of ${a.name || a.id}`,
      body: [
        h('p', {}, 'Set a one-time password and give it to the agent: they must choose their own at next sign-in. Their sessions go on until then.'),
        field('One-time password', input('password', { type: 'password', required: true, autocomplete: 'new-password' }),
          { hint: `At least ${MIN_PASSWORD} characters, not a common one.` }).wrap,
      ],
      submitLabel: 'Set password',
      testid: 'cs-password-dialog',
      onSubmit: async (form) => {
        await call(`/api/admin/agents/${enc(a.id)}/password`, { method: 'POST', body: { password: form.elements.password.value } });
        await load();
        ctx.notify(`${a.id} has a one-time password: they choose a new one at next sign-in.`);
        return true;
      },
    });
  }

  return {
    load,
    reset() { agents = []; body.replaceChildren(); status.textContent = ''; },
  };
}

/** Skills as rows of name + level, with add and remove: {element, problems() -> [{control, message}], value() ->
 * {name: level}}. Rows are numbered as they stand (removing one renumbers the rest): "Skill 2 name", "Skill 2 level";
 * each input has its own error line under its row, and a problem names the row and the field so. */
export function skillRows(skills, { legend = 'Skills', name = 'skills', most = Infinity } = {}) {
  const list = h('div', { class: 'cs-rows' });
  const inputs = (entry) => entry.querySelectorAll('input');
  const renumber = () => {
    Array.from(list.children).forEach((entry, i) => {
      const [skill, level] = inputs(entry);
      skill.setAttribute('aria-label', `Skill ${i + 1} name`);
      level.setAttribute('aria-label', `Skill ${i + 1} level`);
      entry.querySelector('button').setAttribute('aria-label', `Remove skill ${i + 1}`);
    });
  };
  const errorFor = (control, stem) => {
    const error = h('p', { class: 'cs-field-error', id: newId(stem), hidden: true });
    control.setAttribute('aria-describedby', error.id);
    return error;
  };
  const addRow = (skill = '', level = 1) => {
    const nameIn = input('skill', { value: skill, placeholder: 'billing', maxlength: 40 });
    const levelIn = input('level', { type: 'number', min: 1, max: MAX_SKILL_LEVEL, step: 1, value: level });
    const entry = h('div', { class: 'cs-row-entry' },
      h('div', { class: 'cs-row' }, nameIn, levelIn,
        h('button', { type: 'button', class: 'btn small ghost',
          onclick: () => { entry.remove(); renumber(); addButton.focus(); } }, 'Remove')),
      errorFor(nameIn, 'skill-name-error'), errorFor(levelIn, 'skill-level-error'));
    list.append(entry);
    renumber();
    return nameIn;
  };
  for (const [skill, level] of Object.entries(skills || {})) addRow(skill, level);
  const addButton = h('button', { type: 'button', class: 'btn small', onclick: () => addRow().focus() }, 'Add skill');
  const element = group(legend, name, h('p', { class: 'cs-hint' }, `Each skill with a level from 1 to ${MAX_SKILL_LEVEL}.`),
    list, addButton);

  /** Every row's problems at once (a row left as added, no name and level 1, is left out, as value() leaves it;
   * one given another level but no name is a problem: it was dropped without a word, an exploratory test). */
  function problems() {
    const out = [];
    const seen = new Map();  // name (any case: the gateway's are lower case) -> the row that has it
    for (const entry of list.children) {
      const [skill, level] = inputs(entry);
      const key = skill.value.trim();
      const row = skill.getAttribute('aria-label').replace(/ name$/, '');
      if (!key) {
        if (level.value.trim() !== '1') out.push({ control: skill, message: `${row} name: give the skill a name, or remove the row.` });
        continue;
      }
      if (!SKILL_NAME.test(key)) {
        out.push({ control: skill, message: `${row} name: 1 to 40 Latin letters (A-Z, a-z), digits, _ or - (no spaces).` });
      } else if (seen.has(key.toLowerCase())) {
        out.push({ control: skill, message: `${row} name: ${key} is listed twice (as ${seen.get(key.toLowerCase())}): keep one row for it.` });
      } else {
        seen.set(key.toLowerCase(), row.toLowerCase());
      }
      if (!wholeIn(level.value, 1, MAX_SKILL_LEVEL)) {
        out.push({ control: level, message: `${row} level: a whole number from 1 to ${MAX_SKILL_LEVEL}.` });
      }
    }
    if (seen.size > most) out.push({ field: name, message: `At most ${most} skills.` });
    return out;
  }

  return {
    element,
    problems,
    value() {
      const found = problems();
      if (found.length) throw invalid(found);  // two levels for one skill: the admin says which, nothing is merged
      const out = {};
      for (const entry of list.children) {
        const [skill, level] = inputs(entry);
        if (skill.value.trim()) out[skill.value.trim()] = Number(level.value);
      }
      return out;
    },
  };
}

export function skillsText(skills) {
  const entries = Object.entries(skills || {});
  return entries.length ? entries.map(([s, l]) => `${s} (${l})`).join(', ') : '—';
}

function statusBadge(a) {
  if (a.disabled) return h('span', { class: 'cs-badge off' }, 'Disabled');
  if (a.must_change_password) return h('span', { class: 'cs-badge warn' }, 'Must change password');
  return h('span', { class: 'cs-badge ok' }, 'Active');
}

function sessionsList(sessions) {
  if (!sessions || !sessions.length) return h('span', { class: 'cs-sub' }, 'Not signed in');
  return h('ul', { class: 'cs-sessions' }, sessions.map((s) => h('li', {},
    `${s.node || '?'}${s.address ? ` · ${s.address}` : ''}`, h('span', { class: 'cs-sub' }, ` since ${timeText(s.since)}`))));
}
