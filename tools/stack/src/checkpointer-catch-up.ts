import { readFileSync } from 'node:fs';
import {
  checkpointNoteOfRecord,
  openCheckpoint,
  orderBatchOfRecord,
  parseVerifierKey,
  type LogOrderBatch,
  type NoteVerifier,
} from '@grantstream/audit';
import { AuditCheckpointV1Avro, LogOrderBatchV1Avro } from '@grantstream/contracts';
import {
  TopicScanner,
  type PlatformClients,
  type ScanOptions,
  type TopicPositions,
} from '@grantstream/kafka';
import type { MainJobCheckpoint } from '@grantstream/harness';

/** The checkpointer's topics and log, as its configuration section names them. */
export interface CheckpointerLog {
  origin: string;
  topics: { audit: string; order: string; checkpoints: string };
  /** Its signing key file; the verifier key is in `<file>.pub`, written beside it. */
  signingKeyFile: string;
  maxNoteBytes: number;
  maxBatchEntries: number;
}

/** The grant id of an audit record's key (`grant_id:event_id`). */
const grantOfKey = (key: string): string => key.slice(0, Math.max(0, key.indexOf(':')));

/**
 * The tree size that covers the last record of each partition in `last`
 * (partition -> offset), given the order batches written since the run
 * started: one more than the highest leaf index among the first leaves at or
 * past each of those offsets. The checkpointer reads each partition in
 * offset order, so a leaf at that offset means every earlier record of the
 * partition is a leaf below it. Null while some partition's record is not a
 * leaf yet.
 */
export function sizeCovering(
  last: ReadonlyMap<number, bigint>,
  batches: readonly LogOrderBatch[],
): number | null {
  let size = 0;
  for (const [partition, offset] of last) {
    let index: number | null = null;
    for (const batch of batches) {
      batch.entries.forEach((e, i) => {
        if (index === null && e.partition === partition && BigInt(e.offset) >= offset)
          index = batch.firstIndex + i;
      });
      if (index !== null) break;
    }
    if (index === null) return null;
    size = Math.max(size, (index as number) + 1);
  }
  return size;
}

/** Leaves below `size` whose key is an audit event of one of `grants`. */
export function leavesOf(
  batches: readonly LogOrderBatch[],
  grants: ReadonlySet<string>,
  size: number,
): number {
  let n = 0;
  for (const b of batches)
    b.entries.forEach((e, i) => {
      if (b.firstIndex + i < size && grants.has(grantOfKey(e.key))) n += 1;
    });
  return n;
}

/** The verifier of the checkpointer's key, from `<signing key>.pub`. */
export function logVerifierOf(signingKeyFile: string): NoteVerifier {
  const pub = `${signingKeyFile}.pub`;
  const line = readFileSync(pub, 'utf8').trim();
  const parsed = parseVerifierKey(line);
  if (!parsed.ok) throw new Error(`${pub}: ${parsed.reason} ${parsed.detail}`);
  return parsed.verifier;
}

/** The end offsets of the log's order and checkpoint topics: where the run's batches and checkpoints start. */
export function logEnds(clients: PlatformClients, log: CheckpointerLog): Promise<TopicPositions> {
  return clients.io.endOffsets([log.topics.order, log.topics.checkpoints]);
}

/**
 * Waits until the checkpointer has appended every audit record of `grants`
 * written since `auditFrom` to the log and signed a checkpoint covering them,
 * then returns that checkpoint, opened with the log's key. Polls every
 * `pollMs`; fails after `timeoutMs`, or at once when `exited()` names why
 * the checkpointer is gone.
 */
export async function waitForRunCheckpoint(
  clients: PlatformClients,
  log: CheckpointerLog,
  options: {
    grants: ReadonlySet<string>;
    auditFrom: TopicPositions;
    logFrom: TopicPositions;
    scan: ScanOptions;
    timeoutMs: number;
    pollMs: number;
    exited: () => string | null;
  },
): Promise<MainJobCheckpoint> {
  const started = Date.now();
  const verifier = logVerifierOf(log.signingKeyFile);
  const scanner = new TopicScanner(clients.kafka);
  const read = async function* (topic: string, from: TopicPositions) {
    yield* scanner.scan(topic, { ...options.scan, from: from.get(topic) ?? new Map() });
  };
  try {
    const last = new Map<number, bigint>();
    for await (const m of read(log.topics.audit, options.auditFrom)) {
      if (m.value === null || !options.grants.has(grantOfKey(m.key?.toString('utf8') ?? '')))
        continue;
      const offset = BigInt(m.offset);
      if (offset > (last.get(m.partition) ?? -1n)) last.set(m.partition, offset);
    }
    let waiting = 'the run\u2019s last audit records to be leaves';
    for (;;) {
      const batches: LogOrderBatch[] = [];
      for await (const m of read(log.topics.order, options.logFrom)) {
        const decoded = await clients.serde.decodeAs(m.value, LogOrderBatchV1Avro);
        const batch = orderBatchOfRecord(decoded.value, {
          maxBatchEntries: log.maxBatchEntries,
          origin: log.origin,
        });
        if (!batch.ok) throw new Error(`order record at ${m.offset}: ${batch.reason}`);
        batches.push(batch.batch);
      }
      const needed = sizeCovering(last, batches);
      if (needed !== null) {
        waiting = `a checkpoint of at least ${needed} leaves`;
        let note: string | undefined;
        for await (const m of read(log.topics.checkpoints, options.logFrom)) {
          const decoded = await clients.serde.decodeAs(m.value, AuditCheckpointV1Avro);
          const record = checkpointNoteOfRecord(
            decoded.value,
            `${log.topics.checkpoints}/${m.partition}/${m.offset}`,
            log,
          );
          if (record.ok) note = record.note.note;
        }
        const opened =
          note === undefined
            ? undefined
            : openCheckpoint(note, [verifier], {
                maxNoteBytes: log.maxNoteBytes,
                maxSignatures: 1,
                origin: log.origin,
              });
        if (opened && !opened.ok) throw new Error(`the latest checkpoint: ${opened.reason}`);
        if (opened?.ok && opened.checkpoint.size >= needed) {
          const { checkpoint } = opened;
          return {
            origin: checkpoint.origin,
            treeSize: checkpoint.size,
            rootHash: Buffer.from(checkpoint.rootHash).toString('hex'),
            signedAt: checkpoint.time?.toISOString() ?? null,
            runEvents: leavesOf(batches, options.grants, checkpoint.size),
            waitedMs: Date.now() - started,
          };
        }
      }
      const gone = options.exited();
      if (gone !== null)
        throw new Error(`the checkpointer exited (${gone}) waiting for ${waiting}`);
      if (Date.now() - started > options.timeoutMs)
        throw new Error(`the checkpointer did not sign ${waiting} within ${options.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, options.pollMs));
    }
  } finally {
    await scanner.close();
  }
}
