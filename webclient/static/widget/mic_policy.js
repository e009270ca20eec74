// Whether this page may use the microphone at all. A page in a cross-origin frame without allow="microphone" may not
// (its Permissions Policy, set by the site that frames it): the browser refuses the microphone there whatever the
// customer allows, so the widget does not offer calls there, and says so instead of "allow it in your settings".
// Pure (the document is passed in). Unit tests: webclient/tests/widget_mic_policy.test.mjs.

/** False when the document's Permissions Policy (or the older Feature Policy) forbids the microphone; true when it
 * allows it or the browser has neither API (then only trying tells). */
export function micAllowedHere(doc) {
  const policy = doc ? doc.permissionsPolicy || doc.featurePolicy : null;
  if (!policy || typeof policy.allowsFeature !== 'function') return true;
  try {
    return policy.allowsFeature('microphone') !== false;
  } catch (_) {
    return true;
  }
}

/** getUserMedia's refusal was the page's policy, not the customer's choice: a NotAllowedError (or SecurityError) in
 * a document whose policy forbids the microphone. */
export function refusedByPolicy(err, doc) {
  const name = err && err.name;
  return (name === 'NotAllowedError' || name === 'SecurityError') && !micAllowedHere(doc);
}
