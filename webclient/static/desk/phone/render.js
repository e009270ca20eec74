// Rendering: the ringing banner, the call bar, the transfer panel, the timers.

import { ENDED_REASON, TEXT } from './config.js';
import { P, desk, ui } from './state.js';
import { callTimeText } from '../../shared/text.js';
import { canControl, closeTransferPanel, targetText, transferKind } from './transfer.js';
import { giveFocusBack, live, stopRinging, stopTickingIfIdle } from './ringing.js';
import { ringPath } from './ring_path.js';
import { line, plain, supervisorsText, user } from '../event_text.js';
import { partNodes } from '../dom.js';
import { focusFirst, focusLost, setPending } from '../../shared/focus.js';

/** The call's status, its hint and its supervisors line are each in a live region (role=status): written only when
 * their words change, or they are read again (render() runs on every frame of the call). */
function setLive(el, parts) {
  const list = typeof parts === 'string' ? [parts] : parts;
  const said = plain(list);
  if (el.dataset.said === said) return;
  el.dataset.said = said;
  el.replaceChildren(...partNodes(list));
}

function setStatus(parts) {
  setLive(ui.status, parts);
}

/** A button's words, set only when they change (a screen reader re-reads a button whose text is replaced). */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

// ------------------------------------------------------------ rendering

/** What the caller did before ringing us (ring_path.js), from the conversation's events the desk holds. */
function ivrPath(conversationId) {
  const conv = desk.conversation(conversationId);
  if (!conv) return [];
  const events = Array.from(conv.events.values()).sort((a, b) => (a.ts || 0) - (b.ts || 0));
  return ringPath(events, conv.summary);
}

export function renderBanner() {
  if (!ui.banner) return;
  // the call bar says "Connecting…" (also for an answered callback, accepted at once unless that failed)
  const accepting = !!P.ring && ((live(P.call) && P.call.id === P.ring.callId) || (P.ring.auto && !P.ring.error));
  const focused = ui.banner.contains(document.activeElement);
  ui.banner.hidden = !P.ring || accepting;
  if (!P.ring || accepting) {
    if (focused && accepting) P.focusTo = 'call'; // answered: on to the call's controls (once the bar shows)
    else if (focused) giveFocusBack();
    return;
  }
  ui.banner.dataset.callId = P.ring.callId;
  ui.banner.dataset.conversationId = P.ring.conversationId || '';
  ui.banner.dataset.consult = String(P.ring.consult);
  if (ui.ringTitle) ui.ringTitle.textContent = P.ring.consult ? TEXT.consultRing : TEXT.incoming;
  ui.ringWho.replaceChildren(...partNodes(P.ring.consult ? line`Consultation from ${user(P.ring.fromName)}`
    : [user(desk.label(P.ring.conversationId))]));
  const steps = P.ring.consult ? [['The caller is on hold while you talk']] : ivrPath(P.ring.conversationId);
  ui.ringPath.replaceChildren(...steps.map((parts) => {
    const li = document.createElement('li');
    li.append(...partNodes(parts));
    li.title = plain(parts); // (a long one is cut with an ellipsis)
    return li;
  }));
  ui.ringPath.hidden = steps.length === 0;
  const busy = live(P.call);
  ui.accept.disabled = busy;
  ui.accept.title = busy ? TEXT.cannotWhileOnCall : 'Answer with your microphone';
  const error = P.ring.error || (busy ? TEXT.cannotWhileOnCall : '');
  ui.ringError.hidden = !error;
  ui.ringError.textContent = error;
  renderTimes();
}

function callStatusText(c) {
  if (c.phase === 'mic') return TEXT.mic;
  if (c.phase === 'hanging_up') return c.hangupSent ? TEXT.hangingUp : TEXT.hangingUpOffline;
  if (c.role === 'consultant') {
    if (c.phase !== 'answered' || c.status !== 'connected') return TEXT.consultConnecting;
    return c.reconnecting ? TEXT.reconnecting : line`Consultation with ${user(c.fromName || 'a colleague')}`;
  }
  if (c.rejoining) return TEXT.rejoining; // our leg dropped: a new one for the same call
  if (c.phase !== 'answered' || c.status !== 'connected') return TEXT.connecting;
  if (c.reconnecting) return TEXT.reconnecting;
  if (c.transfer) return line`Transferring to ${user(targetText(c.transfer))}…`;
  if (c.consult) {
    const who = user(c.consult.agentId || 'a colleague');
    if (c.consult.state === 'completing') return line`Handing the caller over to ${who}…`;
    return c.consult.state === 'connected' ? line`Consulting ${who}` : line`Consulting ${who}…`;
  }
  return c.held ? TEXT.held : TEXT.connected;
}

