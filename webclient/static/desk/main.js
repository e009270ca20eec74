/*
 * Contact Gateway — agent desk (served at /agent): the entry module, loaded by agent.html as
 * <script type="module" src="/static/desk/main.js">.
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
 * Calls (ringing, accept, hold, hang-up, after-call work) live in phone/ (createSoftphone); the
 * desk forwards it the call frames and tells it about conversations.
 *
 * Modules: config, dom (helpers), state (S, ui, sessionStorage), session (sign-in, token refresh),
 * connection (the socket and its frames), composer (sending, selecting), conversations (the lists, the
 * conversation's panels), help_request (Ask for help; help_rules: its pure part), away_menu (the Away button's menu of
 * the center's away reasons; away_reasons: its pure part), timeline (ivr_trace); history
 * (earlier conversations, read-only view), search, canned
 * (the composer's / menu; templates: its pure part), api (HTTP with the token), drawer (the customer panel on
 * narrow screens), notify (notify_rules); phone/ (the softphone, transfers, supervisors); ../shared/ (the socket
 * with backoff, ids, text lengths, WebRTC setup, the protocol's constants).
 */

import { $, audio, customerLabel, h, toast } from './dom.js';
import { S, nameOf, ui } from './state.js';
import { closeConversation, closeSelected, onComposerInput, openConversation, setStatus, stopTyping, submit } from './composer.js';
import { createSoftphone } from './phone/main.js';
import { initNotifications } from './notify.js';
import { onLoginSubmit, showLogin, signOut, startDesk } from './session.js';
import { dispositionLabel } from './dispositions.js';
import { renderComposerState, renderConvList, sendCallbackOutcome, tickWaited } from './conversations.js';
import { send, sock } from './connection.js';
import { initCanned } from './canned.js';
import { initSearch } from './search.js';
import { setupContextDrawer } from './drawer.js';
import { emojiPicker } from '../shared/emoji.js';
import { initAttach } from './attach.js';
import { renderLoginForm } from './login_view.js';
import { openChatTransfer, transferTargets } from './chat_transfer.js';
import { initHelp } from './help_request.js';
import { initAwayMenu } from './away_menu.js';

// ------------------------------------------------------------ boot

export let phone = null;   // the softphone (phone/main.js), created at boot

function boot() {
  renderLoginForm($('#login-view'));
  Object.assign(ui, {
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
    statusChoice: $('#status-choice'),
    awayWhy: $('#away-why'),
    load: $('#agent-load'),
    presenceNote: $('#presence-note'),
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
  });
  ui.convs.setAttribute('role', 'listbox');
  phone = createSoftphone({
    send,
    isReady: () => sock.ready,
    me: () => S.agent,
    nameOf, // an agent's display name by id
    agentIds: () => transferTargets(S.agentNames, S.agent && S.agent.id, S.takesContacts).map((t) => t.id), // for transfers
    queueNames: () => S.queueNames.slice(),
    conversation: (id) => S.convs.get(id) || null,
    label: (id) => {
      const conv = S.convs.get(id);
      return conv ? customerLabel(conv) : 'Customer';
    },
    open: openConversation,
    close: closeConversation,
    closing: () => S.closing,
    dispositions: () => S.dispositions,
    dispositionLabel: (code) => dispositionLabel(S.dispositionLabels, code),
    toast,
    audio,
    token: () => S.token,
  });
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
  ui.transferChat = document.getElementById('transfer-chat');
  ui.transferChat.addEventListener('click', () => {
    if (S.selected) openChatTransfer(S.selected, send, ui.transferChat);
  });
  initHelp({ button: document.getElementById('ask-help'), next: [ui.timelineWrap], send });
  ui.callbackPanel = document.getElementById('callback-panel');
  ui.callbackText = document.getElementById('callback-text');
  ui.callbackActions = document.getElementById('callback-actions');
  ui.callbackPendingActions = document.getElementById('callback-pending-actions');
  document.getElementById('callback-cancel').addEventListener('click', () => sendCallbackOutcome('cancel'));
  ui.inviteCall.addEventListener('click', () => {
    if (S.selected && send({ type: 'call_invite', conversation_id: S.selected })) toast('The customer\'s browser is ringing');
  });
  ui.callbackActions.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-outcome]');
    if (button) sendCallbackOutcome(button.dataset.outcome);
  });

  initCanned();   // before the composer's own keys: Enter picks from an open menu instead of sending
  initSearch();
  initAttach();
  ui.loginForm.addEventListener('submit', onLoginSubmit);
  ui.logout.addEventListener('click', signOut);
  ui.btnAvailable.addEventListener('click', () => setStatus('available'));
  initAwayMenu({ button: ui.btnAway, pop: $('#away-pop'), menu: $('#away-menu'), note: $('#away-note'),
    send: (frame) => sock.ready && send(frame), plain: () => setStatus('away') });
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
  ui.contextDrawer = setupContextDrawer({ pane: $('#context-pane'), toggle: $('#context-toggle'), close: $('#context-close') });
  emojiPicker(document.getElementById('emoji-btn'), ui.composer, 'desk-emoji');
  initNotifications();
  document.addEventListener('pointerdown', () => audio(), { once: true });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    const conv = S.convs.get(S.selected);
    if (conv && conv.unread) { conv.unread = 0; renderConvList(); }
  });
  window.addEventListener('online', () => {
    if (S.running && !sock.ready) { sock.attempt = 0; sock.reconnectNow(); }
  });
  window.addEventListener('offline', () => {
    // A dead socket can take minutes to notice; trust the browser and retry with backoff.
    if (S.running) sock.dropOffline();
  });
  setInterval(tickWaited, 1000);

  if (S.token) startDesk();
  else showLogin();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();
