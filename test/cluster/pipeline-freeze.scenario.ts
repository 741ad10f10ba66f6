// Guarantee: an audit event and the output it describes commit together or
// not at all, through a broker freeze. The whole pipeline as the main job runs
// it (ingest, normalization, routing, submission, status polling against the
// funder simulator, notification) carries a fresh batch of example
// applications on the three-node cluster; once status polling has committed
// its first status change of the batch, the node coordinating status
// polling's consumer group is frozen (SIGSTOP) for 40 s and then thawed. Five
// runs. After each, read_committed and without a consumer group: every audit
// event of the batch has its output (the record carrying its hash as the
// audit head, of the same grant; a STATUS_CHANGED's on grants.status.v1) or
// is followed in its own transaction by the next event of the same input,
// every output's head names a committed event, no two events of a grant claim
// the same predecessor (no fork), nothing is written twice, and every
// application reaches the destination its fixture names and, when forwarded,
// a final status.
//
// The frozen node is the group coordinator of status polling: that is where
// the field's commit failed ("not the correct coordinator"), and freezing it
// stalls the stage's transactional offset commits mid-transaction while its
// audit events and status records are already written, forcing the
// coordinator (and the partitions that node leads) to fail over under it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import { AUDIT_HEAD_HEADER } from '@grantstream/audit';
import {
  AuditEventV1Avro,
  PIPELINE_STAGES,
  TOPICS,
  TOPIC_DECLARATIONS,
  serviceDeclaration,
  type AuditEventV1,
} from '@grantstream/contracts';
import {
  OUTCOME_TOPICS,
  collectOutcomes,
  followToFinal,
  runScopedGroups,
  scanAuditTrails,
  startStages,
  stopStages,
  type Destination,
  type StageProcess,
} from '@grantstream/harness';
import {
  TopicScanner,
  applyDeclaredTopics,
  topicSpecsOf,
  type PlatformClients,
  type TopicPositions,
} from '@grantstream/kafka';
import { ClusterFaults, ENTRY, runTs, testClients, testLogger } from '@grantstream/testing';
import { CLUSTER_ENV, clusterConfig } from './support/cluster';

const RUNS = 5;
/** The fault the capability names: a broker frozen this long, mid-batch. */
const FREEZE_MS = 40_000;
/** Per run: forwarded grants of each funder (a different slice each run), and a few that stop early. */
const ROUTED_PER_FUNDER: Readonly<Record<string, number>> = { NSF: 5, BCF: 4, SCDA: 3 };
const STOPPED_EARLY = { blocked: 2, dlq: 2 } as const;

/** Topics the stages write their outputs to (the audit topic, its log and state changelogs aside). */
const OUTPUT_TOPICS: readonly string[] = Object.values(TOPICS).filter(
  (t) =>
    !(
      [
        TOPICS.INGEST,
        TOPICS.AUDIT,
        TOPICS.AUDIT_LOG_ORDER,
        TOPICS.AUDIT_CHECKPOINTS,
        TOPICS.SUBMISSION_CONTENT_STATE,
      ] as string[]
    ).includes(t),
);
/**
 * Topics on which each record is the output of the event its head names:
 * a second record with the same grant and head is a duplicate. (A retry
 * tier or the poll schedule may carry a head on unchanged, without an event.)
 */
const DECISION_TOPICS: readonly string[] = [
  TOPICS.VALIDATED,
  TOPICS.NORMALIZED,
  TOPICS.ROUTED,
  TOPICS.COMPLIANCE_BLOCKED,
  TOPICS.STATUS,
  TOPICS.DLQ,
];

interface Expected {
  destination: Destination;
  defect: string | null;
}

interface RunFigures {
  run: number;
  grants: number;
  events: number;
  outputs: number;
  eventsWithoutOutput: string[];
  outputsWithoutEvent: string[];
  statusChangedWithoutStatus: string[];
  forks: string[];
  duplicates: string[];
  losses: string[];
  misrouted: string[];
  findings: string[];
  frozenNode: number;
  finalAfterFreeze: number;
  /** Submission to the freeze, the freeze, thaw to every grant final, the reads that pair them. */
  phasesMs: { toFreeze: number; frozen: number; toFinal: number; check: number };
  durationMs: number;
}

