/**
 * How late a call may reach a portal after the slot its limiter reserved.
 * Every process of a scenario (the callers, the simulator, the broker, the
 * registry) shares two cores: a process stalled by GC or by waiting for a
 * core starts its call late, or takes in several calls at once when it
 * resumes, and the calls of that stall then land closely behind each other.
 * Stalls up to 100 ms were seen at load averages of 5 to 9, and once a longer
 * one in CI.
 */
export const PORTAL_STALL_MS = 250;

/**
 * The token-bucket burst a simulated portal limiting calls to
 * `ratePerSecond` needs so that stalls up to {@link PORTAL_STALL_MS} cost no
 * 429: one call plus the calls of the stalled interval. A limit not held
 * still overflows it within seconds (sending x% too fast empties it after
 * `(burst - 1) / (rate * x)` seconds).
 */
export function stallTolerantBurst(ratePerSecond: number): number {
  if (!(ratePerSecond > 0))
    throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
  return 1 + Math.ceil((PORTAL_STALL_MS * ratePerSecond) / 1000);
}
