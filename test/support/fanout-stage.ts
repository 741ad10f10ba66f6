// A stage process for scenarios that kill or stop it: the fan-out test stage
// written as a NestJS microservice over StageTransport (the way real stages
// are, through runStageService: /metrics, /health/live and /health/ready),
// reporting each commit as a JSON line on stdout. SIGTERM closes the app: the
// open chunk commits or aborts, then exit 0.
import 'reflect-metadata';
import { Controller, Inject, Module } from '@nestjs/common';
import { Command } from 'commander';
import {
  GrantSubmissionV1Avro,
  GrantSubmissionV1Schema,
  type GrantSubmissionV1,
} from '@grantstream/contracts';
import { loadGrantstreamConfigOrExit } from '@grantstream/config';
import {
  StageEvent,
  createPlatformClients,
  runStageService,
  type InboundMessage,
  type StageContext,
  type StageHandler,
} from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { fanoutHandler, hopRunnerConfig } from './fanout';

const FANOUT = Symbol('FANOUT');

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--input <topic>')
    .requiredOption('--output <topic>')
    .requiredOption('--dlq <topic>')
    .requiredOption('--group <id>')
    .requiredOption('--prefix <id>')
    .option('--fanout <n>', 'outputs per input', Number, 3)
    .option('--delay-ms <ms>', 'work per message', Number, 0)
    .option('--audit-topic <topic>', "also write each grant's audit trail here")
    .option(
      '--metrics-port <port>',
      'serve /metrics and /health here (0: any free port)',
      Number,
      0,
    )
    .parse(process.argv)
    .opts<{
      input: string;
      output: string;
      dlq: string;
      group: string;
      prefix: string;
      fanout: number;
      delayMs: number;
      auditTopic?: string;
      metricsPort: number;
    }>();
  const config = loadGrantstreamConfigOrExit(process.env);
  const logger = createLogger({
    service: 'fanout-stage',
    level: config.logging.level,
    destination: process.stderr,
  });
  const clients = createPlatformClients(config, logger);

  @Controller()
  class FanoutController {
    constructor(@Inject(FANOUT) private readonly fanout: StageHandler<GrantSubmissionV1>) {}

    @StageEvent(o.input, { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema })
    handle(message: InboundMessage<GrantSubmissionV1>, ctx: StageContext<GrantSubmissionV1>) {
      return this.fanout.handle(message, {
        attempt: ctx.attempt,
        signal: ctx.signal,
        log: ctx.log,
      });
    }
  }

  @Module({
    controllers: [FanoutController],
    providers: [
      {
        provide: FANOUT,
        useValue: fanoutHandler({
          inputTopic: o.input,
          outputTopic: o.output,
          fanout: o.fanout,
          delayMs: o.delayMs,
          ...(o.auditTopic ? { auditTopic: o.auditTopic } : {}),
        }),
      },
    ],
  })
  class FanoutModule {}

  const report = (event: string, data: object) =>
    process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
  await runStageService({
    module: FanoutModule,
    service: { stage: 'fanout', name: 'fanout-stage', version: '0.0.0' },
    config: hopRunnerConfig({
      input: o.input,
      output: o.output,
      dlq: o.dlq,
      group: o.group,
      prefix: o.prefix,
    }),
    clients,
    logger,
    metrics: { host: '127.0.0.1', port: o.metricsPort },
    registryUrl: config.registry.url,
    observe: (strategy) => {
      strategy.on('committed', (c) => report('committed', c));
      strategy.on('groupJoined', (g) => report('groupJoined', g));
      strategy.status.subscribe((s) => {
        if (s === 'disconnected') report('stopped', {});
      });
    },
  });
  report('started', {});
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
