import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { runStage } from '@grantstream/kafka';
import { DEAD_LETTER_TOPIC_SETTING } from './handlers/grants-dlq.handler';
import { loadNotificationConfig } from './notification.config';
import { NotificationModule } from './notification.module';
import { WebhookClient } from './webhook/webhook-client';

const { config, webhookToken } = loadNotificationConfig(process.env);
const { webhook, kinds } = config.notification;
// A runner whose worst case in flight cannot fit the memory budget refuses to start.
const runner = orExitOnConfigError(() =>
  stageRunnerConfig(config.runner, config.notification.runner),
);
runStage({
  stage: 'notification',
  config,
  runner,
  metrics: config.notification.metrics,
  module: ({ service }) =>
    NotificationModule.forRoot({
      service,
      webhook: new WebhookClient({
        url: webhook.url,
        timeoutMs: webhook.timeoutMs,
        token: webhookToken,
      }),
      policy: { kinds, fallbacks: config.fallbacks },
      now: Date.now,
    }),
  subscriptions: { [DEAD_LETTER_TOPIC_SETTING]: config.runner.deadLetterTopic },
  deadLetters: { startsTrail: false },
});
