// Call captions as the caller reads them (pure: no DOM, tested in webclient/tests/captions.test.mjs).

export const CAPTION_LINES = 2;   // the prompt playing now and the line before it

/** The caption frame's kind and text -> the line shown, or null (an unknown kind, no text). */
export function captionLine(kind, text) {
  const words = typeof text === 'string' ? text.trim() : '';
  if (!words) return null;
  switch (kind) {
    case 'prompt': return { kind, text: words };
    case 'said': return { kind, text: `You said: ${words}` };
    case 'keys': return { kind, text: `You pressed: ${words.split('').join(' ')}` };
    default: return null;
  }
}

/** The lines to keep after ``line`` arrived: the last ``max``, oldest first. */
export function keepLast(lines, line, max = CAPTION_LINES) {
  return [...lines, line].slice(-max);
}

/** Captions are on unless this browser turned them off (the stored choice: 'on' / 'off' / nothing yet). */
export function captionsOn(stored) {
  return stored !== 'off';
}
