// Times of day as the reader's locale writes them: "1:04 PM" where the clock has 12 hours (no leading zero), "00:24"
// or "13:04" where it has 24 (with one). Hour 'numeric' alone wrote "0:24" for en-GB; '2-digit' alone "01:04 PM".

/** The ``hour`` option of Intl.DateTimeFormat for ``locales`` (the browser's when omitted). */
export function hourStyle(locales) {
  const cycle = new Intl.DateTimeFormat(locales, { hour: 'numeric' }).resolvedOptions().hourCycle;
  return cycle === 'h23' || cycle === 'h24' ? '2-digit' : 'numeric';
}

/** A time of day, hours and minutes ("1:04 PM", "00:24"). */
export function clockTime(date, locales) {
  return date.toLocaleTimeString(locales, { hour: hourStyle(locales), minute: '2-digit' });
}
