import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AuditEventV1Avro,
  AuditEventV1Schema,
  ComplianceBlockedGrantV1Avro,
  DLQ_HEADERS,
  RoutedGrantV1Avro,
  SERVICE_DECLARATIONS,
  TOPICS,
  inputTopicsOf,
  serviceDeclaration,
  type PipelineStageName,
  type ServiceName,
  type AuditEventV1,
  type ComplianceBlockedGrantV1,
  type RoutedGrantV1,
} from '@grantstream/contracts';
import { ChainVerifier, type VerificationReport } from '@grantstream/audit';
import { decisionCategoryOf } from '@grantstream/rules';
import {
  TopicScanner,
  type PlatformClients,
  type ReadMessage,
  type ScanOptions,
  type TopicPositions,
} from '@grantstream/kafka';

/** The workspace root (where package.json is): stage services run from here. */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Name of a service of the stack (schemas/pipeline.yaml). */
export type StageServiceName = ServiceName;

/** A pipeline stage service (a service of kind `stage` in schemas/pipeline.yaml). */
export type { PipelineStageName };

/** Every service of schemas/pipeline.yaml, stages in flow order, by the entry point each runs. */
export const STAGE_SERVICES: Readonly<Record<StageServiceName, string>> = Object.fromEntries(
  SERVICE_DECLARATIONS.map((s) => [s.name, s.entry]),
) as Record<StageServiceName, string>;

/**
 * Configuration overrides that put each stage in a consumer group (and
 * transactional id prefix) of its own for one run, its offsets first set to
 * the current end of every input schemas/pipeline.yaml declares for it (its
 * topics, its retry tiers and every existing topic its patterns match): the
 * run processes what it produces, never the history earlier runs, tests or
 * benchmarks left on the shared topics. An input missing here would be read
 * from its first offset, since stages subscribe from the beginning.
 */
export async function runScopedGroups(
  clients: PlatformClients,
  scope: string,
  stages: readonly PipelineStageName[],
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const existing = await clients.admin.listTopics();
  await Promise.all(
    stages.map(async (stage) => {
      const declared = serviceDeclaration(stage);
      const group = `grantstream.${stage}.${scope}`;
      await clients.admin.setGroupOffsets(
        group,
        await clients.io.endOffsets(inputTopicsOf(declared, existing)),
      );
      env[`GRANTSTREAM__${declared.envSection}__RUNNER__GROUP_ID`] = group;
      env[`GRANTSTREAM__${declared.envSection}__RUNNER__TRANSACTIONAL_ID_PREFIX`] = group;
    }),
  );
  return env;
}

