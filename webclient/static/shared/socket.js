// The signaling socket shared by the widget and the desk: one WebSocket at a time, a hello on open, a welcome
// expected within welcomeTimeout, and on any loss a reconnect after an exponential backoff with jitter.
// A close with CloseCode.STORE_UNAVAILABLE (the gateway's Redis is down for a moment: nothing is wrong with
// this client) is retried after STORE_RETRY, jittered, without growing the backoff: the page is back as soon
// as Redis is, not after the backoff a long outage would have built up. A close with CloseCode.RESTARTING (the
// node stops or drains: another node takes this client) is retried after RESTART_RETRY, jittered, likewise.
// The socket owns reconnection; the page owns what the frames mean (and what is resent after a welcome).

import { CloseCode } from './protocol.js';

export const BACKOFF_MIN = 500;
export const BACKOFF_MAX = 15000;
export const MAX_ATTEMPT = 16;
export const STORE_RETRY = 1000;   // after a hello refused with store_unavailable: in [STORE_RETRY/2, STORE_RETRY)
export const RESTART_RETRY = 200;  // after a node closed for a restart or a drain: in [RESTART_RETRY/2, RESTART_RETRY)

/** The wait before reconnect number attempt+1: base = min(max, min * 2^attempt), jitter in [base/2, base). */
export function backoffDelay(attempt, random = Math.random, min = BACKOFF_MIN, max = BACKOFF_MAX) {
  const base = Math.min(max, min * 2 ** attempt);
  return base / 2 + random() * (base / 2);
}

/** How soon (ms, jittered) to reconnect after this close, when it says nothing is wrong with this client; else null. */
function soonAfter(e) {
  if (e && e.code === CloseCode.STORE_UNAVAILABLE) return STORE_RETRY;
  if (e && e.code === CloseCode.RESTARTING) return RESTART_RETRY;
  return null;
}

export class SignalingSocket {
  /**
   * url(): where to connect; hello(): the first frame; onFrame(frame): every JSON object received;
   * onClose(event) -> false: the page handles this close itself (no reconnect); onDown(event or null): the
   * socket went down (null: dropped because the browser went offline); onChange(): connecting or waiting;
   * enabled() -> false: stay down. WebSocket, setTimeout, clearTimeout and random may be replaced (tests).
   */
  constructor({ url, hello, onFrame, onClose = () => true, onDown = () => {}, onChange = () => {},
    enabled = () => true, welcomeTimeout = 10000, WebSocket = globalThis.WebSocket,
    setTimeout = globalThis.setTimeout.bind(globalThis), clearTimeout = globalThis.clearTimeout.bind(globalThis),
    random = Math.random }) {
    Object.assign(this, { url, hello, onFrame, onClose, onDown, onChange, enabled, welcomeTimeout });
    this.WebSocket = WebSocket;
    this.timers = { setTimeout, clearTimeout };
    this.random = random;
    this.ws = null;
    this.ready = false;        // a welcome arrived on the current socket
    this.attempt = 0;
    this.retryTimer = null;
    this.everFailed = false;   // a connection failed or dropped since the last welcome
  }

  connect() {
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.enabled() || this.ws) return;
    this.ready = false;
    this.onChange();
    let sock;
    try {
      sock = new this.WebSocket(this.url());
    } catch (_) {
      this.everFailed = true;
      this.scheduleReconnect();
      return;
    }
    this.ws = sock;
    sock.onopen = () => {
      if (this.ws !== sock) return;
      sock.send(JSON.stringify(this.hello()));
      // No welcome in time: drop it and go through the normal backoff.
      this.timers.setTimeout(() => { if (this.ws === sock && !this.ready) sock.close(); }, this.welcomeTimeout);
    };
    sock.onmessage = (e) => {
      if (this.ws !== sock) return;
      let frame;
      try { frame = JSON.parse(e.data); } catch (_) { return; }
      if (frame && typeof frame === 'object') this.onFrame(frame);
    };
    sock.onclose = (e) => {
      if (this.ws !== sock) return;
      if (this.onClose(e) === false) return;
      this.ws = null;
      this.ready = false;
      this.everFailed = true;
      this.onDown(e);
      this.scheduleReconnect(soonAfter(e));
    };
    sock.onerror = () => { /* onclose follows */ };
  }

  /** The page got its welcome: the connection counts as up, the backoff starts over. */
  welcomed() {
    this.ready = true;
    this.attempt = 0;
    this.everFailed = false;
  }

  /** Reconnect after the backoff (which then grows), or after about `soon` ms (the backoff stays as it is). */
  scheduleReconnect(soon = null) {
    if (!this.enabled()) return;
    this.timers.clearTimeout(this.retryTimer);
    const delay = soon === null ? backoffDelay(this.attempt, this.random) : soon / 2 + this.random() * (soon / 2);
    if (soon === null) this.attempt = Math.min(this.attempt + 1, MAX_ATTEMPT);
    this.retryTimer = this.timers.setTimeout(() => this.connect(), delay);
    this.onChange();
  }

  /** Drop the current socket (if any) without its close handlers and connect again right away. */
  reconnectNow() {
    this.detach();
    this.connect();
  }

  /** The browser says it is offline (a dead socket can take minutes to notice): drop it, retry with backoff. */
  dropOffline() {
    if (!this.ws) return false;
    this.detach();
    this.everFailed = true;
    this.onDown(null);
    this.scheduleReconnect();
    return true;
  }

  /** Stop (log out): no socket, no reconnect pending, the backoff starts over; enabled() should now say false. */
  stop(reason) {
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.detach(reason);
    this.attempt = 0;
    this.everFailed = false;
  }

  detach(reason) {
    const old = this.ws;
    this.ws = null;
    this.ready = false;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try { old.close(1000, reason); } catch (_) { /* ignore */ }
    }
  }

  get open() {
    return !!this.ws && this.ws.readyState === this.WebSocket.OPEN;
  }

  /** Sends one frame now; false when the socket is not open (the page keeps what must go later). */
  send(obj) {
    if (!this.open) return false;
    try {
      this.ws.send(JSON.stringify(obj));
      return true;
    } catch (_) {
      return false;
    }
  }
}
