/** Uniform latency bounds, in milliseconds, added to every answer of a funder's API. */
export interface LatencyRange {
  min: number;
  max: number;
}

/**
 * How one simulated funder portal behaves. Rates are probabilities in [0, 1].
 * The configuration file is the source of truth (simulator.config.ts
 * validates it); tests change it at runtime through `PUT /__sim/funders/{f}`.
 */
export interface FunderBehaviour {
  /** The Bearer token the portal accepts. */
  token: string;
  rateLimitPerSecond: number;
  /** Requests allowed at once before the rate applies; defaults to the rate (at least 1). */
  burst?: number;
  /** Fixed Retry-After on 429, in seconds; otherwise the bucket's time to the next token. */
  retryAfterSeconds?: number;
  latencyMs: LatencyRange;
  /** Random 500/502/503 before anything is created. */
  serverErrorRate: number;
  /** Created, but the answer comes after `timeoutDelayMs`: the client cannot know the outcome. */
  timeoutRate: number;
  timeoutDelayMs: number;
  /** Created, then the connection is destroyed without an answer. */
  dropRate?: number;
  /** Fraction of grant ids (by hash, so stable per grant) refused with 422 at submission. */
  validationFailureRate: number;
  /** Grant ids always refused with 422 at submission. */
  rejectGrantIds?: readonly string[];
  /** How long each non-terminal status lasts. */
  statusDwellMs: number;
  /** Fraction of grant ids (by hash) whose statuses last `slowStatusDwellMs` instead. */
  slowStatusRate: number;
  slowStatusDwellMs: number;
  /** Fraction of grant ids (by hash) the agency rejects after PROCESSING. */
  statusRejectRate: number;
  /**
   * Fraction of grant ids (by hash) whose status never settles: the portal's
   * two replicas disagree (one reaches VALIDATED, the other stays at
   * PROCESSING) and answer in turn, so once VALIDATED every status read
   * flips (a load-balanced portal out of sync). Default 0.
   */
  statusFlapRate?: number;
  /** Grant ids whose status never settles (as `statusFlapRate`). */
  flapGrantIds?: readonly string[];
}

/** The bucket capacity a behaviour implies. */
export function burstOf(behaviour: Pick<FunderBehaviour, 'burst' | 'rateLimitPerSecond'>): number {
  return behaviour.burst ?? Math.max(1, behaviour.rateLimitPerSecond);
}
