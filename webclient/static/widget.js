/*
 * Contact Gateway — customer "Contact us" widget.
 *
 * Embed on any site with one tag:
 *   <script src="https://HOST/widget.js" data-gateway="https://HOST"></script>
 * An absent or empty data-gateway means "the origin this script was loaded from".
 *
 * Everything renders inside <div id="cg-widget"> with an open shadow root, so the
 * host page's CSS cannot leak in and ours cannot leak out. The wire protocol is
 * described in docs/protocol.md.
 *
 * Delivery guarantees: every message typed goes to an OUTBOX persisted in
 * localStorage and is (re)sent on every (re)connect until the server acks it;
 * the server stores a message once per client_id, and the widget renders an
 * event once per event id / client_id, so a message is never lost nor shown twice.
 *
 * Calls: the phone button in the header calls the gateway from the browser (WebRTC,
 * one non-trickle offer over the same socket) into the same conversation. Keys go
 * as RFC 4733 telephone-events when the answer allows it, else as "dtmf" frames.
 * Optional data-ice-servers='[{"urls": "stun:..."}]' on the script tag sets ICE servers.
 * Optional data-customer-token="JWT" vouches for a logged-in customer (signed by the site's backend);
 * ContactGateway.identify(token | null) does the same after the page loaded (log in / log out).
 */
