import { join } from 'node:path';
import { Command } from 'commander';
import { loadGrantstreamConfigOrExit } from '@grantstream/config';
import { TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import { isPipelineError } from '@grantstream/errors';
import { TopicScanner, createPlatformClients } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import {
  OUTCOME_TOPICS,
  collectOutcomes,
  runScopedGroups,
  scanAuditTrails,
  stopStages,
  type StageProcess,
} from '@grantstream/harness';
import { exactTopicPattern } from '@grantstream/testing';
import { loadLocalServices, simulatorUrlOf, startLocalServices } from './local-services';
import { rereadReport, type RereadReport } from './reread-report';
import { openRunLog } from './run-log';
import { positiveInt } from './cli-options';
import { LocalStack } from './stack';

/** The stages a re-read passes through up to the funder portals. */
const DRILL_STAGES = ['ingest', 'normalization', 'routing', 'submission'] as const;

/**
 * The re-read drill: what a fresh deployment or an offset reset does to the
 * ingest topic's history. A consumer group that never read the topic reads it
 * from its first offset through ingest, normalization, routing and
 * submission (each downstream stage in a fresh group of its own, starting at
 * its input's end, so it sees only the drill's records). Every application
 * was read before, so the guarantee is: nothing reaches a funder portal, and
 * every application forwarded to submission is recorded as a duplicate that
 * links the trail it repeats. Status polling and notification are not run:
 * a duplicate gives them nothing to do. Exits 0 when the guarantee held, 1
 * when it did not, and prints the figures either way.
 */
async function main(argv: string[]): Promise<number> {
  const opts = new Command('reread-drill')
    .option('--topic <name>', 'ingest topic to re-read from its beginning', TOPICS.INGEST)
    .option('--timeout-ms <ms>', 'how long to wait for every decision', positiveInt, 300_000)
    .option('--poll-ms <ms>', 'how often to look for submission decisions', positiveInt, 1_000)
    .option('--json', 'print the report as JSON on stdout')
    .parse(argv)
    .opts<{ topic: string; timeoutMs: number; pollMs: number; json?: boolean }>();
  const config = loadGrantstreamConfigOrExit(process.env);
  const started = Date.now();
  const tag = `D${started.toString(36).toUpperCase()}`;
  const runDir = join(config.stack.stateDir, 'runs', tag);
  // The drill's own log and its Kafka clients' go beside the stages' logs, as the main job's do.
  const runLog = openRunLog(join(runDir, 'reread-drill.log'));
  const log = createLogger({
    service: 'reread-drill',
    level: config.logging.level,
    destination: runLog,
  });
  const say = (line: string) => {
    if (!opts.json) process.stdout.write(`${line}\n`);
  };
  say(`log ${runLog.path}`);
  await new LocalStack(config, log).up();
  const clients = createPlatformClients(config, log);
  let stages: StageProcess[] = [];
  try {
    const from = await clients.io.startOffsets([opts.topic]);
    const to = await clients.io.endOffsets([opts.topic]);
    const grantIds = new Set<string>();
    let reRead = 0;
    const scanner = new TopicScanner(clients.kafka);
    try {
      for await (const m of scanner.scan(opts.topic, config.audit)) {
        reRead += 1;
        if (m.key) grantIds.add(m.key.toString());
      }
    } finally {
      await scanner.close();
    }
    say(
      `re-reading ${reRead} records (${grantIds.size} grants) of ${opts.topic} from the beginning`,
    );

    const local = loadLocalServices();
    const downstream = await runScopedGroups(clients, tag, DRILL_STAGES.slice(1));
    const ingestGroup = `grantstream.ingest.${tag}`;
    await clients.admin.setGroupOffsets(ingestGroup, from);
    const outcomeFrom = await clients.io.endOffsets(Object.values(OUTCOME_TOPICS));
    const auditFrom = await clients.io.endOffsets([TOPICS.AUDIT]);
    stages = await startLocalServices(local, DRILL_STAGES, {
      logDir: runDir,
      readyTimeoutMs: config.stack.readyTimeoutMs,
      env: {
        ...downstream,
        GRANTSTREAM__INGEST__RUNNER__GROUP_ID: ingestGroup,
        GRANTSTREAM__INGEST__RUNNER__TRANSACTIONAL_ID_PREFIX: ingestGroup,
        GRANTSTREAM__INGEST__TOPIC_PATTERN: exactTopicPattern([opts.topic]),
        // Attachments of every earlier run are where their records point.
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([
          join(config.stack.stateDir, 'runs'),
        ]),
      },
    });
    say(`    ${stages.map((s) => `${s.name} (pid ${s.child.pid})`).join(', ')}; logs in ${runDir}`);

    const outcomes = await collectOutcomes(clients, outcomeFrom, grantIds, {
      timeoutMs: opts.timeoutMs,
      settleMs: opts.pollMs,
      scan: config.audit,
    });
    const forwarded = new Set(
      [...outcomes.outcomes].filter(([, o]) => o.destination === 'routed').map(([id]) => id),
    );
    const submissionEvents = await waitForSubmissionDecisions(
      clients,
      auditFrom,
      forwarded,
      config.audit,
      opts,
    );
    const report = rereadReport({
      reRead,
      outcomes: outcomes.outcomes,
      missing: outcomes.missing,
      submissionEvents,
      portalFilings: await portalFilings(simulatorUrlOf(local)),
    });
    if (opts.json)
      process.stdout.write(`${JSON.stringify({ tag, to: positionsOf(to), ...report })}\n`);
    else render(report, say, Date.now() - started);
    return report.ok ? 0 : 1;
  } finally {
    await stopStages(stages, config.runner.shutdownGraceMs);
    await clients.close();
  }
}

/**
 * Reads submission's audit events since `from` until every forwarded grant
 * has one (or the timeout passes), looking again every `pollMs`.
 */
async function waitForSubmissionDecisions(
  clients: ReturnType<typeof createPlatformClients>,
  from: Awaited<ReturnType<ReturnType<typeof createPlatformClients>['io']['endOffsets']>>,
  forwarded: ReadonlySet<string>,
  scan: Parameters<typeof scanAuditTrails>[3],
  opts: { timeoutMs: number; pollMs: number },
): Promise<Map<string, AuditEventV1[]>> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const { events } = await scanAuditTrails(clients, from, forwarded, scan);
    const bySubmission = new Map(
      [...events].map(([id, list]) => [id, list.filter((e) => e.stage === 'submission')] as const),
    );
    const decided = [...forwarded].filter((id) => (bySubmission.get(id)?.length ?? 0) > 0);
    if (decided.length === forwarded.size || Date.now() > deadline) return bySubmission;
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}

