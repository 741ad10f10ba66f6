import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { FunderApiMetrics, resolveFunderTokens } from '@grantstream/funders';
import { createLogger } from '@grantstream/logging';
import { runStage } from '@grantstream/kafka';
import { RETRY_TOPIC_PATTERN_SETTING } from './handlers/submission.handler';
import { ContentStateStore } from './content-state';
import { createFunderPortals } from './funder-portals';
import { loadSubmissionConfig } from './submission.config';
import { SubmissionMetrics } from './submission-metrics';
import { SubmissionModule } from './submission.module';

const config = loadSubmissionConfig(process.env);
const section = config.submission;
const retryTopics = new RegExp(section.retryTopicPattern);
const tokens = orExitOnConfigError(() => {
  const { tokens: found, problems } = resolveFunderTokens(config.funders, process.env);
  const tierProblems = section.retryTiers
    .filter((t) => !retryTopics.test(t.topic))
    .map(
      (t) =>
        `submission.retryTiers: ${t.topic} does not match submission.retryTopicPattern ${retryTopics.source}`,
    );
  if (problems.length + tierProblems.length > 0)
    throw new ConfigError([...problems, ...tierProblems]);
  return found;
});
// A runner whose worst case in flight cannot fit the memory budget refuses to
// start, before the funder limiters are reached.
const runner = orExitOnConfigError(() => stageRunnerConfig(config.runner, section.runner));

const bootLogger = createLogger({ service: 'grantstream-submission', level: config.logging.level });
const funderApi = new FunderApiMetrics();
createFunderPortals({
  funders: config.funders,
  tokens,
  redis: config.redis,
  limiterWaitMs: section.limiterWaitMs,
  logger: bootLogger,
  onCall: funderApi.observe,
}).then(
  (portals) =>
    runStage({
      stage: 'submission',
      config,
      runner,
      metrics: section.metrics,
      subscriptions: { [RETRY_TOPIC_PATTERN_SETTING]: retryTopics },
      module: ({ service, metrics, clients, logger }) => {
        funderApi.registerOn(metrics.registry);
        const contentState = new ContentStateStore({
          topic: section.contentState.topic,
          maxContentsPerGrant: section.contentState.maxContentsPerGrant,
          restore: section.contentState.restore,
          clients,
          logger,
        });
        const nest = SubmissionModule.forRoot({
          portals,
          policyFor: (portal) => ({
            maxAttempts: portal.config.retry.maxAttempts,
            initialBackoffMs: portal.config.retry.initialBackoffMs,
            maxBackoffMs: portal.config.retry.maxBackoffMs,
            maxRetryAgeMs: section.maxRetryAgeMs,
            throttledDelayMs: section.throttledDelayMs,
            rateLimitDefaultDelayMs: section.rateLimitDefaultDelayMs,
            deadlineRiskMarginMs: section.deadlineRiskMarginMs,
            fallbacks: config.fallbacks,
          }),
          tiers: section.retryTiers,
          inlineRetryMaxMs: section.inlineRetryMaxMs,
          unconfiguredFunders: section.unconfiguredFunders,
          service,
          contentState,
          now: Date.now,
          events: new SubmissionMetrics(metrics.registry, portals),
        });
        // Each routed partition's state is read back before its first batch of a generation.
        return { nest, preparePartition: (tp, signal) => contentState.prepare(tp, signal) };
      },
      deadLetters: { startsTrail: false },
    }),
  (err: unknown) => {
    bootLogger.fatal({ err }, 'submission could not reach its funder limiters');
    process.exit(1);
  },
);
