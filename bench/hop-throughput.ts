/**
 * Throughput of one transactional hop (StageRunner) against a raw kafkajs
 * consume-produce passthrough and against the same stage logic run through
 * NestJS's built-in Kafka transport, on the same broker in the same run.
 *
 *   node --import tsx bench/hop-throughput.ts [--messages N] [--rounds R]
 *        [--variants raw,hop,nest,hop-b1000,hop-p6,...] [--only hop] [--timeout S]
 *
 * Every variant of every round gets fresh 6-partition input/output topics with
 * a registered ~1 KB Avro record schema and N pre-produced (untimed) inputs.
 * The clock starts when the variant's consumer joins its group and stops when
 * the N-th output is durable: acknowledged with acks=all (raw, nest) or part of
 * a committed transaction (hop). See docs/benchmarks.md.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
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
// The RAW baseline and the NestJS transport need the Kafka client itself:
// a benchmark script (not a project, not linted) may import it directly.
// eslint-disable-next-line no-restricted-imports
import { Partitioners, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
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
  type PlatformClients,
  type StageHandler,
} from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { aGrantSubmission, testConfig } from '@grantstream/testing';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

// ---------------------------------------------------------------- options

interface Options {
  messages: number;
  rounds: number;
  variants: string[];
  timeoutMs: number;
  partitions: number;
  recordBytes: number;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    messages: 20_000,
    rounds: 3,
    variants: ['raw', 'hop', 'nest'],
    timeoutMs: 110_000,
    partitions: 6,
    recordBytes: 1024,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
      i += 1;
      return n;
    };
    switch (flag) {
      case '--messages':
        o.messages = int();
        break;
      case '--rounds':
        o.rounds = int();
        break;
      case '--timeout':
        o.timeoutMs = int() * 1000;
        break;
      case '--record-bytes':
        o.recordBytes = int();
        break;
      case '--only':
      case '--variants':
        o.variants = value.split(',').filter(Boolean);
        i += 1;
        break;
      case '--help':
        console.log(
          'node --import tsx bench/hop-throughput.ts [--messages N] [--rounds R] [--variants raw,hop,nest,hop-b1000,hop-p6] [--only hop] [--timeout S] [--record-bytes B]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  for (const v of o.variants) if (!variantSpec(v)) throw new Error(`unknown variant ${v}`);
  return o;
}

/** raw | nest | hop[-b<maxBatchMessages>][-p<partitionsConsumedConcurrently>] */
function variantSpec(
  name: string,
):
  | { kind: 'raw' }
  | { kind: 'nest' }
  | { kind: 'hop'; batch?: number; concurrency?: number }
  | null {
  if (name === 'raw') return { kind: 'raw' };
  if (name === 'nest') return { kind: 'nest' };
  const m = /^hop(?:-b(\d+))?(?:-p(\d+))?$/.exec(name);
  if (!m) return null;
  return {
    kind: 'hop',
    ...(m[1] ? { batch: Number(m[1]) } : {}),
    ...(m[2] ? { concurrency: Number(m[2]) } : {}),
  };
}

// ---------------------------------------------------------------- fixtures

const OUTPUT_STAGE = 'bench.hop';
// Errors only: the runner's producers warn about their bounded retry count on every start.
const logger = createLogger({ service: 'bench-hop', level: 'error' });

interface Topics {
  input: string;
  output: string;
  dlq: string;
  group: string;
  prefix: string;
}

/** A GrantSubmission padded (metadata.abstract) so the wire-format value is ~`bytes` long. */
async function paddedRecordTemplate(
  serde: AvroSerde,
  topic: string,
  bytes: number,
): Promise<{ record: GrantSubmissionV1; encodedBytes: number }> {
  const text =
    'This project deploys low-cost water-quality sensors in rural school districts and trains teachers to use the data in science curricula. ';
  let pad = 0;
  let record = aGrantSubmission();
  let size = 0;
  for (let i = 0; i < 4; i += 1) {
    record = aGrantSubmission({
      grant_id: 'NSF-2026-B0000000',
      metadata: {
        ...aGrantSubmission().metadata,
        abstract: text.repeat(Math.ceil(pad / text.length) + 1).slice(0, pad),
      },
    });
    size = (await serde.encode(topic, record)).length;
    pad = Math.max(0, pad + bytes - size);
  }
  return { record, encodedBytes: size };
}

