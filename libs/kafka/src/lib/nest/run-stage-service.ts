import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import type { StageRunnerConfig } from '@grantstream/config';
import type { GrantLogger } from '@grantstream/logging';
import type { PlatformClients } from '../platform';
import type { DeadLetterHook } from '../runner/stage-handler';
import type { ServiceIdentity } from '../runner/stage-runner';
import { StageMetrics, serveMetrics, type MetricsEndpoint } from '../observability/stage-metrics';
import { closeOnSignals } from './close-on-signals';
import { StageTransport } from './stage-transport';

/** What a stage service's entry point hands to {@link runStageService}. */
export interface StageServiceOptions {
  /** The stage's Nest module, with its controllers and providers. */
  module: Type<unknown> | DynamicModule;
  service: ServiceIdentity;
  config: StageRunnerConfig;
  clients: PlatformClients;
  logger: GrantLogger;
  onDeadLetter?: DeadLetterHook;
  /** Where to serve Prometheus metrics (`GET /metrics`). */
  metrics: MetricsEndpoint;
}

/**
 * Boots one stage as a NestJS microservice over {@link StageTransport} and
 * returns once it consumes. SIGTERM/SIGINT close it gracefully (the open chunk
 * commits or aborts within shutdownGraceMs), release the clients and exit 0.
 */
export async function runStageService(options: StageServiceOptions): Promise<INestMicroservice> {
  const { module, service, config, clients, logger, onDeadLetter } = options;
  const metrics = new StageMetrics(service);
  const metricsServer = await serveMetrics(metrics.registry, options.metrics, logger);
  const strategy = new StageTransport({
    service,
    config,
    clients,
    logger,
    ...(onDeadLetter ? { onDeadLetter } : {}),
  });
  metrics.observe(strategy);
  const app = await NestFactory.createMicroservice(module, { strategy, logger: false });
  const closable = {
    close: async () => {
      await app.close();
      await clients.close();
      await new Promise((resolve) => metricsServer.close(resolve));
    },
  };
  closeOnSignals(closable, { logger });
  await app.listen();
  logger.info({ stage: service.stage, groupId: config.groupId }, 'stage service consuming');
  return app;
}
