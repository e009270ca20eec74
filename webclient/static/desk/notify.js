// Desk notifications: a system notification (Web Notifications) and a short sound for a new conversation or a
// new customer message while the desk is in the background. Each agent chooses in the Notifications menu of the
// top bar; the choice is kept in localStorage per agent. The browser's permission is asked when the agent turns
// notifications on (a click: browsers ask only on a user gesture).

import { NOTIFY_KEY } from './config.js';
import { S } from './state.js';
import { alertFor, notificationText, parseNotifySettings } from './notify_rules.js';
import { beep, customerLabel, toast } from './dom.js';
import { select } from './composer.js';

const el = {};

function storageKey() {
  return NOTIFY_KEY + (S.agent && S.agent.id ? S.agent.id : '');
}

function settings() {
  try { return parseNotifySettings(window.localStorage.getItem(storageKey())); } catch (_) { return parseNotifySettings(null); }
}

function save(next) {
  try { window.localStorage.setItem(storageKey(), JSON.stringify(next)); } catch (_) { /* kept for this page only */ }
}

function permission() {
  return typeof window.Notification === 'function' ? window.Notification.permission : 'unsupported';
}

function note(text) {
  el.note.textContent = text || '';
  el.note.hidden = !text;
}

function render() {
  const s = settings();
  const perm = permission();
  el.desktop.checked = s.notify && perm === 'granted';
  el.desktop.disabled = perm === 'unsupported';
  el.sound.checked = s.sound;
  if (perm === 'unsupported') note('This browser cannot show notifications.');
  else if (perm === 'denied') note('Notifications are blocked for this site in the browser\u2019s settings.');
  else note('');
}

async function onDesktopChange() {
  const s = settings();
  if (!el.desktop.checked) {
    save({ ...s, notify: false });
    render();
    return;
  }
  let perm = permission();
  if (perm === 'default') {
    try { perm = await window.Notification.requestPermission(); } catch (_) { perm = permission(); }
  }
  save({ ...s, notify: perm === 'granted' });
  render();
  if (perm !== 'granted') toast('Notifications were not allowed');
}

/** Wire the menu (agent.html #notify-menu); called once at boot. */
export function initNotifications() {
  el.menu = document.getElementById('notify-menu');
  el.desktop = el.menu.querySelector('[data-testid=notify-desktop]');
  el.sound = el.menu.querySelector('[data-testid=notify-sound]');
  el.note = el.menu.querySelector('[data-testid=notify-note]');
  el.menu.addEventListener('toggle', () => { if (el.menu.open) render(); });
  el.desktop.addEventListener('change', onDesktopChange);
  el.sound.addEventListener('change', () => { save({ ...settings(), sound: el.sound.checked }); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && el.menu.open) { el.menu.open = false; el.menu.querySelector('summary').focus(); }
  });
}

function show(kind, conv, text) {
  const { title, body } = notificationText(kind, customerLabel(conv), text);
  try {
    const n = new window.Notification(title, { body, tag: `cg-${conv.id}`, renotify: true });
    n.addEventListener('click', () => {
      window.focus();
      if (S.convs.has(conv.id)) select(conv.id);
      n.close();
    });
  } catch (_) { /* a browser that only notifies from a service worker: the sound and the list still tell */ }
}

/** A conversation was routed to this agent, or a customer wrote in one: alert as the agent chose. */
export function alertAgent(kind, conv, text) {
  const what = alertFor(kind, { hidden: document.hidden, settings: settings(), permission: permission() });
  if (what.sound) beep();
  if (what.notify) show(kind, conv, text);
}
