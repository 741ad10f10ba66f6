import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AUDIT_GENESIS_HASH,
  buildAuditEvent,
  checkpointNoteOfRecord,
  merkleTreeHash,
  auditLeafHash,
  openCheckpoint,
  orderBatchOfRecord,
  type Checkpoint,
  type LogOrderBatch,
  type NoteVerifier,
} from '@grantstream/audit';
import {
  AuditCheckpointV1Avro,
  AuditEventV1Avro,
  LogOrderBatchV1Avro,
  TOPICS,
  funderIdOf,
  type AuditEventV1,
} from '@grantstream/contracts';
import { TopicScanner, type PlatformClients, type ReadMessage } from '@grantstream/kafka';
import { testConfig, uniqueName } from '@grantstream/testing';

const WORKSPACE = resolve(__dirname, '../..');
const ENTRY = 'services/checkpointer/src/main.ts';

/** A scenario's own audit, order and checkpoint topics, groups, key file and witness directory. */
export interface CheckpointerScope {
  readonly audit: string;
  readonly order: string;
  readonly checkpoints: string;
  readonly leaseGroup: string;
  readonly offsetsGroup: string;
  readonly transactionalId: string;
  readonly keyFile: string;
  readonly witnessDir: string;
}

/** A fresh compacted, forever-retained topic shaped like grants.audit.v1, with the AuditEvent schema. */
async function createAuditTopic(
  clients: PlatformClients,
  name: string,
  extraConfig: Record<string, string>,
): Promise<string> {
  const topic = uniqueName(`test.audit.${name}`);
  await clients.admin.createTopics([
    {
      name: topic,
      partitions: 6,
      replicationFactor: 1,
      config: { 'cleanup.policy': 'compact', 'retention.ms': '-1', ...extraConfig },
      valueSchema: null,
    },
  ]);
  await clients.serde.register(topic, AuditEventV1Avro, testConfig().topics.compatibility);
  return topic;
}

/** A hash chain of `steps` audit events of one grant (one trail), keyed as libs/audit keys them. */
export function auditChain(
  grantId: string,
  steps: number,
  start: number,
): { key: string; event: AuditEventV1 }[] {
  const out: { key: string; event: AuditEventV1 }[] = [];
  let previous = AUDIT_GENESIS_HASH;
  for (let step = 0; step < steps; step += 1) {
    const built = buildAuditEvent(
      {
        grantId,
        funderId: funderIdOf(grantId),
        auditTrailId: `at-${grantId}`,
        stage: 'routing',
        action: 'FORWARD',
        payloadHash: AUDIT_GENESIS_HASH.replace(/0/g, 'a'),
        service: { name: 'routing', version: '1.0.0' },
        occurredAt: start + step,
        source: { topic: 'grants.normalized.v1', partition: 0, offset: step },
        ruleSetVersion: 'rules-2026.1',
        details: {},
      },
      previous,
    );
    out.push(built);
    previous = built.event.event_hash;
  }
  return out;
}

/** Produces audit events (Avro, 1,000 a request). */
export async function produceAuditEvents(
  clients: PlatformClients,
  topic: string,
  events: readonly { key: string; event: AuditEventV1 }[],
): Promise<void> {
  const perRequest = 1000;
  for (let i = 0; i < events.length; i += perRequest) {
    const slice = events.slice(i, i + perRequest);
    const values = await Promise.all(slice.map((e) => clients.serde.encode(topic, e.event)));
    await clients.io.produce(
      topic,
      slice.map((e, j) => ({ key: e.key, value: values[j] ?? null })),
    );
  }
}

/** Creates the topics of one scenario's log, shaped like the declared ones. */
export async function createCheckpointerScope(
  clients: PlatformClients,
  name: string,
  auditConfig: Record<string, string> = {},
): Promise<CheckpointerScope> {
  return createLogScope(clients, name, await createAuditTopic(clients, name, auditConfig));
}

/**
 * A scenario's own log (order and checkpoint topics, groups, key, witness)
 * over an existing audit topic: grants.audit.v1 itself when the scenario's
 * events come from the real stages, which always write there.
 */
export async function createLogScope(
  clients: PlatformClients,
  name: string,
  audit: string,
): Promise<CheckpointerScope> {
  const logTopic = async (declared: string, schema: typeof LogOrderBatchV1Avro) => {
    const topic = uniqueName(`${declared}.${name}`);
    await clients.admin.createTopics([
      {
        name: topic,
        partitions: 1,
        replicationFactor: 1,
        config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' },
        valueSchema: null,
      },
    ]);
    await clients.serde.register(topic, schema, testConfig().topics.compatibility);
    return topic;
  };
  const dir = mkdtempSync(join(tmpdir(), `checkpointer-${name}-`));
  const scope = uniqueName(`test.checkpointer.${name}`);
  return {
    audit,
    order: await logTopic(TOPICS.AUDIT_LOG_ORDER, LogOrderBatchV1Avro),
    checkpoints: await logTopic(TOPICS.AUDIT_CHECKPOINTS, AuditCheckpointV1Avro),
    leaseGroup: `${scope}.lease`,
    offsetsGroup: `${scope}.offsets`,
    transactionalId: scope,
    keyFile: join(dir, 'log-key.pem'),
    witnessDir: join(dir, 'witness'),
  };
}

