/**
 * What the Kafka benchmarks share: fresh topics per run, idempotent
 * pre-production of the inputs, the clock of a run, the raw transactional
 * consume-produce passthrough on kafkajs and on kafkajs extended, and the
 * figures (median/min/max, load average) they print.
 *
 * Used by bench/client-passthrough.ts, bench/hop-throughput.ts and
 * bench/hop-variant.ts. A benchmark script (not a project, not linted) may
 * import the clients directly.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
// eslint-disable-next-line no-restricted-imports
import { Kafka, type Producer } from 'kafkajs';
// eslint-disable-next-line no-restricted-imports
import {
  Partitioners,
  type Admin,
  type Kafka as ExtendedKafka,
  type Producer as ExtendedProducer,
} from '@grantstream/kafkajs-extended';
import type { GrantstreamConfig } from '@grantstream/config';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

// ------------------------------------------------------------------ figures

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export const loadAverage = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Median (mean of the middle two for an even count); 0 for none. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return 0;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Median, min and max of a variant's rates. */
export const spread = (xs: readonly number[]) => ({
  median: median(xs),
  min: xs.length ? Math.min(...xs) : 0,
  max: xs.length ? Math.max(...xs) : 0,
});

/** Thousands separated, no decimals: 12,345. */
export const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');

export const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

// ------------------------------------------------------------------ the clock

/**
 * Start and finish of one run. `clock` says what starts it: the consumer's
 * group join (the hop benchmark, for every variant alike) or the first
 * record consumed (the client passthrough benchmark). It stops when the
 * N-th output is durable.
 */
export class Progress {
  startedAt: number | null = null;
  finishedAt: number | null = null;
  /** Monotonic µs (the clock of V8 .cpuprofile timestamps): bench/cpuprofile-summary.ts --window. */
  readonly windowUs: [bigint, bigint] = [0n, 0n];
  /**
   * CPU time (user + system, µs) this process used between start and finish:
   * unlike wall time, hardly changed by other processes on the same cores.
   */
  cpuUs = 0;
  private cpuAtStart: NodeJS.CpuUsage | null = null;
  done = 0;
  transactions = 0;
  private resolve: () => void = () => undefined;
  readonly finished = new Promise<void>((r) => (this.resolve = r));

  constructor(
    private readonly target: number,
    private readonly clock: 'join' | 'first-record',
  ) {}

  joined(): void {
    if (this.clock === 'join') this.start();
  }

  consumed(): void {
    if (this.clock === 'first-record') this.start();
  }

  /** `n` outputs durable (one transaction when transactional). */
  add(n: number): void {
    this.done += n;
    this.transactions += 1;
    if (this.done >= this.target && this.finishedAt === null) {
      this.finishedAt = performance.now();
      this.windowUs[1] = process.hrtime.bigint() / 1000n;
      const cpu = process.cpuUsage(this.cpuAtStart ?? undefined);
      this.cpuUs = cpu.user + cpu.system;
      this.resolve();
    }
  }

