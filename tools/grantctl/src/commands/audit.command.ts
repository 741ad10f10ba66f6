import {
  closeSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import {
  CSV_COLUMNS,
  ChainVerifier,
  buildEvidenceBundle,
  chainOrder,
  isoOf,
  matchesFilter,
  TrailIndex,
  toCsvRow,
  toJsonLine,
  type AuditFilter,
  type VerificationReport,
} from '@grantstream/audit';
import {
  AuditEventV1Avro,
  AuditEventV1Schema,
  TOPICS,
  type AuditEventV1,
} from '@grantstream/contracts';
import {
  TopicScanner,
  createPlatformClients,
  type PlatformClients,
  type ReadMessage,
} from '@grantstream/kafka';
import { commandContext } from './context';

/** Exit status of `audit verify` when any chain has a finding. */
export const AUDIT_FINDINGS_EXIT = 4;

/** A time given as ISO-8601 or epoch milliseconds. */
export function parseTime(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(`not a time: ${value} (ISO-8601 or epoch ms)`);
  return ms;
}

interface ReplayOptions {
  topic: string;
  grant?: string;
  trail?: string;
  funder?: string;
  stage?: string;
  category?: string;
  action?: string;
  from?: number;
  to?: number;
  format: 'jsonl' | 'csv';
  out?: string;
}

/** A message of the audit topic that is not a decodable AuditEvent: itself evidence of tampering. */
interface Undecodable {
  partition: number;
  offset: string;
  key: string | null;
  reason: string;
}

/**
 * Reads every audit record once, from offset 0, without a consumer group,
 * decoding each value; `onEvent` sees decoded events (null for a tombstone).
 */
export async function scanAudit(
  clients: PlatformClients,
  scanner: TopicScanner,
  topic: string,
  read: { maxBytesPerFetch: number; maxWaitMs: number; maxEmptyFetches: number },
  onEvent: (m: ReadMessage, event: AuditEventV1 | null) => void | Promise<void>,
  onUndecodable: (u: Undecodable) => void,
): Promise<number> {
  const total = await scanner.size(topic);
  const bar = process.stderr.isTTY
    ? new SingleBar({ stream: process.stderr, etaBuffer: 1000 })
    : null;
  bar?.start(total, 0);
  let seen = 0;
  try {
    for await (const m of scanner.scan(topic, read)) {
      seen += 1;
      if (bar && seen % 1000 === 0) bar.update(seen);
      if (m.value === null) {
        await onEvent(m, null);
        continue;
      }
      let event: AuditEventV1;
      try {
        const decoded = await clients.serde.decodeAs(m.value, AuditEventV1Avro);
        event = AuditEventV1Schema.parse(decoded.value);
      } catch (err) {
        onUndecodable({
          partition: m.partition,
          offset: m.offset,
          key: m.key?.toString() ?? null,
          reason: (err as Error).message,
        });
        continue;
      }
      // Awaited: a slow writer slows the scan instead of queueing lines in memory.
      await onEvent(m, event);
    }
  } finally {
    bar?.update(seen);
    bar?.stop();
  }
  return seen;
}

async function write(out: Writable, line: string): Promise<void> {
  if (!out.write(line)) await once(out, 'drain');
}

function peakRssMb(): number {
  // maxRSS is in kilobytes.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * Puts a replay in chain order without holding the events: matching events'
 * formatted lines go to a temporary file as they are read (any partition
 * order), and a {@link TrailIndex} keeps only each event's links (ids,
 * hashes, time, as bytes) and its line's place in the file. Every event of a
 * trail is noted, matching or not, because a filtered event's place depends
 * on the events around it; grant-level filters (grant, trail, funder) drop
 * the rest early.
 */
class ReplaySpool {
  private readonly dir = mkdtempSync(join(tmpdir(), 'grantctl-replay-'));
  private readonly fd = openSync(join(this.dir, 'lines'), 'w+');
  private readonly index = new TrailIndex();
  private size = 0;

  constructor(private readonly filter: AuditFilter) {}

  add(event: AuditEventV1, format: (e: AuditEventV1) => string): void {
    const f = this.filter;
    if (f.grantId !== undefined && event.grant_id !== f.grantId) return;
    if (f.trailId !== undefined && event.audit_trail_id !== f.trailId) return;
    if (f.funderId !== undefined && event.funder_id !== f.funderId) return;
    let at = -1;
    let length = 0;
    if (matchesFilter(event, f)) {
      const line = `${format(event)}\n`;
      at = this.size;
      length = writeSync(this.fd, line, at, 'utf8');
      this.size += length;
    }
    this.index.add(event, { at, length });
  }

  /** Distinct trails noted (after grant-level filters). */
  trails(): number {
    return this.index.trailCount;
  }

  /** The matching lines, trail by trail in chain order (see orderTrails). */
  *inChainOrder(): Generator<string> {
    // One buffer for every line: a fresh one per line is memory the collector chases.
    let buffer = Buffer.alloc(0);
    for (const { at, length } of this.index.ordered()) {
      if (at < 0) continue;
      if (buffer.length < length) buffer = Buffer.alloc(Math.max(length, buffer.length * 2));
      readSync(this.fd, buffer, 0, length, at);
      yield buffer.toString('utf8', 0, length);
    }
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `grantctl audit replay|verify|export`: the auditor's view of the audit topic. */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description(
      'Replay, verify and export the audit trail (reads from offset 0 without a consumer group)',
    );

  audit
    .command('replay')
    .description(
      'list audit events, filtered, as JSON lines or CSV: trail by trail, each in chain order',
    )
    .option('--topic <name>', 'audit topic', TOPICS.AUDIT)
    .option('--grant <id>', 'only this grant')
    .option('--trail <id>', 'only this audit trail (one submission or re-read of a grant)')
    .option('--funder <id>', 'only this funder')
    .option('--stage <name>', 'only this stage')
    .option('--category <category>', 'only this error category')
    .option('--action <action>', 'only this action')
    .option('--from <time>', 'occurred at or after (ISO-8601 or epoch ms)', parseTime)
    .option('--to <time>', 'occurred before (ISO-8601 or epoch ms)', parseTime)
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (opts: ReplayOptions, cmd: Command) => {
      if (opts.format !== 'jsonl' && opts.format !== 'csv') {
        throw new InvalidArgumentError(`--format must be jsonl or csv, not ${String(opts.format)}`);
      }
      const { config, log } = commandContext(cmd);
      const clients = createPlatformClients(config, log);
      const scanner = new TopicScanner(clients.kafka);
      const out: Writable = opts.out ? createWriteStream(opts.out) : process.stdout;
      const filter: AuditFilter = {
        ...(opts.grant ? { grantId: opts.grant } : {}),
        ...(opts.trail ? { trailId: opts.trail } : {}),
        ...(opts.funder ? { funderId: opts.funder } : {}),
        ...(opts.stage ? { stage: opts.stage } : {}),
        ...(opts.category ? { category: opts.category } : {}),
        ...(opts.action ? { action: opts.action } : {}),
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
      };
      const started = Date.now();
      let undecodable = 0;
      const spool = new ReplaySpool(filter);
      try {
        const seen = await scanAudit(
          clients,
          scanner,
          opts.topic,
          config.audit,
          (_m, event) => {
            if (event)
              spool.add(event, (e) => (opts.format === 'csv' ? toCsvRow(e) : toJsonLine(e)));
          },
          () => (undecodable += 1),
        );
        if (opts.format === 'csv') await write(out, `${CSV_COLUMNS.join(',')}\n`);
        let matched = 0;
        for (const line of spool.inChainOrder()) {
          matched += 1;
          await write(out, line);
        }
        process.stderr.write(
          `replayed ${seen} record(s) of ${opts.topic}: ${matched} matched, ${undecodable} undecodable, ${spool.trails()} trail(s) in chain order, ${Date.now() - started} ms, peak RSS ${peakRssMb()} MB\n`,
        );
      } finally {
        spool.close();
        if (opts.out) {
          out.end();
          await once(out, 'finish');
        }
        await scanner.close();
        await clients.close();
      }
    });

  audit
    .command('verify')
    .description(
      `check every trail's hash chain and list grants with several trails; exits ${AUDIT_FINDINGS_EXIT} naming the first bad event of each grant`,
    )
    .option('--topic <name>', 'audit topic', TOPICS.AUDIT)
    .option('--json', 'print the report as JSON')
    .action(async (opts: { topic: string; json?: boolean }, cmd: Command) => {
      const { config, log } = commandContext(cmd);
      const clients = createPlatformClients(config, log);
      const scanner = new TopicScanner(clients.kafka);
      const verifier = new ChainVerifier();
      const undecodable: Undecodable[] = [];
      try {
        await scanAudit(
          clients,
          scanner,
          opts.topic,
          config.audit,
          (m, event) =>
            verifier.add({
              key: m.key?.toString() ?? '',
              event,
              partition: m.partition,
              offset: m.offset,
            }),
          (u) => undecodable.push(u),
        );
      } finally {
        await scanner.close();
        await clients.close();
      }
      const report = verifier.finish();
      const ok = report.ok && undecodable.length === 0;
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ ...report, undecodable, ok }, null, 2)}\n`);
      else process.stdout.write(formatVerification(report, undecodable));
      if (!ok) process.exitCode = AUDIT_FINDINGS_EXIT;
    });

  audit
    .command('export')
    .description('write the evidence bundle of one grant (JSON + HTML)')
    .requiredOption('--grant <id>', 'the grant')
    .requiredOption('--out <dir>', 'folder to write the bundle to')
    .option('--topic <name>', 'audit topic', TOPICS.AUDIT)
    .action(async (opts: { grant: string; out: string; topic: string }, cmd: Command) => {
      const { config, log } = commandContext(cmd);
      const clients = createPlatformClients(config, log);
      const scanner = new TopicScanner(clients.kafka);
      const verifier = new ChainVerifier();
      const events = new Map<string, AuditEventV1>();
      const prefix = `${opts.grant}:`;
      try {
        await scanAudit(
          clients,
          scanner,
          opts.topic,
          config.audit,
          (m, event) => {
            const key = m.key?.toString() ?? '';
            if (event ? event.grant_id !== opts.grant : !key.startsWith(prefix)) return;
            verifier.add({ key, event, partition: m.partition, offset: m.offset });
            if (event) events.set(key, event);
          },
          () => undefined,
        );
      } finally {
        await scanner.close();
        await clients.close();
      }
      if (events.size === 0) {
        process.stderr.write(`no audit events for grant ${opts.grant} on ${opts.topic}\n`);
        process.exitCode = 1;
        return;
      }
      const report = verifier.finish();
      const bundle = buildEvidenceBundle(
        opts.grant,
        chainOrder([...events.values()]),
        report,
        Date.now(),
      );
      mkdirSync(opts.out, { recursive: true });
      const base = join(opts.out, `evidence-${opts.grant}`);
      writeFileSync(`${base}.json`, `${JSON.stringify(bundle.json, null, 2)}\n`);
      writeFileSync(`${base}.html`, bundle.html);
      process.stdout.write(
        `${base}.json\n${base}.html\n${events.size} event(s) in ${report.trails} trail(s); chain ${report.ok ? 'intact' : `has ${report.findings.length} finding(s)`}\n`,
      );
      if (!report.ok) process.exitCode = AUDIT_FINDINGS_EXIT;
    });
}

/** The verify report for people: linked trails, then per grant with findings, the first bad event first. */
export function formatVerification(
  report: VerificationReport,
  undecodable: readonly Undecodable[],
): string {
  const { identical, remade } = report.redeliveries;
  const lines = [
    `${report.grants} grant(s), ${report.trails} trail(s), ${report.events} event(s) checked; ${identical} identical redelivery(ies), ${remade} decision(s) made again on a re-read (not findings)`,
  ];
  if (report.linkedTrails.length > 0) {
    lines.push(`${report.linkedTrails.length} grant(s) with several trails:`);
    for (const grant of report.linkedTrails) {
      lines.push(`  ${grant.grantId}`);
      for (const t of grant.trails) {
        const link =
          t.link === null
            ? 'no link'
            : `${t.link.kind} of ${t.link.ofTrail} (event ${t.link.eventId})`;
        lines.push(
          `    trail ${t.trailId}  started ${isoOf(t.startedAt)}  ${t.events} event(s)  ${link}`,
        );
      }
    }
  }
  for (const f of report.findings) {
    lines.push(
      `${f.kind.padEnd(18)} grant ${f.grantId}${f.trailId ? ` trail ${f.trailId}` : ''}${f.eventId ? ` event ${f.eventId}` : ''}${f.partition !== undefined ? ` at ${f.partition}/${f.offset ?? '?'}` : ''}: ${f.message}`,
    );
  }
  for (const u of undecodable)
    lines.push(
      `UNDECODABLE        key ${u.key ?? '(none)'} at ${u.partition}/${u.offset}: ${u.reason}`,
    );
  const ok = report.ok && undecodable.length === 0;
  lines.push(
    ok
      ? 'every chain intact'
      : `${report.grantsWithFindings.length} grant(s) with findings, ${undecodable.length} undecodable record(s)`,
  );
  return `${lines.join('\n')}\n`;
}
