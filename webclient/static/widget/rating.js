// Customer satisfaction: under the latest conversation's "closed" line the widget asks for a rating, 1 to 5 (radio
// buttons: arrow keys choose), with an optional comment; "No thanks" dismisses it (remembered per conversation).
// The gateway takes one rating per conversation: its 'rating' event replaces the question with a thank-you line.

import { MAX_RATING_COMMENT_CHARS } from '../shared/protocol.js';
import { RATING_DISMISSED_KEY, TEXT } from './config.js';
import { sendFrame } from './chat.js';
import { setFlash, ui } from './panel.js';
import { sock } from './connection.js';
import { store } from './storage.js';
import { ratingOffered } from './end_chat_rules.js';

const ratedConvs = new Set();   // conversations the gateway has a rating of (their 'rating' event was seen)
let ratingCard = null;          // {el, cid, sending} while the question is on screen

function dismissedConvs() {
  try {
    const v = JSON.parse(store.get(RATING_DISMISSED_KEY) || '[]');
    return Array.isArray(v) ? v : [];
  } catch (_) {
    return [];
  }
}

/** A conversation closed (ev: its 'closed' event, already drawn as el): ask for a rating unless it has one, or it
 *  closed while still waiting for an agent (nobody served them: end_chat_rules.js). */
export function offerRating(ev, closedEl) {
  const cid = ev.conversation_id;
  dropRating();
  if (!cid || !ratingOffered(ev) || ratedConvs.has(cid) || dismissedConvs().includes(cid)) return;
  ratingCard = { el: buildCard(cid), cid, sending: false };
  closedEl.after(ratingCard.el);
}

/** A new conversation began: the question about an older one goes (it can no longer be the latest). */
export function dropRating() {
  if (ratingCard) ratingCard.el.remove();
  ratingCard = null;
}

/** The gateway stored a rating: no more question for that conversation. */
export function onRated(ev) {
  ratedConvs.add(ev.conversation_id);
  if (ratingCard && ratingCard.cid === ev.conversation_id) dropRating();
}

/** An error frame about our rating (true if it was one). already_rated: someone (another tab) rated it first. */
export function onRatingError(f) {
  if (!ratingCard || !ratingCard.sending) return false;
  if (f.code !== 'already_rated' && !['conversation_id', 'score', 'comment'].includes(f.field)) return false;
  if (f.code === 'already_rated') {
    ratedConvs.add(ratingCard.cid);
    dropRating();
    return true;
  }
  ratingCard.sending = false;
  setBusy(ratingCard.el, false);
  say(ratingCard.el, f.message || TEXT.ratingFailed);
  return true;
}

function say(form, text) {
  form.querySelector('.cg-rating-note').textContent = text;
}

function setBusy(form, busy) {
  for (const el of form.querySelectorAll('input, textarea, button')) el.disabled = busy;
  if (!busy) form.querySelector('.cg-rating-send').disabled = !form.querySelector('input:checked');
}

function buildCard(cid) {
  const doc = ui.messages.ownerDocument;
  const make = (tag, props, ...kids) => {
    const el = doc.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v);
    }
    el.append(...kids);
    return el;
  };
  const form = make('form', { class: 'cg-rating', 'data-testid': 'cg-rating', novalidate: '' });
  const legendId = `cg-rating-q-${cid}`;
  const group = make('div', { class: 'cg-rating-scores', role: 'radiogroup', 'aria-labelledby': legendId });
  TEXT.ratingScores.forEach((word, i) => {
    const score = i + 1;
    const input = make('input', { type: 'radio', name: `cg-score-${cid}`, value: String(score),
      'data-testid': `cg-rating-${score}`, class: 'cg-rating-input', id: `cg-score-${cid}-${score}` });
    group.append(make('label', { class: 'cg-rating-score', for: input.id }, input,
      make('b', { text: String(score) }), make('small', { text: word })));
  });
  const comment = make('textarea', { class: 'cg-rating-comment', 'data-testid': 'cg-rating-comment', rows: '2',
    maxlength: String(MAX_RATING_COMMENT_CHARS), placeholder: TEXT.ratingCommentHint, 'aria-label': TEXT.ratingCommentHint });
  const send = make('button', { type: 'submit', class: 'cg-rating-send', 'data-testid': 'cg-rating-send', text: TEXT.ratingSend });
  send.disabled = true;
  const skip = make('button', { type: 'button', class: 'cg-rating-skip', 'data-testid': 'cg-rating-dismiss', text: TEXT.ratingDismiss });
  form.append(
    make('p', { class: 'cg-rating-q', id: legendId, text: TEXT.ratingQuestion }),
    group, comment,
    make('div', { class: 'cg-rating-actions' }, skip, send),
    make('p', { class: 'cg-rating-note', role: 'status', 'aria-live': 'polite' }),
  );
  group.addEventListener('change', () => { send.disabled = !form.querySelector('input:checked'); });
  skip.addEventListener('click', () => {
    const list = dismissedConvs().filter((c) => c !== cid).concat(cid).slice(-50);
    store.set(RATING_DISMISSED_KEY, JSON.stringify(list));
    dropRating();
    ui.input.focus();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = form.querySelector('input:checked');
    if (!chosen || !ratingCard || ratingCard.el !== form || ratingCard.sending) return;
    if (!sock.ready) { setFlash(TEXT.ratingOffline); return; }
    const frame = { type: 'rating', conversation_id: cid, score: Number(chosen.value) };
    if (comment.value.trim()) frame.comment = comment.value.trim();
    if (!sendFrame(frame)) { setFlash(TEXT.ratingOffline); return; }
    ratingCard.sending = true;
    const had = form.contains(ui.root.activeElement);
    setBusy(form, true);
    say(form, TEXT.ratingSending);
    if (had) ui.input.focus(); // the card's controls are off now (and it goes once rated): not lost to <body>
  });
  form.addEventListener('keydown', (e) => {   // Escape in the card leaves it, not the whole chat
    if (e.key === 'Escape') { e.stopPropagation(); e.preventDefault(); ui.input.focus(); }
  });
  return form;
}
