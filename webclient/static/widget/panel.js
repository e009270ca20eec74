// Mounting: the shadow root and its elements, the launcher and the panel (open, close, unread badge), the status line.

import { clip } from '../shared/text.js';
import { FLASH_MS, OPEN_KEY, TEXT } from './config.js';
import { CSS, TEMPLATE } from './template.js';
import { W, saveSoon } from './state.js';
import { answerIncoming, cancelCallback, declineIncoming } from './callback.js';
import { dismissCallbar, labelCallButton } from './callbar.js';
import { toggleCaptions } from './captions.js';
import { callLive, hangUp, pressKey, startCall, toggleKeypad, toggleMute } from './call.js';
import { onDraftInput, submit } from './chat.js';
import { sessionSet } from './storage.js';
import { connectionLost, sock } from './connection.js';
import { setupTools } from './tools.js';
import { renderEndChat, setupEndChat } from './end_chat.js';
import { FULL_SCREEN_MEDIA, currentLayout, tabTarget } from './layout.js';
import { focusFirst, focusLost, typingField } from '../shared/focus.js';

export const ui = {};   // the widget's elements, once mounted (buildDom); ui.root is the shadow root

/** The widget's style as a constructed stylesheet: a host page's strict policy (`style-src 'self'`, no
 * 'unsafe-inline') blocks a <style> element but not this. A <style> element only where browsers lack it. */
function styleShadow(root) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (_) {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.prepend(style);
  }
}