async function createTopics(
  clients: PlatformClients,
  config: GrantstreamConfig,
  variant: string,
  round: number,
  partitions: number,
): Promise<Topics> {
  const base = `bench.hop.${variant}.r${round}.${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  const t: Topics = {
    input: `${base}.in`,
    output: `${base}.out`,
    dlq: `${base}.dlq`,
    group: `${base}.group`,
    prefix: `${base}.tx`,
  };
  await clients.admin.createTopics([
    { name: t.input, partitions, replicationFactor: 1, config: {}, valueSchema: null },
    { name: t.output, partitions, replicationFactor: 1, config: {}, valueSchema: null },
    { name: t.dlq, partitions: 1, replicationFactor: 1, config: {}, valueSchema: null },
  ]);
  const compatibility = config.topics.compatibility;
  await clients.serde.register(t.input, GrantSubmissionV1Avro, compatibility);
  await clients.serde.register(t.output, GrantSubmissionV1Avro, compatibility);
  return t;
}

/**
 * N inputs, distinct keys (murmur2 spreads them over the partitions), produced
 * in large batches by a producer of its own: a long-lived kafkajs producer
 * keeps refreshing metadata of topics it once wrote to, and fails once they
 * are deleted.
 */
async function preProduce(
  clients: PlatformClients,
  topic: string,
  template: GrantSubmissionV1,
  n: number,
): Promise<void> {
  const producer = clients.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const chunk = 3000;
    for (let i = 0; i < n; i += chunk) {
      const messages = await Promise.all(
        Array.from({ length: Math.min(chunk, n - i) }, async (_, j) => {
          const grantId = `NSF-2026-B${String(i + j).padStart(7, '0')}`;
          return {
            key: grantId,
            value: await clients.serde.encode(topic, { ...template, grant_id: grantId }),
          };
        }),
      );
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

async function cleanup(rawAdmin: Admin, t: Topics, groups: string[]) {
  if (groups.length > 0) await rawAdmin.deleteGroups(groups).catch(() => undefined);
  await rawAdmin.deleteTopics({ topics: [t.input, t.output, t.dlq] }).catch(() => undefined);
  const url = testConfig().registry.url;
  for (const topic of [t.input, t.output]) {
    const subject = encodeURIComponent(`${topic}-value`);
    await fetch(`${url}/subjects/${subject}`, { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${url}/subjects/${subject}?permanent=true`, { method: 'DELETE' }).catch(
      () => undefined,
    );
  }
}

