// "End chat" in the panel's foot: a modest text button while the conversation can be ended (end_chat_rules.js), and
// an inline confirmation in its place ("End this chat?" Keep chatting / End chat), not window.confirm. The question
// starts on the safe choice; Escape keeps chatting and gives the focus back to the button. Confirmed, the end_chat
// frame goes and both answers stay dimmed (aria-disabled: the focus stays) until the gateway's closed event (the
// foot's controls go, the focus moves to the message box) or its error frame (said in the header, the button again).

import { ClientFrame, ErrorCode } from '../shared/protocol.js';
import { TEXT } from './config.js';
import { W } from './state.js';
import { callLive } from './call.js';
import { sendFrame } from './chat.js';
import { sock } from './connection.js';
import { setFlash, ui } from './panel.js';
import { answersEndChat, endChatAllowed } from './end_chat_rules.js';
import { focusFirst, setPending } from '../shared/focus.js';

const ending = { asking: false, pending: false, cid: null };   // the confirmation is open; our frame awaits its answer

export function setupEndChat() {
  ui.endChat.addEventListener('click', askEndChat);
  ui.endKeep.addEventListener('click', () => { if (!ending.pending) keepChatting(); });
  ui.endYes.addEventListener('click', confirmEndChat);
  ui.endConfirm.addEventListener('keydown', (e) => {   // Escape here answers the question, it does not close the panel
    if (e.key !== 'Escape') return;
    e.preventDefault();
    e.stopPropagation();
    if (!ending.pending) keepChatting();
  });
}

function askEndChat() {
  ending.asking = true;
  renderEndChat();
  ui.endKeep.focus();
}

function keepChatting() {
  ending.asking = false;
  renderEndChat();
  focusFirst([ui.endChat, ui.input]);
}

function confirmEndChat() {
  if (ending.pending || !ending.asking) return;
  const cid = W.conv.id;
  if (!sock.ready || !cid || !sendFrame({ type: ClientFrame.END_CHAT, conversation_id: cid })) {
    setFlash(TEXT.endChatOffline);
    return;
  }
  ending.pending = true;
  ending.cid = cid;
  renderEndChat();
}

/** The gateway refused our end_chat (true if this error frame was its answer): say why, offer the button again. */
export function onEndChatError(f) {
  if (!ending.pending || !answersEndChat(f)) return false;
  const had = ui.endConfirm.contains(ui.root.activeElement);
  ending.pending = false;
  ending.asking = false;
  renderEndChat();
  if (had) focusFirst([ui.endChat, ui.input]);
  // a call (in another tab of theirs) in our words; the gateway's own for the rest
  setFlash(f.code === ErrorCode.CALL_IN_PROGRESS ? TEXT.endChatOnCall : (f.message || TEXT.endChatFailed));
  return true;
}

/** Show the button, or the confirmation, or neither (closed, offline, a call live, no conversation yet). Called with
 *  the status line (panel.js renderStatus) and the call bar (callbar.js renderCall). */
export function renderEndChat() {
  if (!ui.endChat) return;
  const allowed = endChatAllowed({
    conversationId: W.conv.id, state: W.conv.state, connected: sock.ready, callLive: callLive(W.call),
  });
  if (!allowed || (ending.cid && ending.cid !== W.conv.id)) {   // closed (by us or anyone), or the socket dropped
    ending.asking = false;
    ending.pending = false;
    ending.cid = null;
  }
  const active = ui.root.activeElement;
  const had = !!active && (active === ui.endChat || ui.endConfirm.contains(active));
  ui.endChat.hidden = !allowed || ending.asking;
  ui.endConfirm.hidden = !allowed || !ending.asking;
  ui.foot.dataset.asking = String(allowed && ending.asking);   // the question takes the whole foot (widget.css)
  ui.endConfirm.setAttribute('aria-busy', String(ending.pending));
  setPending(ui.endKeep, ending.pending);
  setPending(ui.endYes, ending.pending);
  // what had the focus went away: on to the message box (a new message starts a new conversation), not to <body>
  if (had && ui.endChat.hidden && ui.endConfirm.hidden) focusFirst([ui.input]);
}
