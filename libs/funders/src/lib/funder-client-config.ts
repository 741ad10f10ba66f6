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
  status: z.strictObject({
    /** How often status polling asks this portal about a submission that is not terminal yet. */
    pollIntervalMs: positiveInt,
    /** Age (from submission) after which a status still not terminal goes to a person. */
    giveUpAfterMs: positiveInt,
  }),
});

/** Parsed {@link funderClientConfigSchema}. */
export type FunderClientConfig = z.infer<typeof funderClientConfigSchema>;

/** Funder ids as grant ids carry them (the part before the first `-`). */
const funderIdSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{1,15}$/, 'a funder id is 2-16 upper-case letters or digits');

/** Every funder portal the pipeline talks to, by funder id: shared by submission and status polling. */
export const fundersSectionSchema = z.record(funderIdSchema, funderClientConfigSchema);

/** Parsed {@link fundersSectionSchema}. */
export type FundersSection = z.infer<typeof fundersSectionSchema>;

/**
 * The bearer token of every configured funder, read from the secrets
 * (environment variables) the config names. Every missing secret is reported
 * at once, so a deployment learns of all of them in one failed start.
 */
export function resolveFunderTokens(
  funders: FundersSection,
  env: Readonly<Record<string, string | undefined>>,
): { tokens: Map<string, string>; problems: string[] } {
  const tokens = new Map<string, string>();
  const problems: string[] = [];
  for (const [funderId, funder] of Object.entries(funders)) {
    const token = env[funder.tokenSecret];
    if (token === undefined || token === '') {
      problems.push(`funders.${funderId}.tokenSecret: secret ${funder.tokenSecret} is not set`);
    } else {
      tokens.set(funderId, token);
    }
  }
  return { tokens, problems };
}
