// A queue's opening hours: the weekly schedule as the flows write it ({"mon-fri": "09:00-17:00", "sat":
// "10:00-12:00, 13:00-16:00"}, ivr/hours.py) turned into one row per weekday and back (pure functions, tested by
// node in webclient/tests/console_diff.test.mjs), and the editor: each day open or closed with its time ranges
// (listed in the order of the day; ranges that overlap are said so under their day), and the holidays (YYYY-MM-DD,
// or MM-DD for every year).

import { group, h, input } from './console_dom.js';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

/** "mon-fri" / "sat,sun" / "fri-mon" -> day names, or null when it is not a day spec. */
export function daysOf(spec) {
  const out = [];
  for (const part of String(spec).toLowerCase().split(',')) {
    const ends = part.split('-').map((p) => p.trim());
    if (ends.length > 2 || ends.some((e) => !DAYS.includes(e))) return null;
    let day = DAYS.indexOf(ends[0]);
    const last = DAYS.indexOf(ends[ends.length - 1]);
    for (;;) {
      out.push(DAYS[day]);
      if (day === last) break;
      day = (day + 1) % 7;
    }
  }
  return out;
}

/** "09:00-12:00, 13:00-17:00" (or a list of such) -> [["09:00", "12:00"], ["13:00", "17:00"]]. */
export function rangesOf(value) {
  const items = Array.isArray(value) ? value : String(value || '').split(',');
  const out = [];
  for (const item of items) {
    const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(item);
    if (m) out.push([`${m[1].padStart(2, '0')}:${m[2]}`, `${m[3].padStart(2, '0')}:${m[4]}`]);
  }
  return out;
}

/** A day's ranges in the order of the day (by opening, then closing time; "HH:MM" sorts as text). */
export function sortRanges(ranges) {
  return [...ranges].sort(([a, b], [c, d]) => (a === c ? (b < d ? -1 : b > d ? 1 : 0) : a < c ? -1 : 1));
}

/** The pairs of a day's ranges that overlap (one opens before the other closes; touching ends do not), in order. */
export function overlapsOf(ranges) {
  const sorted = sortRanges(ranges);
  const out = [];
  for (let i = 0; i < sorted.length; i += 1) {
    for (let j = i + 1; j < sorted.length && sorted[j][0] < sorted[i][1]; j += 1) out.push([sorted[i], sorted[j]]);
  }
  return out;
}

/** What a day's overlapping ranges are, in words naming the day, or '' when none overlap. */
export function overlapText(dayName, ranges) {
  const pairs = overlapsOf(ranges);
  if (!pairs.length) return '';
  const span = ([a, b]) => `${a}–${b}`;
  const which = pairs.map(([x, y]) => `${span(x)} and ${span(y)}`).join('; ');
  return `${dayName}: ${which} overlap. Merge them into one range (the queue is open whenever any range is).`;
}

/** The schedule as a week: {mon: [[from, to], ...], ..., sun: []} (a day not listed is closed), each day's ranges
 * in the order of the day. */
export function expandSchedule(schedule) {
  const week = Object.fromEntries(DAYS.map((d) => [d, []]));
  for (const [spec, value] of Object.entries(schedule || {})) {
    for (const day of daysOf(spec) || []) week[day] = sortRanges(rangesOf(value));
  }
  return week;
}

/** A week back to the schedule's shape: runs of neighbouring days with the same hours become one key ("mon-fri");
 * closed days are left out. */
export function compressSchedule(week) {
  const text = (day) => (week[day] || []).map(([a, b]) => `${a}-${b}`).join(', ');
  const out = {};
  let i = 0;
  while (i < DAYS.length) {
    const value = text(DAYS[i]);
    let j = i;
    while (j + 1 < DAYS.length && text(DAYS[j + 1]) === value) j += 1;
    if (value) out[i === j ? DAYS[i] : `${DAYS[i]}-${DAYS[j]}`] = value;
    i = j + 1;
  }
  return out;
}

/** A short summary for the queues table: "mon-fri 09:00-17:00; sat 10:00-14:00 (Europe/Paris)". */
export function hoursSummary(hours) {
  if (!hours || !hours.schedule || !Object.keys(hours.schedule).length) return 'Always open';
  const parts = Object.entries(compressSchedule(expandSchedule(hours.schedule))).map(([d, v]) => `${d} ${v}`);
  return `${parts.join('; ')}${hours.timezone ? ` (${hours.timezone})` : ''}`;
}

// ------------------------------------------------------------ the editor

/** The weekly schedule and holidays editor: {element, value() -> {timezone, schedule, holidays} or null}; null
 * (the box "Use opening hours" off) is no hours: always open. */
