import type { Admin } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import type { GrantLogger } from '@grantstream/logging';
import { readStableOffsets } from '../extended-kafka';
import { sleep, tpKey } from './runner-signals';
import type { PartitionPreparer } from './stage-handler';

/** What {@link CommittedOffsets} needs from the runner. */
export interface CommittedOffsetsOptions {
  config: Pick<StageRunnerConfig, 'groupId' | 'uncertainCommit' | 'transactionTimeoutMs'>;
  log: GrantLogger;
  /** The runner's admin client; null while it is not consuming. */
  admin: () => Admin | null;
  /** The group generation this member is in now (bumped on every join). */
  generation: () => number;
  /** Completes or aborts this member's own transaction cut off by a failure (InitProducerId). */
  settle: () => Promise<void>;
  preparePartition?: PartitionPreparer;
  signal: AbortSignal;
  /** The stable read; replaced in unit specs. */
  readStable?: typeof readStableOffsets;
}

/**
 * Where each input partition resumes, and when that must be asked again.
 * A partition is prepared on its first batch of each group generation and
 * after any failed transaction: the member settles its own transaction cut
 * off by a failure, re-reads the group's committed offset stable (a previous
 * owner's commit, or ours, still completing is waited out rather than read
 * from before it) and then lets the stage reload its state, which is then
 * final because nothing a previous owner left open can commit offsets any more.
 */
export class CommittedOffsets {
  /** Per input partition, the generation it was last prepared in. */
  private readonly prepared = new Map<string, number>();
  /** Per input partition, the next offset of a commit that failed with an unknown outcome. */
  private readonly uncertain = new Map<string, string>();

  constructor(private readonly options: CommittedOffsetsOptions) {}

  /**
   * Prepares the partition if it is not prepared in the current generation;
   * returns the committed offset then, or null when it was already prepared
   * or nothing is committed.
   */
  async prepare(topic: string, partition: number): Promise<string | null> {
    const key = tpKey(topic, partition);
    const generation = this.options.generation();
    if (this.prepared.get(key) === generation) return null;
    this.prepared.delete(key);
    // A transaction of ours cut off by a failure is completed or aborted by
    // initialising the producer again; the stable read then sees its outcome.
    if (this.uncertain.has(key)) await this.options.settle();
    const committed = await this.settled(topic, partition);
    // Nothing a previous owner left open can commit offsets any more, so state
    // restored now is final.
    await this.options.preparePartition?.({ topic, partition }, this.options.signal);
    if (generation === this.options.generation()) this.prepared.set(key, generation);
    return committed;
  }

  /**
   * A transaction of the partition failed: the chunk's handling may have
   * changed the stage's state, so the partition is prepared again before its
   * next batch. `uncertainNextOffset` is set when the commit's outcome is
   * unknown: the next preparation allows for it having gone through.
   */
  failed(topic: string, partition: number, uncertainNextOffset?: string): void {
    const key = tpKey(topic, partition);
    this.prepared.delete(key);
    if (uncertainNextOffset !== undefined) this.uncertain.set(key, uncertainNextOffset);
  }

  /** Forgets every preparation (the member leaves its group). */
  clear(): void {
    this.prepared.clear();
  }

  /**
   * The group's committed offset of a partition. When this process's last
   * commit for it failed with an unknown outcome, the transaction may still
   * complete on the broker after the fence, and the offset it commits appears
   * only then: re-read it for a while before taking the chunk as aborted, so
   * a chunk that did commit is not processed a second time.
   */
  private async settled(topic: string, partition: number): Promise<string | null> {
    const c = this.options.config;
    const read = async () => {
      const offsets = await this.options
        .admin()
        ?.fetchOffsets({ groupId: c.groupId, topics: [topic] });
      const o = offsets?.[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return o === '-1' ? null : o;
    };
    const key = tpKey(topic, partition);
    const uncertain = this.uncertain.get(key);
    // A previous owner's commit (or ours, cut off) may be completing right
    // after the fence: a stable read waits for it, a plain one may not.
    const stable = await this.stable(topic, partition);
    if (stable !== undefined) {
      if (uncertain === undefined) return stable;
      this.uncertain.delete(key);
      this.logOutcome(topic, partition, stable, uncertain, true);
      return stable;
    }
    let committed = await read();
    if (uncertain === undefined) return committed;
    const deadline = Date.now() + c.uncertainCommit.settleMs;
    while ((committed === null || BigInt(committed) < BigInt(uncertain)) && Date.now() < deadline) {
      await sleep(c.uncertainCommit.pollMs);
      committed = await read();
    }
    this.uncertain.delete(key);
    this.logOutcome(topic, partition, committed, uncertain, false);
    return committed;
  }

  private logOutcome(
    topic: string,
    partition: number,
    committed: string | null,
    uncertain: string,
    stable: boolean,
  ): void {
    this.options.log.info(
      {
        topic,
        partition,
        committed,
        uncertainNextOffset: uncertain,
        ...(stable ? { stable: true } : {}),
      },
      committed !== null && BigInt(committed) >= BigInt(uncertain)
        ? 'the commit cut off by the failure had completed'
        : 'the commit cut off by the failure did not complete; the chunk is processed again',
    );
  }

  /**
   * The committed offset read with require_stable (OffsetFetch v7, KIP-447):
   * the coordinator answers only once no transaction holding offsets for the
   * partition is pending, so after the fence the answer is the outcome of the
   * commit cut off by the failure, final, with no polling. Retried within the
   * transaction timeout plus the settle window (every uncertainCommit.pollMs).
   * Undefined when no stable answer came (a broker without OffsetFetch v7, or
   * the window ran out): the caller then polls as before.
   */
  private async stable(topic: string, partition: number): Promise<string | null | undefined> {
    const admin = this.options.admin();
    if (!admin) return undefined;
    const { groupId, uncertainCommit, transactionTimeoutMs } = this.options.config;
    const readStable = this.options.readStable ?? readStableOffsets;
    try {
      // A previous owner's transaction holding offsets for the partition ends
      // by its commit or abort, or by the coordinator's timeout at the latest.
      const waitMs = transactionTimeoutMs + uncertainCommit.settleMs;
      const offsets = await readStable(admin, groupId, topic, [partition], {
        retries: Math.ceil(waitMs / uncertainCommit.pollMs),
        initialRetryTimeMs: uncertainCommit.pollMs,
        maxRetryTimeMs: uncertainCommit.pollMs,
      });
      const o = offsets.get(partition) ?? '-1';
      return o === '-1' ? null : o;
    } catch (err) {
      this.options.log.warn(
        { topic, partition, err },
        'no stable read of the committed offset; polling it instead',
      );
      return undefined;
    }
  }
}
