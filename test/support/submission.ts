import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Type, type schema } from 'avsc';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_HEAD_HEADER,
  buildAuditEvent,
  payloadHashOf,
} from '@grantstream/audit';
import {
  AuditEventV1Avro,
  GrantStatusV1Avro,
  SUBMISSION_RETRY_TIER_TOPICS,
  SubmissionContentStateV1Avro,
  TOPICS,
  TOPIC_DECLARATIONS,
  funderIdOf,
  serviceDeclaration,
  type AuditEventV1,
  type GrantStatusV1,
  type RoutedGrantV1,
} from '@grantstream/contracts';
import type { FunderClientConfig } from '@grantstream/funders';
import {
  startStages,
  stopStages,
  type StageProcess,
  type StageServiceName,
} from '@grantstream/harness';
import {
  TopicScanner,
  type PlatformClients,
  type ReadMessage,
  type TopicPositions,
} from '@grantstream/kafka';
import { DEFAULT_CONFIG_FILE } from '@grantstream/config';
import { exactTopicPattern, testConfig, uniqueName } from '@grantstream/testing';

/** The retry tier topics submission reads besides grants.routed.v1. */
export const RETRY_TIER_TOPICS = SUBMISSION_RETRY_TIER_TOPICS;

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** One funder's behaviour at the simulator (see services/funder-simulator/src/simulator.config.ts). */
export type SimFunder = Record<string, unknown>;

/** A well-behaved portal: fast, no failures, statuses that move every `statusDwellMs`. */
export function simFunder(overrides: SimFunder = {}): SimFunder {
  return {
    token: `tok-${Math.random().toString(36).slice(2)}`,
    rateLimitPerSecond: 1000,
    latencyMs: { min: 5, max: 20 },
    serverErrorRate: 0,
    timeoutRate: 0,
    timeoutDelayMs: 30_000,
    validationFailureRate: 0,
    statusDwellMs: 200,
    slowStatusRate: 0,
    slowStatusDwellMs: 0,
    statusRejectRate: 0,
    ...overrides,
  };
}

/** Counters of one funder at the simulator (`GET /__sim/stats`). */
export interface SimFunderStats {
  requests: number;
  created: number;
  rateLimited: number;
  serverErrors: number;
  timeouts: number;
  rejections: number;
  replays: number;
  maxConcurrent: number;
  submissionsPerKey: Record<string, number>;
  postsPerKey: Record<string, number>;
  statuses: Record<string, number>;
}

/**
 * A webhook receiver of the simulator (services/funder-simulator webhook-sink.ts):
 * the bodies it stored, once per Idempotency-Key, in arrival order; every POST
 * (refused and duplicate ones included); the POSTs whose key it already had.
 */
export interface HookView {
  received: unknown[];
  attempts: number;
  duplicates: number;
  down: boolean;
}

/** The URL the notification service posts to for the simulator's receiver `name`. */
export const hookUrlOf = (simulator: Pick<Simulator, 'url'>, name: string) =>
  `${simulator.url}/__sim/hooks/${name}`;

/** A running funder simulator process. */
export interface Simulator {
  url: string;
  process: StageProcess;
  funders: Record<string, SimFunder>;
  stats(funderId: string): Promise<SimFunderStats>;
  /** Changes a funder's behaviour at runtime (`PUT /__sim/funders/{id}`). */
  setFunder(funderId: string, patch: SimFunder): Promise<void>;
  /** Takes a webhook receiver down or brings it back. */
  setHookDown(name: string, down: boolean): Promise<void>;
  /** A webhook receiver's state (`GET /__sim/hooks/{name}`). */
  hook(name: string): Promise<HookView>;
}

