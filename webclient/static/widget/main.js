/*
 * Contact Gateway — customer "Contact us" widget: the entry module.
 *
 * Embed on any site with one tag:
 *   <script src="https://HOST/widget.js" data-gateway="https://HOST"></script>
 * An absent or empty data-gateway means "the origin this script was loaded from".
 *
 * Everything renders inside <cg-widget id="cg-widget"> with an open shadow root, so the
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
 * Optional data-context='{"plan": "gold"}' (or ContactGateway.setContext({...})) gives the flows context.<key>
 * variables for the next conversation: the customer's word, never proof (page_context.js).
 *
 * These modules are joined into the one classic script served at /widget.js (webclient/joiner.py): the
 * modules in import order in one function scope, widget.css inlined. Modules: config, storage, state,
 * template, panel, appearance (the admin's title, colours, greeting; the direction, from direction.js), timeline,
 * chat (and length: a message's limit), attach (and refused: the notes of uploads that did not arrive), callback,
 * call (and mic_policy: may this page use the microphone), callbar (and call_duration), captions (and caption_text),
 * connection,
 * rating (satisfaction question), end_chat (the foot's "End chat" and its confirmation; its rules in end_chat_rules),
 * tools (emoji picker, transcript download); the socket, ids, text, links, emoji,
 * transcript, upload and WebRTC helpers come from ../shared/.
 */

import { DRAFT_KEY, OPEN_KEY, SCRIPT, TOKEN_KEY } from './config.js';
import { W, bubbles, loadState, resolved, saveNow, saveTimer } from './state.js';
import { autoGrow, buildDom, close, open, renderStatus, ui } from './panel.js';
import { callState, callStats, onBeforeUnload, onPageHide } from './callbar.js';
import { captionsState } from './captions.js';
import { clearHistory, handleEvent, renderPending } from './timeline.js';
import { ringTone } from './callback.js';
import { sessionGet, store } from './storage.js';
import { sock } from './connection.js';
import { mountAttach, renderRefused } from './attach.js';
import { renderLimit } from './chat.js';
import { applyDirection } from './appearance.js';
import { parseAttribute, setPageContext } from './page_context.js';

// ------------------------------------------------------------ boot

function boot() {
  loadState();
  setPageContext(parseAttribute(SCRIPT ? SCRIPT.getAttribute('data-context') : ''));
  buildDom();
  applyDirection();   // the widget language's direction (direction.js), before the first paint
  mountAttach();
  for (const ev of W.cache) handleEvent(ev, false, true);
  renderRefused();   // uploads that did not arrive, in their places (refused.js)
  for (const entry of W.outbox.slice()) {
    if (bubbles.has(entry.client_id)) continue; // already delivered per the cache
    renderPending(entry);
  }
  W.outbox = W.outbox.filter((e) => !resolved.has(e.client_id));
  const draft = sessionGet(DRAFT_KEY);
  if (draft) { ui.input.value = draft; autoGrow(); renderLimit(false); } // the message being written before a reload
  renderStatus();
  if (sessionGet(OPEN_KEY) === '1') open({ focus: false }); // open again as it was, the page's focus left alone

  window.addEventListener('online', () => {
    if (!sock.ready) { sock.attempt = 0; sock.reconnectNow(); }
  });
  window.addEventListener('offline', () => {
    // The socket may take minutes to notice; treat the browser's word as final.
    sock.dropOffline();
    renderStatus();
  });
  window.addEventListener('beforeunload', onBeforeUnload);
  window.addEventListener('pagehide', () => {
    onPageHide();
    if (saveTimer) saveNow();
  });
  sock.connect();
}

/** The site's context for the flows (`context.<key>`): for the conversation opened after it (the next hello). */
function setContext(given) {
  setPageContext(given);
  sock.reconnectNow();
}

/** The site logged its customer in (a signed customer token) or out (null): reconnect as that customer. */
function identify(signed) {
  const next = typeof signed === 'string' ? signed.trim() : '';
  if (next === W.customerToken) return;
  const leaving = !!W.customerToken && !next;
  W.customerToken = next;
  if (leaving) { // a logged-out visitor must not see the logged-in customer's conversation
    W.token = null;
    W.customerId = null;
    store.remove(TOKEN_KEY);
    clearHistory();
    saveNow();
  }
  sock.reconnectNow();
}

// One widget per page: a second copy of the tag (or of the script) does nothing.
if (!window.ContactGateway && !document.getElementById('cg-widget')) {
  window.ContactGateway = {
    identify,
    setContext,
    open: () => { if (ui.root) open(); },
    close: () => { if (ui.root) close(false); },
    state: () => ({
      connected: !!(sock.ready && sock.open),
      customer_id: W.customerId,
      conversation_id: W.conv.id,
      outbox: W.outbox.length,
      call: callState(),
      captions: captionsState(),
      callback: W.callback ? { ...W.callback } : null,
      incoming: ui.root ? !ui.incoming.hidden : false,
      invite: W.invite ? { ...W.invite } : null,
      ringTone: !!ringTone,
    }),
    _callStats: () => callStats(),
  };

  if (document.body) boot();
  else document.addEventListener('DOMContentLoaded', boot, { once: true });
}
