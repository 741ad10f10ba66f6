import {
  MerkleLog,
  auditLeafHash,
  checkOrderBatch,
  checkpointDue,
  type AuditLeafFields,
  type CheckpointPolicy,
  type LogOrderBatch,
  type LogOrderEntry,
  type OrderProblem,
} from '@grantstream/audit';

/** One audit record as the checkpointer read it; `leaf` is absent for a record that is no event. */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  /** The leaf of a committed, decodable audit event; absent for a tombstone or an undecodable value. */
  readonly leaf?: AuditLeafFields;
}

/** The last checkpoint the log holds (from the checkpoint topic). */
export interface LastCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly atMs: number;
}

/** What one transaction writes: a batch (when there are new leaves), positions, maybe a checkpoint. */
export interface CommitPlan {
  readonly batch?: LogOrderBatch;
  /** Next offset to read per audit partition, every partition read so far. */
  readonly positions: ReadonlyMap<number, string>;
  /** The checkpoint to sign and publish in the same transaction, when due. */
  readonly checkpoint?: { readonly size: number; readonly rootHash: Buffer; readonly atMs: number };
}

/** Why the recorded state cannot be continued without forking the log. */
export type ResumeProblem =
  | { readonly kind: 'ORDER'; readonly problem: OrderProblem }
  | { readonly kind: 'ROOT_MISMATCH'; readonly size: number }
  | { readonly kind: 'CHECKPOINT_PAST_ORDER'; readonly size: number; readonly leaves: number };

/**
 * The checkpointer's log as pure state: the Merkle log's compact range, the
 * next audit offset per partition, the leaves read since the last commit and
 * the last checkpoint. No I/O and no clock: the service feeds it what it read
 * and the time, and writes what {@link plan} returns.
 *
 * Resume: the leaves come back from the order batches, in order, and the
 * positions are the later of each partition's committed offset and the offset
 * after its last recorded leaf. Both are written in one transaction, so they
 * agree; taking the later one keeps a leaf from being appended twice even
 * when an offset read is stale, and records between a partition's last leaf
 * and its committed offset are ones that made no leaf (tombstones,
 * undecodable values), which yield none when read again either.
 */
export class LogState {
  private readonly log = new MerkleLog();
  private readonly positions = new Map<number, bigint>();
  private pending: LogOrderEntry[] = [];
  private readonly pendingPositions = new Map<number, bigint>();
  private checkpointedSize = 0;
  private lastCheckpointAtMs: number;
  private resumeProblem: ResumeProblem | undefined;

  constructor(
    private readonly options: {
      readonly maxBatchEntries: number;
      readonly policy: CheckpointPolicy;
      /** When the service started: the reference time of the first checkpoint. */
      readonly startedAtMs: number;
      /** The last checkpoint on the checkpoint topic, if any. */
      readonly lastCheckpoint?: LastCheckpoint;
    },
  ) {
    this.lastCheckpointAtMs = options.lastCheckpoint?.atMs ?? options.startedAtMs;
  }

  /** Leaves in the log (committed ones plus those read since the last plan). */
  get size(): number {
    return this.log.size;
  }

  /** Leaves read since the last plan. */
  get pendingLeaves(): number {
    return this.pending.length;
  }

  /** The first thing wrong with the recorded state, once {@link finishResume} ran. */
  get problem(): ResumeProblem | undefined {
    return this.resumeProblem;
  }

  /** Appends one recorded batch (resume); false once the batches stop being a log. */
  resumeBatch(batch: LogOrderBatch): boolean {
    if (this.resumeProblem) return false;
    const problem = checkOrderBatch(batch, this.log.size, this.options);
    if (problem) {
      this.resumeProblem = { kind: 'ORDER', problem };
      return false;
    }
    const last = this.options.lastCheckpoint;
    for (const entry of batch.entries) {
      this.log.appendLeafHash(auditLeafHash(entry));
      this.advance(this.positions, entry.partition, entry.offset);
      if (last && this.log.size === last.size && !this.log.root().equals(last.rootHash)) {
        this.resumeProblem = { kind: 'ROOT_MISMATCH', size: last.size };
        return false;
      }
    }
    return true;
  }

