/*
 * Contact Gateway — agent desk (served at /agent, this file at /static/agent.js).
 *
 * Login over HTTP (POST /api/agent/login) gives a short-lived access token of a login
 * session; the desk refreshes it (POST /api/agent/refresh) while it is open and uses the
 * fresh one for reconnects and recordings. Log out (POST /api/agent/logout), a revoked
 * session (error `session_revoked`, close code 4401) or a refused refresh go back to the
 * login screen. Then one WebSocket (/ws/agent) that carries everything: presence, the waiting queue, assigned conversations and
 * their timelines. The wire protocol is described in docs/protocol.md.
 *
 * Each conversation keeps its own state (events by id, unacknowledged outgoing
 * messages by client_id, composer draft, note mode, unread count), so the agent
 * can work several chats at once and switch without losing anything. Outgoing
 * messages are resent on every reconnect until acknowledged; the gateway stores
 * a message once per client_id and this page renders an event once per id.
 *
 * Calls (ringing, accept, hold, hang-up, after-call work) live in softphone.js, loaded
 * first; this file forwards it the call frames and tells it about conversations.
 */
(() => {
  'use strict';

  const TOKEN_KEY = 'cg.agent.token';
  const TOKEN_EXP_KEY = 'cg.agent.token_exp';   // when the access token expires (ms, this browser's clock)
  const AGENT_KEY = 'cg.agent.info';
  const ROLES_KEY = 'cg.agent.roles';
  const OUTBOX_KEY = 'cg.agent.outbox';
  const DRAFTS_KEY = 'cg.agent.drafts';

  const MAX_TEXT_CHARS = 4000;        // gateway/protocol.py MAX_TEXT_CHARS
  const MAX_FRAME_BYTES = 16 * 1024;  // gateway/protocol.py MAX_FRAME_BYTES
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  const TYPING_IDLE = 3000;           // active:false after this long without input
  const TYPING_REFRESH = 2000;        // re-announce active:true while typing continues
  const TYPING_SHOW = 6000;           // hide the customer's draft preview after this
  const TOAST_MS = 4500;
  const WELCOME_TIMEOUT = 10000;
  const REFRESH_RETRY = 15000;        // a refresh that could not reach the gateway is tried again this soon
  const CLOSE_SESSION_REVOKED = 4401; // gateway/wire/sessions.py: the session was revoked; do not reconnect
  const SIGNED_OUT = {
    session_revoked: 'You were signed out (logged out elsewhere or your session was revoked). Please sign in again.',
    token_expired: 'Your session has expired. Please sign in again.',
    unauthorized: 'Your session has expired or is not valid. Please sign in again.',
  };

  // ------------------------------------------------------------ small helpers

  const $ = (sel) => document.querySelector(sel);

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'title' || k === 'tabindex') {
          el.setAttribute(k, v === true ? '' : String(v));
        } else el[k] = v;
      }
    }
    for (const c of children) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function cmpId(a, b) {
    const [am, as] = String(a).split('-');
    const [bm, bs] = String(b).split('-');
    const d = (Number(am) - Number(bm)) || (Number(as || 0) - Number(bs || 0));
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }

  function newClientId() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return 'a-' + c.randomUUID();
    const bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return 'a-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function codePoints(s) {
    let n = 0;
    for (const _ of s) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  function toDate(v) {
    if (v == null || v === '') return null;
    if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
    if (/^\d+(\.\d+)?$/.test(String(v))) return toDate(Number(v));
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  function fmtClock(v) {
    const d = toDate(v);
    return d ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  }

  function fmtFull(v) {
    const d = toDate(v);
    if (!d) return '';
    try { return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' }); } catch (_) { return d.toLocaleString(); }
  }

  function fmtWaited(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${s % 60}s`;
    const hr = Math.floor(m / 60);
    return `${hr}h ${m % 60}m`;
  }

  function shortId(id) {
    if (!id) return '—';
    const s = String(id);
    const m = /^([A-Za-z]{1,5}_)(.+)$/.exec(s);
    if (m) return m[1] + (m[2].length > 6 ? m[2].slice(0, 6) : m[2]);
    return s.length > 10 ? s.slice(0, 8) + '…' : s;
  }

  function initials(id) {
    const s = String(id || '?').replace(/^[A-Za-z]{1,5}_/, '');
    return (s.slice(0, 2) || '?').toUpperCase();
  }

  function colorFor(id) {
    let hash = 0;
    for (const ch of String(id || '')) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
    return `hsl(${Math.abs(hash) % 360} 45% 45%)`;
  }

  /** The name the site vouched for (a verified customer token), or null: never a name the browser claimed. */
  function verifiedName(ctx) {
    const name = ctx && ctx['verified.name'];
    return typeof name === 'string' && name.trim() ? name.trim() : null;
  }

  function customerLabel(conv) {
    return verifiedName(conv.context) || 'Customer ' + shortId(conv.summary.customer_id || conv.id);
  }

  const storage = {
    get(k) { try { return sessionStorage.getItem(k); } catch (_) { return null; } },
    set(k, v) { try { sessionStorage.setItem(k, v); } catch (_) { /* ignore */ } },
    remove(k) { try { sessionStorage.removeItem(k); } catch (_) { /* ignore */ } },
    json(k, fallback) {
      try { const v = JSON.parse(sessionStorage.getItem(k) || 'null'); return v == null ? fallback : v; } catch (_) { return fallback; }
    },
  };

  // ------------------------------------------------------------ state

  const S = {
    token: storage.get(TOKEN_KEY),
    tokenExp: Number(storage.get(TOKEN_EXP_KEY)) || 0,
    refreshTimer: null,
    agent: storage.json(AGENT_KEY, null),
    roles: storage.json(ROLES_KEY, null),   // from the login response (the socket's agent info has none)
    dispositions: [],
    queue: [],
    convs: new Map(),       // id -> conversation state (insertion order = list order)
    selected: null,
    ws: null,
    ready: false,
    attempt: 0,
    retryTimer: null,
    everFailed: false,
    running: false,
    closing: null,          // conversation id of a pending close request
  };

  let ui = null;
  let phone = null;         // the softphone (softphone.js), or null where it is not loaded
  const drafts = storage.json(DRAFTS_KEY, {});

  function newConv(id) {
    return {
      id,
      summary: { id },
      events: new Map(),    // event id -> event
      pending: new Map(),   // client_id -> {client_id, kind, text, ts, status, event_id?, error?}
      context: {},
      unread: 0,
      draft: typeof drafts[id] === 'string' ? drafts[id] : '',
      note: false,
      closed: false,
      historyLoaded: false,
      lastEventId: null,
      typingDraft: null,
      typingTimer: null,
    };
  }

  function ensureConv(id) {
    let conv = S.convs.get(id);
    if (!conv) {
      conv = newConv(id);
      S.convs.set(id, conv);
    }
    return conv;
  }

  function updateSummary(conv, s) {
    if (!s || typeof s !== 'object') return;
    conv.summary = Object.assign({}, conv.summary, s);
    if (s.context && typeof s.context === 'object') conv.context = Object.assign({}, conv.context, s.context);
    if (s.state === 'closed') conv.closed = true;
  }

  // ------------------------------------------------------------ persistence

  function saveOutbox() {
    const out = [];
    for (const conv of S.convs.values()) {
      for (const p of conv.pending.values()) {
        if (p.status === 'sending') {
          out.push({ conversation_id: conv.id, client_id: p.client_id, kind: p.kind, text: p.text, ts: p.ts });
        }
      }
    }
    if (out.length) storage.set(OUTBOX_KEY, JSON.stringify(out));
    else storage.remove(OUTBOX_KEY);
  }

  function restoreOutbox() {
    const saved = storage.json(OUTBOX_KEY, []);
    if (!Array.isArray(saved)) return;
    for (const e of saved) {
      if (!e || typeof e.conversation_id !== 'string' || typeof e.client_id !== 'string' || typeof e.text !== 'string') continue;
      const conv = ensureConv(e.conversation_id);
      conv.pending.set(e.client_id, {
        client_id: e.client_id, kind: e.kind === 'note' ? 'note' : 'message', text: e.text, ts: e.ts || Date.now(), status: 'sending',
      });
    }
  }

  let draftTimer = null;
  function saveDraftsSoon() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(() => {
      const out = {};
      for (const conv of S.convs.values()) if (conv.draft) out[conv.id] = conv.draft;
      storage.set(DRAFTS_KEY, JSON.stringify(out));
    }, 300);
  }

  // ------------------------------------------------------------ toast

  let toastTimer = null;
  function toast(text) {
    ui.toast.textContent = text;
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, TOAST_MS);
  }

  // ------------------------------------------------------------ sound

  let audioCtx = null;
  function audio() {
    if (audioCtx) return audioCtx;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    try { audioCtx = new Ctx(); } catch (_) { audioCtx = null; }
    return audioCtx;
  }

  function beep() {
    const ctx = audio();
    if (!ctx) return;
    try {
      if (ctx.state === 'suspended') ctx.resume().catch(() => {});
      const t = ctx.currentTime + 0.01;
      [[880, 0], [1175, 0.14]].forEach(([freq, offset]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t + offset);
        gain.gain.exponentialRampToValueAtTime(0.18, t + offset + 0.015);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.16);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t + offset);
        osc.stop(t + offset + 0.18);
      });
    } catch (_) { /* sound is a nicety */ }
  }

  // ------------------------------------------------------------ login / logout

  function showLogin(message) {
    ui.loginView.hidden = false;
    ui.desk.hidden = true;
    document.title = 'Agent desk — Contact Gateway';
    if (message) {
      ui.loginError.textContent = message;
      ui.loginError.hidden = false;
    } else {
      ui.loginError.textContent = '';
      ui.loginError.hidden = true;
    }
    ui.loginSubmit.disabled = false;
    ui.loginSubmit.textContent = 'Sign in';
    setTimeout(() => (ui.loginAgent.value ? ui.loginPassword : ui.loginAgent).focus(), 0);
  }

  let loginWaitTimer = null;

  /** Too many failed sign-ins: say until when, count down, and keep Sign in off until then. */
  function loginWait(seconds) {
    clearInterval(loginWaitTimer);
    const until = Date.now() + Math.ceil(seconds) * 1000;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(loginWaitTimer);
        loginWaitTimer = null;
        showLogin('You can sign in again now.');
        return;
      }
      const wait = left >= 120 ? `${Math.ceil(left / 60)} minutes` : `${left} second${left === 1 ? '' : 's'}`;
      ui.loginError.textContent = `Too many failed sign-ins. You can try again in ${wait}.`;
      ui.loginError.hidden = false;
      ui.loginSubmit.disabled = true;
      ui.loginSubmit.textContent = 'Sign in';
    };
    ui.loginView.hidden = false;
    ui.desk.hidden = true;
    tick();
    loginWaitTimer = setInterval(tick, 1000);
  }

  function showDesk() {
    ui.loginView.hidden = true;
    ui.desk.hidden = false;
    renderPresence();
    renderQueue();
    renderConvList();
    renderMain();
  }

  async function onLoginSubmit(e) {
    e.preventDefault();
    audio(); // unlock WebAudio inside the user gesture
    const agentId = ui.loginAgent.value.trim();
    const password = ui.loginPassword.value;
    if (!agentId || !password) {
      ui.loginError.textContent = 'Enter your agent ID and password.';
      ui.loginError.hidden = false;
      return;
    }
    ui.loginError.hidden = true;
    ui.loginSubmit.disabled = true;
    ui.loginSubmit.textContent = 'Signing in…';
    let res;
    try {
      res = await fetch('/api/agent/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ agent_id: agentId, password }),
        credentials: 'same-origin',
      });
    } catch (_) {
      showLogin('Cannot reach the gateway. Check your connection and try again.');
      return;
    }
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    if (res.status === 429 && body && Number(body.retry_after) > 0) {
      loginWait(Number(body.retry_after));
      ui.loginPassword.value = '';
      return;
    }
    if (!res.ok || !body || typeof body.token !== 'string') {
      let msg = body && typeof body.message === 'string' && body.message ? body.message : null;
      if (!msg) {
        msg = res.status === 401 ? 'Wrong agent ID or password.'
          : res.status === 429 ? 'Too many attempts. Please wait a moment and try again.'
            : `Sign-in failed (HTTP ${res.status}).`;
      }
      showLogin(msg);
      ui.loginPassword.value = '';
      return;
    }
    setToken(body.token, body.expires_in);
    S.agent = body.agent ? Object.assign({ status: 'offline' }, body.agent) : null;
    S.roles = body.agent && Array.isArray(body.agent.roles) ? body.agent.roles.filter((r) => typeof r === 'string') : null;
    if (S.roles) storage.set(ROLES_KEY, JSON.stringify(S.roles));
    else storage.remove(ROLES_KEY);
    if (S.agent) storage.set(AGENT_KEY, JSON.stringify(S.agent));
    ui.loginPassword.value = '';
    startDesk();
  }

  function startDesk() {
    if (S.tokenExp && S.tokenExp <= Date.now()) { // a tab reopened long after: the access token is gone
      logout(SIGNED_OUT.token_expired);
      return;
    }
    scheduleRefresh();
    S.running = true;
    restoreOutbox();
    showDesk();
    connect();
    applyRoles();
  }

  /** Supervisors get the Live calls panel. A session restored from before roles were kept: ask the gateway. */
  async function applyRoles() {
    if (!phone) return;
    if (Array.isArray(S.roles)) {
      phone.setSupervisor(S.roles.includes('supervisor'));
      return;
    }
    const token = S.token;
    try {
      const res = await fetch('/api/calls', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (S.token !== token || (res.status !== 200 && res.status !== 403)) return;
      S.roles = res.status === 200 ? ['agent', 'supervisor'] : ['agent'];
      storage.set(ROLES_KEY, JSON.stringify(S.roles));
      phone.setSupervisor(res.status === 200);
    } catch (_) { /* no panel this time */ }
  }

  // ------------------------------------------------------------ access token

  /** A new access token (from login or refresh); `expiresIn` seconds as the gateway counts them. */
  function setToken(token, expiresIn) {
    S.token = token;
    S.tokenExp = Date.now() + (Number(expiresIn) > 0 ? Number(expiresIn) * 1000 : 15 * 60 * 1000);
    storage.set(TOKEN_KEY, token);
    storage.set(TOKEN_EXP_KEY, String(S.tokenExp));
    scheduleRefresh();
    refreshRecordingUrls();
  }

  /** Refresh when two thirds of what is left have passed (10 of 15 minutes), so a slow or failed try has time. */
  function scheduleRefresh() {
    clearTimeout(S.refreshTimer);
    S.refreshTimer = null;
    if (!S.token) return;
    const left = S.tokenExp ? S.tokenExp - Date.now() : 0;
    S.refreshTimer = setTimeout(refreshToken, Math.max(1000, (left * 2) / 3));
  }

  async function refreshToken() {
    S.refreshTimer = null;
    const token = S.token;
    if (!token) return;
    let res = null;
    let body = null;
    try {
      res = await fetch('/api/agent/refresh', {
        method: 'POST', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store',
      });
      body = await res.json();
    } catch (_) { res = res || null; }
    if (S.token !== token) return; // logged out (or in again) meanwhile
    if (res && res.ok && body && typeof body.token === 'string') {
      setToken(body.token, body.expires_in);
      return;
    }
    if (res && res.status === 401) {
      logout(SIGNED_OUT[body && body.code] || SIGNED_OUT.unauthorized);
      return;
    }
    // The gateway is unreachable or busy: try again soon while the token still lives.
    if (S.tokenExp && Date.now() >= S.tokenExp) {
      logout(SIGNED_OUT.token_expired);
      return;
    }
    clearTimeout(S.refreshTimer);
    S.refreshTimer = setTimeout(refreshToken, REFRESH_RETRY);
  }

  /** The Log out button: end the session on the gateway (every tab and node of it), then show the login. */
  function signOut() {
    const token = S.token;
    if (token) {
      fetch('/api/agent/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, keepalive: true })
        .catch(() => { /* the session still ends by itself */ });
    }
    logout();
  }

  function logout(message) {
    if (phone) phone.reset(); // hangs up a live call while the socket can still say so
    clearTimeout(S.refreshTimer);
    S.refreshTimer = null;
    S.running = false;
    stopTyping();
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    const old = S.ws;
    S.ws = null;
    S.ready = false;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try { old.close(1000, 'logout'); } catch (_) { /* ignore */ }
    }
    for (const conv of S.convs.values()) clearTimeout(conv.typingTimer);
    S.token = null;
    S.tokenExp = 0;
    S.agent = null;
    S.roles = null;
    S.convs.clear();
    S.queue = [];
    S.selected = null;
    S.closing = null;
    S.attempt = 0;
    S.everFailed = false;
    storage.remove(TOKEN_KEY);
    storage.remove(TOKEN_EXP_KEY);
    storage.remove(AGENT_KEY);
    storage.remove(ROLES_KEY);
    storage.remove(OUTBOX_KEY);
    storage.remove(DRAFTS_KEY);
    for (const k of Object.keys(drafts)) delete drafts[k];
    ui.timeline.replaceChildren();
    ui.composer.value = '';
    showLogin(message);
  }

  // ------------------------------------------------------------ connection

  function wsUrl() {
    return location.origin.replace(/^http/i, 'ws') + '/ws/agent';
  }

  function connect() {
    clearTimeout(S.retryTimer);
    S.retryTimer = null;
    if (!S.running || S.ws) return;
    S.ready = false;
    renderConnection();
    let sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch (_) {
      S.everFailed = true;
      scheduleReconnect();
      return;
    }
    S.ws = sock;
    sock.onopen = () => {
      if (S.ws !== sock) return;
      sock.send(JSON.stringify({ type: 'hello', token: S.token }));
      setTimeout(() => { if (S.ws === sock && !S.ready) sock.close(); }, WELCOME_TIMEOUT);
    };
    sock.onmessage = (e) => {
      if (S.ws !== sock) return;
      let f;
      try { f = JSON.parse(e.data); } catch (_) { return; }
      if (f && typeof f === 'object') onFrame(f);
    };
    sock.onclose = (e) => {
      if (S.ws !== sock) return;
      if (e && e.code === CLOSE_SESSION_REVOKED) { // the error frame usually got here first
        logout(SIGNED_OUT.session_revoked);
        return;
      }
      S.ws = null;
      S.ready = false;
      S.everFailed = true;
      typing.active = false;
      if (phone) phone.onSocketDown();
      scheduleReconnect();
    };
    sock.onerror = () => { /* onclose follows */ };
  }

  function scheduleReconnect() {
    if (!S.running) return;
    clearTimeout(S.retryTimer);
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** S.attempt);
    S.attempt = Math.min(S.attempt + 1, 16);
    S.retryTimer = setTimeout(connect, base / 2 + Math.random() * (base / 2));
    renderConnection();
  }

  function reconnectNow() {
    const old = S.ws;
    S.ws = null;
    S.ready = false;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try { old.close(1000); } catch (_) { /* ignore */ }
    }
    connect();
  }

  function send(obj) {
    if (!S.ws || S.ws.readyState !== WebSocket.OPEN) return false;
    try { S.ws.send(JSON.stringify(obj)); return true; } catch (_) { return false; }
  }

  function onFrame(f) {
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'agent': onAgent(f); break;
      case 'queue': onQueue(f); break;
      case 'assigned': onAssigned(f); break;
      case 'unassigned': onUnassigned(f); break;
      case 'history': onHistory(f); break;
      case 'event': onEvent(f); break;
      case 'typing': onTyping(f); break;
      case 'call_status': onCallStatus(f); break;
      case 'call_answer': if (phone) phone.onCallAnswer(f); break;
      case 'ack': onAck(f); break;
      case 'error': onError(f); break;
      default: break;
    }
  }

  // ------------------------------------------------------------ frames

  function requestHistory(conv) {
    const frame = { type: 'open', conversation_id: conv.id };
    if (conv.lastEventId) frame.last_event_id = conv.lastEventId;
    send(frame);
  }

  function resendPending(conv) {
    for (const p of conv.pending.values()) {
      if (p.status !== 'sending') continue;
      send({ type: p.kind, conversation_id: conv.id, client_id: p.client_id, text: p.text });
    }
  }

  function onWelcome(f) {
    S.ready = true;
    S.attempt = 0;
    S.everFailed = false;
    if (f.agent) {
      S.agent = f.agent;
      storage.set(AGENT_KEY, JSON.stringify(S.agent));
    }
    S.dispositions = Array.isArray(f.dispositions) ? f.dispositions.filter((d) => typeof d === 'string') : [];
    S.queue = Array.isArray(f.queue) ? f.queue : [];
    const live = new Set();
    for (const s of Array.isArray(f.conversations) ? f.conversations : []) {
      if (!s || !s.id) continue;
      const conv = ensureConv(s.id);
      updateSummary(conv, s);
      conv.closed = s.state === 'closed';
      if (!conv.closed) live.add(s.id);
    }
    // Whatever we showed that is no longer ours was closed or reassigned while we were away.
    for (const conv of Array.from(S.convs.values())) {
      if (live.has(conv.id)) continue;
      failPending(conv, 'conversation is no longer assigned to you');
      if (!conv.closed) conv.closed = true;
      if (conv.id !== S.selected) removeConv(conv.id);
    }
    for (const id of live) {
      const conv = S.convs.get(id);
      requestHistory(conv);
      resendPending(conv);
    }
    saveOutbox();
    renderDispositions();
    renderPresence();
    renderQueue();
    renderConnection();
    if (!S.selected || !S.convs.has(S.selected)) {
      const first = live.values().next();
      if (!first.done) select(first.value);
      else { S.selected = null; renderMain(); }
    } else {
      renderMain();
    }
    renderConvList();
    if (typing.wanted()) onComposerInput();
    if (phone) phone.onWelcome();
  }

  function onAgent(f) {
    if (!f.agent) return;
    S.agent = Object.assign({}, S.agent, f.agent);
    storage.set(AGENT_KEY, JSON.stringify(S.agent));
    renderPresence();
  }

  function onQueue(f) {
    S.queue = Array.isArray(f.waiting) ? f.waiting : [];
    renderQueue();
  }

  function onAssigned(f) {
    const s = f.conversation;
    if (!s || !s.id) return;
    const conv = ensureConv(s.id);
    conv.closed = false;
    conv.returned = '';
    updateSummary(conv, s);
    conv.closed = s.state === 'closed';
    S.queue = S.queue.filter((q) => q && q.id !== s.id);
    beep();
    conv.freshAssign = true; // its backlog counts as unread until the agent looks at it
    requestHistory(conv);
    renderQueue();
    if (!S.selected) select(conv.id);
    else if (S.selected === conv.id) renderMain();
    renderConvList();
    if (S.selected !== conv.id) toast(`New conversation: ${customerLabel(conv)}`);
    if (phone) phone.onAssigned(conv.id); // a consultation handed over to us: the call is ours now
  }

  function onUnassigned(f) {
    if (phone) phone.onUnassigned(f.conversation_id, f.reason || '');
    const conv = S.convs.get(f.conversation_id);
    if (!conv) return;
    conv.closed = true;
    // Not closed, only no longer ours: a missed call took it back to the queue (call_no_answer, call_declined,
    // call_agent_lost), or it was handed to someone else (transferred). Read-only here either way.
    const reason = f.reason || '';
    const transferred = reason === 'transferred' || reason === 'call_transferred'; // to an agent / to a queue
    // A callback attempt that ended without the customer: callback_no_answer (its next attempt routes it again),
    // callback_declined / callback_cancelled / ... (the callback is over).
    conv.returned = transferred ? 'transferred' : /^call_/.test(reason) ? 'queue'
      : reason === 'callback_no_answer' ? 'callback' : /^callback_/.test(reason) ? 'released' : '';
    conv.returnedReason = reason;
    conv.summary.state = conv.returned === 'queue' || reason === 'call_transferred' ? 'queued'
      : conv.returned ? conv.summary.state : 'closed';
    if (S.closing === conv.id) S.closing = null;
    clearTyping(conv);
    if (S.selected === conv.id) {
      stopTyping();
      renderMain();
    } else {
      removeConv(conv.id);
    }
    renderConvList();
  }

  function onHistory(f) {
    const s = f.conversation;
    const id = (s && s.id) || f.conversation_id;
    if (!id) return;
    const conv = S.convs.get(id);
    if (!conv) return; // not (or no longer) ours
    updateSummary(conv, s);
    const events = Array.isArray(f.events) ? f.events.slice() : [];
    events.sort((a, b) => cmpId(a && a.id, b && b.id));
    const countUnread = conv.freshAssign && (S.selected !== id || document.hidden);
    conv.freshAssign = false;
    for (const ev of events) {
      if (!applyEvent(conv, ev, false) || !countUnread || ev.type !== 'message') continue;
      if (ev.author === 'customer') conv.unread++;
      else if (ev.author === 'agent') conv.unread = 0;
    }
    if (s && 'callback' in s) conv.summary.callback = s.callback; // the gateway's word beats the replayed events
    conv.historyLoaded = true;
    if (S.selected === id) renderMain();
    renderConvList();
    if (phone) phone.onConversation(id);
  }

  function onEvent(f) {
    const ev = f.event;
    const id = f.conversation_id || (ev && ev.conversation_id);
    if (!id || !ev) return;
    let conv = S.convs.get(id);
    if (!conv) {
      // An event before its "assigned" frame: track it and fetch the rest.
      conv = ensureConv(id);
      requestHistory(conv);
    }
    const isNew = applyEvent(conv, ev, true);
    if (!isNew) return;
    if (S.selected === id) {
      renderHeader();
      renderContext();
      renderComposerState();
    }
    renderConvList();
    if (phone) phone.onConversation(id);
  }

  function onTyping(f) {
    const conv = S.convs.get(f.conversation_id);
    if (!conv) return;
    clearTimeout(conv.typingTimer);
    if (f.active) {
      conv.typingDraft = typeof f.draft === 'string' ? f.draft : '';
      conv.typingTimer = setTimeout(() => clearTyping(conv), TYPING_SHOW);
    } else {
      conv.typingDraft = null;
    }
    if (S.selected === conv.id) renderTypingPreview();
  }

  /** A call changed status (connecting, ivr, waiting, ringing, connected, ended); the softphone acts on it. */
  function onCallStatus(f) {
    if (typeof f.status !== 'string') return;
    const conv = S.convs.get(f.conversation_id);
    if (conv) {
      conv.call = { id: f.call_id, status: f.status, reason: f.reason || '' };
      if (S.selected === conv.id) renderHeader();
    }
    if (phone) phone.onCallStatus(f);
  }

  function clearTyping(conv) {
    clearTimeout(conv.typingTimer);
    conv.typingTimer = null;
    conv.typingDraft = null;
    if (S.selected === conv.id) renderTypingPreview();
  }

  function findPending(clientId, convId) {
    const conv = convId ? S.convs.get(convId) : null;
    if (conv && conv.pending.has(clientId)) return [conv, conv.pending.get(clientId)];
    for (const c of S.convs.values()) if (c.pending.has(clientId)) return [c, c.pending.get(clientId)];
    return [null, null];
  }

  function onAck(f) {
    if (typeof f.client_id !== 'string') return;
    const [conv, p] = findPending(f.client_id, f.conversation_id);
    if (!conv) return;
    if (typeof f.event_id === 'string' && conv.events.has(f.event_id)) {
      conv.pending.delete(f.client_id); // the event already arrived
    } else {
      p.status = 'sent';
      if (typeof f.event_id === 'string') p.event_id = f.event_id;
    }
    saveOutbox();
    if (S.selected === conv.id) upsertPendingEl(conv, p);
  }

  function onError(f) {
    if (f.code === 'unauthorized' || f.code === 'token_expired' || f.code === 'session_revoked') {
      logout(SIGNED_OUT[f.code]);
      return;
    }
    if (phone && phone.onError(f)) return; // about a call (call_id, sdp, hold)
    if (typeof f.client_id === 'string' && f.client_id) {
      const [conv, p] = findPending(f.client_id, f.conversation_id);
      if (conv && p) {
        p.status = 'failed';
        p.error = f.message || f.code;
        saveOutbox();
        if (S.selected === conv.id) upsertPendingEl(conv, p);
      }
    }
    if (S.closing) {
      const conv = S.convs.get(S.closing);
      S.closing = null;
      if (f.code === 'conflict' && conv) {
        conv.closed = true;
        conv.summary.state = 'closed';
      }
      if (conv && S.selected === conv.id) renderMain();
    }
    toast(f.message || `Error: ${f.code || 'unknown'}`);
  }

  function failPending(conv, reason) {
    for (const p of conv.pending.values()) {
      if (p.status === 'sending') {
        p.status = 'failed';
        p.error = reason;
      }
    }
  }

  function removeConv(id) {
    const conv = S.convs.get(id);
    if (!conv) return;
    clearTimeout(conv.typingTimer);
    S.convs.delete(id);
    saveOutbox();
    saveDraftsSoon();
  }

  /** Fold one event into a conversation. Returns false for a duplicate. */
  function applyEvent(conv, ev, live) {
    if (!ev || typeof ev !== 'object' || typeof ev.id !== 'string') return false;
    if (conv.events.has(ev.id)) return false;
    conv.events.set(ev.id, ev);
    if (!conv.lastEventId || cmpId(ev.id, conv.lastEventId) > 0) conv.lastEventId = ev.id;
    if (ev.client_id && conv.pending.has(ev.client_id)) {
      conv.pending.delete(ev.client_id);
      saveOutbox();
    }
    switch (ev.type) {
      case 'opened':
        if (ev.customer_id && !conv.summary.customer_id) conv.summary.customer_id = ev.customer_id;
        if (ev.context && typeof ev.context === 'object') conv.context = Object.assign({}, ev.context, conv.context);
        break;
      case 'message':
        if (typeof ev.text === 'string') conv.summary.last_text = ev.text;
        if (ev.author === 'customer') {
          if (live) clearTyping(conv);
          if (live && (S.selected !== conv.id || document.hidden)) conv.unread++;
        }
        break;
      case 'state':
        if (ev.state) conv.summary.state = ev.state;
        if (ev.state === 'closed') conv.closed = true;
        break;
      case 'assigned':
        conv.summary.agent_id = ev.agent_id;
        conv.summary.agent_name = ev.agent_name;
        if (!conv.closed) conv.summary.state = 'assigned';
        break;
      case 'closed':
        conv.summary.state = 'closed';
        conv.closed = true;
        break;
      case 'context':
        if (ev.values && typeof ev.values === 'object') conv.context = Object.assign({}, conv.context, ev.values);
        break;
      case 'callback':
        conv.summary.callback = callbackAfter(conv.summary.callback, ev);
        if (S.selected === conv.id) renderCallbackPanel();
        break;
      case 'call_started': {
        // The customer answered the ringing callback: their call is on its way here (the gateway's 'connecting').
        const cb = conv.summary.callback;
        if (cb && cb.state === 'ringing') conv.summary.callback = Object.assign({}, cb, { state: 'connecting', ring_until: 0 });
        if (S.selected === conv.id) renderCallbackPanel();
        break;
      }
      default:
        break;
    }
    if (live && S.selected === conv.id) upsertEventEl(conv, ev);
    return true;
  }

  // ------------------------------------------------------------ outgoing

  const typing = {
    conv: null,
    active: false,
    lastSent: 0,
    idle: null,
    wanted() {
      const conv = S.convs.get(S.selected);
      return !!(conv && !conv.closed && !ui.noteMode.checked && ui.composer.value.trim());
    },
  };

  function onComposerInput() {
    const conv = S.convs.get(S.selected);
    if (!conv) return;
    conv.draft = ui.composer.value;
    saveDraftsSoon();
    if (!typing.wanted()) { stopTyping(); return; }
    const now = Date.now();
    if (!typing.active || typing.conv !== conv.id || now - typing.lastSent >= TYPING_REFRESH) {
      if (typing.active && typing.conv !== conv.id) stopTyping();
      if (S.ready && send({ type: 'typing', conversation_id: conv.id, active: true })) {
        typing.active = true;
        typing.conv = conv.id;
        typing.lastSent = now;
      }
    }
    clearTimeout(typing.idle);
    typing.idle = setTimeout(stopTyping, TYPING_IDLE);
  }

  function stopTyping() {
    clearTimeout(typing.idle);
    typing.idle = null;
    if (typing.active && typing.conv && S.ready) {
      send({ type: 'typing', conversation_id: typing.conv, active: false });
    }
    typing.active = false;
    typing.conv = null;
  }

  function submit() {
    const conv = S.convs.get(S.selected);
    if (!conv || conv.closed) return;
    const text = ui.composer.value;
    if (!text.trim()) return;
    const kind = ui.noteMode.checked ? 'note' : 'message';
    stopTyping();
    const p = { client_id: newClientId(), kind, text, ts: Date.now(), status: 'sending' };
    const frame = { type: kind, conversation_id: conv.id, client_id: p.client_id, text };
    conv.pending.set(p.client_id, p);
    ui.composer.value = '';
    conv.draft = '';
    saveDraftsSoon();
    if (codePoints(text) > MAX_TEXT_CHARS || new TextEncoder().encode(JSON.stringify(frame)).length > MAX_FRAME_BYTES) {
      p.status = 'failed';
      p.error = `too long (at most ${MAX_TEXT_CHARS} characters)`;
      toast(`Message is too long (at most ${MAX_TEXT_CHARS} characters).`);
    } else {
      saveOutbox();
      if (S.ready) send(frame);
    }
    upsertPendingEl(conv, p, true);
    ui.composer.focus();
  }

  function setStatus(status) {
    if (!S.ready) { toast('Not connected — try again in a moment.'); return; }
    send({ type: 'status', status });
  }

  function closeSelected() {
    const conv = S.convs.get(S.selected);
    if (!conv || conv.closed || S.closing) return;
    const disposition = ui.disposition.value || S.dispositions[0];
    if (!disposition) { toast('Choose a disposition first.'); return; }
    if (!S.ready) { toast('Not connected — try again in a moment.'); return; }
    stopTyping();
    S.closing = conv.id;
    send({ type: 'close', conversation_id: conv.id, disposition });
    renderComposerState();
  }

  // ------------------------------------------------------------ selection

  function select(id) {
    if (S.selected === id) return;
    const prev = S.convs.get(S.selected);
    if (prev) {
      prev.draft = ui.composer.value;
      prev.note = ui.noteMode.checked;
      stopTyping();
      if (prev.closed) removeConv(prev.id);
    }
    S.selected = id;
    const conv = S.convs.get(id);
    if (conv) {
      conv.unread = 0;
      ui.composer.value = conv.draft || '';
      ui.noteMode.checked = !!conv.note;
      if (!conv.historyLoaded) requestHistory(conv);
    }
    saveDraftsSoon();
    renderMain();
    renderConvList();
  }

  /** Show a conversation (the softphone opens the caller's when it rings), even before its history is here. */
  function openConversation(id) {
    if (!id || !S.running) return;
    const conv = ensureConv(id);
    if (S.selected === id) { if (!conv.historyLoaded) requestHistory(conv); return; }
    select(id);
  }

  // ------------------------------------------------------------ rendering: top bar

  function renderConnection() {
    let text;
    let state;
    if (S.ready) { text = 'Connected'; state = 'online'; }
    else if (S.everFailed) { text = 'Offline — reconnecting…'; state = 'offline'; }
    else { text = 'Connecting…'; state = 'connecting'; }
    ui.connection.textContent = text;
    ui.connection.dataset.state = state;
  }

  function renderPresence() {
    const a = S.agent || {};
    const status = a.status || 'offline';
    ui.agentStatus.textContent = status;
    ui.statusPill.dataset.status = status;
    ui.btnAvailable.setAttribute('aria-pressed', String(status === 'available'));
    ui.btnAway.setAttribute('aria-pressed', String(status === 'away'));
    const active = typeof a.active === 'number' ? a.active
      : Array.from(S.convs.values()).filter((c) => !c.closed).length;
    const cap = typeof a.capacity === 'number' ? a.capacity : '?';
    ui.load.textContent = `${active} / ${cap} chats`;
    ui.agentName.textContent = a.name || a.id || '';
    ui.agentName.title = a.id ? `Signed in as ${a.id}` : '';
  }

  function renderDispositions() {
    const current = ui.disposition.value;
    ui.disposition.replaceChildren(...S.dispositions.map((d) => h('option', { value: d, text: d.replace(/_/g, ' ') })));
    if (S.dispositions.includes(current)) ui.disposition.value = current;
  }

  // ------------------------------------------------------------ rendering: sidebar

  function renderQueue() {
    const items = S.queue.filter((q) => q && q.id);
    ui.queueCount.textContent = String(items.length);
    ui.queueEmpty.hidden = items.length > 0;
    ui.queue.replaceChildren(...items.map((q) => {
      const since = toDate(q.queued_at || q.created_at);
      const li = h('li', {
        class: 'queue-item',
        'data-conversation-id': q.id,
        title: 'Waiting customers are routed automatically to available agents',
      },
      h('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(q.customer_id || q.id) }),
      h('span', { class: 'item-title', text: verifiedName(q.context) || 'Customer ' + shortId(q.customer_id || q.id) }),
      h('span', { class: 'item-meta waited', 'data-since': since ? String(since.getTime()) : '', text: since ? fmtWaited(Date.now() - since.getTime()) : '' }),
      h('span', { class: 'item-text', text: q.callback ? `Callback${q.callback.phone ? ` · ${q.callback.phone}` : ''}` +
        (q.last_text ? ` · ${q.last_text}` : '') : (q.last_text || 'No message yet') }));
      if (q.callback) li.dataset.callback = q.callback.state || 'queued';
      li.querySelector('.avatar').style.background = colorFor(q.customer_id || q.id);
      return li;
    }));
  }

  function renderConvList() {
    const convs = Array.from(S.convs.values()).filter((c) => c.summary.customer_id || c.historyLoaded || c.summary.state);
    ui.convCount.textContent = String(convs.filter((c) => !c.closed).length);
    ui.convEmpty.hidden = convs.length > 0;
    const existing = new Map(Array.from(ui.convs.children).map((el) => [el.dataset.conversationId, el]));
    const wanted = [];
    for (const conv of convs) {
      let li = existing.get(conv.id);
      if (!li) {
        li = h('li', { class: 'conv-item', 'data-conversation-id': conv.id, role: 'option', tabindex: '0' });
        li.addEventListener('click', () => select(conv.id));
        li.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(conv.id); }
        });
      }
      const lastEv = conv.lastEventId ? conv.events.get(conv.lastEventId) : null;
      const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(conv.summary.customer_id || conv.id) });
      avatar.style.background = colorFor(conv.summary.customer_id || conv.id);
      const meta = conv.unread > 0
        ? h('span', { class: 'unread', 'data-testid': 'unread', 'aria-label': `${conv.unread} unread`, text: String(conv.unread) })
        : h('span', { class: 'item-meta', text: conv.closed ? 'closed' : fmtClock(lastEv ? lastEv.ts : conv.summary.updated_at) });
      li.replaceChildren(
        avatar,
        h('span', { class: 'item-title', text: verifiedName(conv.context) || shortId(conv.summary.customer_id || conv.id),
          title: customerLabel(conv) }),
        meta,
        h('span', { class: 'item-text', text: conv.summary.last_text || (conv.closed ? 'Closed' : 'New conversation') }),
      );
      li.classList.toggle('closed', conv.closed);
      li.setAttribute('aria-selected', String(conv.id === S.selected));
      li.dataset.unread = String(conv.unread);
      wanted.push(li);
    }
    // Keep DOM nodes (and focus) stable; only fix order and membership.
    for (const el of Array.from(ui.convs.children)) if (!wanted.includes(el)) el.remove();
    wanted.forEach((li, i) => { if (ui.convs.children[i] !== li) ui.convs.insertBefore(li, ui.convs.children[i] || null); });
    const totalUnread = convs.reduce((n, c) => n + c.unread, 0);
    document.title = (totalUnread ? `(${totalUnread}) ` : '') + 'Agent desk — Contact Gateway';
    renderPresence();
  }

  function tickWaited() {
    const now = Date.now();
    for (const el of ui.queue.querySelectorAll('.waited[data-since]')) {
      const since = Number(el.dataset.since);
      if (since) el.textContent = fmtWaited(now - since);
    }
  }

  // ------------------------------------------------------------ rendering: main panel

  function renderMain() {
    const conv = S.convs.get(S.selected);
    if (!conv) {
      ui.main.removeAttribute('data-conversation-id');
      ui.placeholder.hidden = false;
      ui.convHead.hidden = true;
      ui.callbackPanel.hidden = true;
      ui.timeline.replaceChildren();
      ui.typingPreview.hidden = true;
      ui.readonly.hidden = true;
      renderContext();
      renderComposerState();
      return;
    }
    ui.main.setAttribute('data-conversation-id', conv.id);
    ui.placeholder.hidden = true;
    ui.convHead.hidden = false;
    renderHeader();
    renderTimeline(conv);
    renderTypingPreview();
    renderContext();
    renderComposerState();
  }

  /** The conversation's callback after one of its timeline events (the summary's dict, or null once closed). */
  function callbackAfter(cb, ev) {
    const id = ev.callback_id;
    const base = cb && cb.id === id ? Object.assign({}, cb, { sending: false }) : { id, attempt: 0, max_attempts: ev.max_attempts || 1 };
    switch (ev.action) {
      case 'requested': return Object.assign(base, { state: 'scheduled', due_ms: ev.due_ms, label: ev.label, phone: ev.phone || '' });
      case 'queued': return Object.assign(base, { state: 'queued' });
      case 'attempt': return Object.assign(base, { state: 'ringing', attempt: ev.attempt, max_attempts: ev.max_attempts,
        phone: ev.phone || base.phone || '', ring_until: ev.ring_until, label: ev.label || base.label });
      case 'outcome': return Object.assign(base, { state: 'scheduled', due_ms: ev.next_attempt_ms });
      case 'closed': return null;
      default: return cb;
    }
  }

  const CALLBACK_STATE = { scheduled: 'scheduled', queued: 'waiting in the queue', ringing: 'ringing the customer\'s browser',
    connecting: 'the customer is calling in' };

  function renderCallbackPanel() {
    const conv = S.convs.get(S.selected);
    const cb = conv && !conv.closed ? conv.summary.callback : null;
    ui.callbackPanel.hidden = !cb;
    if (!cb) return;
    ui.callbackPanel.dataset.state = cb.state || '';
    ui.callbackPanel.dataset.callbackId = cb.id;
    const when = cb.state === 'scheduled' && cb.due_ms ? ` for ${fmtClock(cb.due_ms)}` : '';
    const phone = cb.phone ? ` · phone ${cb.phone}` : '';
    const attempts = cb.attempt ? `attempt ${cb.attempt} of ${cb.max_attempts || 1}` : `up to ${cb.max_attempts || 1} attempts`;
    ui.callbackText.textContent = `Callback${cb.label ? ` “${cb.label}”` : ''}: ${CALLBACK_STATE[cb.state] || cb.state}${when}` +
      ` · ${attempts}${phone}`;
    ui.callbackActions.hidden = !(cb.state === 'ringing' || cb.state === 'connecting');
    for (const b of ui.callbackActions.querySelectorAll('button')) b.disabled = cb.sending === true;
  }

  /** The agent's word on the attempt; the buttons wait for the gateway's callback event (or an error). */
  function sendCallbackOutcome(outcome) {
    const conv = S.convs.get(S.selected);
    const cb = conv && conv.summary.callback;
    if (!cb || !cb.id || cb.sending) return;
    if (!send({ type: 'callback_outcome', callback_id: cb.id, outcome })) return;
    cb.sending = true;
    renderCallbackPanel();
    setTimeout(() => {   // no event came (an error frame was toasted): let the agent try again
      if (conv.summary.callback === cb && cb.sending) {
        cb.sending = false;
        if (S.selected === conv.id) renderCallbackPanel();
      }
    }, 5000);
  }

  function renderHeader() {
    const conv = S.convs.get(S.selected);
    if (!conv) return;
    renderCallbackPanel();
    ui.convCustomer.textContent = customerLabel(conv);
    ui.convCustomer.title = conv.summary.customer_id || '';
    ui.convAvatar.textContent = initials(conv.summary.customer_id || conv.id);
    ui.convAvatar.style.background = colorFor(conv.summary.customer_id || conv.id);
    const state = conv.returned ? 'returned' : conv.closed ? 'closed' : (conv.summary.state || 'assigned');
    ui.convState.textContent = conv.returned === 'queue' ? 'back in queue'
      : conv.returned === 'callback' ? 'callback later' : conv.returned || state;
    ui.convState.dataset.state = state;
    renderCallBadge(conv);
    // Invite to call: only in an open conversation of ours without a call going on.
    const onCall = !ui.callBadge.hidden && ui.callBadge.dataset.status !== 'ended';
    ui.inviteCall.disabled = conv.closed || !!conv.returned || onCall;
  }

  const CALL_BADGE = { connecting: 'On a call: connecting', ringing: 'On a call: ringing', ivr: 'On a call: in IVR',
    waiting: 'On a call: waiting', connected: 'On a call', held: 'On a call: on hold', ended: 'Call ended' };

  /** The live call status if one came in, else what the timeline says (a call started and not ended). */
  function renderCallBadge(conv) {
    if (conv.returned) { // transferred or back in the queue: whatever the call does now is not ours
      ui.callBadge.hidden = true;
      return;
    }
    let status = conv.call ? conv.call.status : null;
    if (status === 'connected' && conv.call.reason === 'held') status = 'held';
    if (!status) {
      // No live status yet (e.g. the call was routed to us mid-call): read it off the timeline.
      for (const ev of Array.from(conv.events.values()).sort((a, b) => cmpId(a.id, b.id))) {
        if (ev.type === 'call_started') status = 'ivr';
        else if (ev.type === 'call_ended') status = null;
        else if (status && ev.type === 'ivr' && ev.kind === 'queue') status = 'waiting';
        else if (status && (ev.type === 'call_answered' || ev.type === 'call_resumed')) status = 'connected';
        else if (status && ev.type === 'call_held') status = 'held';
        else if (status && (ev.type === 'call_missed' || ev.type === 'call_agent_lost')) status = 'waiting';
      }
    }
    ui.callBadge.hidden = !status;
    ui.callBadge.dataset.status = status || '';
    ui.callBadge.textContent = status ? (CALL_BADGE[status] || `On a call: ${status}`) : '';
    ui.callBadge.title = conv.call && conv.call.reason ? `${conv.call.status}: ${conv.call.reason.replace(/_/g, ' ')}` : '';
  }

  function renderComposerState() {
    const conv = S.convs.get(S.selected);
    const writable = !!conv && !conv.closed;
    ui.composer.disabled = !writable;
    ui.sendBtn.disabled = !writable;
    ui.noteMode.disabled = !writable;
    ui.disposition.disabled = !writable || S.closing === (conv && conv.id);
    ui.closeBtn.disabled = !writable || !!S.closing;
    ui.closeBtn.textContent = conv && S.closing === conv.id ? 'Closing…' : 'Close';
    ui.readonly.hidden = !conv || !conv.closed;
    ui.readonly.textContent = !conv || !conv.returned ? 'This conversation is closed. It is read-only.'
      : conv.returned === 'queue' ? 'The call was not taken, so this conversation went back to the queue. It is read-only here.'
        : conv.returned === 'callback' ? 'The customer was not reached; the callback will try again later. It is read-only here.'
          : conv.returned === 'released' ? `The callback ended (${String(conv.returnedReason || '').replace(/^callback_/, '')
            .replace(/_/g, ' ')}), so this conversation is no longer yours. It is read-only here.`
            : 'This conversation was transferred. It is read-only here.';
    ui.composerForm.hidden = !!conv && conv.closed;
    ui.composerForm.classList.toggle('note-mode', ui.noteMode.checked);
    ui.composer.placeholder = ui.noteMode.checked
      ? 'Write an internal note — only agents see it…'
      : 'Reply to the customer…  (Enter to send, Shift+Enter for a new line)';
  }

  function renderTypingPreview() {
    const conv = S.convs.get(S.selected);
    const draft = conv ? conv.typingDraft : null;
    if (draft == null || (conv && conv.closed)) {
      ui.typingPreview.hidden = true;
      ui.typingPreview.textContent = '';
      return;
    }
    ui.typingPreview.textContent = draft ? `Customer is typing: ${draft}` : 'Customer is typing…';
    ui.typingPreview.hidden = false;
  }

  function renderContext() {
    const conv = S.convs.get(S.selected);
    if (!conv) {
      ui.context.replaceChildren(h('p', { class: 'empty', text: 'No conversation selected.' }));
      return;
    }
    const s = conv.summary;
    const details = [
      ['Customer', s.customer_id || '—'],
      ['Conversation', conv.id],
      ['State', conv.closed ? 'closed' : (s.state || '—')],
      ['Queue', s.queue],
      ['Agent', s.agent_name || s.agent_id],
      ['Started', fmtFull(s.created_at)],
      ['Updated', fmtFull(s.updated_at)],
    ].filter(([, v]) => v != null && v !== '');
    // Three sources, never mixed up: what the site's backend signed (verified.*), what the customer's
    // browser said (context.*: unverified), and what the flow collected (everything else).
    const groups = { verified: [], browser: [], collected: [] };
    for (const [k, v] of Object.entries(conv.context || {})) {
      if (k.startsWith('verified.')) groups.verified.push([k.slice(9), v]);
      else if (k.startsWith('context.')) groups.browser.push([k.slice(8), v]);
      else groups.collected.push([k, v]);
    }
    const section = (title, entries, note) => h('div', { class: 'ctx-section' }, h('h3', { text: title }),
      note ? h('p', { class: 'ctx-note', text: note }) : null, dl(entries));
    const sections = [h('div', { class: 'ctx-section' }, h('h3', { text: 'Details' }), dl(details))];
    if (groups.verified.length) sections.push(section('Verified by the site', groups.verified));
    if (groups.collected.length) sections.push(section('Collected', groups.collected));
    if (groups.browser.length) sections.push(section('From the browser', groups.browser, 'Sent by the customer\'s browser: unverified.'));
    if (sections.length === 1) {
      sections.push(h('div', { class: 'ctx-section' }, h('h3', { text: 'Context' }),
        h('p', { class: 'empty', text: 'No context shared.' })));
    }
    ui.context.replaceChildren(...sections);
  }

  function dl(entries) {
    const list = h('dl', { class: 'ctx' });
    for (const [k, v] of entries) {
      const value = typeof v === 'string' ? v : JSON.stringify(v);
      let dd;
      if (/^https?:\/\//i.test(value)) {
        dd = h('dd', null, h('a', { href: value, target: '_blank', rel: 'noopener noreferrer', text: value }));
      } else {
        dd = h('dd', { text: value });
      }
      list.append(h('dt', { text: k, 'data-key': k }), dd);
    }
    return list;
  }

  // ------------------------------------------------------------ rendering: timeline

  function nearBottom() {
    const w = ui.timelineWrap;
    return w.scrollHeight - w.scrollTop - w.clientHeight < 80;
  }

  function scrollToBottom() {
    const w = ui.timelineWrap;
    requestAnimationFrame(() => { w.scrollTop = w.scrollHeight; });
  }

  function authorName(ev) {
    if (ev.author === 'agent') return ev.agent_name || ev.agent_id || 'Agent';
    if (ev.author === 'bot') return 'Bot';
    if (ev.author === 'customer') return 'Customer';
    return ev.author || 'System';
  }

  function stateLabel(state) {
    return ({ open: 'Conversation open', queued: 'Waiting in queue', assigned: 'Assigned', closed: 'Conversation closed' })[state] ||
      `State: ${state}`;
  }

  function systemText(ev) {
    switch (ev.type) {
      case 'opened': {
        const page = ev.context && ev.context['context.page'];
        return 'Conversation started' + (page ? ` on ${page}` : '');
      }
      case 'state': return stateLabel(ev.state);
      case 'assigned': return `Assigned to ${ev.agent_name || ev.agent_id || 'an agent'}`;
      case 'closed': return 'Closed' + (ev.disposition ? ` · ${String(ev.disposition).replace(/_/g, ' ')}` : '') +
        (ev.agent_id ? ` by ${ev.agent_id}` : '');
      case 'context': {
        const keys = ev.values && typeof ev.values === 'object' ? Object.keys(ev.values) : [];
        return 'Context updated' + (keys.length ? `: ${keys.join(', ')}` : '');
      }
      case 'call_started': return 'Call started';
      case 'call_ended': {
        const ms = Number(ev.duration_ms) || 0;
        const s = Math.floor(ms / 1000);
        const why = ev.reason === 'caller_hangup' ? 'caller hung up' : ev.reason === 'agent_hangup' ? 'agent hung up'
          : String(ev.reason || '').replace(/_/g, ' ');
        return `Call ended${why ? ` · ${why}` : ''} · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      }
      case 'ivr': return ivrText(ev);
      case 'call_answered': {
        const s = Math.floor((Number(ev.wait_ms) || 0) / 1000);
        return `Call answered by ${ev.agent_name || ev.agent_id || 'an agent'} · waited ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      }
      case 'call_missed': return `Call ${ev.reason === 'declined' ? 'declined' : 'missed'} by ${ev.agent_id || 'an agent'}` +
        (ev.reason && ev.reason !== 'declined' ? ` · ${String(ev.reason).replace(/_/g, ' ')}` : '');
      case 'call_abandoned': {
        const s = Math.floor((Number(ev.wait_ms) || 0) / 1000);
        return `Caller hung up before an agent answered · waited ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      }
      case 'call_held': return 'Call on hold';
      case 'call_resumed': return 'Call resumed';
      case 'call_agent_lost': return `Call connection to ${ev.agent_id || 'the agent'} lost · ${String(ev.reason || '').replace(/_/g, ' ')}`;
      case 'recording': {
        const s = Math.floor((Number(ev.duration_ms) || 0) / 1000);
        return `Call recording · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      }
      case 'transcript':
        if (ev.unavailable) return `No live transcript: ${ev.unavailable}`;
        return `${ev.side === 'agent' ? 'Agent' : 'Caller'} said: “${ev.text}”`;
      case 'call_transferred':
        return `Call ${ev.warm ? 'handed over' : 'transferred'} by ${ev.agent_id || 'an agent'} to ` +
          (ev.to_agent_id || `queue ${ev.to_queue}`);
      case 'call_consult': return ev.action === 'start' ? `${ev.agent_id} consults ${ev.to_agent_id}`
        : `Consultation with ${ev.to_agent_id} ended · ${String(ev.action || '').replace(/_/g, ' ')}`;
      case 'call_monitored': return `Supervisor ${ev.agent_id} ${ev.mode === 'whisper' ? 'coaching' : 'listening'}`;
      case 'call_invite': return `${ev.agent_name || ev.agent_id || 'The agent'} invited the customer to a call`;
      case 'callback': return callbackText(ev);
      default: return ev.type;
    }
  }

  function callbackText(ev) {
    switch (ev.action) {
      case 'requested': return `Callback booked${ev.asap ? ': as soon as an agent is free' : ` for ${fmtFull(ev.due_ms)}`}` +
        (ev.phone ? ` · phone ${ev.phone}` : '');
      case 'queued': return `Callback in the queue (attempt ${ev.attempt || 1})`;
      case 'attempt': return `Callback attempt ${ev.attempt} of ${ev.max_attempts}: ringing the customer for ${ev.agent_name || 'an agent'}`;
      case 'outcome': return `Callback attempt ${ev.attempt}: ${String(ev.outcome || '').replace(/_/g, ' ')} · next at ${fmtClock(ev.next_attempt_ms)}`;
      case 'closed': return `Callback closed: ${String(ev.outcome || '').replace(/_/g, ' ')}`;
      default: return 'Callback';
    }
  }

  /** One IVR / bot step (kind, node, detail): "IVR · menu: input digits 1", "IVR said: …". */
  function ivrText(ev) {
    const who = ev.channel === 'chat' ? 'Bot' : 'IVR';
    const detail = ev.detail == null ? '' : String(ev.detail);
    switch (ev.kind) {
      case 'prompt': return `${who} said: “${detail}”`;
      case 'input': return `${who} · ${ev.node}: input ${detail}`;
      case 'choice': return `${who} · choice: ${detail}`;
      case 'queue': return `${who} · queued for ${detail}`;
      case 'hangup': return `${who} · hung up: ${detail.replace(/_/g, ' ')}`;
      default: return `${who} · ${ev.node}: ${String(ev.kind || 'step').replace(/_/g, ' ')}${detail ? ` ${detail}` : ''}`;
    }
  }

  function makeEventEl(ev) {
    const time = fmtClock(ev.ts);
    const full = fmtFull(ev.ts);
    if (ev.type === 'message') {
      const author = ['customer', 'agent', 'bot'].includes(ev.author) ? ev.author : 'system';
      return h('li', {
        class: 'tl-item tl-msg',
        'data-type': 'message',
        'data-author': author,
        'data-event-id': ev.id,
        'data-client-id': ev.client_id || null,
        'data-status': 'sent',
        title: full,
      },
      h('div', { class: 'tl-bubble', text: typeof ev.text === 'string' ? ev.text : '' }),
      h('div', { class: 'tl-meta', text: `${authorName(ev)} · ${time}` }));
    }
    if (ev.type === 'note') {
      return h('li', {
        class: 'tl-item tl-note',
        'data-type': 'note',
        'data-event-id': ev.id,
        'data-client-id': ev.client_id || null,
        'data-status': 'sent',
        title: full,
      },
      h('div', { class: 'note-label', text: `Internal note · ${ev.agent_name || ev.agent_id || 'Agent'} · ${time}` }),
      h('div', { class: 'note-text', text: typeof ev.text === 'string' ? ev.text : '' }));
    }
    const li = h('li', {
      class: 'tl-item tl-sys',
      'data-type': ev.type,
      'data-kind': ev.type === 'ivr' ? ev.kind : null,
      'data-event-id': ev.id,
      title: ev.type === 'ivr' && ev.flow ? `${full} · flow ${ev.flow}` : full,
    }, `${systemText(ev)} · ${time}`);
    if (ev.type === 'recording' && typeof ev.url === 'string' && ev.url.startsWith('/') && S.token) {
      // GET /api/recordings/... takes the agent token as ?token= (an <audio> element sends no header)
      li.append(h('audio', { controls: true, preload: 'none', class: 'tl-recording', 'data-url': ev.url,
        src: recordingUrl(ev.url) }));
    }
    return li;
  }

  function pendingMeta(p) {
    if (p.status === 'failed') return `Not delivered — ${p.error || 'rejected'}`;
    if (p.status === 'sending') return 'Sending…';
    return `${S.agent && S.agent.name ? S.agent.name : 'You'} · ${fmtClock(p.ts)}`;
  }

  function makePendingEl(p) {
    const me = S.agent && (S.agent.name || S.agent.id) || 'You';
    if (p.kind === 'note') {
      return h('li', {
        class: 'tl-item tl-note',
        'data-type': 'note',
        'data-client-id': p.client_id,
        'data-status': p.status,
        'data-event-id': p.event_id || null,
        title: fmtFull(p.ts),
      },
      h('div', { class: 'note-label', text: `Internal note · ${me} · ${p.status === 'sent' ? fmtClock(p.ts) : pendingMeta(p)}` }),
      h('div', { class: 'note-text', text: p.text }));
    }
    return h('li', {
      class: 'tl-item tl-msg',
      'data-type': 'message',
      'data-author': 'agent',
      'data-client-id': p.client_id,
      'data-status': p.status,
      'data-event-id': p.event_id || null,
      title: fmtFull(p.ts),
    },
    h('div', { class: 'tl-bubble', text: p.text }),
    h('div', { class: 'tl-meta', text: pendingMeta(p) }));
  }

  function isPendingEl(el) {
    return !el.dataset.eventId && el.dataset.status === 'sending';
  }

  /** Insert in event-id order; unacknowledged items stay at the end. */
  function insertOrdered(el) {
    const id = el.dataset.eventId;
    let ref = null;
    if (id) {
      for (let c = ui.timeline.lastElementChild; c; c = c.previousElementSibling) {
        if (c === el) continue;
        if (isPendingEl(c)) { ref = c; continue; }
        const cid = c.dataset.eventId;
        if (cid && cmpId(cid, id) > 0) { ref = c; continue; }
        break;
      }
    }
    ui.timeline.insertBefore(el, ref);
  }

  function findByClientId(clientId) {
    for (const el of ui.timeline.children) if (el.dataset.clientId === clientId) return el;
    return null;
  }

  function findByEventId(eventId) {
    for (const el of ui.timeline.children) if (el.dataset.eventId === eventId) return el;
    return null;
  }

  function renderTimeline(conv) {
    const events = Array.from(conv.events.values()).sort((a, b) => cmpId(a.id, b.id));
    const nodes = events.map(makeEventEl);
    const inEvents = new Set(events.map((e) => e.client_id).filter(Boolean));
    const pend = Array.from(conv.pending.values()).filter((p) => !inEvents.has(p.client_id));
    ui.timeline.replaceChildren(...nodes);
    for (const p of pend.sort((a, b) => a.ts - b.ts)) {
      const el = makePendingEl(p);
      if (p.event_id) insertOrdered(el);
      else ui.timeline.append(el);
    }
    scrollToBottom();
  }

  function upsertEventEl(conv, ev) {
    const stick = nearBottom();
    if (findByEventId(ev.id)) return;
    const fresh = makeEventEl(ev);
    const old = ev.client_id ? findByClientId(ev.client_id) : null;
    if (old) old.remove();
    insertOrdered(fresh);
    if (stick || (old && ev.author === 'agent')) scrollToBottom();
  }

  function upsertPendingEl(conv, p, own) {
    const stick = nearBottom();
    const old = findByClientId(p.client_id);
    if (old && old.dataset.eventId && !p.event_id) return;
    if (old && conv.events.has(old.dataset.eventId)) return; // the real event is already drawn
    const fresh = makePendingEl(p);
    if (old) old.remove();
    insertOrdered(fresh);
    if (own || stick) scrollToBottom();
  }

  // ------------------------------------------------------------ recordings

  /** GET /api/recordings/... takes the access token as ?token= (an <audio> element sends no header). */
  function recordingUrl(url) {
    return `${url}?token=${encodeURIComponent(S.token || '')}`;
  }

  /** After a refresh: players not started yet get the fresh token (the old one expires soon). */
  function refreshRecordingUrls() {
    if (!ui) return;
    for (const el of ui.timeline.querySelectorAll('audio.tl-recording[data-url]')) {
      if (el.paused && el.currentTime === 0) el.src = recordingUrl(el.dataset.url);
    }
  }

  // ------------------------------------------------------------ boot

  function boot() {
    ui = {
      loginView: $('#login-view'),
      loginForm: $('#login-form'),
      loginAgent: $('#login-agent'),
      loginPassword: $('#login-password'),
      loginSubmit: $('#login-submit'),
      loginError: $('#login-error'),
      desk: $('#desk'),
      agentStatus: $('[data-testid=agent-status]'),
      statusPill: $('.status-pill'),
      btnAvailable: $('[data-testid=status-available]'),
      btnAway: $('[data-testid=status-away]'),
      load: $('#agent-load'),
      connection: $('#connection'),
      agentName: $('#agent-name'),
      logout: $('#logout'),
      queue: $('[data-testid=queue]'),
      queueCount: $('#queue-count'),
      queueEmpty: $('#queue-empty'),
      convs: $('[data-testid=conversations]'),
      convCount: $('#conv-count'),
      convEmpty: $('#conv-empty'),
      main: $('[data-testid=conversation]'),
      placeholder: $('#placeholder'),
      convHead: $('#conv-head'),
      convAvatar: $('#conv-avatar'),
      convCustomer: $('#conv-customer'),
      convState: $('#conv-state'),
      timelineWrap: $('#timeline-wrap'),
      timeline: $('[data-testid=timeline]'),
      typingPreview: $('[data-testid=typing-preview]'),
      readonly: $('#readonly'),
      composerForm: $('#composer-form'),
      composer: $('[data-testid=composer]'),
      noteMode: $('[data-testid=note-mode]'),
      sendBtn: $('[data-testid=send]'),
      disposition: $('[data-testid=disposition]'),
      closeBtn: $('[data-testid=close]'),
      context: $('[data-testid=context]'),
      toast: $('#toast'),
    };
    ui.convs.setAttribute('role', 'listbox');
    phone = window.CGSoftphone ? window.CGSoftphone.create({
      send,
      isReady: () => S.ready,
      me: () => S.agent,
      conversation: (id) => S.convs.get(id) || null,
      label: (id) => {
        const conv = S.convs.get(id);
        return conv ? customerLabel(conv) : 'Customer';
      },
      open: openConversation,
      toast,
      audio,
      token: () => S.token,
    }) : null;
    window.AgentDesk = {
      call: () => (phone ? phone.state() : null),
      _callStats: () => (phone ? phone.stats() : Promise.resolve(null)),
      /** Supervisors: {supervisor, panelOpen, calls: [call_id], monitor: {call_id, mode, phase, connected, error}|null} */
      monitor: () => (phone ? phone.monitorState() : null),
      _monitorStats: () => (phone ? phone.monitorStats() : Promise.resolve(null)),
    };
    ui.callBadge = h('span', { class: 'call-badge', 'data-testid': 'call-badge', hidden: true });
    ui.convState.after(ui.callBadge);
    ui.inviteCall = document.getElementById('invite-call');
    ui.callbackPanel = document.getElementById('callback-panel');
    ui.callbackText = document.getElementById('callback-text');
    ui.callbackActions = document.getElementById('callback-actions');
    ui.inviteCall.addEventListener('click', () => {
      if (S.selected && send({ type: 'call_invite', conversation_id: S.selected })) toast('The customer\'s browser is ringing');
    });
    ui.callbackActions.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-outcome]');
      if (button) sendCallbackOutcome(button.dataset.outcome);
    });

    ui.loginForm.addEventListener('submit', onLoginSubmit);
    ui.logout.addEventListener('click', signOut);
    ui.btnAvailable.addEventListener('click', () => setStatus('available'));
    ui.btnAway.addEventListener('click', () => setStatus('away'));
    ui.composerForm.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
    ui.composer.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    ui.composer.addEventListener('input', onComposerInput);
    ui.noteMode.addEventListener('change', () => {
      const conv = S.convs.get(S.selected);
      if (conv) conv.note = ui.noteMode.checked;
      if (ui.noteMode.checked) stopTyping();
      else onComposerInput();
      renderComposerState();
    });
    ui.closeBtn.addEventListener('click', closeSelected);
    document.addEventListener('pointerdown', () => audio(), { once: true });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) return;
      const conv = S.convs.get(S.selected);
      if (conv && conv.unread) { conv.unread = 0; renderConvList(); }
    });
    window.addEventListener('online', () => {
      if (S.running && !S.ready) { S.attempt = 0; reconnectNow(); }
    });
    window.addEventListener('offline', () => {
      // A dead socket can take minutes to notice; trust the browser and retry with backoff.
      if (!S.running || !S.ws) return;
      const old = S.ws;
      S.ws = null;
      S.ready = false;
      S.everFailed = true;
      typing.active = false;
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try { old.close(1000); } catch (_) { /* ignore */ }
      if (phone) phone.onSocketDown();
      scheduleReconnect();
    });
    setInterval(tickWaited, 1000);

    if (S.token) startDesk();
    else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
  else boot();
})();
