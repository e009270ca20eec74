/*
 * Contact Gateway — the supervisors' wallboard (served at /supervisor): the entry module.
 *
 * Signing in is the desk's (../desk/auth.js, ../desk/login_view.js: the same session and token in this tab's
 * sessionStorage: from the desk, /supervisor opens signed in). Then the agent socket (/ws/agent, ../shared/socket.js) with a hello that
 * takes no desk presence (`presence: false`) and a `wallboard` frame: the gateway pushes a `wallboard` snapshot
 * at once and whenever the center changes (board.js renders it). Only supervisors and admins get it; anyone else
 * is told so. Listen / whisper / barge: monitor.js. The wire protocol: docs/protocol.md "Wallboard".
 *
 * Modules: wallboard_format (pure: durations, thresholds), wallboard_board (the tables), wallboard_monitor (joining
 * calls), wallboard_chats (an agent's or a queue's chats, to watch one), wallboard_watch (watching a chat live:
 * coach, join, move; its controls wallboard_watch_forms, its rules wallboard_watch_rules), wallboard_agent_actions
 * (an agent's row: set away or available, sign out; its rules wallboard_agent_rules), wallboard_help (agents' requests
 * for help: Watch, I'm on it).
 */

import { CLOSE_SESSION_REVOKED, SIGNED_OUT, WELCOME_TIMEOUT, signedOutText } from '../desk/config.js';
import { S } from '../desk/state.js';
import { knownReasons, reasonList } from '../desk/away_reasons.js';
import { readDispositions } from '../desk/dispositions.js';
import { endSession, forgetSession, refreshToken, resumeSession, sessionHooks } from '../desk/auth.js';
import { renderLoginForm, showLoginView, submitLogin } from '../desk/login_view.js';
import { SignalingSocket } from '../shared/socket.js';
import { setWelcomeIce, takeCallIce } from '../shared/rtc.js';
import { gatewayNow, initBoard, refreshButtons, render, renderAgain } from './wallboard_board.js';
import { initMonitor, leave, monitor, monitoring, onAnswer, onError, onStatus } from './wallboard_monitor.js';
import { initChats, openChats } from './wallboard_chats.js';
import { actionsCell, closeActions, onAgents } from './wallboard_agent_actions.js';
import { initHelp, onHelpError, renderHelp, resetHelp } from './wallboard_help.js';
import {
  initWatch, onWatchAck, onWatchError, onWatchEvent, onWatchHistory, onWatchTyping, onWatchWelcome, stopWatching, watch,
  watching,
} from './wallboard_watch.js';

const LARGE_KEY = 'cg.wallboard.large';
const $ = (id) => document.getElementById(id);
const state = { running: false, refused: false };

function localFlag(key) {
  try { return localStorage.getItem(key) === '1'; } catch (_) { return false; }
}

function setLocalFlag(key, on) {
  try { localStorage.setItem(key, on ? '1' : '0'); } catch (_) { /* private mode: not remembered */ }
}

const sock = new SignalingSocket({
  url: () => location.origin.replace(/^http/i, 'ws') + '/ws/agent',
  hello: () => ({ type: 'hello', token: S.token, presence: false }),
  onFrame,
  onClose: (e) => {
    if (e && e.code === CLOSE_SESSION_REVOKED) {
      signOutLocally(SIGNED_OUT.session_revoked);
      return false;
    }
    return true;
  },
  onChange: renderConnection,
  enabled: () => state.running && !state.refused,
  welcomeTimeout: WELCOME_TIMEOUT,
});

function onFrame(f) {
  switch (f.type) {
    case 'welcome':
      sock.welcomed();
      setWelcomeIce(f.ice_servers);
      takeDirectory(f);
      renderConnection();
      sock.send({ type: 'wallboard', watch: true });
      onWatchWelcome();
      break;
    case 'wallboard':
      render(f);
      onAgents(f);
      renderHelp(f);
      break;
    case 'agent_names': takeDirectory(f); break;
    case 'codes': takeDirectory(f); renderAgain(); break; // an admin saved the away reasons: their labels now
    // a watched chat (wallboard_watch.js)
    case 'history': onWatchHistory(f); break;
    case 'event': onWatchEvent(f); break;
    case 'customer_typing': case 'typing': onWatchTyping(f); break;
    case 'ack': onWatchAck(f); break;
    case 'call_ice': takeCallIce(f); break;
    case 'call_answer': onAnswer(f); break;
    case 'call_status': onStatus(f); break;
    case 'error': frameError(f); break;
    default: break;
  }
}

/** Who and what a watched chat's timeline names, and a transfer offers (the welcome's, an agent_names frame's):
 * the desk's state (S), which its timeline rendering reads; the center's away reasons, whose labels the Agents table
 * shows. */
