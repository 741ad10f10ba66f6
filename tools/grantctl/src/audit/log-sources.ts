import { lstatSync, openSync, readSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointNoteOfRecord,
  orderBatchOfRecord,
  type AuditRecord,
  type CheckpointNoteRef,
  type LogOrderBatch,
} from '@grantstream/audit';
import {
  AuditCheckpointV1Avro,
  AuditEventV1Avro,
  AuditEventV1Schema,
  LogOrderBatchV1Avro,
  type AuditEventV1,
} from '@grantstream/contracts';
import type { PlatformClients, ReadMessage, ScanOptions, TopicScanner } from '@grantstream/kafka';

/** A message of the audit topic that is not a decodable AuditEvent: itself evidence of tampering. */
export interface Undecodable {
  partition: number;
  offset: string;
  key: string | null;
  reason: string;
}

/** Something read as a checkpoint that could not even be offered to the verifier. */
export interface RefusedNote {
  readonly ref: string;
  readonly detail: string;
}

/** Checkpoint notes read from one place (topic or witness store). */
export interface NotesRead {
  readonly notes: readonly CheckpointNoteRef[];
  readonly refused: readonly RefusedNote[];
}

/** One order record: a batch, or why it is not one. */
export type OrderRead =
  | { readonly ok: true; readonly batch: LogOrderBatch }
  | { readonly ok: false; readonly ref: string; readonly detail: string };

/**
 * Where `grantctl audit verify|prove|export` read from: the audit topic, the
 * order and checkpoint topics and the witness store. Kafka in the command
 * ({@link kafkaAuditSources}); a generated source in the benchmark, through the
 * same verification code.
 */
export interface AuditSources {
  /** Records the audit scan visits at most: sizes the spill buckets. */
  auditSize(): Promise<number>;
  /** Every audit record once (a tombstone has a null event); returns how many were read. */
  scanAudit(
    onRecord: (record: AuditRecord) => void | Promise<void>,
    onUndecodable: (u: Undecodable) => void,
  ): Promise<number>;
  /** Every note on the checkpoint topic, in topic order. */
  checkpointNotes(): Promise<NotesRead>;
  /** Every note in the witness store (none without one). */
  witnessNotes(): Promise<NotesRead>;
  /** The order batches in topic order, one at a time. */
  orderBatches(): AsyncIterable<OrderRead> | Iterable<OrderRead>;
}

/** Bounds of the readers (from `audit` and `audit.log` in the config). */
export interface LogReadLimits {
  readonly maxBytesPerFetch: number;
  readonly maxWaitMs: number;
  readonly maxEmptyFetches: number;
  readonly origin: string;
  readonly maxBatchEntries: number;
  readonly maxNoteBytes: number;
  readonly maxWitnessFiles: number;
}

/** Topic names and the witness directory of one run. */
export interface LogLocations {
  readonly audit: string;
  readonly order: string;
  readonly checkpoints: string;
  readonly witnessDir: string | null;
}

const refOf = (m: ReadMessage): string => `${m.topic}/${m.partition}/${m.offset}`;

/**
 * Reads the witness store: one note per regular file (dot files are a
 * writer's temporary files). Each read is bounded by the note limit, and the
 * number of files by `maxWitnessFiles`, so a store filled with junk cannot
 * exhaust memory.
 */
export function readWitnessDir(dir: string, limits: LogReadLimits): NotesRead {
  const names = readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
  if (names.length > limits.maxWitnessFiles) {
    return {
      notes: [],
      refused: [
        {
          ref: dir,
          detail: `${names.length} files, at most ${limits.maxWitnessFiles}: not read`,
        },
      ],
    };
  }
  const notes: CheckpointNoteRef[] = [];
  const refused: RefusedNote[] = [];
  // One byte more than a note may hold tells an oversized file from a full one.
  const buffer = Buffer.alloc(limits.maxNoteBytes + 1);
  for (const name of names) {
    const path = join(dir, name);
    if (!lstatSync(path).isFile()) continue;
    const fd = openSync(path, 'r');
    try {
      const read = readSync(fd, buffer, 0, buffer.length, 0);
      if (read > limits.maxNoteBytes) {
        refused.push({
          ref: `witness ${name}`,
          detail: `larger than ${limits.maxNoteBytes} bytes`,
        });
      } else {
        notes.push({ note: buffer.toString('utf8', 0, read), ref: `witness ${name}` });
      }
    } finally {
      closeSync(fd);
    }
  }
  return { notes, refused };
}

