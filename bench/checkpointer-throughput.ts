/**
 * Throughput of the checkpointer: audit events per second it reads, turns
 * into leaves, appends to the Merkle log and commits (order batch + offsets in
 * one transaction per batch), on the real broker.
 *
 *   node --import tsx bench/checkpointer-throughput.ts [--events N] [--rounds R] [--batch B]
 *
 * Each round gets a fresh 6-partition audit topic (and order and checkpoint
 * topics) holding N pre-produced (untimed) audit events, then runs the
 * checkpointer in this process with the configured defaults (maxBatchEntries
 * from config unless --batch is given). The clock starts when the
 * checkpointer has the lease and has resumed (an empty log) and stops when the
 * transaction holding the N-th leaf has committed. See docs/benchmarks.md.
 */
import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { generateNoteKey, parseVerifierKey } from '@grantstream/audit';
import { createPlatformClients } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { DirectoryWitnessStore } from '@grantstream/storage';
import { testConfig } from '@grantstream/testing';
import { loadCheckpointerConfig } from '../services/checkpointer/src/checkpointer.config';
import { Checkpointer } from '../services/checkpointer/src/checkpointer';
import {
  auditChain,
  createCheckpointerScope,
  produceAuditEvents,
} from '../test/support/checkpointer';

interface Options {
  events: number;
  rounds: number;
  batch?: number;
}

const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
};

const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** One round's figures: wall-clock rate, and the CPU this process spent per event (machine-load independent). */
interface RoundResult {
  rate: number;
  cpuUsPerEvent: number;
}

async function round(options: Options, index: number): Promise<RoundResult> {
  const platform = testConfig();
  const config = loadCheckpointerConfig(process.env).checkpointer;
  const logger = createLogger({ service: 'bench-checkpointer', level: 'warn' });
  const clients = createPlatformClients(platform, logger);
  await clients.admin.connect();
  try {
    const scope = await createCheckpointerScope(clients, `bench${index}`);
    const steps = 5;
    const events = Array.from({ length: Math.ceil(options.events / steps) }, (_, g) =>
      auditChain(`BENCH-${index}-${g}`, steps, Date.now()),
    )
      .flat()
      .slice(0, options.events);
    await produceAuditEvents(clients, scope.audit, events);

    const origin = 'grantstream.bench/audit';
    const key = generateNoteKey(origin);
    const verifier = parseVerifierKey(key.verifierKey);
    if (!verifier.ok) throw new Error(verifier.detail);
    const checkpointer = new Checkpointer({
      kafka: clients.kafka,
      serde: clients.serde,
      logger,
      config: {
        ...config,
        origin,
        topics: { audit: scope.audit, order: scope.order, checkpoints: scope.checkpoints },
        leaseGroupId: scope.leaseGroup,
        offsetsGroupId: scope.offsetsGroup,
        transactionalId: scope.transactionalId,
        ...(options.batch ? { maxBatchEntries: options.batch } : {}),
      },
      signer: key.signer,
      verifier: verifier.verifier,
      witness: new DirectoryWitnessStore(join(mkdtempSync(join(tmpdir(), 'bench-witness-')), 'w')),
      now: Date.now,
    });
    let startedAt = 0;
    let cpuAtStart = process.cpuUsage();
    let cpuUs = 0;
    const done = new Promise<number>((resolve, reject) => {
      checkpointer.on('resumed', () => {
        startedAt = performance.now();
        cpuAtStart = process.cpuUsage();
      });
      checkpointer.on('committed', ({ size }) => {
        if (size < events.length) return;
        const cpu = process.cpuUsage(cpuAtStart);
        cpuUs = cpu.user + cpu.system;
        resolve(performance.now() - startedAt);
      });
      checkpointer.on('failed', ({ error }) => reject(error as Error));
    });
    await checkpointer.start();
    const ms = await done;
    await checkpointer.stop();
    await clients.admin.deleteTopics([scope.audit, scope.order, scope.checkpoints]);
    return { rate: (events.length / ms) * 1000, cpuUsPerEvent: cpuUs / events.length };
  } finally {
    await clients.close();
  }
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--events <n>', 'audit events per round', positive('--events'), 50_000)
    .option('--rounds <n>', 'rounds', positive('--rounds'), 3)
    .option(
      '--batch <n>',
      'leaves per batch (default: checkpointer.maxBatchEntries)',
      positive('--batch'),
    )
    .parse(process.argv)
    .opts<Options>();
  const rates: number[] = [];
  const cpus: number[] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  for (let i = 0; i < options.rounds; i += 1) {
    const { rate, cpuUsPerEvent } = await round(options, i);
    rates.push(rate);
    cpus.push(cpuUsPerEvent);
    process.stdout.write(
      `round ${i + 1}: ${fmt(rate)} events/s, ${cpuUsPerEvent.toFixed(1)} µs CPU per event (${fmt(1e6 / cpuUsPerEvent)} events/s per core)\n`,
    );
  }
  const cpu = median(cpus);
  process.stdout.write(
    `median of ${options.rounds} rounds, ${fmt(options.events)} events each: ${fmt(median(rates))} events/s appended and committed; ${cpu.toFixed(1)} µs CPU per event, ${fmt(1e6 / cpu)} events/s per core\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  },
);
