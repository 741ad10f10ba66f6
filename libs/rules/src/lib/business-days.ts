const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a time zone, and the zone's short name then (EST, PDT). */
export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  zoneName: string;
}

/** What a clock and calendar in `timeZone` show at `epochMs` (one cached formatter per zone). */
export function zonedParts(epochMs: number, timeZone: string): ZonedParts {
  const out: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    out[part.type] = part.value;
  }
  return {
    year: Number(out['year']),
    month: Number(out['month']),
    day: Number(out['day']),
    hour: Number(out['hour']),
    minute: Number(out['minute']),
    second: Number(out['second']),
    zoneName: out['timeZoneName'] ?? timeZone,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The calendar date of an instant in a time zone, as YYYY-MM-DD. Deadlines and
 * business days are counted in the funder's zone: 23:59 in Los Angeles is
 * already the next day in UTC.
 */
export function localDateOf(epochMs: number, timeZone: string): string {
  const p = zonedParts(epochMs, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** "2026-11-20 17:00 EST": how the funder's own calendar and clock show an instant. */
export function localDateTimeOf(epochMs: number, timeZone: string): string {
  const p = zonedParts(epochMs, timeZone);
  return `${localDateOf(epochMs, timeZone)} ${pad(p.hour)}:${pad(p.minute)} ${p.zoneName}`;
}

/** True when a text is a YYYY-MM-DD date that exists on the calendar (not 2026-02-30). */
export function isCalendarDate(iso: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) return false;
  const [y, m, d] = iso.split('-').map(Number);
  const date = new Date(Date.UTC(y ?? NaN, (m ?? NaN) - 1, d ?? NaN));
  date.setUTCFullYear(y ?? NaN);
  return date.toISOString().slice(0, 10) === iso;
}

/** Days since 1970-01-01 of a YYYY-MM-DD calendar date (no time zone involved). */
function dayNumber(isoDate: string): number {
  const [y, m, d] = isoDate.split('-').map(Number);
  return Math.round(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / DAY_MS);
}

/** Monday..Friday; day 0 (1970-01-01) was a Thursday. */
function isWeekday(day: number): boolean {
  const weekday = (((day + 4) % 7) + 7) % 7; // 0 = Sunday
  return weekday !== 0 && weekday !== 6;
}

/** Weekdays in the day-number range (after, upTo]. */
function weekdaysIn(after: number, upTo: number): number {
  const days = upTo - after;
  const weeks = Math.floor(days / 7);
  let count = weeks * 5;
  for (let d = after + weeks * 7 + 1; d <= upTo; d++) if (isWeekday(d)) count++;
  return count;
}

/**
 * Whole business days (Monday to Friday, not a holiday) strictly after the
 * local date of `fromMs` up to and including the local date of `toMs`, both
 * dates taken in `timeZone`; 0 when `toMs <= fromMs`. So on a Friday, a
 * deadline the next Monday is 1 business day away.
 */
export function businessDaysBetween(
  fromMs: number,
  toMs: number,
  timeZone: string,
  holidays: readonly string[],
): number {
  if (toMs <= fromMs) return 0;
  const from = dayNumber(localDateOf(fromMs, timeZone));
  const to = dayNumber(localDateOf(toMs, timeZone));
  if (to <= from) return 0;
  let count = weekdaysIn(from, to);
  for (const d of holidayDays(holidays)) if (d > from && d <= to) count--;
  return count;
}

const holidayCache = new WeakMap<readonly string[], readonly number[]>();

/** Distinct weekday holidays as day numbers, computed once per (immutable) pack list. */
function holidayDays(holidays: readonly string[]): readonly number[] {
  let days = holidayCache.get(holidays);
  if (!days) {
    days = [...new Set(holidays.map(dayNumber))].filter(isWeekday);
    holidayCache.set(holidays, days);
  }
  return days;
}