export function buildDom() {
  // A tag of its own, not a <div>: a page rule for div (`div { border: 3px dashed blue }`) drew on it. Inline
  // !important declarations win over every page rule, `cg-widget { … !important }` and `* { … }` too; the host has no
  // box of its own to keep (the launcher and the panel are fixed inside the shadow root), so `all: initial`.
  const host = document.createElement('cg-widget');
  host.id = 'cg-widget';
  host.style.setProperty('all', 'initial', 'important');
  host.style.setProperty('display', 'block', 'important');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = TEMPLATE; // static markup only; user text always goes through textContent
  styleShadow(root);
  const $ = (sel) => root.querySelector(sel);
  Object.assign(ui, {
    root,
    launcher: $('[data-testid=cg-launcher]'),
    badge: $('.badge'),
    news: $('[data-testid=cg-news]'),
    panel: $('[data-testid=cg-panel]'),
    close: $('.close'),
    status: $('[data-testid=cg-status]'),
    scroll: $('.scroll'),
    messages: $('[data-testid=cg-messages]'),
    typing: $('[data-testid=cg-typing]'),
    typingText: $('.typing-text'),
    form: $('.composer'),
    input: $('[data-testid=cg-input]'),
    limit: $('[data-testid=cg-limit]'),
    send: $('[data-testid=cg-send]'),
    call: $('[data-testid=cg-call]'),
    callbar: $('[data-testid=cg-callbar]'),
    callStatus: $('[data-testid=cg-call-status]'),
    callTimer: $('[data-testid=cg-call-timer]'),
    callNote: $('.call-note'),
    callSupervisor: $('[data-testid=cg-call-supervisor]'),
    callHint: $('[data-testid=cg-call-hint]'),
    callActions: $('.call-actions'),
    callDismiss: $('.call-dismiss'),
    callAgain: $('[data-testid=cg-call-again]'),
    mute: $('[data-testid=cg-mute]'),
    keypadToggle: $('[data-testid=cg-keypad-toggle]'),
    keypad: $('#cg-keypad'),
    dialed: $('[data-testid=cg-dialed]'),
    captions: $('[data-testid=cg-captions]'),
    ccToggle: $('[data-testid=cg-captions-toggle]'),
    hangup: $('[data-testid=cg-hangup]'),
    incoming: $('[data-testid=cg-incoming]'),
    incomingText: $('[data-testid=cg-incoming-text]'),
    incomingAnswer: $('[data-testid=cg-incoming-answer]'),
    incomingDecline: $('[data-testid=cg-incoming-decline]'),
    cbBanner: $('[data-testid=cg-callback]'),
    cbText: $('[data-testid=cg-callback-text]'),
    cbCancel: $('[data-testid=cg-callback-cancel]'),
    emoji: $('[data-testid=cg-emoji]'),
    transcript: $('[data-testid=cg-transcript]'),
    foot: $('[data-testid=cg-foot]'),
    endChat: $('[data-testid=cg-end-chat]'),
    endConfirm: $('[data-testid=cg-end-confirm]'),
    endKeep: $('[data-testid=cg-end-keep]'),
    endYes: $('[data-testid=cg-end-confirm-yes]'),
  });
  const statusText = document.createElement('span');
  statusText.className = 'status-text';
  statusText.dir = 'auto';   // English in a right-to-left widget too: its "…" (two lines at most) ends it, on the right
  ui.status.appendChild(statusText);
  ui.statusText = statusText;
  // The status element's text is exactly the message (the dot is a ::before).

  ui.launcher.addEventListener('click', () => (W.isOpen ? close() : open()));
  ui.close.addEventListener('click', () => close(true));
  ui.panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(true); }
    else if (e.key === 'Tab' && modal()) trapTab(e);
  });
  watchLayout(host);
  // where the focus is (keepFocus): in the panel, or anywhere else on the page (a click there counts)
  root.addEventListener('focusin', () => { W.focusInPanel = true; });
  document.addEventListener('focusin', (e) => { if (e.target !== host) W.focusInPanel = false; });
  document.addEventListener('pointerdown', (e) => { if (e.target !== host) W.focusInPanel = false; }, true);
  ui.form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  ui.input.addEventListener('input', () => { onDraftInput(); autoGrow(); });   // the length note first: the box fits what is left
  ui.call.addEventListener('click', () => { startCall(); });
  ui.hangup.addEventListener('click', hangUp);
  ui.mute.addEventListener('click', toggleMute);
  ui.keypadToggle.addEventListener('click', () => toggleKeypad());
  ui.ccToggle.addEventListener('click', toggleCaptions);
  ui.callDismiss.addEventListener('click', dismissCallbar);
  ui.callAgain.addEventListener('click', () => { startCall(); });
  ui.incomingAnswer.addEventListener('click', answerIncoming);
  ui.incomingDecline.addEventListener('click', declineIncoming);
  ui.cbCancel.addEventListener('click', cancelCallback);
  ui.keypad.addEventListener('click', (e) => {
    const key = e.target.closest('.key');
    if (key) pressKey(key.dataset.key);
  });
  ui.keypad.addEventListener('keydown', (e) => {
    if (/^[0-9*#]$/.test(e.key)) { e.preventDefault(); pressKey(e.key); }
  });
  setupTools();
  setupEndChat();
  document.body.appendChild(host);
}

// ------------------------------------------------------------ layout: floating, or full screen and modal

/** The panel's layout follows the window (layout.js): a phone turned, a window resized. While it is full screen
 * and open, focus that lands on the hidden page behind it comes back into the panel. */
function watchLayout(host) {
  applyLayout();
  try {
    window.matchMedia(FULL_SCREEN_MEDIA).addEventListener('change', applyLayout);
  } catch (_) { /* no matchMedia: always floating */ }
  document.addEventListener('focusin', (e) => {
    if (modal() && e.target !== host) focusInPanel(false);
  });
}

function applyLayout() {
  const full = currentLayout(window) === 'full';
  ui.root.querySelector('.root').dataset.layout = full ? 'full' : 'float';
  ui.panel.setAttribute('aria-modal', full && W.isOpen ? 'true' : 'false');
}

/** The panel covers the page (open, full screen): the page behind is out of reach. */
function modal() {
  return W.isOpen && ui.root.querySelector('.root').dataset.layout === 'full';
}

function tabbable() {
  return Array.from(ui.panel.querySelectorAll('a[href], button, textarea, input, select, [tabindex]')).filter((el) =>
    !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0);
}

function focusInPanel(back) {
  const items = tabbable();
  const at = tabTarget(items.length, -1, back);
  if (at >= 0) items[at].focus();
}

function trapTab(e) {
  const items = tabbable();
  const active = ui.root.activeElement;
  // Chrome focuses a scroller without a tabindex (the captions log): it is one of the stops, in its place in the
  // panel, or Shift+Tab from it went to the last control and skipped the call's (an accessibility test)
  if (active && ui.panel.contains(active) && !items.includes(active)) {
    items.push(active);
    items.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  }
  const at = tabTarget(items.length, items.indexOf(active), e.shiftKey);
  if (at < 0) return;
  e.preventDefault();
  items[at].focus();
}

/** The panel's control that had the focus went away or was turned off (Call us during the call, Hang up, Answer,
 * Decline, the keypad at the call's end, Send rating): the focus goes on to the next sensible control on purpose,
 * not to <body> (WCAG 2.4.3). During a call: Mute, else Hang up; otherwise Call again, else the message box. */
export function keepFocus() {
  if (!W.isOpen || !W.focusInPanel || !focusLost(ui.root.activeElement)) return;
  const live = callLive(W.call);
  focusFirst(live ? [ui.mute, ui.hangup, ui.input] : [ui.callAgain, ui.input], { preventScroll: true });
}

/** May the widget move the focus on its own (an incoming call's Answer) without taking it from the customer: the panel
 * is open and the focus is on nothing (<body>) or on a control in the panel that is not a text field. Never while
 * they type, in the message box (empty or not), the rating's comment, or a field of the host page. */
export function focusIsFree() {
  if (!W.isOpen || !ui.root) return false;
  const page = document.activeElement;
  if (!page || page === document.body || page === document.documentElement) return true;
  if (page !== ui.root.host) return false; // somewhere on the host page
  const inner = ui.root.activeElement;
  return !inner || (ui.panel.contains(inner) && !typingField(inner));
}

const NEWS_MAX = 160;   // code points of a message said while the panel is closed
const INPUT_MAX = 140;   // px: the message box grows with its text up to this (then it scrolls)...
const INPUT_MIN = 40;
const LIST_MIN = 120;    // ...and never past what leaves the message list this much on a short panel

/** The message box fits its text (up to a cap that keeps the list usable); a list that was at its bottom (the latest
 * message in view) stays there as the box grows and the list gets shorter. */
export function autoGrow() {
  const el = ui.input;
  const list = ui.scroll;
  const stick = nearBottom();
  const room = list.clientHeight + el.offsetHeight - LIST_MIN;   // 0 while the panel is closed: measured on open
  el.style.height = 'auto';
  const fit = el.scrollHeight + 2;
  el.style.height = Math.max(INPUT_MIN, Math.min(fit, INPUT_MAX, room > 0 ? room : INPUT_MAX)) + 'px';
  if (stick) list.scrollTop = list.scrollHeight;
}

/** Open the panel; the focus goes to its message box unless `focus` is false (a ring, a page that restores the open
 *  panel: the customer may be typing in a field of the host page, which must keep it). */
export function open({ focus = true } = {}) {
  if (W.isOpen) return;
  W.isOpen = true;
  ui.news.textContent = '';
  ui.panel.hidden = false;
  ui.launcher.setAttribute('aria-expanded', 'true');
  ui.launcher.setAttribute('aria-label', 'Close chat');
  applyLayout();
  W.unread = 0;
  renderBadge();
  if (W.lastEventId) { W.seenId = W.lastEventId; saveSoon(); } // read now, also for the next visit
  sessionSet(OPEN_KEY, '1');
  if (ui.input.value) autoGrow();   // a draft kept over a reload was sized while the panel was closed
  scrollToBottom(true);
  if (!focus) return;
  setTimeout(() => { try { ui.input.focus({ preventScroll: true }); } catch (_) { ui.input.focus(); } }, 0);
}

export function close(returnFocus) {
  if (!W.isOpen) return;
  W.isOpen = false;
  ui.panel.hidden = true;
  ui.launcher.setAttribute('aria-expanded', 'false');
  ui.launcher.setAttribute('aria-label', 'Open chat');
  applyLayout();
  sessionSet(OPEN_KEY, '0');
  if (returnFocus) ui.launcher.focus();
}

/** What came while the panel is closed, said to a screen reader (the panel's own live regions are hidden with it:
 *  an accessibility tester heard nothing of an agent's answer); the launcher's name counts them. */
export function announceClosed(who, what) {
  if (W.isOpen) return;
  ui.news.textContent = '';   // the same words again are said again
  ui.news.textContent = `${who}: ${clip(String(what || ''), NEWS_MAX)}`;
}

export function renderBadge() {
  ui.badge.hidden = W.unread === 0;
  ui.badge.textContent = W.unread > 9 ? '9+' : String(W.unread);
  ui.launcher.setAttribute('aria-label', W.isOpen ? 'Close chat'
    : W.unread ? `Open chat (${W.unread} new message${W.unread === 1 ? '' : 's'})` : 'Open chat');
}

export function nearBottom() {
  const s = ui.scroll;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

export function scrollToBottom(force) {
  if (!force && !nearBottom()) return;
  const s = ui.scroll;
  requestAnimationFrame(() => { s.scrollTop = s.scrollHeight; });
}

// ------------------------------------------------------------ status line

export function setFlash(text) {
  W.flashText = text || 'Something went wrong';
  clearTimeout(W.flashTimer);
  W.flashTimer = setTimeout(() => { W.flashText = ''; renderStatus(); }, FLASH_MS);
  renderStatus();
}

export function renderStatus() {
  let text;
  let state;
  if (W.flashText) {
    text = W.flashText;
    state = 'error';
  } else if (!sock.ready) {
    const offline = connectionLost();
    text = offline ? TEXT.offline : TEXT.connecting;
    state = offline ? 'offline' : 'connecting';
  } else {
    state = 'online';
    if (W.conv.state === 'closed') { // connected, but nobody is on the other side of this conversation any more
      text = TEXT.closed;
      state = 'closed';
    }
    else if (W.conv.state === 'assigned' && callLive(W.call)) {
      // a call with the agent: say where it is, not "chatting" while their phone still rings
      text = W.call.agentReconnecting ? TEXT.reconnectingTo(W.conv.agentName)
        : W.call.status !== 'connected' ? TEXT.connectingTo(W.conv.agentName)
        : W.call.held ? TEXT.onHold : TEXT.onCallWith(W.conv.agentName);
    } else if (W.conv.state === 'assigned') text = TEXT.chatting(W.conv.agentName);
    else if (W.conv.state === 'queued' || W.conv.queuePos) text = TEXT.queued(W.conv.queuePos);
    else if (W.hoursOpen === false) { // closed by the line's opening hours: not the green "we're here" dot
      text = TEXT.afterHours;
      state = 'after_hours';
    } else text = TEXT.idle;
  }
  labelCallButton();
  renderEndChat();
  if (ui.statusText.textContent !== text) {
    ui.statusText.textContent = text;
    ui.status.title = text; // one line in the header; the whole text on hover
  }
  ui.status.setAttribute('data-state', state);
  // short enough for the box beside the paperclip and emoji buttons, down to a phone (the header says it closed)
  ui.input.placeholder = W.conv.state === 'closed' ? 'New message…' : 'Write a message…';
  ui.input.title = W.conv.state === 'closed' ? 'A message starts a new conversation' : '';
}
