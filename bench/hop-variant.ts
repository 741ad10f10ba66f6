/**
 * One variant of bench/hop-throughput.ts in a process of its own, on topics
 * the parent created and filled; prints one `RESULT {json}` line.
 *
 *   node --import tsx bench/hop-variant.ts '<json VariantJob>'
 *
 * Every variant runs in a fresh process so none inherits another's warm JIT
 * or heap, and so a hop can run on another tree's libs/kafka: started with
 * its working directory in a git worktree of an older commit, tsx resolves
 * `@grantstream/*` through that tree's tsconfig (the runner as it was then).
 */
import 'reflect-metadata';
import { Controller, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientKafka,
  ClientsModule,
  Ctx,
  EventPattern,
  Payload,
  ServerKafka,
  Transport,
  type KafkaContext,
  type KafkaOptions,
} from '@nestjs/microservices';
// The NestJS transport needs kafkajs itself: a benchmark script (not a
// project, not linted) may import it directly.
// eslint-disable-next-line no-restricted-imports
import { Partitioners, logLevel } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import {
  AVRO_LOGICAL_TYPES,
  GrantSubmissionV1Avro,
  GrantSubmissionV1Schema,
  type GrantSubmissionV1,
} from '@grantstream/contracts';
import type { GrantstreamConfig, StageRunnerConfig } from '@grantstream/config';
import {
  AvroSerde,
  StageRunner,
  createPlatformClients,
  type StageHandler,
} from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { testConfig } from '@grantstream/testing';
import {
  Progress,
  committedSum,
  consumerSettings,
  failedRun,
  highWatermarks,
  plainKafkajs,
  resultOf,
  runPassthrough,
  type BenchTopics,
  type RunResult,
} from './support/bench-kit.ts';

/** What the parent asks of this process. */
export interface VariantJob {
  variant: string;
  round: number;
  messages: number;
  timeoutMs: number;
  topics: BenchTopics;
}

/**
 * raw-extended | raw-kafkajs | nest | hop[-b<maxBatchMessages>][-p<partitionsConsumedConcurrently>]
 * | hop-kafkajs (the hop on the baseline tree: the parent chooses the tree).
 */
export type VariantSpec =
  | { kind: 'raw'; client: 'extended' | 'kafkajs' }
  | { kind: 'nest' }
  | { kind: 'hop'; batch?: number; concurrency?: number; baseline: boolean };

export function variantSpec(name: string): VariantSpec | null {
  if (name === 'raw-extended') return { kind: 'raw', client: 'extended' };
  if (name === 'raw-kafkajs') return { kind: 'raw', client: 'kafkajs' };
  if (name === 'nest') return { kind: 'nest' };
  const m = /^hop(-kafkajs)?(?:-b(\d+))?(?:-p(\d+))?$/.exec(name);
  if (!m) return null;
  return {
    kind: 'hop',
    baseline: Boolean(m[1]),
    ...(m[2] ? { batch: Number(m[2]) } : {}),
    ...(m[3] ? { concurrency: Number(m[3]) } : {}),
  };
}

const OUTPUT_STAGE = 'bench.hop';
// Errors only: the runner's producers warn about their bounded retry count on every start.
const logger = createLogger({ service: 'bench-hop', level: 'error' });

// ---------------------------------------------------------------- HOP

/** The stage logic: one output of the same record type per input. */
function passHandler(t: BenchTopics): StageHandler<GrantSubmissionV1> {
  return {
    subscriptions: [t.input],
    input: { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema },
    handle: (message) =>
      Promise.resolve({
        records: [{ topic: t.output, key: message.key, value: message.value }],
      }),
  };
}

