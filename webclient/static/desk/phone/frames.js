// What the desk forwards: call_status, call_answer, errors, the socket's ups and downs, conversations.

import { CONSULT_END, HANGUP_WAIT, TAKE_BACK_WAIT, TEXT } from './config.js';
import { P, desk, rememberCall, rememberedCall } from './state.js';
import { endRequest, endWrapUp, finish, openTransferPanel, rememberTarget, showError } from './transfer.js';
import { accept, failAccept, rejoin } from './call.js';
import { endMonitor, leaveMonitor, monitorAnswer, monitorError } from './monitor.js';
import { decline, live, ringer, say, setNotice, startRinging, startTicking, stopRinging, stopTickingIfIdle } from './ringing.js';
import { reconcileCall } from '../../shared/callstate.js';
import { render, renderBanner } from './render.js';
import { line, user } from '../event_text.js';
import { monLive, setSupervisor } from './supervisor.js';
import { lostSinceAnswered } from './losses.js';
import { callToRejoin } from './rejoin.js';
import { wrapUpStep } from './wrap_up.js';

// ------------------------------------------------------------ frames from the desk

export function onCallStatus(f) {
  if (!f || typeof f.status !== 'string' || !f.call_id) return;
  if (f.monitor) { // our own listening leg (a supervisor): ended, and why
    const m = P.mon;
    if (f.status === 'ended' && monLive(m) && m.callId === f.call_id && f.reason !== 'supervisor_hangup') {
      endMonitor(m, f.reason === 'call_transferred' ? TEXT.monitorTransferred
        : f.reason === 'agent_lost' ? TEXT.monitorAgentLost : TEXT.monitorDropped);
    }
    return;
  }
  const me = desk.me();
  if (f.status === 'ringing') {
    if (!me || f.agent_id !== me.id) return;
    startRinging(f);
    // the customer answered the callback this agent holds: they took the task already, so it connects at once
    // (no banner, no tone; if the microphone or the connection fails, it rings as usual to retry or decline)
    if (P.ring && P.ring.auto && P.ring.callId === f.call_id && !live(P.call)) accept();
    return;
  }
  if (P.ring && P.ring.callId === f.call_id) {
    const answeredElsewhere = f.status === 'connected' && !(P.call && P.call.id === f.call_id);
    let text = P.ring.consult ? TEXT.consultGone : TEXT.ringGone;
    if (P.call && P.call.id === f.call_id) text = '';   // our own accept
    else if (P.ring.consult && f.status === 'ended') {
      text = f.reason === 'consult_no_answer' ? TEXT.consultMissed
        : f.reason === 'consult_declined' ? '' : TEXT.consultGone; // declined: said already
    } else if (answeredElsewhere) text = TEXT.elsewhere;
    else if (f.status === 'waiting') text = f.reason === 'no_answer' ? TEXT.missed : ''; // declined: said already
    stopRinging(text);
  }
  const c = P.call;
  if (!live(c) && me && f.agent_id === me.id) takeBackLater(f); // our call, whose tab went: this one takes it
  if (!live(c) || c.id !== f.call_id) return;
  if (c.role === 'consultant') {
    onConsultantStatus(c, f, me);
    return;
  }
  if (f.status === 'connected') {
    if (f.agent_id && me && f.agent_id !== me.id) {
      finish(c, 'transferred'); // the call went on to another agent (a transfer or a completed consultation)
      return;
    }
    c.status = 'connected';
    if (!c.connectedAt) c.connectedAt = Date.now();
    if (c.phase === 'answered') c.rejoining = false; // (back after a rejoin: agent_reconnected)
    rememberCall(c.id);
    onConsultStep(c, f.reason || '');
    c.held = f.reason === 'held';
    c.holdPending = null;
    render();
  } else if (f.status === 'ended') {
    finish(c, f.reason || 'ended');
  } else if (f.status === 'waiting') {
    if (c.transfer || f.reason === 'transferred') {
      finish(c, 'transferred'); // a transfer to a queue: the caller waits there, with music
      return;
    }
    if (f.reason === 'agent_reconnecting') { // our leg dropped; the caller holds for us
      if (c.phase === 'answered') rejoin(null, c); // (not when our new offer is on its way already)
      c.status = 'waiting';
      render();
      return;
    }
    finish(c, 'agent_lost'); // our leg dropped: the gateway queued the caller again
    setNotice(TEXT.dropped);
    render();
  }
}

/** Our call's leg dropped with the tab that had it (call_status waiting agent_reconnecting for us, no call here):
 *  unless another tab of ours takes it back first (the call is connected again), this one offers a new leg. */