function callHintText(c) {
  if (c.phase !== 'answered' || c.phase === 'hanging_up') return '';
  if (c.role === 'consultant') {
    return c.status === 'connected' ? line`The caller is on hold. ${user(c.fromName || 'Your colleague')} may hand the call over to you.` : '';
  }
  if (c.consult) {
    if (c.consult.state === 'connected') return 'The caller hears music and cannot hear you.';
    if (c.consult.state === 'completing') return '';
    return line`Ringing ${user(c.consult.agentId || 'your colleague')} — the caller hears music.`;
  }
  if (c.transfer) return 'The caller hears: “Please hold while I transfer your call.”';
  return '';
}

export function renderTransferPanel() {
  if (!ui.transferPanel || ui.transferPanel.hidden) return;
  const c = P.call;
  const ok = canControl(c);
  const queue = transferKind() === 'queue';
  ui.transferTarget.placeholder = queue ? 'Queue name, e.g. billing' : 'Agent ID, e.g. bob';
  ui.transferTarget.setAttribute('aria-label', queue ? 'Queue name' : 'Agent ID');
  ui.transferBlind.disabled = !ok;
  ui.transferConsult.disabled = !ok || queue;
  ui.transferConsult.title = queue ? 'Consulting works with an agent, not a queue'
    : 'Warm transfer: talk to the agent first while the caller holds';
}

