import type { ConsumerGroupMetadata, Kafka, KafkaMessage } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import { DLQ_HEADERS } from '@grantstream/contracts';
import { InfrastructureError, RecordRefusedError, type ErrorCategory } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import type { OutgoingMessage } from '../topic-io';
import { CommittedOffsets, type CommittedOffsetsOptions } from './committed-offsets';
import { MemberTransactions, memberTransactionalId } from './member-transactions';
import type { MessageProcessor, ProcessedMessage } from './message-processor';
import { commitIsolating, type SliceCommit } from './poison-isolation';
import { Interrupted, PartitionLost, TransactionRefused } from './runner-signals';
import type { RunnerEmit } from './stage-runner-types';

/** One handled input of a chunk and what handling it gave. */
export interface HandledInput {
  message: KafkaMessage;
  processed: ProcessedMessage;
}

/** The chunk being committed: where it comes from and the membership it was fetched in. */
export interface ChunkScope {
  topic: string;
  partition: number;
  /** The member's group metadata when the batch was fetched (KIP-447 fencing). */
  group: ConsumerGroupMetadata;
  /** False once the partition moved or the generation changed: later splits are not attempted. */
  owned: () => boolean;
  /** Marks an input as consumed (the fetch position moves past it). */
  resolveOffset: (offset: string) => void;
  heartbeat: () => Promise<void>;
}

/** The member's single transactional producer as this unit uses it. */
export type Transactions = Pick<MemberTransactions, 'commit' | 'settle' | 'close'>;

/** What {@link PartitionTransactions} needs from the runner. */
export interface PartitionTransactionsOptions {
  kafka: Pick<Kafka, 'producer'>;
  config: StageRunnerConfig;
  log: GrantLogger;
  emit: RunnerEmit;
  /** Rebuilds a refused input's dead letter, smaller each time. */
  deadLetters: Pick<MessageProcessor, 'deadLetterParts' | 'fitDeadLetter'>;
  offsets: Omit<CommittedOffsetsOptions, 'config' | 'log' | 'settle'>;
  /** The member's producer; by default one with this process's transactional id. */
  transactions?: Transactions;
}

/**
 * How a chunk's outputs, dead letters and input offset commit: in one
 * transaction through the member's single producer, with the offsets
 * carrying the group metadata so the coordinator refuses a zombie (KIP-447).
 * A refused record splits the chunk until the input at fault is isolated
 * and dead-lettered; a refusal of the offsets means the partition is lost
 * (PartitionLost); an outage leaves the outcome unknown, remembered so the
 * next preparation re-reads the committed offset stable (see CommittedOffsets).
 */
export class PartitionTransactions {
  readonly offsets: CommittedOffsets;
  private readonly transactions: Transactions;

  constructor(private readonly options: PartitionTransactionsOptions) {
    this.transactions =
      options.transactions ??
      new MemberTransactions(options.kafka, options.config, memberTransactionalId(options.config));
    this.offsets = new CommittedOffsets({
      ...options.offsets,
      config: options.config,
      log: options.log,
      settle: () => this.transactions.settle(),
    });
  }

  /** Disconnects the producer; the member's partitions are prepared again if it rejoins. */
  async close(): Promise<void> {
    await this.transactions.close().catch(() => undefined);
    this.offsets.clear();
  }

  /**
   * Commits a handled chunk: in one transaction when the broker takes it;
   * otherwise split until each input whose records the broker refuses is
   * isolated and dead-lettered (see commitIsolating), the others committed
   * once each, in offset order. Outages still fail the chunk as before.
   * Returns false when the partition was lost or the runner stopped midway.
   */
  async commitChunk(scope: ChunkScope, items: readonly HandledInput[]): Promise<boolean> {
    const { topic, partition } = scope;
    let first = true;
    // Every split transaction after the first re-checks ownership: no work is
    // spent on a partition this member lost.
    const attempt = async (run: readonly HandledInput[]): Promise<SliceCommit> => {
      if (!first && !scope.owned()) throw new Interrupted();
      first = false;
      try {
        await this.commitRun(scope, run);
      } catch (err) {
        if (err instanceof TransactionRefused) return { committed: false, refusal: err.refusal };
        throw err;
      }
      scope.resolveOffset((run[run.length - 1] as HandledInput).message.offset);
      await scope.heartbeat();
      return { committed: true };
    };
    try {
      const report = await commitIsolating(items, {
        maxRefusedTransactions: this.options.config.poison.maxRefusedTransactions,
        commit: attempt,
        isolate: async (item, _index, refusal) => {
          await this.isolateRefused(scope, item, refusal, attempt);
        },
        onSplit: (step) => {
          const firstOffset = (items[step.start] as HandledInput).message.offset;
          const fields = {
            topic,
            partition,
            firstOffset,
            size: step.size,
            into: step.into,
            refused: step.refused,
          };
          this.options.emit('split', fields);
          this.options.log.warn(
            fields,
            step.singles
              ? 'refused run split into single inputs (split budget spent)'
              : 'refused run split in halves',
          );
        },
      });
      if (report.refused > 0) {
        this.options.log.warn(
          { topic, partition, ...report },
          'chunk committed after isolating the inputs the broker refused',
        );
      }
      return true;
    } catch (err) {
      if (err instanceof Interrupted) return false;
      throw err;
    }
  }

