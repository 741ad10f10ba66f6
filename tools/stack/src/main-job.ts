import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { loadGrantstreamConfigOrExit } from '@grantstream/config';
import { PIPELINE_STAGES, TOPICS, TOPIC_DECLARATIONS } from '@grantstream/contracts';
import {
  applyDeclaredTopics,
  createPlatformClients,
  topicSpecsOf,
  CONSOLE_PRINCIPAL,
  UPSTREAM_PRINCIPAL,
  principalOf,
  type PlatformClients,
  type ScanOptions,
  type TopicPositions,
} from '@grantstream/kafka';
import { createLogger, type GrantLogger } from '@grantstream/logging';
import {
  OUTCOME_TOPICS,
  WORKSPACE_ROOT,
  collectOutcomes,
  followToFinal,
  runScopedGroups,
  scanAuditTrails,
  stopStages,
  type StageProcess,
} from '@grantstream/harness';
import { MetricsSampler } from './metrics-sampler';
import {
  loadLocalServices,
  metricsUrlOf,
  startLocalServices,
  startSideServices,
} from './local-services';
import { logEnds, waitForRunCheckpoint } from './checkpointer-catch-up';
import { buildMainJobReport, type ExpectedGrant } from './main-job-report';
import { renderMainJobSummary } from './main-job-summary';
import { openRunLog, type RunLog } from './run-log';
import { positiveInt, runTagOption } from './cli-options';
import { consoleSummaryLines, startLocalConsole } from './local-console';
import { LocalStack } from './stack';
import { isSecured, secureClientEnv } from './secure-files';

/**
 * The main job on the local embedded stack: start Kafka and the registry,
 * apply topics and schemas, generate the example batch (real PDF/XLSX
 * attachments, compliant and broken applications across three funders),
 * start the funder simulator, every stage service, the checkpointer and the
 * console (tools/stack/src/local-console.ts), submit the batch with
 * `grantctl submit`, follow every application to its final status (the
 * agency's tracking number, a portal rejection, a compliance block or a dead
 * letter), wait until a signed checkpoint covers every audit event of the
 * run, verify each audit trail, compare the routing decisions with what the
 * fixtures expect, and print a summary per funder.
 *
 * stdout carries the numbered steps, the progress bar and the summary (or,
 * with --json, the report alone). The job's own log, its Kafka clients' and
 * the output of the scripts it runs go to main-job.log in the run's
 * directory, beside the services' logs; an error that ends the job is
 * repeated on stderr in one line with that file's path. With --serve the
 * services and the console stay up after the summary until Ctrl-C.
 */
