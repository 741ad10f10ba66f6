import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import {
  CSV_COLUMNS,
  ChainVerifier,
  buildEvidenceBundle,
  chainOrder,
  toCsvRow,
  toJsonLine,
  type AuditFilter,
} from '@grantstream/audit';
import { TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import { TopicScanner, createPlatformClients } from '@grantstream/kafka';
import { scanAudit, withProgress } from '../audit/audit-scan';
import { kafkaAuditSources } from '../audit/log-sources';
import { proveFromLog, type ProveOutcome } from '../audit/prove-from-log';
import { ReplaySpool } from '../audit/replay-spool';
import { verifyAudit, type AuditVerifyResult } from '../audit/verify-audit';
import { parseTime, positiveInt } from './arguments';
import {
  locationsOf,
  logCheckOptionsOf,
  readLimitsOf,
  withLogOptions,
  type LogCommandOptions,
} from './audit-log-options';
import {
  formatLogCheck,
  formatVerification,
  transparencyOf,
  writeProofFiles,
} from './audit-output';
import { commandContext } from './context';

/** Exit status of `audit verify` when any chain has a finding. */
export const AUDIT_FINDINGS_EXIT = 4;

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
          ({ event }) => {
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
            (record) => {
              const { key, event } = record;
              if (event ? event.grant_id !== opts.grant : !key.startsWith(prefix)) return;
              verifier.add(record);
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
