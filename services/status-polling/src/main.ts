import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { FunderApiMetrics } from '@grantstream/funders';
import { runStage } from '@grantstream/kafka';
import { createFunderClients } from './funder-clients';
import {
  STATUS_POLL_TOPIC_SETTING,
  STATUS_TOPIC_SETTING,
  funderTokensOrExit,
  loadStatusPollingConfig,
} from './status-polling.config';
import { StatusPollingModule } from './status-polling.module';

const env = process.env;
const config = loadStatusPollingConfig(env);
const tokens = funderTokensOrExit(config.funders, env);
// A runner whose worst case in flight cannot fit the memory budget refuses to start.
const runner = orExitOnConfigError(() =>
  stageRunnerConfig(config.runner, config.statusPolling.runner),
);
runStage({
  stage: 'status-polling',
  config,
  runner,
  metrics: config.statusPolling.metrics,
  module: ({ service, logger, metrics }) => {
    const funderApi = new FunderApiMetrics();
    funderApi.registerOn(metrics.registry);
    return StatusPollingModule.forRoot({
      funders: createFunderClients({
        funders: config.funders,
        tokens,
        redis: config.redis,
        logger,
        onCall: funderApi.observe,
      }),
      service,
      now: Date.now,
      limiterWaitMs: config.statusPolling.limiterWaitMs,
      maxPollDelayMs: config.statusPolling.maxPollDelayMs,
      maxStatusTransitions: config.statusPolling.maxStatusTransitions,
      unconfiguredFunders: config.statusPolling.unconfiguredFunders,
      topics: config.statusPolling.topics,
    });
  },
  subscriptions: {
    [STATUS_TOPIC_SETTING]: config.statusPolling.topics.status,
    [STATUS_POLL_TOPIC_SETTING]: config.statusPolling.topics.poll,
  },
  deadLetters: { startsTrail: false },
});
