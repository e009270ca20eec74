/*
 * Contact Gateway — the agent desk's softphone: the entry module (createSoftphone).
 *
 * A call routed to this agent rings (call_status "ringing" with our agent_id): a banner with the
 * caller's conversation, a ring tone made with WebAudio oscillators and a countdown. Accept takes the
 * microphone, makes this desk's own WebRTC offer (non-trickle: sent once ICE gathering is complete)
 * and sends it as call_offer; the gateway answers with call_answer and bridges us to the caller.
 * Decline sends call_decline. While connected: mute (the local track is disabled), hold / resume
 * (call_hold; the gateway confirms with call_status "connected", reason "held" or ""), hang up.
 * After the call: "after-call work" until the conversation is closed with a disposition.
 *
 * Transfers: blind (call_transfer to an agent id or a queue name) or warm (call_consult start: the caller
 * holds while the other agent's desk rings with consult: true; then complete or cancel). The consulted
 * agent's desk rings "Consultation from …"; the conversation becomes theirs (an `assigned` frame) only
 * when the first agent completes. Supervisors get a "Live calls" panel (GET /api/calls, polled while open)
 * and listen in, whisper or barge in with a separate peer connection (call_monitor).
 *
 * Media never depends on the WebSocket: a reconnect keeps the RTCPeerConnection and the call goes on.
 * Frames are described in docs/protocol.md ("Agent calls"). The desk (../main.js) owns the socket and the
 * conversations; it calls the hooks returned by createSoftphone(hooks).
 *
 * Modules: config (timings, sentences), state (P, ui, desk), ringing, call (accept, mute, hold, hang up),
 * transfer (blind, consult, after-call work), frames (what the desk forwards), render, supervisor (Live
 * calls panel), monitor (listen in, whisper, barge in).
 */

import { ClientFrame } from '../../shared/protocol.js';
import { P, desk, ui } from './state.js';
import { accept, hangUp, toggleHold, toggleMute } from './call.js';
import { board, closeLivePanel, monitorState, openLivePanel, setSupervisor } from './supervisor.js';
import { closeTransferPanel, consult, consultAction, endWrapUp, fillSuggestions, openTransferPanel, transfer } from './transfer.js';
import { decline, live, ringer, stopTickingIfIdle } from './ringing.js';
import { leaveMonitor, pcStats } from './monitor.js';
import { onAgent, onAssigned, onCallAnswer, onCallStatus, onCallSupervisors, onConversation, onError, onSocketDown, onUnassigned, onWelcome, reset } from './frames.js';
import { render, renderTransferPanel } from './render.js';
import { isAnswerKey } from './ring_keys.js';

// ------------------------------------------------------------ test hooks

function state() {
  const c = P.call;
  return {
    ringing: P.ring ? { call_id: P.ring.callId, conversation_id: P.ring.conversationId, error: P.ring.error,
      consult: P.ring.consult, from_agent_name: P.ring.fromName } : null,
    ringTone: !!ringer.timer,
    call: c ? { id: c.id, conversation_id: c.conversationId, phase: c.phase, status: c.status, reason: c.reason,
      muted: c.muted, held: c.held, connected: !!c.connectedAt, role: c.role,
      consult: c.consult ? { agent_id: c.consult.agentId, state: c.consult.state } : null,
      transfer: c.transfer ? { kind: c.transfer.kind, target: c.transfer.target } : null,
      error: c.error ? c.error.text : '' } : null,
    wrapup: P.wrap ? { conversation_id: P.wrap.conversationId, reason: P.wrap.reason, ...(P.wrap.to ? { to: P.wrap.to } : {}) }
      : null,
  };
}

/** What the softphone receives (inbound-rtp audio of the current call). */
function stats() {
  const c = P.call;
  return pcStats(c ? c.pc : null);
}

/** What the supervisor hears of the call they listen to (inbound-rtp audio of the monitor connection). */
function monitorStats() {
  const m = P.mon;
  return pcStats(m ? m.pc : null);
}

// ------------------------------------------------------------ wiring