async function runHop(
  job: VariantJob,
  spec: { batch?: number; concurrency?: number },
  config: GrantstreamConfig,
): Promise<RunResult> {
  const t = job.topics;
  const clients = createPlatformClients(config, logger);
  const p = new Progress(job.messages, 'join');
  const runnerConfig: StageRunnerConfig = {
    ...config.runner,
    groupId: t.group,
    transactionalIdPrefix: t.prefix,
    deadLetterTopic: t.dlq,
    ...(spec.batch ? { maxBatchMessages: spec.batch } : {}),
    ...(spec.concurrency ? { partitionsConsumedConcurrently: spec.concurrency } : {}),
  };
  const serde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
  const runner = new StageRunner({
    service: { stage: OUTPUT_STAGE, name: 'bench-hop', version: '0.0.0' },
    config: runnerConfig,
    kafka: clients.kafka,
    serde,
    handlers: [passHandler(t) as StageHandler<unknown>],
    logger,
  });
  let deadLetters = 0;
  let aborted = 0;
  runner.on('groupJoined', () => p.joined());
  runner.on('committed', (c) => {
    deadLetters += c.deadLetters;
    p.add(c.outputs - c.deadLetters);
  });
  runner.on('aborted', () => (aborted += 1));
  await runner.start();
  const timedOut = await p.wait(job.timeoutMs);
  const result = resultOf(job.variant, job.round, p, '');
  await runner.stop();
  const admin = clients.kafka.admin();
  await admin.connect();
  const committed = await committedSum(admin, t.group, t.input);
  const hw = await highWatermarks(admin, t.output);
  await admin.disconnect();
  await clients.close();
  const [from, to] = p.windowUs;
  result.note =
    `${p.transactions} txns (${(job.messages / Math.max(1, p.transactions)).toFixed(0)} msgs/txn), ` +
    `group committed ${committed}/${job.messages}, output HW ${hw} (incl. markers), ` +
    `dead letters ${deadLetters}, aborts ${aborted}${timedOut ? ', TIMED OUT' : ''}; profile window ${from},${to}`;
  return result;
}

// ---------------------------------------------------------------- NEST

const BENCH = 'BENCH_CONTEXT';
const OUT = 'BENCH_OUT_CLIENT';

interface NestBench {
  serde: AvroSerde;
  input: string;
  output: string;
  progress: Progress;
}

/** NestJS's ServerKafka, unchanged except that it reports the group join (the clock start). */
class TimedServerKafka extends ServerKafka {
  constructor(
    options: NonNullable<KafkaOptions['options']>,
    private readonly onJoin: () => void,
  ) {
    super(options);
  }

  protected override registerConsumerEventListeners(): void {
    super.registerConsumerEventListeners();
    const consumer = this.consumer;
    consumer?.on(consumer.events.GROUP_JOIN, () => this.onJoin());
  }
}

/**
 * A module whose controller has an @EventPattern on this run's input topic.
 * The decorators are applied with Reflect.decorate rather than `@` syntax:
 * tsx compiles bench/ (outside the tsconfig's include) without
 * experimentalDecorators, and Nest needs the legacy decorator semantics. The
 * effect is exactly that of the decorated class.
 */
