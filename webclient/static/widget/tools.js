// The composer's emoji picker and the "Download transcript" button (a text file made from the events the widget
// already has: nothing is fetched, nothing of another conversation's customer is ever on this page).

import { W } from './state.js';
import { TEXT } from './config.js';
import { downloadText, hasTranscript, transcriptText } from '../shared/transcript.js';
import { emojiPicker } from '../shared/emoji.js';
import { ui } from './panel.js';

export function setupTools() {
  emojiPicker(ui.emoji, ui.input, 'cg-emoji');
  ui.transcript.addEventListener('click', downloadTranscript);
}

export function downloadTranscript() {
  const host = location.hostname;
  const text = transcriptText(W.cache, { title: TEXT.transcriptTitle(host) });
  const day = new Date().toISOString().slice(0, 10);
  downloadText(document, `transcript-${host || 'chat'}-${day}.txt`, text);
}

/** Show "Download transcript" once the conversation has something to download (hidden on an empty chat). */
export function renderTranscriptLink() {
  ui.transcript.hidden = !hasTranscript(W.cache);
}
