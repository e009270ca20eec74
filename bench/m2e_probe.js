// Mouth-to-ear probe (bench/mouth_to_ear.py): injected into a page with Playwright's add_init_script.
//
// - The page's microphone is a generated signal: getUserMedia returns a clone of a MediaStreamAudioDestinationNode
//   track playing coded clicks (12 ms of one of 16 tones, one every SPACING ms, codes in turn), so a lost or
//   doubled click is counted, never taken for its neighbour. A second generator ("direct") feeds the direct
//   RTCPeerConnection pair the bench makes between two pages.
// - Every sent track (the generator's own track) and every received track (each RTCPeerConnection's 'track') is read
//   with MediaStreamTrackProcessor; a click's onset is timed from AudioData.timestamp (the browser's monotonic
//   clock, one clock for every page of the browser) plus the sample index, and its code is read from the tone.
// - window.__m2e holds the onsets: {line: {sent: [[t_us, code], ...], received: [[t_us, code], ...]}}.
(() => {
  if (window.__m2e) return;
  const SPACING = 200; // ms between clicks
  const CLICK_MS = 12;
  const AMPLITUDE = 0.3; // about -10 dBFS
  const FREQS = Array.from({ length: 16 }, (_, k) => 500 + 250 * k); // 16 codes: a 3.2 s cycle
  const THRESHOLD = 0.3 * AMPLITUDE; // a sample this loud starts a click ...
  const QUIET_US = 80000; // ... after this long without one
  const CODE_SAMPLES = 384; // 8 ms read for the tone, starting 1 ms after the onset
  const lines = {}; // line -> {sent, received, gen}
  let ctx = null;

  function line(name) {
    if (!lines[name]) lines[name] = { sent: [], received: [], last: { sent: 0, received: 0 }, readers: 0, gen: null };
    return lines[name];
  }

  function clickBuffer(rate) {
    const period = Math.round((rate * SPACING) / 1000);
    const buffer = ctx.createBuffer(1, period * FREQS.length, rate);
    const data = buffer.getChannelData(0);
    const n = Math.round((rate * CLICK_MS) / 1000);
    const fade = Math.round(rate * 0.002);
    FREQS.forEach((f, k) => {
      for (let i = 0; i < n; i++) {
        const tail = Math.min(1, (n - i) / fade); // a sharp start (cosine phase: full height), a 2 ms fade out
        data[k * period + i] = AMPLITUDE * tail * Math.cos((2 * Math.PI * f * i) / rate);
      }
    });
    return buffer;
  }

  /** The generator of a line: a looping click buffer into its own destination node; its track is read as sent. */
  function generator(name) {
    const l = line(name);
    if (l.gen) return l.gen;
    if (!ctx) ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
    const dest = ctx.createMediaStreamDestination();
    const src = ctx.createBufferSource();
    src.buffer = clickBuffer(ctx.sampleRate);
    src.loop = true;
    src.connect(dest);
    // lines start at different phases, so their clicks are not simultaneous
    src.start(ctx.currentTime + 0.05 + (Object.keys(lines).length * SPACING) / 3000);
    const track = dest.stream.getAudioTracks()[0];
    l.gen = { dest, src, track };
    watch(track, name, 'sent');
    if (ctx.state !== 'running') ctx.resume();
    return l.gen;
  }

  function code(samples, rate) {
    let best = -1;
    let bestPower = 0;
    FREQS.forEach((f, k) => {
      let re = 0;
      let im = 0;
      for (let i = 0; i < samples.length; i++) {
        const w = (2 * Math.PI * f * i) / rate;
        re += samples[i] * Math.cos(w);
        im -= samples[i] * Math.sin(w);
      }
      const power = re * re + im * im;
      if (power > bestPower) {
        bestPower = power;
        best = k;
      }
    });
    return best;
  }

  /** Reads a track's audio and notes each click: [onset (µs, AudioData clock), code]. */
  async function watch(track, name, side) {
    const l = line(name);
    l.readers += 1;
    const reader = new MediaStreamTrackProcessor({ track, maxBufferSize: 500 }).readable.getReader();
    let lastLoud = -Infinity;
    let pending = null; // {t, samples: [], rate}
    for (;;) {
      let got;
      try {
        got = await reader.read();
      } catch (err) {
        l.error = String(err);
        break;
      }
      if (got.done) break;
      const data = got.value;
      const n = data.numberOfFrames;
      const rate = data.sampleRate;
      const mono = new Float32Array(n);
      data.copyTo(mono, { planeIndex: 0, format: 'f32-planar' });
      const t0 = data.timestamp;
      data.close();
      l.last[side] = t0 + (1e6 * n) / rate;
      for (let i = 0; i < n; i++) {
        const t = t0 + (1e6 * i) / rate;
        if (pending) {
          pending.skip -= 1;
          if (pending.skip < 0) pending.samples.push(mono[i]);
          if (pending.samples.length >= CODE_SAMPLES) {
            l[side].push([pending.t, code(pending.samples, rate)]);
            pending = null;
          }
        }
        if (Math.abs(mono[i]) >= THRESHOLD) {
          if (t - lastLoud > QUIET_US && !pending) pending = { t, samples: [], skip: Math.round(rate / 1000) };
          lastLoud = t;
        }
      }
    }
    l.readers -= 1;
  }

  // the page's microphone: the "gw" line (the real device is asked once, so the page may use host candidates)
  const md = navigator.mediaDevices;
  const realGetUserMedia = md && md.getUserMedia ? md.getUserMedia.bind(md) : null;
  if (md) {
    md.getUserMedia = async (constraints) => {
      if (!constraints || !constraints.audio) return realGetUserMedia(constraints);
      if (realGetUserMedia) {
        const real = await realGetUserMedia({ audio: true });
        for (const t of real.getTracks()) t.stop();
      }
      return new MediaStream([generator('gw').track.clone()]);
    };
  }

  // every peer connection the page makes: its received audio is the "gw" line's far side
  const Native = window.RTCPeerConnection;
  const pcs = {}; // line -> its latest peer connection
  if (Native) {
    class Tapped extends Native {
      constructor(...args) {
        super(...args);
        pcs.gw = this;
        this.addEventListener('track', (e) => {
          if (e.track.kind === 'audio') watch(e.track, 'gw', 'received');
        });
      }
    }
    window.RTCPeerConnection = Tapped;
  }

  // the direct pair: a Native peer connection on the "direct" line, signalled by the bench (non-trickle)
  let direct = null;
  async function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return;
    await new Promise((resolve) => {
      const check = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', check);
      setTimeout(resolve, 3000);
    });
  }
  function directPc() {
    const pc = new Native({ iceServers: [] });
    pc.addTrack(generator('direct').track.clone());
    pc.addEventListener('track', (e) => {
      const audio = document.createElement('audio'); // played like the widget and the desk play theirs
      audio.autoplay = true;
      audio.hidden = true;
      audio.srcObject = new MediaStream([e.track]);
      document.documentElement.appendChild(audio);
      audio.play().catch(() => {});
      watch(e.track, 'direct', 'received');
    });
    direct = pc;
    pcs.direct = pc;
    return pc;
  }

  window.__m2e = {
    spacingMs: SPACING,
    codes: FREQS.length,
    /** Starts the line's generator now (its sent clicks are timed from then on). */
    start(name) { generator(name); return true; },
    async directOffer() {
      const pc = directPc();
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      return pc.localDescription.sdp;
    },
    async directAnswer(sdp) {
      const pc = directPc();
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      return pc.localDescription.sdp;
    },
    async directAccept(sdp) { await direct.setRemoteDescription({ type: 'answer', sdp }); return true; },
    directState() { return direct ? direct.connectionState : 'none'; },
    directClose() { if (direct) direct.close(); direct = null; return true; },
    /** The latest AudioData time (µs) the line's sent track has reached: the bench's window marks. */
    now(name) { return line(name).last.sent; },
    /** The line's received audio so far (getStats inbound-rtp): its jitter buffer, concealment, time stretching. */
    async inbound(name) {
      const pc = pcs[name];
      if (!pc) return null;
      for (const s of (await pc.getStats()).values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          const keys = ['jitterBufferDelay', 'jitterBufferTargetDelay', 'jitterBufferMinimumDelay', 'jitterBufferEmittedCount',
            'jitter', 'packetsReceived', 'packetsLost', 'concealedSamples', 'totalSamplesReceived',
            'insertedSamplesForDeceleration', 'removedSamplesForAcceleration'];
          return Object.fromEntries(keys.map((k) => [k, s[k] || 0]));
        }
      }
      return null;
    },
    onsets(name) {
      const l = line(name);
      return { sent: l.sent, received: l.received, readers: l.readers, error: l.error || null, last: l.last };
    },
  };
})();