function nestModule(
  t: BenchTopics,
  kafkaClient: { brokers: string[]; clientId: string },
  bench: NestBench,
) {
  class HopController {
    constructor(
      private readonly bench: NestBench,
      private readonly out: ClientKafka,
    ) {}

    async handle(value: Buffer, context: KafkaContext): Promise<void> {
      const { serde, input, output, progress } = this.bench;
      const decoded = await serde.decodeAs(value, GrantSubmissionV1Avro);
      await serde.assertSubject(decoded.schemaId, input);
      const record = GrantSubmissionV1Schema.parse(decoded.value);
      const encoded = await serde.encode(output, record);
      const key = context.getMessage().key as unknown as string | null;
      // Awaiting the ack keeps at-least-once with autoCommit: an offset is
      // only committed once its output is durable.
      await lastValueFrom(this.out.emit(output, { key, value: encoded }));
      progress.add(1);
    }
  }
  Payload()(HopController.prototype, 'handle', 0);
  Ctx()(HopController.prototype, 'handle', 1);
  Inject(BENCH)(HopController, undefined, 0);
  Inject(OUT)(HopController, undefined, 1);
  Reflect.decorate(
    [EventPattern(t.input)],
    HopController.prototype,
    'handle',
    Object.getOwnPropertyDescriptor(HopController.prototype, 'handle'),
  );
  Reflect.decorate([Controller()], HopController);

  class HopModule {}
  Reflect.decorate(
    [
      Module({
        imports: [
          ClientsModule.register([
            {
              name: OUT,
              transport: Transport.KAFKA,
              options: {
                client: { ...kafkaClient, logLevel: logLevel.ERROR },
                producer: { createPartitioner: Partitioners.DefaultPartitioner },
                producerOnlyMode: true,
                send: { acks: -1 },
              },
            },
          ]),
        ],
        controllers: [HopController],
        providers: [{ provide: BENCH, useValue: bench }],
      }),
    ],
    HopModule,
  );
  return HopModule;
}

async function runNest(job: VariantJob, config: GrantstreamConfig): Promise<RunResult> {
  const t = job.topics;
  const p = new Progress(job.messages, 'join');
  const serde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
  const kafkaClient = { brokers: config.kafka.brokers, clientId: `bench-nest-${job.round}` };
  const {
    groupId: _group,
    readUncommitted: _isolation,
    ...settings
  } = consumerSettings(config.runner, t.group);
  const strategy = new TimedServerKafka(
    {
      client: { ...kafkaClient, logLevel: logLevel.ERROR },
      consumer: { groupId: t.group, ...settings },
      run: { partitionsConsumedConcurrently: config.runner.partitionsConsumedConcurrently },
      subscribe: { fromBeginning: true },
      producer: { createPartitioner: Partitioners.DefaultPartitioner },
      parser: { keepBinary: true },
      postfixId: '',
    },
    () => p.joined(),
  );
  const bench: NestBench = { serde, input: t.input, output: t.output, progress: p };
  const app = await NestFactory.createMicroservice(nestModule(t, kafkaClient, bench), {
    strategy,
    logger: ['error', 'warn'],
  });
  await app.get<ClientKafka>(OUT).connect();
  await app.listen();
  const timedOut = await p.wait(job.timeoutMs);
  const result = resultOf(job.variant, job.round, p, timedOut ? 'TIMED OUT' : '');
  await app.close();
  return result;
}

// ---------------------------------------------------------------- main

async function runJob(job: VariantJob): Promise<RunResult> {
  const spec = variantSpec(job.variant);
  if (!spec) throw new Error(`unknown variant ${job.variant}`);
  const config = testConfig();
  if (spec.kind === 'hop') return runHop(job, spec, config);
  if (spec.kind === 'nest') return runNest(job, config);
  // raw-kafkajs: kafkajs as the runner used it before the fork's fencing, one
  // transactional producer per input partition, no group metadata.
  // raw-extended: the fork as the runner uses it now, one producer per member,
  // offsets with the consumer's group metadata.
  const extended = spec.client === 'extended';
  const kafka = extended
    ? createPlatformClients(config, logger).kafka
    : plainKafkajs(config, logLevel.NOTHING);
  return runPassthrough(
    job.variant,
    kafka,
    config,
    job.topics,
    {
      groupMetadata: extended,
      perPartition: !extended,
      messages: job.messages,
      timeoutMs: job.timeoutMs,
      clock: 'join',
    },
    job.round,
  );
}

// Only when run as the child, not when the parent imports variantSpec.
if (process.argv[1]?.endsWith('hop-variant.ts')) {
  const job = JSON.parse(process.argv[2] ?? '{}') as VariantJob;
  runJob(job)
    .catch((err: unknown) => failedRun(job.variant, job.round, err))
    .then((result) => {
      console.log(`RESULT ${JSON.stringify(result)}`);
      process.exit(0);
    });
}
