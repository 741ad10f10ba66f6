import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import type { KafkaConnectionConfig } from '@grantstream/config';
import type { GrantLogger } from '@grantstream/logging';

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Routes kafkajs's own log lines into our pino logger, so broker disconnects,
 * rebalances and retries appear in the same structured stream as our events
 * instead of on kafkajs's console logger.
 */
export function pinoLogCreator(logger: GrantLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      // kafkajs repeats its own timestamp and logger name; pino has both already.
      const {
        message,
        timestamp: _t,
        logger: _l,
        ...extra
      } = log as typeof log & { logger?: string };
      const method = PINO_LEVEL[level] ?? 'info';
      logger[method]({ kafkajs: namespace, ...extra }, message);
    };
}

/** Maps a pino level to the kafkajs level that keeps the same verbosity. */
function kafkaLevelFor(logger: GrantLogger): logLevel {
  switch (logger.level) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'silent':
      return logLevel.NOTHING;
    default:
      return logLevel.ERROR;
  }
}

/** Builds the kafkajs client from validated connection config; the only place a `Kafka` is made. */
export function createKafka(config: KafkaConnectionConfig, logger: GrantLogger): Kafka {
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: {
      retries: config.retry.retries,
      initialRetryTime: config.retry.initialRetryTimeMs,
      maxRetryTime: config.retry.maxRetryTimeMs,
    },
    logLevel: kafkaLevelFor(logger),
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
  };
  return new Kafka(kafkaConfig);
}