async function main(argv: string[]): Promise<number> {
  const opts = new Command('grantstream')
    .option('--timeout-ms <ms>', 'how long to wait for the batch to finish', positiveInt, 300_000)
    .option('--json', 'print the report as JSON on stdout')
    .option(
      '--secure',
      'each stage, and grantctl submit, as its own principal on a secured stack (GRANTSTREAM_CONFIG=config/secure.yaml)',
    )
    .option(
      '--run-tag <tag>',
      "the run's tag instead of one from the clock (upper-case letters and digits): two runs on two stacks with one tag submit the same grant ids, so their reports compare grant by grant",
      runTagOption,
    )
    .option(
      '--serve',
      'after the batch, keep the services and the console up (the stack stays up anyway) until Ctrl-C',
    )
    .option(
      '--console-users <file>',
      "the console's users file instead of the one in the stack's state dir; a file that does not exist is created with an operator whose one-time password the summary prints",
    )
    .parse(argv)
    .opts<{
      timeoutMs: number;
      json?: boolean;
      secure?: boolean;
      serve?: boolean;
      runTag?: string;
      consoleUsers?: string;
    }>();
  const config = loadGrantstreamConfigOrExit(process.env);
  if (opts.secure && !isSecured(config)) {
    process.stderr.write(
      '--secure needs a secured stack: GRANTSTREAM_CONFIG=config/secure.yaml (stack.kafka.security.mode: sasl_ssl)\n',
    );
    return 2;
  }
  const asPrincipal = (principal: string) =>
    opts.secure ? secureClientEnv(config, principal) : {};
  const started = Date.now();
  // The run's tag and directory depend only on the configuration and the
  // clock (or --run-tag), and the stack never clears its state dir, so both are fixed before
  // the stack starts: one log file holds the whole run, stack start (and a
  // first run's downloads) included, with nothing buffered or lost on a crash.
  const runTag = opts.runTag ?? `R${started.toString(36).toUpperCase()}`;
  const runDir = join(config.stack.stateDir, 'runs', runTag);
  const runLog = openRunLog(join(runDir, 'main-job.log'));
  const log = createLogger({
    service: 'main-job',
    level: config.logging.level,
    destination: runLog,
  });
  const say = (line: string) => {
    if (!opts.json) process.stdout.write(`${line}\n`);
  };
  const clients = createPlatformClients(config, log);
  let stages: StageProcess[] = [];
  try {
    say('1/6 local stack: Apache Kafka (KRaft) + Apicurio Registry + Redis on loopback');
    say(`    log ${runLog.path}`);
    const actions = await new LocalStack(config, log, process.env).up();
    say(
      `    kafka ${actions.kafka}, registry ${actions.registry}, redis ${actions.redis} (${Date.now() - started} ms)`,
    );

    say('2/6 topics and schemas from schemas/topics.yaml');
    const topics = await applyDeclaredTopics(
      clients,
      config,
      topicSpecsOf(TOPIC_DECLARATIONS),
      false,
    );
    say(
      `    ${topics.created.length} created, ${topics.inSync.length} in sync, ${topics.drift.length} drift, ${topics.schemas.length} value schemas registered`,
    );

    say(`3/6 example batch with attachments in ${runDir}`);
    const { batchFile, expected } = prepareBatch(runDir, runTag, runLog, log);
    say(`    ${expected.size} applications`);

    say('4/6 funder simulator and stage services');
    const local = loadLocalServices();
    const sampler = new MetricsSampler({
      endpoints: Object.fromEntries(
        PIPELINE_STAGES.map((stage) => [stage, metricsUrlOf(local, stage)]),
      ),
      intervalMs: config.stack.metricsSampleIntervalMs,
      // A page waits at most lagProbeTimeoutMs for the lag; the rest is local.
      timeoutMs: config.runner.lagProbeTimeoutMs * 2,
    });
    // The run's services start at the topics' current ends, in groups of their
    // own: a backlog that tests or benchmarks left behind never delays the batch.
    const groups = await runScopedGroups(clients, runTag, PIPELINE_STAGES);
    stages = await startLocalServices(local, PIPELINE_STAGES, {
      logDir: runDir,
      readyTimeoutMs: config.stack.readyTimeoutMs,
      env: { ...groups, GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([runDir]) },
      envOf: (stage) => asPrincipal(principalOf(stage)),
    });
    // The checkpointer logs the whole audit topic under the stack's key (never a
    // run-scoped group: the log is one history), as its own principal when secured.
    const side = await startSideServices(local, {
      logDir: runDir,
      readyTimeoutMs: config.stack.readyTimeoutMs,
      env: {
        GRANTSTREAM__CHECKPOINTER__EVERY_MS: String(config.stack.mainJobCheckpointEveryMs),
      },
      envOf: (service) => asPrincipal(principalOf(service)),
    });
    stages.push(...side);
    // The console reads the topics, and redrives, as its own principal when secured.
    const localConsole = await startLocalConsole(config.stack.stateDir, {
      logDir: runDir,
      readyTimeoutMs: config.stack.readyTimeoutMs,
      env: asPrincipal(CONSOLE_PRINCIPAL),
      usersFile: opts.consoleUsers,
    });
    stages.push(localConsole.process);
    for (const s of stages) say(`    ${s.name} (pid ${s.child.pid}), logs ${s.logFile}`);
    const checkpointer = side.find((s) => s.name === 'checkpointer');

    const from = {
      outcomes: await clients.io.endOffsets(Object.values(OUTCOME_TOPICS)),
      finals: await clients.io.endOffsets([TOPICS.STATUS, TOPICS.DLQ]),
      audit: await clients.io.endOffsets([TOPICS.AUDIT]),
      log: await logEnds(clients, local.checkpointer),
    };
    say(`5/6 grantctl submit ${batchFile}`);
    const submittedAtMs = Date.now();
    sampler.start();
    runScript(
      ['tools/grantctl/src/main.ts', 'submit', batchFile, '--attachments-base', runDir],
      runLog,
      log,
      asPrincipal(UPSTREAM_PRINCIPAL),
    );

    say(
      '6/6 following every application to a final status: filed and decided by the agency, rejected, blocked or dead-lettered',
    );
    const { routing, finals } = await followBatch(clients, from, expected, {
      timeoutMs: opts.timeoutMs,
      scan: config.audit,
      submittedAtMs,
      bar: process.stdout.isTTY && !opts.json,
    });
    const metrics = await sampler.stop();
    const batchDoneMs = Date.now();
    const checkpoint = checkpointer
      ? await waitForRunCheckpoint(clients, local.checkpointer, {
          grants: new Set(expected.keys()),
          auditFrom: from.audit,
          logFrom: from.log,
          scan: config.audit,
          timeoutMs: config.stack.readyTimeoutMs,
          pollMs: config.stack.mainJobCheckpointEveryMs,
          exited: () =>
            checkpointer.child.exitCode === null
              ? null
              : `exit code ${checkpointer.child.exitCode}, log ${checkpointer.logFile}`,
        })
      : null;
    if (checkpoint)
      log.info({ checkpoint, afterBatchMs: Date.now() - batchDoneMs }, 'run checkpointed');
    const audit = await scanAuditTrails(
      clients,
      from.audit,
      new Set(routing.outcomes.keys()),
      config.audit,
    );
    const report = buildMainJobReport({
      runTag,
      expected,
      routing,
      finals,
      audit,
      notificationsDelivered: await countDeliveries(local.notification.webhook.url),
      metrics,
      timings: { startedAtMs: started, submittedAtMs, finishedAtMs: Date.now() },
      checkpoint,
    });
    log.info({ ok: report.ok, totalMs: report.totalMs }, 'main job finished');
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      for (const line of consoleSummaryLines(localConsole)) process.stderr.write(`${line}\n`);
      if (!report.ok) process.stderr.write(`main job: the report is not ok; log ${runLog.path}\n`);
    } else {
      const context = {
        runDir,
        services: PIPELINE_STAGES.length,
        auditFindings: audit.report.findings.length,
      };
      for (const line of renderMainJobSummary(report, context)) say(line);
      for (const line of consoleSummaryLines(localConsole)) say(line);
    }
    if (opts.serve) {
      say('serving: the services and the console stay up until Ctrl-C');
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
    }
    return report.ok ? 0 : 1;
  } catch (err) {
    log.error({ err }, 'main job failed');
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`main job failed: ${message.split('\n')[0]}\n    log ${runLog.path}\n`);
    return 1;
  } finally {
    await stopStages(stages, config.runner.shutdownGraceMs);
    await clients.close();
  }
}

