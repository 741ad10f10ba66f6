import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { positiveInt } from './arguments';
import { TOPICS, funderPrefixOf } from '@grantstream/contracts';
import { SchemaViolationError } from '@grantstream/errors';
import { convertLine, formatLineProblem, type LineProblem } from '@grantstream/intake';
import {
  createPlatformClients,
  type AvroSerde,
  type PlatformClients,
  type TopicIO,
} from '@grantstream/kafka';
import { commandContext } from './context';
import { MessageSpool } from './submit-spool';

/** Exit status of `submit` when a line is invalid and --skip-invalid was not given (nothing sent). */
export const SUBMIT_INVALID_EXIT = 4;
/** Exit status of `submit` when producing failed part-way; the summary says where to resume. */
export const SUBMIT_SEND_FAILED_EXIT = 5;
/** Records per produce call unless --chunk-size says otherwise. */
export const DEFAULT_CHUNK_SIZE = 500;

/**
 * The input files of `submit`: a file as given, a directory as every `*.jsonl`
 * directly in it, sorted by name (so a batch split into parts is sent in order).
 */
export async function listInputFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new InvalidArgumentError(`no such file or directory: ${p}`);
    }
    if (s.isDirectory()) {
      const names = (await readdir(p, { withFileTypes: true }))
        .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
        .map((e) => e.name)
        .sort();
      if (names.length === 0) throw new InvalidArgumentError(`no *.jsonl file in ${p}`);
      files.push(...names.map((n) => join(p, n)));
    } else {
      files.push(p);
    }
  }
  return files;
}

interface InputLine {
  file: string;
  fileIndex: number;
  line: number;
  text: string;
}

/** Every non-blank line of the files, streamed (constant memory whatever the input size). */
async function* readLines(files: readonly string[]): AsyncGenerator<InputLine> {
  for (const [fileIndex, file] of files.entries()) {
    const stream = createReadStream(file);
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    let line = 0;
    try {
      for await (const raw of rl) {
        line += 1;
        const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (text.trim() === '') continue;
        yield { file, fileIndex, line, text };
      }
    } finally {
      // A consumer that stops early (a failed send) must not leave the file open.
      rl.close();
      stream.destroy();
    }
  }
}

/** What submit needs of the platform: the serde to encode, TopicIO to produce. */
export interface SubmitClients {
  serde: Pick<AvroSerde, 'encode'>;
  io: Pick<TopicIO, 'produce'>;
}

/** Options of {@link submitFiles}. */
export interface SubmitOptions {
  topic: string;
  /** Base of relative attachment URIs; default: the directory of each input file. */
  attachmentsBase?: string;
  /** Send the valid lines even when some are invalid. */
  skipInvalid?: boolean;
  /** Validate only; no clients are needed. */
  dryRun?: boolean;
  /** Records per produce call. */
  chunkSize?: number;
  /** audit_timestamp of lines without one (default: the time the run started). */
  now?: number;
  /** Called after each acknowledged chunk and once before the first, with the total to send. */
  onProgress?: (sent: number, total: number) => void;
  /** Where the spool of encoded records is made (default: the system's temporary directory). */
  spoolDir?: string;
}

/** Where sending stopped and how to go on. */
export interface SubmitFailure {
  message: string;
  /** Records the broker acknowledged before the failure. */
  acknowledged: number;
  /** The first line of the chunk that failed: nothing from here on is known to be written. */
  resumeFrom: { file: string; line: number };
}

/** Summary of a submit run (printed as text, or as JSON with --json). */
export interface SubmitSummary {
  topic: string;
  files: string[];
  /** Non-blank lines read. */
  linesRead: number;
  valid: number;
  invalid: number;
  sent: number;
  /** Records sent, by funder prefix of the grant id. */
  sentByFunder: Record<string, number>;
  /** Valid records by funder prefix (what would be sent). */
  validByFunder: Record<string, number>;
  problems: LineProblem[];
  dryRun: boolean;
  durationMs: number;
  failure: SubmitFailure | null;
}

