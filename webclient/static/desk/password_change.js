// A one-time password: the login answered 403 password_change_required. The agent chooses their own here
// (POST /api/agent/password {agent_id, current, new}, no token: the one-time password is the credential), then
// the desk signs in with the new one. The one-time password lives in this closure only, never in storage.

const MIN_LENGTH = 10;

/**
 * Show the change form in place of the login form.
 * @param {{form: HTMLFormElement, login: HTMLFormElement, next: HTMLInputElement, again: HTMLInputElement,
 *          error: HTMLElement, submit: HTMLButtonElement}} el
 * @param {string} agentId
 * @param {string} current the one-time password the agent just typed
 * @param {(password: string) => void} signIn signs in with the new password
 */
export function askNewPassword(el, agentId, current, signIn) {
  const say = (message, field) => {
    el.error.textContent = message;
    el.error.hidden = !message;
    for (const input of [el.next, el.again]) input.setAttribute('aria-invalid', String(input === field));
    if (field) field.focus();
  };
  el.login.hidden = true;
  el.form.hidden = false;
  el.next.value = '';
  el.again.value = '';
  say('', null);
  el.next.focus();
  el.form.onsubmit = async (e) => {
    e.preventDefault();
    const password = el.next.value;
    if (password.length < MIN_LENGTH) return say(`Use at least ${MIN_LENGTH} characters.`, el.next);
    if (password !== el.again.value) return say('The two passwords differ.', el.again);
    el.submit.disabled = true;
    let res = null;
    let body = null;
    try {
      res = await fetch('/api/agent/password', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ agent_id: agentId, current, new: password }),
        credentials: 'same-origin',
      });
      if (res.status !== 204) body = await res.json().catch(() => null);
    } catch (_) {
      res = null;
    } finally {
      el.submit.disabled = false;
    }
    if (res && res.status === 204) {
      el.form.hidden = true;
      el.login.hidden = false;
      el.form.onsubmit = null;
      signIn(password);
      return;
    }
    const message = body && typeof body.message === 'string' ? body.message
      : res ? `The password was not changed (HTTP ${res.status}).` : 'Cannot reach the gateway. Try again.';
    say(message, res && res.status === 401 ? null : el.next);
  };
}
