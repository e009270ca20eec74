// The widget's markup: icons and the shadow root's template (its style is widget/widget.css, inlined by the joiner).

import { TEXT } from './config.js';

// ------------------------------------------------------------ DOM

export const CSS = '/*@inline widget.css*/';   // the joiner puts widget/widget.css here

const ICON_CHAT = '<svg class="i-chat" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12Z"/></svg>';
const ICON_X = '<svg class="i-close" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18"/></svg>';
const ICON_SEND = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M22 2 11 13"/><path d="M22 2 15 22l-4-9-9-4 20-7Z"/></svg>';
const ICON_CLIP = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="m21.4 11.1-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5"/></svg>';
const ICON_HEADSET = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M3 14v-2a9 9 0 0 1 18 0v2"/><path d="M21 15a2 2 0 0 1-2 2h-1v-6h1a2 2 0 0 1 2 2Z"/><path d="M3 15a2 2 0 0 0 2 2h1v-6H5a2 2 0 0 0-2 2Z"/><path d="M18 17v1a3 3 0 0 1-3 3h-3"/></svg>';

const PHONE_PATH = '<path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1 1 .4 1.9.7 2.8a2 2 0 0 1-.5 2.1L8.1 9.9a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.8.7a2 2 0 0 1 1.7 2Z"/>';
const ICON_PHONE = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${PHONE_PATH}</svg>`;
const ICON_HANGUP = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><g transform="rotate(135 12 12)">${PHONE_PATH}</g></svg>`;
const MIC_PATHS = '<path d="M12 2.5a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0v-6a3 3 0 0 0-3-3Z"/><path d="M19 10.5v1a7 7 0 0 1-14 0v-1"/><path d="M12 18.5v3"/>';
const ICON_MIC = `<svg class="i-on" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${MIC_PATHS}</svg>` +
  `<svg class="i-off" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${MIC_PATHS}<path d="M3 3l18 18"/></svg>`;
const ICON_KEYPAD = '<svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">' +
  [4, 9.3, 14.6].map((y) => [6, 12, 18].map((x) => `<circle cx="${x}" cy="${y}" r="1.7"/>`).join('')).join('') +
  '<circle cx="12" cy="19.9" r="1.7"/></svg>';
// [key, testid suffix, letters]
const KEYS = [['1', '1', ''], ['2', '2', 'ABC'], ['3', '3', 'DEF'], ['4', '4', 'GHI'], ['5', '5', 'JKL'],
  ['6', '6', 'MNO'], ['7', '7', 'PQRS'], ['8', '8', 'TUV'], ['9', '9', 'WXYZ'], ['*', 'star', ''], ['0', '0', '+'],
  ['#', 'hash', '']];
const KEYS_HTML = KEYS.map(([key, id, letters]) =>
  `<button class="key" type="button" data-key="${key}" data-testid="cg-key-${id}"><b>${key}</b><small aria-hidden="true">${letters}</small></button>`).join('');