/** The exit status a summary calls for. */
export function exitCodeOf(summary: SubmitSummary, skipInvalid: boolean): number {
  if (summary.failure) return SUBMIT_SEND_FAILED_EXIT;
  if (summary.invalid > 0 && !skipInvalid) return SUBMIT_INVALID_EXIT;
  return 0;
}

const increment = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * Reads every line of the input files once, in order: each line is converted
 * and validated (see {@link convertLine}; a grant id seen on an earlier line makes a
 * later line invalid) and, while the batch can still be sent, encoded as Avro
 * with our own ingest contract (under the id the registry holds for it,
 * whatever version another producer registered last) and spooled. When every
 * line has been checked, and unless a line is invalid and `skipInvalid` is
 * off, or `dryRun` is on, the spooled records are produced keyed by grant id,
 * `chunkSize` records per produce call, in input order. A record the writer's
 * schema refuses is reported like any invalid line, and then too nothing is
 * sent without `skipInvalid`.
 *
 * Why a spool: nothing may be sent before every line is known to be good
 * (one invalid line sends nothing, and the progress total is the count of
 * records to send), yet a batch may be larger than memory. The encoded
 * records wait in a private temporary file ({@link MessageSpool}) holding one
 * produce chunk in memory at a time, removed when the run ends, instead of
 * the input being read, converted and encoded again for a second and third
 * pass. No size limit is needed, the files are opened once, and a file
 * changed while it is submitted cannot make what is sent differ from what
 * was checked. What grows with the batch is only what the summary reports
 * (problems) and the grant ids seen, which duplicate detection needs.
 */
export async function submitFiles(
  files: readonly string[],
  options: SubmitOptions,
  clients: SubmitClients | null,
): Promise<SubmitSummary> {
  const started = Date.now();
  const now = options.now ?? started;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new InvalidArgumentError(`chunk size must be a positive integer, not ${chunkSize}`);
  }
  const dryRun = Boolean(options.dryRun);
  if (!dryRun && !clients) throw new Error('submitFiles needs clients unless dryRun is set');
  const baseOf = (file: string) => options.attachmentsBase ?? dirname(resolve(file));
  const summary: SubmitSummary = {
    topic: options.topic,
    files: [...files],
    linesRead: 0,
    valid: 0,
    invalid: 0,
    sent: 0,
    sentByFunder: {},
    validByFunder: {},
    problems: [],
    dryRun,
    durationMs: 0,
    failure: null,
  };
  const firstSeen = new Map<string, { file: string; line: number }>();
  // Lines the writer's schema refused count only if no other invalid line
  // blocks the batch: encoding stops at a blocking line, so refusals before
  // it would otherwise be reported or not depending on where it falls.
  const refused: (LineProblem & { grantId: string })[] = [];
  // A registry that cannot be reached ends the run before anything is sent,
  // but only if the batch could have been sent: a blocked batch still gets
  // its report of invalid lines.
  let encodeFailure: { error: unknown } | null = null;
  const blocked = () => summary.invalid > 0 && !options.skipInvalid;
  let spool: MessageSpool | null = null;

  try {
    for await (const input of readLines(files)) {
      summary.linesRead += 1;
      const result = convertLine(input.text, { attachmentsBase: baseOf(input.file), now });
      const report = (grantId: string | null, field: string, message: string) =>
        summary.problems.push({ file: input.file, line: input.line, grantId, field, message });
      if (!result.ok) {
        for (const p of result.problems) report(result.grantId, p.field, p.message);
        summary.invalid += 1;
        continue;
      }
      const earlier = firstSeen.get(result.grantId);
      if (earlier) {
        report(result.grantId, 'grant_id', `duplicate of ${earlier.file}:${earlier.line}`);
        summary.invalid += 1;
        continue;
      }
      firstSeen.set(result.grantId, { file: input.file, line: input.line });
      summary.valid += 1;
      increment(summary.validByFunder, funderPrefixOf(result.grantId));

      if (dryRun || !clients || blocked() || encodeFailure) continue;
      let value: Buffer;
      try {
        value = await clients.serde.encode(options.topic, result.record);
      } catch (err) {
        if (err instanceof SchemaViolationError) {
          refused.push({
            file: input.file,
            line: input.line,
            grantId: result.grantId,
            field: '(root)',
            message: err.message,
          });
        } else {
          encodeFailure = { error: err };
        }
        continue;
      }
      spool ??= await MessageSpool.create(options.spoolDir ?? tmpdir(), chunkSize);
      await spool.append({
        fileIndex: input.fileIndex,
        line: input.line,
        key: result.grantId,
        value,
      });
    }

    const finished = () => {
      summary.validByFunder = sortedKeys(summary.validByFunder);
      summary.durationMs = Date.now() - started;
      return summary;
    };
    if (dryRun || blocked() || summary.valid === 0 || !clients) return finished();
    if (encodeFailure) throw encodeFailure.error;

    countRefused(summary, refused);
    if (blocked() || summary.valid === 0 || !spool) return finished();

    await produceSpooled(spool, options, clients, summary);
    return finished();
  } finally {
    await spool?.dispose();
  }
}

