import { auditLeafHash, auditLeafProblem, type AuditLeafFields } from './leaf';
import { MerkleLog } from './merkle';

/**
 * One leaf as the checkpointer appended it: what the leaf commits to, plus
 * where the record was read. Partition and offset are not part of the leaf
 * (an identical redelivery has other offsets yet is the same event); they let
 * a verifier tell a record the checkpointer has not reached yet from one it
 * read past without logging.
 */
export interface LogOrderEntry extends AuditLeafFields {
  readonly partition: number;
  /** Kafka offset as a decimal string (offsets can exceed 2^53). */
  readonly offset: string;
}

/**
 * A run of consecutive leaves, as the checkpointer writes it to the order
 * topic in the same Kafka transaction as its consumer offsets: either both
 * commit or neither, so a restarted or standby checkpointer resumes exactly
 * after the last recorded leaf and the order never skips or repeats a record.
 * The order must be recorded because it depends on how the checkpointer
 * interleaved partitions, which nothing else on the topics keeps.
 */
export interface LogOrderBatch {
  /** Index of the batch's first leaf; the next batch starts at firstIndex + entries.length. */
  readonly firstIndex: number;
  readonly entries: readonly LogOrderEntry[];
}

/** Bounds applied to untrusted order batches (from the caller's config). */
export interface OrderLimits {
  /** Most entries one batch may hold. */
  readonly maxBatchEntries: number;
}

/**
 * What is wrong with the order batches:
 * - `NOT_CONTIGUOUS`: a batch does not start where the previous one ended (a
 *   batch lost, repeated or reordered on the order topic).
 * - `EMPTY_BATCH`: a batch with no entries (the checkpointer never writes one).
 * - `BATCH_TOO_LARGE`: more entries than {@link OrderLimits.maxBatchEntries}.
 * - `MALFORMED_ENTRY`: an entry whose fields cannot form a leaf, or a bad position.
 */
export type OrderProblemKind =
  | 'NOT_CONTIGUOUS'
  | 'EMPTY_BATCH'
  | 'BATCH_TOO_LARGE'
  | 'MALFORMED_ENTRY';

