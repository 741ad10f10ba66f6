import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { loadGrantstreamConfigOrExit } from '@grantstream/config';
import { TOPICS, TOPIC_DECLARATIONS, funderPrefixOf } from '@grantstream/contracts';
import { isPipelineError } from '@grantstream/errors';
import { applyDeclaredTopics, createPlatformClients, topicSpecsOf } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import {
  OUTCOME_TOPICS,
  WORKSPACE_ROOT,
  collectOutcomes,
  startStages,
  stopStages,
  verifyAuditTrails,
  type Destination,
  type GrantOutcome,
} from '@grantstream/harness';
import { LocalStack } from './stack';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** What examples/expected-outcomes.json says about one grant. */
interface ExpectedGrant {
  destination: Destination;
  category?: string;
  codes: string[];
  defect: string | null;
}

/** Audit events a grant's trail has once it reached its destination. */
const EVENTS_PER_DESTINATION: Readonly<Record<Destination, number>> = {
  routed: 3, // VALIDATED, NORMALIZED, FORWARD
  blocked: 3, // VALIDATED, NORMALIZED, REJECT
  dlq: 1, // DEAD_LETTER at ingest
};

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

/** Runs a workspace script synchronously, its output passed through to stderr. */
function runScript(args: readonly string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: WORKSPACE_ROOT,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}`);
}

/**
 * The main job on the local embedded stack: start Kafka and the registry,
 * apply topics and schemas, generate the example batch (real PDF/XLSX
 * attachments, compliant and broken applications across three funders),
 * start the ingest, normalization and routing services, submit the batch with
 * `grantctl submit`, follow every application to routed, blocked or dead
 * letter, verify each audit trail, and compare with what the fixtures expect.
 */
async function main(argv: string[]): Promise<number> {
  const opts = new Command('grantstream')
    .option('--timeout-ms <ms>', 'how long to wait for the batch to finish', positiveInt, 300_000)
    .option('--json', 'print the report as JSON on stdout')
    .parse(argv)
    .opts<{ timeoutMs: number; json?: boolean }>();
  const config = loadGrantstreamConfigOrExit(process.env);
  const log = createLogger({
    service: 'main-job',
    level: config.logging.level,
    destination: process.stderr,
  });
  // stdout is what a person (or --json, a program) reads; logs go to stderr.
  const say = (line: string) => {
    if (!opts.json) process.stdout.write(`${line}\n`);
  };
  const started = Date.now();

  say('1/6 local stack: Apache Kafka (KRaft) + Apicurio Registry + Redis on loopback');
  const actions = await new LocalStack(config, log).up();
  say(
    `    kafka ${actions.kafka}, registry ${actions.registry}, redis ${actions.redis} (${Date.now() - started} ms)`,
  );

  const clients = createPlatformClients(config, log);
  const runTag = `R${Date.now().toString(36).toUpperCase()}`;
  const runDir = join(config.stack.stateDir, 'runs', runTag);
  mkdirSync(runDir, { recursive: true });
  let stages: ReturnType<typeof startStages> = [];
  try {
    say('2/6 topics and schemas from schemas/topics.yaml');
    const report = await applyDeclaredTopics(
      clients,
      config,
      topicSpecsOf(TOPIC_DECLARATIONS),
      false,
    );
    say(
      `    ${report.created.length} created, ${report.inSync.length} in sync, ${report.drift.length} drift, ${report.schemas.length} value schemas registered`,
    );

    say(`3/6 example batch with attachments in ${runDir}`);
    runScript(['examples/src/main.ts', '--out', runDir, '--now', new Date().toISOString()]);
    // Grant ids get the run's tag so every run starts fresh audit trails.
    const lines = readFileSync(join(runDir, 'applications.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const tagged = lines.map((l) => {
      const app = JSON.parse(l) as { grant_id: string };
      return JSON.stringify({ ...app, grant_id: `${app.grant_id}-${runTag}` });
    });
    const batchFile = join(runDir, 'batch.jsonl');
    writeFileSync(batchFile, `${tagged.join('\n')}\n`);
    const expectedFile = JSON.parse(
      readFileSync(join(runDir, 'expected-outcomes.json'), 'utf8'),
    ) as { grants: Record<string, ExpectedGrant> };
    const expected = new Map(
      Object.entries(expectedFile.grants).map(([id, e]) => [`${id}-${runTag}`, e]),
    );
    say(`    ${expected.size} applications`);

    say('4/6 stage services: ingest, normalization, routing');
    stages = startStages(['ingest', 'normalization', 'routing'], {
      logDir: runDir,
      env: {
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([runDir]),
      },
    });
    for (const s of stages) say(`    ${s.name} (pid ${s.child.pid}), logs ${s.logFile}`);

    const outcomeFrom = await clients.io.endOffsets(Object.values(OUTCOME_TOPICS));
    const auditFrom = await clients.io.endOffsets([TOPICS.AUDIT]);
    say(`5/6 grantctl submit ${batchFile}`);
    const submitStarted = Date.now();
    runScript(['tools/grantctl/src/main.ts', 'submit', batchFile, '--attachments-base', runDir]);
    const submittedAt = new Map([...expected.keys()].map((id) => [id, submitStarted]));

    say('6/6 following every application to routed, blocked or dead letter');
    const bar =
      process.stdout.isTTY && !opts.json
        ? new SingleBar({
            format: '    {bar} {value}/{total} applications decided | {duration}s',
          })
        : null;
    bar?.start(expected.size, 0);
    const outcomes = await collectOutcomes(clients, outcomeFrom, new Set(expected.keys()), {
      timeoutMs: opts.timeoutMs,
      settleMs: 1000,
      scan: config.audit,
      producedAt: submittedAt,
      onProgress: (n) => bar?.update(n),
    });
    bar?.stop();
    const audit = await verifyAuditTrails(
      clients,
      auditFrom,
      new Set(outcomes.outcomes.keys()),
      (id) => EVENTS_PER_DESTINATION[outcomes.outcomes.get(id)?.destination ?? 'dlq'],
      opts.timeoutMs,
    );

    const mismatches: string[] = [];
    const byFunder = new Map<string, Record<Destination | 'expected', number>>();
    const latencies: number[] = [];
    for (const [id, want] of expected) {
      const got: GrantOutcome | undefined = outcomes.outcomes.get(id);
      const funder = funderPrefixOf(id);
      const row = byFunder.get(funder) ?? { routed: 0, blocked: 0, dlq: 0, expected: 0 };
      row.expected += 1;
      if (got) {
        row[got.destination] += 1;
        if (got.latencyMs !== null) latencies.push(got.latencyMs);
      }
      byFunder.set(funder, row);
      // A dead letter names one error code (the first problem's); a decision names every flag.
      const codesOk =
        want.destination === 'dlq'
          ? got?.codes[0] === want.codes[0]
          : want.codes.every((c) => got?.codes.includes(c));
      const categoryOk = want.category === undefined || got?.category === want.category;
      if (!got || got.destination !== want.destination || !codesOk || !categoryOk) {
        mismatches.push(
          `${id}: expected ${want.destination} ${want.codes.join(',')}, got ${got ? `${got.destination} ${got.codes.join(',')}` : 'nothing'}`,
        );
      }
    }
    latencies.sort((a, b) => a - b);
    const trailEvents = [...audit.events.values()].reduce((n, e) => n + e.length, 0);
    const ok =
      mismatches.length === 0 &&
      outcomes.missing.length === 0 &&
      outcomes.duplicates.length === 0 &&
      audit.report.ok;
    const summary = {
      runTag,
      ok,
      applications: expected.size,
      decided: outcomes.outcomes.size,
      missing: outcomes.missing,
      duplicates: outcomes.duplicates,
      mismatches,
      byFunder: Object.fromEntries(byFunder),
      outcomes: Object.fromEntries(
        [...outcomes.outcomes].map(([id, o]) => [
          id,
          { ...o, defect: expected.get(id)?.defect ?? null },
        ]),
      ),
      audit: {
        grants: audit.report.grants,
        events: trailEvents,
        ok: audit.report.ok,
        findings: audit.report.findings.slice(0, 20),
      },
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      totalMs: Date.now() - started,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      say('');
      say(
        `summary: ${outcomes.outcomes.size}/${expected.size} decided, ${outcomes.missing.length} missing, ${outcomes.duplicates.length} duplicated, ${mismatches.length} unlike the fixtures`,
      );
      say(`    funder   routed  blocked  dead-letter  (expected total)`);
      for (const [funder, r] of [...byFunder].sort()) {
        say(
          `    ${funder.padEnd(8)} ${String(r.routed).padStart(6)}  ${String(r.blocked).padStart(7)}  ${String(r.dlq).padStart(11)}  (${r.expected})`,
        );
      }
      say(
        `    audit: ${audit.report.grants} trails, ${trailEvents} events, hash chains ${audit.report.ok ? 'verified' : `BROKEN (${audit.report.findings.length} findings)`}`,
      );
      say(
        `    submit → decision latency: p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms`,
      );
      for (const m of mismatches.slice(0, 20)) say(`    mismatch ${m}`);
      say(`    total ${summary.totalMs} ms; stage logs in ${runDir}`);
    }
    return ok ? 0 : 1;
  } finally {
    await stopStages(stages, config.runner.shutdownGraceMs);
    await clients.close();
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${isPipelineError(err) ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  },
);
