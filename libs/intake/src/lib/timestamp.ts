const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * A timestamp of the JSON form: an ISO-8601 date-time with a UTC offset, or
 * epoch milliseconds. A date-time without an offset is refused: which zone
 * it meant is exactly what a deadline must not leave open. Returns the epoch
 * milliseconds, or why the value is refused.
 */
export function parseTimestamp(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0
      ? value
      : `expected epoch milliseconds (a non-negative integer), got ${value}`;
  }
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (ISO_DATE_TIME.test(value) && Number.isFinite(ms)) return ms;
    return `expected an ISO-8601 date-time with a UTC offset (e.g. 2027-03-01T17:00:00-05:00) or epoch milliseconds, got ${JSON.stringify(value)}`;
  }
  return `expected an ISO-8601 date-time string or epoch milliseconds, got ${value === null ? 'null' : typeof value}`;
}