function takeBackLater(f) {
  if (f.status !== 'waiting' || f.reason !== 'agent_reconnecting') {
    if (P.orphan && P.orphan.callId === f.call_id) P.orphan = null; // taken back elsewhere, or over
    return;
  }
  const orphan = { callId: f.call_id, conversationId: f.conversation_id || '' };
  P.orphan = orphan;
  setTimeout(() => {
    if (P.orphan !== orphan || live(P.call)) return;
    P.orphan = null;
    rejoin({ call_id: orphan.callId, conversation_id: orphan.conversationId });
  }, TAKE_BACK_WAIT);
}

/** Our consultation of a colleague went a step further (call_status "connected" with a consult_* reason). */
function onConsultStep(c, reason) {
  if (reason === 'consult_ringing' || reason === 'consulting') {
    if (!c.consult) c.consult = { agentId: '', state: 'requested' }; // started in another tab
    if (c.consult.state !== 'completing') c.consult.state = reason === 'consulting' ? 'connected' : 'ringing';
    if (c.consult.agentId) rememberTarget('agent', c.consult.agentId); // the gateway took it: the colleague's desk rings
    endRequest(c);
    return;
  }
  if (reason in CONSULT_END || (c.consult && /^consult_|^call_ended$/.test(reason))) {
    const who = (c.consult && c.consult.agentId) || 'Your colleague';
    const end = CONSULT_END[reason];
    c.consult = null;
    endRequest(c);
    showError(c, end ? end(who) : 'The consultation ended — you are back with the caller.', true);
  }
}

/** The consultant's desk: the gateway tells it about its consultation on its own channel only. */
function onConsultantStatus(c, f, me) {
  if (f.status === 'ended') {
    finish(c, f.reason || 'ended');
    const text = f.reason === 'consult_cancelled'
      ? line`${user(c.fromName || 'Your colleague')} took the caller back — the consultation ended.`
      // the call ended: the caller hung up, or the colleague did (it said "the caller hung up" either way)
      : f.reason === 'call_ended' ? 'The call ended — the caller or your colleague hung up.'
        : f.reason === 'consult_declined' ? '' : TEXT.consultEnded;
    if (text) setNotice(text);
    render();
  } else if (f.status === 'connected' && me && f.agent_id === me.id && f.reason !== 'consulting') {
    takeOver(c); // the colleague completed the transfer ('transferred_to_you'): the call is ours
  }
}

/** A completed consultation: the caller and the conversation are ours now. */
function takeOver(c) {
  if (!live(c) || c.role !== 'consultant') return;
  c.role = 'agent';
  c.status = 'connected';
  c.held = false;
  rememberCall(c.id);
  if (!c.connectedAt) c.connectedAt = Date.now();
  if (c.conversationId) desk.open(c.conversationId);
  say(line`${user(c.fromName || 'Your colleague')} handed the call over to you. ${TEXT.takenOver}`);
  render();
}

/** call_supervisors: the supervisors we hear on our call now (whispering to us, or barged in); [] when they left. */
export function onCallSupervisors(f) {
  const c = P.call;
  if (!f || !live(c) || c.id !== f.call_id || !Array.isArray(f.supervisors)) return;
  c.supervisors = f.supervisors.filter((s) => s && typeof s === 'object' && (s.mode === 'whisper' || s.mode === 'barge'));
  render();
}

export function onCallAnswer(f) {
  const c = P.call;
  if (!live(c) || f.call_id !== c.id || c.phase !== 'offered') {
    monitorAnswer(f);
    return;
  }
  clearTimeout(c.timer);
  c.phase = 'answered';
  if (P.ring && P.ring.callId === c.id) { P.ring = null; ringer.stop(); }
  c.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => {
    if (!live(c)) return;
    desk.send({ type: 'hangup', call_id: c.id });
    finish(c, 'connection_failed');
    setNotice(TEXT.connectionFailed);
  });
  render();
}

