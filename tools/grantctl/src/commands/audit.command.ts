import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
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
  matchesFilter,
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

/** `grantctl audit replay|verify|export`: the auditor's view of the audit topic. */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description(
      'Replay, verify and export the audit trail (reads from offset 0 without a consumer group)',
    );

  audit
    .command('replay')
    .description('stream audit events, filtered, as JSON lines or CSV (constant memory)')
    .option('--topic <name>', 'audit topic', TOPICS.AUDIT)
    .option('--grant <id>', 'only this grant')
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
        ...(opts.funder ? { funderId: opts.funder } : {}),
        ...(opts.stage ? { stage: opts.stage } : {}),
        ...(opts.category ? { category: opts.category } : {}),
        ...(opts.action ? { action: opts.action } : {}),
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
      };
      const started = Date.now();
      let matched = 0;
      let undecodable = 0;
      try {
        if (opts.format === 'csv') await write(out, `${CSV_COLUMNS.join(',')}\n`);
        const seen = await scanAudit(
          clients,
          scanner,
          opts.topic,
          config.audit,
          async (_m, event) => {
            if (!event || !matchesFilter(event, filter)) return;
            matched += 1;
            await write(out, `${opts.format === 'csv' ? toCsvRow(event) : toJsonLine(event)}\n`);
          },
          () => (undecodable += 1),
        );
        process.stderr.write(
          `replayed ${seen} record(s) of ${opts.topic}: ${matched} matched, ${undecodable} undecodable, ${Date.now() - started} ms, peak RSS ${peakRssMb()} MB\n`,
        );
      } finally {
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
      `check every grant's hash chain; exits ${AUDIT_FINDINGS_EXIT} naming the first bad event of each grant`,
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
        `${base}.json\n${base}.html\n${events.size} event(s); chain ${report.ok ? 'intact' : `has ${report.findings.length} finding(s)`}\n`,
      );
      if (!report.ok) process.exitCode = AUDIT_FINDINGS_EXIT;
    });
}

/** The verify report for people: per grant with findings, the first bad event first. */
export function formatVerification(
  report: VerificationReport,
  undecodable: readonly Undecodable[],
): string {
  const lines = [`${report.grants} grant(s), ${report.events} event(s) checked`];
  for (const f of report.findings) {
    lines.push(
      `${f.kind.padEnd(18)} grant ${f.grantId}${f.eventId ? ` event ${f.eventId}` : ''}${f.partition !== undefined ? ` at ${f.partition}/${f.offset ?? '?'}` : ''}: ${f.message}`,
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
