/**
 * `grantctl audit verify` on a large audit log: time and peak RSS for two
 * sizes side by side, to show that memory does not grow with the number of
 * events (docs/benchmarks.md, "Audit verify").
 *
 *   npm run bench:audit-verify -- [--sizes 250000,1000000] [--every-leaves 10000] [--dir /tmp] [--heap-mb 256]
 *
 * For each size a first child process writes a file source: the audit records
 * (decoded events as JSON lines, five per grant, spread over six partitions),
 * the order batches the checkpointer would have written and a signed
 * checkpoint every `--every-leaves` leaves. A second, fresh child process runs
 * `verifyAudit` (the code `grantctl audit verify` runs) over those files with
 * the configured trusted key and limits, and reports its wall time and peak
 * RSS. The file source stands for the three topics: what is not measured is
 * fetching from the broker and Avro decoding, which stream one bounded fetch
 * at a time and add time, not memory.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import {
  AUDIT_GENESIS_HASH,
  MerkleLog,
  auditLeafFieldsOf,
  auditLeafHash,
  buildAuditEvent,
  generateNoteKey,
  payloadHashOf,
  signCheckpoint,
  type AuditRecord,
  type LogOrderEntry,
} from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';
import { testConfig } from '@grantstream/testing';
import type { AuditSources } from '../tools/grantctl/src/audit/log-sources';
import { verifyAudit } from '../tools/grantctl/src/audit/verify-audit';

const STEPS = [
  { stage: 'ingest', action: 'INGESTED' },
  { stage: 'validation', action: 'VALIDATED' },
  { stage: 'normalization', action: 'NORMALIZED' },
  { stage: 'routing', action: 'FORWARD' },
  { stage: 'submission', action: 'SUBMITTED' },
] as const;
const PARTITIONS = 6;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: Writable): Promise<void> {
  out.end();
  await once(out, 'finish');
}

/** Writes the file source of `events` events into `dir`. */
async function generate(events: number, everyLeaves: number, dir: string): Promise<void> {
  const config = testConfig();
  const { origin, maxBatchEntries } = config.audit.log;
  const key = generateNoteKey(origin);
  writeFileSync(join(dir, 'verifier-key'), key.verifierKey);
  const audit = createWriteStream(join(dir, 'audit.jsonl'));
  const order = createWriteStream(join(dir, 'order.jsonl'));
  const notes = createWriteStream(join(dir, 'checkpoints.jsonl'));
  const next = new Array<number>(PARTITIONS).fill(0);
  const log = new MerkleLog();
  let batch: LogOrderEntry[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await write(
      order,
      `${JSON.stringify({ firstIndex: log.size - batch.length, entries: batch })}\n`,
    );
    batch = [];
  };
  for (let g = 0; log.size < events; g += 1) {
    const grantId = `NSF-2026-${String(g).padStart(7, '0')}`;
    const partition = g % PARTITIONS;
    let previous = AUDIT_GENESIS_HASH;
    for (let s = 0; s < STEPS.length && log.size < events; s += 1) {
      const step = STEPS[s] ?? STEPS[0];
      const built = buildAuditEvent(
        {
          grantId,
          funderId: 'NSF',
          auditTrailId: `at-${grantId}`,
          ...step,
          payloadHash: payloadHashOf(Buffer.from(`${grantId}-${s}`)),
          service: { name: step.stage, version: '1.0.0' },
          occurredAt: 1_790_000_000_000 + g * 10 + s,
          source: { topic: 'grants.ingest.v1', partition, offset: g },
          ruleSetVersion: step.stage === 'routing' ? 'rules-2026.1' : null,
        },
        previous,
      );
      previous = built.event.event_hash;
      const offset = String(next[partition] ?? 0);
      next[partition] = (next[partition] ?? 0) + 1;
      const record: AuditRecord = { key: built.key, event: built.event, partition, offset };
      await write(audit, `${JSON.stringify(record)}\n`);
      const entry = { ...auditLeafFieldsOf(built.key, built.event), partition, offset };
      log.appendLeafHash(auditLeafHash(entry));
      batch.push(entry);
      if (batch.length >= maxBatchEntries) await flush();
      if (log.size % everyLeaves === 0 || log.size === events) {
        await flush();
        const note = signCheckpoint(
          { origin, size: log.size, rootHash: log.root(), time: new Date(1_790_000_000_000) },
          key.signer,
        );
        await write(notes, `${JSON.stringify(note)}\n`);
      }
    }
  }
  await flush();
  await Promise.all([close(audit), close(order), close(notes)]);
}