/** Moves the lines the writer's schema refused from valid to invalid, their problems in line order. */
function countRefused(
  summary: SubmitSummary,
  refused: readonly (LineProblem & { grantId: string })[],
) {
  if (refused.length === 0) return;
  for (const p of refused) {
    summary.valid -= 1;
    summary.invalid += 1;
    const funder = funderPrefixOf(p.grantId);
    const left = (summary.validByFunder[funder] ?? 1) - 1;
    if (left > 0) summary.validByFunder[funder] = left;
    else delete summary.validByFunder[funder];
  }
  const order = new Map(summary.files.map((f, i) => [f, i]));
  summary.problems = [...summary.problems, ...refused].sort(
    (a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line,
  );
}

/**
 * Produces the spooled records, one produce call per spool block (the chunk),
 * counting what the broker acknowledged; on a failed call it records where to
 * resume (the chunk's first line: nothing from there on is known to be written)
 * and stops.
 */
async function produceSpooled(
  spool: MessageSpool,
  options: SubmitOptions,
  clients: SubmitClients,
  summary: SubmitSummary,
): Promise<void> {
  options.onProgress?.(0, summary.valid);
  for await (const chunk of spool.blocks()) {
    const first = chunk[0];
    if (!first) continue;
    try {
      await clients.io.produce(
        options.topic,
        chunk.map((m) => ({ key: m.key, value: m.value })),
      );
    } catch (err) {
      summary.failure = {
        message: (err as Error).message,
        acknowledged: summary.sent,
        resumeFrom: { file: summary.files[first.fileIndex] ?? '', line: first.line },
      };
      break;
    }
    summary.sent += chunk.length;
    for (const m of chunk) increment(summary.sentByFunder, funderPrefixOf(m.key));
    options.onProgress?.(summary.sent, summary.valid);
  }
  summary.sentByFunder = sortedKeys(summary.sentByFunder);
}

function sortedKeys(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const counts = (byFunder: Record<string, number>) =>
  Object.keys(byFunder)
    .sort()
    .map((f) => `${f} ${byFunder[f]}`)
    .join(', ') || 'none';

/** The summary for people. */
export function formatSubmitSummary(summary: SubmitSummary, skipInvalid: boolean): string {
  const lines = [
    `read ${summary.linesRead} line(s) from ${summary.files.length} file(s): ${summary.valid} valid, ${summary.invalid} invalid`,
  ];
  if (summary.dryRun) {
    lines.push(`dry run: nothing sent; valid by funder: ${counts(summary.validByFunder)}`);
  } else if (summary.invalid > 0 && !skipInvalid) {
    lines.push(
      `nothing sent: fix the invalid line(s) or rerun with --skip-invalid to send the ${summary.valid} valid one(s)`,
    );
  } else {
    lines.push(
      `sent ${summary.sent} record(s) to ${summary.topic}: ${counts(summary.sentByFunder)}`,
    );
  }
  if (summary.failure) {
    const { file, line } = summary.failure.resumeFrom;
    lines.push(
      `sending failed: ${summary.failure.message}`,
      `${summary.failure.acknowledged} record(s) were acknowledged; the chunk from ${file}:${line} may be written in part (its records carry the same keys if sent again)`,
      `resume from ${file}:${line}: e.g. tail -n +${line} ${file} > rest.jsonl, then submit rest.jsonl (and any later file) with --attachments-base ${dirname(resolve(file))}`,
    );
  }
  lines.push(`${summary.durationMs} ms`);
  return `${lines.join('\n')}\n`;
}

interface SubmitCommandOptions {
  topic: string;
  attachmentsBase?: string;
  skipInvalid?: boolean;
  dryRun?: boolean;
  json?: boolean;
  chunkSize: number;
}

/** `grantctl submit`: validate JSON-lines applications and produce them to the ingest topic as Avro. */
export function registerSubmitCommands(program: Command): void {
  program
    .command('submit')
    .description(
      `validate JSON-lines applications (a .jsonl file, or every *.jsonl in a directory) and produce them as Avro, keyed by grant id; sends nothing and exits ${SUBMIT_INVALID_EXIT} if any line is invalid`,
    )
    .argument('<path...>', '.jsonl files or directories of them')
    .option('--topic <name>', 'topic to produce to', TOPICS.INGEST)
    .option(
      '--attachments-base <dir>',
      'directory relative attachment URIs are resolved against (default: the directory of each file)',
    )
    .option('--skip-invalid', 'send the valid lines even if some are invalid')
    .option('--dry-run', 'validate only; connect to nothing')
    .option('--json', 'print the summary as JSON')
    .option('--chunk-size <n>', 'records per produce call', positiveInt, DEFAULT_CHUNK_SIZE)
    .action(async (paths: string[], opts: SubmitCommandOptions, cmd: Command) => {
      const files = await listInputFiles(paths);
      // A dry run connects to nothing, so it needs no configuration either.
      let clients: PlatformClients | null = null;
      if (!opts.dryRun) {
        const { config, log } = commandContext(cmd);
        clients = createPlatformClients(config, log);
      }
      const bar =
        process.stderr.isTTY && !opts.dryRun
          ? new SingleBar({ stream: process.stderr, etaBuffer: 1000 })
          : null;
      let summary: SubmitSummary;
      try {
        summary = await submitFiles(
          files,
          {
            topic: opts.topic,
            ...(opts.attachmentsBase ? { attachmentsBase: opts.attachmentsBase } : {}),
            skipInvalid: Boolean(opts.skipInvalid),
            dryRun: Boolean(opts.dryRun),
            chunkSize: opts.chunkSize,
            onProgress: (sent, total) => {
              if (!bar) return;
              if (sent === 0) bar.start(total, 0);
              else bar.update(sent);
            },
          },
          clients,
        );
      } finally {
        bar?.stop();
        await clients?.close();
      }
      for (const p of summary.problems) process.stderr.write(`${formatLineProblem(p)}\n`);
      const skipInvalid = Boolean(opts.skipInvalid);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ ...summary, problems: summary.problems.map((p) => ({ ...p, text: formatLineProblem(p) })) }, null, 2)}\n`
          : formatSubmitSummary(summary, skipInvalid),
      );
      const code = exitCodeOf(summary, skipInvalid);
      if (code !== 0) process.exitCode = code;
    });
}