function renderBar() {
  if (!ui.bar) return;
  const c = P.call;
  let status = null;
  if (live(c)) {
    status = c.phase === 'hanging_up' ? 'ending' : c.rejoining ? 'reconnecting'
      : (c.phase === 'answered' && c.status === 'connected')
      ? (c.role === 'consultant' || c.consult ? 'consulting' : c.transfer ? 'transferring' : c.held ? 'held' : 'connected')
      : 'connecting';
  } else if (P.wrap) {
    status = 'wrapup';
  } else if (P.notice && Date.now() < P.notice.until) {
    status = 'notice';
  }
  ui.bar.hidden = !status;
  if (!status) return;
  ui.bar.dataset.status = status;
  ui.bar.dataset.role = live(c) ? c.role : '';
  const convId = live(c) ? c.conversationId : P.wrap ? P.wrap.conversationId : null;
  const consultant = live(c) && c.role === 'consultant'; // not our conversation (yet): nothing to open
  ui.who.hidden = !convId || consultant;
  ui.who.textContent = convId && !consultant ? desk.label(convId) : '';
  ui.who.dataset.conversationId = convId && !consultant ? convId : '';
  if (live(c)) {
    // names in them isolated (<bdi>): an override in a colleague's name stays in the name
    setStatus(callStatusText(c));
    const hint = callHintText(c);
    ui.hint.hidden = !hint.length;
    setLive(ui.hint, hint);
    renderSupervisors(c.phase === 'hanging_up' ? [] : c.supervisors || []);
  } else if (P.wrap) {
    let why = ENDED_REASON[P.wrap.reason] || 'Call ended';
    if (P.wrap.reason === 'transferred' && P.wrap.to) why = `Transferred to ${P.wrap.to}`;
    setStatus(P.wrap.over ? TEXT.wrapupOver : TEXT.wrapup);
    ui.hint.hidden = false;
    // talk time (from the answer): the timeline's "Call ended · m:ss" counts the whole call, the IVR and the wait too
    setLive(ui.hint, `${why}${P.wrap.durationMs ? ` after ${callTimeText(P.wrap.durationMs)} of talk` : ''}. ` +
      (P.wrap.reason === 'transferred' ? 'The conversation is theirs now; press Done when you are ready.'
        : P.wrap.customerEnded ? 'The customer ended the chat; press Done when you are ready.'
        : P.wrap.over ? TEXT.wrapupOverHint : TEXT.wrapupHint));
  } else {
    setStatus(Array.isArray(P.notice.text) ? P.notice.text : [P.notice.text]);
    ui.hint.hidden = true;
    setLive(ui.hint, '');
  }
  if (!live(c)) renderSupervisors([]);
  const inCall = live(c);
  ui.actions.hidden = !inCall;
  ui.done.hidden = inCall;
  const error = inCall && c.error && Date.now() < c.error.until ? c.error : null;
  ui.callError.hidden = !error;
  ui.callError.textContent = error ? error.text : '';
  ui.callError.dataset.kind = error && error.info ? 'info' : 'error';
  const consulting = inCall && c.role === 'agent' && !!c.consult && c.phase !== 'hanging_up';
  ui.consultActions.hidden = !consulting;
  if (consulting) {
    ui.consultComplete.disabled = c.consult.state !== 'connected' || !!c.request;
    ui.consultComplete.title = c.consult.state === 'connected' ? `Hand the caller over to ${c.consult.agentId}`
      : 'Possible once your colleague has answered';
    ui.consultCancel.disabled = c.consult.state === 'completing' || !!c.request;
  }
  if (inCall) {
    const answered = c.phase === 'answered';
    // toggles: one fixed name and aria-pressed ("Mute, pressed"; not "Unmute, pressed"). Mute waits for the
    // microphone and Hold for the gateway's word as aria-disabled: the focus stays on them (call.js ignores them)
    ui.mute.disabled = c.phase === 'hanging_up';
    setPending(ui.mute, !c.mic);
    ui.mute.setAttribute('aria-pressed', String(c.muted));
    ui.mute.title = c.muted ? 'Your microphone is off: press to turn it on' : 'Turn your microphone off';
    const holding = c.holdPending !== null ? c.holdPending : c.held;
    ui.hold.hidden = c.role !== 'agent';
    ui.hold.disabled = !answered || c.status !== 'connected' || !canControl(c);
    setPending(ui.hold, c.holdPending !== null);
    ui.hold.setAttribute('aria-pressed', String(holding));
    ui.hold.title = holding ? 'The caller is on hold: press to resume' : 'Put the caller on hold (they hear music)';
    ui.transferToggle.hidden = c.role !== 'agent';
    ui.transferToggle.disabled = !canControl(c);
    ui.transferToggle.title = 'Transfer to another agent or a queue, or consult a colleague first';
    setPending(ui.hangup, c.phase === 'hanging_up'); // (hangUp() ignores it meanwhile)
    setText(ui.hangup, c.role === 'consultant' ? 'Leave' : 'Hang up');
    ui.hangup.title = c.role === 'consultant' ? 'End the consultation; the caller goes back to your colleague' : '';
  }
  if (!inCall || ui.transferToggle.disabled) closeTransferPanel();
  else renderTransferPanel();
  const closable = wrapClosable();
  ui.wrapActions.hidden = !closable;
  if (closable) renderWrapClose();
  setText(ui.done, closable ? 'Keep open' : P.wrap ? 'Done' : 'Dismiss');
  ui.done.title = closable ? 'End after-call work and keep the conversation open (it counts toward your capacity until closed)'
    : P.wrap ? 'Hide the after-call bar' : '';
  renderTimes();
}

/** After-call work for a conversation still ours and open: the bar closes it (not one handed on or closed). */
function wrapClosable() {
  if (!P.wrap || live(P.call) || P.wrap.reason === 'transferred') return false;
  const conv = desk.conversation(P.wrap.conversationId);
  return !!conv && !conv.closed && !conv.returned;
}