async function* linesOf(path: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) yield line;
}

/** The three topics as files, through the same interface the command reads Kafka with. */
function fileSources(dir: string, events: number): AuditSources {
  return {
    auditSize: () => Promise.resolve(events),
    async scanAudit(onRecord) {
      let seen = 0;
      for await (const line of linesOf(join(dir, 'audit.jsonl'))) {
        seen += 1;
        await onRecord(JSON.parse(line) as AuditRecord);
      }
      return seen;
    },
    async checkpointNotes() {
      const notes = [];
      let i = 0;
      for await (const line of linesOf(join(dir, 'checkpoints.jsonl'))) {
        notes.push({ note: JSON.parse(line) as string, ref: `checkpoints/0/${i}` });
        i += 1;
      }
      return { notes, refused: [] };
    },
    witnessNotes: () => Promise.resolve({ notes: [], refused: [] }),
    async *orderBatches() {
      for await (const line of linesOf(join(dir, 'order.jsonl'))) {
        yield {
          ok: true as const,
          batch: JSON.parse(line) as { firstIndex: number; entries: LogOrderEntry[] },
        };
      }
    },
  };
}

async function verify(dir: string, events: number): Promise<void> {
  const { log } = testConfig().audit;
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const result = await verifyAudit(fileSources(dir, events), {
    ...log,
    verifierKeys: [readFileSync(join(dir, 'verifier-key'), 'utf8')],
  });
  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  // CPU time as well as wall time: on a shared machine the wall clock measures the load.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const checked = result.log.checked ? result.log : undefined;
  process.stdout.write(
    `${JSON.stringify({
      events,
      records: result.records,
      ok: result.ok,
      leaves: checked?.leaves,
      checkpoints: checked?.checkpoints.verified,
      rootsReproduced: checked?.rootsReproduced,
      grants: result.chain.grants,
      ms,
      cpuMs,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1024 / 1024),
      bucketRecords: log.bucketRecords,
    })}\n`,
  );
}

function child(args: string[], nodeFlags: string[] = []): string {
  const script = process.argv[1] ?? '';
  const run = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}`);
  return run.stdout;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === '--generate') {
    await generate(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] ?? '.');
    return;
  }
  if (mode === '--verify') {
    await verify(process.argv[4] ?? '.', Number(process.argv[3]));
    return;
  }
  const sizes = option('sizes', '250000,1000000').split(',').map(Number);
  const everyLeaves = option('every-leaves', '10000');
  const base = option('dir', process.env['TMPDIR'] ?? '/tmp');
  // A V8 heap cap for the verify process: finishing every size under the same
  // cap shows that live memory does not grow with the log (peak RSS alone
  // also counts garbage V8 has not collected yet).
  const heapMb = option('heap-mb', '');
  const verifyFlags = heapMb === '' ? [] : [`--max-old-space-size=${heapMb}`];
  const rows: Record<string, unknown>[] = [];
  for (const size of sizes) {
    const dir = mkdtempSync(join(base, `audit-verify-${size}-`));
    try {
      const t0 = Date.now();
      child(['--generate', String(size), everyLeaves, dir]);
      process.stderr.write(`generated ${size} events in ${Date.now() - t0} ms\n`);
      const row = JSON.parse(child(['--verify', String(size), dir], verifyFlags)) as Record<
        string,
        unknown
      >;
      row['heapCapMb'] = heapMb === '' ? null : Number(heapMb);
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(
    `\n| events | records verified | checkpoints verified | roots reproduced | verify wall time | verify CPU time | peak RSS | ok |\n|---:|---:|---:|---:|---:|---:|---:|---|\n${rows
      .map(
        (r) =>
          `| ${String(r['events'])} | ${String(r['records'])} | ${String(r['checkpoints'])} | ${String(r['rootsReproduced'])} | ${(Number(r['ms']) / 1000).toFixed(1)} s | ${(Number(r['cpuMs']) / 1000).toFixed(1)} s | ${String(r['peakRssMb'])} MB | ${String(r['ok'])} |`,
      )
      .join('\n')}\n`,
  );
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