  /** True when the run timed out. */
  async wait(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (r) => (timer = setTimeout(() => r('timeout'), timeoutMs)),
    );
    const outcome = await Promise.race([this.finished.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    return outcome === 'timeout';
  }

  private start(): void {
    if (this.startedAt !== null) return;
    this.startedAt = performance.now();
    this.windowUs[0] = process.hrtime.bigint() / 1000n;
    this.cpuAtStart = process.cpuUsage();
  }
}

/** One variant's run in one round. */
export interface RunResult {
  variant: string;
  round: number;
  done: number;
  transactions: number;
  seconds: number;
  rate: number;
  /** CPU µs of the client process per output (0 when not measured). */
  cpuUsPerMessage: number;
  /** Load average when the run ended. */
  load: string;
  note: string;
}

export function resultOf(variant: string, round: number, p: Progress, note: string): RunResult {
  const end = p.finishedAt ?? performance.now();
  const seconds = (end - (p.startedAt ?? end)) / 1000;
  return {
    variant,
    round,
    done: p.done,
    transactions: p.transactions,
    seconds,
    rate: seconds > 0 ? p.done / seconds : 0,
    cpuUsPerMessage: p.done > 0 ? p.cpuUs / p.done : 0,
    load: loadAverage(),
    note,
  };
}

/** A run that threw before it could measure anything. */
export const failedRun = (variant: string, round: number, err: unknown): RunResult => ({
  variant,
  round,
  done: 0,
  transactions: 0,
  seconds: 0,
  rate: 0,
  cpuUsPerMessage: 0,
  load: loadAverage(),
  note: err instanceof Error ? err.message : String(err),
});

// ------------------------------------------------------------------ topics and inputs

/** A run's own topics, group and transactional id prefix. */
export interface BenchTopics {
  input: string;
  output: string;
  dlq: string;
  group: string;
  prefix: string;
}

/** Unique names under `bench.<bench>.<variant>.r<round>`. */
export function benchTopics(bench: string, variant: string, round: number): BenchTopics {
  const base = `bench.${bench}.${variant}.r${round}.${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  return {
    input: `${base}.in`,
    output: `${base}.out`,
    dlq: `${base}.dlq`,
    group: `${base}.group`,
    prefix: `${base}.tx`,
  };
}

/**
 * Input and output with `partitions` partitions, a one-partition dead-letter
 * topic, all with leaders before it returns: kafkajs's own waitForLeaders
 * gives up on a busy broker.
 */
export async function createBenchTopics(
  admin: Admin,
  t: BenchTopics,
  partitions: number,
  readyTimeoutMs: number,
): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      { topic: t.input, numPartitions: partitions },
      { topic: t.output, numPartitions: partitions },
      { topic: t.dlq, numPartitions: 1 },
    ],
  });
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics: [t.input, t.output, t.dlq] })
      .then((m) => m.topics.every((x) => x.partitions.every((q) => q.leader >= 0)))
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(`${t.input} has no leaders after ${readyTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes a run's group and topics (best effort: the next run uses new names). */
export async function deleteBenchTopics(admin: Admin, t: BenchTopics): Promise<void> {
  await admin.deleteGroups([t.group]).catch(() => undefined);
  await admin.deleteTopics({ topics: [t.input, t.output, t.dlq] }).catch(() => undefined);
}

/** Sum of a topic's high watermarks (records and transaction markers). */
export async function highWatermarks(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, o) => sum + Number(o.high), 0);
}

/** Sum of a group's committed offsets on a topic. */
export async function committedSum(admin: Admin, group: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (offsets[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

/** One pre-produced input; without `partition`, murmur2 of the key places it. */
export interface InputRecord {
  key: string;
  value: Buffer;
  partition?: number;
}

/**
 * N inputs, untimed, by an idempotent producer of its own: a retried send of
 * a plain producer may write a batch twice, and a run would then count a
 * duplicate as throughput. Checks that the topic holds exactly N afterwards.
 * (A long-lived kafkajs producer keeps refreshing metadata of topics it once
 * wrote to and fails once they are deleted: hence a producer per call.)
 */
export async function preProduce(
  admin: Admin,
  kafka: ExtendedKafka,
  topic: string,
  n: number,
  recordOf: (i: number) => InputRecord | Promise<InputRecord>,
): Promise<void> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const chunk = 2000;
    for (let i = 0; i < n; i += chunk) {
      const messages = await Promise.all(
        Array.from({ length: Math.min(chunk, n - i) }, (_, j) => recordOf(i + j)),
      );
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  const written = await highWatermarks(admin, topic);
  if (written !== n) throw new Error(`${topic} holds ${written} records, not ${n}`);
}

// ------------------------------------------------------------------ raw passthrough

/** The runner's consumer settings, for every variant: same fetch sizes and timings. */
export const consumerSettings = (r: GrantstreamConfig['runner'], groupId: string) => ({
  groupId,
  sessionTimeout: r.sessionTimeoutMs,
  rebalanceTimeout: r.rebalanceTimeoutMs,
  heartbeatInterval: r.heartbeatIntervalMs,
  maxWaitTimeInMs: r.maxWaitTimeMs,
  maxBytesPerPartition: r.maxBytesPerPartition,
  maxBytes: r.maxBytes,
  readUncommitted: false,
});

/** kafkajs 2.2.4 or our fork of it (the same API). */
export type AnyKafka = Kafka | ExtendedKafka;

/** Client options of both, from the validated config. */
export function kafkaClientOptions(config: GrantstreamConfig) {
  return {
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    retry: {
      retries: config.kafka.retry.retries,
      initialRetryTime: config.kafka.retry.initialRetryTimeMs,
      maxRetryTime: config.kafka.retry.maxRetryTimeMs,
    },
  };
}

export interface PassthroughOptions {
  /** Offsets carry the consumer's group metadata (KIP-447; the fork only). */
  groupMetadata: boolean;
  /** One transactional producer per input partition, partitions consumed concurrently; else one per member, one transaction at a time. */
  perPartition: boolean;
  messages: number;
  timeoutMs: number;
  clock: 'join' | 'first-record';
}

/**
 * Raw transactional consume-produce passthrough (eachBatch): each fetched
 * batch copied unchanged to the same partition of the output topic in
 * transactions of at most runner.maxBatchMessages, the input offsets
 * committed in the same transaction. No decoding, no contract check: what the
 * client costs with exactly-once on.
 */
export async function runPassthrough(
  variant: string,
  kafka: AnyKafka,
  config: GrantstreamConfig,
  t: BenchTopics,
  o: PassthroughOptions,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages, o.clock);
  const r = config.runner;
  const producers = new Map<number, Producer | ExtendedProducer>();
  const producerFor = async (partition: number) => {
    const key = o.perPartition ? partition : -1;
    let producer = producers.get(key);
    if (!producer) {
      producer = kafka.producer({
        transactionalId: `${t.prefix}-${key}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: r.transactionTimeoutMs,
      });
      producers.set(key, producer);
      await producer.connect();
    }
    return producer;
  };
  const consumer = kafka.consumer(consumerSettings(r, t.group));
  let error = '';
  let joins = 0;
  // Input offsets already handed to eachBatch, per partition: a batch that
  // starts below the end of one already delivered is delivered twice.
  const delivered = new Map<number, bigint>();
  const redeliveries: string[] = [];
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joins += 1;
    p.joined();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [t.input], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: o.perPartition ? r.partitionsConsumedConcurrently : 1,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return;
      p.consumed();
      const first = BigInt(batch.messages[0]!.offset);
      const seen = delivered.get(batch.partition);
      if (seen !== undefined && first < seen)
        redeliveries.push(`p${batch.partition}@${first}<${seen}`);
      delivered.set(
        batch.partition,
        BigInt(batch.messages[batch.messages.length - 1]!.offset) + 1n,
      );
      const producer = await producerFor(batch.partition);
      for (const part of chunks(batch.messages, r.maxBatchMessages)) {
        const last = part[part.length - 1]!;
        const tx = await producer.transaction();
        try {
          await tx.send({
            topic: t.output,
            messages: part.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })),
          });
          const offsets = {
            consumerGroupId: t.group,
            topics: [
              {
                topic: t.input,
                partitions: [
                  { partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
                ],
              },
            ],
          };
          const metadata = o.groupMetadata
            ? (consumer as ReturnType<ExtendedKafka['consumer']>).groupMetadata()
            : null;
          await tx.sendOffsets(
            metadata ? { ...offsets, consumerGroupMetadata: metadata } : offsets,
          );
          await tx.commit();
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
          await tx.abort().catch(() => undefined);
          throw err;
        }
        p.add(part.length);
      }
    },
  });
  const timedOut = await p.wait(o.timeoutMs);
  const notes = [
    joins > 1 ? `${joins - 1} rebalance(s)` : '',
    redeliveries.length > 0 ? `redelivered ${redeliveries.join(',')}` : '',
    timedOut ? `TIMED OUT ${error}` : error,
  ].filter(Boolean);
  const result = resultOf(variant, round, p, notes.join(' '));
  await consumer.disconnect();
  for (const producer of producers.values()) await producer.disconnect();
  return result;
}

/** A plain kafkajs 2.2.4 client (the package, not the fork). */
export const plainKafkajs = (config: GrantstreamConfig, logLevel: number): Kafka =>
  new Kafka({ ...kafkaClientOptions(config), logLevel });
