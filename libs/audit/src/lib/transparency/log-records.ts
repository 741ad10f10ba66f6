import {
  AuditCheckpointV1Schema,
  LogOrderBatchV1Schema,
  type AuditCheckpointV1,
  type LogOrderBatchV1,
} from '@grantstream/contracts';
import { parseCheckpointBody } from './checkpoint';
import { checkOrderBatch, type LogOrderBatch, type OrderLimits } from './leaf-order';
import type { CheckpointNoteRef } from './log-verifier';

/**
 * The records of the order topic (`grants.audit.log-order.v1`, value
 * `LogOrderBatch` v1) and the checkpoint topic (`grants.audit.checkpoints.v1`,
 * value `AuditCheckpoint` v1), both Avro through the registry like every other
 * topic. The Avro decode in libs/kafka is bounded whatever the bytes claim;
 * what comes out is still untrusted (anyone with broker rights can write
 * these topics), so the readers here check shape and bounds and return a
 * named refusal instead of throwing.
 */

/** Key of an order batch record: its first leaf index in decimal (informative; order is the offset order). */
export function orderBatchKeyOf(firstIndex: number): string {
  return String(firstIndex);
}

/** Key of a checkpoint record: its tree size in decimal (informative; the note is the evidence). */
export function checkpointKeyOf(treeSize: number): string {
  return String(treeSize);
}

/** The order topic record the checkpointer writes for one batch of its log. */
export function orderBatchRecordOf(origin: string, batch: LogOrderBatch): LogOrderBatchV1 {
  return {
    log_origin: origin,
    first_index: batch.firstIndex,
    entries: batch.entries.map((entry) => ({
      key: entry.key,
      event_hash: entry.eventHash,
      stable_hash: entry.stableHash,
      partition: entry.partition,
      offset: entry.offset,
    })),
  };
}

/** The checkpoint topic record carrying one signed note. */
export function checkpointRecordOf(treeSize: number, note: string): AuditCheckpointV1 {
  return { tree_size: treeSize, note };
}

/**
 * Why an order record was refused:
 * - `NOT_A_BATCH`: the decoded value does not have the `LogOrderBatch` v1 shape.
 * - `OTHER_LOG`: the batch names another log origin than the one being read.
 * - `BATCH_TOO_LARGE`, `EMPTY_BATCH`, `MALFORMED_ENTRY`: see `OrderProblemKind`.
 */
export type OrderRecordRefusal =
  | 'NOT_A_BATCH'
  | 'OTHER_LOG'
  | 'BATCH_TOO_LARGE'
  | 'EMPTY_BATCH'
  | 'MALFORMED_ENTRY';

/** Outcome of {@link orderBatchOfRecord}. */
export type OrderRecordResult =
  | { readonly ok: true; readonly origin: string; readonly batch: LogOrderBatch }
  | { readonly ok: false; readonly reason: OrderRecordRefusal; readonly detail: string };

/** What {@link orderBatchOfRecord} expects of a record. */
export interface OrderRecordExpectations extends OrderLimits {
  /** The log being read; a batch of another origin is refused. Omit to accept any. */
  readonly origin?: string;
}

/**
 * Reads one decoded order record into a {@link LogOrderBatch}. Checks the shape,
 * the origin, the entry count and every entry, but not contiguity: that depends
 * on the batches before it, which `validateOrderBatches`, `resumeLogFromBatches`
 * or `LogVerifier` check. The entry count is checked before the entries are
 * looked at, so an oversize batch costs nothing more.
 */
export function orderBatchOfRecord(
  value: unknown,
  expectations: OrderRecordExpectations,
): OrderRecordResult {
  if (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { entries?: unknown }).entries) &&
    (value as { entries: unknown[] }).entries.length > expectations.maxBatchEntries
  ) {
    return {
      ok: false,
      reason: 'BATCH_TOO_LARGE',
      detail: `${(value as { entries: unknown[] }).entries.length} entries, at most ${expectations.maxBatchEntries}`,
    };
  }
  const parsed = LogOrderBatchV1Schema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'NOT_A_BATCH',
      detail: parsed.error.issues[0]?.message ?? 'invalid',
    };
  }
  const record = parsed.data;
  if (expectations.origin !== undefined && record.log_origin !== expectations.origin) {
    return {
      ok: false,
      reason: 'OTHER_LOG',
      detail: `batch of log ${JSON.stringify(record.log_origin)}`,
    };
  }
  if (!Number.isSafeInteger(record.first_index) || record.first_index < 0) {
    return { ok: false, reason: 'NOT_A_BATCH', detail: `first_index ${record.first_index}` };
  }
  const batch: LogOrderBatch = {
    firstIndex: record.first_index,
    entries: record.entries.map((entry) => ({
      key: entry.key,
      eventHash: entry.event_hash,
      stableHash: entry.stable_hash,
      partition: entry.partition,
      offset: entry.offset,
    })),
  };
  // Contiguity is the caller's; everything else about the batch is checked here.
  const problem = checkOrderBatch(batch, batch.firstIndex, expectations);
  if (problem !== undefined && problem.kind !== 'NOT_CONTIGUOUS') {
    return { ok: false, reason: problem.kind, detail: problem.message };
  }
  return { ok: true, origin: record.log_origin, batch };
}

/**
 * Why a checkpoint record was refused before its note was opened:
 * - `NOT_A_CHECKPOINT`: the decoded value does not have the `AuditCheckpoint` v1 shape.
 * - `NOTE_TOO_LARGE`: the note is longer than the verifier accepts.
 * - `SIZE_DISAGREES`: `tree_size` differs from the size the note's body states
 *   (the note is the evidence; a record whose index lies is named, not trusted).
 */
export type CheckpointRecordRefusal = 'NOT_A_CHECKPOINT' | 'NOTE_TOO_LARGE' | 'SIZE_DISAGREES';

/** Outcome of {@link checkpointNoteOfRecord}. */
export type CheckpointRecordResult =
  | { readonly ok: true; readonly treeSize: number; readonly note: CheckpointNoteRef }
  | { readonly ok: false; readonly reason: CheckpointRecordRefusal; readonly detail: string };

/**
 * Reads one decoded checkpoint record into the note the log verifier takes
 * (`ref` names where it was read, e.g. `grants.audit.checkpoints.v1/0/17`). The
 * signature is not checked here: `LogVerifier` / `openCheckpoint` do that with
 * the trusted keys. A note whose body does not parse is passed on, so the
 * verifier names its refusal; only a stated size that disagrees is refused.
 */
export function checkpointNoteOfRecord(
  value: unknown,
  ref: string,
  limits: { readonly maxNoteBytes: number },
): CheckpointRecordResult {
  const parsed = AuditCheckpointV1Schema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'NOT_A_CHECKPOINT',
      detail: parsed.error.issues[0]?.message ?? 'invalid',
    };
  }
  const { tree_size: treeSize, note } = parsed.data;
  const bytes = Buffer.byteLength(note, 'utf8');
  if (bytes > limits.maxNoteBytes) {
    return {
      ok: false,
      reason: 'NOTE_TOO_LARGE',
      detail: `${bytes} bytes, at most ${limits.maxNoteBytes}`,
    };
  }
  const blank = note.indexOf('\n\n');
  const body = blank < 0 ? undefined : parseCheckpointBody(note.slice(0, blank + 1));
  if (body?.ok === true && body.checkpoint.size !== treeSize) {
    return {
      ok: false,
      reason: 'SIZE_DISAGREES',
      detail: `record says ${treeSize}, note says ${body.checkpoint.size}`,
    };
  }
  return { ok: true, treeSize, note: { note, ref } };
}
