import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import {
  GRANTSTREAM_VERSION,
  type PlatformConfig,
  type StageRunnerConfig,
} from '@grantstream/config';
import { createLogger, type GrantLogger } from '@grantstream/logging';
import { createPlatformClients, type PlatformClients } from '../platform';
import { deadLetterAuditHook, type DeadLetterAuditOptions } from '../runner/dead-letter-audit';
import type { DeadLetterHook, PartitionPreparer } from '../runner/stage-handler';
import type { ServiceIdentity, StageRunner } from '../runner/stage-runner';
import { StageMetrics, serveMetrics, type MetricsEndpoint } from '../observability/stage-metrics';
import { StageHealth } from '../observability/stage-health';
import { closeOnSignals } from './close-on-signals';
import { StageTransport } from './stage-transport';

/**
 * Exit status of a stage stopped by a security failure (a missing ACL, refused
 * credentials, an untrusted certificate): EX_CONFIG of sysexits, a problem of
 * configuration that restarting alone cannot fix.
 */
export const EXIT_SECURITY_FAILURE = 78;

/** What a stage service's entry point hands to {@link runStageService}. */
export interface StageServiceOptions {
  /** The stage's Nest module, with its controllers and providers. */
  module: Type<unknown> | DynamicModule;
  service: ServiceIdentity;
  config: StageRunnerConfig;
  clients: PlatformClients;
  logger: GrantLogger;
  onDeadLetter?: DeadLetterHook;
  /** The stage's {@link PartitionPreparer}, when it keeps state per input partition. */
  preparePartition?: PartitionPreparer;
  /** Where to serve Prometheus metrics (`GET /metrics`). */
  metrics: MetricsEndpoint;
  /** The stage's metrics, when the stage registers its own on them too; made here otherwise. */
  stageMetrics?: StageMetrics;
  /** The schema registry's base URL, which readiness checks besides the broker. */
  registryUrl: string;
  /** Called with the transport before it starts, to follow its runner's events. */
  observe?: (transport: StageTransport) => void;
  /** Values of the handlers' configured subscriptions (see StageTransportOptions.subscriptions). */
  subscriptions?: Readonly<Record<string, string | RegExp>>;
}

/**
 * Boots one stage as a NestJS microservice over {@link StageTransport} and
 * returns once it consumes. SIGTERM/SIGINT close it gracefully (the open chunk
 * commits or aborts within shutdownGraceMs), release the clients and exit 0.
 */
export async function runStageService(options: StageServiceOptions): Promise<INestMicroservice> {
  const { module, service, config, clients, logger, onDeadLetter, preparePartition } = options;
  const metrics = options.stageMetrics ?? new StageMetrics(service);
  const health = new StageHealth({
    timeoutMs: config.readinessProbeTimeoutMs,
    checks: {
      broker: async () => {
        await clients.admin.connect();
        await clients.admin.describeCluster();
        return true;
      },
      registry: () => clients.serde.answers(),
    },
  });
  const metricsServer = await serveMetrics(metrics.registry, options.metrics, logger, health);
  const strategy = new StageTransport({
    service,
    config,
    clients,
    logger,
    ...(onDeadLetter ? { onDeadLetter } : {}),
    ...(preparePartition ? { preparePartition } : {}),
    ...(options.subscriptions ? { subscriptions: options.subscriptions } : {}),
  });
  metrics.observe(strategy);
  health.observe(strategy);
  options.observe?.(strategy);
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
  // A refused principal or credential stops the runner for good (see the
  // runner's `fatal` event): the process exits, so an orchestrator shows a
  // failing stage with its reason instead of a live one that does nothing.
  strategy.unwrap<StageRunner>().once('fatal', ({ error }) => {
    void closable
      .close()
      .catch(() => undefined)
      .finally(() => {
        logger.flush();
        process.exit(EXIT_SECURITY_FAILURE);
      });
    logger.fatal({ code: error.code }, 'stage service exiting: refused by the broker');
  });
  metrics.inspect(strategy.unwrap<StageRunner>(), {
    timeoutMs: config.lagProbeTimeoutMs,
    logger,
  });
  logger.info({ stage: service.stage, groupId: config.groupId }, 'stage service consuming');
  return app;
}

/**
 * A stage's Nest module together with its {@link PartitionPreparer}: what
 * `StageSpec.module` returns for a stage that keeps state per input partition.
 */
export interface StatefulStageModule {
  nest: DynamicModule;
  preparePartition: PartitionPreparer;
}

/** What a stage's entry point declares; {@link runStage} does the rest. */
export interface StageSpec {
  /** Stage name (ingest, normalization, routing, ...); the service is `grantstream-<stage>`. */
  stage: string;
  /** The stage's validated configuration. */
  config: PlatformConfig;
  runner: StageRunnerConfig;
  metrics: MetricsEndpoint;
  /**
   * The stage's Nest module, built once its identity, logger, metrics and
   * clients exist (a stage registers its own metrics on `metrics.registry`;
   * a stateful stage reads its changelog through `clients`).
   */
  module: (context: {
    service: ServiceIdentity;
    logger: GrantLogger;
    metrics: StageMetrics;
    clients: PlatformClients;
  }) => DynamicModule | StatefulStageModule;
  /** Dead-letter audit settings besides the service (whether the stage starts trails, rule versions). */
  deadLetters: Omit<DeadLetterAuditOptions, 'service'>;
  /** Values of the handlers' configured subscriptions, by setting name. */
  subscriptions?: Readonly<Record<string, string | RegExp>>;
}

/**
 * The entry point of a stage service: identity (name and workspace version),
 * logger, clients, the dead-letter audit hook, then {@link runStageService}.
 * A failed start prints why and exits 1.
 */
export function runStage(spec: StageSpec): void {
  const service: ServiceIdentity = {
    stage: spec.stage,
    name: `grantstream-${spec.stage}`,
    version: GRANTSTREAM_VERSION,
  };
  const logger = createLogger({
    service: service.name,
    version: service.version,
    level: spec.config.logging.level,
  });
  const start = async () => {
    const stageMetrics = new StageMetrics(service);
    const clients = createPlatformClients(spec.config, logger);
    const built = spec.module({ service, logger, metrics: stageMetrics, clients });
    await runStageService({
      module: 'nest' in built ? built.nest : built,
      stageMetrics,
      registryUrl: spec.config.registry.url,
      service,
      config: spec.runner,
      metrics: spec.metrics,
      clients,
      logger,
      onDeadLetter: deadLetterAuditHook({ ...spec.deadLetters, service }),
      ...('nest' in built ? { preparePartition: built.preparePartition } : {}),
      ...(spec.subscriptions ? { subscriptions: spec.subscriptions } : {}),
    });
  };
  start().catch((err: unknown) => {
    process.stderr.write(
      `${service.name} failed to start: ${String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  });
}
