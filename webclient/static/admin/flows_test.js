// The test console: the open version (draft or live) run as a chat bot in the page, or as a test call with the
// admin's microphone, through the customer socket (shared/socket.js) with the admin's access token and
// `test_flow` {name, version} in the hello (docs/protocol.md "Test runs"): a conversation marked `test` that reports
// leave out. The run's steps (the timeline's `ivr` events) are listed beside the graph, the current node
// highlighted on it.

import { S } from '../desk/state.js';
import { SignalingSocket } from '../shared/socket.js';
import { CUSTOMER_MIC, askCallIce, canCall, micErrorReason, offerWithMic, refusedCallIce, rtcConfig, setWelcomeIce, takeCallIce } from '../shared/rtc.js';
import { newClientId } from '../shared/ids.js';
import { F } from './flows_state.js';
import { showPath } from './flows_graph.js';

const $ = (id) => document.getElementById(id);
const CALL_ICE_WAIT = 2000;
const TURN_WAIT = 2000; // at most this long for the test call's own TURN pair (call_ice), else the welcome's
// The page's module script: data-ice-servers / data-ice-transport-policy on it as on the widget's tag.
const SCRIPT = document.querySelector('script[src$="/admin/flows_main.js"]');
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const T = { sock: null, run: null, path: [], seen: new Set(), call: null };

export function initTest() {
  $('fe-test-start').addEventListener('click', () => begin(false));
  $('fe-call-start').addEventListener('click', () => begin(true));
  $('fe-test-stop').addEventListener('click', () => end('Test ended.'));
  $('fe-chat-form').addEventListener('submit', (e) => { e.preventDefault(); sendText(); });
  const pad = $('fe-keypad');
  for (const k of KEYS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn small';
    b.textContent = k;
    b.setAttribute('aria-label', `Key ${k}`);
    b.addEventListener('click', () => sendKey(k));
    pad.appendChild(b);
  }
  testVersionChanged();
}

/** The open version changed: the console now runs that one (a run in progress ends). */
export function testVersionChanged() {
  if (T.run) end('The open version changed: test ended.');
  renderTestWhat();
}

/** What the console runs: the open version, and whether it is the live one (again after a publish or rollback). */
export function renderTestWhat() {
  const live = F.flow && F.openId === F.flow.live_version;
  $('fe-test-what').textContent = F.openId
    ? `Runs ${F.name} version ${F.openId} (${live ? 'live' : 'not live'}) as a test: nothing reaches agents' queues or reports.`
    : '';
  $('fe-test-why').hidden = F.admin; // a supervisor reads flows only: the buttons say why they are off
  $('fe-test-start').disabled = !F.openId || !F.admin;
  $('fe-call-start').disabled = !F.openId || !F.admin || !canCall();
}

function hello() {
  // channel 'voice': a test call only (no chat bot greets before the call runs the flow)
  const testFlow = { name: F.name, version: T.run.version, channel: T.run.call ? 'voice' : 'chat' };
  return { type: 'hello', token: null, context: { page: location.href }, admin_token: S.token, test_flow: testFlow };
}

function begin(withCall) {
  if (T.run) end();
  T.run = { version: F.openId, call: withCall, cid: null };
  T.path = [];
  T.seen = new Set();
  $('fe-chat-log').replaceChildren();
  $('fe-steps').replaceChildren();
  showPath([], { at: null });
  line('system', withCall ? 'Calling the test line…' : 'Connecting the test chat…');
  T.sock = new SignalingSocket({
    url: () => location.origin.replace(/^http/i, 'ws') + '/ws/customer',
    hello,
    onFrame,
    onClose: (e) => {
      if (e && e.code >= 4000 && e.code < 4100) { end(`The gateway closed the test (${e.reason || e.code}).`); return false; }
      return Boolean(T.run);
    },
    enabled: () => Boolean(T.run),
    welcomeTimeout: 10000,
  });
  T.sock.connect();
  $('fe-test-stop').disabled = false;
  $('fe-chat-input').disabled = withCall;
  $('fe-chat-send').disabled = withCall;
  $('fe-keypad').hidden = !withCall;
}

function end(message) {
  hangUp();
  if (T.sock) T.sock.stop('test ended');
  T.sock = null;
  T.run = null;
  $('fe-test-stop').disabled = true;
  $('fe-chat-input').disabled = true;
  $('fe-chat-send').disabled = true;
  $('fe-keypad').hidden = true;
  if (message) line('system', message);
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome':
      T.sock.welcomed();
      setWelcomeIce(f.ice_servers); // a TURN server and credentials made for this socket (--turn-urls)
      if (f.conversation_id || f.conversation) T.run.cid = f.conversation_id || (f.conversation && f.conversation.id);
      if (Array.isArray(f.events)) f.events.forEach(onEvent);
      if (T.run.call && !T.call) placeCall();
      else if (!T.run.call) { $('fe-chat-input').disabled = false; $('fe-chat-send').disabled = false; line('system', 'Connected. Write as the customer would.'); }
      break;
    case 'event': onEvent(f.event); break;
    case 'call_ice': takeCallIce(f); break;
    case 'call_answer': onAnswer(f); break;
    case 'call_status': onCallStatus(f); break;
    case 'error': refusedCallIce(f); line('system', `Refused: ${f.message || f.code}`); if (f.field === 'test_flow' || f.field === 'admin_token' || f.code === 'forbidden') end(); break;
    default: break;
  }
}