/** Starts the simulator on a free port with exactly these funders; resolves once it answers. */
export async function startSimulator(
  funders: Record<string, SimFunder>,
  logDir: string,
): Promise<Simulator> {
  const port = await freePort();
  const [proc] = startStages(['funder-simulator'], {
    logDir,
    suffix: `-${port}`,
    env: {
      GRANTSTREAM__SIMULATOR__PORT: String(port),
      GRANTSTREAM__SIMULATOR__FUNDERS: JSON.stringify(funders),
    },
  });
  if (!proc) throw new Error('simulator did not start');
  const url = `http://127.0.0.1:${port}`;
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/__sim${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`);
    return response.json();
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await control('GET', '/stats');
      break;
    } catch (err) {
      if (proc.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`simulator did not come up (log ${proc.logFile}): ${String(err)}`);
      await sleep(200);
    }
  }
  return {
    url,
    process: proc,
    funders,
    stats: async (funderId) => {
      const all = (await control('GET', '/stats')) as { funders: Record<string, SimFunderStats> };
      const stats = all.funders[funderId];
      if (!stats) throw new Error(`the simulator has no funder ${funderId}`);
      return stats;
    },
    setFunder: async (funderId, patch) => {
      await control('PUT', `/funders/${funderId}`, patch);
    },
    setHookDown: async (name, down) => {
      await control('PUT', `/hooks/${name}`, { down });
    },
    hook: async (name) => (await control('GET', `/hooks/${name}`)) as HookView,
  };
}

/** Name of the environment variable holding a test funder's token. */
export const tokenSecretOf = (funderId: string) => `GRANTSTREAM_FUNDER_TOKEN_${funderId}`;

/** How the pipeline calls a simulated funder; override the limits a scenario is about. */
export function clientFor(
  funderId: string,
  simulator: Simulator,
  overrides: Partial<FunderClientConfig> = {},
): FunderClientConfig {
  return {
    baseUrl: `${simulator.url}/funders/${funderId}`,
    tokenSecret: tokenSecretOf(funderId),
    timeoutMs: 1000,
    ratePerSecond: 100,
    maxConcurrent: 20,
    retry: { maxAttempts: 8, initialBackoffMs: 500, maxBackoffMs: 900_000 },
    circuit: { consecutiveFailures: 5, halfOpenAfterMs: 3000 },
    status: { pollIntervalMs: 500, giveUpAfterMs: 600_000 },
    ...overrides,
  };
}

/** Tokens of the simulated funders, as the services read them. */
export function tokenEnv(simulator: Simulator): Record<string, string> {
  return Object.fromEntries(
    Object.entries(simulator.funders).map(([id, f]) => [tokenSecretOf(id), String(f['token'])]),
  );
}

/** Stage processes of one scenario, with the consumer group they share. */
export interface ServiceGroup {
  group: string;
  processes: StageProcess[];
  /** A submission group's own retry tier topics, shortest first (empty for other services). */
  retryTiers: string[];
  /** Where each process serves /metrics, in process order. */
  metricsUrls: string[];
  /** Starts process `index` again (after it was killed), same group and settings. */
  restart(index: number): StageProcess;
}

/**
 * Starts `replicas` processes of a stage service (submission, status-polling,
 * notification) in their own consumer group, whose offsets are first set to
 * the current ends of `inputs`: the scenario's services see only what the
 * scenario produces, never the history other scenarios left on the shared
 * topics. `env` adds configuration overrides (GRANTSTREAM__...). A submission
 * group gets a content-state changelog of its own unless `env` names one.
 * Submission and status-polling groups skip the records of funders missing from their
 * configuration (`unconfiguredFunders: skip`): they are other scenarios' records.
 */
export async function startServiceGroup(
  clients: PlatformClients,
  options: {
    service: Extract<StageServiceName, 'submission' | 'status-polling' | 'notification'>;
    inputs: readonly string[];
    replicas: number;
    logDir: string;
    env: Record<string, string>;
  },
): Promise<ServiceGroup> {
  const section = serviceDeclaration(options.service).envSection;
  const group = uniqueName(`test.${options.service}`);
  // Scenarios running at the same time share the topics: a submission or
  // status-polling group leaves a funder it was not given to the scenario that has it,
  // instead of dead-lettering that scenario's statuses and writing
  // DEAD_LETTER events into its trails. `env` can say otherwise.
  const scopeEnv: Record<string, string> =
    options.service === 'status-polling'
      ? { GRANTSTREAM__STATUS_POLLING__UNCONFIGURED_FUNDERS: 'skip' }
      : options.service === 'submission'
        ? { GRANTSTREAM__SUBMISSION__UNCONFIGURED_FUNDERS: 'skip' }
        : {};
  // Its own content state: grants another scenario (or an earlier run) filed
  // under the same ids are not duplicates here.
  if (
    options.service === 'submission' &&
    options.env['GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC'] === undefined
  )
    scopeEnv['GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC'] = await createContentStateTopic(
      clients,
      options.service,
    );
  // Its own retry tiers: the declared tiers are shared by every submission
  // group on the broker, so one scenario's group would take (and file, and
  // audit under the same event ids) another's retries.
  let retryTiers: string[] = [];
  if (
    options.service === 'submission' &&
    options.env['GRANTSTREAM__SUBMISSION__RETRY_TIERS'] === undefined
  ) {
    const tiers = await createRetryTierTopics(clients, group);
    retryTiers = tiers.map((t) => t.topic);
    scopeEnv['GRANTSTREAM__SUBMISSION__RETRY_TIERS'] = JSON.stringify(tiers);
    scopeEnv['GRANTSTREAM__SUBMISSION__RETRY_TOPIC_PATTERN'] = exactTopicPattern(retryTiers);
  }
  await clients.admin.setGroupOffsets(group, await clients.io.endOffsets(options.inputs));
  const processes: StageProcess[] = [];
  const metricsUrls: string[] = [];
  const envOf: Record<string, string>[] = [];
  const spawnOne = (index: number): StageProcess => {
    const [proc] = startStages([options.service], {
      logDir: options.logDir,
      suffix: `-${group}-${index}`,
      env: envOf[index] ?? {},
    });
    if (!proc) throw new Error(`${options.service} did not start`);
    processes[index] = proc;
    return proc;
  };
  for (let i = 0; i < options.replicas; i += 1) {
    const port = await freePort();
    metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
    envOf.push({
      ...scopeEnv,
      ...options.env,
      [`GRANTSTREAM__${section}__RUNNER__GROUP_ID`]: group,
      [`GRANTSTREAM__${section}__RUNNER__TRANSACTIONAL_ID_PREFIX`]: group,
      [`GRANTSTREAM__${section}__METRICS__PORT`]: String(port),
    });
    spawnOne(i);
  }
  return { group, processes, retryTiers, metricsUrls, restart: spawnOne };
}

/** The value of a metric sample with these labels (0 when absent), from a Prometheus text page. */
export async function scrapeMetric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(url)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** Where scenario logs go. */
export function scenarioLogDir(name: string): string {
  return join(
    process.env['HOME'] ?? '/tmp',
    '.cache/grantstream/stack/test-logs',
    uniqueName(name),
  );
}

/**
 * Produces routed grants as compliance routing would: each with an INGESTED
 * event on the audit topic as the genesis of its trail and that event's hash
 * as the message's audit head. Returns the genesis hash of each grant.
 */
export async function produceRouted(
  clients: PlatformClients,
  grants: readonly RoutedGrantV1[],
): Promise<Map<string, string>> {
  const heads = new Map<string, string>();
  const auditValues = [];
  for (const g of grants) {
    const { key, event } = buildAuditEvent(
      {
        grantId: g.grant_id,
        funderId: funderIdOf(g.grant_id),
        auditTrailId: g.audit_trail_id,
        stage: 'ingest',
        action: 'INGESTED',
        payloadHash: payloadHashOf(Buffer.from(g.grant_id)),
        service: { name: 'scenario', version: '0' },
        occurredAt: Date.now(),
        source: null,
        discriminator: g.grant_id,
      },
      AUDIT_GENESIS_HASH,
    );
    heads.set(g.grant_id, event.event_hash);
    auditValues.push({ key, value: await clients.serde.encode(TOPICS.AUDIT, event) });
  }
  await clients.io.produce(TOPICS.AUDIT, auditValues);
  const routed = await Promise.all(
    grants.map(async (g) => ({
      key: g.grant_id,
      value: await clients.serde.encode(TOPICS.ROUTED, g),
      headers: { [AUDIT_HEAD_HEADER]: heads.get(g.grant_id) ?? AUDIT_GENESIS_HASH },
    })),
  );
  for (let i = 0; i < routed.length; i += 200)
    await clients.io.produce(TOPICS.ROUTED, routed.slice(i, i + 200));
  return heads;
}

/** The grant a record is about: its key, or the grant part of an audit key (grant_id:event_id). */
function keyOf(m: ReadMessage): string {
  const key = m.key?.toString() ?? '';
  return key.includes(':') ? key.slice(0, key.lastIndexOf(':')) : key;
}

/**
 * Every committed record of `grantIds` on `topic` from its positions in
 * `from` up to the topic's end now, without a consumer group: what a scenario
 * reads once its services are quiet, to see everything they wrote and nothing
 * they might still write (unlike {@link collectRecords}, no waiting).
 */
export async function scanSince(
  clients: PlatformClients,
  from: TopicPositions,
  topic: string,
  grantIds: ReadonlySet<string>,
): Promise<ReadMessage[]> {
  const scanner = new TopicScanner(clients.kafka);
  const out: ReadMessage[] = [];
  try {
    for await (const m of scanner.scan(topic, { ...testConfig().audit, from: from.get(topic) })) {
      if (grantIds.has(keyOf(m))) out.push(m);
    }
  } finally {
    await scanner.close();
  }
  return out;
}

/** One decision of a grant's trail, after its INGESTED genesis (see {@link produceTrails}). */
export interface TrailStep {
  stage: string;
  action: AuditEventV1['action'];
  errorCategory?: string | null;
  severity?: 'HIGH' | 'MEDIUM' | null;
  details?: Record<string, string>;
}

/**
 * Writes each grant's audit trail as the stages before a scenario's service
 * would have left it: an INGESTED event from genesis, then `steps` in order,
 * each chained to the one before. Returns each grant's head (the last event's
 * hash), for the grantstream.audit.head header of the record that continues it.
 */
export async function produceTrails(
  clients: PlatformClients,
  trails: readonly {
    grantId: string;
    auditTrailId: string;
    steps: readonly TrailStep[];
  }[],
): Promise<Map<string, string>> {
  const heads = new Map<string, string>();
  const values = [];
  const at = Date.now();
  for (const t of trails) {
    let previous = AUDIT_GENESIS_HASH;
    const steps: TrailStep[] = [{ stage: 'ingest', action: 'INGESTED' }, ...t.steps];
    for (const [i, step] of steps.entries()) {
      const { key, event } = buildAuditEvent(
        {
          grantId: t.grantId,
          funderId: funderIdOf(t.grantId),
          auditTrailId: t.auditTrailId,
          stage: step.stage,
          action: step.action,
          errorCategory: step.errorCategory ?? null,
          severity: step.severity ?? null,
          payloadHash: payloadHashOf(Buffer.from(t.grantId)),
          service: { name: 'scenario', version: '0' },
          occurredAt: at + i,
          source: null,
          discriminator: `${t.grantId}#${i}`,
          ...(step.details ? { details: step.details } : {}),
        },
        previous,
      );
      previous = event.event_hash;
      values.push({ key, value: await clients.serde.encode(TOPICS.AUDIT, event) });
    }
    heads.set(t.grantId, previous);
  }
  for (let i = 0; i < values.length; i += 200)
    await clients.io.produce(TOPICS.AUDIT, values.slice(i, i + 200));
  return heads;
}

