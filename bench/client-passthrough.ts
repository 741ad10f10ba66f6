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
import { pathToFileURL } from 'node:url';
// A benchmark script (not a project, not linted) may import the clients directly.
// eslint-disable-next-line no-restricted-imports
import { logLevel } from 'kafkajs';
// eslint-disable-next-line no-restricted-imports
import {
  Kafka as ExtendedKafka,
  logLevel as extendedLogLevel,
} from '@grantstream/kafkajs-extended';
import type { GrantstreamConfig } from '@grantstream/config';
import { testConfig } from '@grantstream/testing';
import {
  Progress,
  benchTopics,
  createBenchTopics,
  deleteBenchTopics,
  failedRun,
  kafkaClientOptions,
  loadAverage,
  n0,
  plainKafkajs,
  preProduce,
  resultOf,
  runPassthrough,
  spread,
  type BenchTopics,
  type RunResult,
} from './support/bench-kit.ts';

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
  t: BenchTopics,
  o: Options,
  round: number,
): Promise<RunResult> {
  const p = new Progress(o.messages, 'first-record');
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
      p.add(part.length);
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

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const config = testConfig();
  const kafka = plainKafkajs(config, logLevel.NOTHING);
  const extended = new ExtendedKafka({
    ...kafkaClientOptions(config),
    logLevel: extendedLogLevel.NOTHING,
  });
  const platformatic = o.platformatic
    ? ((await import(pathToFileURL(o.platformatic).href)) as PlatformaticModule)
    : null;
  console.log(
    `client passthrough ${new Date().toISOString()}: ${o.messages} x ${RECORD_BYTES} B, ${PARTITIONS} partitions, ${o.rounds} rounds, transactions of <= ${config.runner.maxBatchMessages}; load ${loadAverage()}`,
  );
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const results: RunResult[] = [];
  for (let round = 1; round <= o.rounds; round += 1) {
    const order = o.variants.map((_, i) => o.variants[(i + round - 1) % o.variants.length]!);
    for (const variant of order) {
      // An admin per run: a kafkajs admin keeps asking metadata of topics it
      // created, and fails once they were deleted.
      const admin = extended.admin();
      await admin.connect();
      const t = benchTopics('client', variant, round);
      await createBenchTopics(admin, t, PARTITIONS, config.stack.readyTimeoutMs);
      await preProduce(admin, extended, t.input, o.messages, (i) => ({
        key: `k${i}`,
        value,
        partition: i % PARTITIONS,
      }));
      let result: RunResult;
      try {
        result =
          variant === 'platformatic' && platformatic
            ? await runPlatformatic(platformatic, config, t, o, round)
            : await runPassthrough(
                variant,
                variant === 'kafkajs' ? kafka : extended,
                config,
                t,
                {
                  groupMetadata: variant !== 'kafkajs',
                  perPartition: variant !== 'extended',
                  messages: o.messages,
                  timeoutMs: o.timeoutMs,
                  clock: 'first-record',
                },
                round,
              );
      } catch (err) {
        result = failedRun(variant, round, err);
      }
      results.push(result);
      console.log(
        `  r${round} ${variant.padEnd(13)} ${n0(result.rate).padStart(7)} msg/s  ${result.done}/${o.messages} in ${result.transactions} tx, ${result.seconds.toFixed(2)} s; load ${result.load}${result.note ? `  ${result.note}` : ''}`,
      );
      await deleteBenchTopics(admin, t);
      await admin.disconnect();
    }
  }
  console.log(
    `\nsummary (messages/s, first record consumed to N-th output committed; load ${loadAverage()})`,
  );
  for (const variant of o.variants) {
    const runs = results.filter((x) => x.variant === variant);
    const s = spread(runs.map((x) => x.rate));
    const complete = runs.filter((x) => x.done >= o.messages).length;
    console.log(
      `  ${variant.padEnd(13)} median ${n0(s.median).padStart(7)}  min ${n0(s.min)}  max ${n0(s.max)}  complete ${complete}/${runs.length}`,
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