export function hoursEditor(hours) {
  const useId = 'cs-hours-use';
  const use = h('input', { type: 'checkbox', id: useId, checked: Boolean(hours) });
  const week = expandSchedule(hours ? hours.schedule : { 'mon-fri': '09:00-17:00' }); // a start for new hours
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const listId = 'cs-timezones';
  const tz = input('hours.timezone', { value: (hours && hours.timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone || '', list: listId, placeholder: 'Europe/Paris' });
  const tzField = h('div', { class: 'cs-field', dataset: { field: 'hours.timezone' } },
    h('label', { for: 'cs-hours-tz' }, 'Time zone'), tz,
    h('datalist', { id: listId }, zones.map((z) => h('option', { value: z }))),
    h('p', { class: 'cs-field-error', id: 'cs-hours-tz-error', hidden: true }));
  tz.id = 'cs-hours-tz';
  tz.setAttribute('aria-describedby', 'cs-hours-tz-error');

  const days = DAYS.map((day) => dayRow(day, week[day]));
  const schedule = group('Weekly schedule', 'hours.schedule',
    h('p', { class: 'cs-hint' }, 'A day that is not open is closed. Split overnight hours across two days.'),
    h('div', { class: 'cs-week' }, days.map((d) => d.element)));

  const holidayList = h('div', { class: 'cs-rows' });
  const addHoliday = (value = '') => {
    const n = holidayList.children.length + 1;
    const box = input('holiday', { value, placeholder: 'YYYY-MM-DD or MM-DD', pattern: '(\\d{4}-)?\\d{2}-\\d{2}',
      'aria-label': `Holiday ${n}` });
    const row = h('div', { class: 'cs-row' }, box, h('button', { type: 'button', class: 'btn small ghost',
      'aria-label': `Remove holiday ${n}`, onclick: () => { row.remove(); addButton.focus(); } }, 'Remove'));
    holidayList.append(row);
    return box;
  };
  for (const d of (hours && hours.holidays) || []) addHoliday(String(d));
  const addButton = h('button', { type: 'button', class: 'btn small', onclick: () => addHoliday().focus() }, 'Add holiday');
  const holidays = group('Holidays (closed all day)', 'hours.holidays', holidayList, addButton);

  const details = h('div', { class: 'cs-hours-details' }, tzField, schedule, holidays);
  const sync = () => { details.hidden = !use.checked; };
  use.addEventListener('change', sync);
  sync();
  return {
    element: h('div', { class: 'cs-hours' },
      h('div', { class: 'cs-check' }, use, h('label', { for: useId }, 'Use opening hours (off: always open)')), details),
    value() {
      if (!use.checked) return null;
      const out = {};
      for (const d of days) out[d.day] = d.value();
      return {
        timezone: tz.value.trim(),
        schedule: compressSchedule(out),
        holidays: [...holidayList.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean),
      };
    },
  };
}

function dayRow(day, ranges) {
  const name = DAY_NAMES[day];
  const openId = `cs-open-${day}`;
  const open = h('input', { type: 'checkbox', id: openId, checked: ranges.length > 0 });
  const list = h('div', { class: 'cs-ranges' });
  const addRange = (from = '09:00', to = '17:00') => {
    const n = list.children.length + 1;
    const row = h('span', { class: 'cs-range' },
      input(`from-${day}`, { type: 'time', value: from, 'aria-label': `${name} range ${n} opens` }),
      h('span', { 'aria-hidden': 'true' }, '–'),
      input(`to-${day}`, { type: 'time', value: to, 'aria-label': `${name} range ${n} closes` }),
      h('button', { type: 'button', class: 'btn small ghost', 'aria-label': `Remove ${name} range ${n}`,
        onclick: () => { row.remove(); if (!list.children.length) { open.checked = false; sync(); } more.focus(); } }, '×'));
    list.append(row);
    return row;
  };
  for (const [a, b] of ranges) addRange(a, b);
  const more = h('button', { type: 'button', class: 'btn small', 'aria-label': `Add hours on ${name}`,
    onclick: () => addRange().querySelector('input').focus() }, 'Add hours');
  const closed = h('span', { class: 'cs-sub' }, 'Closed');
  // said as the ranges change, before any save (the gateway takes overlapping ranges, as their union)
  const overlap = h('p', { class: 'cs-hours-warning', role: 'status', dataset: { testid: 'cs-hours-overlap' } });
  const ranged = () => (!open.checked ? [] : [...list.children].map((r) => {
    const [a, b] = r.querySelectorAll('input');
    return [a.value, b.value];
  }).filter(([a, b]) => a && b));
  const check = () => { overlap.textContent = overlapText(name, ranged()); };
  const sync = () => {
    if (open.checked && !list.children.length) addRange();
    list.hidden = !open.checked;
    more.hidden = !open.checked;
    closed.hidden = open.checked;
    check();
  };
  open.addEventListener('change', sync);
  list.addEventListener('input', check);
  list.addEventListener('change', check);
  new MutationObserver(check).observe(list, { childList: true }); // a range added or removed
  sync();
  const element = h('div', { class: 'cs-day', dataset: { day } },
    h('span', { class: 'cs-check' }, open, h('label', { for: openId }, name)), closed, list, more, overlap);
  return {
    day,
    element,
    value() {
      return sortRanges(ranged());
    },
  };
}