(() => {
  'use strict';

  if (window.ContactGateway || document.getElementById('cg-widget')) return;

  // ------------------------------------------------------------ configuration

  const SCRIPT = document.currentScript ||
    Array.from(document.querySelectorAll('script[src]')).find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src)) ||
    null;

  const GATEWAY = resolveGateway();
  // A token the site's backend signed to vouch for the customer (README "Verified customers"); optional.
  let customerToken = SCRIPT ? (SCRIPT.getAttribute('data-customer-token') || '').trim() : '';
  const WS_URL = GATEWAY.replace(/^http/i, 'ws') + '/ws/customer';
  const TOKEN_KEY = 'cg.token:' + GATEWAY;
  const STATE_KEY = 'cg.state:' + GATEWAY;
  const OPEN_KEY = 'cg.open:' + GATEWAY;
  const DECLINED_INVITE_KEY = 'cg.declinedInvite:' + GATEWAY; // the call invitation this tab declined (event id)

  const MAX_TEXT_CHARS = 4000;        // gateway/protocol.py MAX_TEXT_CHARS
  const MAX_DRAFT_CHARS = 1000;       // gateway/protocol.py MAX_DRAFT_CHARS
  const MAX_FRAME_BYTES = 16 * 1024;  // gateway/protocol.py MAX_FRAME_BYTES
  const MAX_CONTEXT_VALUE = 500;      // gateway/protocol.py MAX_CONTEXT_VALUE_CHARS
  const CACHE_LIMIT = 200;            // events kept in localStorage for instant history
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  const TYPING_THROTTLE = 250;
  const TYPING_IDLE = 3000;
  const TYPING_SHOW = 6000;
  const FLASH_MS = 4000;
  const WELCOME_TIMEOUT = 10000;
  const MAX_SDP_CHARS = 12 * 1024;    // gateway/protocol.py MAX_SDP_CHARS
  const CALL_ICE_WAIT = 3000;         // cap on ICE gathering before the (non-trickle) offer goes
  const CALL_SOCKET_WAIT = 10000;     // the offer waits this long for the socket to be ready
  const CALL_ANSWER_WAIT = 20000;     // no call_answer by then: give up
  const HANGUP_GRACE = 1500;          // after our hangup frame, media stops at the gateway's "ended" or this
  const CALL_ENDED_SHOW = 6000;       // an ordinary "call ended" bar fades after this
  const DTMF_DURATION = 100;          // ms per RFC 4733 key
  const DTMF_GAP = 70;                // ms between keys

  const TEXT = {
    connecting: 'Connecting…',
    offline: 'Offline — messages will be sent when you\'re back',
    idle: 'We typically reply in a few minutes',
    queued: (n) => (n ? `You are number ${n} in the queue. An agent will be with you shortly.`
      : 'You are in the queue. An agent will be with you shortly.'),
    chatting: (name) => `You are chatting with ${name || 'an agent'}`,
    closed: 'This conversation was closed',
    assignedLine: (name) => `You are now chatting with ${name || 'an agent'}`,
    closedLine: 'This conversation was closed',
    newConversation: 'New conversation',
    typing: (name) => `${name || 'Agent'} is typing…`,
    tooLong: `Message is too long (at most ${MAX_TEXT_CHARS} characters)`,
    rateLimited: (s) => `Sending shortly (${s >= 120 ? `${Math.ceil(s / 60)} min` : `${s} s`})…`,   // over the message limit: resent by itself
    callStarted: 'Call started',
    callEnded: (ms) => (ms > 0 ? `Call ended · ${callTimeText(ms)}` : 'Call ended'),
    callbackAsap: 'We\'ll call you back as soon as an agent is free — you keep your place in line.',
    callbackAt: (when) => `We'll call you back at ${when}.`,
    callbackRetry: (when) => `We missed you — we'll try again at ${when}.`,
    callbackBooked: (asap, when) => (asap ? 'Callback booked: as soon as an agent is free' : `Callback booked for ${when}`),
    callbackCalling: (name) => `${name || 'An agent'} is calling you back`,
    invitation: (name) => `${name || 'Your agent'} invites you to a call`,
    callbackClosed: {
      reached: 'Callback: you were reached',
      unreachable: 'Callback closed: we could not reach you',
      wrong_number: 'Callback closed: wrong number',
      cancelled: 'Callback cancelled',
      declined: 'Callback declined',
      expired: 'Callback expired',
      conversation_closed: 'Callback closed with the conversation',
      replaced: 'Callback replaced by a new one',
    },
  };

  // Call bar wording; keys of the first group are the gateway's call statuses (gateway/protocol.py CallStatus).
  const CALL_TEXT = {
    connecting: 'Connecting…',
    ringing: 'Ringing…',
    ivr: 'In the menu (IVR)',
    waiting: 'Waiting for an agent',
    connected: 'Connected',
    mic: 'Waiting for the microphone…',
    reconnecting: 'Connection lost — reconnecting…',
    ended: 'The call ended',
    youHungUp: 'The call ended',
    linesBusyTitle: 'All lines are busy',
    linesBusy: 'All our lines are busy right now. Please keep chatting with us here, or try again in a few minutes.',
    connectionFailed: 'Connection failed. Check your network and try again.',
    micBlocked: 'Microphone access was blocked. Allow the microphone for this site in your browser settings, then call again.',
    noMic: 'No microphone found. Connect one and call again.',
    micBusy: 'Your microphone is in use by another app. Close it and call again.',
    micFailed: 'The microphone could not be started.',
    unsupported: 'Calls need a browser with microphone support on a secure (https) page.',
    offline: 'You are offline. Calls need a connection; please try again in a moment.',
    failed: 'We could not connect your call. Please try again.',
    interrupted: 'The call was interrupted. Please call again.',
    keyNotSent: 'Not connected — that key was not sent',
  };

  function resolveGateway() {
    const attr = SCRIPT ? (SCRIPT.getAttribute('data-gateway') || '').trim() : '';
    const src = SCRIPT && SCRIPT.src ? SCRIPT.src : location.href;
    try {
      if (attr) return new URL(attr, src).origin;
    } catch (_) { /* fall through to the script's own origin */ }
    try {
      return new URL(src, location.href).origin;
    } catch (_) {
      return location.origin;
    }
  }

  // ------------------------------------------------------------ storage (never throws)

  const store = (() => {
    const memory = new Map();
    let ls = null;
    try {
      ls = window.localStorage;
      ls.setItem('cg.__probe', '1');
      ls.removeItem('cg.__probe');
    } catch (_) {
      ls = null;
    }
    return {
      get(key) {
        try { if (ls) return ls.getItem(key); } catch (_) { /* ignore */ }
        return memory.has(key) ? memory.get(key) : null;
      },
      set(key, value) {
        try { if (ls) { ls.setItem(key, value); return true; } } catch (_) { return false; }
        memory.set(key, value);
        return true;
      },
      remove(key) {
        try { if (ls) ls.removeItem(key); } catch (_) { /* ignore */ }
        memory.delete(key);
      },
    };
  })();

  function sessionGet(key) {
    try { return window.sessionStorage.getItem(key); } catch (_) { return null; }
  }
  function sessionSet(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (_) { /* ignore */ }
  }

  // ------------------------------------------------------------ helpers

  /** Redis stream id "ms-seq" comparison; -1, 0, 1. */
  function cmpId(a, b) {
    const [am, as] = String(a).split('-');
    const [bm, bs] = String(b).split('-');
    const d = (Number(am) - Number(bm)) || (Number(as || 0) - Number(bs || 0));
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }

  function newClientId() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return 'm-' + c.randomUUID();
    // randomUUID needs a secure context; getRandomValues does not.
    const bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return 'm-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function codePoints(s) {
    let n = 0;
    for (const _ of s) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  function clip(s, max) {
    s = String(s == null ? '' : s);
    if (s.length <= max) return s;
    return Array.from(s).slice(0, max).join('');
  }

  function byteLength(s) {
    return new TextEncoder().encode(s).length;
  }

  function formatTime(ts) {
    const d = new Date(typeof ts === 'number' ? ts : Date.now());
    try {
      return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (_) {
      return d.toLocaleString();
    }
  }

  // ------------------------------------------------------------ state

  let token = store.get(TOKEN_KEY) || null;
  let customerId = null;
  let lastEventId = null;        // highest event id rendered
  let outbox = [];               // [{client_id, text, ts}] not yet acked
  let cache = [];                // customer-visible events, ascending id (localStorage copy)
  const seen = new Set();        // event ids rendered
  const bubbles = new Map();     // client_id -> bubble element
  const resolved = new Set();    // client_ids acked or failed in this tab
  let conv = { id: null, state: null, agentName: null, queuePos: null };

  let ws = null;
  let ready = false;             // welcome received on the current socket
  let attempt = 0;
  let retryTimer = null;
  let rateTimer = null;            // resends the messages the gateway refused as rate_limited
  const rateLimited = new Set();   // their client ids (they stay in the outbox)
  let everFailed = false;        // a connection failed or dropped since the last welcome
  let helloSentLastEventId = false;
  let forceFullHistory = false;
  let flashText = '';
  let flashTimer = null;
  let unread = 0;
  let isOpen = false;
  let call = null;               // the current call, or the last one (status 'ended'); see "voice calls"

  function loadState() {
    let st = null;
    try { st = JSON.parse(store.get(STATE_KEY) || 'null'); } catch (_) { st = null; }
    if (!st || st.v !== 1) return;
    if (Array.isArray(st.outbox)) {
      outbox = st.outbox.filter((e) => e && typeof e.client_id === 'string' && typeof e.text === 'string');
    }
    // The event cache is only trusted for the identity it was written for.
    if (token && st.token === token) {
      customerId = st.customer_id || null;
      conv.id = st.conversation_id || null;
      if (Array.isArray(st.events)) {
        cache = st.events.filter((e) => e && typeof e.id === 'string').sort((a, b) => cmpId(a.id, b.id));
      }
    }
    if (!customerToken && typeof customerId === 'string' && customerId.startsWith('v_')) {
      // A site's logged-in customer, on a page that no longer vouches for them (they logged out; maybe a
      // shared computer): nothing of theirs is shown or sent from here on (the gateway refuses it too).
      token = null;
      customerId = null;
      conv.id = null;
      cache = [];
      outbox = [];
      store.remove(TOKEN_KEY);
      store.remove(STATE_KEY);
    }
  }

  function mergeEvents(a, b) {
    const map = new Map();
    for (const e of a) map.set(e.id, e);
    for (const e of b) if (e && typeof e.id === 'string' && !map.has(e.id)) map.set(e.id, e);
    return Array.from(map.values()).sort((x, y) => cmpId(x.id, y.id)).slice(-CACHE_LIMIT);
  }

  let saveTimer = null;
  function saveSoon() {
    if (saveTimer) return;
    saveTimer = setTimeout(saveNow, 150);
  }

  function saveNow() {
    clearTimeout(saveTimer);
    saveTimer = null;
    let stored = null;
    try { stored = JSON.parse(store.get(STATE_KEY) || 'null'); } catch (_) { stored = null; }
    let events = cache;
    let box = outbox.slice();
    // Another tab of the same customer may have written too: merge, never drop.
    if (stored && stored.v === 1) {
      if (token && stored.token === token && Array.isArray(stored.events)) {
        events = mergeEvents(cache, stored.events);
      }
      if (Array.isArray(stored.outbox)) {
        const known = new Set(box.map((e) => e.client_id));
        const delivered = new Set(events.map((e) => e.client_id).filter(Boolean));
        for (const e of stored.outbox) {
          if (!e || typeof e.client_id !== 'string' || known.has(e.client_id)) continue;
          if (resolved.has(e.client_id) || delivered.has(e.client_id) || bubbles.has(e.client_id)) continue;
          box.push(e);
        }
        box.sort((x, y) => (x.ts || 0) - (y.ts || 0));
      }
    }
    const last = events.length ? events[events.length - 1].id : lastEventId;
    const st = {
      v: 1,
      token,
      customer_id: customerId,
      conversation_id: conv.id,
      last_event_id: last,
      events,
      outbox: box,
    };
    if (!store.set(STATE_KEY, JSON.stringify(st))) {
      // Quota: keep the outbox (it matters), shrink the cache.
      st.events = events.slice(-20);
      if (!store.set(STATE_KEY, JSON.stringify(st))) {
        st.events = [];
        store.set(STATE_KEY, JSON.stringify(st));
      }
    }
  }

  function removeFromOutbox(clientId) {
    resolved.add(clientId);
    const before = outbox.length;
    outbox = outbox.filter((e) => e.client_id !== clientId);
    if (outbox.length !== before) saveNow();
  }

  // ------------------------------------------------------------ DOM

  const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
  --cg-accent: #1f6f4a;
  --cg-accent-strong: #17573a;
  --cg-accent-ink: #ffffff;
  --cg-bg: #ffffff;
  --cg-surface: #f4f6f5;
  --cg-ink: #1b1f1d;
  --cg-muted: #66706b;
  --cg-line: #e3e7e5;
  --cg-agent-bg: #eef1f0;
  --cg-bot-bg: #eaf1fb;
  --cg-danger: #b42318;
  --cg-call-bg: #143f2c;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px;
  line-height: 1.45;
  color: var(--cg-ink);
  -webkit-font-smoothing: antialiased;
}
button, textarea { font: inherit; color: inherit; }
.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 60px; height: 60px; border-radius: 50%; border: 0; padding: 0;
  background: var(--cg-accent); color: var(--cg-accent-ink); cursor: pointer;
  display: grid; place-items: center;
  box-shadow: 0 6px 20px rgba(16, 24, 20, .25), 0 2px 6px rgba(16, 24, 20, .18);
  transition: transform .15s ease, background-color .15s ease, box-shadow .15s ease;
}
.launcher:hover { background: var(--cg-accent-strong); transform: translateY(-1px); }
.launcher:active { transform: scale(.96); }
.launcher:focus-visible { outline: 3px solid #fff; box-shadow: 0 0 0 6px var(--cg-accent); }
.launcher svg { width: 28px; height: 28px; }
.launcher .i-close { display: none; }
.launcher[aria-expanded="true"] .i-chat { display: none; }
.launcher[aria-expanded="true"] .i-close { display: block; }
.badge {
  position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 6px;
  border-radius: 10px; background: #d92d20; color: #fff; font-size: 12px; font-weight: 700;
  line-height: 20px; text-align: center; box-shadow: 0 0 0 2px #fff;
}
.panel {
  position: fixed; right: 20px; bottom: 92px; z-index: 2147483000;
  width: 380px; height: min(620px, calc(100vh - 120px)); max-height: calc(100vh - 120px);
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--cg-bg); border-radius: 16px;
  box-shadow: 0 18px 50px rgba(16, 24, 20, .28), 0 2px 8px rgba(16, 24, 20, .12);
  animation: cg-in .18s ease-out;
  transform-origin: bottom right;
}
@keyframes cg-in { from { opacity: 0; transform: translateY(8px) scale(.98); } to { opacity: 1; transform: none; } }
.head {
  display: flex; align-items: center; gap: 12px; padding: 14px 14px 14px 18px;
  background: var(--cg-accent); color: var(--cg-accent-ink);
}
.avatar {
  flex: none; width: 38px; height: 38px; border-radius: 50%; display: grid; place-items: center;
  background: rgba(255, 255, 255, .16);
}
.avatar svg { width: 22px; height: 22px; }
.titles { flex: 1; min-width: 0; }
.titles h2 { margin: 0; font-size: 16px; font-weight: 650; letter-spacing: .005em; }
.status {
  margin: 2px 0 0; font-size: 12.5px; opacity: .92; display: flex; align-items: center; gap: 6px;
  min-height: 18px;
}
.status::before {
  content: ""; flex: none; width: 8px; height: 8px; border-radius: 50%; background: #f5b740;
}
.status[data-state="online"]::before { background: #4ade80; }
.status[data-state="offline"]::before { background: #f97066; }
.status[data-state="error"]::before { background: #fda29b; }
.status-text { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.close {
  flex: none; width: 36px; height: 36px; border: 0; border-radius: 10px; background: transparent;
  color: inherit; cursor: pointer; display: grid; place-items: center;
}
.close:hover { background: rgba(255, 255, 255, .14); }
.close:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }
.close svg { width: 20px; height: 20px; }
.call-start {
  flex: none; width: 36px; height: 36px; border: 0; border-radius: 10px; background: rgba(255, 255, 255, .12);
  color: inherit; cursor: pointer; display: grid; place-items: center;
  transition: background-color .12s ease, opacity .12s ease;
}
.call-start:hover:not(:disabled) { background: rgba(255, 255, 255, .22); }
.call-start:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }
.call-start:disabled { cursor: default; opacity: .45; }
.call-start svg { width: 18px; height: 18px; }
.incoming {
  flex: none; display: flex; align-items: center; gap: 10px; padding: 10px 14px; background: #0f5132; color: #fff;
}
.incoming-text { flex: 1; font-weight: 600; }
.incoming button, .cb-banner button {
  border: 0; border-radius: 16px; padding: 6px 12px; font: inherit; font-size: 13px; cursor: pointer;
}
.incoming-answer { background: #2fb36d; color: #fff; }
.incoming-decline { background: #e5484d; color: #fff; margin-left: 6px; }
.cb-banner {
  flex: none; display: flex; align-items: center; gap: 10px; padding: 8px 14px; background: #fff6dd; color: #4d3b00;
  border-bottom: 1px solid var(--cg-line); font-size: 13px;
}
.cb-text { flex: 1; }
.cb-cancel { background: transparent; color: #4d3b00; text-decoration: underline; }
.callbar {
  flex: none; padding: 10px 14px 12px 18px; background: var(--cg-call-bg); color: #fff;
  border-top: 1px solid rgba(255, 255, 255, .08);
}
.call-row { display: flex; align-items: center; gap: 10px; min-height: 40px; }
.call-info { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.call-line { display: flex; align-items: center; gap: 8px; font-weight: 600; font-size: 13.5px; }
.call-dot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: #f5b740; }
.callbar[data-status="ivr"] .call-dot, .callbar[data-status="waiting"] .call-dot { background: #7dd3fc; }
.callbar[data-status="connected"] .call-dot { background: #4ade80; }
.callbar[data-status="ended"] .call-dot { background: #9aa29e; animation: none; }
.callbar:not([data-status="ended"]) .call-dot { animation: cg-pulse 1.6s ease-in-out infinite; }
@keyframes cg-pulse { 0%, 100% { box-shadow: 0 0 0 0 rgba(255, 255, 255, .35); } 50% { box-shadow: 0 0 0 5px rgba(255, 255, 255, 0); } }
.call-status { overflow-wrap: anywhere; }
.call-timer { margin: 1px 0 0 16px; font-size: 12px; opacity: .75; font-variant-numeric: tabular-nums; }
.call-note { margin: 4px 0 0 16px; font-size: 12.5px; line-height: 1.4; opacity: .9; font-weight: 400; }
.call-actions { flex: none; display: flex; gap: 8px; }
.call-btn {
  width: 40px; height: 40px; border-radius: 50%; border: 0; padding: 0; cursor: pointer;
  display: grid; place-items: center; background: rgba(255, 255, 255, .14); color: #fff;
  transition: background-color .12s ease, color .12s ease, transform .08s ease;
}
.call-btn:hover { background: rgba(255, 255, 255, .24); }
.call-btn:active { transform: scale(.94); }
.call-btn:focus-visible { outline: 2px solid #fff; outline-offset: 2px; }
.call-btn[aria-pressed="true"], .call-btn[aria-expanded="true"] { background: #fff; color: var(--cg-call-bg); }
.call-btn.hangup { background: #e5484d; }
.call-btn.hangup:hover { background: #c93c40; }
.call-btn svg { width: 19px; height: 19px; }
.call-btn .i-off, .call-btn[aria-pressed="true"] .i-on { display: none; }
.call-btn[aria-pressed="true"] .i-off { display: block; }
.call-dismiss {
  flex: none; width: 30px; height: 30px; border: 0; border-radius: 8px; background: transparent; color: inherit;
  cursor: pointer; display: grid; place-items: center; opacity: .8;
}
.call-dismiss:hover { background: rgba(255, 255, 255, .14); opacity: 1; }
.call-dismiss svg { width: 16px; height: 16px; }
.keypad { margin-top: 10px; }
.dialed {
  height: 20px; margin: 0 0 6px; text-align: center; font-size: 15px; letter-spacing: .18em;
  font-variant-numeric: tabular-nums; opacity: .9; overflow: hidden; white-space: nowrap;
}
.keys { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; max-width: 264px; margin: 0 auto; }
.key {
  height: 42px; border: 0; border-radius: 12px; cursor: pointer; color: #fff; background: rgba(255, 255, 255, .1);
  display: flex; flex-direction: column; align-items: center; justify-content: center; line-height: 1;
  transition: background-color .08s ease, transform .08s ease;
}
.key:hover { background: rgba(255, 255, 255, .18); }
.key:active { background: rgba(255, 255, 255, .3); transform: scale(.96); }
.key:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }
.key b { font-size: 18px; font-weight: 600; }
.key small { margin-top: 2px; font-size: 8.5px; letter-spacing: .14em; opacity: .65; min-height: 9px; }
.launcher[data-call="active"] { box-shadow: 0 0 0 4px rgba(74, 222, 128, .55), 0 6px 20px rgba(16, 24, 20, .25); }
.scroll {
  flex: 1; overflow-y: auto; padding: 16px 14px 8px; background: var(--cg-surface);
  overscroll-behavior: contain;
}
.intro {
  margin: 0 auto 14px; padding: 12px 14px; max-width: 300px; text-align: center;
  color: var(--cg-muted); font-size: 13px; background: var(--cg-bg); border: 1px solid var(--cg-line);
  border-radius: 12px;
}
.intro strong { display: block; color: var(--cg-ink); font-size: 14px; margin-bottom: 2px; }
.messages { display: flex; flex-direction: column; gap: 4px; }
.cg-msg {
  max-width: 80%; padding: 8px 12px; border-radius: 16px; white-space: pre-wrap;
  overflow-wrap: anywhere; word-break: break-word; position: relative;
}
.cg-msg[data-author="customer"] {
  align-self: flex-end; background: var(--cg-accent); color: var(--cg-accent-ink);
  border-bottom-right-radius: 5px;
}
.cg-msg[data-author="agent"], .cg-msg[data-author="bot"] {
  align-self: flex-start; background: var(--cg-bg); color: var(--cg-ink);
  border: 1px solid var(--cg-line); border-bottom-left-radius: 5px;
}
.cg-msg[data-author="bot"] { background: var(--cg-bot-bg); border-color: #d6e3f5; }
.cg-msg[data-first="true"] { margin-top: 8px; }
.cg-msg[data-author="agent"][data-first="true"], .cg-msg[data-author="bot"][data-first="true"] { margin-top: 24px; }
.cg-msg[data-author="agent"][data-first="true"]::before, .cg-msg[data-author="bot"][data-first="true"]::before {
  content: attr(data-name); position: absolute; left: 4px; top: -19px; white-space: nowrap;
  font-size: 11.5px; color: var(--cg-muted); font-weight: 600;
}
.cg-msg[data-author="system"] {
  align-self: center; max-width: 90%; margin: 10px 0; padding: 3px 10px; border-radius: 999px;
  background: transparent; color: var(--cg-muted); font-size: 12px; text-align: center;
}
.cg-msg[data-status="sending"] { opacity: .72; }
.cg-msg[data-status="sending"]::after, .cg-msg[data-status="failed"]::after {
  position: absolute; right: 4px; bottom: -17px; font-size: 11px; white-space: nowrap; color: var(--cg-muted);
}
.cg-msg[data-status="sending"]::after { content: "Sending…"; }
.cg-msg[data-status="sending"], .cg-msg[data-status="failed"] { margin-bottom: 16px; }
.cg-msg[data-status="failed"] { background: #fff; color: var(--cg-danger); border: 1px solid #f3b7b0; }
.cg-msg[data-status="failed"]::after { content: "Not delivered"; color: var(--cg-danger); }
.cg-choices {
  display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 8px; justify-content: flex-start;
}
.cg-choice {
  font: inherit; font-size: 13px; padding: 6px 12px; border-radius: 16px; cursor: pointer;
  border: 1px solid var(--cg-accent, #1f6f4a); background: #fff; color: var(--cg-accent, #1f6f4a);
}
.cg-choice:hover:not(:disabled) { background: var(--cg-accent, #1f6f4a); color: #fff; }
.cg-choice:focus-visible { outline: 2px solid var(--cg-accent, #1f6f4a); outline-offset: 2px; }
.cg-choices[data-answered] .cg-choice { opacity: .45; cursor: default; }
.cg-divider {
  display: flex; align-items: center; gap: 10px; margin: 14px 0 6px; color: var(--cg-muted);
  font-size: 11.5px; text-transform: uppercase; letter-spacing: .06em;
}
.cg-divider::before, .cg-divider::after { content: ""; flex: 1; height: 1px; background: var(--cg-line); }
.messages > .cg-divider:first-child { display: none; }
.typing {
  display: flex; align-items: center; gap: 8px; padding: 4px 18px 6px; background: var(--cg-surface);
  color: var(--cg-muted); font-size: 12.5px;
}
.dots { display: inline-flex; gap: 3px; }
.dots i {
  width: 5px; height: 5px; border-radius: 50%; background: var(--cg-muted); display: block;
  animation: cg-dot 1.2s infinite ease-in-out;
}
.dots i:nth-child(2) { animation-delay: .15s; }
.dots i:nth-child(3) { animation-delay: .3s; }
@keyframes cg-dot { 0%, 80%, 100% { opacity: .25; transform: none; } 40% { opacity: 1; transform: translateY(-2px); } }
.composer {
  display: flex; align-items: flex-end; gap: 8px; padding: 10px 10px 10px 14px;
  border-top: 1px solid var(--cg-line); background: var(--cg-bg); margin: 0;
}
.composer textarea {
  flex: 1; resize: none; border: 1px solid var(--cg-line); border-radius: 12px; padding: 9px 12px;
  min-height: 40px; max-height: 140px; line-height: 1.4; background: var(--cg-bg); outline: none;
  transition: border-color .12s ease, box-shadow .12s ease;
}
.composer textarea::placeholder { color: #8b948f; }
.composer textarea:focus { border-color: var(--cg-accent); box-shadow: 0 0 0 3px rgba(31, 111, 74, .16); }
.send {
  flex: none; width: 40px; height: 40px; border: 0; border-radius: 12px; cursor: pointer;
  background: var(--cg-accent); color: var(--cg-accent-ink); display: grid; place-items: center;
  transition: background-color .12s ease, opacity .12s ease;
}
.send:hover { background: var(--cg-accent-strong); }
.send:focus-visible { outline: 3px solid rgba(31, 111, 74, .35); outline-offset: 1px; }
.send svg { width: 18px; height: 18px; }
.foot { padding: 0 14px 8px; background: var(--cg-bg); text-align: center; color: #9aa29e; font-size: 11px; }
@media (max-width: 480px) {
  .panel {
    inset: 0; right: 0; bottom: 0; width: 100%; height: 100%; max-height: none; border-radius: 0;
  }
  .launcher[aria-expanded="true"] { display: none; }
}
@media (prefers-reduced-motion: reduce) {
  .panel, .dots i, .callbar .call-dot { animation: none !important; }
}
`;

  const ICON_CHAT = '<svg class="i-chat" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12Z"/></svg>';
  const ICON_X = '<svg class="i-close" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18"/></svg>';
  const ICON_SEND = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M22 2 11 13"/><path d="M22 2 15 22l-4-9-9-4 20-7Z"/></svg>';
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
    `<button class="key" type="button" data-key="${key}" data-testid="cg-key-${id}" aria-label="${key}"><b>${key}</b><small>${letters}</small></button>`).join('');

  const TEMPLATE = `
<style>${CSS}</style>
<div class="root">
  <button class="launcher" type="button" data-testid="cg-launcher" aria-label="Open chat" aria-expanded="false" aria-controls="cg-panel">
    ${ICON_CHAT}${ICON_X}
    <span class="badge" aria-hidden="true" hidden></span>
  </button>
  <section class="panel" id="cg-panel" data-testid="cg-panel" role="dialog" aria-modal="false" aria-labelledby="cg-title" hidden>
    <header class="head">
      <div class="avatar">${ICON_HEADSET}</div>
      <div class="titles">
        <h2 id="cg-title">Contact us</h2>
        <p class="status" data-testid="cg-status" role="status" aria-live="polite"></p>
      </div>
      <button class="call-start" type="button" data-testid="cg-call" aria-label="Call us" title="Call us">${ICON_PHONE}</button>
      <button class="close" type="button" aria-label="Close chat">${ICON_X.replace('class="i-close"', '')}</button>
    </header>
    <div class="callbar" data-testid="cg-callbar" data-status="" role="region" aria-label="Call" hidden>
      <div class="call-row">
        <div class="call-info">
          <div class="call-line"><span class="call-dot" aria-hidden="true"></span><span class="call-status" data-testid="cg-call-status" role="status" aria-live="polite"></span></div>
          <span class="call-timer" data-testid="cg-call-timer" aria-label="Call duration">0:00</span>
          <p class="call-note" hidden></p>
        </div>
        <div class="call-actions">
          <button class="call-btn" type="button" data-testid="cg-mute" aria-pressed="false" aria-label="Mute microphone" title="Mute">${ICON_MIC}</button>
          <button class="call-btn" type="button" data-testid="cg-keypad-toggle" aria-expanded="false" aria-controls="cg-keypad" aria-label="Keypad" title="Keypad">${ICON_KEYPAD}</button>
          <button class="call-btn hangup" type="button" data-testid="cg-hangup" aria-label="Hang up" title="Hang up">${ICON_HANGUP}</button>
        </div>
        <button class="call-dismiss" type="button" aria-label="Dismiss" title="Dismiss" hidden>${ICON_X.replace('class="i-close"', '')}</button>
      </div>
      <div class="keypad" id="cg-keypad" role="group" aria-label="Keypad" hidden>
        <div class="dialed" data-testid="cg-dialed" aria-live="polite"></div>
        <div class="keys">${KEYS_HTML}</div>
      </div>
    </div>
    <div class="incoming" data-testid="cg-incoming" role="alertdialog" aria-live="assertive" aria-label="Incoming call" hidden>
      <span class="incoming-text" data-testid="cg-incoming-text"></span>
      <span><button type="button" class="incoming-answer" data-testid="cg-incoming-answer">Answer</button><button type="button" class="incoming-decline" data-testid="cg-incoming-decline">Decline</button></span>
    </div>
    <div class="cb-banner" data-testid="cg-callback" role="status" hidden>
      <span class="cb-text" data-testid="cg-callback-text"></span>
      <button type="button" class="cb-cancel" data-testid="cg-callback-cancel">Cancel</button>
    </div>
    <div class="scroll">
      <div class="intro"><strong>Hi there!</strong>Ask us anything — a member of our team will reply right here.</div>
      <div class="messages" data-testid="cg-messages" role="log" aria-live="polite" aria-label="Conversation"></div>
    </div>
    <div class="typing" data-testid="cg-typing" aria-live="polite" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="typing-text"></span></div>
    <form class="composer" novalidate>
      <textarea data-testid="cg-input" rows="1" placeholder="Write a message…" aria-label="Message"></textarea>
      <button class="send" type="submit" data-testid="cg-send" aria-label="Send message">${ICON_SEND}</button>
    </form>
    <div class="foot">Powered by Contact Gateway</div>
  </section>
</div>`;

  let host, root, ui;

  function buildDom() {
    host = document.createElement('div');
    host.id = 'cg-widget';
    host.style.setProperty('display', 'block', 'important');
    root = host.attachShadow({ mode: 'open' });
    root.innerHTML = TEMPLATE; // static markup only; user text always goes through textContent
    const $ = (sel) => root.querySelector(sel);
    ui = {
      launcher: $('[data-testid=cg-launcher]'),
      badge: $('.badge'),
      panel: $('[data-testid=cg-panel]'),
      close: $('.close'),
      status: $('[data-testid=cg-status]'),
      scroll: $('.scroll'),
      messages: $('[data-testid=cg-messages]'),
      typing: $('[data-testid=cg-typing]'),
      typingText: $('.typing-text'),
      form: $('.composer'),
      input: $('[data-testid=cg-input]'),
      send: $('[data-testid=cg-send]'),
      call: $('[data-testid=cg-call]'),
      callbar: $('[data-testid=cg-callbar]'),
      callStatus: $('[data-testid=cg-call-status]'),
      callTimer: $('[data-testid=cg-call-timer]'),
      callNote: $('.call-note'),
      callActions: $('.call-actions'),
      callDismiss: $('.call-dismiss'),
      mute: $('[data-testid=cg-mute]'),
      keypadToggle: $('[data-testid=cg-keypad-toggle]'),
      keypad: $('#cg-keypad'),
      dialed: $('[data-testid=cg-dialed]'),
      hangup: $('[data-testid=cg-hangup]'),
      incoming: $('[data-testid=cg-incoming]'),
      incomingText: $('[data-testid=cg-incoming-text]'),
      incomingAnswer: $('[data-testid=cg-incoming-answer]'),
      incomingDecline: $('[data-testid=cg-incoming-decline]'),
      cbBanner: $('[data-testid=cg-callback]'),
      cbText: $('[data-testid=cg-callback-text]'),
      cbCancel: $('[data-testid=cg-callback-cancel]'),
    };
    const statusText = document.createElement('span');
    statusText.className = 'status-text';
    ui.status.appendChild(statusText);
    ui.statusText = statusText;
    // The status element's text is exactly the message (the dot is a ::before).

    ui.launcher.addEventListener('click', () => (isOpen ? close() : open()));
    ui.close.addEventListener('click', () => close(true));
    ui.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); close(true); }
    });
    ui.form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
    ui.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    ui.input.addEventListener('input', () => { autoGrow(); onDraftInput(); });
    ui.call.addEventListener('click', () => { startCall(); });
    ui.hangup.addEventListener('click', hangUp);
    ui.mute.addEventListener('click', toggleMute);
    ui.keypadToggle.addEventListener('click', () => toggleKeypad());
    ui.callDismiss.addEventListener('click', dismissCallbar);
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
    document.body.appendChild(host);
  }

  function autoGrow() {
    const el = ui.input;
    el.style.height = 'auto';
    el.style.height = Math.min(el.scrollHeight + 2, 140) + 'px';
  }

  function open() {
    if (isOpen) return;
    isOpen = true;
    ui.panel.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.launcher.setAttribute('aria-label', 'Close chat');
    unread = 0;
    renderBadge();
    sessionSet(OPEN_KEY, '1');
    scrollToBottom(true);
    setTimeout(() => { try { ui.input.focus({ preventScroll: true }); } catch (_) { ui.input.focus(); } }, 0);
  }

  function close(returnFocus) {
    if (!isOpen) return;
    isOpen = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.launcher.setAttribute('aria-label', 'Open chat');
    sessionSet(OPEN_KEY, '0');
    if (returnFocus) ui.launcher.focus();
  }

  function renderBadge() {
    ui.badge.hidden = unread === 0;
    ui.badge.textContent = unread > 9 ? '9+' : String(unread);
    ui.launcher.setAttribute('aria-label', isOpen ? 'Close chat'
      : unread ? `Open chat (${unread} new message${unread === 1 ? '' : 's'})` : 'Open chat');
  }

  function nearBottom() {
    const s = ui.scroll;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  function scrollToBottom(force) {
    if (!force && !nearBottom()) return;
    const s = ui.scroll;
    requestAnimationFrame(() => { s.scrollTop = s.scrollHeight; });
  }

  // ------------------------------------------------------------ status line

  function setFlash(text) {
    flashText = text || 'Something went wrong';
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { flashText = ''; renderStatus(); }, FLASH_MS);
    renderStatus();
  }

  function renderStatus() {
    let text;
    let state;
    if (flashText) {
      text = flashText;
      state = 'error';
    } else if (!ready) {
      const offline = everFailed || (typeof navigator.onLine === 'boolean' && !navigator.onLine);
      text = offline ? TEXT.offline : TEXT.connecting;
      state = offline ? 'offline' : 'connecting';
    } else {
      state = 'online';
      if (conv.state === 'closed') text = TEXT.closed;
      else if (conv.state === 'assigned') text = TEXT.chatting(conv.agentName);
      else if (conv.state === 'queued' || conv.queuePos) text = TEXT.queued(conv.queuePos);
      else text = TEXT.idle;
    }
    if (ui.statusText.textContent !== text) {
      ui.statusText.textContent = text;
      ui.status.title = text; // one line in the header; the whole text on hover
    }
    ui.status.setAttribute('data-state', state);
    ui.input.placeholder = conv.state === 'closed' ? 'Send a message to start a new conversation…' : 'Write a message…';
  }

  // ------------------------------------------------------------ timeline rendering

  function isPending(el) {
    return !el.dataset.eventId && el.dataset.status === 'sending';
  }

  /** Insert an element carrying data-event-id in id order, before any pending bubbles. */
  function insertOrdered(el) {
    const id = el.dataset.eventId;
    let ref = null;
    for (let c = ui.messages.lastElementChild; c; c = c.previousElementSibling) {
      if (c === el) continue;
      if (isPending(c)) { ref = c; continue; }
      const cid = c.dataset.eventId;
      if (cid && cmpId(cid, id) > 0) { ref = c; continue; }
      break;
    }
    ui.messages.insertBefore(el, ref);
    regroup(el);
  }

  /** data-first marks the first bubble of a run from the same author (shows the name). */
  function regroup(el) {
    for (const node of [el, el.nextElementSibling]) {
      if (!node || !node.classList.contains('cg-msg')) continue;
      const prev = node.previousElementSibling;
      const first = !prev || !prev.classList.contains('cg-msg') || prev.dataset.author !== node.dataset.author ||
        (prev.dataset.name || '') !== (node.dataset.name || '');
      node.dataset.first = first ? 'true' : 'false';
    }
  }

  function makeBubble(author, text) {
    const el = document.createElement('div');
    el.className = 'cg-msg';
    el.dataset.author = author;
    el.textContent = text;
    return el;
  }

  function renderPending(entry) {
    const el = makeBubble('customer', entry.text);
    el.dataset.clientId = entry.client_id;
    el.dataset.status = 'sending';
    el.title = formatTime(entry.ts) + ' · Sending…';
    bubbles.set(entry.client_id, el);
    ui.messages.appendChild(el);
    regroup(el);
    return el;
  }

  function markDelivered(el, eventId, ts) {
    el.dataset.status = 'sent';
    el.title = formatTime(ts);
    if (eventId && el.dataset.eventId !== eventId) {
      el.dataset.eventId = eventId;
      el.remove();
      insertOrdered(el);
    }
  }

  function markFailed(clientId, message) {
    const el = bubbles.get(clientId);
    removeFromOutbox(clientId);
    if (el && !el.dataset.eventId) {
      el.dataset.status = 'failed';
      el.title = 'Not delivered' + (message ? ': ' + message : '');
    }
  }

  function renderSystem(ev, text) {
    const el = document.createElement('div');
    el.className = 'cg-msg';
    el.dataset.author = 'system';
    el.dataset.status = 'sent';
    el.dataset.eventId = ev.id;
    el.title = formatTime(ev.ts);
    el.textContent = text;
    insertOrdered(el);
  }

  /** A bot's buttons (a menu in chat): pressing one sends its label as the customer's answer. */
  function renderChoices(ev) {
    if (!Array.isArray(ev.choices) || !ev.choices.length) return;
    const el = document.createElement('div');
    el.className = 'cg-choices';
    el.dataset.testid = 'cg-choices';
    el.dataset.eventId = ev.id;
    el.setAttribute('role', 'group');
    el.setAttribute('aria-label', 'Choose an answer');
    for (const choice of ev.choices) {
      if (!choice || typeof choice.label !== 'string') continue;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'cg-choice';
      button.textContent = choice.label;
      button.addEventListener('click', () => {
        if (el.dataset.answered) return;
        retireChoices();
        ui.input.value = choice.label;
        submit();
      });
      el.appendChild(button);
    }
    insertOrdered(el);
  }

  /** Once the customer answered (button or typed), earlier buttons stay visible but inactive. */
  function retireChoices() {
    for (const el of ui.messages.querySelectorAll('.cg-choices:not([data-answered])')) {
      el.dataset.answered = '1';
      for (const b of el.querySelectorAll('button')) b.disabled = true;
    }
  }

  function renderDivider(ev) {
    const el = document.createElement('div');
    el.className = 'cg-divider';
    el.setAttribute('role', 'separator');
    el.dataset.eventId = ev.id;
    el.title = formatTime(ev.ts);
    el.textContent = TEXT.newConversation;
    insertOrdered(el);
  }

  function clearHistory() {
    for (const el of Array.from(ui.messages.children)) {
      if (!isPending(el)) el.remove();
    }
    for (const [cid, el] of bubbles) if (!el.isConnected) bubbles.delete(cid);
    seen.clear();
    cache = [];
    lastEventId = null;
    conv = { id: null, state: null, agentName: null, queuePos: null };
  }

  /** One timeline event (customer-visible). Rendered at most once per id / client_id. */
  function handleEvent(ev, live, fromCache) {
    if (!ev || typeof ev !== 'object' || typeof ev.id !== 'string') return;
    if (seen.has(ev.id)) return;
    seen.add(ev.id);
    if (!lastEventId || cmpId(ev.id, lastEventId) > 0) lastEventId = ev.id;
    if (!fromCache) {
      if (!cache.length || cmpId(ev.id, cache[cache.length - 1].id) > 0) cache.push(ev);
      else cache = mergeEvents(cache, [ev]);
      if (cache.length > CACHE_LIMIT) cache = cache.slice(-CACHE_LIMIT);
    }

    const cid = ev.conversation_id || conv.id;
    const atBottom = nearBottom();
    switch (ev.type) {
      case 'opened':
        conv = { id: cid, state: 'open', agentName: null, queuePos: null };
        renderDivider(ev);
        break;
      case 'message': {
        const author = ['customer', 'agent', 'bot'].includes(ev.author) ? ev.author : 'system';
        if (author === 'customer') retireChoices();
        const existing = ev.client_id ? bubbles.get(ev.client_id) : null;
        if (existing) {
          if (ev.client_id) removeFromOutbox(ev.client_id);
          markDelivered(existing, ev.id, ev.ts);
          break;
        }
        const el = makeBubble(author, typeof ev.text === 'string' ? ev.text : '');
        el.dataset.eventId = ev.id;
        el.dataset.status = author === 'customer' ? 'sent' : 'received';
        if (ev.client_id) {
          el.dataset.clientId = ev.client_id;
          bubbles.set(ev.client_id, el);
          removeFromOutbox(ev.client_id);
        }
        if (author === 'agent') el.dataset.name = ev.agent_name || 'Agent';
        else if (author === 'bot') el.dataset.name = 'Assistant';
        el.title = formatTime(ev.ts) + (el.dataset.name ? ' · ' + el.dataset.name : '');
        insertOrdered(el);
        if (author === 'agent') {
          if (ev.agent_name) conv.agentName = ev.agent_name;
          hideTyping();
        }
        if (live && author !== 'customer' && !isOpen) {
          unread++;
          renderBadge();
        }
        break;
      }
      case 'assigned':
        conv.id = cid;
        conv.state = 'assigned';
        conv.agentName = ev.agent_name || conv.agentName;
        conv.queuePos = null;
        renderSystem(ev, TEXT.assignedLine(ev.agent_name));
        break;
      case 'choices':
        renderChoices(ev);
        break;
      case 'call_started':
        renderSystem(ev, TEXT.callStarted);
        if (invite && cmpId(ev.id, invite.eventId) > 0) { invite = null; renderCallback(); } // answered (or called anyway)
        break;
      case 'call_ended':
        renderSystem(ev, TEXT.callEnded(Number(ev.duration_ms) || 0));
        // The timeline has it even when a call_status was missed (socket down): end our side too.
        if (callLive(call) && ev.call_id === call.id) endCall(call, ev.reason || '');
        break;
      case 'callback':
        onCallbackEvent(ev, live);
        break;
      case 'call_invite':
        if (Number(ev.ring_until) > Date.now() && sessionGet(DECLINED_INVITE_KEY) !== ev.id) {
          invite = { eventId: ev.id, agentName: ev.agent_name || '', ringUntil: Number(ev.ring_until) };
          if (live) notify(TEXT.invitation(ev.agent_name));
        }
        renderSystem(ev, TEXT.invitation(ev.agent_name));
        renderCallback();
        break;
      case 'closed':
        if (!conv.id || conv.id === cid) {
          conv.state = 'closed';
          conv.queuePos = null;
        }
        renderSystem(ev, TEXT.closedLine);
        hideTyping();
        if (invite) { invite = null; renderCallback(); }
        break;
      default:
        return; // not customer-visible; nothing to draw
    }
    if (live) {
      saveSoon();
      renderStatus();
      scrollToBottom(atBottom || (ev.type === 'message' && ev.author === 'customer'));
    }
  }

  // ------------------------------------------------------------ callbacks and call invitations

  let callback = null;      // the open callback: {id, state, asap, dueMs, ringUntil, agentName}
  let invite = null;        // an agent's invitation to a call: {eventId, agentName, ringUntil}
  let ringExpiry = null;
  let ringTone = null;

  function clockText(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function onCallbackEvent(ev, live) {
    const id = ev.callback_id;
    if (typeof id !== 'string') return;
    switch (ev.action) {
      case 'requested':
        callback = { id, state: 'scheduled', asap: !!ev.asap, dueMs: Number(ev.due_ms) || 0, ringUntil: 0, agentName: '' };
        renderSystem(ev, TEXT.callbackBooked(!!ev.asap, clockText(Number(ev.due_ms) || Date.now())));
        if (live) askNotificationPermission();
        break;
      case 'queued':
        if (callback && callback.id === id) callback.state = 'queued';
        break;
      case 'attempt':
        if (invite && cmpId(ev.id, invite.eventId) > 0) invite = null;  // the callback's ringing replaces it
        if (!callback || callback.id !== id) callback = { id, asap: true, dueMs: 0 };
        callback.state = 'ringing';
        callback.ringUntil = Number(ev.ring_until) || 0;
        callback.agentName = ev.agent_name || '';
        renderSystem(ev, TEXT.callbackCalling(ev.agent_name));
        if (live && callback.ringUntil > Date.now()) notify(TEXT.callbackCalling(ev.agent_name));
        break;
      case 'outcome':
        if (callback && callback.id === id) {
          callback.state = 'scheduled';
          callback.asap = false;
          callback.dueMs = Number(ev.next_attempt_ms) || 0;
          callback.ringUntil = 0;
        }
        renderSystem(ev, TEXT.callbackRetry(clockText(Number(ev.next_attempt_ms) || Date.now())));
        break;
      case 'closed':
        if (callback && callback.id === id) callback = null;
        renderSystem(ev, TEXT.callbackClosed[ev.outcome] || 'Callback closed');
        break;
      default:
        return;
    }
    renderCallback();
  }

  /** The pending-callback line and the incoming-call banner, from `callback` and `invite`. */
  function renderCallback() {
    if (!ui) return;
    const now = Date.now();
    const waiting = callback && (callback.state === 'scheduled' || callback.state === 'queued');
    ui.cbBanner.hidden = !waiting;
    if (waiting) {
      ui.cbText.textContent = callback.asap ? TEXT.callbackAsap : TEXT.callbackAt(clockText(callback.dueMs));
    }
    let text = '';
    let until = 0;
    if (callback && callback.state === 'ringing' && callback.ringUntil > now && !callLive(call)) {
      text = TEXT.callbackCalling(callback.agentName || conv.agentName);
      until = callback.ringUntil;
    } else if (invite && invite.ringUntil > now && !callLive(call)) {
      text = TEXT.invitation(invite.agentName);
      until = invite.ringUntil;
    }
    ui.incoming.hidden = !text;
    ui.incomingText.textContent = text;
    clearTimeout(ringExpiry);
    if (text) {
      ringExpiry = setTimeout(renderCallback, Math.max(0, until - now) + 50);
      if (!isOpen) open();
      startRingTone();
    } else {
      stopRingTone();
    }
  }

  function answerIncoming() {
    invite = null;
    if (callback && callback.state === 'ringing') callback.state = 'connecting';
    ui.incoming.hidden = true;
    stopRingTone();
    startCall();
  }

  function declineIncoming() {
    if (callback && callback.state === 'ringing' && callback.ringUntil > Date.now()) {
      sendFrame({ type: 'callback_cancel', callback_id: callback.id });
      callback.state = 'declining';
    } else if (invite) {
      sessionSet(DECLINED_INVITE_KEY, invite.eventId);  // a reload does not ring again for it
    }
    invite = null;
    renderCallback();
  }

  function cancelCallback() {
    if (callback) sendFrame({ type: 'callback_cancel', callback_id: callback.id });
  }

  function askNotificationPermission() {
    if (typeof Notification === 'function' && Notification.permission === 'default') {
      try { Notification.requestPermission().catch(() => {}); } catch (_) { /* older browsers */ }
    }
  }

  /** A Web Notification for the ringing, when allowed and the customer may not be looking at this page. */
  function notify(text) {
    if (typeof Notification !== 'function' || Notification.permission !== 'granted') return;
    if (document.visibilityState === 'visible' && document.hasFocus()) return; // the banner and the ring say it
    try {
      const n = new Notification('Contact us', { body: text, tag: 'cg-incoming' });
      n.onclick = () => { window.focus(); open(); n.close(); };
    } catch (_) { /* notifications unavailable in this context */ }
  }

  /** A soft double beep every 3 s while the banner rings (WebAudio; silent until the page was interacted with). */
  function startRingTone() {
    if (ringTone) return;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    let ctx;
    try { ctx = new Ctx(); } catch (_) { return; }
    const beep = () => {
      if (ctx.state === 'suspended') ctx.resume().catch(() => {});
      const t = ctx.currentTime;
      for (const start of [0, 0.35]) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = 660;
        gain.gain.setValueAtTime(0.0001, t + start);
        gain.gain.exponentialRampToValueAtTime(0.08, t + start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + start + 0.25);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t + start);
        osc.stop(t + start + 0.3);
      }
    };
    beep();
    ringTone = { ctx, timer: setInterval(beep, 3000) };
  }

  function stopRingTone() {
    if (!ringTone) return;
    clearInterval(ringTone.timer);
    ringTone.ctx.close().catch(() => {});
    ringTone = null;
  }

  // ------------------------------------------------------------ agent typing indicator

  let typingHideTimer = null;
  function showTyping(name) {
    ui.typingText.textContent = TEXT.typing(name);
    const wasHidden = ui.typing.hidden;
    ui.typing.hidden = false;
    if (wasHidden) scrollToBottom(false);
    clearTimeout(typingHideTimer);
    typingHideTimer = setTimeout(hideTyping, TYPING_SHOW);
  }
  function hideTyping() {
    clearTimeout(typingHideTimer);
    ui.typing.hidden = true;
    ui.typingText.textContent = '';
  }

  // ------------------------------------------------------------ our typing frames

  let typingActive = false;
  let typingDirty = false;
  let typingWindow = null;
  let typingIdle = null;

  function onDraftInput() {
    const text = ui.input.value;
    if (!text.trim()) { stopTyping(); return; }
    typingDirty = true;
    if (!typingWindow) {
      flushTyping();
      typingWindow = setTimeout(onTypingWindowEnd, TYPING_THROTTLE);
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE);
  }

  function onTypingWindowEnd() {
    typingWindow = null;
    if (typingDirty) {
      flushTyping();
      typingWindow = setTimeout(onTypingWindowEnd, TYPING_THROTTLE);
    }
  }

  function flushTyping() {
    typingDirty = false;
    if (!ready) return;
    const draft = clip(ui.input.value, MAX_DRAFT_CHARS);
    if (!draft.trim()) return;
    typingActive = true;
    sendFrame({ type: 'typing', active: true, draft });
  }

  function stopTyping() {
    clearTimeout(typingWindow);
    clearTimeout(typingIdle);
    typingWindow = null;
    typingIdle = null;
    typingDirty = false;
    if (typingActive && ready) sendFrame({ type: 'typing', active: false });
    typingActive = false;
  }

  // ------------------------------------------------------------ sending

  function submit() {
    const text = ui.input.value;
    if (!text.trim()) return;
    stopTyping();
    ui.input.value = '';
    autoGrow();
    const entry = { client_id: newClientId(), text, ts: Date.now() };
    const frame = { type: 'message', client_id: entry.client_id, text };
    const tooLong = codePoints(text) > MAX_TEXT_CHARS || byteLength(JSON.stringify(frame)) > MAX_FRAME_BYTES;
    renderPending(entry);
    scrollToBottom(true);
    if (tooLong) {
      // The gateway would refuse it anyway; fail it here so it never sits in the outbox.
      markFailed(entry.client_id, TEXT.tooLong);
      setFlash(TEXT.tooLong);
      return;
    }
    outbox.push(entry);
    saveNow();
    if (ready) sendFrame(frame);
  }

  function sendFrame(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (_) {
      return false;
    }
  }

  // ------------------------------------------------------------ voice calls
  //
  // One call at a time, in the browser: microphone -> RTCPeerConnection -> non-trickle offer
  // (sent once ICE gathering is complete) over the customer socket -> the gateway's answer.
  // Media never depends on the socket: a reconnect during a call leaves the call alone.

  function callTimeText(ms) {
    const s = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  }

  function endedText(c) {
    switch (c.reason) {
      case 'lines_busy': return c.message || CALL_TEXT.linesBusy;
      case 'call_limit': case 'rate_limited': return c.message || CALL_TEXT.failed;
      case 'caller_hangup': return CALL_TEXT.youHungUp;
      case 'ice_failed': case 'ice_timeout': case 'connection_failed': return CALL_TEXT.connectionFailed;
      case 'mic_blocked': return CALL_TEXT.micBlocked;
      case 'no_mic': return CALL_TEXT.noMic;
      case 'mic_busy': return CALL_TEXT.micBusy;
      case 'mic_failed': return CALL_TEXT.micFailed;
      case 'unsupported': return CALL_TEXT.unsupported;
      case 'offline': return CALL_TEXT.offline;
      case 'no_answer': case 'rejected': case 'lost': case 'error': return CALL_TEXT.failed;
      case 'gateway_shutdown': return CALL_TEXT.interrupted;
      default: return CALL_TEXT.ended;
    }
  }

  /** Problems stay on screen until dismissed; an ordinary end fades after a few seconds. */
  const CALL_PROBLEMS = new Set(['lines_busy', 'call_limit', 'rate_limited', 'ice_failed', 'ice_timeout', 'connection_failed', 'mic_blocked',
    'no_mic', 'mic_busy', 'mic_failed', 'unsupported', 'offline', 'no_answer', 'rejected', 'lost', 'error',
    'gateway_shutdown']);

  function micErrorReason(err) {
    const name = err && err.name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'mic_blocked';
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'no_mic';
    if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return 'mic_busy';
    return 'mic_failed';
  }

  function iceServers() {
    const raw = SCRIPT ? SCRIPT.getAttribute('data-ice-servers') : null;
    if (!raw) return [];
    try {
      const parsed = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed : [];
    } catch (_) {
      return [];
    }
  }

  /** Resolves when ICE gathering is complete, or after maxMs (the offer then carries what was found). */
  function iceGathered(pc, maxMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, maxMs);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** Resolves true once the socket is ready (welcome received), false after maxMs. */
  function whenReady(maxMs) {
    if (ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (ready || Date.now() - started >= maxMs) {
          clearInterval(poll);
          resolve(ready);
        }
      }, 100);
    });
  }

  function callLive(c) {
    return !!c && c === call && c.status !== 'ended';
  }

  async function startCall() {
    if (call && call.status !== 'ended') return;
    clearTimeout(callHideTimer);
    const c = {
      id: newClientId().replace(/^m-/, 'call-'),
      status: 'connecting',        // the last call status (ours until the gateway sends its own)
      phase: 'mic',                // mic -> gathering -> offered -> answered -> ended
      reason: '',
      message: '',
      reconnecting: false,         // the peer connection is 'disconnected' (ICE may recover)
      conversationId: null,
      pc: null,
      mic: null,
      sender: null,
      audio: null,
      muted: false,
      dtmfMode: null,              // how the last key went: 'rfc4733' or 'signaling'
      dialed: '',
      connectedAt: 0,
      endedAt: 0,
      answerTimer: null,
      releaseTimer: null,
    };
    call = c;
    toggleKeypad(false);
    renderCall();
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function' ||
        typeof window.RTCPeerConnection !== 'function') {
      endCall(c, 'unsupported');
      return;
    }
    let mic;
    try {
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (err) {
      endCall(c, micErrorReason(err));
      return;
    }
    if (!callLive(c)) { // hung up while the browser asked for the microphone
      for (const t of mic.getTracks()) t.stop();
      return;
    }
    c.mic = mic;
    c.phase = 'gathering';
    renderCall();
    try {
      const pc = new RTCPeerConnection({ iceServers: iceServers() });
      c.pc = pc;
      pc.addEventListener('track', (e) => playRemote(c, e));
      pc.addEventListener('connectionstatechange', () => onPeerState(c));
      for (const track of mic.getAudioTracks()) c.sender = pc.addTrack(track, mic);
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc, CALL_ICE_WAIT);
    } catch (_) {
      if (callLive(c)) endCall(c, 'connection_failed');
      return;
    }
    if (!callLive(c)) return;
    const sdp = c.pc.localDescription && c.pc.localDescription.sdp;
    if (!sdp || sdp.length > MAX_SDP_CHARS) {
      endCall(c, 'connection_failed');
      return;
    }
    if (!(await whenReady(CALL_SOCKET_WAIT)) || !callLive(c)) {
      if (callLive(c)) endCall(c, 'offline');
      return;
    }
    if (!sendFrame({ type: 'call_offer', call_id: c.id, sdp })) {
      endCall(c, 'offline');
      return;
    }
    c.phase = 'offered';
    c.answerTimer = setTimeout(() => { if (callLive(c) && c.phase === 'offered') endCall(c, 'no_answer'); }, CALL_ANSWER_WAIT);
    renderCall();
  }

  function playRemote(c, e) {
    if (!callLive(c)) return;
    if (!c.audio) {
      c.audio = document.createElement('audio');
      c.audio.autoplay = true;
      c.audio.setAttribute('playsinline', '');
      c.audio.hidden = true;
      root.appendChild(c.audio);
    }
    c.audio.muted = false;
    c.audio.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
    const played = c.audio.play();
    if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: the call still runs */ });
  }

  function onPeerState(c) {
    if (!callLive(c) || !c.pc) return;
    const state = c.pc.connectionState;
    if (state === 'connected' && !c.connectedAt) {
      c.connectedAt = Date.now();
      renderCall();
    } else if (state === 'disconnected' || (state === 'connected' && c.reconnecting)) {
      c.reconnecting = state === 'disconnected'; // ICE may recover; 'failed' follows if not
      renderCall();
    } else if (state === 'failed') {
      if (c.phase === 'answered' && ready) sendFrame({ type: 'hangup', call_id: c.id });
      endCall(c, 'connection_failed');
    } else if (state === 'closed') {
      endCall(c, 'connection_closed');
    }
  }

  function onCallAnswer(f) {
    const c = call;
    if (!c || f.call_id !== c.id) return;
    if (c.status === 'ended') return; // we hung up meanwhile and said so; the gateway ends it
    clearTimeout(c.answerTimer);
    c.phase = 'answered';
    if (typeof f.conversation_id === 'string' && f.conversation_id) {
      c.conversationId = f.conversation_id;
      if (conv.id !== f.conversation_id) conv = { id: f.conversation_id, state: 'open', agentName: null, queuePos: null };
    }
    c.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => {
      if (!callLive(c)) return;
      sendFrame({ type: 'hangup', call_id: c.id });
      endCall(c, 'connection_failed');
    });
    renderCall();
  }

  function onCallStatus(f) {
    const c = call;
    if (!c || f.call_id !== c.id) return; // another tab's call, or an old one
    if (f.status === 'ended') {
      if (c.status === 'ended') releaseMedia(c); // the gateway confirmed our hang-up
      else endCall(c, f.reason || '', typeof f.message === 'string' ? f.message : '');
      return;
    }
    if (c.status === 'ended' || typeof f.status !== 'string') return;
    c.status = f.status;
    renderCall();
  }

  /** A call-related error frame (they carry no call_id); true if it was ours to handle. */
  function onCallError(f) {
    const c = call;
    const aboutCall = f.field === 'sdp' || f.field === 'call_id' || f.field === 'digits' ||
      ['bad_sdp', 'no_audio', 'flow_missing', 'lines_busy'].includes(f.code) ||
      (f.code === 'rate_limited' && typeof f.call_id === 'string');
    if (!aboutCall) return false;
    if (!callLive(c)) return true; // e.g. not_found for a hangup that crossed the gateway's own "ended": nothing to say
    if (f.field === 'digits') {
      setFlash(f.message || 'That key was not accepted');
    } else if (c.phase === 'offered' || (f.field === 'call_id' && f.code === 'not_found')) {
      c.message = f.message || '';
      const refused = f.code === 'rate_limited' ? 'rate_limited' : 'rejected';
      endCall(c, c.phase === 'offered' ? refused : 'lost', f.message || '');
    } else {
      setFlash(f.message || 'Something went wrong');
    }
    return true;
  }

  function hangUp() {
    const c = call;
    if (!callLive(c)) return;
    const told = (c.phase === 'offered' || c.phase === 'answered') && ready &&
      sendFrame({ type: 'hangup', call_id: c.id });
    // Told: keep the connection a moment so the gateway hears the hang-up before media stops.
    endCall(c, 'caller_hangup', '', told ? HANGUP_GRACE : 0);
  }

  /** Tear the call down (once): microphone off now, peer connection now or after graceMs. */
  function endCall(c, reason, message, graceMs) {
    if (!c || c.status === 'ended') return;
    c.status = 'ended';
    c.phase = 'ended';
    c.reason = reason || '';
    c.message = message || c.message || '';
    c.endedAt = Date.now();
    clearTimeout(c.answerTimer);
    if (c.mic) for (const t of c.mic.getTracks()) t.stop();
    if (c.audio) c.audio.muted = true;
    if (graceMs) c.releaseTimer = setTimeout(() => releaseMedia(c), graceMs);
    else releaseMedia(c);
    toggleKeypad(false);
    renderCall();
    clearTimeout(callHideTimer);
    if (c === call && !CALL_PROBLEMS.has(c.reason)) callHideTimer = setTimeout(dismissCallbar, CALL_ENDED_SHOW);
  }

  function releaseMedia(c) {
    clearTimeout(c.releaseTimer);
    c.releaseTimer = null;
    if (c.mic) for (const t of c.mic.getTracks()) t.stop();
    if (c.pc) {
      try { c.pc.close(); } catch (_) { /* already closed */ }
    }
    if (c.audio) {
      try { c.audio.pause(); } catch (_) { /* ignore */ }
      c.audio.srcObject = null;
      c.audio.remove();
      c.audio = null;
    }
  }

  function toggleMute() {
    const c = call;
    if (!callLive(c)) return;
    c.muted = !c.muted;
    if (c.mic) for (const t of c.mic.getAudioTracks()) t.enabled = !c.muted;
    renderCall();
  }

  function toggleKeypad(show) {
    const want = typeof show === 'boolean' ? show : ui.keypad.hidden;
    const allowed = want && callLive(call);
    ui.keypad.hidden = !allowed;
    ui.keypadToggle.setAttribute('aria-expanded', String(allowed));
    if (allowed) {
      const first = ui.keypad.querySelector('.key');
      if (first && typeof show !== 'boolean') setTimeout(() => first.focus({ preventScroll: true }), 0);
    }
  }

  function canSendRfc4733(c) {
    const dtmf = c && c.sender && c.sender.dtmf;
    return !!(dtmf && dtmf.canInsertDTMF);
  }

  function pressKey(key) {
    const c = call;
    if (!callLive(c) || !/^[0-9*#]$/.test(key)) return;
    keyClick();
    c.dialed = (c.dialed + key).slice(-24);
    ui.dialed.textContent = c.dialed;
    if (canSendRfc4733(c)) {
      try {
        // insertDTMF replaces what is still queued: append, so quick presses all go out in order.
        c.sender.dtmf.insertDTMF(c.sender.dtmf.toneBuffer + key, DTMF_DURATION, DTMF_GAP);
        c.dtmfMode = 'rfc4733';
        return;
      } catch (_) { /* fall back to signaling */ }
    }
    if (c.phase === 'answered' && sendFrame({ type: 'dtmf', call_id: c.id, digits: key })) c.dtmfMode = 'signaling';
    else setFlash(CALL_TEXT.keyNotSent);
  }

  let clickCtx = null;
  /** A short soft click, deliberately not a DTMF tone: with echo cancellation off, a real tone from the
   *  speaker could reach the microphone and be heard by the gateway's in-band detector as a second key. */
  function keyClick() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      clickCtx = clickCtx || new Ctx();
      if (clickCtx.state === 'suspended') clickCtx.resume().catch(() => {});
      const t = clickCtx.currentTime + 0.005;
      const osc = clickCtx.createOscillator();
      const gain = clickCtx.createGain();
      osc.frequency.value = 2400;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.05, t + 0.004);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.035);
      osc.connect(gain).connect(clickCtx.destination);
      osc.start(t);
      osc.stop(t + 0.04);
    } catch (_) { /* sound is a nicety */ }
  }

  let callHideTimer = null;
  let callTick = null;

  function dismissCallbar() {
    clearTimeout(callHideTimer);
    if (callLive(call)) return;
    ui.callbar.hidden = true;
  }

  function renderCall() {
    const c = call;
    const active = callLive(c);
    ui.call.disabled = active;
    ui.call.setAttribute('aria-label', active ? 'On a call' : 'Call us');
    ui.call.title = active ? 'On a call' : 'Call us';
    if (active) ui.launcher.dataset.call = 'active';
    else delete ui.launcher.dataset.call;
    if (!c) { ui.callbar.hidden = true; return; }
    ui.callbar.hidden = false;
    ui.callbar.dataset.status = c.status;
    let text;
    if (c.status === 'ended') text = endedText(c);
    else if (c.phase === 'mic') text = CALL_TEXT.mic;
    else if (c.reconnecting) text = CALL_TEXT.reconnecting;
    else text = CALL_TEXT[c.status] || CALL_TEXT.connecting;
    const linesBusy = c.status === 'ended' && c.reason === 'lines_busy';
    // "All lines are busy" gets a short title and the gateway's own words underneath.
    const statusText = linesBusy ? CALL_TEXT.linesBusyTitle : text;
    if (ui.callStatus.textContent !== statusText) ui.callStatus.textContent = statusText;
    ui.callNote.hidden = !linesBusy;
    ui.callNote.textContent = linesBusy ? text : '';
    ui.callbar.title = c.status === 'ended' && c.message ? c.message : '';
    ui.callActions.hidden = !active;
    ui.callDismiss.hidden = active;
    ui.mute.setAttribute('aria-pressed', String(!!c.muted));
    ui.mute.setAttribute('aria-label', c.muted ? 'Unmute microphone' : 'Mute microphone');
    ui.mute.title = c.muted ? 'Unmute' : 'Mute';
    ui.dialed.textContent = c.dialed;
    renderCallTimer();
    clearInterval(callTick);
    callTick = active ? setInterval(renderCallTimer, 1000) : null;
  }

  function renderCallTimer() {
    const c = call;
    if (!c) return;
    const end = c.status === 'ended' ? c.endedAt : Date.now();
    const show = !!c.connectedAt;
    ui.callTimer.hidden = !show;
    const text = show ? callTimeText(end - c.connectedAt) : '';
    if (ui.callTimer.textContent !== text) ui.callTimer.textContent = text;
  }

  /** For tests and diagnostics: what the browser receives (inbound-rtp audio). */
  async function callStats() {
    const c = call;
    const out = { inboundAudioLevel: 0, bytesReceived: 0, packetsReceived: 0,
      connectionState: c && c.pc ? c.pc.connectionState : 'closed' };
    if (!c || !c.pc || c.pc.connectionState === 'closed') return out;
    const report = await c.pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp' || (s.kind || s.mediaType) !== 'audio') return;
      out.inboundAudioLevel = Math.max(out.inboundAudioLevel, Number(s.audioLevel) || 0);
      out.bytesReceived += Number(s.bytesReceived) || 0;
      out.packetsReceived += Number(s.packetsReceived) || 0;
    });
    return out;
  }

  function callState() {
    const c = call;
    if (!c) return null;
    return {
      id: c.id,
      status: c.status,
      reason: c.reason,
      conversation_id: c.conversationId,
      muted: c.muted,
      dtmfMode: c.dtmfMode || (canSendRfc4733(c) ? 'rfc4733' : 'signaling'),
    };
  }

  /** Leaving the page: tell the gateway now (the socket dies with the page) and free the microphone. */
  function onPageHide() {
    const c = call;
    if (!callLive(c)) return;
    if (c.phase === 'offered' || c.phase === 'answered') sendFrame({ type: 'hangup', call_id: c.id });
    endCall(c, 'caller_hangup');
  }

  // ------------------------------------------------------------ connection

  function helloFrame() {
    const context = {
      page: clip(location.href, MAX_CONTEXT_VALUE),
      title: clip(document.title || '', MAX_CONTEXT_VALUE),
    };
    const frame = { type: 'hello', token: token || null, context };
    if (customerToken) frame.customer_token = customerToken;
    helloSentLastEventId = false;
    if (token && lastEventId && !forceFullHistory) {
      frame.last_event_id = lastEventId;
      helloSentLastEventId = true;
    }
    return frame;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws) return;
    ready = false;
    renderStatus();
    let sock;
    try {
      sock = new WebSocket(WS_URL);
    } catch (_) {
      everFailed = true;
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      sock.send(JSON.stringify(helloFrame()));
      // No welcome in time: drop it and go through the normal backoff.
      setTimeout(() => { if (ws === sock && !ready) sock.close(); }, WELCOME_TIMEOUT);
    };
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      let frame;
      try { frame = JSON.parse(e.data); } catch (_) { return; }
      if (frame && typeof frame === 'object') onFrame(frame);
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      everFailed = true;
      typingActive = false;
      hideTyping();
      scheduleReconnect();
    };
    sock.onerror = () => { /* onclose follows */ };
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** attempt);
    attempt = Math.min(attempt + 1, 16);
    const delay = base / 2 + Math.random() * (base / 2); // jitter in [base/2, base)
    retryTimer = setTimeout(connect, delay);
    renderStatus();
  }

  /** Drop the current socket (if any) and connect again right away. */
  function reconnectNow() {
    const old = ws;
    ws = null;
    ready = false;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try { old.close(1000); } catch (_) { /* ignore */ }
    }
    connect();
  }

  function onFrame(f) {
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'ack': onAck(f); break;
      case 'event': handleEvent(f.event, true); break;
      case 'typing':
        if (f.active) showTyping(f.name);
        else hideTyping();
        break;
      case 'queue': onQueue(f); break;
      case 'call_answer': onCallAnswer(f); break;
      case 'call_status': onCallStatus(f); break;
      case 'error': onError(f); break;
      default: break;
    }
  }

  function onWelcome(f) {
    if (customerId && f.customer_id && customerId !== f.customer_id) {
      // A different identity than the history on screen: start over.
      clearHistory();
      if (helloSentLastEventId) {
        customerId = f.customer_id;
        if (f.token) { token = f.token; store.set(TOKEN_KEY, token); }
        forceFullHistory = true;
        reconnectNow();
        return;
      }
    }
    ready = true;
    attempt = 0;
    everFailed = false;
    forceFullHistory = false;
    if (typeof f.token === 'string' && f.token) {
      token = f.token;
      store.set(TOKEN_KEY, token);
    }
    customerId = f.customer_id || customerId;
    const events = Array.isArray(f.events) ? f.events.slice() : [];
    events.sort((a, b) => cmpId(a && a.id, b && b.id));
    for (const ev of events) handleEvent(ev, false);
    if ('callback' in f) {   // the gateway's word on the open callback beats what the history suggested
      const cb = f.callback;
      const prev = callback && cb && callback.id === cb.id ? callback : null;
      callback = cb && typeof cb === 'object' && cb.id ? {
        id: cb.id, state: cb.state, asap: prev ? prev.asap : !cb.due_ms || cb.due_ms <= Date.now(),
        dueMs: Number(cb.due_ms) || 0,
        ringUntil: Number(cb.ring_until) || 0, agentName: prev ? prev.agentName : '',
      } : null;
      renderCallback();
    }
    const s = f.conversation;
    if (s && typeof s === 'object' && s.id) {
      if (s.id !== conv.id) conv = { id: s.id, state: null, agentName: null, queuePos: null };
      conv.state = s.state || conv.state;
      conv.agentName = s.agent_name || conv.agentName;
    }
    if (typeof f.queue_position === 'number' && f.queue_position > 0 && conv.state !== 'assigned' && conv.state !== 'closed') {
      conv.queuePos = f.queue_position;
      conv.state = 'queued';
    } else if (conv.state !== 'queued') {
      conv.queuePos = null;
    }
    // Everything not yet acknowledged goes (again); the gateway de-duplicates by client_id.
    for (const entry of outbox) {
      if (!bubbles.has(entry.client_id)) renderPending(entry);
      sendFrame({ type: 'message', client_id: entry.client_id, text: entry.text });
    }
    if (ui.input.value.trim()) onDraftInput();
    saveNow();
    renderStatus();
    scrollToBottom(true);
  }

  function onAck(f) {
    if (typeof f.client_id !== 'string') return;
    removeFromOutbox(f.client_id);
    const el = bubbles.get(f.client_id);
    if (el) markDelivered(el, typeof f.event_id === 'string' ? f.event_id : null, Date.now());
    if (f.conversation_id && f.conversation_id !== conv.id) {
      // The first message after "closed" opened a new conversation.
      conv = { id: f.conversation_id, state: 'open', agentName: null, queuePos: null };
    }
    saveSoon();
    renderStatus();
  }

  function onQueue(f) {
    const pos = typeof f.position === 'number' && f.position > 0 ? f.position : null;
    if (f.conversation_id && conv.id && f.conversation_id !== conv.id) {
      conv = { id: f.conversation_id, state: null, agentName: null, queuePos: null };
    }
    if (!conv.id && f.conversation_id) conv.id = f.conversation_id;
    if (conv.state === 'assigned' || conv.state === 'closed') return;
    conv.queuePos = pos;
    conv.state = pos ? 'queued' : conv.state;
    renderStatus();
  }

  /** Over the gateway's message limit: nothing is lost. The message stays in the outbox (shown as pending),
   *  the customer is told how long to wait, and it goes again by itself after retry_after. */
  function onRateLimited(f) {
    const wait = Math.max(1, Math.ceil(Number(f.retry_after) || 5));
    rateLimited.add(f.client_id);
    setFlash(TEXT.rateLimited(wait));
    if (rateTimer) return;
    rateTimer = setTimeout(() => {
      rateTimer = null;
      const again = outbox.filter((e) => rateLimited.has(e.client_id));
      rateLimited.clear();
      if (!ready) return; // the welcome after a reconnect sends the whole outbox anyway
      for (const entry of again) sendFrame({ type: 'message', client_id: entry.client_id, text: entry.text });
    }, wait * 1000);
  }

  function onError(f) {
    if (f.code === 'customer_token_invalid') {
      // The site's token was refused: the customer chats on unverified; tell the site's developer, not them.
      console.warn('[contact gateway] ' + (f.message || 'customer token refused'));
      return;
    }
    if (f.code === 'unauthorized') {
      // Forged or expired token: forget it (and the history it owned) and start as a new customer.
      const hadToken = !!token;
      token = null;
      customerId = null;
      store.remove(TOKEN_KEY);
      clearHistory();
      saveNow();
      if (hadToken) { reconnectNow(); return; }
      setFlash(f.message || 'Not authorized');
      return;
    }
    if (!ready && f.field === 'last_event_id') {
      forceFullHistory = true;
      reconnectNow();
      return;
    }
    if (f.code === 'rate_limited' && typeof f.client_id === 'string' && f.client_id) {
      onRateLimited(f);
      return;
    }
    if (onCallError(f)) return;
    if (typeof f.client_id === 'string' && f.client_id) markFailed(f.client_id, f.message);
    setFlash(f.message || 'Something went wrong');
  }

  // ------------------------------------------------------------ boot

  function boot() {
    loadState();
    buildDom();
    for (const ev of cache) handleEvent(ev, false, true);
    for (const entry of outbox.slice()) {
      if (bubbles.has(entry.client_id)) continue; // already delivered per the cache
      renderPending(entry);
    }
    outbox = outbox.filter((e) => !resolved.has(e.client_id));
    renderStatus();
    if (sessionGet(OPEN_KEY) === '1') open();

    window.addEventListener('online', () => {
      if (!ready) { attempt = 0; reconnectNow(); }
    });
    window.addEventListener('offline', () => {
      // The socket may take minutes to notice; treat the browser's word as final.
      if (ws) {
        const old = ws;
        ws = null;
        ready = false;
        old.onopen = old.onmessage = old.onclose = old.onerror = null;
        try { old.close(1000); } catch (_) { /* ignore */ }
        everFailed = true;
        typingActive = false;
        scheduleReconnect();
      }
      renderStatus();
    });
    window.addEventListener('pagehide', () => {
      onPageHide();
      if (saveTimer) saveNow();
    });
    connect();
  }

  /** The site logged its customer in (a signed customer token) or out (null): reconnect as that customer. */
  function identify(signed) {
    const next = typeof signed === 'string' ? signed.trim() : '';
    if (next === customerToken) return;
    const leaving = !!customerToken && !next;
    customerToken = next;
    if (leaving) { // a logged-out visitor must not see the logged-in customer's conversation
      token = null;
      customerId = null;
      store.remove(TOKEN_KEY);
      clearHistory();
      saveNow();
    }
    reconnectNow();
  }

  window.ContactGateway = {
    identify,
    open: () => { if (ui) open(); },
    close: () => { if (ui) close(false); },
    state: () => ({
      connected: !!(ready && ws && ws.readyState === WebSocket.OPEN),
      customer_id: customerId,
      conversation_id: conv.id,
      outbox: outbox.length,
      call: callState(),
      callback: callback ? { ...callback } : null,
      incoming: ui ? !ui.incoming.hidden : false,
      invite: invite ? { ...invite } : null,
      ringTone: !!ringTone,
    }),
    _callStats: () => callStats(),
  };

  if (document.body) boot();
  else document.addEventListener('DOMContentLoaded', boot, { once: true });
})();