  /**
   * Ends the resume with the committed offsets. Returns the positions to read
   * the audit topic from, or undefined when the state must not be continued
   * (see {@link problem}).
   */
  finishResume(committed: ReadonlyMap<number, string>): ReadonlyMap<number, string> | undefined {
    const last = this.options.lastCheckpoint;
    if (!this.resumeProblem && last && last.size > this.log.size) {
      this.resumeProblem = {
        kind: 'CHECKPOINT_PAST_ORDER',
        size: last.size,
        leaves: this.log.size,
      };
    }
    if (this.resumeProblem) return undefined;
    this.checkpointedSize = last?.size ?? 0;
    for (const [partition, offset] of committed) {
      const next = BigInt(offset);
      if (next > (this.positions.get(partition) ?? -1n)) this.positions.set(partition, next);
    }
    return this.readPositions();
  }

  /** Where to read each partition next (after the leaves read so far). */
  readPositions(): ReadonlyMap<number, string> {
    const out = new Map<number, string>();
    for (const [p, o] of this.positions) out.set(p, o.toString());
    for (const [p, o] of this.pendingPositions) out.set(p, o.toString());
    return out;
  }

  /** Takes one audit record read after the resume positions. */
  take(record: ReadRecord): void {
    if (record.leaf)
      this.pending.push({ ...record.leaf, partition: record.partition, offset: record.offset });
    this.advance(this.pendingPositions, record.partition, record.offset);
  }

  /** Whether the records read since the last plan fill a batch. */
  get batchFull(): boolean {
    return this.pending.length >= this.options.maxBatchEntries;
  }

  /**
   * What to commit now: the leaves read since the last plan as one batch
   * (appended to the log here), the positions, and a checkpoint when
   * `checkpointDue` says so. Undefined when there is nothing to write. The
   * caller writes it in one transaction and then calls {@link committed}; if
   * the transaction fails, this state is discarded and rebuilt from the topics.
   */
  plan(nowMs: number): CommitPlan | undefined {
    const entries = this.pending;
    const moved = [...this.pendingPositions].some(([p, o]) => o > (this.positions.get(p) ?? -1n));
    let batch: LogOrderBatch | undefined;
    if (entries.length > 0) {
      batch = { firstIndex: this.log.size, entries };
      for (const entry of entries) this.log.appendLeafHash(auditLeafHash(entry));
    }
    const due = checkpointDue(
      {
        treeSize: this.log.size,
        checkpointedSize: this.checkpointedSize,
        lastCheckpointAtMs: this.lastCheckpointAtMs,
        nowMs,
      },
      this.options.policy,
    );
    if (!batch && !moved && !due.cut) return undefined;
    const positions = new Map(this.positions);
    for (const [p, o] of this.pendingPositions) positions.set(p, o);
    this.pending = [];
    return {
      ...(batch ? { batch } : {}),
      positions: new Map([...positions].map(([p, o]) => [p, o.toString()])),
      ...(due.cut
        ? { checkpoint: { size: this.log.size, rootHash: this.log.root(), atMs: nowMs } }
        : {}),
    };
  }

  /** Records that a planned transaction committed. */
  committed(plan: CommitPlan): void {
    for (const [p, o] of plan.positions) this.positions.set(p, BigInt(o));
    this.pendingPositions.clear();
    if (plan.checkpoint) {
      this.checkpointedSize = plan.checkpoint.size;
      this.lastCheckpointAtMs = plan.checkpoint.atMs;
    }
  }

  private advance(map: Map<number, bigint>, partition: number, offset: string): void {
    const next = BigInt(offset) + 1n;
    if (next > (map.get(partition) ?? -1n)) map.set(partition, next);
  }
}
