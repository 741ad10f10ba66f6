import { z } from 'zod';
import { TOPIC_DECLARATIONS } from '@grantstream/contracts';
import {
  DEFAULT_CONFIG_FILE,
  fallbackChainSchema,
  loadConfigOrExit,
  metricsEndpointSchema,
  platformConfigSchema,
  redisConnectionSchema,
  runnerDefaultsSchema,
  stageRunnerOverridesSchema,
  regexSourceSchema,
} from '@grantstream/config';
import { fundersSectionSchema } from '@grantstream/funders';

const positiveInt = z.int().positive();

/** Topics declared (schemas/topics.yaml) to carry SubmissionRetry records: the only valid tiers. */
const RETRY_TOPICS = new Set(
  TOPIC_DECLARATIONS.filter((t) => t.valueSchema?.record === 'SubmissionRetry').map((t) => t.name),
);

/**
 * A declared retry topic, or a copy of one for a single deployment or test
 * scenario (`<declared>.<scope>`, its SubmissionRetry schema registered), so
 * submission groups sharing a broker never take each other's retries.
 */
const isRetryTopic = (t: string) =>
  RETRY_TOPICS.has(t) ||
  [...RETRY_TOPICS].some((d) => /^[A-Za-z0-9._-]+$/.test(t) && t.startsWith(`${d}.`));

/** One delay tier: a retry topic and the delay it stands for. */
export const retryTierSchema = z.strictObject({
  topic: z.string().refine(isRetryTopic, {
    message: `must be a declared retry topic (${[...RETRY_TOPICS].join(', ')}) or <one of them>.<scope>`,
  }),
  delayMs: positiveInt,
});

/** The submission stage's own settings. */
export const submissionSectionSchema = z
  .strictObject({
    runner: stageRunnerOverridesSchema,
    metrics: metricsEndpointSchema,
    /**
     * Retry topics the stage reads: every matching topic, so records left in a
     * tier no longer configured are still retried. Every configured tier must
     * match. A deployment (or a test scenario) with tiers of its own narrows it
     * to them, so it never takes another's retries.
     */
    retryTopicPattern: regexSourceSchema,
    /**
     * Longest a grant waits for its funder's limiter. Past it the grant goes
     * to a delay tier (`throttledDelayMs`) instead of holding its partition,
     * and with it other funders' grants, back.
     */
    limiterWaitMs: positiveInt,
    /** When our own limiter was full: how long before the grant is tried again. */
    throttledDelayMs: positiveInt,
    /** A retry due within this waits in place; a longer one goes to a delay tier. */
    inlineRetryMaxMs: z.int().min(0),
    /** Delay for a rate limit answered without Retry-After (the guide's 15 minutes). */
    rateLimitDefaultDelayMs: positiveInt,
    /** Delay tiers, shortest first: a retry goes to the shortest tier at least as long as its delay. */
    retryTiers: z.array(retryTierSchema).min(1),
    /** Oldest a grant's first attempt may be before its retries stop (with the funder's maxAttempts). */
    maxRetryAgeMs: positiveInt,
    /** A retry that would end closer than this to the deadline (or after it) is escalated. */
    deadlineRiskMarginMs: z.int().min(0),
    /**
     * A grant of a funder this deployment has no portal for: `dead_letter`
     * (one deployment files for every funder), or `skip` when deployments
     * split the funders between them on the same topics.
     */
    unconfiguredFunders: z.enum(['dead_letter', 'skip']),
    /** Content-level idempotency: the state of accepted contents per grant (docs/runtime.md). */
    contentState: z.strictObject({
      /** Compacted changelog topic, partitioned like grants.routed.v1 (each scenario may use its own). */
      topic: z.string().min(1),
      /** Accepted contents remembered per grant; beyond it the oldest is forgotten. */
      maxContentsPerGrant: positiveInt,
      /** How a restore reads a changelog partition (bytes per fetch bound its memory). */
      restore: z.strictObject({
        maxBytesPerFetch: positiveInt,
        maxWaitMs: positiveInt,
        maxEmptyFetches: positiveInt,
      }),
    }),
  })
  .refine(
    (s) => s.retryTiers.every((t, i, all) => i === 0 || (all[i - 1]?.delayMs ?? 0) < t.delayMs),
    { message: 'retryTiers must be ordered by strictly increasing delayMs', path: ['retryTiers'] },
  );

/** The submission stage's configuration: platform, runner defaults, funders, Redis, fallbacks and its section. */
export const submissionConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  funders: fundersSectionSchema,
  redis: redisConnectionSchema,
  fallbacks: fallbackChainSchema,
  submission: submissionSectionSchema,
});

/** Parsed {@link submissionConfigSchema}. */
export type SubmissionConfig = z.infer<typeof submissionConfigSchema>;
/** Parsed {@link submissionSectionSchema}. */
export type SubmissionSection = z.infer<typeof submissionSectionSchema>;
/** One parsed {@link retryTierSchema}. */
export type RetryTier = z.infer<typeof retryTierSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadSubmissionConfig(
  env: Readonly<Record<string, string | undefined>>,
): SubmissionConfig {
  return loadConfigOrExit({ schema: submissionConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}
