// What the flow editor page holds (one flow open at a time) and its HTTP calls to the Flows REST API
// (docs/protocol.md "Admin: flows"), which keep the whole problem JSON of a refusal (a stale save's diff, a bad
// flow's errors).

import { S } from '../desk/state.js';

export const F = {
  admin: false, // may write (role admin); a supervisor reads only
  flows: [], // GET /api/admin/flows
  answers: null, // its `answers`: the flows new calls and chats start in ({calls, chats}: an admin's choice, else the settings)
  name: null, // the open flow
  flow: null, // GET /api/admin/flows/{name}: live_version, versions
  openId: null, // the version in the editor
  openYaml: '', // its text as saved (the editor is dirty when it differs)
  graph: null, // the graph of the editor's text as last validated
  errors: [], // the loader's errors of the editor's text
  refused: null, // a publish refused for another version than the editor's text: {flow, id, message, errors}
  opening: 0, // the newest flow / version asked for (an older answer arriving late is dropped)
  validating: 0, // the newest validate request (an older answer arriving late is dropped)
};

/** {ok, status, body}: a JSON call with the signed-in person's token; status 0 when the gateway was not reached. */
export async function call(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${S.token || ''}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (_) {
    return { ok: false, status: 0, body: { message: 'Cannot reach the gateway. Check your connection and try again.' } };
  }
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok && !(data && data.message)) data = { ...(data || {}), message: `The gateway answered HTTP ${res.status}.` };
  return { ok: res.ok, status: res.status, body: data };
}

export const flowPath = (name) => `/api/admin/flows/${encodeURIComponent(name)}`;

export function dirty(text) {
  return F.openId !== null && text !== F.openYaml;
}
