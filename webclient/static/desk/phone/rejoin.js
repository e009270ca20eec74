// Which of the welcome's calls this desk takes back after a (re)connect, pure so node's tests can drive it: one whose
// leg the gateway saw drop (`rejoin`: the caller holds for a desk of this agent), or the one this very tab was on
// before it reloaded (still `connected` to the gateway: a reload does not always close the old leg at once). Another
// tab of the same agent leaves a connected call alone: that call's media lives in the tab that has it.

/** The entry of `listed` (welcome.calls) to offer a new leg for, or null; `remembered`: this tab's call id. */
export function callToRejoin(listed, remembered) {
  if (!Array.isArray(listed)) return null;
  const ok = (e) => e && typeof e === 'object' && typeof e.call_id === 'string' && e.call_id;
  return listed.find((e) => ok(e) && e.rejoin === true)
    || listed.find((e) => ok(e) && remembered && e.call_id === remembered && e.status === 'connected')
    || null;
}