/**
 * What the stages need of the simulator, as the main job hands it to them:
 * its address, and its fake tokens as the secrets the funders' config names.
 */
const simulatorSchema = z.object({
  simulator: z.object({
    host: z.string(),
    port: z.number(),
    funders: z.record(z.string(), z.object({ token: z.string() })),
  }),
  funders: z.record(z.string(), z.object({ tokenSecret: z.string() })),
});
/** Where each stage answers its readiness probe (its section's metrics endpoint). */
const endpointSchema = z.object({ metrics: z.object({ host: z.string(), port: z.number() }) });
const stageEndpointsSchema = z.record(z.string(), z.unknown()).transform((sections) =>
  PIPELINE_STAGES.map((stage) => {
    const declared = serviceDeclaration(stage);
    const { host, port } = endpointSchema.parse(sections[declared.configSection]).metrics;
    return { stage, url: `http://${host}:${port}${declared.probe}` };
  }),
);

const auditType = Type.forSchema(AuditEventV1Avro, { logicalTypes: {} });

const waitMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the full pipeline through a 40 s broker freeze', () => {
  const config = clusterConfig();
  const faults = new ClusterFaults(config, CLUSTER_ENV);
  const wait = config.stack.readyTimeoutMs;
  const tag = `FRZ${Date.now().toString(36).toUpperCase()}`;
  const dir = join(config.stack.stateDir, 'runs', tag);
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  let statusGroup = '';
  let applications: { grant_id: string }[] = [];
  let fixtures: Record<string, Expected> = {};
  const figures: RunFigures[] = [];

  beforeAll(async () => {
    // Whatever command this file runs (grantctl, the stages) acts on the cluster.
    process.env['GRANTSTREAM_CONFIG'] = CLUSTER_ENV['GRANTSTREAM_CONFIG'];
    clients = await testClients(config, testLogger().child({}, { level: 'fatal' }));
    await applyDeclaredTopics(clients, config, topicSpecsOf(TOPIC_DECLARATIONS), false);
    mkdirSync(dir, { recursive: true });
    const generated = await runTs(
      'examples/src/main.ts',
      ['--out', dir, '--now', new Date().toISOString()],
      { env: CLUSTER_ENV, timeoutMs: wait },
    );
    if (generated.code !== 0) throw new Error(`examples failed: ${generated.stderr}`);
    applications = readFileSync(join(dir, 'applications.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { grant_id: string });
    fixtures = (
      JSON.parse(readFileSync(join(dir, 'expected-outcomes.json'), 'utf8')) as {
        grants: Record<string, Expected>;
      }
    ).grants;
    // The stages run through all five runs, as a deployment does, in groups of their own.
    const groups = await runScopedGroups(clients, tag, PIPELINE_STAGES);
    statusGroup = groups['GRANTSTREAM__STATUS_POLLING__RUNNER__GROUP_ID'] ?? '';
    const local = loadConfig({
      schema: simulatorSchema,
      files: [DEFAULT_CONFIG_FILE],
      env: process.env,
    });
    const tokens: Record<string, string> = {};
    for (const [funder, f] of Object.entries(local.funders)) {
      const sim = local.simulator.funders[funder];
      if (sim) tokens[f.tokenSecret] = sim.token;
    }
    stages = startStages(['funder-simulator'], { logDir: dir, env: CLUSTER_ENV });
    const simulator = stages[0];
    await answering(
      `http://${local.simulator.host}:${local.simulator.port}/__sim/stats`,
      () => simulator?.child.exitCode !== null,
    );
    const started = startStages(PIPELINE_STAGES, {
      logDir: dir,
      env: {
        ...tokens,
        ...CLUSTER_ENV,
        ...groups,
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
      },
    });
    stages.push(...started);
    // Every stage ready before the first run: a run's time is the pipeline's, not its start.
    const endpoints = loadConfig({
      schema: stageEndpointsSchema,
      files: [DEFAULT_CONFIG_FILE],
      env: process.env,
    });
    for (const { stage, url } of endpoints) {
      const p = started.find((s) => s.name === stage);
      await answering(url, () => p?.child.exitCode !== null);
    }
  });

  /** Resolves once `url` answers 2xx; fails when `gone()` says its process exited, or after the ready timeout. */
  async function answering(url: string, gone: () => boolean): Promise<void> {
    const deadline = Date.now() + wait;
    for (;;) {
      if (
        await fetch(url).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      if (gone() || Date.now() > deadline) throw new Error(`${url} never answered`);
      await waitMs(config.stack.faults.pollMs);
    }
  }

  afterAll(async () => {
    await stopStages(stages, config.runner.shutdownGraceMs);
    await clients?.close().catch(() => undefined);
    process.stdout.write(`${JSON.stringify({ scenario: 'pipeline-freeze', runs: figures })}\n`);
  });

  /** Run `n`'s batch: a slice of each funder's forwarded applications and a few that stop early. */
  function batchOf(n: number): { lines: string[]; expected: Map<string, Expected> } {
    const runTag = `${tag}${n}`;
    const picked: { grant_id: string }[] = [];
    for (const [funder, count] of Object.entries(ROUTED_PER_FUNDER)) {
      const routed = applications.filter(
        (a) =>
          a.grant_id.startsWith(`${funder}-`) &&
          fixtures[a.grant_id]?.destination === 'routed' &&
          fixtures[a.grant_id]?.defect === null,
      );
      for (let i = 0; i < count; i += 1) {
        const a = routed[(n * count + i) % routed.length];
        if (a) picked.push(a);
      }
    }
    for (const [destination, count] of Object.entries(STOPPED_EARLY)) {
      const early = applications.filter((a) => fixtures[a.grant_id]?.destination === destination);
      for (let i = 0; i < count; i += 1) {
        const a = early[(n * count + i) % early.length];
        if (a) picked.push(a);
      }
    }
    const expected = new Map<string, Expected>();
    const lines = picked.map((a) => {
      const id = `${a.grant_id}-${runTag}`;
      expected.set(id, fixtures[a.grant_id] as Expected);
      return JSON.stringify({ ...a, grant_id: id });
    });
    return { lines, expected };
  }

  /** Resolves once status polling has committed a status change of one of `grants`. */
  async function firstStatusChange(from: TopicPositions, grants: ReadonlySet<string>) {
    const seen = await clients.io.follow(
      new Map([[TOPICS.AUDIT, from.get(TOPICS.AUDIT) ?? new Map<number, string>()]]),
      (m) => {
        const key = m.key?.toString() ?? '';
        if (!grants.has(key.slice(0, key.lastIndexOf(':'))) || !m.value) return false;
        return decodeAudit(m.value)?.action === 'STATUS_CHANGED';
      },
      wait,
    );
    if (!seen) throw new Error('status polling committed no status change of the batch');
  }

  /** Our own Confluent-framed AuditEvent, decoded without a registry round trip. */
  function decodeAudit(value: Buffer): AuditEventV1 | null {
    try {
      return auditType.fromBuffer(value.subarray(5)) as AuditEventV1;
    } catch {
      return null;
    }
  }

  it(
    'pairs every audit event with its output, with no fork, duplicate or loss, in each of 5 runs',
    { timeout: RUNS * (FREEZE_MS + wait) },
    async () => {
      for (let n = 1; n <= RUNS; n += 1) {
        const started = Date.now();
        const { lines, expected } = batchOf(n);
        const grants = new Set(expected.keys());
        const batchFile = join(dir, `batch-${n}.jsonl`);
        writeFileSync(batchFile, `${lines.join('\n')}\n`);
        const from = {
          outcomes: await clients.io.endOffsets(Object.values(OUTCOME_TOPICS)),
          finals: await clients.io.endOffsets([TOPICS.STATUS, TOPICS.DLQ]),
          audit: await clients.io.endOffsets([TOPICS.AUDIT]),
          outputs: await clients.io.endOffsets(OUTPUT_TOPICS),
        };
        const submit = await runTs(
          ENTRY.grantctl,
          ['submit', batchFile, '--attachments-base', dir],
          { env: CLUSTER_ENV, timeoutMs: wait },
        );
        expect(submit.code, submit.stderr.slice(-2000)).toBe(0);

        // Mid-batch: status polling has committed a change, other grants are on their way.
        await firstStatusChange(from.audit, grants);
        const node = await faults.find({ role: 'groupCoordinator', groupId: statusGroup });
        const frozenAt = Date.now();
        await faults.signal(node, 'SIGSTOP');
        try {
          await waitMs(FREEZE_MS);
        } finally {
          faults.thaw(node);
        }
        const thawedAt = Date.now();
        // The next run's freeze must not take a second replica out of any ISR.
        await faults.waitInSync(node);

        const routing = await collectOutcomes(clients, from.outcomes, grants, {
          timeoutMs: wait,
          settleMs: config.audit.maxWaitMs,
          scan: config.audit,
        });
        const routed = new Set(
          [...routing.outcomes].filter(([, o]) => o.destination === 'routed').map(([id]) => id),
        );
        const finals = await followToFinal(clients, from.finals, routed, { timeoutMs: wait });
        const finalAt = Date.now();
        const r = await pairing(n, grants, from.audit, from.outputs);
        const figure: RunFigures = {
          ...r,
          losses: [...routing.missing, ...finals.missing],
          misrouted: [...routing.outcomes]
            .filter(([id, o]) => expected.get(id)?.destination !== o.destination)
            .map(([id, o]) => `${id}: ${o.destination}, expected ${expected.get(id)?.destination}`),
          duplicates: [...r.duplicates, ...routing.duplicates.map((g) => `outcome ${g}`)],
          frozenNode: node,
          finalAfterFreeze: [...finals.finals.values()].filter((f) => f.atMs > frozenAt).length,
          phasesMs: {
            toFreeze: frozenAt - started,
            frozen: thawedAt - frozenAt,
            toFinal: finalAt - thawedAt,
            check: Date.now() - finalAt,
          },
          durationMs: Date.now() - started,
        };
        figures.push(figure);
        process.stdout.write(
          `${JSON.stringify({
            run: n,
            grants: figure.grants,
            events: figure.events,
            outputs: figure.outputs,
            forks: figure.forks.length,
            duplicates: figure.duplicates.length,
            losses: figure.losses.length,
            orphans: figure.eventsWithoutOutput.length + figure.outputsWithoutEvent.length,
            frozenNode: node,
            finalAfterFreeze: figure.finalAfterFreeze,
            phasesMs: figure.phasesMs,
            durationMs: figure.durationMs,
          })}\n`,
        );
        expect(figure.eventsWithoutOutput, `run ${n}`).toEqual([]);
        expect(figure.outputsWithoutEvent, `run ${n}`).toEqual([]);
        expect(figure.statusChangedWithoutStatus, `run ${n}`).toEqual([]);
        expect(figure.forks, `run ${n}`).toEqual([]);
        expect(figure.duplicates, `run ${n}`).toEqual([]);
        expect(figure.losses, `run ${n}`).toEqual([]);
        expect(figure.misrouted, `run ${n}`).toEqual([]);
        expect(figure.findings, `run ${n}`).toEqual([]);
        // The batch spanned the freeze: grants reached their final status after it began.
        expect(figure.finalAfterFreeze, `run ${n}`).toBeGreaterThan(0);
        expect(figure.events, `run ${n}`).toBeGreaterThan(grants.size);
      }
    },
  );

  /**
   * Reads the batch's audit events and every output of its grants since the
   * run began, read_committed and group-less, and pairs them.
   */
  async function pairing(
    run: number,
    grants: ReadonlySet<string>,
    auditFrom: TopicPositions,
    outputsFrom: TopicPositions,
  ): Promise<
    Omit<
      RunFigures,
      'losses' | 'misrouted' | 'frozenNode' | 'finalAfterFreeze' | 'phasesMs' | 'durationMs'
    >
  > {
    const audit = await scanAuditTrails(clients, auditFrom, grants, config.audit);
    const events = [...audit.events.values()].flat();
    const outputs: { topic: string; grant: string; head: string; at: string }[] = [];
    const scanner = new TopicScanner(clients.kafka);
    try {
      for (const topic of OUTPUT_TOPICS) {
        for await (const m of scanner.scan(topic, {
          ...config.audit,
          from: outputsFrom.get(topic),
        })) {
          const grant = m.key?.toString() ?? '';
          if (!grants.has(grant)) continue;
          outputs.push({
            topic,
            grant,
            head: m.headers[AUDIT_HEAD_HEADER]?.toString() ?? '',
            at: `${topic}[${m.partition}]@${m.offset}`,
          });
        }
      }
    } finally {
      await scanner.close();
    }
    // NOTIFIED annotates the event that caused a webhook call: no output, and not the trail's head.
    const chained = events.filter((e) => e.action !== 'NOTIFIED');
    const byHash = new Map(chained.map((e) => [e.event_hash, e]));
    const sourceOf = (e: AuditEventV1) =>
      `${e.stage}|${e.source?.topic}|${e.source?.partition}|${e.source?.offset}`;
    const outputsOf = new Map<string, typeof outputs>();
    for (const o of outputs) {
      const list = outputsOf.get(o.head) ?? [];
      list.push(o);
      outputsOf.set(o.head, list);
    }
    const eventsWithoutOutput = chained
      .filter((e) => {
        if ((outputsOf.get(e.event_hash) ?? []).some((o) => o.grant === e.grant_id)) return false;
        // An earlier attempt of the same input, followed in its transaction by the next event.
        return !chained.some(
          (next) => next.previous_event_hash === e.event_hash && sourceOf(next) === sourceOf(e),
        );
      })
      .map((e) => `${e.grant_id} ${e.action} ${e.event_id}`);
    const outputsWithoutEvent = outputs
      .filter((o) => byHash.get(o.head)?.grant_id !== o.grant)
      .map((o) => `${o.grant} ${o.at} head ${o.head || '(none)'}`);
    const statusChangedWithoutStatus = chained
      .filter(
        (e) =>
          e.action === 'STATUS_CHANGED' &&
          !(outputsOf.get(e.event_hash) ?? []).some((o) => o.topic === TOPICS.STATUS),
      )
      .map((e) => `${e.grant_id} ${e.event_id}`);
    const count = <T>(items: readonly T[], keyOf: (t: T) => string) => {
      const n = new Map<string, number>();
      for (const i of items) n.set(keyOf(i), (n.get(keyOf(i)) ?? 0) + 1);
      return [...n].filter(([, c]) => c > 1).map(([k, c]) => `${k} x${c}`);
    };
    // Distinct events (by hash) claiming one predecessor: a copy of the same event is a duplicate.
    const forks = count(
      [...new Map(chained.map((e) => [e.event_hash, e])).values()],
      (e) => `${e.grant_id} ${e.audit_trail_id} after ${e.previous_event_hash}`,
    );
    const duplicates = [
      ...count(events, (e) => `event ${e.event_id}`),
      ...count(
        events.filter((e) => e.action === 'NOTIFIED'),
        (e) => `notified ${e.grant_id} ${e.details['notification_id'] ?? e.event_id}`,
      ),
      ...count(
        outputs.filter((o) => DECISION_TOPICS.includes(o.topic)),
        (o) => `output ${o.topic} ${o.grant} ${o.head}`,
      ),
    ];
    return {
      run,
      grants: grants.size,
      events: events.length,
      outputs: outputs.length,
      eventsWithoutOutput,
      outputsWithoutEvent,
      statusChangedWithoutStatus,
      forks,
      duplicates,
      findings: audit.report.findings.map((f) => `${f.kind} ${f.key ?? ''} ${f.message}`),
    };
  }
});