/** Sum of high watermarks (messages + transaction markers) of a topic. */
async function highWatermarks(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/** Sum of a group's committed offsets on a topic. */
async function committedSum(admin: Admin, group: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (offsets[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

// ---------------------------------------------------------------- progress

/** Start (group joined) and finish (N outputs durable) of one run. */
class Progress {
  startedAt: number | null = null;
  /** Monotonic µs (the clock of V8 .cpuprofile timestamps): bench/cpuprofile-summary.ts --window. */
  windowUs: [bigint, bigint] = [0n, 0n];
  done = 0;
  finishedAt: number | null = null;
  private resolve: () => void = () => undefined;
  readonly finished = new Promise<void>((r) => (this.resolve = r));

  constructor(private readonly target: number) {}

  joined(): void {
    if (this.startedAt !== null) return;
    this.startedAt = performance.now();
    this.windowUs[0] = process.hrtime.bigint() / 1000n;
  }

  add(n: number): void {
    this.done += n;
    if (this.done >= this.target && this.finishedAt === null) {
      this.finishedAt = performance.now();
      this.windowUs[1] = process.hrtime.bigint() / 1000n;
      this.resolve();
    }
  }
}

interface RunResult {
  variant: string;
  round: number;
  messages: number;
  seconds: number;
  rate: number;
  timedOut: boolean;
  note: string;
}

async function awaitProgress(p: Progress, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (r) => (timer = setTimeout(() => r('timeout'), timeoutMs)),
  );
  const outcome = await Promise.race([p.finished.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  return outcome === 'timeout';
}

function resultOf(
  variant: string,
  round: number,
  p: Progress,
  timedOut: boolean,
  note: string,
): RunResult {
  const end = p.finishedAt ?? performance.now();
  const seconds = (end - (p.startedAt ?? end)) / 1000;
  return {
    variant,
    round,
    messages: p.done,
    seconds,
    rate: seconds > 0 ? p.done / seconds : 0,
    timedOut,
    note,
  };
}

/** The runner's consumer settings, for RAW and NEST too: same fetch sizes and timings. */
const consumerSettings = (r: GrantstreamConfig['runner']) => ({
  sessionTimeout: r.sessionTimeoutMs,
  rebalanceTimeout: r.rebalanceTimeoutMs,
  heartbeatInterval: r.heartbeatIntervalMs,
  maxWaitTimeInMs: r.maxWaitTimeMs,
  maxBytesPerPartition: r.maxBytesPerPartition,
  maxBytes: r.maxBytes,
});

// ---------------------------------------------------------------- RAW

/** kafkajs consume-produce passthrough: no decoding, no transactions, autoCommit. */
async function runRaw(
  clients: PlatformClients,
  config: GrantstreamConfig,
  t: Topics,
  o: Options,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages);
  const producer: Producer = clients.kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer: Consumer = clients.kafka.consumer({
    groupId: t.group,
    ...consumerSettings(config.runner),
  });
  consumer.on(consumer.events.GROUP_JOIN, () => p.joined());
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [t.input], fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    partitionsConsumedConcurrently: config.runner.partitionsConsumedConcurrently,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return;
      await producer.send({
        topic: t.output,
        acks: -1,
        messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
      });
      p.add(batch.messages.length);
    },
  });
  const timedOut = await awaitProgress(p, o.timeoutMs);
  const result = resultOf('raw', round, p, timedOut, '');
  await consumer.disconnect();
  await producer.disconnect();
  return result;
}

// ---------------------------------------------------------------- HOP

/** The stage logic: one output of the same record type per input. */
function passHandler(t: Topics): StageHandler<GrantSubmissionV1> {
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
  name: string,
  spec: { batch?: number; concurrency?: number },
  config: GrantstreamConfig,
  clients: PlatformClients,
  rawAdmin: Admin,
  t: Topics,
  o: Options,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages);
  const runnerConfig: StageRunnerConfig = {
    ...config.runner,
    groupId: t.group,
    transactionalIdPrefix: t.prefix,
    deadLetterTopic: t.dlq,
    ...(spec.batch ? { maxBatchMessages: spec.batch } : {}),
    ...(spec.concurrency ? { partitionsConsumedConcurrently: spec.concurrency } : {}),
  };
  // A serde of its own: the run pays its registry lookups like a fresh process would.
  const serde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
  const runner = new StageRunner({
    service: { stage: OUTPUT_STAGE, name: 'bench-hop', version: '0.0.0' },
    config: runnerConfig,
    kafka: clients.kafka,
    serde,
    handlers: [passHandler(t) as StageHandler<unknown>],
    logger,
  });
  let transactions = 0;
  let deadLetters = 0;
  let aborted = 0;
  runner.on('groupJoined', () => p.joined());
  runner.on('committed', (c) => {
    transactions += 1;
    deadLetters += c.deadLetters;
    p.add(c.outputs - c.deadLetters);
  });
  runner.on('aborted', () => (aborted += 1));
  await runner.start();
  const timedOut = await awaitProgress(p, o.timeoutMs);
  const result = resultOf(name, round, p, timedOut, '');
  await runner.stop();
  const [from, to] = p.windowUs;
  const committed = await committedSum(rawAdmin, t.group, t.input);
  const hw = await highWatermarks(rawAdmin, t.output);
  result.note =
    `${transactions} txns (${(o.messages / Math.max(1, transactions)).toFixed(0)} msgs/txn), ` +
    `group committed ${committed}/${o.messages}, output HW ${hw} (incl. markers), ` +
    `dead letters ${deadLetters}, aborts ${aborted}; profile window ${from},${to}`;
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
  t: Topics,
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

async function runNest(
  config: GrantstreamConfig,
  t: Topics,
  o: Options,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages);
  const serde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
  const kafkaClient = { brokers: config.kafka.brokers, clientId: `bench-nest-${round}` };
  const strategy = new TimedServerKafka(
    {
      client: { ...kafkaClient, logLevel: logLevel.ERROR },
      consumer: { groupId: t.group, ...consumerSettings(config.runner) },
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
  const timedOut = await awaitProgress(p, o.timeoutMs);
  const result = resultOf('nest', round, p, timedOut, '');
  await app.close();
  return result;
}

// ---------------------------------------------------------------- main

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const config = testConfig();
  const clients = createPlatformClients(config, logger);
  await clients.admin.connect();
  const probeAdmin = clients.kafka.admin();
  await probeAdmin.connect();

  // Template record sized against a scratch subject.
  const probe = await createTopics(clients, config, 'probe', 0, 1);
  const { record, encodedBytes } = await paddedRecordTemplate(
    clients.serde,
    probe.input,
    o.recordBytes,
  );
  await cleanup(probeAdmin, probe, []);
  await probeAdmin.disconnect();

  console.log(
    `hop-throughput: ${o.messages} messages x ${encodedBytes} B Avro (wire format), ${o.partitions} partitions, ` +
      `${o.rounds} rounds, variants ${o.variants.join(',')}; runner defaults: maxBatchMessages=${config.runner.maxBatchMessages}, ` +
      `partitionsConsumedConcurrently=${config.runner.partitionsConsumedConcurrently}, maxBytesPerPartition=${config.runner.maxBytesPerPartition}`,
  );

  const results: RunResult[] = [];
  try {
    for (let round = 1; round <= o.rounds; round += 1) {
      for (const variant of o.variants) {
        const spec = variantSpec(variant);
        if (!spec) continue;
        const t = await createTopics(clients, config, variant, round, o.partitions);
        // An admin per run, for the same reason as preProduce's producer.
        const rawAdmin = clients.kafka.admin();
        await rawAdmin.connect();
        try {
          await preProduce(clients, t.input, record, o.messages);
          let r: RunResult;
          if (spec.kind === 'raw') {
            r = await runRaw(clients, config, t, o, round);
            r.note = `output HW ${await highWatermarks(rawAdmin, t.output)}`;
          } else if (spec.kind === 'nest') {
            r = await runNest(config, t, o, round);
            r.note = `output HW ${await highWatermarks(rawAdmin, t.output)}`;
          } else {
            r = await runHop(variant, spec, config, clients, rawAdmin, t, o, round);
          }
          results.push(r);
          console.log(
            `round ${round} ${variant.padEnd(12)} ${r.rate.toFixed(0).padStart(7)} msg/s  ` +
              `(${r.messages} in ${r.seconds.toFixed(2)} s${r.timedOut ? ', TIMED OUT' : ''}) ${r.note}`,
          );
        } finally {
          await cleanup(rawAdmin, t, [t.group]);
          await rawAdmin.disconnect();
        }
      }
    }
  } finally {
    await clients.close();
  }

  console.log('\nsummary (messages/s; clock from group join to N-th durable output)');
  const medians = new Map<string, number>();
  for (const variant of o.variants) {
    const rates = results.filter((r) => r.variant === variant).map((r) => r.rate);
    const m = median(rates);
    medians.set(variant, m);
    console.log(
      `  ${variant.padEnd(12)} rounds: ${rates
        .map((x) => x.toFixed(0))
        .join(', ')
        .padEnd(28)} median: ${m.toFixed(0)}`,
    );
  }
  const hop = medians.get('hop');
  const raw = medians.get('raw');
  const nest = medians.get('nest');
  if (hop !== undefined && raw) {
    const ratio = hop / raw;
    console.log(
      `  HOP/RAW  = ${(ratio * 100).toFixed(1)} %  (target >= 50 %: ${ratio >= 0.5 ? 'MET' : 'NOT MET'})`,
    );
  }
  if (hop !== undefined && nest) {
    const ratio = hop / nest;
    console.log(
      `  HOP/NEST = ${ratio.toFixed(2)} x  (target >= 3 x: ${ratio >= 3 ? 'MET' : 'NOT MET'})`,
    );
  }
  console.log(`\nJSON ${JSON.stringify({ options: o, encodedBytes, results })}`);
}

main().then(
  () => undefined,
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
