// The center's dispositions as the desk keeps them: the codes an agent closes with, in the order offered, and each
// one's label (welcome.dispositions: [{code, label}], gateway/contact/dispositions.py). A code the list no longer has
// (one the gateway closed with, or an admin removed) is shown in words made from the code.

/** {codes, labels} from the welcome's `dispositions` (entries that are not {code, label} with text are skipped). */
export function readDispositions(list) {
  const codes = [];
  const labels = {};
  for (const d of Array.isArray(list) ? list : []) {
    if (!d || typeof d.code !== 'string' || !d.code || codes.includes(d.code)) continue;
    codes.push(d.code);
    labels[d.code] = typeof d.label === 'string' && d.label.trim() ? d.label : d.code.replace(/[_-]+/g, ' ');
  }
  return { codes, labels };
}

/** What to show for disposition `code`: its label when the list has it, else the code in words. */
export function dispositionLabel(labels, code) {
  return (labels && Object.prototype.hasOwnProperty.call(labels, code)) ? labels[code] : String(code).replace(/_/g, ' ');
}
