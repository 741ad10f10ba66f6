import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  loadConfigOrExit,
  metricsEndpointSchema,
  orExitOnConfigError,
  platformConfigSchema,
  redisConnectionSchema,
  runnerDefaultsSchema,
  stageRunnerOverridesSchema,
} from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { UNCONFIGURED_FUNDER_ACTIONS } from './domain/poll-decision';
import { SETTLING_LIFECYCLE, SETTLING_TRANSITIONS } from './domain/status-lifecycle';
import {
  fundersSectionSchema,
  resolveFunderTokens,
  type FundersSection,
} from '@grantstream/funders';

/** The status-polling stage's own settings. */
export const statusPollingSectionSchema = z.strictObject({
  runner: stageRunnerOverridesSchema,
  metrics: metricsEndpointSchema,
  /**
   * Longest a poll waits for its funder's limiter. Past it the poll is
   * rescheduled rather than held: a waiting poll keeps its whole chunk (and
   * so its partition) from committing.
   */
  limiterWaitMs: z.int().positive(),
  /**
   * Longest any poll is put off: the next poll after a change, and a
   * reschedule however long the portal's Retry-After or the funder's circuit
   * asks for. A scheduled record holds its partition until it is due, and
   * with it the polls of every other funder behind it.
   */
  maxPollDelayMs: z.int().positive(),
  /**
   * Status transitions a grant may show, each one published, before it is
   * given up (dead-lettered STATUS_UNRESOLVED, so the compliance officer is
   * told) as an answer that never settles: a portal flipping between two
   * statuses is otherwise followed and recorded change after change until
   * the give-up age. A terminal answer is published whatever the count. Not
   * below the transitions of the healthy lifecycle, which it would give up.
   */
  maxStatusTransitions: z
    .int()
    .min(
      SETTLING_TRANSITIONS,
      `at least the ${SETTLING_TRANSITIONS} transitions of a healthy lifecycle (${SETTLING_LIFECYCLE.join(' -> ')})`,
    ),
  /**
   * A live status of a funder missing from `funders`: `dead_letter` it (one
   * deployment follows every funder, so it is a configuration error), or
   * `skip` it (deployments split the funders between them, each in its own
   * consumer group; scenario tests run this way on shared topics).
   */
  unconfiguredFunders: z.enum(UNCONFIGURED_FUNDER_ACTIONS),
  /**
   * The status topics this stage reads and writes: `status` (every status a
   * grant reaches) and `poll` (an unchanged poll back on the schedule). A
   * deployment, or a scenario test on the shared broker, may follow its own
   * pair: another status-polling group on the same topics would take its
   * statuses too.
   */
  topics: z.strictObject({
    status: z.string().min(1),
    poll: z.string().min(1),
  }),
});

/** The settings naming the topics the status-polling handlers subscribe to (see configuredSubscription). */
export const STATUS_TOPIC_SETTING = 'statusPolling.topics.status';
/** See {@link STATUS_TOPIC_SETTING}. */
export const STATUS_POLL_TOPIC_SETTING = 'statusPolling.topics.poll';

/**
 * The status-polling stage's configuration: platform, runner defaults, the
 * funder portals (poll interval and give-up age per funder), the Redis the
 * funder limiters share with submission, and its own section.
 */
export const statusPollingConfigSchema = platformConfigSchema.extend({
  runner: runnerDefaultsSchema,
  funders: fundersSectionSchema,
  redis: redisConnectionSchema,
  statusPolling: statusPollingSectionSchema,
});

/** Parsed {@link statusPollingConfigSchema}. */
export type StatusPollingConfig = z.infer<typeof statusPollingConfigSchema>;
/** Parsed {@link statusPollingSectionSchema}. */
export type StatusPollingSection = z.infer<typeof statusPollingSectionSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadStatusPollingConfig(
  env: Readonly<Record<string, string | undefined>>,
): StatusPollingConfig {
  return loadConfigOrExit({ schema: statusPollingConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}

/**
 * Every funder's bearer token from the secrets the configuration names.
 * @throws ConfigError naming every secret that is not set.
 */
export function funderTokensOf(
  funders: FundersSection,
  env: Readonly<Record<string, string | undefined>>,
): ReadonlyMap<string, string> {
  const { tokens, problems } = resolveFunderTokens(funders, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return tokens;
}

/** Entry-point form of {@link funderTokensOf}: a missing secret prints every problem and exits 2. */
export function funderTokensOrExit(
  funders: FundersSection,
  env: Readonly<Record<string, string | undefined>>,
): ReadonlyMap<string, string> {
  return orExitOnConfigError(() => funderTokensOf(funders, env));
}
