// The emoji picker of the widget's and the desk's composers: a small popup of common emoji (no image, no font,
// no network: the system's own emoji), keyboard usable (arrows, Home/End, Enter, Escape), inserted at the caret.

export const EMOJI = [
  ['😀', 'grinning face'], ['😊', 'smiling face'], ['😂', 'tears of joy'], ['🙂', 'slightly smiling face'],
  ['😉', 'winking face'], ['😍', 'heart eyes'], ['🤔', 'thinking face'], ['😅', 'sweat smile'],
  ['😢', 'crying face'], ['😮', 'surprised face'], ['😎', 'sunglasses'], ['🙏', 'thank you'],
  ['👍', 'thumbs up'], ['👎', 'thumbs down'], ['👋', 'waving hand'], ['👏', 'clapping'],
  ['🙌', 'raised hands'], ['💪', 'strong'], ['❤️', 'red heart'], ['🎉', 'party'],
  ['✅', 'check mark'], ['❌', 'cross mark'], ['⭐', 'star'], ['🔥', 'fire'],
  ['📦', 'package'], ['🚚', 'delivery truck'], ['💳', 'credit card'], ['📞', 'phone'],
  ['📧', 'e-mail'], ['⏰', 'alarm clock'], ['👀', 'eyes'], ['🤝', 'handshake'],
];

const COLUMNS = 8;

/** value with text put in place of [start, end) (the selection), and where the caret goes after it. */
export function insertAt(value, start, end, text) {
  const v = String(value == null ? '' : value);
  const a = Math.max(0, Math.min(Number.isInteger(start) ? start : v.length, v.length));
  const b = Math.max(a, Math.min(Number.isInteger(end) ? end : a, v.length));
  return { value: v.slice(0, a) + text + v.slice(b), caret: a + text.length };
}

/** The index keyboard key moves focus to in a grid of count cells, columns wide (or null: not a move). */
export function gridMove(key, index, count, columns = COLUMNS) {
  switch (key) {
    case 'ArrowRight': return (index + 1) % count;
    case 'ArrowLeft': return (index - 1 + count) % count;
    case 'ArrowDown': return index + columns < count ? index + columns : index % columns;
    case 'ArrowUp': return index - columns >= 0 ? index - columns
      : Math.min(count - 1, index + columns * Math.floor((count - 1 - index) / columns));
    case 'Home': return 0;
    case 'End': return count - 1;
    default: return null;
  }
}

/** Put text into a textarea at its caret (replacing the selection), as if typed: its input listeners run. */
export function insertIntoField(field, text) {
  const { value, caret } = insertAt(field.value, field.selectionStart, field.selectionEnd, text);
  field.value = value;
  field.focus();
  field.setSelectionRange(caret, caret);
  field.dispatchEvent(new Event('input', { bubbles: true }));
}

/** Wire a toggle button to a popup of EMOJI inserted into field. The popup is made here, after the button;
 *  prefix names its classes and test ids (cg-emoji, desk-emoji). Returns {close}. */
export function emojiPicker(toggle, field, prefix) {
  const doc = toggle.ownerDocument;
  const pop = doc.createElement('div');
  pop.className = `${prefix}-pop`;
  pop.id = `${prefix}-pop`;
  pop.dataset.testid = `${prefix}-pop`;
  pop.setAttribute('role', 'dialog');
  pop.setAttribute('aria-label', 'Emoji');
  pop.hidden = true;
  const grid = doc.createElement('div');
  grid.className = `${prefix}-grid`;
  grid.setAttribute('role', 'group');
  grid.setAttribute('aria-label', 'Choose an emoji');
  const buttons = EMOJI.map(([char, name], i) => {
    const b = doc.createElement('button');
    b.type = 'button';
    b.className = `${prefix}-item`;
    b.textContent = char;
    b.title = name;
    b.setAttribute('aria-label', name);
    b.tabIndex = i === 0 ? 0 : -1;   // one tab stop; the arrows move inside
    b.addEventListener('click', () => { close(false); insertIntoField(field, char); });
    return b;
  });
  grid.append(...buttons);
  pop.append(grid);
  toggle.after(pop);
  toggle.setAttribute('aria-haspopup', 'dialog');
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', pop.id);

  function open() {
    pop.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    const current = buttons.find((b) => b.tabIndex === 0) || buttons[0];
    current.focus();
  }
  function close(returnFocus) {
    if (pop.hidden) return;
    pop.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    if (returnFocus) toggle.focus();
  }
  toggle.addEventListener('click', () => (pop.hidden ? open() : close(true)));
  pop.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(true); return; }
    const index = buttons.indexOf(e.target);
    const next = index < 0 ? null : gridMove(e.key, index, buttons.length);
    if (next == null) return;
    e.preventDefault();
    buttons[index].tabIndex = -1;
    buttons[next].tabIndex = 0;
    buttons[next].focus();
  });
  pop.addEventListener('focusout', (e) => {   // focus left the popup (Tab away, a click elsewhere): it closes
    if (e.relatedTarget && (pop.contains(e.relatedTarget) || e.relatedTarget === toggle)) return;
    close(false);
  });
  return { close };
}
