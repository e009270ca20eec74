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
 * Transfers: blind (call_transfer to an agent id or a queue name) or warm (call_consult start: the caller
 * holds while the other agent's desk rings with consult: true; then complete or cancel). The consulted
 * agent's desk rings "Consultation from …"; the conversation becomes theirs (an `assigned` frame) only
 * when the first agent completes. Supervisors get a "Live calls" panel (GET /api/calls, polled while open)
 * and listen in or whisper with a separate peer connection (call_monitor).
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
  const ERROR_SHOW = 9000;          // a refused transfer / consult stays in the call bar this long
  const REQUEST_WAIT = 12000;       // transfer / consult request unanswered this long: give the controls back
  const LIVE_POLL = 3000;           // GET /api/calls every so often while the Live calls panel is open
  const MONITOR_LEAVE_GRACE = 1500; // after "hangup" from a monitor, close its connection this much later
  const TRANSFER_RELEASE_WAIT = 8000; // after a transfer the gateway closes our leg; ours closes this much later
  const RECENT_KEY = 'cg.agent.transfer_targets';
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
    consultRing: 'Consultation request',
    consultDeclined: 'Consultation declined.',
    consultMissed: 'Missed consultation request.',
    consultGone: 'The consultation request was withdrawn.',
    consultConnecting: 'Connecting to your colleague…',
    consultFailed: 'The consultation connection failed.',
    consultEnded: 'The consultation ended — your colleague kept the caller.',
    takenOver: 'The call is yours now.',
    transferNoReply: 'The gateway did not confirm the transfer. Try again.',
    needTarget: 'Type an agent ID or a queue name.',
    monitorConnecting: 'Joining the call…',
    monitorFailed: 'Could not join the call.',
    monitorDropped: 'You are no longer listening: the call ended or the connection dropped.',
  };

  /** What the first agent sees when a consultation ends without the hand-over (call_status reasons). */
  const CONSULT_END = {
    consult_declined: (who) => `${who} declined the consultation — you are back with the caller.`,
    consult_no_answer: (who) => `${who} did not answer — you are back with the caller.`,
    consult_cancelled: () => 'Consultation ended — you are back with the caller.',
    consult_lost: (who) => `The connection to ${who} dropped — you are back with the caller.`,
    consult_ice_timeout: (who) => `Could not connect to ${who} — you are back with the caller.`,
  };

  const ENDED_REASON = {
    caller_hangup: 'Caller hung up',
    agent_hangup: 'You hung up',
    gateway_shutdown: 'The gateway restarted',
    ice_failed: 'The caller\'s connection failed',
    ice_timeout: 'The caller\'s connection timed out',
    connection_closed: 'The caller\'s connection closed',
    transferred: 'Transferred',
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
   * toast(text), audio() -> AudioContext or null, token() -> the agent token (for GET /api/calls).
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
      monitorBar: $('[data-testid=cg-monitor-bar]'),
      monitorStatus: $('[data-testid=cg-monitor-status]'),
      monitorLeave: $('[data-testid=cg-monitor-leave]'),
      monitorAudio: $('[data-testid=cg-monitor-audio]'),
    };

    let ring = null;   // {callId, conversationId, agentName, deadline, seconds, error, consult, fromName}
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
      const consult = f.consult === true;
      ring = {
        callId: f.call_id,
        conversationId: f.conversation_id,
        agentName: f.agent_name || '',
        seconds,
        deadline: Date.now() + seconds * 1000,
        error: '',
        consult,   // a colleague asks us to talk first (warm transfer): the conversation is not ours yet
        fromName: consult ? String(f.from_agent_name || f.from_agent_id || 'A colleague') : '',
        fromId: consult ? String(f.from_agent_id || '') : '',
      };
      if (!live(call)) ringer.start();
      // the IVR path shows in the conversation panel; a consultation's conversation is only ours once handed over
      if (f.conversation_id && !consult) desk.open(f.conversation_id);
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
      const consult = ring.consult;
      if (!desk.send({ type: 'call_decline', call_id: id })) {
        ring.error = TEXT.offline;
        render();
        return;
      }
      stopRinging(consult ? TEXT.consultDeclined : TEXT.declined);
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
        // 'agent': our call; 'consultant': a colleague consults us (the caller holds) until they hand it over
        role: r.consult ? 'consultant' : 'agent',
        fromName: r.fromName || '',
        consult: null,           // we consult someone: {agentId, state: requested|ringing|connected|completing}
        transfer: null,          // a blind transfer we asked for: {kind, target}
        request: null,           // {what, at}: the last transfer / consult frame not answered yet
        requestTimer: null,
        error: null,             // {text, until}: a refused transfer or consult, shown in the bar
        transferredTo: '',
      };
      call = c;
      closeTransferPanel();
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
      c.stream = (e.streams && e.streams[0]) || new MediaStream([e.track]);
      ui.audio.srcObject = c.stream;
      const played = ui.audio.play();
      if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: media still flows */ });
    }

    function onPeerState(c) {
      if (!live(c) || !c.pc) return;
      const state = c.pc.connectionState;
      if (state === 'connected') {
        if (!c.connectedAt) c.connectedAt = Date.now();
        c.reconnecting = false;
        // A consultation gets no call_status (the conversation is not ours): our leg being up is "connected".
        if (c.role === 'consultant' && c.phase === 'answered') c.status = 'connected';
      } else if (state === 'disconnected') {
        c.reconnecting = true; // ICE may recover; 'failed' follows if not
      } else if (state === 'failed' || state === 'closed') {
        if (c.transfer || (c.consult && c.consult.state === 'completing')) {
          finish(c, 'transferred'); // the gateway closed our leg: the caller went on to the other agent
        } else if (c.role === 'consultant') {
          finish(c, 'connection_failed');
          setNotice(TEXT.consultFailed);
        } else {
          // The gateway notices too and puts the caller back in the queue (or ends the call).
          finish(c, 'connection_failed');
          setNotice(TEXT.connectionFailed);
        }
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
      if (!live(c) || c.phase !== 'answered' || c.holdPending !== null || !canControl(c)) return;
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
      closeTransferPanel();
      // A consultant leaves the consultation with call_decline (the gateway's "consult_declined"): the caller
      // goes back to the colleague. "hangup" would end the call for everybody, and is not ours to send.
      c.hangupSent = desk.send(c.role === 'consultant' ? { type: 'call_decline', call_id: c.id }
        : { type: 'hangup', call_id: c.id });
      clearTimeout(c.timer);
      c.timer = setTimeout(() => finish(c, 'agent_hangup'), c.hangupSent ? HANGUP_WAIT : HANGUP_OFFLINE_WAIT);
      render();
    }

    // ------------------------------------------------------------ transfer and consult (the call's own agent)

    /** Our own call, connected, nothing else going on: hold, transfer and consult are possible. */
    function canControl(c) {
      return live(c) && c.role === 'agent' && c.phase === 'answered' && c.status === 'connected' && !c.transfer &&
        !c.consult && !c.request;
    }

    function targetText(t) {
      return t.kind === 'queue' ? `queue ${t.target}` : t.target;
    }

    function showError(c, text, info) {
      c.error = text ? { text, info: !!info, until: Date.now() + ERROR_SHOW } : null;
      startTicking();
      render();
    }

    /** A transfer / consult frame went out; errors about it come back without a call_id, so remember it. */
    function startRequest(c, what) {
      clearTimeout(c.requestTimer);
      c.request = { what, at: Date.now() };
      c.requestTimer = setTimeout(() => {
        if (!live(c) || !c.request || c.request.what !== what) return;
        c.request = null;
        if (what === 'transfer') c.transfer = null;
        else if (what === 'consult_start' && c.consult && c.consult.state === 'requested') c.consult = null;
        else if (what === 'consult_complete' && c.consult) c.consult.state = 'connected';
        showError(c, TEXT.transferNoReply);
      }, REQUEST_WAIT);
    }

    function endRequest(c) {
      clearTimeout(c.requestTimer);
      c.requestTimer = null;
      c.request = null;
    }

    function recentTargets() {
      try {
        const v = JSON.parse(sessionStorage.getItem(RECENT_KEY) || '[]');
        return Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, 8) : [];
      } catch (_) {
        return [];
      }
    }

    function rememberTarget(target) {
      const list = [target, ...recentTargets().filter((x) => x !== target)].slice(0, 8);
      try { sessionStorage.setItem(RECENT_KEY, JSON.stringify(list)); } catch (_) { /* ignore */ }
    }

    function transferKind() {
      return ui.transferKindQueue && ui.transferKindQueue.checked ? 'queue' : 'agent';
    }

    function openTransferPanel(focus) {
      if (!ui.transferPanel || !live(call) || call.role !== 'agent') return;
      ui.transferSuggest.replaceChildren(...recentTargets().map((t) => {
        const o = document.createElement('option');
        o.value = t;
        return o;
      }));
      ui.transferPanel.hidden = false;
      ui.transferToggle.setAttribute('aria-expanded', 'true');
      renderTransferPanel();
      if (focus !== false) setTimeout(() => ui.transferTarget.focus(), 0);
    }

    function closeTransferPanel() {
      if (!ui.transferPanel) return;
      ui.transferPanel.hidden = true;
      ui.transferToggle.setAttribute('aria-expanded', 'false');
    }

    /** Blind transfer: the caller goes to that agent (their desk rings) or back into routing under that queue. */
    function transfer() {
      const c = call;
      if (!canControl(c)) return;
      const target = ui.transferTarget.value.trim();
      const kind = transferKind();
      if (!target) {
        showError(c, TEXT.needTarget);
        ui.transferTarget.focus();
        return;
      }
      const frame = { type: 'call_transfer', call_id: c.id };
      frame[kind === 'queue' ? 'queue' : 'agent_id'] = target;
      if (!desk.send(frame)) {
        showError(c, 'Not connected to the gateway — try again in a moment.');
        return;
      }
      rememberTarget(target);
      c.error = null;
      c.transfer = { kind, target };
      startRequest(c, 'transfer');
      closeTransferPanel();
      render();
    }

    /** Warm transfer, step 1: the caller holds (music) while the colleague's desk rings. */
    function consult() {
      const c = call;
      if (!canControl(c)) return;
      const target = ui.transferTarget.value.trim();
      if (transferKind() !== 'agent') return;
      if (!target) {
        showError(c, TEXT.needTarget);
        ui.transferTarget.focus();
        return;
      }
      if (!desk.send({ type: 'call_consult', call_id: c.id, action: 'start', agent_id: target })) {
        showError(c, 'Not connected to the gateway — try again in a moment.');
        return;
      }
      rememberTarget(target);
      c.error = null;
      c.consult = { agentId: target, state: 'requested' };
      startRequest(c, 'consult_start');
      closeTransferPanel();
      render();
    }

    /** Warm transfer, step 2: hand the caller to the colleague (complete) or take them back (cancel). */
    function consultAction(action) {
      const c = call;
      if (!live(c) || !c.consult || c.consult.state === 'completing' || c.request) return;
      if (action === 'complete' && c.consult.state !== 'connected') return;
      if (!desk.send({ type: 'call_consult', call_id: c.id, action })) {
        showError(c, 'Not connected to the gateway — try again in a moment.');
        return;
      }
      c.error = null;
      if (action === 'complete') c.consult.state = 'completing';
      startRequest(c, `consult_${action}`);
      render();
    }

    /** The call is over: free the media; unless the caller went back to the queue, after-call work starts. */
    function finish(c, reason) {
      if (!c || c.phase === 'ended') return;
      const wasConnected = !!c.connectedAt;
      c.phase = 'ended';
      c.reason = reason || '';
      c.endedAt = Date.now();
      clearTimeout(c.requestTimer);
      if (reason === 'transferred' && !c.transferredTo) {
        c.transferredTo = c.consult ? c.consult.agentId : c.transfer ? targetText(c.transfer) : '';
      }
      c.consult = null;
      c.transfer = null;
      c.request = null;
      if (reason === 'transferred' && c.pc && c.pc.connectionState !== 'closed') releaseLater(c);
      else release(c);
      if (c === call) closeTransferPanel();
      const requeued = reason === 'agent_lost' || reason === 'connection_failed';
      if (c === call && !requeued && c.conversationId && c.role !== 'consultant') {
        wrap = { conversationId: c.conversationId, since: c.endedAt, reason: c.reason, to: c.transferredTo,
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
      if (ui.audio && c.pc && (!c.stream || !ui.audio.srcObject || ui.audio.srcObject === c.stream)) {
        try { ui.audio.pause(); } catch (_) { /* ignore */ }
        ui.audio.srcObject = null;
      }
    }

    /**
     * The call went on to someone else: silence both ways at once, but let the gateway close our leg. Closing it
     * ourselves while the gateway still hands the call over would look like a dropped agent.
     */
    function releaseLater(c) {
      clearTimeout(c.timer);
      clearTimeout(c.holdTimer);
      c.timer = null;
      if (c.mic) for (const t of c.mic.getAudioTracks()) t.enabled = false;
      if (ui.audio && c.stream && ui.audio.srcObject === c.stream) ui.audio.muted = true;
      setTimeout(() => release(c), TRANSFER_RELEASE_WAIT);
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
        let text = ring.consult ? TEXT.consultGone : TEXT.ringGone;
        if (call && call.id === f.call_id) text = '';   // our own accept
        else if (ring.consult && f.status === 'ended') {
          text = f.reason === 'consult_no_answer' ? TEXT.consultMissed
            : f.reason === 'consult_declined' ? '' : TEXT.consultGone; // declined: said already
        } else if (answeredElsewhere) text = TEXT.elsewhere;
        else if (f.status === 'waiting') text = f.reason === 'no_answer' ? TEXT.missed : ''; // declined: said already
        stopRinging(text);
      }
      const c = call;
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
        finish(c, 'agent_lost'); // our leg dropped: the gateway queued the caller again
        setNotice(TEXT.dropped);
        render();
      }
    }

    /** Our consultation of a colleague went a step further (call_status "connected" with a consult_* reason). */
    function onConsultStep(c, reason) {
      if (reason === 'consult_ringing' || reason === 'consulting') {
        if (!c.consult) c.consult = { agentId: '', state: 'requested' }; // started in another tab
        if (c.consult.state !== 'completing') c.consult.state = reason === 'consulting' ? 'connected' : 'ringing';
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
          ? `${c.fromName || 'Your colleague'} took the caller back — the consultation ended.`
          : f.reason === 'call_ended' ? 'The caller hung up — the consultation ended.'
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
      if (!c.connectedAt) c.connectedAt = Date.now();
      if (c.conversationId) desk.open(c.conversationId);
      say(`${c.fromName || 'Your colleague'} handed the call over to you. ${TEXT.takenOver}`);
      render();
    }

    function onCallAnswer(f) {
      const c = call;
      if (!live(c) || f.call_id !== c.id || c.phase !== 'offered') {
        monitorAnswer(f);
        return;
      }
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
      const codes = ['not_ringing', 'already_answered', 'not_connected', 'bad_sdp', 'no_audio', 'transfer_refused',
        'consult_busy', 'not_consulting', 'already_monitoring', 'not_monitoring'];
      const fields = ['call_id', 'sdp', 'hold', 'agent_id', 'queue', 'action', 'mode'];
      const aboutCall = codes.includes(f.code) || fields.includes(f.field);
      if (!aboutCall) return false;
      const c = call;
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
        c.hangupSent = desk.send(c.role === 'consultant' ? { type: 'call_decline', call_id: c.id }
          : { type: 'hangup', call_id: c.id });
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
      if (ring) {
        stopRinging(ring.consult ? 'Connection to the gateway lost — the consultation request could not be answered.'
          : 'Connection to the gateway lost — the ringing call went back to the queue.');
      }
    }

    /** The conversation was taken from us (closed, or back in the queue after a missed call). */
    function onUnassigned(conversationId, reason) {
      const transferred = reason === 'transferred' || reason === 'call_transferred';
      if (ring && ring.conversationId === conversationId && !ring.consult) {
        stopRinging(reason === 'call_no_answer' ? TEXT.missed : (reason === 'call_declined' ? '' : TEXT.ringGone));
      }
      const c = call;
      if (transferred && live(c) && c.conversationId === conversationId && c.role === 'agent') {
        finish(c, 'transferred'); // handed over (blind, or a completed consultation): after-call work
        return;
      }
      if (wrap && wrap.conversationId === conversationId && !(transferred && wrap.reason === 'transferred')) endWrapUp();
    }

    /** A conversation was routed to us: after a consultation it is the consulted call, handed over. */
    function onAssigned(conversationId) {
      const c = call;
      if (live(c) && c.role === 'consultant' && c.conversationId === conversationId && c.phase === 'answered') takeOver(c);
    }

    /** Events arrived for a conversation: redraw the banner; catch a call that ended while the socket was down. */
    function onConversation(conversationId) {
      const conv = desk.conversation(conversationId);
      const c = call;
      if (conv && live(c) && c.conversationId === conversationId && c.phase !== 'mic') {
        for (const ev of conv.events.values()) {
          if (ev.call_id !== c.id) continue;
          if (ev.type === 'call_ended') { finish(c, ev.reason || 'ended'); break; }
          const me = desk.me();
          // (a call handed on to us may have lost another agent before: only our own loss counts)
          if (ev.type === 'call_agent_lost' && c.connectedAt && (!me || !ev.agent_id || ev.agent_id === me.id)) {
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
        if (c.phase === 'offered' || c.phase === 'answered') {
          desk.send(c.role === 'consultant' ? { type: 'call_decline', call_id: c.id } : { type: 'hangup', call_id: c.id });
        }
        finish(c, 'agent_hangup');
      }
      leaveMonitor('');
      setSupervisor(false);
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
      ui.banner.dataset.consult = String(ring.consult);
      if (ui.ringTitle) ui.ringTitle.textContent = ring.consult ? TEXT.consultRing : TEXT.incoming;
      ui.ringWho.textContent = ring.consult ? `Consultation from ${ring.fromName}` : desk.label(ring.conversationId);
      const steps = ring.consult ? ['The caller is on hold while you talk'] : ivrPath(ring.conversationId);
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
      if (c.role === 'consultant') {
        if (c.phase !== 'answered' || c.status !== 'connected') return TEXT.consultConnecting;
        return c.reconnecting ? TEXT.reconnecting : `Consultation with ${c.fromName || 'a colleague'}`;
      }
      if (c.phase !== 'answered' || c.status !== 'connected') return TEXT.connecting;
      if (c.reconnecting) return TEXT.reconnecting;
      if (c.transfer) return `Transferring to ${targetText(c.transfer)}…`;
      if (c.consult) {
        const who = c.consult.agentId || 'a colleague';
        if (c.consult.state === 'completing') return `Handing the caller over to ${who}…`;
        return c.consult.state === 'connected' ? `Consulting ${who}` : `Consulting ${who}…`;
      }
      return c.held ? TEXT.held : TEXT.connected;
    }

    function callHintText(c) {
      if (c.phase !== 'answered' || c.phase === 'hanging_up') return '';
      if (c.role === 'consultant') {
        return c.status === 'connected' ? `The caller is on hold. ${c.fromName || 'Your colleague'} may hand the call over to you.` : '';
      }
      if (c.consult) {
        if (c.consult.state === 'connected') return 'The caller hears music and cannot hear you.';
        if (c.consult.state === 'completing') return '';
        return `Ringing ${c.consult.agentId || 'your colleague'} — the caller hears music.`;
      }
      if (c.transfer) return 'The caller hears: “Please hold while I transfer your call.”';
      return '';
    }

    function renderTransferPanel() {
      if (!ui.transferPanel || ui.transferPanel.hidden) return;
      const c = call;
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
      const c = call;
      let status = null;
      if (live(c)) {
        status = c.phase === 'hanging_up' ? 'ending' : (c.phase === 'answered' && c.status === 'connected')
          ? (c.role === 'consultant' || c.consult ? 'consulting' : c.transfer ? 'transferring' : c.held ? 'held' : 'connected')
          : 'connecting';
      } else if (wrap) {
        status = 'wrapup';
      } else if (notice && Date.now() < notice.until) {
        status = 'notice';
      }
      ui.bar.hidden = !status;
      if (!status) return;
      ui.bar.dataset.status = status;
      ui.bar.dataset.role = live(c) ? c.role : '';
      const convId = live(c) ? c.conversationId : wrap ? wrap.conversationId : null;
      const consultant = live(c) && c.role === 'consultant'; // not our conversation (yet): nothing to open
      ui.who.hidden = !convId || consultant;
      ui.who.textContent = convId && !consultant ? desk.label(convId) : '';
      ui.who.dataset.conversationId = convId && !consultant ? convId : '';
      if (live(c)) {
        ui.status.textContent = callStatusText(c);
        const hint = callHintText(c);
        ui.hint.hidden = !hint;
        ui.hint.textContent = hint;
      } else if (wrap) {
        let why = ENDED_REASON[wrap.reason] || 'Call ended';
        if (wrap.reason === 'transferred' && wrap.to) why = `Transferred to ${wrap.to}`;
        ui.status.textContent = TEXT.wrapup;
        ui.hint.hidden = false;
        ui.hint.textContent = `${why}${wrap.durationMs ? ` after ${timeText(wrap.durationMs)}` : ''}. ` +
          (wrap.reason === 'transferred' ? 'The conversation is theirs now; press Done when you are ready.' : TEXT.wrapupHint);
      } else {
        ui.status.textContent = notice.text;
        ui.hint.hidden = true;
      }
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
        ui.mute.disabled = !c.mic || c.phase === 'hanging_up';
        ui.mute.setAttribute('aria-pressed', String(c.muted));
        ui.mute.textContent = c.muted ? 'Unmute' : 'Mute';
        const holding = c.holdPending !== null ? c.holdPending : c.held;
        ui.hold.hidden = c.role !== 'agent';
        ui.hold.disabled = !answered || c.status !== 'connected' || c.holdPending !== null || !canControl(c);
        ui.hold.setAttribute('aria-pressed', String(holding));
        ui.hold.textContent = holding ? 'Resume' : 'Hold';
        ui.transferToggle.hidden = c.role !== 'agent';
        ui.transferToggle.disabled = !canControl(c);
        ui.transferToggle.title = 'Transfer to another agent or a queue, or consult a colleague first';
        ui.hangup.disabled = c.phase === 'hanging_up';
        ui.hangup.textContent = c.role === 'consultant' ? 'Leave' : 'Hang up';
        ui.hangup.title = c.role === 'consultant' ? 'End the consultation; the caller goes back to your colleague' : '';
      }
      if (!inCall || ui.transferToggle.disabled) closeTransferPanel();
      else renderTransferPanel();
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
          stopRinging(ring.consult ? TEXT.consultMissed : TEXT.missed); // the gateway has given the call back by now
          return;
        }
      }
      if (notice && now >= notice.until) {
        notice = null;
        renderBar();
      }
      if (live(call) && call.error && now >= call.error.until) {
        call.error = null;
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

    // ------------------------------------------------------------ supervisors: live calls, listen in, whisper

    let supervisor = false;
    // The Live calls panel: GET /api/calls while it is open (or while we listen to a call).
    const board = { open: false, calls: [], error: '', fetchedAt: 0, timer: null, loading: false, rows: new Map() };
    // The call we listen to: {callId, conversationId, agentName, mode, prevMode, phase (mic -> gathering -> offered ->
    // answered -> ended), pc, mic, stream, connectedAt, reconnecting, error, timer, switchAt, listed}
    let mon = null;
    let monLeft = null; // {callId, at}: we sent "hangup"; an error about it (the call had ended already) is no news

    function monLive(m) {
      return !!m && m === mon && m.phase !== 'ended';
    }

    function shortConv(id) {
      const m = /^([A-Za-z]{1,5}_)(.+)$/.exec(String(id || ''));
      return m ? m[1] + m[2].slice(0, 6) : String(id || '—').slice(0, 10);
    }

    /** agent.js says whether this agent has the supervisor role (login response, or GET /api/calls answering 200). */
    function setSupervisor(on) {
      supervisor = !!on;
      if (ui.liveToggle) ui.liveToggle.hidden = !supervisor;
      if (!supervisor) {
        closeLivePanel();
        board.calls = [];
        board.rows.clear();
        if (ui.liveList) ui.liveList.replaceChildren();
      }
    }

    function openLivePanel() {
      if (!supervisor || !ui.livePanel) return;
      board.open = true;
      ui.livePanel.hidden = false;
      ui.liveToggle.setAttribute('aria-expanded', 'true');
      renderLive();
      poll();
    }

    function closeLivePanel() {
      board.open = false;
      if (ui.livePanel) ui.livePanel.hidden = true;
      if (ui.liveToggle) ui.liveToggle.setAttribute('aria-expanded', 'false');
      schedulePoll();
    }

    function wantPolling() {
      return supervisor && (board.open || monLive(mon));
    }

    function schedulePoll() {
      clearTimeout(board.timer);
      board.timer = null;
      if (wantPolling()) board.timer = setTimeout(poll, LIVE_POLL);
    }

    function poll() {
      clearTimeout(board.timer);
      board.timer = null;
      if (!wantPolling()) return;
      refreshCalls().finally(schedulePoll);
    }

    async function refreshCalls() {
      const token = desk.token ? desk.token() : null;
      if (!token || board.loading) return;
      board.loading = true;
      try {
        const res = await fetch('/api/calls', {
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store',
        });
        if (res.status === 403) {
          board.error = 'Only supervisors can see the live calls.';
          setSupervisor(false);
          return;
        }
        if (!res.ok) {
          board.error = res.status === 401 ? 'Your session has expired. Sign in again.'
            : `Could not load the live calls (HTTP ${res.status}).`;
          return;
        }
        const body = await res.json();
        board.calls = Array.isArray(body && body.calls)
          ? body.calls.filter((x) => x && typeof x.call_id === 'string' && x.call_id) : [];
        board.error = '';
        board.fetchedAt = Date.now();
        const m = mon;
        if (monLive(m) && m.listed && m.phase === 'answered' && !board.calls.some((x) => x.call_id === m.callId)) {
          endMonitor(m, 'The call ended.'); // the gateway closed our leg with it
        }
      } catch (_) {
        board.error = 'Could not reach the gateway to list the live calls.';
      } finally {
        board.loading = false;
        renderLive();
      }
    }

    /** Listen / Whisper on a row: join with our own offer, or switch the mode of the call we already hear. */
    async function joinMonitor(callId, mode) {
      const entry = board.calls.find((x) => x.call_id === callId);
      const current = mon;
      if (monLive(current) && current.callId === callId) {
        switchMode(current, mode);
        return;
      }
      if (!entry) return;
      if (monLive(current)) leaveMonitor('');
      const m = {
        callId, conversationId: entry.conversation_id || '', agentName: entry.agent_name || entry.agent_id || 'the agent',
        mode, prevMode: mode, phase: 'mic', pc: null, mic: null, stream: null, connectedAt: 0, reconnecting: false,
        error: '', timer: null, switchAt: 0, listed: true,
      };
      mon = m;
      monLeft = null;
      renderLive();
      if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function' ||
          typeof window.RTCPeerConnection !== 'function') {
        endMonitor(m, TEXT.unsupported);
        return;
      }
      let mic;
      try {
        mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (err) {
        endMonitor(m, micProblem(err));
        return;
      }
      if (!monLive(m)) {
        for (const t of mic.getTracks()) t.stop();
        return;
      }
      m.mic = mic;
      micFor(m); // listening: the track is off, the gateway gets silence from us
      m.phase = 'gathering';
      renderLive();
      try {
        const pc = new RTCPeerConnection({ iceServers: iceServers() });
        m.pc = pc;
        pc.addEventListener('track', (e) => playMonitor(m, e));
        pc.addEventListener('connectionstatechange', () => onMonitorPeer(m));
        for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
        await pc.setLocalDescription(await pc.createOffer());
        await iceGathered(pc, ICE_WAIT);
      } catch (_) {
        if (monLive(m)) endMonitor(m, TEXT.monitorFailed);
        return;
      }
      if (!monLive(m)) return;
      const sdp = m.pc.localDescription && m.pc.localDescription.sdp;
      if (!sdp || sdp.length > MAX_SDP_CHARS) {
        endMonitor(m, TEXT.monitorFailed);
        return;
      }
      if (!(await whenReady(SOCKET_WAIT)) || !monLive(m) ||
          !desk.send({ type: 'call_monitor', call_id: m.callId, mode: m.mode, sdp })) {
        if (monLive(m)) endMonitor(m, 'Not connected to the gateway — could not join the call.');
        return;
      }
      m.prevMode = m.mode;
      m.phase = 'offered';
      m.timer = setTimeout(() => {
        if (monLive(m) && m.phase === 'offered') endMonitor(m, 'The gateway did not answer. Try again.');
      }, ANSWER_WAIT);
      renderLive();
      schedulePoll();
    }

    function micFor(m) {
      if (m.mic) for (const t of m.mic.getAudioTracks()) t.enabled = m.mode === 'whisper' && m.phase !== 'ended';
    }

    /** The same call_monitor frame without sdp: the gateway switches between listen and whisper. */
    function switchMode(m, mode) {
      if (!monLive(m) || m.mode === mode) return;
      if (m.phase === 'mic' || m.phase === 'gathering') { // not offered yet: the offer will carry the mode
        m.mode = mode;
        micFor(m);
        renderLive();
        return;
      }
      if (m.phase !== 'answered') return;
      if (!desk.send({ type: 'call_monitor', call_id: m.callId, mode })) {
        m.error = 'Not connected to the gateway — try again in a moment.';
        renderLive();
        return;
      }
      m.prevMode = m.mode;
      m.mode = mode;
      m.switchAt = Date.now();
      m.error = '';
      micFor(m);
      renderLive();
    }

    /** Leave the call we listen to ("hangup" from a supervisor ends only their leg; the call goes on). */
    function leaveMonitor(text) {
      const m = mon;
      if (!monLive(m)) return;
      const sent = (m.phase === 'offered' || m.phase === 'answered') && desk.send({ type: 'hangup', call_id: m.callId });
      if (sent) monLeft = { callId: m.callId, at: Date.now() };
      m.phase = 'ended';
      m.error = text || '';
      clearTimeout(m.timer);
      micFor(m);
      if (ui.monitorAudio && ui.monitorAudio.srcObject === m.stream) ui.monitorAudio.muted = true;
      // The gateway closes our leg on "hangup"; ours closes a moment later.
      setTimeout(() => releaseMonitor(m), sent ? MONITOR_LEAVE_GRACE : 0);
      renderLive();
      schedulePoll();
    }

    function endMonitor(m, text) {
      if (!m || m.phase === 'ended') return;
      m.phase = 'ended';
      m.error = text || '';
      releaseMonitor(m);
      renderLive();
      schedulePoll();
    }

    function releaseMonitor(m) {
      clearTimeout(m.timer);
      m.timer = null;
      if (m.mic) for (const t of m.mic.getTracks()) t.stop();
      if (m.pc) {
        try { m.pc.close(); } catch (_) { /* already closed */ }
      }
      if (ui.monitorAudio && m.stream && ui.monitorAudio.srcObject === m.stream) {
        try { ui.monitorAudio.pause(); } catch (_) { /* ignore */ }
        ui.monitorAudio.srcObject = null;
      }
    }

    function playMonitor(m, e) {
      if (!monLive(m) || !ui.monitorAudio) return;
      m.stream = (e.streams && e.streams[0]) || new MediaStream([e.track]);
      ui.monitorAudio.muted = false;
      ui.monitorAudio.srcObject = m.stream;
      const played = ui.monitorAudio.play();
      if (played && typeof played.catch === 'function') played.catch(() => { /* autoplay refused: media still flows */ });
    }

    function onMonitorPeer(m) {
      if (!monLive(m) || !m.pc) return;
      const state = m.pc.connectionState;
      if (state === 'connected') {
        if (!m.connectedAt) m.connectedAt = Date.now();
        m.reconnecting = false;
      } else if (state === 'disconnected') {
        m.reconnecting = true;
      } else if (state === 'failed' || state === 'closed') {
        endMonitor(m, TEXT.monitorDropped); // the call ended (the gateway closes supervisors' legs) or ICE failed
        return;
      }
      renderLive();
    }

    function monitorAnswer(f) {
      const m = mon;
      if (!monLive(m) || f.call_id !== m.callId || m.phase !== 'offered') return;
      clearTimeout(m.timer);
      m.phase = 'answered';
      m.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') }).catch(() => {
        if (monLive(m)) leaveMonitor(TEXT.monitorFailed);
      });
      renderLive();
    }

    /** An error frame while we join, switch or leave a monitored call; true when it was about that. */
    function monitorError(f, message) {
      const m = mon;
      const c = call;
      const callBusy = live(c) && (c.request || c.holdPending !== null || c.phase === 'offered' || c.phase === 'hanging_up');
      if (callBusy) return false; // our own call's request is more likely what the gateway refused
      const joinCodes = ['forbidden', 'already_monitoring', 'not_connected', 'not_found', 'bad_sdp', 'no_audio', 'bad_field',
        'not_ringing'];
      if (monLive(m) && m.phase === 'offered' && joinCodes.includes(f.code)) {
        endMonitor(m, message);
        return true;
      }
      if (monLive(m) && m.phase === 'answered' && m.switchAt && Date.now() - m.switchAt < 5000 &&
          ['not_monitoring', 'not_connected', 'not_found', 'forbidden', 'bad_field'].includes(f.code)) {
        m.switchAt = 0;
        if (f.code === 'bad_field' || f.code === 'forbidden') {
          m.mode = m.prevMode;
          m.error = message;
          micFor(m);
          renderLive();
        } else {
          endMonitor(m, message);
        }
        return true;
      }
      if (monLeft && Date.now() - monLeft.at < 5000 && ['not_ringing', 'not_found', 'not_monitoring'].includes(f.code)) {
        monLeft = null; // we left a call that had ended already
        return true;
      }
      return false;
    }

    function monitorText(m) {
      const who = m.agentName || 'the agent';
      if (m.phase === 'ended') return m.error || `You left ${who}'s call.`;
      if (m.phase === 'mic') return TEXT.mic;
      if (m.phase !== 'answered' || !m.connectedAt) return `Joining ${who}'s call…`;
      if (m.reconnecting) return TEXT.reconnecting;
      return m.mode === 'whisper' ? `Whispering to ${who} — the caller cannot hear you`
        : `Listening to ${who}'s call — nobody hears you`;
    }

    function renderLive() {
      if (!ui.livePanel) return;
      const m = mon;
      const listening = monLive(m);
      ui.liveToggle.dataset.monitoring = listening ? (m.mode === 'whisper' ? 'whisper' : 'true') : 'false';
      if (ui.livePanel.hidden) return;
      ui.liveUpdated.textContent = board.fetchedAt
        ? `Updated ${new Date(board.fetchedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`
        : 'Loading…';
      ui.liveError.hidden = !board.error;
      ui.liveError.textContent = board.error;
      // the call we listen to (or why we stopped)
      const showBar = !!m; // the call we listen to, or how the last one ended
      ui.monitorBar.hidden = !showBar;
      if (showBar) {
        ui.monitorBar.dataset.mode = m.mode;
        ui.monitorBar.dataset.phase = m.phase === 'ended' ? 'ended' : (m.phase === 'answered' && m.connectedAt ? 'connected' : 'joining');
        ui.monitorBar.dataset.callId = m.callId;
        ui.monitorStatus.textContent = monitorText(m) + (listening && m.error ? ` (${m.error})` : '');
        // the row of the call has its own Leave; this one is for a call the list does not show (any more)
        ui.monitorLeave.hidden = !listening || board.calls.some((x) => x.call_id === m.callId);
      }
      const me = desk.me();
      const seen = new Set();
      board.calls.forEach((entry, i) => {
        seen.add(entry.call_id);
        let row = board.rows.get(entry.call_id);
        if (!row) {
          row = makeRow(entry.call_id);
          board.rows.set(entry.call_id, row);
        }
        const mine = listening && m.callId === entry.call_id;
        const status = String(entry.status || '');
        const others = Object.entries(entry.monitors && typeof entry.monitors === 'object' ? entry.monitors : {})
          .filter(([sid]) => !(me && sid === me.id))
          .map(([sid, mode]) => `${sid} ${mode === 'whisper' ? 'whispering' : 'listening'}`);
        row.li.dataset.status = status;
        row.li.dataset.conversationId = entry.conversation_id || '';
        row.li.dataset.monitoring = String(mine);
        row.title.textContent = entry.agent_name || entry.agent_id || 'Agent';
        row.meta.textContent = [`Customer ${shortConv(entry.conversation_id)}`,
          status === 'connected' ? (entry.held ? 'on hold' : 'connected') : status,
          ...others].join(' · ');
        const own = !!me && entry.agent_id === me.id;
        const joinable = status === 'connected' && !own;
        const joining = mine && m.phase !== 'answered';
        for (const [btn, mode] of [[row.listen, 'listen'], [row.whisper, 'whisper']]) {
          btn.disabled = !(joinable || mine) || joining;
          btn.setAttribute('aria-pressed', String(mine && m.mode === mode));
          btn.title = own ? 'This is your own call' : !joinable && !mine ? 'Possible once the call is connected'
            : mode === 'listen' ? 'Hear the caller and the agent; nobody hears you' : 'The agent hears you; the caller does not';
        }
        row.leave.hidden = !mine;
        if (ui.liveList.children[i] !== row.li) ui.liveList.insertBefore(row.li, ui.liveList.children[i] || null);
      });
      for (const [id, row] of board.rows) {
        if (!seen.has(id)) {
          row.li.remove();
          board.rows.delete(id);
        }
      }
      ui.liveEmpty.hidden = board.calls.length > 0 || !board.fetchedAt;
    }

    /** One row of the Live calls list; its buttons stay the same DOM nodes across refreshes. */
    function makeRow(callId) {
      const el = (tag, cls, attrs) => {
        const e = document.createElement(tag);
        if (cls) e.className = cls;
        for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
        return e;
      };
      const li = el('li', 'live-call', { 'data-testid': 'live-call', 'data-call-id': callId });
      const title = el('span', 'live-call-title', { 'data-testid': 'live-call-agent' });
      const meta = el('span', 'live-call-meta', { 'data-testid': 'live-call-meta' });
      const actions = el('span', 'live-call-actions');
      const listen = el('button', 'btn small', { type: 'button', 'data-testid': 'live-call-listen', 'aria-pressed': 'false' });
      listen.textContent = 'Listen';
      const whisper = el('button', 'btn small', { type: 'button', 'data-testid': 'live-call-whisper', 'aria-pressed': 'false' });
      whisper.textContent = 'Whisper';
      const leave = el('button', 'btn small danger', { type: 'button', 'data-testid': 'live-call-leave' });
      leave.textContent = 'Leave';
      leave.hidden = true;
      listen.addEventListener('click', () => { joinMonitor(callId, 'listen'); });
      whisper.addEventListener('click', () => { joinMonitor(callId, 'whisper'); });
      leave.addEventListener('click', () => leaveMonitor(''));
      actions.append(listen, whisper, leave);
      li.append(title, actions, meta);
      return { li, title, meta, listen, whisper, leave };
    }

    function monitorState() {
      const m = mon;
      return {
        supervisor,
        panelOpen: board.open,
        calls: board.calls.map((x) => x.call_id),
        monitor: m ? { call_id: m.callId, mode: m.mode, phase: m.phase, connected: !!m.connectedAt, error: m.error } : null,
      };
    }

    async function pcStats(pc) {
      const out = { inboundAudioLevel: 0, totalAudioEnergy: 0, totalSamplesDuration: 0, bytesReceived: 0,
        packetsReceived: 0, connectionState: pc ? pc.connectionState : 'closed' };
      if (!pc || pc.connectionState === 'closed') return out;
      const report = await pc.getStats();
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

    // ------------------------------------------------------------ test hooks

    function state() {
      const c = call;
      return {
        ringing: ring ? { call_id: ring.callId, conversation_id: ring.conversationId, error: ring.error,
          consult: ring.consult, from_agent_name: ring.fromName } : null,
        ringTone: !!ringer.timer,
        call: c ? { id: c.id, conversation_id: c.conversationId, phase: c.phase, status: c.status, reason: c.reason,
          muted: c.muted, held: c.held, connected: !!c.connectedAt, role: c.role,
          consult: c.consult ? { agent_id: c.consult.agentId, state: c.consult.state } : null,
          transfer: c.transfer ? { kind: c.transfer.kind, target: c.transfer.target } : null,
          error: c.error ? c.error.text : '' } : null,
        wrapup: wrap ? { conversation_id: wrap.conversationId, reason: wrap.reason, ...(wrap.to ? { to: wrap.to } : {}) }
          : null,
      };
    }

    /** What the softphone receives (inbound-rtp audio of the current call). */
    function stats() {
      const c = call;
      return pcStats(c ? c.pc : null);
    }

    /** What the supervisor hears of the call they listen to (inbound-rtp audio of the monitor connection). */
    function monitorStats() {
      const m = mon;
      return pcStats(m ? m.pc : null);
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
    ui.transferToggle.addEventListener('click', () => {
      if (ui.transferPanel.hidden) openTransferPanel(true);
      else closeTransferPanel();
    });
    ui.transferPanel.addEventListener('submit', (e) => { e.preventDefault(); transfer(); });
    ui.transferConsult.addEventListener('click', consult);
    ui.transferClose.addEventListener('click', closeTransferPanel);
    for (const radio of [ui.transferKindAgent, ui.transferKindQueue]) radio.addEventListener('change', renderTransferPanel);
    ui.transferPanel.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeTransferPanel(); });
    ui.consultComplete.addEventListener('click', () => consultAction('complete'));
    ui.consultCancel.addEventListener('click', () => consultAction('cancel'));
    ui.liveToggle.addEventListener('click', () => {
      if (board.open) closeLivePanel();
      else openLivePanel();
    });
    ui.liveClose.addEventListener('click', closeLivePanel);
    ui.monitorLeave.addEventListener('click', () => leaveMonitor(''));
    window.addEventListener('beforeunload', (e) => {
      if (!live(call)) return;
      e.preventDefault();
      e.returnValue = ''; // "you are on a call": leaving drops it and the caller goes back to the queue
    });
    render();

    return {
      onCallStatus, onCallAnswer, onError, onWelcome, onSocketDown, onUnassigned, onAssigned, onConversation, reset,
      state, stats, setSupervisor, monitorState, monitorStats,
      /** True while a call is live (agent.js uses it to label the conversation). */
      liveConversation: () => (live(call) ? call.conversationId : null),
    };
  }

  window.CGSoftphone = { create };
})();
