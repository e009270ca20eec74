// When the desk alerts its agent, and the agent's choice (pure: no DOM; webclient/tests/notify_rules.test.mjs).

export const NOTIFY_DEFAULTS = Object.freeze({ notify: false, sound: true });

/** The stored setting (JSON text or null) -> {notify, sound}; anything unreadable is the default. */
export function parseNotifySettings(text) {
  let stored = null;
  try { stored = text ? JSON.parse(text) : null; } catch (_) { stored = null; }
  const out = { ...NOTIFY_DEFAULTS };
  if (stored && typeof stored === 'object') {
    if (typeof stored.notify === 'boolean') out.notify = stored.notify;
    if (typeof stored.sound === 'boolean') out.sound = stored.sound;
  }
  return out;
}

/**
 * What to do for ``kind`` ('assigned': a conversation was routed to the agent; 'message': a customer wrote):
 * a system notification only while the desk is in the background (``hidden``), with the agent's consent and the
 * browser's permission; the sound for every new conversation (as the desk always did) and, in the background,
 * for each customer message.
 */
export function alertFor(kind, { hidden, settings, permission }) {
  const background = !!hidden;
  return {
    notify: !!settings.notify && permission === 'granted' && background,
    sound: !!settings.sound && (kind === 'assigned' || background),
  };
}

/** A notification's words. */
export function notificationText(kind, customer, text) {
  const body = typeof text === 'string' ? text.replace(/\s+/g, ' ').trim() : '';
  const clipped = body.length > 140 ? `${body.slice(0, 139)}…` : body;
  return kind === 'assigned'
    ? { title: `New conversation: ${customer}`, body: clipped || 'Assigned to you' }
    : { title: `New message from ${customer}`, body: clipped };
}
