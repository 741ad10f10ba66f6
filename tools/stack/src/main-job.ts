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
  followToFinal,
  runScopedGroups,
  scanAuditTrails,
  stopStages,
  type Destination,
  type GrantOutcome,
  type StageProcess,
} from '@grantstream/harness';
import { MetricsSampler } from './metrics-sampler';
import { loadLocalServices, metricsUrlOf, startLocalServices } from './local-services';
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

/** Sample names the report keeps: the pipeline's own families and the process's memory. */
const REPORTED_METRIC =
  /^(grantstream_|process_resident_memory_bytes$|nodejs_heap_size_used_bytes$)/;

/** The stage services of the whole pipeline, in flow order. */
const PIPELINE_SERVICES = [
  'ingest',
  'normalization',
  'routing',
  'submission',
  'status-polling',
  'notification',
] as const;

/** A grant's last word in the pipeline, as the per-funder summary counts it. */
type FinalCount = 'accepted' | 'rejected' | 'blocked' | 'deadLettered' | 'duplicate';

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
 * start the funder simulator and every stage service, submit the batch with
 * `grantctl submit`, follow every application to its final status (the
 * agency's tracking number, a portal rejection, a compliance block or a dead
 * letter), verify each audit trail, compare the routing decisions with what
 * the fixtures expect, and print a summary per funder.
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
  let stages: StageProcess[] = [];
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

    say('4/6 funder simulator and stage services');
    const local = loadLocalServices();
    const sampler = new MetricsSampler({
      endpoints: Object.fromEntries(
        PIPELINE_SERVICES.map((stage) => [stage, metricsUrlOf(local, stage)]),
      ),
      intervalMs: config.stack.metricsSampleIntervalMs,
      // A page waits at most lagProbeTimeoutMs for the lag; the rest is local.
      timeoutMs: config.runner.lagProbeTimeoutMs * 2,
    });
    // The run's services start at the topics' current ends, in groups of their
    // own: a backlog that tests or benchmarks left behind never delays the batch.
    const groups = await runScopedGroups(clients, runTag, PIPELINE_SERVICES);
    stages = await startLocalServices(local, PIPELINE_SERVICES, {
      logDir: runDir,
      readyTimeoutMs: config.stack.readyTimeoutMs,
      env: { ...groups, GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([runDir]) },
    });
    for (const s of stages) say(`    ${s.name} (pid ${s.child.pid}), logs ${s.logFile}`);

    const outcomeFrom = await clients.io.endOffsets(Object.values(OUTCOME_TOPICS));
    const finalFrom = await clients.io.endOffsets([TOPICS.STATUS, TOPICS.DLQ]);
    const auditFrom = await clients.io.endOffsets([TOPICS.AUDIT]);
    say(`5/6 grantctl submit ${batchFile}`);
    const submitStarted = Date.now();
    sampler.start();
    runScript(['tools/grantctl/src/main.ts', 'submit', batchFile, '--attachments-base', runDir]);
    const submittedAt = new Map([...expected.keys()].map((id) => [id, submitStarted]));

    say(
      '6/6 following every application to a final status: filed and decided by the agency, rejected, blocked or dead-lettered',
    );
    const bar =
      process.stdout.isTTY && !opts.json
        ? new SingleBar({
            format:
              '    {bar} {value}/{total} final | {routed} routed, {blocked} blocked, {filed} with a portal answer | {duration}s',
          })
        : null;
    bar?.start(expected.size, 0, { routed: 0, blocked: 0, filed: 0 });
    let stoppedEarly = 0;
    const outcomes = await collectOutcomes(clients, outcomeFrom, new Set(expected.keys()), {
      timeoutMs: opts.timeoutMs,
      settleMs: 1000,
      scan: config.audit,
      producedAt: submittedAt,
      onProgress: (n) => bar?.update(0, { routed: n, blocked: 0, filed: 0 }),
    });
    const routedIds = new Set(
      [...outcomes.outcomes].filter(([, o]) => o.destination === 'routed').map(([id]) => id),
    );
    stoppedEarly = outcomes.outcomes.size - routedIds.size;
    bar?.update(stoppedEarly, {
      routed: routedIds.size,
      blocked: [...outcomes.outcomes.values()].filter((o) => o.destination === 'blocked').length,
      filed: 0,
    });
    const finals = await followToFinal(clients, finalFrom, routedIds, {
      timeoutMs: opts.timeoutMs,
      onProgress: (n) => bar?.update(stoppedEarly + n, { filed: n }),
    });
    bar?.stop();
    const sampled = await sampler.stop();
    const metrics = {
      scrapes: sampled.scrapes,
      failures: sampled.failures,
      peaks: Object.fromEntries(
        Object.entries(sampled.peaks)
          .filter(([name]) => REPORTED_METRIC.test(name))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    };
    const audit = await scanAuditTrails(
      clients,
      auditFrom,
      new Set(outcomes.outcomes.keys()),
      config.audit,
    );
    const notified = await countDeliveries(local.notification.webhook.url);

    const mismatches: string[] = [];
    const byFunder = new Map<
      string,
      Record<Destination | 'expected' | FinalCount | 'retries', number>
    >();
    const terminalMs = new Map<string, number[]>();
    for (const [id, want] of expected) {
      const got: GrantOutcome | undefined = outcomes.outcomes.get(id);
      const funder = funderPrefixOf(id);
      const row = byFunder.get(funder) ?? {
        expected: 0,
        routed: 0,
        blocked: 0,
        dlq: 0,
        accepted: 0,
        rejected: 0,
        deadLettered: 0,
        duplicate: 0,
        retries: 0,
      };
      row.expected += 1;
      if (got) {
        row[got.destination] += 1;
        if (got.destination === 'dlq') row.deadLettered += 1;
      }
      const final = finals.finals.get(id);
      if (final) {
        if (final.state === 'dead_letter') row.deadLettered += 1;
        else {
          row[final.state] += 1;
          const list = terminalMs.get(funder) ?? [];
          list.push(final.atMs - submitStarted);
          terminalMs.set(funder, list);
        }
      }
      row.retries += (audit.events.get(id) ?? []).filter((e) => e.action === 'RETRY').length;
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
    const allTerminal = [...terminalMs.values()].flat().sort((a, b) => a - b);
    const trailEvents = [...audit.events.values()].reduce((n, e) => n + e.length, 0);
    const ok =
      mismatches.length === 0 &&
      outcomes.missing.length === 0 &&
      outcomes.duplicates.length === 0 &&
      finals.missing.length === 0 &&
      audit.report.ok;
    const timeToTerminal = (list: readonly number[]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    };
    const summary = {
      runTag,
      ok,
      applications: expected.size,
      decided: outcomes.outcomes.size,
      missing: outcomes.missing,
      duplicates: outcomes.duplicates,
      unfinished: finals.missing,
      mismatches,
      byFunder: Object.fromEntries(
        [...byFunder].map(([funder, row]) => [
          funder,
          {
            ...row,
            submitted: row.routed,
            timeToTerminalMs: timeToTerminal(terminalMs.get(funder) ?? []),
          },
        ]),
      ),
      outcomes: Object.fromEntries(
        [...outcomes.outcomes].map(([id, o]) => [
          id,
          { ...o, defect: expected.get(id)?.defect ?? null, final: finals.finals.get(id) ?? null },
        ]),
      ),
      audit: {
        grants: audit.report.grants,
        events: trailEvents,
        ok: audit.report.ok,
        findings: audit.report.findings.slice(0, 20),
      },
      notificationsDelivered: notified,
      metrics,
      timeToTerminalMs: timeToTerminal(allTerminal),
      totalMs: Date.now() - started,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      say('');
      say(
        `summary: ${outcomes.outcomes.size}/${expected.size} decided by routing, ${finals.finals.size}/${routedIds.size} forwarded grants final, ${outcomes.missing.length + finals.missing.length} missing, ${outcomes.duplicates.length} duplicated, ${mismatches.length} unlike the fixtures`,
      );
      say(
        `    funder   submitted  accepted  rejected  blocked  dead-lettered  retries  to terminal p50/p99`,
      );
      for (const [funder, r] of [...byFunder].sort()) {
        const times = terminalMs.get(funder) ?? [];
        const t = timeToTerminal(times);
        const latency = times.length
          ? `${(t.p50 / 1000).toFixed(1)} s / ${(t.p99 / 1000).toFixed(1)} s`
          : 'n/a (none filed)';
        say(
          `    ${funder.padEnd(8)} ${String(r.routed).padStart(9)}  ${String(r.accepted).padStart(8)}  ${String(r.rejected).padStart(8)}  ${String(r.blocked).padStart(7)}  ${String(r.deadLettered).padStart(13)}  ${String(r.retries).padStart(7)}  ${latency}`,
        );
      }
      say(
        `    audit: ${audit.report.grants} trails, ${trailEvents} events, hash chains ${audit.report.ok ? 'verified' : `BROKEN (${audit.report.findings.length} findings)`}; ${notified} notifications delivered to the compliance officer's webhook`,
      );
      const peak = (name: string) => metrics.peaks[name] ?? 0;
      say(
        `    metrics: ${metrics.scrapes} scrapes of ${PIPELINE_SERVICES.length} services; peaks: consumer lag ${peak('grantstream_consumer_lag')}, paused partitions ${peak('grantstream_stage_paused_partitions')}, limiter queue ${peak('grantstream_funder_limiter_queued')}, busiest portal series ${peak('grantstream_funder_api_request_seconds_count')} calls, RSS ${Math.round(peak('process_resident_memory_bytes') / 1048576)} MB`,
      );
      say(
        `    time to a terminal status: p50 ${(summary.timeToTerminalMs.p50 / 1000).toFixed(1)} s, p99 ${(summary.timeToTerminalMs.p99 / 1000).toFixed(1)} s`,
      );
      for (const m of mismatches.slice(0, 20)) say(`    mismatch ${m}`);
      for (const id of finals.missing.slice(0, 20)) say(`    no final status for ${id}`);
      say(`    total ${summary.totalMs} ms; service logs in ${runDir}`);
    }
    return ok ? 0 : 1;
  } finally {
    await stopStages(stages, config.runner.shutdownGraceMs);
    await clients.close();
  }
}

/** Notifications the webhook sink stored, when the webhook is the simulator's sink; null otherwise. */
async function countDeliveries(webhookUrl: string): Promise<number | null> {
  try {
    const response = await fetch(webhookUrl);
    if (!response.ok) return null;
    const view = (await response.json()) as { received?: unknown[] };
    return Array.isArray(view.received) ? view.received.length : null;
  } catch {
    return null;
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