// Every status text (the header's status line, the call bar's, the banners') has dir="auto": the widget's own words
// are English, and in a right-to-left widget (direction.js) they read left to right, their full stop and any "…" at
// their end, not at the left.
// The panel's head is a <div>, not a <header>: a header outside a <section> is a banner landmark, and the host
// page has its own (two banners: axe-core, tests/browser/test_accessibility_browser.py).
export const TEMPLATE = `
<div class="root">
<button class="launcher" type="button" data-testid="cg-launcher" aria-label="Open chat" aria-expanded="false" aria-controls="cg-panel">
  ${ICON_CHAT}${ICON_X}
  <span class="badge" aria-hidden="true" hidden></span>
</button>
<p class="news" data-testid="cg-news" role="status" aria-live="polite" dir="auto"></p>
<section class="panel" id="cg-panel" data-testid="cg-panel" role="dialog" aria-modal="false" aria-labelledby="cg-title" hidden>
  <div class="head">
    <div class="avatar">${ICON_HEADSET}</div>
    <div class="titles">
      <h2 id="cg-title">Contact us</h2>
      <p class="status" data-testid="cg-status" role="status" aria-live="polite"></p>
    </div>
    <button class="call-start" type="button" data-testid="cg-call" aria-label="Call us" title="Call us">${ICON_PHONE}</button>
    <button class="close" type="button" aria-label="Close chat">${ICON_X.replace('class="i-close"', '')}</button>
    <p class="call-hint" data-testid="cg-call-hint" aria-hidden="true" dir="auto" hidden></p>
  </div>
  <div class="callbar" data-testid="cg-callbar" data-status="" role="region" aria-label="Call" hidden>
    <div class="call-row">
      <div class="call-info">
        <div class="call-line"><span class="call-dot" aria-hidden="true"></span><span class="call-status" data-testid="cg-call-status" role="status" aria-live="polite" dir="auto"></span></div>
        <span class="call-timer" data-testid="cg-call-timer" aria-label="Call duration">0:00</span>
        <p class="call-note" dir="auto" hidden></p>
        <p class="call-supervisor" data-testid="cg-call-supervisor" aria-live="polite" dir="auto" hidden></p>
      </div>
      <div class="call-actions">
        <button class="call-btn" type="button" data-testid="cg-mute" aria-pressed="false" aria-label="Mute microphone" title="Mute">${ICON_MIC}</button>
        <button class="call-btn cc" type="button" data-testid="cg-captions-toggle" aria-pressed="true" aria-label="CC captions" title="Hide captions" hidden>CC</button>
        <button class="call-btn" type="button" data-testid="cg-keypad-toggle" aria-expanded="false" aria-controls="cg-keypad" aria-label="Keypad" title="Keypad">${ICON_KEYPAD}</button>
        <button class="call-btn hangup" type="button" data-testid="cg-hangup" aria-label="Hang up" title="Hang up">${ICON_HANGUP}</button>
      </div>
      <button class="call-again" type="button" data-testid="cg-call-again" hidden>Call again</button>
      <button class="call-dismiss" type="button" aria-label="Dismiss" title="Dismiss" hidden>${ICON_X.replace('class="i-close"', '')}</button>
    </div>
    <div class="captions" data-testid="cg-captions" role="log" aria-live="polite" aria-label="Call captions" hidden></div>
    <div class="keypad" id="cg-keypad" role="group" aria-label="Keypad" hidden>
      <div class="dialed" data-testid="cg-dialed" aria-live="polite"></div>
      <div class="keys">${KEYS_HTML}</div>
    </div>
  </div>
  <div class="incoming" data-testid="cg-incoming" role="alertdialog" aria-live="assertive" aria-label="Incoming call" hidden>
    <span class="incoming-text" data-testid="cg-incoming-text" dir="auto"></span>
    <span><button type="button" class="incoming-answer" data-testid="cg-incoming-answer">Answer</button><button type="button" class="incoming-decline" data-testid="cg-incoming-decline">Decline</button></span>
  </div>
  <div class="cb-banner" data-testid="cg-callback" role="status" hidden>
    <span class="cb-text" data-testid="cg-callback-text" dir="auto"></span>
    <button type="button" class="cb-cancel" data-testid="cg-callback-cancel" aria-label="Cancel callback">Cancel</button>
  </div>
  <div class="scroll" tabindex="0">
    <div class="intro" dir="auto"><strong>Hi there!</strong>Ask us anything — a member of our team will reply right here.</div>
    <div class="messages" data-testid="cg-messages" role="log" aria-live="polite" aria-label="Conversation"></div>
  </div>
  <div class="typing" data-testid="cg-typing" aria-live="polite" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="typing-text" dir="auto"></span></div>
  <p class="limit" id="cg-limit" data-testid="cg-limit" dir="auto" hidden></p>
  <form class="composer" novalidate>
    <button class="attach" type="button" data-testid="cg-attach" aria-label="Attach an image or a PDF" title="Attach a file">${ICON_CLIP}</button>
    <input type="file" data-testid="cg-file" tabindex="-1" aria-hidden="true" hidden multiple>
    <textarea data-testid="cg-input" rows="1" dir="auto" placeholder="Write a message…" aria-label="Message"></textarea>
    <button class="emoji" type="button" data-testid="cg-emoji" aria-label="Insert emoji" title="Emoji"><span aria-hidden="true">☺</span></button>
    <button class="send" type="submit" data-testid="cg-send" aria-label="Send message">${ICON_SEND}</button>
  </form>
  <div class="foot" data-testid="cg-foot">
    <button class="transcript" type="button" data-testid="cg-transcript" hidden>Download transcript</button>
    <button class="end-chat" type="button" data-testid="cg-end-chat" hidden>${TEXT.endChat}</button>
    <span class="powered">Powered by Contact Gateway</span>
    <div class="end-confirm" id="cg-end-confirm" data-testid="cg-end-confirm" role="group" aria-labelledby="cg-end-q" hidden>
      <span class="end-q" id="cg-end-q" dir="auto">${TEXT.endChatQuestion}</span>
      <span class="end-actions"><button class="end-no" type="button" data-testid="cg-end-keep">${TEXT.endChatKeep}</button><button class="end-yes" type="button" data-testid="cg-end-confirm-yes">${TEXT.endChat}</button></span>
    </div>
  </div>
</section>
</div>`;
