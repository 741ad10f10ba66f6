import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { GrantstreamConfig } from '@grantstream/config';
import { TOPICS } from '@grantstream/contracts';
import {
  TopicScanner,
  createPlatformClients,
  type PlatformClients,
  type ReadMessage,
} from '@grantstream/kafka';
import {
  GRANTCTL_STAGE,
  criteriaOf,
  describeDeadLetter,
  matchesDeadLetter,
  parsePosition,
  positionKey,
  redriveDeadLetters,
  selectsEverything,
  summarize,
  type DeadLetterCriteria,
  type DeadLetterEntry,
  type DeadLetterFilter,
  type RedriveReport,
} from '@grantstream/dead-letters';
import { ContentAddressedFileStore } from '@grantstream/storage';
import { scanAudit } from '../audit/audit-scan';
import { parseTime } from './arguments';
import { commandContext } from './context';

/** The version grantctl records on its audit events. */
const GRANTCTL_SERVICE = { name: 'grantctl', version: '0.1.0' };

const REASON_COLUMN_CHARS = 60;

interface SelectOptions extends DeadLetterCriteria {
  topic?: string;
}

function position(value: string): string {
  try {
    return positionKey(parsePosition(value));
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function filterOf(opts: SelectOptions, positions: readonly string[]): DeadLetterFilter {
  return {
    ...criteriaOf(opts),
    ...(positions.length > 0 ? { positions: new Set(positions.map(position)) } : {}),
  };
}

function withSelectOptions(cmd: Command): Command {
  return cmd
    .option('--topic <name>', 'dead-letter topic (default: runner.deadLetterTopic)')
    .option('--category <category>', 'only this error category (e.g. CONFIGURATION)')
    .option('--code <code>', 'only this error code (e.g. FUNDER_MISCONFIGURED)')
    .option('--stage <stage>', 'only dead letters of this stage')
    .option('--source-topic <name>', 'only dead letters read from this topic')
    .option('--grant <id>', 'only this grant')
    .option('--from <time>', 'failed at or after (ISO-8601 or epoch ms)', parseTime)
    .option('--to <time>', 'failed before (ISO-8601 or epoch ms)', parseTime);
}

/**
 * Where to start each partition so a scan for `positions` skips everything
 * before them, and every partition none of them is on entirely.
 */
async function startsFor(
  clients: PlatformClients,
  topic: string,
  filter: DeadLetterFilter,
): Promise<ReadonlyMap<number, string> | undefined> {
  if (!filter.positions) return undefined;
  const wanted = new Map<number, bigint>();
  for (const p of filter.positions) {
    const { partition, offset } = parsePosition(p);
    const first = wanted.get(partition);
    if (first === undefined || BigInt(offset) < first) wanted.set(partition, BigInt(offset));
  }
  const from = new Map((await clients.io.endOffsets([topic])).get(topic) ?? []);
  for (const [partition, offset] of wanted) {
    if (from.has(partition)) from.set(partition, offset.toString());
  }
  return from;
}

/** Every dead letter the filter selects, with the message it describes. */
async function* selected(
  clients: PlatformClients,
  scanner: TopicScanner,
  config: GrantstreamConfig,
  topic: string,
  filter: DeadLetterFilter,
): AsyncGenerator<{ entry: DeadLetterEntry; message: ReadMessage }> {
  const from = await startsFor(clients, topic, filter);
  for await (const message of scanner.scan(topic, { ...config.audit, ...(from ? { from } : {}) })) {
    const entry = describeDeadLetter(message);
    if (matchesDeadLetter(entry, filter)) yield { entry, message };
  }
}

/** Positions of `deadLetterTopic` some earlier redrive sent back, from the REDRIVEN audit events. */
async function redrivenPositions(
  clients: PlatformClients,
  config: GrantstreamConfig,
  auditTopic: string,
  deadLetterTopic: string,
): Promise<Set<string>> {
  const positions = new Set<string>();
  const scanner = new TopicScanner(clients.kafka);
  try {
    await scanAudit(
      clients,
      scanner,
      auditTopic,
      config.audit,
      ({ event }) => {
        if (
          event?.action === 'REDRIVEN' &&
          event.stage === GRANTCTL_STAGE &&
          event.source?.topic === deadLetterTopic
        ) {
          const { partition, offset } = event.source;
          positions.add(positionKey({ partition, offset: String(offset) }));
        }
      },
      // An undecodable audit record is for `grantctl audit verify` to report.
      () => undefined,
    );
  } finally {
    await scanner.close();
  }
  return positions;
}

function row(e: DeadLetterEntry): string {
  const source = e.source ? `${e.source.topic}[${e.source.partition}]@${e.source.offset}` : '?';
  const reason = (e.reason ?? '').replace(/\s+/g, ' ');
  return [
    e.position.padEnd(9),
    (e.failedAt ?? '?').padEnd(24),
    (e.stage ?? '?').padEnd(14),
    `${e.category ?? '?'}/${e.code ?? '?'}`.padEnd(44),
    e.grantId.padEnd(18),
    source.padEnd(34),
    String(e.attempts ?? '?').padStart(8),
    String(e.redriveCount).padStart(8),
    reason.length > REASON_COLUMN_CHARS ? `${reason.slice(0, REASON_COLUMN_CHARS)}…` : reason,
  ].join('  ');
}

const HEADER_ROW = [
  'POSITION'.padEnd(9),
  'FAILED AT'.padEnd(24),
  'STAGE'.padEnd(14),
  'CATEGORY/CODE'.padEnd(44),
  'GRANT'.padEnd(18),
  'SOURCE'.padEnd(34),
  'ATTEMPTS'.padStart(8),
  'REDRIVES'.padStart(8),
  'REASON',
].join('  ');

/** JSON with bigints and bytes made printable. */
function printable(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
        return `<${(v as { data: number[] }).data.length} bytes>`;
      }
      return v;
    },
    2,
  );
}

