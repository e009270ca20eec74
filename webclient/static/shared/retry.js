// Which refusals of a message mean "not now" rather than "no": the gateway's store was down for a moment
// (store_unavailable), or the socket sent frames faster than its budget (rate_limited). Nothing was stored; the same
// client id sent again is stored once. Pure. Unit tests: webclient/tests/retry.test.mjs.

const AGAIN = new Set(['store_unavailable', 'rate_limited']);

/** Milliseconds to wait before sending a refused message again, or null when the refusal is final (or names no
 *  message: an error frame without a client id). */
export function retryDelayMs(frame) {
  if (!frame || !AGAIN.has(frame.code) || typeof frame.client_id !== 'string' || !frame.client_id) return null;
  const seconds = Number(frame.retry_after);
  return Math.max(1, Number.isFinite(seconds) ? seconds : 1) * 1000;
}
