import { hostname } from 'node:os';
import {
  Partitioners,
  type ConsumerGroupMetadata,
  type Kafka,
  type Producer,
} from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';
import type { OutgoingMessage } from '../topic-io';
import { kafkaSecurityFailureOf } from '../kafka-client';
import { requestsOf } from './produce-requests';
import { causeOfType, classifyTransactionFailure } from './transaction-failure';

/** Runners made so far in this process, per transactional id prefix. */
const runnersPerPrefix = new Map<string, number>();

/**
 * The transactional id of a new runner of this process:
 * `<prefix>.<instance>.<n>`, where the instance is `runner.instanceId` when
 * set (a pod name), else `<host>.<pid>`, and `n` counts the runners of this
 * prefix made by the process (tests run several members in one process).
 * Unique among live members, and the same for a process restarted under
 * the same instance id, whose InitProducerId then aborts what the dead
 * incarnation left open at once instead of after its transaction timeout.
 */
export function memberTransactionalId(
  c: Pick<StageRunnerConfig, 'transactionalIdPrefix' | 'instanceId'>,
  counter: Map<string, number> = runnersPerPrefix,
): string {
  const n = counter.get(c.transactionalIdPrefix) ?? 0;
  counter.set(c.transactionalIdPrefix, n + 1);
  const instance = c.instanceId ?? `${hostname()}.${process.pid}`;
  return `${c.transactionalIdPrefix}.${instance}.${n}`;
}

/** One chunk's transaction: its outputs and the input offset it commits. */
export interface ChunkTransaction {
  topic: string;
  partition: number;
  outputs: Map<string, OutgoingMessage[]>;
  nextOffset: string;
  /** The member's group metadata when the chunk's batch was fetched (KIP-447 fencing). */
  group: ConsumerGroupMetadata;
}

/** How a chunk's transaction ended. Every failure was aborted (or left to time out). */
export type TransactionOutcome =
  | { kind: 'committed' }
  /** The broker refused a record; known not committed (the abort succeeded). */
  | { kind: 'refused'; type: string; error: Error }
  /**
   * The group coordinator refused the offsets (stale generation, evicted):
   * the partition is lost. `error` is the broker's own error.
   */
  | { kind: 'lost'; type: string; error: Error }
  /** An outage: the commit may or may not have happened. */
  | { kind: 'unknown'; error: Error };

/** What a {@link MemberTransactions} needs from the Kafka client. */
export type TransactionalClient = Pick<Kafka, 'producer'>;

/**
 * The member's ONE transactional producer, shared by every partition it
 * consumes. A producer runs one transaction at a time, so transactions are
 * serialised here (handling stays concurrent; only produce-and-commit
 * queues). Zombie fencing comes from the group: every offset commit carries
 * the consumer's group metadata, and the coordinator refuses a member whose
 * generation is past (see {@link TransactionOutcome} `lost`).
 *
 * After any failed transaction the producer is discarded and the next use
 * initialises the same transactional id again: the epoch bump completes or
 * aborts whatever the failed one left pending on the coordinator (so a
 * stable offset read that follows sees its outcome) and resets sequence
 * numbers, so a retried request is never taken for a duplicate.
 */
export class MemberTransactions {
  private producer: Promise<Producer> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: TransactionalClient,
    private readonly c: StageRunnerConfig,
    /** This member's transactional id (see {@link memberTransactionalId}). */
    readonly transactionalId: string,
  ) {}

  /** Runs `fn` when every transaction queued before it has ended. */
  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private initialised(): Promise<Producer> {
    if (!this.producer) {
      const p = (async () => {
        const producer = this.kafka.producer({
          transactionalId: this.transactionalId,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: this.c.transactionTimeoutMs,
          retry: {
            retries: this.c.producerRetry.retries,
            initialRetryTime: this.c.producerRetry.initialRetryTimeMs,
            maxRetryTime: this.c.producerRetry.maxRetryTimeMs,
          },
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await producer.connect();
        try {
          // kafkajs initialises the producer id on the first transaction; an
          // empty one does it now, before anything depends on the epoch bump.
          const init = await producer.transaction();
          await init.abort();
        } catch (err) {
          await producer.disconnect().catch(() => undefined);
          throw err;
        }
        return producer;
      })();
      this.producer = p;
      p.catch(() => {
        if (this.producer === p) this.producer = null;
      });
    }
    return this.producer;
  }

  private async discard(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p) await p.then((producer) => producer.disconnect()).catch(() => undefined);
  }

  /**
   * Waits for the queued transactions and initialises the producer if a
   * failure discarded it: whatever a failed transaction left pending is then
   * settled on the coordinator. Throws when the broker cannot be reached.
   */
  settle(): Promise<void> {
    return this.serialised(async () => {
      await this.initialised();
    });
  }

  /**
   * Produces a chunk's outputs and commits its input offset, with the group
   * metadata, in one transaction. Throws only a security failure (the
   * principal or its credentials refused); every other end is an outcome.
   */
  commit(t: ChunkTransaction): Promise<TransactionOutcome> {
    return this.serialised(async () => {
      let producer: Producer;
      try {
        producer = await this.initialised();
      } catch (err) {
        const security = kafkaSecurityFailureOf(err);
        if (security) throw security;
        return { kind: 'unknown', error: err as Error };
      }
      const txn = await producer.transaction().catch((err: unknown) => err as Error);
      if (txn instanceof Error) {
        await this.discard();
        const security = kafkaSecurityFailureOf(txn);
        if (security) throw security;
        return { kind: 'unknown', error: txn };
      }
      try {
        // Several requests when the chunk is large: kafkajs puts all of one
        // partition's messages in one record batch, which the broker caps.
        for (const topicMessages of requestsOf(t.outputs, this.c.maxRequestBytes)) {
          await txn.sendBatch({ acks: -1, topicMessages });
        }
        await txn.sendOffsets({
          consumerGroupId: this.c.groupId,
          topics: [
            { topic: t.topic, partitions: [{ partition: t.partition, offset: t.nextOffset }] },
          ],
          consumerGroupMetadata: t.group,
        });
        await txn.commit();
        return { kind: 'committed' };
      } catch (err) {
        const error = err as Error;
        const failure = classifyTransactionFailure(err);
        const aborted = await txn.abort().then(
          () => true,
          () => false,
        );
        await this.discard();
        const security = kafkaSecurityFailureOf(err);
        if (security) throw security;
        if (failure.kind === 'refused' && aborted)
          return { kind: 'refused', type: failure.type, error };
        // Refused offsets never commit: the transaction is aborted, or it times out.
        if (failure.kind === 'lost')
          return { kind: 'lost', type: failure.type, error: causeOfType(error, failure.type) };
        return { kind: 'unknown', error };
      }
    });
  }

  /** Waits for the queued transactions, then disconnects the producer. */
  close(): Promise<void> {
    return this.serialised(() => this.discard());
  }
}
