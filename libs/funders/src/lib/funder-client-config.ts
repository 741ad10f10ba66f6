import { z } from 'zod';

const positiveInt = z.int().positive();

/**
 * How the submission and status stages talk to one funder's portal: where,
 * with which secret, how fast, how often to retry and when to stop trying
 * (the circuit). Every limit on funder calls comes from here, never from code.
 */
export const funderClientConfigSchema = z.strictObject({
  /** Base URL of the portal API; `/v2/submissions` is appended. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Name of the secret (environment variable) holding the bearer token; the token never sits in config files. */
  tokenSecret: z.string().min(1),
  /** Longest one portal call may take, body included. */
  timeoutMs: positiveInt,
  /** Calls per second the portal allows; throttling stays under it so 429s stay rare. */
  ratePerSecond: z.number().positive(),
  /** Calls in flight to this portal at most. */
  maxConcurrent: positiveInt,
  retry: z
    .strictObject({
      /** Attempts in all (the first included) before a retriable failure is dead-lettered. */
      maxAttempts: positiveInt,
      initialBackoffMs: positiveInt,
      maxBackoffMs: positiveInt,
    })
    .refine((retry) => retry.initialBackoffMs <= retry.maxBackoffMs, {
      message: 'initialBackoffMs must not exceed maxBackoffMs',
      path: ['initialBackoffMs'],
    }),
  circuit: z.strictObject({
    /** Consecutive transient or timed-out outcomes that open the circuit. */
    consecutiveFailures: positiveInt,
    /** How long the circuit stays open before one probe call is let through. */
    halfOpenAfterMs: positiveInt,
  }),
});

/** Parsed {@link funderClientConfigSchema}. */
export type FunderClientConfig = z.infer<typeof funderClientConfigSchema>;
