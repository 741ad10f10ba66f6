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

/** The calendar date of an instant in a time zone, computed by Intl on every call. */
export function intlLocalDateOf(epochMs: number, timeZone: string): string {
  const p = zonedParts(epochMs, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/**
 * Bounds of the local-date cache: how many time zones keep a table, and how
 * many hour buckets each table holds. Both 0 (the default) turns the cache off.
 */
export interface ZonedDateCacheLimits {
  maxZones: number;
  bucketsPerZone: number;
}

const HOUR_MS = 3_600_000;
// ECMAScript's time range: a Date holds ±8.64e15 ms around 1970.
const MAX_DATE_MS = 8.64e15;

/**
 * A direct-mapped table of one zone's UTC offsets by hour bucket: `buckets[i]`
 * is the hour (epoch ms / 1 h) slot i describes; `verified[i]` is 0 while that
 * hour has been asked for once only (no offset yet: an hour asked for once
 * costs no more than Intl), 1 once `offsets[i]` holds its offset, where NaN
 * marks an hour with a transition in it, answered by Intl.
 */
interface ZoneOffsets {
  buckets: Float64Array;
  verified: Uint8Array;
  offsets: Float64Array;
}

let cacheLimits: ZonedDateCacheLimits = { maxZones: 0, bucketsPerZone: 0 };
// Insertion order is recency order: a hit moves its zone to the end, the first is evicted.
const zoneOffsets = new Map<string, ZoneOffsets>();

/**
 * Sets the local-date cache's bounds (from the validated configuration) and
 * empties it. A stage calls it once at startup; without it every local date
 * is computed by Intl, as exactly but at about ten times the cost.
 */
export function configureZonedDateCache(limits: ZonedDateCacheLimits): void {
  if (!Number.isSafeInteger(limits.maxZones) || limits.maxZones < 0)
    throw new RangeError(`maxZones must be a count, got ${limits.maxZones}`);
  if (!Number.isSafeInteger(limits.bucketsPerZone) || limits.bucketsPerZone < 0)
    throw new RangeError(`bucketsPerZone must be a count, got ${limits.bucketsPerZone}`);
  cacheLimits = { ...limits };
  zoneOffsets.clear();
}

/**
 * The zone's offset from UTC at a whole-second instant (wall clock minus
 * instant), or NaN when Intl's fields do not make a Gregorian wall clock
 * within a day of it (eras before year 1, a Julian calendar part): the caller
 * then asks Intl itself.
 */
function offsetAt(epochMs: number, timeZone: string): number {
  const p = zonedParts(epochMs, timeZone);
  const wall = new Date(0);
  wall.setUTCFullYear(p.year, p.month - 1, p.day);
  wall.setUTCHours(p.hour, p.minute, p.second, 0);
  const offset = wall.getTime() - epochMs;
  return Math.abs(offset) < DAY_MS ? offset : NaN;
}

/** The table of a zone, made (evicting the least recently used zone) when missing. */
function tableOf(timeZone: string): ZoneOffsets | undefined {
  const { maxZones, bucketsPerZone } = cacheLimits;
  if (maxZones === 0 || bucketsPerZone === 0) return undefined;
  let table = zoneOffsets.get(timeZone);
  if (table) {
    zoneOffsets.delete(timeZone);
  } else {
    if (zoneOffsets.size >= maxZones) {
      const eldest = zoneOffsets.keys().next().value;
      if (eldest !== undefined) zoneOffsets.delete(eldest);
    }
    table = {
      buckets: new Float64Array(bucketsPerZone).fill(NaN),
      verified: new Uint8Array(bucketsPerZone),
      offsets: new Float64Array(bucketsPerZone),
    };
  }
  zoneOffsets.set(timeZone, table);
  return table;
}

/**
 * The zone's UTC offset at an instant from the cache, or NaN when the cache
 * is off, the instant's hour is asked for the first time (since its slot was
 * taken) or it holds a transition. An hour's offset is read
 * at its first and last whole second: equal, the hour has no transition (the
 * tz database never has two within an hour), so every instant in it has that
 * offset; different, the hour is marked and its instants go to Intl.
 */
function cachedOffset(epochMs: number, timeZone: string): number {
  const table = tableOf(timeZone);
  if (!table) return NaN;
  const bucket = Math.floor(epochMs / HOUR_MS);
  // Hours reaching past the ends of the Date range have no instants Intl formats.
  if (!Number.isSafeInteger(bucket) || Math.abs(bucket) >= MAX_DATE_MS / HOUR_MS) return NaN;
  const n = table.buckets.length;
  const slot = ((bucket % n) + n) % n;
  if (table.buckets[slot] !== bucket) {
    table.buckets[slot] = bucket;
    table.verified[slot] = 0;
    return NaN;
  }
  if (table.verified[slot] === 0) {
    const start = bucket * HOUR_MS;
    const first = offsetAt(start, timeZone);
    const last = offsetAt(start + HOUR_MS - 1000, timeZone);
    table.offsets[slot] = first === last ? first : NaN;
    table.verified[slot] = 1;
  }
  return table.offsets[slot] ?? NaN;
}

/**
 * Days since 1970-01-01 of the local date of an instant in a time zone: from
 * the cached offset of the instant's hour, else from Intl.
 */
function localDayNumber(epochMs: number, timeZone: string): number {
  const offset = cachedOffset(epochMs, timeZone);
  return Number.isNaN(offset)
    ? dayNumber(intlLocalDateOf(epochMs, timeZone))
    : Math.floor((epochMs + offset) / DAY_MS);
}

/**
 * The calendar date of an instant in a time zone, as YYYY-MM-DD. Deadlines and
 * business days are counted in the funder's zone: 23:59 in Los Angeles is
 * already the next day in UTC. Served from the zone's cached offsets when
 * {@link configureZonedDateCache} turned the cache on; the same answer as Intl.
 */
export function localDateOf(epochMs: number, timeZone: string): string {
  const offset = cachedOffset(epochMs, timeZone);
  if (Number.isNaN(offset)) return intlLocalDateOf(epochMs, timeZone);
  const local = new Date(epochMs + offset);
  return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
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
  const from = localDayNumber(fromMs, timeZone);
  const to = localDayNumber(toMs, timeZone);
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