function onEvent(ev) {
  if (!ev || (ev.id && T.seen.has(ev.id))) return;
  if (ev.id) T.seen.add(ev.id);
  if (ev.type === 'message') line(ev.author === 'customer' ? 'me' : ev.author === 'bot' ? 'bot' : 'system', ev.text || '');
  else if (ev.type === 'ivr') step(ev);
  else if (ev.type === 'choices' && Array.isArray(ev.choices)) line('bot', ev.choices.map((c) => c.label || c.text || c).join(' · '));
  else if (ev.type === 'closed') line('system', 'The conversation was closed.');
}

/** A step of the run: listed, and the node it entered highlighted on the graph. */
function step(ev) {
  const li = document.createElement('li');
  const node = document.createElement('span');
  node.className = 'fe-step-node';
  node.textContent = ev.node || '';
  li.append(node, ` ${ev.kind || ''}${ev.detail ? ` — ${ev.detail}` : ''}`);
  li.dataset.node = ev.node || '';
  li.dataset.kind = ev.kind || '';
  $('fe-steps').appendChild(li);
  li.scrollIntoView({ block: 'nearest' });
  if (ev.kind === 'enter' && ev.node) T.path.push(ev.node);
  showPath(T.path, { at: ev.node || T.path[T.path.length - 1] || null });
}

function line(who, text) {
  const li = document.createElement('li');
  li.className = `from-${who}`;
  li.textContent = text;
  $('fe-chat-log').appendChild(li);
  $('fe-chat-log').scrollTop = $('fe-chat-log').scrollHeight;
}

function sendText() {
  const input = $('fe-chat-input');
  const text = input.value.trim();
  if (!text || !T.sock || !T.sock.ready) return;
  if (T.sock.send({ type: 'message', client_id: newClientId('m-'), text })) input.value = '';
}

// ------------------------------------------------------------ the test call

async function placeCall() {
  const c = { id: newClientId('call-'), pc: null, mic: null };
  T.call = c;
  // a TURN pair bound to this test call (call_ice), asked for while the microphone starts
  const ice = askCallIce((f) => Boolean(T.sock && T.sock.send(f)), c.id, TURN_WAIT);
  try {
    c.mic = await navigator.mediaDevices.getUserMedia(CUSTOMER_MIC);
  } catch (err) {
    end(`No microphone for the test call (${micErrorReason(err)}).`);
    return;
  }
  const callIce = await ice;
  if (T.call !== c) { c.mic.getTracks().forEach((t) => t.stop()); return; }
  c.pc = new RTCPeerConnection(rtcConfig(SCRIPT, callIce));
  c.pc.addEventListener('track', (e) => { $('fe-call-audio').srcObject = e.streams[0] || new MediaStream([e.track]); });
  await offerWithMic(c.pc, c.mic, CALL_ICE_WAIT);
  if (T.call !== c) return;
  T.sock.send({ type: 'call_offer', call_id: c.id, sdp: c.pc.localDescription.sdp, test_flow: { name: F.name, version: T.run.version } });
  line('system', 'Ringing the test line with your microphone…');
}

function onAnswer(f) {
  const c = T.call;
  if (!c || f.call_id !== c.id) return;
  c.pc.setRemoteDescription({ type: 'answer', sdp: String(f.sdp || '') })
    .then(() => line('system', 'Connected: speak, or press keys on the keypad.'))
    .catch(() => end('The test call could not connect.'));
}

function onCallStatus(f) {
  if (!T.call || f.call_id !== T.call.id) return;
  if (f.status === 'ended') end(`The test call ended${f.reason ? ` (${f.reason})` : ''}.`);
}

function sendKey(k) {
  if (T.call && T.sock) T.sock.send({ type: 'dtmf', call_id: T.call.id, digits: k });
}

function hangUp() {
  const c = T.call;
  T.call = null;
  if (!c) return;
  if (T.sock && T.sock.ready) T.sock.send({ type: 'hangup', call_id: c.id });
  if (c.pc) c.pc.close();
  if (c.mic) c.mic.getTracks().forEach((t) => t.stop());
  $('fe-call-audio').srcObject = null;
}
