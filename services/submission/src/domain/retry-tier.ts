/** A delay tier as the decision needs it. */
export interface Tier {
  topic: string;
  delayMs: number;
}

/**
 * The tier a retry waiting `delayMs` goes to: the shortest one at least that
 * long, else the longest. The retry record's own not_before decides when it
 * runs; the tier only keeps waits of one size together, so a partition's
 * records come due roughly in order and a short wait never queues behind a
 * long one. `tiers` is ordered by increasing delay (config validates it).
 */
export function tierFor(delayMs: number, tiers: readonly Tier[]): Tier {
  const longest = tiers[tiers.length - 1];
  if (!longest) throw new RangeError('no retry tiers configured');
  return tiers.find((t) => t.delayMs >= delayMs) ?? longest;
}
