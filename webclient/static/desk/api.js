// The desk's HTTP API with the agent's access token (docs/protocol.md "HTTP"): JSON in, JSON out; a refusal
// throws an Error carrying the gateway's message, code and the field it names.

import { S } from './state.js';

export async function api(path, { method = 'GET', body, params } = {}) {
  const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== '')) : null;
  const url = query && String(query) ? `${path}?${query}` : path;
  const headers = { Authorization: `Bearer ${S.token || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    const err = new Error((data && data.message) || `HTTP ${res.status}`);
    err.status = res.status;
    err.field = data && data.field;
    err.code = data && data.code;
    err.body = data;   // the whole problem (a 409's current version and diff, ...)
    throw err;
  }
  return data;
}
