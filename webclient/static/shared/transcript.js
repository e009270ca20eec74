// A conversation as a plain-text file (UTF-8), built in the browser from the events the page already has.

import { cmpId } from './ids.js';

function pad2(n) { return String(n).padStart(2, '0'); }

/** "2025-03-01 14:05" in the browser's time zone. */
export function localStamp(ts) {
  const d = new Date(Number(ts) || 0);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function transcriptAuthor(ev) {
  if (ev.author === 'customer') return 'You';
  if (ev.author === 'agent' && ev.supervisor) return ev.agent_name ? `${ev.agent_name} (supervisor)` : 'A supervisor';
  if (ev.author === 'agent') return ev.agent_name || 'Agent';
  if (ev.author === 'bot') return 'Assistant';
  return 'System';
}

/** The line for one customer-visible event, or null for what a transcript leaves out (buttons, callbacks). */
function transcriptLine(ev) {
  switch (ev.type) {
    case 'message': return `${transcriptAuthor(ev)}: ${typeof ev.text === 'string' ? ev.text.replace(/\r\n?/g, '\n').replace(/\n/g, '\n    ') : ''}`;
    case 'attachment': return `${transcriptAuthor(ev)}: [${String(ev.media_type).startsWith('image/') ? 'image' : 'file'}: ${typeof ev.name === 'string' ? ev.name : 'file'}]`;
    case 'opened': return '--- New conversation ---';
    case 'assigned': return `(${ev.agent_name || 'An agent'} joined)`;
    case 'supervisor_joined': return `(${ev.agent_name ? `${ev.agent_name} (supervisor)` : 'A supervisor'} joined the chat)`;
    case 'supervisor_left': return `(${ev.agent_name ? `${ev.agent_name} (supervisor)` : 'A supervisor'} left the chat)`;
    case 'closed': return '(The conversation was closed)';
    case 'call_started': return '(Call started)';
    case 'call_ended': return '(Call ended)';
    case 'rating': return `(You rated it ${Number(ev.score) || '?'} out of 5${ev.comment ? `: ${ev.comment}` : ''})`;
    default: return null;
  }
}

// What makes a transcript worth downloading: something said, sent, called or rated (not only "opened", "joined").
const CONTENT = new Set(['message', 'attachment', 'call_started', 'rating']);

/** The events hold something to download (the widget hides its "Download transcript" link until they do). */
export function hasTranscript(events) {
  return Array.isArray(events) && events.some((e) => e && CONTENT.has(e.type));
}

/** The transcript of events (any order; sorted by id here), stamped with local times; title heads it. */
export function transcriptText(events, { title = 'Conversation transcript', stamp = localStamp, now = Date.now() } = {}) {
  const sorted = (Array.isArray(events) ? events : []).filter((e) => e && typeof e.id === 'string')
    .sort((a, b) => cmpId(a.id, b.id));
  const out = [title, `Downloaded ${stamp(now)}`, ''];
  for (const ev of sorted) {
    const text = transcriptLine(ev);
    if (text != null) out.push(`[${stamp(ev.ts)}] ${text}`);
  }
  return out.join('\n') + '\n';
}

/** Offer text as a file download named name (a Blob URL on a temporary link; no network). */
export function downloadText(doc, name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  (doc.body || doc.documentElement).appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
