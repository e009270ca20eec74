/*
 * Contact Gateway — the agent desk's softphone (this file at /static/softphone.js, loaded before agent.js).
 *
 * A call routed to this agent rings (call_status "ringing" with our agent_id): a banner with the
 * caller's conversation, a ring tone made with WebAudio oscillators and a countdown. Accept takes the
 * microphone, makes this desk's own WebRTC offer (non-trickle: sent once ICE gathering is complete)
 * and sends it as call_offer; the gateway answers with call_answer and bridges us to the caller.
 * Decline sends call_decline. While connected: mute (the local track is disabled), hold / resume
 * (call_hold; the gateway confirms with call_status "connected", reason "held" or ""), hang up.
 * After the call: "after-call work" until the conversation is closed with a disposition.
 *
 * Media never depends on the WebSocket: a reconnect keeps the RTCPeerConnection and the call goes on.
 * Frames are described in docs/protocol.md ("Agent calls"). agent.js owns the socket and the
 * conversations; it calls the hooks returned by CGSoftphone.create(desk).
 */
(() => {
  'use strict';

  const SCRIPT = document.currentScript;
  const ICE_WAIT = 3000;            // at most this long for ICE gathering (the offer carries what was found)
  const SOCKET_WAIT = 8000;         // a reconnecting socket gets this long before an accept gives up
  const ANSWER_WAIT = 15000;        // call_offer -> call_answer
  const HANGUP_WAIT = 5000;         // after "hangup", wait this long for "ended" before closing the media
  const HANGUP_OFFLINE_WAIT = 20000; // hung up while the socket was down: keep the media so long for a reconnect
  const HOLD_WAIT = 5000;           // call_hold unconfirmed this long: the gateway was already in that state
  const DROPPED_SHOW = 10000;
  const RING_CYCLE = 3000;
  const MAX_SDP_CHARS = 12 * 1024;  // gateway/protocol.py MAX_SDP_CHARS

  const TEXT = {
    incoming: 'Incoming call',
    cannotWhileOnCall: 'Finish your current call to take this one.',
    mic: 'Waiting for the microphone…',
    connecting: 'Connecting…',
    connected: 'Connected',
    held: 'On hold — the caller hears music',
    reconnecting: 'Connection unstable — reconnecting…',
    hangingUp: 'Hanging up…',
    hangingUpOffline: 'Hanging up… (waiting for the connection to the gateway)',
    wrapup: 'After-call work',
    wrapupHint: 'Finish your notes, then close the conversation with a disposition.',
    micBlocked: 'Microphone access was blocked. Allow the microphone for this site in your browser settings, then accept again.',
    noMic: 'No microphone found. Connect a headset and accept again.',
    micBusy: 'Your microphone is in use by another app. Close it and accept again.',
    micFailed: 'The microphone could not be started.',
    unsupported: 'Calls need a browser with microphone support on a secure (https) page.',
    offline: 'Not connected to the gateway — the call could not be answered.',
    noAnswer: 'The gateway did not answer. The call goes back to the queue.',
    connectionFailed: 'The call connection failed. The caller goes back to the queue.',
    dropped: 'The call connection dropped. The caller went back to the queue.',
    missed: 'Missed call — it went back to the queue and your status is now Away.',
    declined: 'Call declined — it went back to the queue and your status is now Away.',
    elsewhere: 'The call was answered in another tab.',
    ringGone: 'The caller is no longer waiting for you.',
  };

  const ENDED_REASON = {
    caller_hangup: 'Caller hung up',
    agent_hangup: 'You hung up',
    gateway_shutdown: 'The gateway restarted',
    ice_failed: 'The caller\'s connection failed',
    ice_timeout: 'The caller\'s connection timed out',
    connection_closed: 'The caller\'s connection closed',
  };

  function timeText(ms) {
    const s = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
    const hr = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return hr ? `${hr}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  }

  function micProblem(err) {
    const name = err && err.name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return TEXT.micBlocked;
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return TEXT.noMic;
    if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return TEXT.micBusy;
    return TEXT.micFailed;
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

  /**
   * desk (from agent.js): send(frame) -> bool, isReady() -> bool, me() -> agent info,
   * conversation(id) -> its state or null, label(id) -> "Customer c_…", open(id) selects it,
   * toast(text), audio() -> AudioContext or null.
   */
  function create(desk) {
    const $ = (sel) => document.querySelector(sel);
    const ui = {
      banner: $('[data-testid=cg-ring-banner]'),
      ringWho: $('[data-testid=cg-ring-caller]'),
      ringPath: $('[data-testid=cg-ring-path]'),
      ringCountdown: $('[data-testid=cg-ring-countdown]'),
      ringProgress: $('#cg-ring-progress'),
      ringError: $('[data-testid=cg-ring-error]'),
      accept: $('[data-testid=cg-accept]'),
      decline: $('[data-testid=cg-decline]'),
      bar: $('[data-testid=cg-call-bar]'),
      who: $('[data-testid=cg-call-who]'),
      status: $('[data-testid=cg-call-status]'),
      timer: $('[data-testid=cg-call-timer]'),
      hint: $('#cg-call-hint'),
      actions: $('#cg-call-actions'),
      mute: $('[data-testid=cg-mute]'),
      hold: $('[data-testid=cg-hold]'),
      hangup: $('[data-testid=cg-hangup]'),
      done: $('[data-testid=cg-wrap-done]'),
      audio: $('[data-testid=cg-remote-audio]'),
    };

    let ring = null;   // {callId, conversationId, agentName, deadline, seconds, error}
    let call = null;   // the current or last call, see accept()
    let wrap = null;   // {conversationId, since, reason, durationMs}: after-call work
    let notice = null; // {text, until}: a dropped call or a failed accept, shown in the call bar
    let tick = null;

    // ------------------------------------------------------------ ring tone (WebAudio, no files)

    const ringer = {
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

    function live(c) {
      return !!c && c === call && c.phase !== 'ended';
    }

    function startTicking() {
      if (!tick) tick = setInterval(renderTimes, 250);
    }

    function stopTickingIfIdle() {
      if (tick && !ring && !live(call) && !wrap && !notice) {
        clearInterval(tick);
        tick = null;
      }
    }

    function say(text) {
      if (text) desk.toast(text);
    }

    function setNotice(text, ms) {
      notice = { text, until: Date.now() + (ms || DROPPED_SHOW) };
      startTicking();
    }

    // ------------------------------------------------------------ ringing

    function startRinging(f) {
      const seconds = Number(f.ring_seconds) > 0 ? Number(f.ring_seconds) : 20;
      if (ring && ring.callId === f.call_id) return; // the same ring twice (e.g. two channels)
      ring = {
        callId: f.call_id,
        conversationId: f.conversation_id,
        agentName: f.agent_name || '',
        seconds,
        deadline: Date.now() + seconds * 1000,
        error: '',
      };
      if (!live(call)) ringer.start();
      if (f.conversation_id) desk.open(f.conversation_id); // the IVR path shows in the conversation panel
      startTicking();
      render();
    }

    /** The ring is over for whatever reason; `text` explains it (toast) when the agent did not act. */
    function stopRinging(text) {
      if (!ring) return;
      ring = null;
      ringer.stop();
      say(text);
      render();
      stopTickingIfIdle();
    }

    function decline() {
      if (!ring) return;
      const id = ring.callId;
      if (!desk.send({ type: 'call_decline', call_id: id })) {
        ring.error = TEXT.offline;
        render();
        return;
      }
      stopRinging(TEXT.declined);
    }

    // ------------------------------------------------------------ accept

    async function accept() {
      if (!ring || live(call)) return;
      const r = ring;
      ringer.stop();
      r.error = '';
      notice = null;
      const c = {
        id: r.callId,
        conversationId: r.conversationId,
        phase: 'mic',            // mic -> gathering -> offered -> answered -> hanging_up -> ended
        status: 'connecting',    // the gateway's last word: connecting, connected
        reason: '',
        held: false,
        holdPending: null,       // true/false while a call_hold is unconfirmed
        holdTimer: null,
        muted: false,
        reconnecting: false,
        pc: null,
        mic: null,
        connectedAt: 0,
        endedAt: 0,
        hangupSent: false,
        timer: null,
      };
      call = c;
      wrap = null;
      startTicking();
      render();
      if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function' ||
          typeof window.RTCPeerConnection !== 'function') {
        failAccept(c, TEXT.unsupported);
        return;
      }
      let mic;
      try {
        mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (err) {
        failAccept(c, micProblem(err));
        return;
      }
      if (!live(c)) {
        for (const t of mic.getTracks()) t.stop();
        return;
      }
      c.mic = mic;
      c.phase = 'gathering';
      render();
      try {
        const pc = new RTCPeerConnection({ iceServers: iceServers() });
        c.pc = pc;
        pc.addEventListener('track', (e) => playRemote(c, e));
        pc.addEventListener('connectionstatechange', () => onPeerState(c));
        for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
        await pc.setLocalDescription(await pc.createOffer());
        await iceGathered(pc, ICE_WAIT);
      } catch (_) {
        if (live(c)) failAccept(c, TEXT.connectionFailed);
        return;
      }
      if (!live(c)) return;
      const sdp = c.pc.localDescription && c.pc.localDescription.sdp;
      if (!sdp || sdp.length > MAX_SDP_CHARS) {
        failAccept(c, TEXT.connectionFailed);
        return;
      }
      if (!(await whenReady(SOCKET_WAIT)) || !live(c) || !desk.send({ type: 'call_offer', call_id: c.id, sdp })) {
        if (live(c)) failAccept(c, TEXT.offline);
        return;
      }
      c.phase = 'offered';
      c.timer = setTimeout(() => { if (live(c) && c.phase === 'offered') failAccept(c, TEXT.noAnswer); }, ANSWER_WAIT);
      render();
    }

    function whenReady(maxMs) {
      if (desk.isReady()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (desk.isReady() || Date.now() - started >= maxMs) {
            clearInterval(poll);
            resolve(desk.isReady());
          }
        }, 100);
      });
    }

    /** The accept did not get to a call: free the media; a ring still running stays up to retry or decline. */
    function failAccept(c, text) {
      release(c);
      c.phase = 'ended';
      c.reason = 'accept_failed';
      if (ring && ring.callId === c.id) {
        ring.error = text;
        if (Date.now() < ring.deadline) ringer.start();
      } else {
        setNotice(text);
      }
      render();
    }

    function playRemote(c, e) {
      if (!live(c) || !ui.audio) return;
      ui.audio.muted = false;
      ui.audio.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
      const played = ui.audio.play();
      if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: media still flows */ });
    }

    function onPeerState(c) {
      if (!live(c) || !c.pc) return;
      const state = c.pc.connectionState;
      if (state === 'connected') {
        if (!c.connectedAt) c.connectedAt = Date.now();
        c.reconnecting = false;
      } else if (state === 'disconnected') {
        c.reconnecting = true; // ICE may recover; 'failed' follows if not
      } else if (state === 'failed' || state === 'closed') {
        // The gateway notices too and puts the caller back in the queue (or ends the call).
        finish(c, 'connection_failed');
        setNotice(TEXT.connectionFailed);
      }
      render();
    }

    // ------------------------------------------------------------ in the call

    function toggleMute() {
      const c = call;
      if (!live(c) || !c.mic) return;
      c.muted = !c.muted;
      for (const t of c.mic.getAudioTracks()) t.enabled = !c.muted;
      render();
    }

    function toggleHold() {
      const c = call;
      if (!live(c) || c.phase !== 'answered' || c.holdPending !== null) return;
      const want = !c.held;
      if (!desk.send({ type: 'call_hold', call_id: c.id, hold: want })) {
        say('Not connected to the gateway — try again in a moment.');
        return;
      }
      c.holdPending = want;
      // The gateway confirms with call_status; it stays silent when the call already was in that state.
      clearTimeout(c.holdTimer);
      c.holdTimer = setTimeout(() => {
        if (!live(c) || c.holdPending !== want) return;
        c.holdPending = null;
        c.held = want;
        render();
      }, HOLD_WAIT);
      render();
    }

    function hangUp() {
      const c = call;
      if (!live(c)) return;
      if (c.phase === 'mic' || c.phase === 'gathering') { // not offered yet: nothing to tell the gateway
        failAccept(c, '');
        return;
      }
      if (c.phase === 'hanging_up') return;
      c.phase = 'hanging_up';
      // The caller must not hear us any more, but keep the connection until the gateway has the hang-up:
      // a peer connection closing first would look like a dropped agent and requeue the caller.
      if (c.mic) for (const t of c.mic.getAudioTracks()) t.enabled = false;
      if (ui.audio) ui.audio.muted = true;
      c.hangupSent = desk.send({ type: 'hangup', call_id: c.id });
      clearTimeout(c.timer);
      c.timer = setTimeout(() => finish(c, 'agent_hangup'), c.hangupSent ? HANGUP_WAIT : HANGUP_OFFLINE_WAIT);
      render();
    }

    /** The call is over: free the media; unless the caller went back to the queue, after-call work starts. */
    function finish(c, reason) {
      if (!c || c.phase === 'ended') return;
      const wasConnected = !!c.connectedAt;
      c.phase = 'ended';
      c.reason = reason || '';
      c.endedAt = Date.now();
      release(c);
      const requeued = reason === 'agent_lost' || reason === 'connection_failed';
      if (c === call && !requeued && c.conversationId) {
        wrap = { conversationId: c.conversationId, since: c.endedAt, reason: c.reason,
          durationMs: wasConnected ? c.endedAt - c.connectedAt : 0 };
      }
      if (ring && !live(call)) ringer.start(); // another call was waiting for us
      startTicking();
      render();
    }

    function release(c) {
      clearTimeout(c.timer);
      clearTimeout(c.holdTimer);
      c.timer = null;
      if (c.mic) for (const t of c.mic.getTracks()) t.stop();
      if (c.pc) {
        try { c.pc.close(); } catch (_) { /* already closed */ }
      }
      if (ui.audio && c.pc) {
        try { ui.audio.pause(); } catch (_) { /* ignore */ }
        ui.audio.srcObject = null;
      }
    }

    function endWrapUp() {
      wrap = null;
      render();
      stopTickingIfIdle();
    }

    // ------------------------------------------------------------ frames from agent.js

    function onCallStatus(f) {
      if (!f || typeof f.status !== 'string' || !f.call_id) return;
      const me = desk.me();
      if (f.status === 'ringing') {
        if (me && f.agent_id === me.id) startRinging(f);
        return;
      }
      if (ring && ring.callId === f.call_id) {
        const answeredElsewhere = f.status === 'connected' && !(call && call.id === f.call_id);
        let text = TEXT.ringGone;
        if (call && call.id === f.call_id) text = '';   // our own accept
        else if (answeredElsewhere) text = TEXT.elsewhere;
        else if (f.status === 'waiting') text = f.reason === 'no_answer' ? TEXT.missed : ''; // declined: said already
        stopRinging(text);
      }
      const c = call;
      if (!live(c) || c.id !== f.call_id) return;
      if (f.status === 'connected') {
        c.status = 'connected';
        if (!c.connectedAt) c.connectedAt = Date.now();
        c.held = f.reason === 'held';
        c.holdPending = null;
        render();
      } else if (f.status === 'ended') {
        finish(c, f.reason || 'ended');
      } else if (f.status === 'waiting') {
        finish(c, 'agent_lost'); // our leg dropped: the gateway queued the caller again
        setNotice(TEXT.dropped);
        render();
      }
    }

    function onCallAnswer(f) {
      const c = call;
      if (!live(c) || f.call_id !== c.id || c.phase !== 'offered') return;
      clearTimeout(c.timer);
      c.phase = 'answered';
      if (ring && ring.callId === c.id) { ring = null; ringer.stop(); }
      c.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => {
        if (!live(c)) return;
        desk.send({ type: 'hangup', call_id: c.id });
        finish(c, 'connection_failed');
        setNotice(TEXT.connectionFailed);
      });
      render();
    }

    /** An error frame about calls (they carry no call_id); true when it was ours to handle. */
    function onError(f) {
      const codes = ['not_ringing', 'already_answered', 'not_connected', 'bad_sdp', 'no_audio'];
      const aboutCall = codes.includes(f.code) || f.field === 'call_id' || f.field === 'sdp' || f.field === 'hold';
      if (!aboutCall) return false;
      const c = call;
      const message = f.message || `Error: ${f.code || 'unknown'}`;
      if (live(c) && c.phase === 'offered') {
        // the accept was refused: taken in another tab, no longer ringing for us, or our SDP was rejected
        const r = ring;
        failAccept(c, message);
        if (r && (f.code === 'already_answered' || f.code === 'not_ringing' || f.code === 'not_found')) stopRinging();
        say(message);
      } else if (live(c) && c.holdPending !== null) {
        c.holdPending = null;
        render();
        say(message);
      } else if (live(c) && c.phase === 'hanging_up' && f.code === 'not_found') {
        finish(c, 'ended'); // the call had already ended
      } else if (ring && f.code === 'not_ringing') {
        stopRinging(message);
      } else if (live(c) || ring) {
        say(message);
      }
      return true;
    }

    function onWelcome() {
      const c = call;
      if (live(c) && c.phase === 'hanging_up' && !c.hangupSent) {
        c.hangupSent = desk.send({ type: 'hangup', call_id: c.id });
        clearTimeout(c.timer);
        c.timer = setTimeout(() => finish(c, 'agent_hangup'), HANGUP_WAIT);
      }
      if (live(c) && c.holdPending !== null) { // the confirmation may have been lost with the old socket
        c.held = c.holdPending;
        c.holdPending = null;
      }
      render();
    }

    /** The socket dropped: media goes on; a ring cannot be answered without the socket (the gateway requeues it). */
    function onSocketDown() {
      if (ring) stopRinging('Connection to the gateway lost — the ringing call went back to the queue.');
    }

    /** The conversation was taken from us (closed, or back in the queue after a missed call). */
    function onUnassigned(conversationId, reason) {
      if (ring && ring.conversationId === conversationId) {
        stopRinging(reason === 'call_no_answer' ? TEXT.missed : (reason === 'call_declined' ? '' : TEXT.ringGone));
      }
      if (wrap && wrap.conversationId === conversationId) endWrapUp();
    }

    /** Events arrived for a conversation: redraw the banner; catch a call that ended while the socket was down. */
    function onConversation(conversationId) {
      const conv = desk.conversation(conversationId);
      const c = call;
      if (conv && live(c) && c.conversationId === conversationId && c.phase !== 'mic') {
        for (const ev of conv.events.values()) {
          if (ev.call_id !== c.id) continue;
          if (ev.type === 'call_ended') { finish(c, ev.reason || 'ended'); break; }
          if (ev.type === 'call_agent_lost' && c.connectedAt) {
            finish(c, 'agent_lost');
            setNotice(TEXT.dropped);
            break;
          }
        }
      }
      if (conv && conv.closed && wrap && wrap.conversationId === conversationId) endWrapUp();
      if (ring && ring.conversationId === conversationId) renderBanner();
    }

    /** Logging out: hang up a live call first (the caller would otherwise be requeued as a dropped agent). */
    function reset() {
      const c = call;
      if (live(c)) {
        if (c.phase === 'offered' || c.phase === 'answered') desk.send({ type: 'hangup', call_id: c.id });
        finish(c, 'agent_hangup');
      }
      ring = null;
      ringer.stop();
      call = null;
      wrap = null;
      notice = null;
      render();
      stopTickingIfIdle();
    }

    // ------------------------------------------------------------ rendering

    /** What the caller did before ringing us: the IVR steps of the current call, then the queue. */
    function ivrPath(conversationId) {
      const conv = desk.conversation(conversationId);
      if (!conv) return [];
      const events = Array.from(conv.events.values()).sort((a, b) => (a.ts || 0) - (b.ts || 0));
      let steps = [];
      for (const ev of events) {
        if (ev.type === 'call_started') steps = [];
        if (ev.type !== 'ivr') continue;
        const detail = ev.detail == null ? '' : String(ev.detail);
        if (ev.kind === 'choice') {
          steps = steps.filter((st) => st.node !== ev.node); // the choice says what the keys meant
          steps.push({ node: ev.node, text: `Chose ${detail}` });
        } else if (ev.kind === 'input' && ev.node) {
          steps.push({ node: ev.node, text: `${ev.node}: ${detail}` });
        } else if (ev.kind === 'queue') {
          steps.push({ node: ev.node, text: `Queue: ${detail}` });
        }
      }
      steps = steps.map((st) => st.text);
      const last = conv.summary && conv.summary.last_text;
      if (last) steps.push(`Last message: “${last.length > 80 ? last.slice(0, 79) + '…' : last}”`);
      return steps;
    }

    function renderBanner() {
      if (!ui.banner) return;
      const accepting = !!ring && live(call) && call.id === ring.callId; // the call bar says "Connecting…"
      ui.banner.hidden = !ring || accepting;
      if (!ring || accepting) return;
      ui.banner.dataset.callId = ring.callId;
      ui.banner.dataset.conversationId = ring.conversationId || '';
      ui.ringWho.textContent = desk.label(ring.conversationId);
      const steps = ivrPath(ring.conversationId);
      ui.ringPath.replaceChildren(...steps.map((s) => {
        const li = document.createElement('li');
        li.textContent = s;
        return li;
      }));
      ui.ringPath.hidden = steps.length === 0;
      const busy = live(call);
      ui.accept.disabled = busy;
      ui.accept.title = busy ? TEXT.cannotWhileOnCall : 'Answer with your microphone';
      const error = ring.error || (busy ? TEXT.cannotWhileOnCall : '');
      ui.ringError.hidden = !error;
      ui.ringError.textContent = error;
      renderTimes();
    }

    function callStatusText(c) {
      if (c.phase === 'mic') return TEXT.mic;
      if (c.phase === 'hanging_up') return c.hangupSent ? TEXT.hangingUp : TEXT.hangingUpOffline;
      if (c.phase !== 'answered' || c.status !== 'connected') return TEXT.connecting;
      if (c.reconnecting) return TEXT.reconnecting;
      return c.held ? TEXT.held : TEXT.connected;
    }

    function renderBar() {
      if (!ui.bar) return;
      const c = call;
      let status = null;
      if (live(c)) {
        status = c.phase === 'hanging_up' ? 'ending' : (c.phase === 'answered' && c.status === 'connected')
          ? (c.held ? 'held' : 'connected') : 'connecting';
      } else if (wrap) {
        status = 'wrapup';
      } else if (notice && Date.now() < notice.until) {
        status = 'notice';
      }
      ui.bar.hidden = !status;
      if (!status) return;
      ui.bar.dataset.status = status;
      const convId = live(c) ? c.conversationId : wrap ? wrap.conversationId : null;
      ui.who.hidden = !convId;
      ui.who.textContent = convId ? desk.label(convId) : '';
      ui.who.dataset.conversationId = convId || '';
      if (live(c)) {
        ui.status.textContent = callStatusText(c);
        ui.hint.hidden = true;
      } else if (wrap) {
        const why = ENDED_REASON[wrap.reason] || 'Call ended';
        ui.status.textContent = TEXT.wrapup;
        ui.hint.hidden = false;
        ui.hint.textContent = `${why}${wrap.durationMs ? ` after ${timeText(wrap.durationMs)}` : ''}. ${TEXT.wrapupHint}`;
      } else {
        ui.status.textContent = notice.text;
        ui.hint.hidden = true;
      }
      const inCall = live(c);
      ui.actions.hidden = !inCall;
      ui.done.hidden = inCall;
      if (inCall) {
        const answered = c.phase === 'answered';
        ui.mute.disabled = !c.mic || c.phase === 'hanging_up';
        ui.mute.setAttribute('aria-pressed', String(c.muted));
        ui.mute.textContent = c.muted ? 'Unmute' : 'Mute';
        const holding = c.holdPending !== null ? c.holdPending : c.held;
        ui.hold.disabled = !answered || c.status !== 'connected' || c.holdPending !== null;
        ui.hold.setAttribute('aria-pressed', String(holding));
        ui.hold.textContent = holding ? 'Resume' : 'Hold';
        ui.hangup.disabled = c.phase === 'hanging_up';
      }
      ui.done.textContent = wrap ? 'Done' : 'Dismiss';
      ui.done.title = wrap ? 'Hide the after-call bar (the conversation stays open)' : '';
      renderTimes();
    }

    /** The countdown, the call timer and the after-call timer (every 250 ms while something is on screen). */
    function renderTimes() {
      const now = Date.now();
      if (ring) {
        const left = Math.max(0, ring.deadline - now);
        const text = `Answer within ${Math.ceil(left / 1000)} s`;
        if (ui.ringCountdown.textContent !== text) ui.ringCountdown.textContent = text;
        ui.ringCountdown.dataset.seconds = String(Math.ceil(left / 1000));
        if (ui.ringProgress) ui.ringProgress.style.transform = `scaleX(${left / (ring.seconds * 1000)})`;
        if (left <= 0 && !(live(call) && call.id === ring.callId)) {
          stopRinging(TEXT.missed); // the gateway has given the call back to the queue by now
          return;
        }
      }
      if (notice && now >= notice.until) {
        notice = null;
        renderBar();
      }
      const c = call;
      let text = '';
      if (live(c) && c.connectedAt) text = timeText(now - c.connectedAt);
      else if (!live(c) && wrap) text = timeText(now - wrap.since);
      if (ui.timer && ui.timer.textContent !== text) ui.timer.textContent = text;
      if (ui.timer) ui.timer.hidden = !text;
      stopTickingIfIdle();
    }

    function render() {
      renderBanner();
      renderBar();
    }

    // ------------------------------------------------------------ test hooks

    function state() {
      const c = call;
      return {
        ringing: ring ? { call_id: ring.callId, conversation_id: ring.conversationId, error: ring.error } : null,
        ringTone: !!ringer.timer,
        call: c ? { id: c.id, conversation_id: c.conversationId, phase: c.phase, status: c.status, reason: c.reason,
          muted: c.muted, held: c.held, connected: !!c.connectedAt } : null,
        wrapup: wrap ? { conversation_id: wrap.conversationId, reason: wrap.reason } : null,
      };
    }

    /** What the softphone receives (inbound-rtp audio of the current call). */
    async function stats() {
      const c = call;
      const out = { inboundAudioLevel: 0, totalAudioEnergy: 0, totalSamplesDuration: 0, bytesReceived: 0,
        packetsReceived: 0, connectionState: c && c.pc ? c.pc.connectionState : 'closed' };
      if (!c || !c.pc || c.pc.connectionState === 'closed') return out;
      const report = await c.pc.getStats();
      report.forEach((s) => {
        if (s.type !== 'inbound-rtp' || (s.kind || s.mediaType) !== 'audio') return;
        out.inboundAudioLevel = Math.max(out.inboundAudioLevel, Number(s.audioLevel) || 0);
        out.totalAudioEnergy += Number(s.totalAudioEnergy) || 0;
        out.totalSamplesDuration += Number(s.totalSamplesDuration) || 0;
        out.bytesReceived += Number(s.bytesReceived) || 0;
        out.packetsReceived += Number(s.packetsReceived) || 0;
      });
      return out;
    }

    // ------------------------------------------------------------ wiring

    ui.accept.addEventListener('click', () => { accept(); });
    ui.decline.addEventListener('click', decline);
    ui.mute.addEventListener('click', toggleMute);
    ui.hold.addEventListener('click', toggleHold);
    ui.hangup.addEventListener('click', hangUp);
    ui.done.addEventListener('click', () => {
      if (wrap) endWrapUp();
      else { notice = null; render(); stopTickingIfIdle(); }
    });
    ui.who.addEventListener('click', () => { if (ui.who.dataset.conversationId) desk.open(ui.who.dataset.conversationId); });
    window.addEventListener('beforeunload', (e) => {
      if (!live(call)) return;
      e.preventDefault();
      e.returnValue = ''; // "you are on a call": leaving drops it and the caller goes back to the queue
    });
    render();

    return {
      onCallStatus, onCallAnswer, onError, onWelcome, onSocketDown, onUnassigned, onConversation, reset, state, stats,
      /** True while a call is live (agent.js uses it to label the conversation). */
      liveConversation: () => (live(call) ? call.conversationId : null),
    };
  }

  window.CGSoftphone = { create };
})();
