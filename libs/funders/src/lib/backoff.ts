/** Bounds of an exponential backoff. */
export interface BackoffBounds {
  /** Ceiling of the first attempt's delay. */
  initialMs: number;
  /** Ceiling of any delay. */
  maxMs: number;
}

/**
 * "Full jitter" backoff (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a whole number of milliseconds drawn uniformly from
 * [0, min(maxMs, initialMs * 2^(attempt - 1))]. Spreading retries over the
 * whole window keeps many grants that failed together from hitting a
 * recovering portal together. `attempt` counts from 1; `random` returns a
 * value in [0, 1) like Math.random and is injected so tests are exact.
 */
export function fullJitterBackoff(
  attempt: number,
  bounds: BackoffBounds,
  random: () => number = Math.random,
): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  const { initialMs, maxMs } = bounds;
  if (!Number.isFinite(initialMs) || initialMs < 0 || !Number.isFinite(maxMs) || maxMs < 0) {
    throw new RangeError(
      `backoff bounds must be finite and non-negative, got ${initialMs}/${maxMs}`,
    );
  }
  // Past 2^52 the product only overflows; the cap has long been reached anyway.
  const exponent = Math.min(attempt - 1, 52);
  const ceiling = Math.floor(Math.min(maxMs, initialMs * 2 ** exponent));
  const drawn = Math.floor(random() * (ceiling + 1));
  return Math.min(Math.max(drawn, 0), ceiling);
}