/** The after-call bar's dispositions (the center's, rebuilt only when they change) and its Close. */
function renderWrapClose() {
  const options = desk.dispositions();
  const sel = ui.wrapDisposition;
  if (sel.dataset.options !== options.join('\n')) {
    const current = sel.value;
    sel.replaceChildren(...options.map((d) => {
      const o = document.createElement('option');
      o.value = d;
      o.textContent = desk.dispositionLabel(d);
      return o;
    }));
    sel.dataset.options = options.join('\n');
    if (options.includes(current)) sel.value = current;
  }
  if (sel.dataset.conversation !== P.wrap.conversationId) {
    // each call's own: the one chosen after the last call is not this one's (the header's choice for it, if any)
    const conv = desk.conversation(P.wrap.conversationId);
    sel.value = conv && options.includes(conv.disposition) ? conv.disposition : (options[0] || '');
    sel.dataset.conversation = P.wrap.conversationId;
  }
  ui.wrapClose.disabled = !options.length;
  // asked for: aria-disabled, the focus stays on it until the conversation is closed and the bar changes
  setPending(ui.wrapClose, !!desk.closing && desk.closing() === P.wrap.conversationId);
}

/** "Sara is whispering to you" / "Sara joined the call": the supervisors the agent hears (call_supervisors). */
function renderSupervisors(list) {
  if (!ui.supervisors) return;
  const parts = supervisorsText(list);
  ui.supervisors.hidden = !parts.length;
  ui.supervisors.dataset.modes = list.map((s) => s.mode).join(' ');
  setLive(ui.supervisors, parts);
}

/** The countdown, the call timer and the after-call timer (every 250 ms while something is on screen). */
export function renderTimes() {
  const now = Date.now();
  if (P.ring) {
    const left = Math.max(0, P.ring.deadline - now);
    const text = `Answer within ${Math.ceil(left / 1000)} s`;
    if (ui.ringCountdown.textContent !== text) ui.ringCountdown.textContent = text;
    ui.ringCountdown.dataset.seconds = String(Math.ceil(left / 1000));
    if (ui.ringProgress) ui.ringProgress.style.transform = `scaleX(${left / (P.ring.seconds * 1000)})`;
    if (left <= 0 && !(live(P.call) && P.call.id === P.ring.callId)) {
      stopRinging(P.ring.consult ? TEXT.consultMissed : TEXT.missed); // the gateway has given the call back by now
      return;
    }
  }
  if (P.notice && now >= P.notice.until) {
    P.notice = null;
    renderBar();
  }
  if (live(P.call) && P.call.error && now >= P.call.error.until) {
    P.call.error = null;
    renderBar();
  }
  const c = P.call;
  let text = '';
  if (live(c) && c.connectedAt) text = callTimeText(now - c.connectedAt);
  else if (!live(c) && P.wrap) text = callTimeText(now - P.wrap.since);
  if (ui.timer && ui.timer.textContent !== text) ui.timer.textContent = text;
  if (ui.timer) ui.timer.hidden = !text;
  stopTickingIfIdle();
}

export function render() {
  renderBanner();
  renderBar();
  placeLivePanel();
  placeFocus();
}

/** The focus moves on purpose: to the call's controls once answered (P.focusTo), or, when the control that had it
 * in the call bar, the banner or the transfer form went away (hung up, closed, done), to the next sensible one. */
function placeFocus() {
  const to = P.focusTo;
  P.focusTo = null;
  if (!to && !(P.focusInCall && focusLost(document.activeElement))) return;
  const call = [ui.mute, ui.hangup];
  const wrap = [ui.wrapDisposition, ui.wrapClose, ui.done];
  const page = [document.querySelector('[data-testid=composer]'), document.querySelector('.conv-item[aria-selected=true]'),
    document.querySelector('[data-testid=status-available]')];
  focusFirst(live(P.call) ? [...call, ...wrap, ...page] : [...wrap, ...call, ...page]);
}

/** A supervisor's Live calls panel opens under the call bar while there is one: it covered Mute, Hold, Transfer
 * and Hang up of their own call (an exploratory test). Under the header only, otherwise (the stylesheet's top). */
export function placeLivePanel() {
  if (!ui.livePanel || ui.livePanel.hidden) return;
  const bar = ui.bar && !ui.bar.hidden ? ui.bar.getBoundingClientRect() : null;
  ui.livePanel.style.top = bar && bar.height ? `${Math.round(bar.bottom + 6)}px` : '';
}