/** Configuration overrides that point a checkpointer at a scope. */
export function checkpointerEnv(
  s: CheckpointerScope,
  extra: Record<string, string> = {},
): Record<string, string> {
  const p = 'GRANTSTREAM__CHECKPOINTER__';
  return {
    [`${p}TOPICS__AUDIT`]: s.audit,
    [`${p}TOPICS__ORDER`]: s.order,
    [`${p}TOPICS__CHECKPOINTS`]: s.checkpoints,
    [`${p}LEASE_GROUP_ID`]: s.leaseGroup,
    [`${p}OFFSETS_GROUP_ID`]: s.offsetsGroup,
    [`${p}TRANSACTIONAL_ID`]: s.transactionalId,
    [`${p}SIGNING_KEY__FILE`]: s.keyFile,
    [`${p}SIGNING_KEY__CREATE_IF_MISSING`]: 'true',
    [`${p}WITNESS__DIR`]: s.witnessDir,
    [`${p}METRICS__PORT`]: '0',
    ...extra,
  };
}

/** A checkpointer child process and the log lines it printed. */
export interface CheckpointerProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  /** Resolves once a log line matches, rejects after `timeoutMs`. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<void>;
}

/** Starts `services/checkpointer` as a child process with the scope's overrides. */
export function spawnCheckpointer(env: Record<string, string>): CheckpointerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(WORKSPACE, ENTRY)], {
    cwd: WORKSPACE,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ msg: part });
      }
    }
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = (match: (line: Record<string, unknown>) => boolean, timeoutMs: number) =>
    new Promise<void>((resolvePromise, reject) => {
      const check = () => {
        if (lines.some(match)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolvePromise();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, lines, exited, waitFor };
}

/** Polls `condition` until it holds, failing after `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every record of a topic as it is now (read_committed, no group). */
export async function readAll(clients: PlatformClients, topic: string): Promise<ReadMessage[]> {
  const scanner = new TopicScanner(clients.kafka);
  const out: ReadMessage[] = [];
  try {
    const c = testConfig().audit;
    for await (const m of scanner.scan(topic, c)) out.push(m);
  } finally {
    await scanner.close();
  }
  return out;
}

/** The order batches on an order topic, in offset order; throws on a record the reader refuses. */
export async function readOrderBatches(
  clients: PlatformClients,
  topic: string,
  maxBatchEntries: number,
): Promise<LogOrderBatch[]> {
  const out: LogOrderBatch[] = [];
  for (const m of await readAll(clients, topic)) {
    const decoded = await clients.serde.decodeAs(m.value, LogOrderBatchV1Avro);
    const result = orderBatchOfRecord(decoded.value, { maxBatchEntries });
    if (!result.ok) throw new Error(`order record ${m.offset}: ${result.reason} ${result.detail}`);
    out.push(result.batch);
  }
  return out;
}

/** The checkpoints on a checkpoint topic, each opened with the log's key. */
export async function readCheckpoints(
  clients: PlatformClients,
  topic: string,
  verifier: NoteVerifier,
  origin: string,
): Promise<{ checkpoint: Checkpoint; note: string }[]> {
  const out: { checkpoint: Checkpoint; note: string }[] = [];
  for (const m of await readAll(clients, topic)) {
    const decoded = await clients.serde.decodeAs(m.value, AuditCheckpointV1Avro);
    const record = checkpointNoteOfRecord(decoded.value, `${topic}/${m.offset}`, {
      maxNoteBytes: 8192,
    });
    if (!record.ok) throw new Error(`checkpoint record ${m.offset}: ${record.reason}`);
    const opened = openCheckpoint(record.note.note, [verifier], {
      maxNoteBytes: 8192,
      maxSignatures: 4,
      origin,
    });
    if (!opened.ok) throw new Error(`checkpoint ${m.offset} refused: ${opened.reason}`);
    out.push({ checkpoint: opened.checkpoint, note: record.note.note });
  }
  return out;
}

/** Leaf hashes of the batches, in log order. */
export function leafHashesOf(batches: readonly LogOrderBatch[]): Buffer[] {
  return batches.flatMap((b) => b.entries.map((e) => auditLeafHash(e)));
}

/** The root of the first `size` leaves. */
export function rootOf(leaves: readonly Buffer[], size: number): Buffer {
  return merkleTreeHash(leaves, size);
}