/**
 * hooks (from the desk): send(frame) -> bool, isReady() -> bool, me() -> agent info,
 * conversation(id) -> its state or null, label(id) -> "Customer c_…", open(id) selects it,
 * closing() -> the id of the conversation being closed or null,
 * toast(text), audio() -> AudioContext or null, token() -> the agent token (for GET /api/calls).
 */
export function createSoftphone(hooks) {
  Object.assign(desk, hooks);
  const $ = (sel) => document.querySelector(sel);
  Object.assign(ui, {
    banner: $('[data-testid=cg-ring-banner]'),
    ringWho: $('[data-testid=cg-ring-caller]'),
    ringPath: $('[data-testid=cg-ring-path]'),
    ringCountdown: $('[data-testid=cg-ring-countdown]'),
    ringProgress: $('#cg-ring-progress'),
    ringError: $('[data-testid=cg-ring-error]'),
    accept: $('[data-testid=cg-accept]'),
    decline: $('[data-testid=cg-decline]'),
    ringKeys: $('[data-testid=cg-ring-keys]'),
    bar: $('[data-testid=cg-call-bar]'),
    who: $('[data-testid=cg-call-who]'),
    status: $('[data-testid=cg-call-status]'),
    timer: $('[data-testid=cg-call-timer]'),
    hint: $('#cg-call-hint'),
    supervisors: $('[data-testid=cg-call-supervisors]'),
    actions: $('#cg-call-actions'),
    mute: $('[data-testid=cg-mute]'),
    hold: $('[data-testid=cg-hold]'),
    hangup: $('[data-testid=cg-hangup]'),
    done: $('[data-testid=cg-wrap-done]'),
    wrapActions: $('[data-testid=cg-wrap-actions]'),
    wrapDisposition: $('[data-testid=cg-wrap-disposition]'),
    wrapClose: $('[data-testid=cg-wrap-close]'),
    audio: $('[data-testid=cg-remote-audio]'),
    ringTitle: $('#cg-ring-title'),
    callError: $('[data-testid=cg-call-error]'),
    transferToggle: $('[data-testid=cg-transfer-toggle]'),
    transferPanel: $('[data-testid=cg-transfer-panel]'),
    transferTarget: $('[data-testid=cg-transfer-target]'),
    transferKindAgent: $('[data-testid=cg-transfer-kind-agent]'),
    transferKindQueue: $('[data-testid=cg-transfer-kind-queue]'),
    transferBlind: $('[data-testid=cg-transfer-blind]'),
    transferConsult: $('[data-testid=cg-transfer-consult]'),
    transferClose: $('[data-testid=cg-transfer-close]'),
    transferSuggest: $('#cg-transfer-suggestions'),
    consultActions: $('#cg-consult-actions'),
    consultComplete: $('[data-testid=cg-consult-complete]'),
    consultCancel: $('[data-testid=cg-consult-cancel]'),
    liveToggle: $('[data-testid=live-calls-toggle]'),
    livePanel: $('[data-testid=live-calls-panel]'),
    liveClose: $('[data-testid=live-calls-close]'),
    liveUpdated: $('[data-testid=live-calls-updated]'),
    liveError: $('[data-testid=live-calls-error]'),
    liveList: $('[data-testid=live-calls-list]'),
    liveEmpty: $('[data-testid=live-calls-empty]'),
    bookedList: $('[data-testid=booked-callbacks]'),
    bookedEmpty: $('[data-testid=booked-callbacks-empty]'),
    bookedError: $('[data-testid=booked-callbacks-error]'),
    monitorBar: $('[data-testid=cg-monitor-bar]'),
    monitorStatus: $('[data-testid=cg-monitor-status]'),
    monitorLeave: $('[data-testid=cg-monitor-leave]'),
    monitorAudio: $('[data-testid=cg-monitor-audio]'),
  });


  ui.accept.addEventListener('click', () => { accept(); });
  ui.decline.addEventListener('click', () => decline());
  // Alt+Shift+A answers from anywhere in the desk while a call rings (ring_keys.js: why a shortcut)
  document.addEventListener('keydown', (e) => {
    if (!P.ring || ui.banner.hidden || ui.accept.disabled || !isAnswerKey(e)) return;
    e.preventDefault();
    e.stopPropagation();
    accept();
  }, true);
  ui.mute.addEventListener('click', toggleMute);
  ui.hold.addEventListener('click', toggleHold);
  ui.hangup.addEventListener('click', hangUp);
  ui.wrapDisposition.addEventListener('change', () => {
    const conv = P.wrap ? desk.conversation(P.wrap.conversationId) : null;
    if (conv) conv.disposition = ui.wrapDisposition.value; // the header offers the same when it is opened
  });
  ui.wrapClose.addEventListener('click', () => {
    // the call's conversation closed from the after-call bar, with the disposition chosen there (Done kept it open,
    // and three left open made a full agent that no call rang: an exploratory test)
    if (!P.wrap || ui.wrapClose.getAttribute('aria-disabled') === 'true') return; // (asked for already)
    if (desk.close(P.wrap.conversationId, ui.wrapDisposition.value)) render();
  });
  // where the focus was last (render.js placeFocus: a control of the call that goes away hands it on, not to <body>)
  const inCall = (el) => !!el && [ui.bar, ui.banner, ui.transferPanel].some((area) => area && area.contains(el));
  document.addEventListener('focusin', (e) => { P.focusInCall = inCall(e.target); });
  document.addEventListener('pointerdown', (e) => { if (!inCall(e.target)) P.focusInCall = false; }, true);
  ui.done.addEventListener('click', () => {
    if (P.wrap) {
      desk.send({ type: ClientFrame.WRAP_UP_DONE }); // after-call work is over: routing may give them work again
      endWrapUp();
    }
    else { P.notice = null; render(); stopTickingIfIdle(); }
  });
  ui.who.addEventListener('click', () => { if (ui.who.dataset.conversationId) desk.open(ui.who.dataset.conversationId); });
  ui.transferToggle.addEventListener('click', () => {
    if (ui.transferPanel.hidden) openTransferPanel(true);
    else closeTransferPanel();
  });
  ui.transferPanel.addEventListener('submit', (e) => { e.preventDefault(); transfer(); });
  ui.transferConsult.addEventListener('click', consult);
  ui.transferClose.addEventListener('click', closeTransferPanel);
  for (const radio of [ui.transferKindAgent, ui.transferKindQueue]) {
    radio.addEventListener('change', () => { fillSuggestions(); renderTransferPanel(); });
  }
  ui.transferPanel.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeTransferPanel(); });
  ui.consultComplete.addEventListener('click', () => consultAction('complete'));
  ui.consultCancel.addEventListener('click', () => consultAction('cancel'));
  ui.liveToggle.addEventListener('click', () => {
    if (board.open) closeLivePanel();
    else openLivePanel();
  });
  ui.liveClose.addEventListener('click', closeLivePanel);
  ui.livePanel.addEventListener('keydown', (e) => { // as the transfer panel and the menus: Escape closes it
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    e.preventDefault();
    closeLivePanel();
  });
  ui.monitorLeave.addEventListener('click', () => leaveMonitor(''));
  window.addEventListener('beforeunload', (e) => {
    if (!live(P.call)) return;
    e.preventDefault();
    e.returnValue = ''; // "you are on a call": leaving drops it and the caller goes back to the queue
  });
  render();

  return {
    onCallStatus, onCallSupervisors, onCallAnswer, onError, onWelcome, onSocketDown, onUnassigned, onAssigned, onConversation, reset,
    onAgent,
    /** Colleagues were added, renamed or left (agent_names): an open Transfer panel suggests who is there now. */
    onAgentNames: () => { if (ui.transferPanel && !ui.transferPanel.hidden) fillSuggestions(); },
    /** The desk's state the call bar shows changed (the dispositions saved anew, a close refused): draw it again. */
    redraw: () => render(),
    state, stats, setSupervisor, monitorState, monitorStats,
    /** True while a call is live (the desk uses it to label the conversation). */
    liveConversation: () => (live(P.call) ? P.call.conversationId : null),
  };
}
