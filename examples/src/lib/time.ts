import { zonedParts, type ZonedParts } from '@grantstream/rules';

const DAY_MS = 86_400_000;

/** Local calendar fields of an instant in a time zone. */
const localFields = (epochMs: number, timeZone: string): ZonedParts =>
  zonedParts(epochMs, timeZone);

/** Offset of a time zone from UTC at an instant, in milliseconds (negative west of Greenwich). */
function offsetMs(epochMs: number, timeZone: string): number {
  const f = localFields(epochMs, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** A calendar date (no time zone), e.g. the day a deadline falls on. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date `days` after the local date of `epochMs` in `timeZone`. */
export function localDateAfter(epochMs: number, timeZone: string, days: number): CalendarDate {
  const f = localFields(epochMs, timeZone);
  const d = new Date(Date.UTC(f.year, f.month - 1, f.day) + days * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The calendar date `months` months after `date`, on day `day` of that month. */
export function addMonths(date: CalendarDate, months: number, day = 1): CalendarDate {
  const d = new Date(Date.UTC(date.year, date.month - 1 + months, day));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The day before `date`. */
export function dayBefore(date: CalendarDate): CalendarDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day) - DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The instant a wall-clock time on a date happens in a time zone (DST-aware). */
export function zonedInstant(
  date: CalendarDate,
  hour: number,
  minute: number,
  timeZone: string,
): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  let instant = wall - offsetMs(wall, timeZone);
  // Near a DST change the first guess uses the other side's offset: correct once.
  instant = wall - offsetMs(instant, timeZone);
  return instant;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO-8601 with the time zone's offset, e.g. 2027-01-15T17:00:00-05:00. */
export function isoWithOffset(epochMs: number, timeZone: string): string {
  const f = localFields(epochMs, timeZone);
  const offsetMinutes = Math.round(offsetMs(epochMs, timeZone) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const millis = ((epochMs % 1000) + 1000) % 1000;
  return (
    `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}` +
    (millis === 0 ? '' : `.${pad(millis, 3)}`) +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** ISO calendar date, YYYY-MM-DD. */
export function isoDate(date: CalendarDate): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** US-style date, MM/DD/YYYY, as form parsers often write it. */
export function usDate(date: CalendarDate): string {
  return `${pad(date.month)}/${pad(date.day)}/${pad(date.year, 4)}`;
}

/** Milliseconds in a day. */
export const DAY = DAY_MS;