/**
 * Reads every record of an audit topic once, from offset 0, without a
 * consumer group, decoding each value: `onRecord` sees each decoded event
 * (null for a tombstone), `onUndecodable` each record that is not one.
 * Returns the number of records read.
 */
export async function scanAuditTopic(
  clients: PlatformClients,
  scanner: TopicScanner,
  topic: string,
  read: ScanOptions,
  onRecord: (record: AuditRecord) => void | Promise<void>,
  onUndecodable: (u: Undecodable) => void,
): Promise<number> {
  let seen = 0;
  for await (const m of scanner.scan(topic, read)) {
    seen += 1;
    const key = m.key?.toString() ?? '';
    if (m.value === null) {
      await onRecord({ key, event: null, partition: m.partition, offset: m.offset });
      continue;
    }
    let event: AuditEventV1;
    try {
      const decoded = await clients.serde.decodeAs(m.value, AuditEventV1Avro);
      event = AuditEventV1Schema.parse(decoded.value);
    } catch (err) {
      onUndecodable({
        partition: m.partition,
        offset: m.offset,
        key: m.key?.toString() ?? null,
        reason: (err as Error).message,
      });
      continue;
    }
    // Awaited: a slow consumer slows the scan instead of queueing records in memory.
    await onRecord({ key, event, partition: m.partition, offset: m.offset });
  }
  return seen;
}

/** The sources of a verification run on the broker: group-less, read_committed, bounded fetches. */
export function kafkaAuditSources(
  clients: PlatformClients,
  scanner: TopicScanner,
  at: LogLocations,
  limits: LogReadLimits,
): AuditSources {
  const read: ScanOptions = {
    maxBytesPerFetch: limits.maxBytesPerFetch,
    maxWaitMs: limits.maxWaitMs,
    maxEmptyFetches: limits.maxEmptyFetches,
  };
  return {
    auditSize: () => scanner.size(at.audit),
    scanAudit: (onRecord, onUndecodable) =>
      scanAuditTopic(clients, scanner, at.audit, read, onRecord, onUndecodable),
    async checkpointNotes() {
      const notes: CheckpointNoteRef[] = [];
      const refused: RefusedNote[] = [];
      for await (const m of scanner.scan(at.checkpoints, read)) {
        const ref = refOf(m);
        let value: unknown;
        try {
          value = (await clients.serde.decodeAs(m.value, AuditCheckpointV1Avro)).value;
        } catch (err) {
          refused.push({ ref, detail: `not an AuditCheckpoint record: ${(err as Error).message}` });
          continue;
        }
        const record = checkpointNoteOfRecord(value, ref, limits);
        if (record.ok) notes.push(record.note);
        else refused.push({ ref, detail: `${record.reason}: ${record.detail}` });
      }
      return { notes, refused };
    },
    witnessNotes: () =>
      Promise.resolve(
        at.witnessDir === null ? { notes: [], refused: [] } : readWitnessDir(at.witnessDir, limits),
      ),
    async *orderBatches() {
      for await (const m of scanner.scan(at.order, read)) {
        const ref = refOf(m);
        let value: unknown;
        try {
          value = (await clients.serde.decodeAs(m.value, LogOrderBatchV1Avro)).value;
        } catch (err) {
          yield { ok: false, ref, detail: `not a LogOrderBatch record: ${(err as Error).message}` };
          continue;
        }
        const batch = orderBatchOfRecord(value, {
          origin: limits.origin,
          maxBatchEntries: limits.maxBatchEntries,
        });
        yield batch.ok
          ? { ok: true, batch: batch.batch }
          : { ok: false, ref, detail: `${batch.reason}: ${batch.detail}` };
      }
    },
  };
}
