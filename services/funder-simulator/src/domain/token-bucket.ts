/** Outcome of {@link TokenBucket.take}. */
export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * A token bucket: `capacity` requests at once, refilled continuously at
 * `refillPerSecond`. The clock is an argument so tests drive it; a clock that
 * goes backwards refills nothing rather than draining the bucket.
 */
export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
  ) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
    if (!(refillPerSecond > 0)) throw new RangeError('refillPerSecond must be positive');
    this.tokens = capacity;
  }

  /** Takes one token at `now` (ms), or says how long until one is available. */
  take(now: number): TakeResult {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + ((now - this.last) * this.refillPerSecond) / 1000,
      );
    }
    this.last = this.last === undefined ? now : Math.max(this.last, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return {
      ok: false,
      retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.refillPerSecond),
    };
  }
}
