// A call rings on this desk: the banner, a ring tone made with WebAudio oscillators, decline.

import { DROPPED_SHOW, RING_CYCLE, TEXT } from './config.js';
import { RingReason } from '../../shared/protocol.js';
import { P, desk, ui } from './state.js';
import { render, renderTimes } from './render.js';
import { ANSWER_KEYS, typingIn } from './ring_keys.js';

// ------------------------------------------------------------ ring tone (WebAudio, no files)

export const ringer = {
  timer: null,
  nodes: new Set(),
  start() {
    if (this.timer) return;
    this.burst();
    this.timer = setInterval(() => this.burst(), RING_CYCLE);
  },
  /** One ring: two 0.4 s bursts of 400 + 450 Hz (a familiar double ring). */
  burst() {
    const ctx = desk.audio();
    if (!ctx) return;
    try {
      if (ctx.state === 'suspended') ctx.resume().catch(() => {});
      const t0 = ctx.currentTime + 0.02;
      for (const [on, off] of [[0, 0.4], [0.6, 1.0]]) {
        const gain = ctx.createGain();
        gain.gain.setValueAtTime(0.0001, t0 + on);
        gain.gain.exponentialRampToValueAtTime(0.12, t0 + on + 0.02);
        gain.gain.setValueAtTime(0.12, t0 + off - 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + off);
        gain.connect(ctx.destination);
        for (const freq of [400, 450]) {
          const osc = ctx.createOscillator();
          osc.type = 'sine';
          osc.frequency.value = freq;
          osc.connect(gain);
          osc.onended = () => {
            this.nodes.delete(osc);
            try { gain.disconnect(); } catch (_) { /* already */ }
          };
          osc.start(t0 + on);
          osc.stop(t0 + off + 0.02);
          this.nodes.add(osc);
        }
      }
    } catch (_) { /* sound is a nicety; the banner is what counts */ }
  },
  stop() {
    clearInterval(this.timer);
    this.timer = null;
    for (const osc of this.nodes) {
      try { osc.stop(); } catch (_) { /* not started or already stopped */ }
    }
    this.nodes.clear();
  },
};

// ------------------------------------------------------------ helpers

export function live(c) {
  return !!c && c === P.call && c.phase !== 'ended';
}

export function startTicking() {
  if (!P.tick) P.tick = setInterval(renderTimes, 250);
}

export function stopTickingIfIdle() {
  if (P.tick && !P.ring && !live(P.call) && !P.wrap && !P.notice) {
    clearInterval(P.tick);
    P.tick = null;
  }
}

export function say(text) {
  if (text) desk.toast(text);
}

export function setNotice(text, ms) {
  P.notice = { text, until: Date.now() + (ms || DROPPED_SHOW) };
  startTicking();
}

// ------------------------------------------------------------ ringing

export function startRinging(f) {
  const seconds = Number(f.ring_seconds) > 0 ? Number(f.ring_seconds) : 20;
  if (P.ring && P.ring.callId === f.call_id) return; // the same ring twice (e.g. two channels)
  const consult = f.consult === true;
  // the customer answered the callback this agent holds, or this agent's invitation to a call: accepted at once
  // (frames.js), no banner, no tone (an invitation answered rang the agent again: a verifying test)
  const auto = (f.reason === RingReason.CALLBACK || f.reason === RingReason.INVITE) && !consult && !live(P.call);
  P.ring = {
    callId: f.call_id,
    conversationId: f.conversation_id,
    agentName: f.agent_name || '',
    seconds,
    deadline: Date.now() + seconds * 1000,
    error: '',
    consult,   // a colleague asks us to talk first (warm transfer): the conversation is not ours yet
    fromName: consult ? String(f.from_agent_name || f.from_agent_id || 'A colleague') : '',
    fromId: consult ? String(f.from_agent_id || '') : '',
    auto,
    ownChat: f.reason === RingReason.OWN_CHAT || f.reason === RingReason.INVITE, // declining leaves the chat with us
  };
  if (!live(P.call) && !auto) ringer.start();
  // the IVR path shows in the conversation panel; a consultation's conversation is only ours once handed over.
  // Not while the agent types: the rest of their reply went into the caller's composer (an a11y test). Then
  // Accept opens it (call.js), and the focus moves to the call's controls, away from the composer.
  if (f.conversation_id && !consult && !typingIn(document.activeElement)) desk.open(f.conversation_id);
  startTicking();
  if (auto) return; // (accept() renders the call bar)
  render();
  takeFocus();
}

/** The banner takes the focus on Accept unless the agent is typing; then it says the shortcut (ring_keys.js). */
function takeFocus() {
  const active = document.activeElement;
  const typing = typingIn(active);
  ui.ringKeys.replaceChildren(...(typing ? ['Press ', h('kbd', ANSWER_KEYS), ' to answer'] : [`${ANSWER_KEYS} answers`]));
  if (typing || ui.accept.disabled) return;
  P.ringFocusFrom = active && active !== document.body ? active : null;
  ui.accept.focus();
}

function h(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

/** The banner went away with the focus on it: back where the agent was (not lost on the page). */
export function giveFocusBack() {
  const from = P.ringFocusFrom;
  P.ringFocusFrom = null;
  if (from && from.isConnected && !from.disabled) from.focus();
  else if (document.activeElement && ui.banner.contains(document.activeElement)) document.activeElement.blur();
}

/** The ring is over for whatever reason; `text` explains it (toast) when the agent did not act. */
export function stopRinging(text) {
  if (!P.ring) return;
  P.ring = null;
  ringer.stop();
  say(text);
  render();
  stopTickingIfIdle();
}

export function decline(told) {
  if (!P.ring) return;
  const id = P.ring.callId;
  const consult = P.ring.consult;
  if (!desk.send({ type: 'call_decline', call_id: id })) {
    P.ring.error = TEXT.offline;
    render();
    return;
  }
  stopRinging(told || (consult ? TEXT.consultDeclined : P.ring.ownChat ? TEXT.declinedOwnChat : TEXT.declined));
}
