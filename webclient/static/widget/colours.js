// Text colours that read on the admin's brand colour (pure functions: the widget and the console's preview).

/** WCAG relative luminance of a #rrggbb colour. */
function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Black or white text, whichever reads better on `hex` (WCAG relative luminance). */
export function inkFor(hex) {
  const lum = luminance(hex);
  return (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) ? '#ffffff' : '#111111';
}

/** The colour for accent-coloured text and outlines on the white panel (the bot's choice buttons, links): the
 *  accent itself when it reads there (WCAG AA, 4.5:1), else the accent darkened until it does (the same hue), or
 *  the panel's ink for a colour with no hue to keep (white, light greys): a light brand colour must not make the
 *  buttons invisible. */
export function textOnWhite(hex) {
  const reads = (h) => 1.05 / (luminance(h) + 0.05) >= 4.5;
  if (reads(hex)) return hex;
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  if (Math.max(...rgb) - Math.min(...rgb) < 24) return '#1b1f1d';
  for (let k = 0.9; k > 0.05; k -= 0.05) {
    const darker = `#${rgb.map((c) => Math.round(c * k).toString(16).padStart(2, '0')).join('')}`;
    if (reads(darker)) return darker;
  }
  return '#1b1f1d';
}
