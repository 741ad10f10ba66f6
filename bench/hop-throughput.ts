/**
 * Throughput of one transactional hop (StageRunner) against the raw
 * transactional passthrough of the same client, on the same broker in the
 * same run, and against the runner as it was on kafkajs (per-partition
 * producers) from a git worktree of that commit.
 *
 *   node --import tsx bench/hop-throughput.ts [--messages N] [--rounds R]
 *        [--variants raw-extended,raw-kafkajs,hop,hop-kafkajs,nest,hop-b200,...]
 *        [--baseline-tree DIR] [--timeout S] [--record-bytes B] [--cpu-prof DIR [--profile v,...]]
 *
 * Variants (see docs/benchmarks.md):
 * - raw-extended: kafkajs extended, one transactional producer per member,
 *   offsets with group metadata (the chosen client, as the runner uses it).
 * - raw-kafkajs: kafkajs 2.2.4, one transactional producer per input
 *   partition (as the runner used it before KIP-447).
 * - hop: our StageRunner of this tree.
 * - hop-kafkajs: the StageRunner of --baseline-tree (a worktree of the commit
 *   before the runner moved to one producer per member).
 * - nest: the stage logic through NestJS's Kafka transport (at-least-once).
 * - hop-b<N>-p<M>: the hop with other runner settings.
 *
 * Every variant of every round gets fresh 6-partition topics with a
 * registered ~1 KiB Avro record schema and N inputs pre-produced (untimed) by
 * an idempotent producer, and runs in a fresh process (bench/hop-variant.ts);
 * the order of variants rotates between rounds. The clock starts when the
 * variant's consumer joins its group and stops when the N-th output is durable
 * (committed in a transaction; acks=all for nest).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GrantSubmissionV1Avro, type GrantSubmissionV1 } from '@grantstream/contracts';
import type { GrantstreamConfig } from '@grantstream/config';
import { AvroSerde, createPlatformClients, type PlatformClients } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { aGrantSubmission, testConfig } from '@grantstream/testing';
import {
  benchTopics,
  createBenchTopics,
  deleteBenchTopics,
  failedRun,
  loadAverage,
  n0,
  preProduce,
  spread,
  type BenchTopics,
  type RunResult,
} from './support/bench-kit.ts';
import { variantSpec, type VariantJob } from './hop-variant.ts';

interface Options {
  messages: number;
  rounds: number;
  variants: string[];
  timeoutMs: number;
  partitions: number;
  recordBytes: number;
  baselineTree: string | null;
  cpuProf: string | null;
  profile: string[];
}

const USAGE =
  'node --import tsx bench/hop-throughput.ts [--messages N] [--rounds R] ' +
  '[--variants raw-extended,raw-kafkajs,hop,hop-kafkajs,nest,hop-b200,hop-p6] [--baseline-tree DIR] ' +
  '[--timeout S] [--record-bytes B] [--cpu-prof DIR [--profile hop,...]]';

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    messages: 30_000,
    rounds: 5,
    variants: ['raw-extended', 'raw-kafkajs', 'hop', 'hop-kafkajs'],
    timeoutMs: 150_000,
    partitions: 6,
    recordBytes: 1024,
    baselineTree: null,
    cpuProf: null,
    profile: [],
  };
  let variantsGiven = false;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
      i += 1;
      return n;
    };
    const text = () => {
      i += 1;
      return value;
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
        o.variants = text().split(',').filter(Boolean);
        variantsGiven = true;
        break;
      case '--baseline-tree':
        o.baselineTree = resolve(text());
        break;
      case '--cpu-prof':
        o.cpuProf = resolve(text());
        break;
      case '--profile':
        o.profile = text().split(',').filter(Boolean);
        break;
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  for (const v of o.variants) if (!variantSpec(v)) throw new Error(`unknown variant ${v}`);
  if (!variantsGiven && !o.baselineTree) {
    console.log(
      'hop-kafkajs skipped: pass --baseline-tree DIR, a worktree of the commit whose runner it measures',
    );
    o.variants = o.variants.filter((v) => v !== 'hop-kafkajs');
  }
  const needsBaseline = o.variants.some((v) => {
    const s = variantSpec(v);
    return s?.kind === 'hop' && s.baseline;
  });
  if (needsBaseline && !(o.baselineTree && existsSync(join(o.baselineTree, 'libs/kafka')))) {
    throw new Error(
      'hop-kafkajs runs the runner of another commit: pass --baseline-tree DIR, a worktree of it ' +
        '(git worktree add DIR <commit>; ln -s $PWD/node_modules DIR/node_modules)',
    );
  }
  if (o.cpuProf && o.profile.length === 0) o.profile = [...o.variants];
  return o;
}

// ---------------------------------------------------------------- fixtures

const logger = createLogger({ service: 'bench-hop', level: 'error' });

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

const subjectUrl = (config: GrantstreamConfig, topic: string) =>
  `${config.registry.url}/subjects/${encodeURIComponent(`${topic}-value`)}`;

/** Fresh topics with the GrantSubmission schema registered for input and output. */
async function setUp(
  clients: PlatformClients,
  config: GrantstreamConfig,
  variant: string,
  round: number,
  partitions: number,
): Promise<BenchTopics> {
  const t = benchTopics('hop', variant, round);
  // An admin per run: a kafkajs admin keeps asking metadata of topics it
  // created, and fails once they were deleted.
  const admin = clients.kafka.admin();
  await admin.connect();
  try {
    await createBenchTopics(admin, t, partitions, config.stack.readyTimeoutMs);
  } finally {
    await admin.disconnect();
  }
  const compatibility = config.topics.compatibility;
  await clients.serde.register(t.input, GrantSubmissionV1Avro, compatibility);
  await clients.serde.register(t.output, GrantSubmissionV1Avro, compatibility);
  return t;
}

