// Agents (GET/POST /api/admin/agents, PATCH/DELETE /api/admin/agents/{id}, POST .../{id}/password): who works the
// center, their roles, skills with levels and capacity, whether they are disabled or must change their password,
// and where they are signed in. Admins add, edit, disable, remove and set one-time passwords; supervisors read.

import { call, enc } from './console_api.js';
import {
  confirmDialog, field, formDialog, group, h, input, newId, noticeDialog, problemText, table, timeText,
} from './console_dom.js';

export const ROLES = [['agent', 'Agent'], ['supervisor', 'Supervisor'], ['admin', 'Admin']];
const MIN_PASSWORD = 10;

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
    return h('div', { class: 'cs-actions' },
      h('button', { type: 'button', class: 'btn small', 'aria-label': `Edit ${label}`, onclick: () => editDialog(a) }, 'Edit'),
      h('button', { type: 'button', class: 'btn small', 'aria-label': `Reset password of ${label}`,
        onclick: () => passwordDialog(a) }, 'Reset password'),
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
    const skills = skillRows(a ? a.skills : {});
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

/** Skills as rows of name + level, with add and remove: {element, value() -> {name: level}}. */
export function skillRows(skills, { legend = 'Skills', name = 'skills' } = {}) {
  const list = h('div', { class: 'cs-rows' });
  const addRow = (skill = '', level = 1) => {
    const n = list.children.length + 1;
    const nameIn = input('skill', { value: skill, 'aria-label': `Skill ${n} name`, placeholder: 'billing', maxlength: 40 });
    const levelIn = input('level', { type: 'number', min: 1, max: 10, step: 1, value: level, 'aria-label': `Skill ${n} level` });
    const row = h('div', { class: 'cs-row' }, nameIn, levelIn,
      h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Remove skill ${n}`,
        onclick: () => { row.remove(); addButton.focus(); } }, 'Remove'));
    list.append(row);
    return nameIn;
  };
  for (const [skill, level] of Object.entries(skills || {})) addRow(skill, level);
  const addButton = h('button', { type: 'button', class: 'btn small', onclick: () => addRow().focus() }, 'Add skill');
  const element = group(legend, name, h('p', { class: 'cs-hint' }, 'Each skill with a level from 1 to 10.'), list, addButton);
  return {
    element,
    value() {
      const out = {};
      for (const row of list.children) {
        const [skill, level] = row.querySelectorAll('input');
        const key = skill.value.trim();
        if (!key) continue;
        if (Object.hasOwn(out, key)) {  // two levels for one skill: the admin says which, nothing is merged
          throw Object.assign(new Error(`Skill ${key} is listed twice: keep one row for it.`), { status: 400, field: name });
        }
        out[key] = Number(level.value);
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