function takeDirectory(f) {
  if (f.agent && typeof f.agent === 'object') S.agent = { ...S.agent, ...f.agent };
  if (Array.isArray(f.roles)) S.roles = f.roles.filter((r) => typeof r === 'string');
  if (f.agent_names && typeof f.agent_names === 'object') S.agentNames = f.agent_names;
  if (Array.isArray(f.queue_names)) S.queueNames = f.queue_names.filter((q) => typeof q === 'string');
  if ('away_reasons' in f) { // an agent's reason as its label (board.js), one taken off the list since too
    S.awayReasons = reasonList(f.away_reasons);
    S.awayLabels = knownReasons(S.awayLabels, S.awayReasons);
  }
  if ('dispositions' in f) S.dispositionLabels = readDispositions(f.dispositions).labels; // a watched chat's close
  if ('takes_contacts' in f) S.takesContacts = Array.isArray(f.takes_contacts) ? f.takes_contacts.filter((a) => typeof a === 'string') : null;
}

function frameError(f) {
  if (f.code === 'token_expired') {
    refreshToken().then((ok) => { if (ok && state.running) sock.reconnectNow(); });
    return;
  }
  if (f.code === 'session_revoked' || f.code === 'unauthorized') {
    signOutLocally(signedOutText(f.code, f.message));
    return;
  }
  if (onHelpError(f)) return; // "I'm on it" refused (answered already): said where it was pressed
  if (onWatchError(f)) return; // about the watched chat: said in its panel
  if (f.code === 'forbidden' && f.field === 'type') { // the wallboard frame refused: not a supervisor
    state.refused = true;
    sock.stop('refused');
    const who = S.agent && S.agent.name ? S.agent.name : 'This account';
    $('wb-refused').textContent = `${who} cannot see the wallboard: it is for supervisors and admins only. ` +
      'Ask an admin for the supervisor role, or go back to the agent desk.';
    $('wb-refused').hidden = false;
    $('wb-live').hidden = true;
    renderConnection();
    return;
  }
  onError(f);
}

function renderConnection() {
  const conn = $('wb-conn');
  const up = sock.ready;
  const text = state.refused ? 'Not allowed' : up ? 'Live' : sock.everFailed ? 'Reconnecting…' : 'Connecting…';
  conn.dataset.state = state.refused ? 'refused' : up ? 'live' : 'connecting';
  conn.textContent = text;
}

// ------------------------------------------------------------ sign in / out

function loginView() {
  return { view: $('login-view'), app: $('board'), agent: $('login-agent'), password: $('login-password'),
    submit: $('login-submit'), error: $('login-error'), title: 'Wallboard — Contact Gateway' };
}

async function start() {
  if (!(await resumeSession())) return; // signed out: the login is shown
  state.running = true;
  state.refused = false;
  document.title = 'Wallboard — Contact Gateway';
  $('login-view').hidden = true;
  $('board').hidden = false;
  $('wb-live').hidden = false;
  $('wb-refused').hidden = true;
  $('wb-me').textContent = S.agent && S.agent.name ? S.agent.name : '';
  sock.connect();
}

/** The session is over (logged out here or elsewhere, expired): back to the login, nothing kept. */
function signOutLocally(message) {
  leave('');
  stopWatching();
  closeActions();
  resetHelp();
  state.running = false;
  sock.stop('logout');
  forgetSession();
  showLoginView(loginView(), message);
}

function onLogout() {
  endSession();
  signOutLocally('');
}

// ------------------------------------------------------------ boot

function setLarge(on) {
  document.body.classList.toggle('wb-large', on);
  $('wb-large').setAttribute('aria-pressed', String(on));
  setLocalFlag(LARGE_KEY, on);
}

function boot() {
  renderLoginForm($('login-view'));
  sessionHooks({ signedOut: (message) => signOutLocally(message) });
  initBoard({ onMonitor: monitor, monitoring, onChats: openChats, agentActions: actionsCell });
  initMonitor({ send: (frame) => sock.send(frame), changed: refreshButtons });
  initChats({ watch });
  initWatch({ send: (frame) => sock.send(frame), now: gatewayNow });
  initHelp({ send: (frame) => sock.send(frame), watch });
  $('login-form').addEventListener('submit', (e) => submitLogin(e, loginView(), start));
  $('wb-logout').addEventListener('click', onLogout);
  $('wb-large').addEventListener('click', () => setLarge(!document.body.classList.contains('wb-large')));
  setLarge(localFlag(LARGE_KEY));
  window.addEventListener('online', () => { if (state.running && !sock.ready) sock.reconnectNow(); });
  window.Wallboard = { monitor: () => monitoring() && { ...monitoring(), pc: undefined, mic: undefined },
    watching };
  if (S.token) start();
  else showLoginView(loginView());
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();
