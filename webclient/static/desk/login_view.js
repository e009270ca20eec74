// The sign-in form of the desk and the supervisor and admin pages: its markup (renderLoginForm, the one copy every
// page builds into its <main id="login-view" data-heading="...">), its messages, the countdown after too many
// failed sign-ins, and the submit that signs in (desk/auth.js). `v` names the page's elements:
// {view, app, agent, password, submit, error, title}: the login view, the page it hides, the two fields, the
// button, the alert line and the document title while signed out.

import { signIn } from './auth.js';
import { askNewPassword } from './password_change.js';

let waitTimer = null;

const FORM = `
  <div class="brand">
    <span class="brand-mark" aria-hidden="true">CG</span>
    <span class="brand-name">Contact Gateway</span>
  </div>
  <h1></h1>
  <label for="login-agent">Agent ID</label>
  <input id="login-agent" name="agent_id" autocomplete="username" autocapitalize="off" spellcheck="false" required>
  <label for="login-password">Password</label>
  <input id="login-password" name="password" type="password" autocomplete="current-password" required>
  <p id="login-error" class="login-error" role="alert" hidden></p>
  <button id="login-submit" type="submit" class="btn primary wide">Sign in</button>`;

/** Build the sign-in form (#login-form) as the first child of `view`; its heading is `view.dataset.heading`. */
export function renderLoginForm(view) {
  const form = document.createElement('form');
  form.id = 'login-form';
  form.className = 'login-card';
  form.noValidate = true;
  form.innerHTML = FORM; // static markup only
  form.querySelector('h1').textContent = view.dataset.heading || 'Sign in';
  view.prepend(form);
  return form;
}

export function showLoginView(v, message) {
  clearInterval(waitTimer);
  waitTimer = null;
  v.view.hidden = false;
  v.app.hidden = true;
  document.title = v.title;
  v.error.textContent = message || '';
  v.error.hidden = !message;
  markInvalid(v, []);
  v.submit.disabled = false;
  v.submit.textContent = 'Sign in';
  setTimeout(() => (v.agent.value ? v.password : v.agent).focus(), 0);
}

/** The fields the alert line is about: marked invalid and described by it, for a screen reader (an accessibility
 *  tester heard "Wrong agent ID or password." once, then fields that said nothing of it); the others cleared. */
function markInvalid(v, fields) {
  for (const f of [v.agent, v.password]) {
    if (fields.includes(f)) {
      f.setAttribute('aria-invalid', 'true');
      f.setAttribute('aria-describedby', v.error.id);
    } else {
      f.removeAttribute('aria-invalid');
      f.removeAttribute('aria-describedby');
    }
  }
}

/** Too many failed sign-ins: say until when, count down, and keep Sign in off until then. */
function loginWait(v, seconds) {
  clearInterval(waitTimer);
  const until = Date.now() + Math.ceil(seconds) * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      showLoginView(v, 'You can sign in again now.');
      return;
    }
    const wait = left >= 120 ? `${Math.ceil(left / 60)} minutes` : `${left} second${left === 1 ? '' : 's'}`;
    v.error.textContent = `Too many failed sign-ins. You can try again in ${wait}.`;
    v.error.hidden = false;
    v.submit.disabled = true;
    v.submit.textContent = 'Sign in';
  };
  v.view.hidden = false;
  v.app.hidden = true;
  tick();
  waitTimer = setInterval(tick, 1000);
}

/** The form's submit: sign in, then `signedIn()`; a refusal is shown on the form. */
export async function submitLogin(e, v, signedIn) {
  e.preventDefault();
  const agentId = v.agent.value.trim();
  const password = v.password.value;
  if (!agentId || !password) {
    v.error.textContent = 'Enter your agent ID and password.';
    v.error.hidden = false;
    markInvalid(v, [agentId ? null : v.agent, password ? null : v.password]);
    (agentId ? v.password : v.agent).focus();
    return;
  }
  v.error.hidden = true;
  markInvalid(v, []);
  v.submit.disabled = true;
  v.submit.textContent = 'Signing in…';
  const result = await signIn(agentId, password);
  if (!result.unreached) v.password.value = '';
  if (result.wait) loginWait(v, result.wait);
  else if (result.changePassword) changePassword(v, agentId, password);
  else if (!result.ok) {
    showLoginView(v, result.message);
    if (!result.unreached) markInvalid(v, [v.agent, v.password]); // "unknown agent or wrong password": either may be
  }
  else {
    await signedIn();
    focusFirstControl(v);
  }
}

/** Signed in: the form is hidden with the focus in it, which fell to <body> (a keyboard user's next Tab started
 *  from the top of the page, a user test). The page's `[data-first-focus]` takes it (its first useful control, or
 *  its main heading), else its first button that is not Log out (Enter there signed the user out: an a11y test). */
function focusFirstControl(v) {
  const had = document.activeElement;
  if (v.app.hidden || (had && had !== document.body && !v.view.contains(had))) return;
  const shown = (b) => !b.disabled && !b.hidden && b.getClientRects().length > 0;
  const first = Array.from(v.app.querySelectorAll('[data-first-focus]')).find(shown)
    || Array.from(v.app.querySelectorAll('button')).find((b) => shown(b) && !/log ?out/i.test(b.textContent || ''));
  if (first) first.focus();
}

/** A one-time password: the page's change form (#password-form) if it has one, then sign in with the new one. */
function changePassword(v, agentId, current) {
  const $ = (id) => document.getElementById(id);
  const form = $('password-form');
  showLoginView(v, form ? '' : 'Your password was set for one use: change it in the agent desk, then sign in.');
  if (!form) return;
  const el = { form, login: v.password.form, next: $('password-new'), again: $('password-again'),
    error: $('password-error'), submit: $('password-submit') };
  askNewPassword(el, agentId, current, (chosen) => {
    v.password.value = chosen;
    v.password.form.requestSubmit();
  });
}
