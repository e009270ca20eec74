// Ids made in the browser, and the order of the gateway's event ids.

/** A random id with a prefix ('m-' customer messages, 'a-' agent messages, 'call-' calls): 32 hex digits
 *  or a UUID. randomUUID needs a secure context; getRandomValues does not. */
export function newClientId(prefix, crypto = globalThis.crypto) {
  if (crypto && typeof crypto.randomUUID === 'function') return prefix + crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Redis stream id "ms-seq" comparison; -1, 0, 1. */
export function cmpId(a, b) {
  const [am, as] = String(a).split('-');
  const [bm, bs] = String(b).split('-');
  const d = (Number(am) - Number(bm)) || (Number(as || 0) - Number(bs || 0));
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}