  /**
   * Commits consecutive inputs of a chunk with their outputs and dead letters
   * in one transaction; throws TransactionRefused, PartitionLost or an
   * InfrastructureError.
   */
  private async commitRun(scope: ChunkScope, run: readonly HandledInput[]): Promise<void> {
    const last = run[run.length - 1];
    if (!last) return;
    const outputs = new Map<string, OutgoingMessage[]>();
    let outputCount = 0;
    let deadLetters = 0;
    for (const { processed } of run) {
      for (const { topic: out, message: m } of processed.records) {
        const list = outputs.get(out);
        if (list) list.push(m);
        else outputs.set(out, [m]);
        outputCount += 1;
      }
      if (processed.deadLettered) deadLetters += 1;
    }
    const nextOffset = (BigInt(last.message.offset) + 1n).toString();
    await this.commit(scope, outputs, nextOffset);
    this.options.emit('committed', {
      topic: scope.topic,
      partition: scope.partition,
      inputs: run.length,
      outputs: outputCount,
      deadLetters,
      nextOffset,
      inputTimestamps: run.map((r) => Number(r.message.timestamp)),
    });
  }

  /** One transaction, and what its failure means for the partition. */
  private async commit(
    { topic, partition, group }: ChunkScope,
    outputs: Map<string, OutgoingMessage[]>,
    nextOffset: string,
  ): Promise<void> {
    const { emit, log } = this.options;
    const outcome = await this.transactions.commit({
      topic,
      partition,
      outputs,
      nextOffset,
      group,
    });
    if (outcome.kind === 'committed') return;
    const { error } = outcome;
    if (outcome.kind === 'refused') {
      // The chunk's handling may have changed the stage's state for this
      // partition: it is prepared again before its next batch.
      this.offsets.failed(topic, partition);
      emit('aborted', { topic, partition, error, refusal: outcome.type });
      log.warn(
        { err: error, topic, partition, refusal: outcome.type, nextOffset },
        'the broker refused a record of this transaction; splitting the chunk',
      );
      throw new TransactionRefused(outcome.type);
    }
    if (outcome.kind === 'lost') {
      this.offsets.failed(topic, partition);
      emit('aborted', { topic, partition, error });
      log.warn(
        {
          err: error,
          topic,
          partition,
          type: outcome.type,
          nextOffset,
          generation: group.generationId,
        },
        'transaction aborted: the group refused this member its offsets, the partition is lost; the chunk is dropped',
      );
      throw new PartitionLost(error);
    }
    // The next batch re-reads the committed offset, allowing for this commit
    // having gone through after all.
    this.offsets.failed(topic, partition, nextOffset);
    emit('aborted', { topic, partition, error });
    log.warn(
      { err: error, topic, partition },
      'transaction aborted; the chunk will be processed again',
    );
    throw new InfrastructureError(
      `transaction for ${topic}[${partition}] failed: ${error.message}`,
      { cause: error },
    );
  }

  /**
   * Settles one input the broker refused alone, each step smaller than the
   * last, so it ends in a categorized outcome and never loops: its dead
   * letter (RECORD_REFUSED when its own outputs were refused) with its
   * evidence; then a minimal dead letter (headers and the value's
   * reference) with its evidence; then the minimal dead letter alone; then
   * only the input offset, with the value kept in the dead-letter store and
   * an error logged.
   */
  private async isolateRefused(
    { topic, partition }: ChunkScope,
    { message, processed }: HandledInput,
    refusal: string,
    attempt: (run: readonly HandledInput[]) => Promise<SliceCommit>,
  ): Promise<void> {
    const { emit, deadLetters } = this.options;
    const log = this.options.log.child({ topic, partition, offset: message.offset });
    const settle = async (
      outcome: 'dead_lettered' | 'minimal' | 'unrecorded',
      records: ProcessedMessage['records'],
      code: string,
      category: ErrorCategory,
    ): Promise<boolean> => {
      const result = await attempt([{ message, processed: { records, deadLettered: true } }]);
      if (!result.committed) return false;
      emit('isolated', { topic, partition, offset: message.offset, refusal, outcome });
      if (outcome !== 'unrecorded')
        emit('deadLettered', { topic, partition, offset: message.offset, category, code });
      return true;
    };
    let parts = processed.deadLetter;
    if (!processed.deadLettered || !parts) {
      const error = new RecordRefusedError(
        `the broker refused a record of this input's results (${refusal}); the input is dead-lettered instead`,
        { metadata: { refusal } },
      );
      log.warn({ err: error.toJSON() }, 'input isolated: dead-lettering it');
      parts = await deadLetters.deadLetterParts(topic, partition, message, error, 1, undefined, {});
      const dl = await deadLetters.fitDeadLetter(parts);
      if (await settle('dead_lettered', [dl, ...parts.evidence], error.code, error.category))
        return;
    }
    const { code, category } = parts.context.error;
    const minimal = await deadLetters.fitDeadLetter(parts, 'minimal');
    log.warn({ refusal }, 'dead letter refused: trying the minimal dead letter');
    if (await settle('minimal', [minimal, ...parts.evidence], code, category)) return;
    if (await settle('minimal', [minimal], code, category)) return;
    log.error(
      {
        refusal,
        code,
        category,
        valueRef: minimal.message.headers?.[DLQ_HEADERS.VALUE_REF]?.toString(),
      },
      'the broker refuses even the minimal dead letter: committing the offset alone; the value stays in the dead-letter store and at its source position',
    );
    if (await settle('unrecorded', [], code, category)) return;
    throw new InfrastructureError(
      `the broker refused an offset-only transaction for ${topic}[${partition}]@${message.offset} (${refusal})`,
    );
  }
}
