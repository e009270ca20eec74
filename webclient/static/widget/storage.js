// localStorage that never throws (a private window, a full quota: memory instead), and sessionStorage.

// ------------------------------------------------------------ storage (never throws)

export const store = (() => {
  const memory = new Map();
  let ls = null;
  try {
    ls = window.localStorage;
    ls.setItem('cg.__probe', '1');
    ls.removeItem('cg.__probe');
  } catch (_) {
    ls = null;
  }
  return {
    get(key) {
      try { if (ls) return ls.getItem(key); } catch (_) { /* ignore */ }
      return memory.has(key) ? memory.get(key) : null;
    },
    set(key, value) {
      try { if (ls) { ls.setItem(key, value); return true; } } catch (_) { return false; }
      memory.set(key, value);
      return true;
    },
    remove(key) {
      try { if (ls) ls.removeItem(key); } catch (_) { /* ignore */ }
      memory.delete(key);
    },
  };
})();

export function sessionGet(key) {
  try { return window.sessionStorage.getItem(key); } catch (_) { return null; }
}
export function sessionSet(key, value) {
  try { window.sessionStorage.setItem(key, value); } catch (_) { /* ignore */ }
}
