/**
 * Raw transactional consume-produce passthrough on each candidate Kafka
 * client, on the same broker in the same run: what a client costs before any
 * stage logic (no decoding, no contract check), with exactly-once on.
 *
 *   node --import tsx bench/client-passthrough.ts [--messages N] [--rounds R]
 *        [--variants kafkajs,extended,extended-pp,platformatic] [--timeout S]
 *        [--platformatic /path/to/@platformatic/kafka/dist/index.js]
 *
 * Variants (every one commits its input offsets in the same transaction as
 * its outputs, one transaction per fetched batch of at most
 * runner.maxBatchMessages):
 * - kafkajs: kafkajs 2.2.4 as the runner uses it today: one transactional
 *   producer per input partition (its only fencing), partitions consumed
 *   concurrently, sendOffsets without group metadata.
 * - extended: our fork (libs/kafkajs-extended), ONE transactional producer per
 *   member, sendOffsets carrying the consumer's group metadata (KIP-447);
 *   one transaction at a time.
 * - extended-pp: the fork with one producer per input partition, as kafkajs,
 *   plus group metadata: what the fork costs against kafkajs itself.
 * - platformatic: @platformatic/kafka (not a dependency: pass the path of its
 *   dist/index.js from a scratch install), one transactional producer per
 *   member, tx.addConsumer + tx.addOffset.
 *
 * Each round gives every variant fresh 6-partition topics and N pre-produced
 * (untimed) 1 KiB records; the order of variants rotates between rounds. The
 * clock starts at the first record consumed and stops when the N-th output is
 * in a committed transaction. Figures: median of the rounds.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
// A benchmark script (not a project, not linted) may import the clients directly.
// eslint-disable-next-line no-restricted-imports
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
// eslint-disable-next-line no-restricted-imports
import {
  Kafka as ExtendedKafka,
  logLevel as extendedLogLevel,
  type Producer as ExtendedProducer,
} from '@grantstream/kafkajs-extended';
import type { GrantstreamConfig } from '@grantstream/config';
import { testConfig } from '@grantstream/testing';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

interface Options {
  messages: number;
  rounds: number;
  variants: string[];
  timeoutMs: number;
  platformatic: string | null;
}

const VARIANTS = ['kafkajs', 'extended', 'extended-pp', 'platformatic'];
const PARTITIONS = 6;
const RECORD_BYTES = 1024;

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    messages: 20_000,
    rounds: 5,
    variants: ['kafkajs', 'extended', 'extended-pp', 'platformatic'],
    timeoutMs: 120_000,
    platformatic: null,
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
      case '--variants':
        o.variants = value.split(',').filter(Boolean);
        i += 1;
        break;
      case '--platformatic':
        o.platformatic = value;
        i += 1;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  for (const v of o.variants) if (!VARIANTS.includes(v)) throw new Error(`unknown variant ${v}`);
  if (o.variants.includes('platformatic') && !o.platformatic) {
    console.log('platformatic skipped: pass --platformatic <path to its dist/index.js>');
    o.variants = o.variants.filter((v) => v !== 'platformatic');
  }
  return o;
}

interface Topics {
  input: string;
  output: string;
  group: string;
  prefix: string;
}

/** Counts committed outputs; resolves when `target` are in. */
class Progress {
  startedAt: number | null = null;
  finishedAt: number | null = null;
  done = 0;
  transactions = 0;
  private resolve: () => void = () => undefined;
  readonly finished = new Promise<void>((r) => (this.resolve = r));
  constructor(private readonly target: number) {}
  consumed(): void {
    this.startedAt ??= performance.now();
  }
  committed(n: number): void {
    this.done += n;
    this.transactions += 1;
    if (this.done >= this.target && this.finishedAt === null) {
      this.finishedAt = performance.now();
      this.resolve();
    }
  }
  async wait(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (r) => (timer = setTimeout(() => r('timeout'), timeoutMs)),
    );
    const outcome = await Promise.race([this.finished.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    return outcome === 'timeout';
  }
}

interface RunResult {
  variant: string;
  round: number;
  done: number;
  transactions: number;
  seconds: number;
  rate: number;
  error: string;
}

function resultOf(variant: string, round: number, p: Progress, error: string): RunResult {
  const end = p.finishedAt ?? performance.now();
  const seconds = (end - (p.startedAt ?? end)) / 1000;
  return {
    variant,
    round,
    done: p.done,
    transactions: p.transactions,
    seconds,
    rate: seconds > 0 ? p.done / seconds : 0,
    error,
  };
}

async function createTopics(
  admin: Admin,
  variant: string,
  round: number,
  readyTimeoutMs: number,
): Promise<Topics> {
  const base = `bench.client.${variant}.r${round}.${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  const t = {
    input: `${base}.in`,
    output: `${base}.out`,
    group: `${base}.group`,
    prefix: `${base}.tx`,
  };
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      { topic: t.input, numPartitions: PARTITIONS },
      { topic: t.output, numPartitions: PARTITIONS },
    ],
  });
  // kafkajs's own waitForLeaders gives up on a busy broker: wait for leaders here.
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics: [t.input, t.output] })
      .then((m) =>
        m.topics.every(
          (x) => x.partitions.length === PARTITIONS && x.partitions.every((q) => q.leader >= 0),
        ),
      )
      .catch(() => false);
    if (ready) return t;
    if (Date.now() > deadline)
      throw new Error(`${t.input} has no leaders after ${readyTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function preProduce(admin: Admin, kafka: Kafka, topic: string, n: number): Promise<void> {
  // Idempotent: a retried send of a plain producer may write its records twice.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  try {
    for (let i = 0; i < n; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
          key: `k${i + j}`,
          value,
          partition: (i + j) % PARTITIONS,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  const written = (await admin.fetchTopicOffsets(topic)).reduce(
    (sum, o) => sum + Number(o.high),
    0,
  );
  if (written !== n) throw new Error(`${topic} holds ${written} records, not ${n}`);
}

const consumerSettings = (r: GrantstreamConfig['runner'], groupId: string) => ({
  groupId,
  sessionTimeout: r.sessionTimeoutMs,
  rebalanceTimeout: r.rebalanceTimeoutMs,
  heartbeatInterval: r.heartbeatIntervalMs,
  maxWaitTimeInMs: r.maxWaitTimeMs,
  maxBytesPerPartition: r.maxBytesPerPartition,
  maxBytes: r.maxBytes,
  readUncommitted: false,
});

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

// ------------------------------------------------------------------ kafkajs and the fork

type AnyKafka = Kafka | ExtendedKafka;

/**
 * eachBatch passthrough on kafkajs or the fork. `perPartition`: one
 * transactional producer per input partition, partitions concurrently;
 * otherwise one producer for the member and one transaction at a time.
 */
async function runKafkajsFamily(
  variant: string,
  kafka: AnyKafka,
  extended: boolean,
  perPartition: boolean,
  config: GrantstreamConfig,
  t: Topics,
  o: Options,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages);
  const r = config.runner;
  const producers = new Map<number, Producer | ExtendedProducer>();
  const producerFor = async (partition: number) => {
    const key = perPartition ? partition : -1;
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
  consumer.on(consumer.events.GROUP_JOIN, () => (joins += 1));
  await consumer.connect();
  await consumer.subscribe({ topics: [t.input], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: perPartition ? r.partitionsConsumedConcurrently : 1,
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
          const metadata = extended
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
        p.committed(part.length);
      }
    },
  });
  const timedOut = await p.wait(o.timeoutMs);
  const rejoins =
    (joins > 1 ? `${joins - 1} rebalance(s) ` : '') +
    (redeliveries.length > 0 ? `redelivered ${redeliveries.join(',')} ` : '');
  const result = resultOf(
    variant,
    round,
    p,
    `${rejoins}${timedOut ? `timed out ${error}` : error}`,
  );
  await consumer.disconnect();
  for (const producer of producers.values()) await producer.disconnect();
  return result;
}

// ------------------------------------------------------------------ @platformatic/kafka

/** The part of @platformatic/kafka's API the passthrough uses. */
interface PlatformaticMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer;
  value: Buffer;
}
interface PlatformaticModule {
  Consumer: new (options: Record<string, unknown>) => {
    consume(options: Record<string, unknown>): Promise<{
      on(event: 'data', listener: (m: PlatformaticMessage) => void): void;
      close(): Promise<void>;
    }>;
    close(): Promise<void>;
  };
  Producer: new (options: Record<string, unknown>) => {
    beginTransaction(): Promise<{
      send(options: { messages: Record<string, unknown>[] }): Promise<unknown>;
      addConsumer(consumer: unknown): Promise<void>;
      addOffset(message: PlatformaticMessage): Promise<void>;
      commit(): Promise<void>;
      abort(): Promise<void>;
    }>;
    close(): Promise<void>;
  };
}

async function runPlatformatic(
  mod: PlatformaticModule,
  config: GrantstreamConfig,
  t: Topics,
  o: Options,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages);
  const r = config.runner;
  const base = {
    clientId: config.kafka.clientId,
    bootstrapBrokers: config.kafka.brokers,
    retries: config.kafka.retry.retries,
    // Its default (1 s) waits that long after every CONCURRENT_TRANSACTIONS
    // answer to the transaction that follows a commit: the same first backoff as kafkajs here.
    retryDelay: config.kafka.retry.initialRetryTimeMs,
  };
  const consumer = new mod.Consumer({
    ...base,
    groupId: t.group,
    isolationLevel: 1,
    autocommit: false,
    sessionTimeout: r.sessionTimeoutMs,
    rebalanceTimeout: r.rebalanceTimeoutMs,
    heartbeatInterval: r.heartbeatIntervalMs,
    maxWaitTime: r.maxWaitTimeMs,
    maxBytes: r.maxBytes,
  });
  const producer = new mod.Producer({
    ...base,
    transactionalId: `${t.prefix}-member`,
    idempotent: true,
  });
  const stream = await consumer.consume({ topics: [t.input], mode: 'earliest', autocommit: false });
  const buffered: PlatformaticMessage[] = [];
  let wake: (() => void) | null = null;
  stream.on('data', (m) => {
    p.consumed();
    buffered.push(m);
    wake?.();
  });
  let error = '';
  const loop = (async () => {
    while (p.done < o.messages) {
      if (buffered.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      const part = buffered.splice(0, r.maxBatchMessages);
      const tx = await producer.beginTransaction();
      try {
        await tx.send({
          messages: part.map((m) => ({
            topic: t.output,
            partition: m.partition,
            key: m.key,
            value: m.value,
          })),
        });
        await tx.addConsumer(consumer);
        const lastOf = new Map<number, PlatformaticMessage>();
        for (const m of part) lastOf.set(m.partition, m);
        // One at a time: parallel addOffset calls commit only one partition.
        for (const m of lastOf.values()) await tx.addOffset(m);
        await tx.commit();
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        await tx.abort().catch(() => undefined);
        return;
      }
      p.committed(part.length);
    }
  })();
  const timedOut = await p.wait(o.timeoutMs);
  const result = resultOf('platformatic', round, p, timedOut ? `timed out ${error}` : error);
  wake?.();
  await stream.close();
  await consumer.close();
  await Promise.race([loop, new Promise((r2) => setTimeout(r2, 1000))]);
  await producer.close();
  return result;
}

// ------------------------------------------------------------------ main

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const config = testConfig();
  const kafkaConfig = {
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    retry: {
      retries: config.kafka.retry.retries,
      initialRetryTime: config.kafka.retry.initialRetryTimeMs,
      maxRetryTime: config.kafka.retry.maxRetryTimeMs,
    },
  };
  const kafka = new Kafka({ ...kafkaConfig, logLevel: logLevel.NOTHING });
  const extended = new ExtendedKafka({ ...kafkaConfig, logLevel: extendedLogLevel.NOTHING });
  const platformatic = o.platformatic
    ? ((await import(pathToFileURL(o.platformatic).href)) as PlatformaticModule)
    : null;
  const admin = kafka.admin();
  await admin.connect();
  console.log(
    `client passthrough: ${o.messages} x ${RECORD_BYTES} B, ${PARTITIONS} partitions, ${o.rounds} rounds, transactions of <= ${config.runner.maxBatchMessages}`,
  );
  const results: RunResult[] = [];
  try {
    for (let round = 1; round <= o.rounds; round += 1) {
      const order = o.variants.map((_, i) => o.variants[(i + round - 1) % o.variants.length]!);
      for (const variant of order) {
        // An admin per run: a kafkajs admin keeps asking metadata of topics it
        // created, and fails once they were deleted.
        const admin = kafka.admin();
        await admin.connect();
        const t = await createTopics(admin, variant, round, config.stack.readyTimeoutMs);
        await preProduce(admin, kafka, t.input, o.messages);
        let result: RunResult;
        try {
          result =
            variant === 'platformatic' && platformatic
              ? await runPlatformatic(platformatic, config, t, o, round)
              : await runKafkajsFamily(
                  variant,
                  variant === 'kafkajs' ? kafka : extended,
                  variant !== 'kafkajs',
                  variant !== 'extended',
                  config,
                  t,
                  o,
                  round,
                );
        } catch (err) {
          result = {
            variant,
            round,
            done: 0,
            transactions: 0,
            seconds: 0,
            rate: 0,
            error: err instanceof Error ? err.message : String(err),
          };
        }
        results.push(result);
        console.log(
          `  r${round} ${variant.padEnd(13)} ${String(Math.round(result.rate)).padStart(7)} msg/s  ${result.done}/${o.messages} in ${result.transactions} tx, ${result.seconds.toFixed(2)} s${result.error ? `  ${result.error}` : ''}`,
        );
        await admin.deleteGroups([t.group]).catch(() => undefined);
        await admin.deleteTopics({ topics: [t.input, t.output] }).catch(() => undefined);
        await admin.disconnect();
      }
    }
  } finally {
    await admin.disconnect();
  }
  console.log('\nsummary (messages/s, first record consumed to N-th output committed)');
  for (const variant of o.variants) {
    const runs = results.filter((x) => x.variant === variant);
    const rates = runs.map((x) => x.rate);
    const complete = runs.filter((x) => x.done >= o.messages).length;
    console.log(
      `  ${variant.padEnd(13)} median ${String(Math.round(median(rates))).padStart(7)}  min ${Math.round(Math.min(...rates))}  max ${Math.round(Math.max(...rates))}  complete ${complete}/${runs.length}`,
    );
  }
  console.log(`\nJSON ${JSON.stringify({ options: o, results })}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
