// The console's HTTP calls: the desk's api() with the session's token (desk/api.js); an expired token is
// refreshed once (desk/auth.js) and the call made again; a refused session signs the page out (its hook).

import { api } from '../desk/api.js';
import { refreshToken } from '../desk/auth.js';

/** call('/api/admin/agents'), call(path, {method: 'PATCH', body}); throws Error {status, code, field, body}. */
export async function call(path, options) {
  try {
    return await api(path, options);
  } catch (err) {
    if (err.status !== 401 || !(await refreshToken())) throw err;
    return api(path, options);
  }
}

export const enc = encodeURIComponent;
