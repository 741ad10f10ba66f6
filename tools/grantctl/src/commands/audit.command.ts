import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
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
  type EvidenceTransparency,
  type GrantEventProof,
  type VerificationReport,
} from '@grantstream/audit';
import type { GrantstreamConfig } from '@grantstream/config';
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
import {
  kafkaAuditSources,
  type AuditSources,
  type LogLocations,
  type LogReadLimits,
  type Undecodable,
} from '../audit/log-sources';
import { proveFromLog, type ProveOutcome } from '../audit/prove-from-log';
import {
  verifyAudit,
  type AuditVerifyResult,
  type LogCheck,
  type LogCheckOptions,
} from '../audit/verify-audit';
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

  withLogOptions(audit.command('verify'))
    .description(
      `check every trail's hash chain and, with trusted verifier keys, the signed Merkle log (every checkpoint's signature, consistency between checkpoints, the replayed log reproducing the latest root, every checkpointed event still in place); exits ${AUDIT_FINDINGS_EXIT} naming what is missing or altered`,
    )
    .option('--topic <name>', 'audit topic', TOPICS.AUDIT)
    .option('--json', 'print the report as JSON')
    .action(async (opts: LogCommandOptions & { json?: boolean }, cmd: Command) => {
      const { config, log } = commandContext(cmd);
      const clients = createPlatformClients(config, log);
      const scanner = new TopicScanner(clients.kafka);
      const started = Date.now();
      let result: AuditVerifyResult;
      try {
        const sources = kafkaAuditSources(
          clients,
          scanner,
          locationsOf(opts, config),
          readLimitsOf(config),
        );
        result = await verifyAudit(withProgress(sources), logCheckOptionsOf(opts, config));
      } finally {
        await scanner.close();
        await clients.close();
      }
      if (opts.json) {
        const { chain, undecodable, log: logCheck, ok } = result;
        process.stdout.write(
          `${JSON.stringify({ ...chain, undecodable, log: logCheck, ok }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(formatVerification(result.chain, result.undecodable));
        process.stdout.write(formatLogCheck(result.log));
      }
      process.stderr.write(
        `verified ${result.records} audit record(s) in ${Date.now() - started} ms, peak RSS ${peakRssMb()} MB\n`,
      );
      if (!result.ok) process.exitCode = AUDIT_FINDINGS_EXIT;
    });

  withLogOptions(audit.command('prove'))
    .description(
      "write inclusion proofs of a grant's events against the latest (or a chosen) signed checkpoint, one file per event, each checkable offline with tools/audit-proof-verifier/verify.mjs and the public key",
    )
    .requiredOption('--grant <id>', 'the grant')
    .option(
      '--out <dir>',
      'folder to write the proof files to (default: print them as a JSON array)',
    )
    .option('--tree-size <n>', 'prove against the checkpoint of this tree size', positiveInt)
    .action(
      async (
        opts: LogCommandOptions & { grant: string; out?: string; treeSize?: number },
        cmd: Command,
      ) => {
        const { config, log } = commandContext(cmd);
        const clients = createPlatformClients(config, log);
        const scanner = new TopicScanner(clients.kafka);
        let outcome: ProveOutcome;
        try {
          const sources = kafkaAuditSources(
            clients,
            scanner,
            locationsOf(opts, config),
            readLimitsOf(config),
          );
          outcome = await proveFromLog(
            sources,
            opts.grant,
            logCheckOptionsOf(opts, config),
            opts.treeSize,
          );
        } finally {
          await scanner.close();
          await clients.close();
        }
        if (!outcome.ok) {
          process.stderr.write(`no proof for grant ${opts.grant}: ${outcome.reason}\n`);
          process.exitCode = AUDIT_FINDINGS_EXIT;
          return;
        }
        if (outcome.proofs.length === 0) {
          process.stderr.write(
            `grant ${opts.grant} has no event in the log at tree size ${outcome.chosen.checkpoint.size}${outcome.notCovered.length > 0 ? ` (${outcome.notCovered.length} logged after it)` : ''}\n`,
          );
          process.exitCode = 1;
          return;
        }
        const { checkpoint } = outcome.chosen;
        if (opts.out === undefined) {
          process.stdout.write(
            `${JSON.stringify(
              outcome.proofs.map((p) => p.file),
              null,
              2,
            )}\n`,
          );
        } else {
          for (const path of writeProofFiles(opts.out, opts.grant, outcome.proofs))
            process.stdout.write(`${path}\n`);
        }
        process.stderr.write(
          `${outcome.proofs.length} inclusion proof(s) of grant ${opts.grant} against ${checkpoint.origin} at tree size ${checkpoint.size} (${outcome.chosen.ref})${outcome.notCovered.length > 0 ? `; ${outcome.notCovered.length} event(s) logged after it` : ''}; check each with: node tools/audit-proof-verifier/verify.mjs <file>\n`,
        );
      },
    );

  withLogOptions(audit.command('export'))
    .description('write the evidence bundle of one grant (JSON + HTML)')
    .requiredOption('--grant <id>', 'the grant')
    .requiredOption('--out <dir>', 'folder to write the bundle to')
    .option('--topic <name>', 'audit topic', TOPICS.AUDIT)
    .action(
      async (
        opts: LogCommandOptions & { topic: string; grant: string; out: string },
        cmd: Command,
      ) => {
        const { config, log } = commandContext(cmd);
        const clients = createPlatformClients(config, log);
        const scanner = new TopicScanner(clients.kafka);
        const verifier = new ChainVerifier();
        const events = new Map<string, AuditEventV1>();
        const prefix = `${opts.grant}:`;
        const logOptions = logCheckOptionsOf(opts, config);
        let proved: ProveOutcome | undefined;
        try {
          if (logOptions.verifierKeys.length > 0) {
            const sources = kafkaAuditSources(
              clients,
              scanner,
              locationsOf(opts, config),
              readLimitsOf(config),
            );
            proved = await proveFromLog(sources, opts.grant, logOptions);
          }
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
          proved?.ok === true ? transparencyOf(proved) : null,
        );
        mkdirSync(opts.out, { recursive: true });
        const base = join(opts.out, `evidence-${opts.grant}`);
        writeFileSync(`${base}.json`, `${JSON.stringify(bundle.json, null, 2)}\n`);
        writeFileSync(`${base}.html`, bundle.html);
        const proofFiles =
          proved?.ok === true ? writeProofFiles(`${base}-proofs`, opts.grant, proved.proofs) : [];
        const proofLine =
          proved === undefined
            ? 'no inclusion proofs: no trusted verifier key configured'
            : proved.ok
              ? `${proved.proofs.length} inclusion proof(s) against tree size ${proved.chosen.checkpoint.size} in ${base}-proofs`
              : `no inclusion proofs: ${proved.reason}`;
        process.stdout.write(
          `${base}.json\n${base}.html\n${proofFiles.length > 0 ? `${base}-proofs/\n` : ''}${events.size} event(s) in ${report.trails} trail(s); chain ${report.ok ? 'intact' : `has ${report.findings.length} finding(s)`}; ${proofLine}\n`,
        );
        if (!report.ok || proved?.ok === false) process.exitCode = AUDIT_FINDINGS_EXIT;
      },
    );
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

/** Options every command reading the Merkle log shares. */
interface LogCommandOptions {
  /** The audit topic (prove reads only the order and checkpoint topics). */
  topic?: string;
  orderTopic: string;
  checkpointTopic: string;
  witness?: string;
  verifierKey: string[];
}

/** The Merkle log's options, shared by verify, prove and export. */
function withLogOptions(command: Command): Command {
  return command
    .option('--order-topic <name>', 'order topic of the Merkle log', TOPICS.AUDIT_LOG_ORDER)
    .option(
      '--checkpoint-topic <name>',
      'checkpoint topic of the Merkle log',
      TOPICS.AUDIT_CHECKPOINTS,
    )
    .option('--witness <dir>', 'witness store directory (default audit.log.witnessDir)')
    .option(
      '--verifier-key <key>',
      'trusted verifier key, added to audit.log.verifierKeys (repeatable)',
      collect,
      [],
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`not a positive integer: ${value}`);
  }
  return n;
}

function locationsOf(opts: LogCommandOptions, config: GrantstreamConfig): LogLocations {
  // The configured default is the local checkpointer's directory, which does
  // not exist before it first ran; a directory named on the command line must.
  const configured = configuredWitnessApplies(opts) ? config.audit.log.witnessDir : null;
  return {
    audit: opts.topic ?? TOPICS.AUDIT,
    order: opts.orderTopic,
    checkpoints: opts.checkpointTopic,
    witnessDir: opts.witness ?? (configured !== null && existsSync(configured) ? configured : null),
  };
}

/**
 * The verifier keys of audit.log.verifierKeyFiles, one per file (its first
 * non-empty line), read now: the files hold public keys the checkpointer
 * wrote, so the configuration names a path instead of carrying the key.
 * Files that do not exist are returned apart, to be named if no key is left.
 */
export function readVerifierKeyFiles(files: readonly string[]): {
  keys: string[];
  unread: string[];
} {
  const keys: string[] = [];
  const unread: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      unread.push(file);
      continue;
    }
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '');
    if (line === undefined) unread.push(file);
    else keys.push(line);
  }
  return { keys, unread };
}

function readLimitsOf(config: GrantstreamConfig): LogReadLimits {
  const { maxBytesPerFetch, maxWaitMs, maxEmptyFetches, log } = config.audit;
  return {
    maxBytesPerFetch,
    maxWaitMs,
    maxEmptyFetches,
    origin: log.origin,
    maxBatchEntries: log.maxBatchEntries,
    maxNoteBytes: log.maxNoteBytes,
    maxWitnessFiles: log.maxWitnessFiles,
  };
}

/**
 * Whether the configured key files and witness directory (the local stack's
 * log over grants.audit.v1) concern this command: not when it reads another
 * audit topic against the default order and checkpoint topics, a log that
 * never covered that topic. Keys given with --verifier-key or in
 * audit.log.verifierKeys apply whatever the topics.
 */
function configuredLogApplies(opts: LogCommandOptions): boolean {
  const otherAudit = opts.topic !== undefined && opts.topic !== TOPICS.AUDIT;
  const defaultLog =
    opts.orderTopic === TOPICS.AUDIT_LOG_ORDER && opts.checkpointTopic === TOPICS.AUDIT_CHECKPOINTS;
  return !(otherAudit && defaultLog);
}

/**
 * Whether the configured witness directory (the local checkpointer's copies
 * of the checkpoints on the default checkpoint topic) concerns this command:
 * only when it reads the default log over the default audit topic. A log
 * kept on other order or checkpoint topics has checkpoints of its own, and
 * another log's copies would be judged against it; --witness names one.
 */
function configuredWitnessApplies(opts: LogCommandOptions): boolean {
  const defaultAudit = opts.topic === undefined || opts.topic === TOPICS.AUDIT;
  return (
    defaultAudit &&
    opts.orderTopic === TOPICS.AUDIT_LOG_ORDER &&
    opts.checkpointTopic === TOPICS.AUDIT_CHECKPOINTS
  );
}

function logCheckOptionsOf(opts: LogCommandOptions, config: GrantstreamConfig): LogCheckOptions {
  const { log } = config.audit;
  const fromFiles = configuredLogApplies(opts)
    ? readVerifierKeyFiles(log.verifierKeyFiles)
    : { keys: [], unread: [] };
  return {
    verifierKeys: [...new Set([...log.verifierKeys, ...fromFiles.keys, ...opts.verifierKey])],
    unreadKeyFiles: fromFiles.unread,
    origin: log.origin,
    maxBatchEntries: log.maxBatchEntries,
    maxNoteBytes: log.maxNoteBytes,
    maxSignatures: log.maxSignatures,
    bucketRecords: log.bucketRecords,
    spillBufferBytes: log.spillBufferBytes,
    maxFindingsListed: log.maxFindingsListed,
  };
}

/** The audit scan with a progress bar on a terminal. */
function withProgress(sources: AuditSources): AuditSources {
  return {
    ...sources,
    async scanAudit(onRecord, onUndecodable) {
      const total = await sources.auditSize();
      const bar = process.stderr.isTTY
        ? new SingleBar({ stream: process.stderr, etaBuffer: 1000 })
        : null;
      bar?.start(total, 0);
      let seen = 0;
      try {
        return await sources.scanAudit(async (record) => {
          seen += 1;
          if (bar && seen % 1000 === 0) bar.update(seen);
          await onRecord(record);
        }, onUndecodable);
      } finally {
        bar?.update(seen);
        bar?.stop();
      }
    },
  };
}

/** Writes one proof file per event into `dir`; returns their paths. */
function writeProofFiles(
  dir: string,
  grantId: string,
  proofs: readonly GrantEventProof[],
): string[] {
  mkdirSync(dir, { recursive: true });
  return proofs.map((proof) => {
    const path = join(dir, `${grantId}.leaf-${proof.leafIndex}.proof.json`);
    writeFileSync(path, `${JSON.stringify(proof.file, null, 2)}\n`);
    return path;
  });
}

/** The bundle's transparency section from a successful prove. */
function transparencyOf(proved: Extract<ProveOutcome, { ok: true }>): EvidenceTransparency {
  const { checkpoint, note, ref, verifierKey } = proved.chosen;
  const leaf = (index: number, key: string, eventHash: string) => ({
    leafIndex: index,
    key,
    eventHash,
  });
  return {
    checkpoint: {
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: Buffer.from(checkpoint.rootHash).toString('base64'),
      time: checkpoint.time?.toISOString() ?? null,
      note,
      verifierKey,
      ref,
    },
    proofs: proved.proofs.map((p) => p.file),
    proved: proved.proofs.map((p) => leaf(p.leafIndex, p.key, p.eventHash)),
    notCovered: proved.notCovered.map((l) => leaf(l.index, l.fields.key, l.fields.eventHash)),
  };
}

/** The Merkle log part of the verify report for people. */
export function formatLogCheck(check: LogCheck): string {
  if (!check.checked) return `Merkle log NOT checked: ${check.reason}\n`;
  const lines = [
    `Merkle log: ${check.checkpoints.verified} checkpoint(s) verified, ${check.checkpoints.refused} refused, ${check.rootsReproduced} root(s) reproduced; ${check.leaves} leaf(s), ${check.checkpointedLeaves} checkpointed, ${check.grants} grant(s)`,
  ];
  for (const f of check.findings) {
    const where = [
      f.grantId === undefined ? null : `grant ${f.grantId}`,
      f.leafIndex === undefined ? null : `leaf ${f.leafIndex}`,
      f.key === undefined ? null : `key ${f.key}`,
      f.partition === undefined ? null : `at ${f.partition}/${f.offset ?? '?'}`,
      f.checkpointSize === undefined ? null : `checkpoint ${f.checkpointSize}`,
    ].filter((p) => p !== null);
    lines.push(`${f.kind.padEnd(20)} ${where.join(' ')}: ${f.message}`);
  }
  const noticeCounts = Object.entries(check.counts)
    .filter(([kind]) => kind === 'SUPERSEDED' || kind === 'UNCHECKPOINTED')
    .map(([kind, n]) => `${n} ${kind}`);
  if (noticeCounts.length > 0) lines.push(`notices (not tampering): ${noticeCounts.join(', ')}`);
  if (check.unlisted > 0)
    lines.push(`${check.unlisted} more finding(s) or notice(s) counted but not listed`);
  lines.push(
    check.ok
      ? 'log intact: every checkpoint signed and consistent, every checkpointed event in place'
      : `${check.grantsWithFindings.length} grant(s) with log findings, ${check.findings.length - check.findings.filter((f) => f.grantId !== undefined).length} checkpoint or order finding(s)`,
  );
  return `${lines.join('\n')}\n`;
}
