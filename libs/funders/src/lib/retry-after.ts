const DELTA_SECONDS = /^\d+$/;

/**
 * Milliseconds to wait from a `Retry-After` header (RFC 9110 §10.2.3): either
 * delta-seconds or an HTTP-date, the latter measured against `nowMs` (the
 * caller's clock, so tests and replays are deterministic). A date in the past
 * gives 0. Null when the header is absent or unreadable, so the caller falls
 * back to its configured delay instead of trusting a guess.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | null {
  const value = header?.trim();
  if (!value) return null;
  if (DELTA_SECONDS.test(value)) {
    const ms = Number(value) * 1000;
    return Number.isSafeInteger(ms) ? ms : null;
  }
  // Date.parse reads bare numbers as years; only text with letters can be an HTTP-date.
  if (!/[a-z]/i.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
