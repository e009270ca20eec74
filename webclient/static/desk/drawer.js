// The customer panel as a drawer on narrow screens (agent.css: at <= 1100 px the third column goes away and
// the panel opens over the timeline). The "Customer" button in the conversation's header opens and closes it;
// Esc, its close button or a click outside close it. Focus moves into the drawer when it opens and back to the
// button when it closes. On wide screens the panel is always shown and the button is hidden by the style sheet.

export function setupContextDrawer({ pane, toggle, close }) {
  const isOpen = () => pane.classList.contains('open');

  function setOpen(open, { restoreFocus = true } = {}) {
    if (open === isOpen()) return;
    pane.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
    if (open) close.focus();
    else if (restoreFocus && pane.contains(document.activeElement)) toggle.focus();
  }

  toggle.addEventListener('click', () => setOpen(!isOpen()));
  close.addEventListener('click', () => setOpen(false));
  document.addEventListener('keydown', (e) => {
    // Esc is the drawer's when the focus is in it, on its button or nowhere (not the transfer form's, say)
    const focus = document.activeElement;
    const ours = !focus || focus === document.body || focus === toggle || pane.contains(focus);
    if (e.key === 'Escape' && isOpen() && ours && !e.defaultPrevented) {
      e.preventDefault();
      setOpen(false);
      toggle.focus();
    }
  });
  document.addEventListener('pointerdown', (e) => {
    if (isOpen() && !pane.contains(e.target) && !toggle.contains(e.target)) setOpen(false, { restoreFocus: false });
  });
  return { isOpen, setOpen };
}