async function tearDown(clients: PlatformClients, config: GrantstreamConfig, t: BenchTopics) {
  const admin = clients.kafka.admin();
  await admin.connect();
  await deleteBenchTopics(admin, t);
  await admin.disconnect();
  for (const topic of [t.input, t.output]) {
    await fetch(subjectUrl(config, topic), { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${subjectUrl(config, topic)}?permanent=true`, { method: 'DELETE' }).catch(
      () => undefined,
    );
  }
}

/** N inputs with distinct keys (murmur2 spreads them over the partitions), idempotently. */
async function fill(
  clients: PlatformClients,
  t: BenchTopics,
  template: GrantSubmissionV1,
  n: number,
): Promise<void> {
  const admin = clients.kafka.admin();
  await admin.connect();
  try {
    await preProduce(admin, clients.kafka, t.input, n, async (i) => {
      const grantId = `NSF-2026-B${String(i).padStart(7, '0')}`;
      return {
        key: grantId,
        value: await clients.serde.encode(t.input, { ...template, grant_id: grantId }),
      };
    });
  } finally {
    await admin.disconnect();
  }
}

/** Runs one variant in a child process (in the baseline tree for hop-kafkajs). */
function runVariant(o: Options, job: VariantJob): Promise<RunResult> {
  const spec = variantSpec(job.variant);
  const cwd = spec?.kind === 'hop' && spec.baseline ? o.baselineTree! : process.cwd();
  const nodeArgs = ['--import', 'tsx'];
  if (o.cpuProf && o.profile.includes(job.variant)) {
    // A directory per run: tsx's loader thread writes a profile of its own
    // (nearly all idle) beside the main thread's, the larger file.
    const dir = join(o.cpuProf, `${job.variant}.r${job.round}`);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  return new Promise((resolveRun) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, join(__dirname, 'hop-variant.ts'), JSON.stringify(job)],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolveRun(JSON.parse(line.slice('RESULT '.length)) as RunResult);
      else
        resolveRun(
          failedRun(job.variant, job.round, `exit ${code}: ${err.trim().split('\n').slice(-3)}`),
        );
    });
  });
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const config = testConfig();
  const clients = createPlatformClients(config, logger);
  await clients.admin.connect();

  const probe = await setUp(clients, config, 'probe', 0, 1);
  const { record, encodedBytes } = await paddedRecordTemplate(
    clients.serde,
    probe.input,
    o.recordBytes,
  );
  await tearDown(clients, config, probe);

  console.log(
    `hop-throughput ${new Date().toISOString()}: ${o.messages} messages x ${encodedBytes} B Avro (wire format), ` +
      `${o.partitions} partitions, ${o.rounds} rounds, variants ${o.variants.join(',')}` +
      `${o.baselineTree ? `, baseline tree ${o.baselineTree}` : ''}; runner defaults: maxBatchMessages=${config.runner.maxBatchMessages}, ` +
      `partitionsConsumedConcurrently=${config.runner.partitionsConsumedConcurrently}, maxBytesPerPartition=${config.runner.maxBytesPerPartition}; load ${loadAverage()}`,
  );

  const results: RunResult[] = [];
  try {
    for (let round = 1; round <= o.rounds; round += 1) {
      const order = o.variants.map((_, i) => o.variants[(i + round - 1) % o.variants.length]!);
      for (const variant of order) {
        const t = await setUp(clients, config, variant, round, o.partitions);
        try {
          await fill(clients, t, record, o.messages);
          const r = await runVariant(o, {
            variant,
            round,
            messages: o.messages,
            timeoutMs: o.timeoutMs,
            topics: t,
          });
          results.push(r);
          console.log(
            `round ${round} ${variant.padEnd(13)} ${n0(r.rate).padStart(7)} msg/s  ` +
              `(${r.done} in ${r.seconds.toFixed(2)} s, ${r.transactions} txns, ${r.cpuUsPerMessage.toFixed(0)} CPU µs/msg; load ${r.load}) ${r.note}`,
          );
        } finally {
          await tearDown(clients, config, t);
        }
      }
    }
  } finally {
    await clients.close();
  }

  console.log(
    `\nsummary (messages/s; clock from group join to N-th durable output; load at end ${loadAverage()})`,
  );
  const medians = new Map<string, number>();
  const cpuMedians = new Map<string, number>();
  for (const variant of o.variants) {
    const runs = results.filter((r) => r.variant === variant);
    const rates = runs.map((r) => r.rate);
    const s = spread(rates);
    medians.set(variant, s.median);
    const cpu = spread(runs.map((r) => r.cpuUsPerMessage));
    cpuMedians.set(variant, cpu.median);
    const complete = runs.filter((r) => r.done >= o.messages).length;
    console.log(
      `  ${variant.padEnd(13)} median ${n0(s.median).padStart(7)}  min ${n0(s.min).padStart(7)}  max ${n0(s.max).padStart(7)}  ` +
        `CPU µs/msg median ${cpu.median.toFixed(0)} (${cpu.min.toFixed(0)}-${cpu.max.toFixed(0)})  ` +
        `complete ${complete}/${runs.length}  rounds: ${rates.map(n0).join(', ')}`,
    );
  }
  const ratio = (label: string, a: string, b: string, target: number, unit: '%' | 'x') => {
    const x = medians.get(a);
    const y = medians.get(b);
    if (x === undefined || !y) return;
    // Per round too: variants of one round ran back to back, under the same load.
    const perRound = Array.from({ length: o.rounds }, (_, i) => {
      const ra = results.find((r) => r.variant === a && r.round === i + 1)?.rate ?? 0;
      const rb = results.find((r) => r.variant === b && r.round === i + 1)?.rate ?? 0;
      return rb ? ra / rb : 0;
    });
    const fmt = (v: number) => (unit === '%' ? `${(v * 100).toFixed(1)} %` : `${v.toFixed(2)} x`);
    console.log(
      `  ${label.padEnd(34)} = ${fmt(x / y).padStart(8)}  (target >= ${fmt(target)}: ${x / y >= target ? 'MET' : 'NOT MET'}); ` +
        `per round ${perRound.map(fmt).join(', ')}; median of per-round ${fmt(spread(perRound).median)}`,
    );
  };
  ratio('hop / raw-extended', 'hop', 'raw-extended', 0.8, '%');
  ratio('hop-kafkajs / raw-kafkajs', 'hop-kafkajs', 'raw-kafkajs', 0.8, '%');
  ratio('hop / hop-kafkajs', 'hop', 'hop-kafkajs', 1.5, 'x');
  // CPU per message is what load on shared cores changes least.
  const cpuRatio = (a: string, b: string) => {
    const x = cpuMedians.get(a);
    const y = cpuMedians.get(b);
    if (x && y)
      console.log(
        `  CPU µs/msg ${a} / ${b} = ${(x / y).toFixed(2)} x (${x.toFixed(0)} / ${y.toFixed(0)})`,
      );
  };
  cpuRatio('hop', 'raw-extended');
  cpuRatio('hop-kafkajs', 'raw-kafkajs');
  cpuRatio('hop', 'hop-kafkajs');
  console.log(`\nJSON ${JSON.stringify({ options: o, encodedBytes, results })}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