/** Exit code of a dead letter whose stored value does not match its SHA-256 (as audit verify's findings). */
const EXIT_VALUE_MISMATCH = 4;

/** A dead letter's original value, and where it came from. */
interface OriginalValue {
  value: Buffer | null;
  /** `store`: read back from the dead-letter store and checked against its SHA-256. */
  from: 'message' | 'store';
  /** Why the stored value could not be had (missing, not kept, hash mismatch). */
  error?: string;
}

/**
 * The original value of a dead letter: the one it carries, or, for a dead
 * letter too large for the broker, the bytes its reference names in the
 * dead-letter store, verified against the SHA-256 in its headers.
 */
async function originalValue(
  store: () => ContentAddressedFileStore,
  entry: DeadLetterEntry,
  message: ReadMessage,
): Promise<OriginalValue> {
  if (!entry.valueRef) return { value: message.value, from: 'message' };
  const { uri, sha256 } = entry.valueRef;
  if (uri === null || sha256 === null)
    return { value: null, from: 'store', error: 'not kept (the dead-letter store failed)' };
  try {
    return { value: await store().readVerified(uri, sha256), from: 'store' };
  } catch (err) {
    return { value: null, from: 'store', error: (err as Error).message };
  }
}

/** A header value as text when it is UTF-8, else as hex. */
function headerText(v: Buffer): string {
  const s = v.toString('utf8');
  return Buffer.from(s, 'utf8').equals(v) ? s : `0x${v.toString('hex')}`;
}

