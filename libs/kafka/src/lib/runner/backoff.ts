/** Bounds of an exponential backoff. */
export interface BackoffPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * Delay before attempt `attempt + 1`: exponential with full jitter (a uniform
 * draw below the exponential ceiling), so replicas retrying the same outage
 * spread out instead of arriving together.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxBackoffMs,
    policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1),
  );
  return Math.floor(random() * ceiling);
}