/**
 * Runs a workspace script synchronously, its stdout and stderr appended to
 * the run's log; a failure names the script, how it ended and that log.
 */
function runScript(
  args: readonly string[],
  runLog: RunLog,
  log: GrantLogger,
  env: Record<string, string> = {},
): void {
  log.info({ script: args.join(' ') }, 'script starting; its output follows');
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', runLog.fd, runLog.fd],
  });
  if (r.status !== 0) {
    const how = r.error
      ? r.error.message
      : r.signal
        ? `signal ${r.signal}`
        : `exit code ${r.status}`;
    throw new Error(
      `${args.slice(0, 2).join(' ')} failed (${how}); its output is in ${runLog.path}`,
    );
  }
}

/**
 * Generates the example batch in `runDir` and gives every grant id the run's
 * tag, so every run starts fresh audit trails. Returns the batch to submit
 * and the fixtures' expectation per tagged grant id, in the batch's order.
 */
function prepareBatch(
  runDir: string,
  runTag: string,
  runLog: RunLog,
  log: GrantLogger,
): { batchFile: string; expected: Map<string, ExpectedGrant> } {
  runScript(
    ['examples/src/main.ts', '--out', runDir, '--now', new Date().toISOString()],
    runLog,
    log,
  );
  const tagged = readFileSync(join(runDir, 'applications.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const app = JSON.parse(l) as { grant_id: string };
      return JSON.stringify({ ...app, grant_id: `${app.grant_id}-${runTag}` });
    });
  const batchFile = join(runDir, 'batch.jsonl');
  writeFileSync(batchFile, `${tagged.join('\n')}\n`);
  const fixtures = JSON.parse(readFileSync(join(runDir, 'expected-outcomes.json'), 'utf8')) as {
    grants: Record<string, ExpectedGrant>;
  };
  const expected = new Map(
    Object.entries(fixtures.grants).map(([id, e]) => [`${id}-${runTag}`, e]),
  );
  return { batchFile, expected };
}

/**
 * Follows the batch to a routing outcome per grant, then the forwarded ones
 * to a final state, with a progress bar on a terminal: grants blocked or
 * dead-lettered by routing count as final at once.
 */
async function followBatch(
  clients: PlatformClients,
  from: { outcomes: TopicPositions; finals: TopicPositions },
  expected: ReadonlyMap<string, ExpectedGrant>,
  options: { timeoutMs: number; scan: ScanOptions; submittedAtMs: number; bar: boolean },
) {
  const bar = options.bar
    ? new SingleBar({
        format:
          '    {bar} {value}/{total} final | {routed} routed, {blocked} blocked, {filed} with a portal answer | {duration}s',
      })
    : null;
  bar?.start(expected.size, 0, { routed: 0, blocked: 0, filed: 0 });
  const routing = await collectOutcomes(clients, from.outcomes, new Set(expected.keys()), {
    timeoutMs: options.timeoutMs,
    settleMs: 1000,
    scan: options.scan,
    producedAt: new Map([...expected.keys()].map((id) => [id, options.submittedAtMs])),
    onProgress: (n) => bar?.update(0, { routed: n, blocked: 0, filed: 0 }),
  });
  const routedIds = new Set(
    [...routing.outcomes].filter(([, o]) => o.destination === 'routed').map(([id]) => id),
  );
  const stoppedEarly = routing.outcomes.size - routedIds.size;
  bar?.update(stoppedEarly, {
    routed: routedIds.size,
    blocked: [...routing.outcomes.values()].filter((o) => o.destination === 'blocked').length,
    filed: 0,
  });
  const finals = await followToFinal(clients, from.finals, routedIds, {
    timeoutMs: options.timeoutMs,
    onProgress: (n) => bar?.update(stoppedEarly + n, { filed: n }),
  });
  bar?.stop();
  return { routing, finals };
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
    // Only what fails before the run's log is open ends here.
    process.stderr.write(`main job failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