/** An error frame about calls (they carry no call_id); true when it was ours to handle. */
export function onError(f) {
  const codes = ['not_ringing', 'already_answered', 'not_connected', 'bad_sdp', 'no_audio', 'transfer_refused',
    'consult_busy', 'not_consulting', 'already_monitoring', 'not_monitoring'];
  const fields = ['call_id', 'sdp', 'hold', 'agent_id', 'queue', 'action', 'mode'];
  const aboutCall = codes.includes(f.code) || fields.includes(f.field);
  if (!aboutCall) return false;
  const c = P.call;
  const message = f.message || `Error: ${f.code || 'unknown'}`;
  if (monitorError(f, message)) return true;
  if (live(c) && c.request) {
    // our transfer / consult request was refused (transfer_refused, consult_busy, not_consulting, ...)
    const what = c.request.what;
    endRequest(c);
    if (what === 'transfer') c.transfer = null;
    else if (what === 'consult_start') c.consult = null;
    else if (what === 'consult_complete' && c.consult) c.consult.state = 'connected';
    else if (what === 'consult_cancel' && f.code === 'not_consulting') c.consult = null;
    showError(c, message);
    if (what === 'transfer' || what === 'consult_start') openTransferPanel(false);
    return true;
  }
  if (live(c) && c.phase === 'offered') {
    // the accept was refused: taken in another tab, no longer ringing for us, or our SDP was rejected
    const r = P.ring;
    failAccept(c, message);
    if (r && (f.code === 'already_answered' || f.code === 'not_ringing' || f.code === 'not_found')) stopRinging();
    say(message);
  } else if (live(c) && c.holdPending !== null) {
    c.holdPending = null;
    render();
    say(message);
  } else if (live(c) && c.phase === 'hanging_up' && f.code === 'not_found') {
    finish(c, 'ended'); // the call had already ended
  } else if (P.ring && f.code === 'not_ringing') {
    stopRinging(message);
  } else if (live(c) || P.ring) {
    say(message);
  }
  return true;
}

/** After a (re)connect: the welcome's calls (this agent's, from every node; null from an older gateway). */
export function onWelcome(listed) {
  const c = P.call;
  if (live(c) && c.phase === 'hanging_up' && !c.hangupSent) {
    c.hangupSent = desk.send(c.role === 'consultant' ? { type: 'call_decline', call_id: c.id }
      : { type: 'hangup', call_id: c.id });
    clearTimeout(c.timer);
    c.timer = setTimeout(() => finish(c, 'agent_hangup'), HANGUP_WAIT);
  }
  if (live(c) && c.holdPending !== null) { // the confirmation may have been lost with the old socket
    c.held = c.holdPending;
    c.holdPending = null;
  }
  if (listed) reconcileWelcomeCalls(listed);
  render();
}

/** What the gateway says is ringing for us or connected to us now wins over what this desk last saw: a call not
 *  listed ended while the socket was away (its node lost: "interrupted"), a ring not listed is over, a listed ring
 *  rings again. A consultation is not the agent's call (not listed): its own frames end it. */
function reconcileWelcomeCalls(listed) {
  const c = P.call;
  if (!live(c)) { // this tab's call after a reload, or any call of ours whose leg the gateway saw drop
    const again = callToRejoin(listed, rememberedCall());
    if (again) {
      rejoin(again);
      return;
    }
  }
  if (live(c) && c.role === 'agent' && c.phase === 'answered'
    && listed.some((e) => e && e.call_id === c.id && e.rejoin === true)) {
    rejoin(null, c); // our leg dropped while the socket was away: the caller holds for us
  }
  if (live(c) && c.role === 'agent') {
    // media: '' — a failing leg of a call the gateway still lists is the leg's business (connection_failed)
    const verdict = reconcileCall({ id: c.id, known: c.phase === 'offered' || c.phase === 'answered', media: '' }, listed);
    if (verdict.action === 'end') {
      finish(c, verdict.reason);
    } else if (verdict.action === 'restore' && verdict.status === 'connected' && c.phase === 'answered') {
      c.status = 'connected';
      c.held = verdict.held;
      c.holdPending = null;
    }
    const entry = listed.find((e) => e && e.call_id === c.id);
    if (entry && Array.isArray(entry.supervisors)) onCallSupervisors({ call_id: c.id, supervisors: entry.supervisors });
  }
  const ids = new Set(listed.filter((e) => e && typeof e === 'object').map((e) => e.call_id));
  if (P.ring && !P.ring.consult && !ids.has(P.ring.callId)) stopRinging(TEXT.ringGone);
  const me = desk.me();
  const ringing = listed.find((e) => e && e.status === 'ringing' && typeof e.call_id === 'string');
  if (ringing && me && !P.ring && !live(P.call)) startRinging({ ...ringing, agent_id: me.id });
}

/** The socket dropped: media goes on; a ring cannot be answered without the socket (the gateway requeues it). */
export function onSocketDown() {
  if (P.ring) {
    stopRinging(P.ring.consult ? 'Connection to the gateway lost — the consultation request could not be answered.'
      : 'Connection to the gateway lost — the ringing call went back to the queue.');
  }
}

