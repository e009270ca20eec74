// When the after-call bar goes: the gateway ends after-call work by itself when `--wrap-up-seconds` run out (or
// when Available is pressed in another tab), and the desk went on saying "After-call work" while calls rang again
// (an exploratory test). The bar follows the `agent` frames: once one said `wrap_up`, one with no activity ends it.
// With no after-call work configured the gateway never says `wrap_up`: the bar stays until Done, as before.

/** The next `seen` (a `wrap_up` came since the last frame that said otherwise) and whether the bar ends now, for an
 * `agent` frame whose activity is `activity`. */
export function wrapUpStep(seen, activity) {
  if (activity === 'wrap_up') return { seen: true, over: false };
  return { seen: false, over: seen && !activity };
}
