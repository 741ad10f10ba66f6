import { Partitioners, type Admin, type Kafka, type Producer } from '@grantstream/kafkajs-extended';
import { InfrastructureError, WriterFencedError } from '@grantstream/errors';
import type { OutgoingMessage } from '../topic-io';

/** Options of {@link FencedTransactionalWriter}. */
export interface FencedWriterOptions {
  /** Shared by every replica: whoever initialises it fences the others. */
  transactionalId: string;
  /** Longest a transaction may stay open before the broker aborts it. */
  transactionTimeoutMs: number;
}

/** Offsets committed with a transaction: the next offset to read, per partition of one topic. */
export interface TransactionOffsets {
  groupId: string;
  topic: string;
  partitions: readonly { partition: number; offset: string }[];
}

/** Broker error types that mean another producer initialised our transactional id. */
const FENCED_TYPES: ReadonlySet<string> = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
]);
const MAX_CAUSE_DEPTH = 8;

/** Whether a kafkajs error (possibly wrapped by its retrier) says this producer was fenced. */
export function isFencedError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && FENCED_TYPES.has(type)) return true;
    if (/fenced/i.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * One transactional producer under a fixed transactional id, for a singleton
 * writer (a log whose records must form one sequence). {@link init}
 * initialises the id, which aborts whatever the previous holder of the id
 * left open and refuses every later request of that holder: after it
 * returns, what is committed on the topics is final until this writer
 * commits, so state read then is exact. Each {@link commit} writes messages
 * and consumer offsets atomically.
 */
export class FencedTransactionalWriter {
  private producer: Producer | null = null;
  private admin: Admin | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: FencedWriterOptions,
  ) {}

  /** Connects and initialises the transactional id, fencing every earlier writer with it. */
  async init(): Promise<void> {
    await this.close();
    const producer = this.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      // kafkajs initialises the producer id on the first transaction; an empty
      // one does it now. The coordinator completes (or aborts) the previous
      // holder's transaction before it answers, so nothing it wrote is pending.
      const init = await producer.transaction();
      await init.abort();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw new InfrastructureError(
        `initialising transactional id ${this.options.transactionalId} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.producer = producer;
  }

  /**
   * The committed offsets of a group on a topic (partition -> next offset),
   * read after {@link init}, when no transaction of an earlier holder can
   * still change them.
   */
  async committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const offsets = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const out = new Map<number, string>();
    for (const p of offsets[0]?.partitions ?? []) {
      if (p.offset !== '-1') out.set(p.partition, p.offset);
    }
    return out;
  }

  /**
   * Writes `batches` and commits `offsets` in one transaction. Throws
   * {@link WriterFencedError} when another writer initialised the id since
   * (stop writing), an InfrastructureError otherwise (the transaction was
   * aborted, or its outcome is unknown: call {@link init} again and re-read
   * the state before writing more).
   */
  async commit(
    batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[],
    offsets: TransactionOffsets,
  ): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new InfrastructureError('the writer is not initialised');
    let txn;
    try {
      txn = await producer.transaction();
      // A transaction may carry offsets only (records that made no output).
      if (batches.length > 0)
        await txn.sendBatch({
          acks: -1,
          topicMessages: batches.map((b) => ({
            topic: b.topic,
            messages: b.messages.map((m) => ({ ...m })),
          })),
        });
      await txn.sendOffsets({
        consumerGroupId: offsets.groupId,
        topics: [{ topic: offsets.topic, partitions: [...offsets.partitions] }],
      });
      await txn.commit();
    } catch (err) {
      await txn?.abort().catch(() => undefined);
      this.producer = null;
      await producer.disconnect().catch(() => undefined);
      if (isFencedError(err)) {
        throw new WriterFencedError(
          `transactional id ${this.options.transactionalId} was taken over by another writer`,
          { cause: err },
        );
      }
      throw new InfrastructureError(
        `transaction to ${batches.map((b) => b.topic).join(', ')} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Disconnects; an open transaction is left for the broker to abort at its timeout. */
  async close(): Promise<void> {
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}