/**
 * Files a grant with a simulated funder as the submission stage would, one
 * Idempotency-Key on every try (a retry after a 5xx or 429 cannot file it
 * twice), and returns the portal's tracking number.
 */
export async function fileWithSimulator(
  simulator: Simulator,
  funderId: string,
  grantId: string,
  idempotencyKey: string,
): Promise<string> {
  const token = String(simulator.funders[funderId]?.['token']);
  for (let tries = 0; tries < 30; tries += 1) {
    const response = await fetch(`${simulator.url}/funders/${funderId}/v2/submissions`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': idempotencyKey,
      },
      body: JSON.stringify({ grant_id: grantId, title: 'scenario' }),
    });
    const body = (await response.json().catch(() => ({}))) as { tracking_number?: string };
    if (response.ok && body.tracking_number) return body.tracking_number;
    await sleep(response.status === 429 ? 1000 : 200);
  }
  throw new Error(`the simulator never accepted ${grantId}`);
}

/** What a simulated portal says about a tracking number now (`GET /v2/submissions/{tracking}`). */
export async function portalStatusOf(
  simulator: Simulator,
  funderId: string,
  trackingNumber: string,
): Promise<{ status: string; grant_id: string }> {
  const token = String(simulator.funders[funderId]?.['token']);
  for (let tries = 0; tries < 30; tries += 1) {
    const response = await fetch(
      `${simulator.url}/funders/${funderId}/v2/submissions/${trackingNumber}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    if (response.ok) return (await response.json()) as { status: string; grant_id: string };
    await response.body?.cancel();
    await sleep(response.status === 429 ? 1000 : 200);
  }
  throw new Error(`the simulator never answered for ${trackingNumber}`);
}

const decoders = new Map<string, Type>();
/** Decodes a Confluent-framed Avro value with the reader schema (our own records, same schema). */
export function decodeFramed<T>(value: Buffer | null, avro: schema.RecordType): T {
  if (!value) throw new Error('empty value');
  let type = decoders.get(avro.name);
  if (!type) {
    type = Type.forSchema(avro, { logicalTypes: {} });
    decoders.set(avro.name, type);
  }
  return type.fromBuffer(value.subarray(5)) as T;
}

/** A decoded record of a followed topic, with where and when it was written. */
export interface Followed<T> {
  topic: string;
  value: T;
  headers: Record<string, Buffer | undefined>;
  timestamp: number;
}

/**
 * Follows `topics` from their positions in `from` (read_committed) and collects the records of
 * `grantIds`, decoded with `avro`, until `done` says the collection is
 * complete or `timeoutMs` passes. Returns what was collected either way.
 */
export async function collectRecords<T>(
  clients: PlatformClients,
  from: TopicPositions,
  topics: readonly string[],
  grantIds: ReadonlySet<string>,
  avro: schema.RecordType,
  done: (records: readonly Followed<T>[]) => boolean,
  timeoutMs: number,
): Promise<Followed<T>[]> {
  const records: Followed<T>[] = [];
  const positions: TopicPositions = new Map(topics.map((t) => [t, from.get(t) ?? new Map()]));
  await clients.io.follow(
    positions,
    (m) => {
      if (!grantIds.has(keyOf(m))) return false;
      records.push({
        topic: m.topic,
        value: decodeFramed<T>(m.value, avro),
        headers: m.headers,
        timestamp: Number(m.timestamp),
      });
      return done(records);
    },
    timeoutMs,
  );
  return records;
}

/** Statuses by grant, in the order they were written. */
export function statusesByGrant(
  records: readonly Followed<GrantStatusV1>[],
): Map<string, GrantStatusV1[]> {
  const by = new Map<string, GrantStatusV1[]>();
  for (const r of records) {
    const list = by.get(r.value.grant_id) ?? [];
    list.push(r.value);
    by.set(r.value.grant_id, list);
  }
  return by;
}

/** Reads the audit events of `grantIds` written since `from` until `done` holds. */
export function collectAudit(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  done: (events: readonly Followed<AuditEventV1>[]) => boolean,
  timeoutMs: number,
): Promise<Followed<AuditEventV1>[]> {
  return collectRecords(clients, from, [TOPICS.AUDIT], grantIds, AuditEventV1Avro, done, timeoutMs);
}

/** Reads grants.status.v1 for `grantIds` since `from` until `done` holds. */
export function collectStatuses(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  done: (records: readonly Followed<GrantStatusV1>[]) => boolean,
  timeoutMs: number,
): Promise<Followed<GrantStatusV1>[]> {
  return collectRecords(
    clients,
    from,
    [TOPICS.STATUS],
    grantIds,
    GrantStatusV1Avro,
    done,
    timeoutMs,
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Ends a scenario: stops its service groups and simulator (SIGTERM, then
 * SIGKILL after 10 s; whichever of them started) and closes the clients.
 */
export async function endScenario(
  clients: PlatformClients | undefined,
  groups: readonly (ServiceGroup | undefined)[],
  simulator: Simulator | undefined,
): Promise<void> {
  await stopStages(
    [...groups.flatMap((g) => g?.processes ?? []), ...(simulator ? [simulator.process] : [])],
    10_000,
  );
  await clients?.close();
}

/**
 * A fresh compacted topic for the submission stage's content state (grant id
 * → accepted contents), co-partitioned with grants.routed.v1 like the declared
 * one: a scenario's grants are never judged against another scenario's
 * filings of the same grant ids. Pass it as GRANTSTREAM__SUBMISSION__CONTENT_STATE__TOPIC.
 */
export async function createContentStateTopic(
  clients: PlatformClients,
  name: string,
): Promise<string> {
  const topic = uniqueName(`test.submission.content-state.${name}`);
  const routed = (await clients.admin.describeTopics([TOPICS.ROUTED], [])).get(TOPICS.ROUTED);
  await clients.admin.createTopics([
    {
      name: topic,
      partitions: routed?.partitions ?? 1,
      replicationFactor: 1,
      config: { 'cleanup.policy': 'compact' },
      valueSchema: null,
    },
  ]);
  await clients.serde.register(
    topic,
    SubmissionContentStateV1Avro,
    testConfig().topics.compatibility,
  );
  return topic;
}

/**
 * Copies of the configured retry tiers (config/grantstream.yaml,
 * submission.retryTiers) for one submission group: `<tier>.<scope>`, same
 * delays and partitions, SubmissionRetry registered. Pass them as
 * GRANTSTREAM__SUBMISSION__RETRY_TIERS with a retryTopicPattern matching only them.
 */
export async function createRetryTierTopics(
  clients: PlatformClients,
  scope: string,
): Promise<{ topic: string; delayMs: number }[]> {
  const file = parseYaml(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as {
    submission: { retryTiers: { topic: string; delayMs: number }[] };
  };
  const declared = file.submission.retryTiers;
  const described = await clients.admin.describeTopics(
    declared.map((t) => t.topic),
    [],
  );
  const tiers = declared.map((t) => ({ topic: `${t.topic}.${scope}`, delayMs: t.delayMs }));
  await clients.admin.createTopics(
    declared.map((t, i) => ({
      name: tiers[i]?.topic ?? '',
      partitions: described.get(t.topic)?.partitions ?? 1,
      replicationFactor: 1,
      config: {},
      valueSchema: null,
    })),
  );
  // The declared tier's own schema, so what the stage writes there is what it writes to the tier.
  for (const [i, t] of tiers.entries()) {
    const avro = TOPIC_DECLARATIONS.find((d) => d.name === declared[i]?.topic)?.valueSchema?.avro;
    if (!avro) throw new Error(`${declared[i]?.topic} declares no value schema`);
    await clients.serde.register(t.topic, avro, testConfig().topics.compatibility);
  }
  return tiers;
}