/** A running stage service process. */
export interface StageProcess {
  name: StageServiceName;
  child: ChildProcess;
  /** Where its logs go. */
  logFile: string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts stage services as child processes (`node --import tsx`), each
 * logging to `<logDir>/<name>.log`. `env` adds configuration overrides
 * (GRANTSTREAM__...). Services read their committed offsets, so records
 * produced before they join are not missed.
 */
export function startStages(
  names: readonly StageServiceName[],
  options: {
    env?: NodeJS.ProcessEnv;
    logDir: string;
    suffix?: string;
    /** Extra Node options (e.g. --cpu-prof for profiling). */
    nodeArgs?: readonly string[];
  },
): StageProcess[] {
  mkdirSync(options.logDir, { recursive: true });
  return names.map((name) => {
    const logFile = join(options.logDir, `${name}${options.suffix ?? ''}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        '--import',
        'tsx',
        resolve(WORKSPACE_ROOT, STAGE_SERVICES[name]),
      ],
      {
        cwd: WORKSPACE_ROOT,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { name, child, logFile, exited };
  });
}

/**
 * Stops stage services with SIGTERM (each commits or aborts its open chunk and
 * leaves its group) and waits for them; SIGKILL after `graceMs`.
 */
export async function stopStages(stages: readonly StageProcess[], graceMs: number): Promise<void> {
  await Promise.all(
    stages.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      s.child.kill('SIGTERM');
      const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
      await s.exited;
      clearTimeout(timer);
    }),
  );
}

/** Where a grant ended: exactly one of these per input. */
export type Destination = 'routed' | 'blocked' | 'dlq';

/** What the pipeline's output topics say about one grant. */
export interface GrantOutcome {
  destination: Destination;
  /** Flag codes for routed/blocked grants; the error code for a dead letter. */
  codes: string[];
  /** Error category of a dead letter; COMPLIANCE_BLOCK or UNKNOWN_FUNDER for a block. */
  category: string | null;
  /** Milliseconds from the input's production to the outcome's commit (broker timestamps). */
  latencyMs: number | null;
}

/** The terminal topics of the three stages, in {@link Destination} order. */
export const OUTCOME_TOPICS: Readonly<Record<Destination, string>> = {
  routed: TOPICS.ROUTED,
  blocked: TOPICS.COMPLIANCE_BLOCKED,
  dlq: TOPICS.DLQ,
};

/** Result of {@link collectOutcomes}. */
export interface OutcomeReport {
  outcomes: Map<string, GrantOutcome>;
  /** Grants seen in more than one outcome, or twice in one: must stay empty. */
  duplicates: string[];
  /** Grants with no outcome when the wait ended. */
  missing: string[];
}

/**
 * Follows routed, blocked and dead-letter topics from `from` until every
 * grant in `grantIds` has an outcome (or `timeoutMs` passes), reporting
 * progress. Then, after `settleMs`, reads the same range again to the end and
 * counts every grant's outputs: the pipeline must deliver each input to
 * exactly one place, exactly once, so any second output is a duplicate.
 */
export async function collectOutcomes(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  options: {
    timeoutMs: number;
    settleMs: number;
    /** Fetch bounds of the recount (the audit section of the configuration). */
    scan: ScanOptions;
    producedAt?: ReadonlyMap<string, number>;
    onProgress?: (done: number) => void;
  },
): Promise<OutcomeReport> {
  const seen = new Set<string>();
  await clients.io.follow(
    from,
    (m) => {
      const grantId = m.key?.toString() ?? '';
      if (!grantIds.has(grantId) || seen.has(grantId)) return false;
      seen.add(grantId);
      options.onProgress?.(seen.size);
      return seen.size >= grantIds.size;
    },
    options.timeoutMs,
  );
  await new Promise((r) => setTimeout(r, options.settleMs));
  const messages: ReadMessage[] = [];
  const scanner = new TopicScanner(clients.kafka);
  try {
    for (const topic of from.keys()) {
      for await (const m of scanner.scan(topic, { ...options.scan, from: from.get(topic) })) {
        if (grantIds.has(m.key?.toString() ?? '')) messages.push(m);
      }
    }
  } finally {
    await scanner.close();
  }
  const destinationOf = new Map(
    Object.entries(OUTCOME_TOPICS).map(([d, t]) => [t, d as Destination]),
  );
  const outcomes = new Map<string, GrantOutcome>();
  const duplicates: string[] = [];
  for (const m of messages) {
    const grantId = m.key?.toString() ?? '';
    const destination = destinationOf.get(m.topic);
    if (!destination) continue;
    if (outcomes.has(grantId)) {
      duplicates.push(grantId);
      continue;
    }
    const at = options.producedAt?.get(grantId);
    const latencyMs = at === undefined ? null : Number(m.timestamp) - at;
    if (destination === 'dlq') {
      outcomes.set(grantId, {
        destination,
        codes: [m.headers[DLQ_HEADERS.ERROR_CODE]?.toString() ?? ''],
        category: m.headers[DLQ_HEADERS.ERROR_CATEGORY]?.toString() ?? null,
        latencyMs,
      });
      continue;
    }
    const reader = destination === 'routed' ? RoutedGrantV1Avro : ComplianceBlockedGrantV1Avro;
    const { value } = await clients.serde.decodeAs<RoutedGrantV1 | ComplianceBlockedGrantV1>(
      m.value,
      reader,
    );
    outcomes.set(grantId, {
      destination,
      codes: value.compliance_flags.map((f) => f.code),
      category: decisionCategoryOf(value.compliance_flags),
      latencyMs,
    });
  }
  const missing = [...grantIds].filter((g) => !outcomes.has(g));
  return { outcomes, duplicates, missing };
}

/**
 * Reads the audit events of `grantIds` written since `from` until each grant
 * has at least `expectedEvents(grantId)` events, then verifies every grant's
 * hash chain.
 */
export async function verifyAuditTrails(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  expectedEvents: (grantId: string) => number,
  timeoutMs: number,
): Promise<{ report: VerificationReport; events: Map<string, AuditEventV1[]> }> {
  const raw: ReadMessage[] = [];
  const counts = new Map<string, number>();
  let complete = 0;
  await clients.io.follow(
    from,
    (m) => {
      const key = m.key?.toString() ?? '';
      const grantId = key.slice(0, key.lastIndexOf(':'));
      if (!grantIds.has(grantId)) return false;
      raw.push(m);
      const n = (counts.get(grantId) ?? 0) + 1;
      counts.set(grantId, n);
      if (n === expectedEvents(grantId)) complete += 1;
      return complete >= grantIds.size;
    },
    timeoutMs,
  );
  const verifier = new ChainVerifier();
  const events = new Map<string, AuditEventV1[]>();
  for (const m of raw) {
    const event = AuditEventV1Schema.parse(
      (await clients.serde.decodeAs<AuditEventV1>(m.value, AuditEventV1Avro)).value,
    );
    verifier.add({
      key: m.key?.toString() ?? '',
      event,
      partition: m.partition,
      offset: m.offset,
    });
    const list = events.get(event.grant_id) ?? [];
    list.push(event);
    events.set(event.grant_id, list);
  }
  return { report: verifier.finish(), events };
}