/** The conversation was taken from us (closed, or back in the queue after a missed call). */
export function onUnassigned(conversationId, reason) {
  const transferred = reason === 'transferred' || reason === 'call_transferred';
  if (P.ring && P.ring.conversationId === conversationId && !P.ring.consult) {
    stopRinging(reason === 'call_no_answer' ? TEXT.missed : (reason === 'call_declined' ? '' : TEXT.ringGone));
  }
  const c = P.call;
  if (transferred && live(c) && c.conversationId === conversationId && c.role === 'agent') {
    finish(c, 'transferred'); // handed over (blind, or a completed consultation): after-call work
    return;
  }
  // The gateway gave up on our leg (never connected within its AGENT_CONNECT_SECONDS, or dropped) and queued the
  // caller again. No call_status reaches us after this (we no longer follow the conversation), and our own peer
  // connection may go on "connecting" for good.
  if (reason === 'call_agent_lost' && live(c) && c.conversationId === conversationId && c.role === 'agent') {
    finish(c, 'agent_lost');
    setNotice(TEXT.dropped);
    render();
  }
  if (P.wrap && P.wrap.conversationId === conversationId && reason === 'customer_ended') {
    P.wrap.customerEnded = true; // the customer ended the chat: the agent's after-call work goes on until Done
    render();
    return;
  }
  if (P.wrap && P.wrap.conversationId === conversationId && !(transferred && P.wrap.reason === 'transferred')) endWrapUp();
}

/** The conversation's (last) close was its customer's End chat: after-call work on it goes on (the agent says Done). */
function endedByCustomer(conv) {
  let last = null;
  for (const ev of conv.events.values()) if (ev.type === 'closed') last = ev;
  return !!last && last.disposition === 'customer_ended';
}

/** A conversation was routed to us: after a consultation it is the consulted call, handed over. */
export function onAssigned(conversationId) {
  const c = P.call;
  if (live(c) && c.role === 'consultant' && c.conversationId === conversationId && c.phase === 'answered') takeOver(c);
}

/** Events arrived for a conversation: redraw the banner; catch a call that ended while the socket was down. */
export function onConversation(conversationId) {
  const conv = desk.conversation(conversationId);
  const c = P.call;
  if (conv && live(c) && c.conversationId === conversationId && c.phase !== 'mic') {
    const me = desk.me();
    const events = [...conv.events.values()];
    const ended = events.find((ev) => ev.call_id === c.id && ev.type === 'call_ended');
    // a loss counts only when it is our own leg's, since we answered (not another agent's, nor ours from before)
    if (ended) {
      finish(c, ended.reason || 'ended');
    } else if (c.connectedAt && lostSinceAnswered(events, c.id, me && me.id, c.lostBefore)) {
      finish(c, 'agent_lost');
      setNotice(TEXT.dropped);
    }
  }
  if (conv && conv.closed && P.wrap && P.wrap.conversationId === conversationId) {
    if (endedByCustomer(conv)) { P.wrap.customerEnded = true; render(); } else endWrapUp();
  }
  if (P.ring && P.ring.conversationId === conversationId) renderBanner();
}

/** Logging out: hang up a live call first (the caller would otherwise be requeued as a dropped agent). */
export function reset() {
  const c = P.call;
  if (live(c)) {
    if (c.phase === 'offered' || c.phase === 'answered') {
      desk.send(c.role === 'consultant' ? { type: 'call_decline', call_id: c.id } : { type: 'hangup', call_id: c.id });
    }
    finish(c, 'agent_hangup');
  }
  leaveMonitor('');
  setSupervisor(false);
  P.ring = null;
  ringer.stop();
  P.call = null;
  P.wrap = null;
  P.notice = null;
  render();
  stopTickingIfIdle();
}

/** The agent's presence changed (an `agent` frame): after-call work the gateway ended (it ran out, Available was
 * pressed in another tab) is said to be over on this desk too; the bar stays, to close the conversation or keep it
 * open (taking it away while the agent chose a disposition left the conversation open and counting). */
export function onAgent(agent, { welcome = false } = {}) {
  const activity = agent && typeof agent.activity === 'string' ? agent.activity : '';
  if (welcome && activity === 'wrap_up' && !P.wrap && !live(P.call) && typeof agent.activity_conversation === 'string'
      && agent.activity_conversation) {
    // a desk (re)loaded during after-call work: its bar again, to close the conversation or keep it open (the pill
    // said "After-call work" with no bar, no Close, no hint: an exploratory test)
    P.wrap = { conversationId: agent.activity_conversation, since: Number(agent.activity_since) || Date.now(),
      reason: '', durationMs: 0 };
    startTicking();
    render();
  }
  if (agent && agent.status === 'away' && P.ring && P.ring.consult && !live(P.call)) {
    // away while a colleague's consultation rings (any tab of theirs): declined at once, the colleague is back with
    // the caller instead of waiting out the ring (a call ringing for them the gateway passes on by itself); not
    // once this tab is answering it (Accept pressed: connecting)
    decline(TEXT.consultDeclinedAway);
  }
  const step = wrapUpStep(P.wrapSeen, activity);
  P.wrapSeen = step.seen;
  if (step.over && P.wrap && !live(P.call)) {
    P.wrap.over = true;
    render();
  }
}