/** Submissions (POSTs) the simulator's portals received since it started. */
async function portalFilings(simulatorUrl: string): Promise<number> {
  const stats = (await (await fetch(`${simulatorUrl}/__sim/stats`)).json()) as {
    funders: Record<string, { postsPerKey: Record<string, number> }>;
  };
  return Object.values(stats.funders)
    .flatMap((f) => Object.values(f.postsPerKey))
    .reduce((a, b) => a + b, 0);
}

function positionsOf(positions: ReadonlyMap<string, ReadonlyMap<number, string>>) {
  return Object.fromEntries([...positions].map(([t, p]) => [t, Object.fromEntries(p)]));
}

function render(report: RereadReport, say: (line: string) => void, totalMs: number): void {
  say(
    `routing: ${report.outcomes.routed} forwarded, ${report.outcomes.blocked} blocked, ${report.outcomes.dlq} dead-lettered, ${report.missing.length} without an outcome`,
  );
  say(
    `submission: ${report.duplicates} recorded as duplicates of an earlier trail, ${report.notDuplicate.length} decided otherwise, ${report.undecided.length} undecided`,
  );
  say(`funder portals: ${report.portalFilings} filings received`);
  for (const n of report.notDuplicate.slice(0, 20)) say(`    ${n.grantId}: ${n.action}`);
  for (const id of report.undecided.slice(0, 20)) say(`    ${id}: no submission decision`);
  for (const id of report.missing.slice(0, 20)) say(`    ${id}: no routing outcome`);
  say(`${report.ok ? 'held' : 'BROKEN'}: re-read drill in ${totalMs} ms`);
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