/** `grantctl dlq list|show|redrive`: inspect dead letters and send them back once fixed. */
export function registerDlqCommands(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Dead letters: list and inspect them, redrive them once their cause is fixed');

  withSelectOptions(
    dlq.command('list').description('one line per dead letter, filtered, and counts by cause'),
  )
    .option('--json', 'one JSON object per dead letter')
    .action(async (opts: SelectOptions & { json?: boolean }, cmd: Command) => {
      const { config, log } = commandContext(cmd);
      const topic = opts.topic ?? config.runner.deadLetterTopic;
      const clients = createPlatformClients(config, log);
      const scanner = new TopicScanner(clients.kafka);
      const entries: DeadLetterEntry[] = [];
      try {
        if (!opts.json) process.stdout.write(`${HEADER_ROW}\n`);
        for await (const { entry } of selected(
          clients,
          scanner,
          config,
          topic,
          filterOf(opts, []),
        )) {
          entries.push(entry);
          process.stdout.write(opts.json ? `${JSON.stringify(entry)}\n` : `${row(entry)}\n`);
        }
        const summary = summarize(entries);
        const lines = [
          `${entries.length} dead letter(s) in ${topic}`,
          ...summary.map(([cause, n]) => `  ${String(n).padStart(6)}  ${cause}`),
        ];
        (opts.json ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
      } finally {
        await scanner.close();
        await clients.close();
      }
    });

  dlq
    .command('show')
    .description('one dead letter in full: every header and the decoded value')
    .argument(
      '<position>',
      'partition:offset in the dead-letter topic (as list prints it)',
      position,
    )
    .option('--topic <name>', 'dead-letter topic (default: runner.deadLetterTopic)')
    .option('--json', 'print as one JSON object')
    .action(async (at: string, opts: { topic?: string; json?: boolean }, cmd: Command) => {
      const { config, log } = commandContext(cmd);
      const topic = opts.topic ?? config.runner.deadLetterTopic;
      const clients = createPlatformClients(config, log);
      const scanner = new TopicScanner(clients.kafka);
      try {
        let found: { entry: DeadLetterEntry; message: ReadMessage } | null = null;
        for await (const hit of selected(clients, scanner, config, topic, {
          positions: new Set([at]),
        })) {
          found = hit;
          break;
        }
        if (!found) {
          process.stderr.write(`grantctl: no dead letter at ${at} in ${topic}\n`);
          process.exitCode = 1;
          return;
        }
        const { entry, message } = found;
        const headers = Object.fromEntries(
          Object.entries(message.headers).flatMap(([k, v]) => (v ? [[k, headerText(v)]] : [])),
        );
        const original = await originalValue(
          () => new ContentAddressedFileStore(config.runner.deadLetterStore.dir),
          entry,
          message,
        );
        if (original.error) process.exitCode = EXIT_VALUE_MISMATCH;
        const bytes = original.value;
        let value: unknown = null;
        let schemaId: number | null = null;
        let undecodable: string | null = null;
        if (bytes !== null) {
          try {
            const decoded = await clients.serde.decode(bytes);
            value = decoded.value;
            schemaId = decoded.schemaId;
          } catch (err) {
            undecodable = (err as Error).message;
          }
        }
        if (opts.json) {
          process.stdout.write(
            `${printable({ entry, headers, valueFrom: original.from, valueError: original.error, schemaId, value, undecodable, valueHex: undecodable && bytes ? bytes.subarray(0, 64).toString('hex') : undefined })}\n`,
          );
          return;
        }
        const out = [
          `dead letter ${topic} ${entry.position} (written ${new Date(Number(message.timestamp)).toISOString()})`,
          `  grant      ${entry.grantId}${entry.auditTrailId ? ` (trail ${entry.auditTrailId})` : ''}`,
          `  stage      ${entry.stage ?? '?'} (${entry.service ?? '?'}), failed at ${entry.failedAt ?? '?'} after ${entry.attempts ?? '?'} attempt(s)`,
          `  cause      ${entry.category ?? '?'} / ${entry.code ?? '?'}`,
          `  reason     ${entry.reason ?? '?'}`,
          `  source     ${entry.source ? `${entry.source.topic}[${entry.source.partition}]@${entry.source.offset}` : 'unknown'}`,
          `  redriven   ${entry.redriveCount} time(s) before`,
          `  key        ${entry.key ?? '(none)'}`,
          '  headers',
          ...Object.entries(headers).map(([k, v]) => `    ${k}: ${v}`),
          ...(entry.valueRef
            ? [
                `  reference  ${entry.valueRef.uri ?? '(none: the store failed)'} (sha256 ${entry.valueRef.sha256 ?? '?'}, ${entry.valueBytes ?? '?'} bytes): ${original.error ? `NOT VERIFIED: ${original.error}` : 'read back, SHA-256 verified'}`,
              ]
            : []),
          ...(entry.omitted.length > 0 ? [`  omitted    ${entry.omitted.join(', ')}`] : []),
          bytes === null
            ? original.error
              ? '  value      unavailable'
              : '  value      (tombstone)'
            : undecodable
              ? `  value      ${bytes.length} bytes, not decodable (${undecodable}); first bytes 0x${bytes.subarray(0, 64).toString('hex')}`
              : `  value      schema id ${schemaId}, ${bytes.length} bytes\n${printable(value)
                  .split('\n')
                  .map((l) => `    ${l}`)
                  .join('\n')}`,
        ];
        process.stdout.write(`${out.join('\n')}\n`);
      } finally {
        await scanner.close();
        await clients.close();
      }
    });

  withSelectOptions(
    dlq
      .command('redrive')
      .description(
        'send dead letters back to the topic they failed on, once each, with a REDRIVEN audit event in the same transaction',
      )
      .argument(
        '[positions...]',
        'partition:offset of each dead letter (or select with the filters)',
      ),
  )
    .option('--all', 'redrive every dead letter of the topic (no filter given)')
    .option('--force', 'also redrive categories the configuration refuses (dlq.refuseCategories)')
    .option('--audit-topic <name>', 'audit topic', TOPICS.AUDIT)
    .option('--operator <name>', 'who redrives, recorded on the audit events', userInfo().username)
    .option('--dry-run', 'say what would be redriven, send nothing')
    .option('--json', 'print the report as JSON')
    .action(
      async (
        positions: string[],
        opts: SelectOptions & {
          all?: boolean;
          force?: boolean;
          auditTopic: string;
          operator: string;
          dryRun?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const { config, log } = commandContext(cmd);
        const topic = opts.topic ?? config.runner.deadLetterTopic;
        const filter = filterOf(opts, positions);
        if (selectsEverything(filter) && !opts.all) {
          process.stderr.write(
            'grantctl: name dead letters (partition:offset) or a filter, or pass --all to redrive every one\n',
          );
          process.exitCode = 2;
          return;
        }
        const clients = createPlatformClients(config, log);
        const scanner = new TopicScanner(clients.kafka);
        let deadLetterStore: ContentAddressedFileStore | null = null;
        const store = () =>
          (deadLetterStore ??= new ContentAddressedFileStore(config.runner.deadLetterStore.dir));
        const started = Date.now();
        let outcome: RedriveReport;
        try {
          async function* messages() {
            for await (const { message } of selected(clients, scanner, config, topic, filter)) {
              yield message;
            }
          }
          outcome = await redriveDeadLetters(messages(), {
            deadLetterTopic: topic,
            refuseCategories: config.dlq.refuseCategories,
            force: Boolean(opts.force),
            alreadyRedriven: await redrivenPositions(clients, config, opts.auditTopic, topic),
            operator: opts.operator,
            service: GRANTCTL_SERVICE,
            now: Date.now,
            auditTopic: opts.auditTopic,
            transactionalId: config.dlq.redriveTransactionalId,
            batchSize: config.dlq.redriveBatchSize,
            dryRun: Boolean(opts.dryRun),
            writer: {
              produceAtomically: (id, batches, options) =>
                clients.io.produceAtomically(id, batches, options),
              encode: (t, value) => clients.serde.encode(t, value),
            },
            // A dead letter too large for the broker names its value by reference:
            // resend the stored bytes, and only when they match their SHA-256.
            readStored: ({ uri, sha256 }) => store().readVerified(uri, sha256),
          });
        } finally {
          await scanner.close();
          await clients.close();
        }
        if (outcome.skipped.some((s) => s.unreadable)) process.exitCode = EXIT_VALUE_MISMATCH;
        const redriven = outcome.redriven.map((r) => ({
          position: r.entry.position,
          grantId: r.entry.grantId,
          to: r.toTopic,
          redriveCount: r.redriveCount,
        }));
        const skipped = outcome.skipped.map((s) => ({
          position: s.entry.position,
          grantId: s.entry.grantId,
          reason: s.reason,
        }));
        const report = {
          topic,
          dryRun: Boolean(opts.dryRun),
          redriven,
          skipped,
          durationMs: Date.now() - started,
        };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const verb = opts.dryRun ? 'would redrive' : 'redriven';
        const lines = [
          ...redriven.map(
            (r) =>
              `${verb.padEnd(13)} ${r.position.padEnd(9)} ${r.grantId} -> ${r.to} (redrive ${r.redriveCount})`,
          ),
          ...skipped.map(
            (s) => `${'skipped'.padEnd(13)} ${s.position.padEnd(9)} ${s.grantId}: ${s.reason}`,
          ),
          `${redriven.length} ${verb}, ${skipped.length} skipped, ${report.durationMs} ms${opts.dryRun ? ' (dry run: nothing sent)' : ''}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );
}