/** One problem with the order batches; leaves after it cannot be placed. */
export interface OrderProblem {
  readonly kind: OrderProblemKind;
  /** firstIndex of the batch that has the problem. */
  readonly batchFirstIndex: number;
  /** The leaf index the problem is at, when it is one entry. */
  readonly leafIndex?: number;
  readonly message: string;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function entryProblem(entry: LogOrderEntry): string | undefined {
  const leaf = auditLeafProblem(entry);
  if (leaf !== undefined) return leaf;
  if (!Number.isSafeInteger(entry.partition) || entry.partition < 0) {
    return `partition ${entry.partition} is not a non-negative integer`;
  }
  if (!DECIMAL.test(entry.offset)) return `offset ${JSON.stringify(entry.offset)} is not decimal`;
  return undefined;
}

/**
 * Checks one batch against the index the previous batches reached. Returns the
 * first problem, or undefined when every entry can be appended.
 */
export function checkOrderBatch(
  batch: LogOrderBatch,
  expectedFirstIndex: number,
  limits: OrderLimits,
): OrderProblem | undefined {
  const { firstIndex, entries } = batch;
  const problem = (kind: OrderProblemKind, message: string, leafIndex?: number): OrderProblem =>
    leafIndex === undefined
      ? { kind, batchFirstIndex: firstIndex, message }
      : { kind, batchFirstIndex: firstIndex, leafIndex, message };
  if (firstIndex !== expectedFirstIndex) {
    return problem(
      'NOT_CONTIGUOUS',
      `batch starts at leaf ${firstIndex}, the previous batches end at ${expectedFirstIndex}`,
    );
  }
  if (entries.length === 0) return problem('EMPTY_BATCH', `batch at leaf ${firstIndex} is empty`);
  if (entries.length > limits.maxBatchEntries) {
    return problem(
      'BATCH_TOO_LARGE',
      `batch at leaf ${firstIndex} holds ${entries.length} entries, at most ${limits.maxBatchEntries}`,
    );
  }
  for (let i = 0; i < entries.length; i += 1) {
    const found = entryProblem(entries[i] as LogOrderEntry);
    if (found !== undefined) {
      return problem('MALFORMED_ENTRY', `leaf ${firstIndex + i}: ${found}`, firstIndex + i);
    }
  }
  return undefined;
}

/** Result of {@link validateOrderBatches}: leaves placed before the first problem, if any. */
export interface OrderValidation {
  readonly leaves: number;
  readonly problem?: OrderProblem;
}

/**
 * Validates batches in order, stopping at the first problem: once the order is
 * broken, no later leaf has a known index. Streams: holds one batch at a time.
 */
export function validateOrderBatches(
  batches: Iterable<LogOrderBatch>,
  limits: OrderLimits,
): OrderValidation {
  let leaves = 0;
  for (const batch of batches) {
    const problem = checkOrderBatch(batch, leaves, limits);
    if (problem !== undefined) return { leaves, problem };
    leaves += batch.entries.length;
  }
  return { leaves };
}

/** Outcome of {@link leafHashesOfBatches}. */
export type LeafRebuild =
  | { readonly ok: true; readonly leafHashes: Buffer[] }
  | { readonly ok: false; readonly problem: OrderProblem; readonly leafHashes: Buffer[] };

/**
 * Rebuilds every leaf hash from the order batches, for building proofs
 * ({@link inclusionProof} needs random access: 32 bytes a leaf). On a problem
 * it returns the leaves placed before it along with the problem.
 */
export function leafHashesOfBatches(
  batches: Iterable<LogOrderBatch>,
  limits: OrderLimits,
): LeafRebuild {
  const leafHashes: Buffer[] = [];
  for (const batch of batches) {
    const problem = checkOrderBatch(batch, leafHashes.length, limits);
    if (problem !== undefined) return { ok: false, problem, leafHashes };
    for (const entry of batch.entries) leafHashes.push(auditLeafHash(entry));
  }
  return { ok: true, leafHashes };
}

/** Outcome of {@link resumeLogFromBatches}. */
export type LogResume =
  | { readonly ok: true; readonly log: MerkleLog }
  | { readonly ok: false; readonly problem: OrderProblem; readonly log: MerkleLog };

/**
 * The log a checkpointer (restarted, or a standby taking over) continues:
 * every recorded leaf appended in order, keeping only the compact range.
 * Because batches commit with the consumer offsets, the records after the
 * last batch are exactly those the committed offsets have not passed, so
 * continuing from here neither skips nor repeats a leaf. A problem in the
 * batches stops the resume: appending after it would fork the log.
 */
export function resumeLogFromBatches(
  batches: Iterable<LogOrderBatch>,
  limits: OrderLimits,
): LogResume {
  const log = new MerkleLog();
  for (const batch of batches) {
    const problem = checkOrderBatch(batch, log.size, limits);
    if (problem !== undefined) return { ok: false, problem, log };
    for (const entry of batch.entries) log.appendLeafHash(auditLeafHash(entry));
  }
  return { ok: true, log };
}

/** When checkpoints are cut (from the checkpointer's config). */
export interface CheckpointPolicy {
  /** Cut once this many leaves were appended since the last checkpoint. */
  readonly everyLeaves: number;
  /** Cut once this long has passed since the last checkpoint and there is a new leaf. */
  readonly everyMs: number;
}

/** What the policy looks at; the caller supplies the clock, so the decision stays pure. */
export interface CheckpointPolicyState {
  /** Leaves appended so far. */
  readonly treeSize: number;
  /** Tree size of the last checkpoint cut (0 before the first). */
  readonly checkpointedSize: number;
  /** When the last checkpoint was cut, epoch ms (the checkpointer's start before the first). */
  readonly lastCheckpointAtMs: number;
  readonly nowMs: number;
}

/** Whether to cut a checkpoint now, and which rule said so. */
export type CheckpointDecision =
  | { readonly cut: false }
  | { readonly cut: true; readonly reason: 'LEAVES' | 'TIME' };

/**
 * Decides whether to cut a checkpoint: after {@link CheckpointPolicy.everyLeaves}
 * new leaves, or after {@link CheckpointPolicy.everyMs} with at least one new
 * leaf. Never without a new leaf: a checkpoint of an unchanged tree adds
 * nothing an auditor can check, and the witness store is write-once.
 */
export function checkpointDue(
  state: CheckpointPolicyState,
  policy: CheckpointPolicy,
): CheckpointDecision {
  const added = state.treeSize - state.checkpointedSize;
  if (added <= 0) return { cut: false };
  if (added >= policy.everyLeaves) return { cut: true, reason: 'LEAVES' };
  if (state.nowMs - state.lastCheckpointAtMs >= policy.everyMs)
    return { cut: true, reason: 'TIME' };
  return { cut: false };
}
