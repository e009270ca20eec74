// Small helpers: elements, dates and names, the toast, the beep.

import { clockTime } from '../shared/clock.js';
import { TOAST_MS } from './config.js';
import { ui } from './state.js';

// ------------------------------------------------------------ small helpers

export const $ = (sel) => document.querySelector(sel);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'title' || k === 'tabindex') {
        el.setAttribute(k, v === true ? '' : String(v));
      } else el[k] = v;
    }
  }
  for (const c of children) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A line's parts as nodes: our words as text, what someone typed or named in a <bdi> (desk/event_text.js). */
export function partNodes(parts) {
  return parts.map((p) => (typeof p === 'string' ? p : h('bdi', { text: p.user })));
}

export function toDate(v) {
  if (v == null || v === '') return null;
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
  if (/^\d+(\.\d+)?$/.test(String(v))) return toDate(Number(v));
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtClock(v) {
  const d = toDate(v);
  return d ? clockTime(d) : ''; // 1:04 PM or 13:04, as the locale writes it
}

export function fmtFull(v) {
  const d = toDate(v);
  if (!d) return '';
  try { return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' }); } catch (_) { return d.toLocaleString(); }
}

export function fmtWaited(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  return `${hr}h ${m % 60}m`;
}

export function shortId(id) {
  if (!id) return '—';
  const s = String(id);
  const m = /^([A-Za-z]{1,5}_)(.+)$/.exec(s);
  if (m) return m[1] + (m[2].length > 6 ? m[2].slice(0, 6) : m[2]);
  return s.length > 10 ? s.slice(0, 8) + '…' : s;
}

export function initials(id) {
  const s = String(id || '?').replace(/^[A-Za-z]{1,5}_/, '');
  return (s.slice(0, 2) || '?').toUpperCase();
}

export function colorFor(id) {
  let hash = 0;
  for (const ch of String(id || '')) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  // 32 % lightness: white initials stay above 4.5:1 (WCAG AA) on every hue (45 % gave 2.6:1 on yellow-green)
  return `hsl(${Math.abs(hash) % 360} 45% 32%)`;
}

/** The name the site vouched for (a verified customer token), or null: never a name the browser claimed. */
export function verifiedName(ctx) {
  const name = ctx && ctx['verified.name'];
  return typeof name === 'string' && name.trim() ? name.trim() : null;
}

export function customerLabel(conv) {
  return verifiedName(conv.context) || 'Customer ' + shortId(conv.summary.customer_id || conv.id);
}
// ------------------------------------------------------------ toast

let toastTimer = null;
/** A short note: plain words, or a line's parts (desk/event_text.js) whose names and quoted texts are drawn in their
 *  own <bdi>, so a right-to-left override in a name ends with it instead of reversing the words after it. */
export function toast(text) {
  ui.toast.replaceChildren(...partNodes(Array.isArray(text) ? text : [String(text == null ? '' : text)]));
  ui.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { ui.toast.hidden = true; }, TOAST_MS);
}

// ------------------------------------------------------------ sound

let audioCtx = null;
export function audio() {
  if (audioCtx) return audioCtx;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  try { audioCtx = new Ctx(); } catch (_) { audioCtx = null; }
  return audioCtx;
}

export function beep() {
  const ctx = audio();
  if (!ctx) return;
  try {
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const t = ctx.currentTime + 0.01;
    [[880, 0], [1175, 0.14]].forEach(([freq, offset]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.18, t + offset + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.18);
    });
  } catch (_) { /* sound is a nicety */ }
}
