import { randomUUID } from 'node:crypto';
import {
  CompressionTypes,
  Partitioners,
  type Kafka,
  type Producer,
} from '@grantstream/kafkajs-extended';
import { InfrastructureError } from '@grantstream/errors';

/** A message to produce; bytes as given, nothing re-encoded. */
export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

/** A message as read from a topic, bytes untouched. */
export interface ReadMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  timestamp: string;
}

/** Header values as kafkajs may give them: a string or Buffer, or a list of them. */
type KafkaHeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** Headers as Buffers, the first value of a repeated header: how every reader here exposes them. */
export function headersOf(
  headers: Record<string, KafkaHeaderValue> | undefined,
): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = typeof first === 'string' ? Buffer.from(first) : first;
  }
  return out;
}

/** Offsets by partition, by topic. */
export type TopicPositions = Map<string, Map<number, string>>;

/** Options of {@link TopicIO.read}. */
export interface ReadOptions {
  /** Stop once this many messages arrived. */
  expected: number;
  /** Stop after this long even if fewer arrived. */
  timeoutMs: number;
  /** read_committed hides aborted and still-open transactions (what downstream stages see). */
  isolation: 'read_committed' | 'read_uncommitted';
}

/**
 * Produce and read whole messages: what CLIs (submit, redrive) and tests need.
 * Stages do not use this; they go through the transactional stage runner.
 */
export class TopicIO {
  private producer: Producer | null = null;
  private readonly transactional = new Map<string, Producer>();

  constructor(private readonly kafka: Kafka) {}

  /**
   * Sends the messages with an idempotent, acks=all producer in one batch;
   * `compression: 'gzip'` sends the batch gzip-compressed, as many upstream
   * producers do (what the broker's size limit then counts is the compressed batch).
   */
  async produce(
    topic: string,
    messages: readonly OutgoingMessage[],
    options: { compression?: 'gzip' } = {},
  ): Promise<void> {
    if (!this.producer) {
      // The Java-compatible murmur2 partitioner: a grant id lands on the same
      // partition whether a Java parser or this CLI produced it.
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
    }
    try {
      await this.producer.send({
        topic,
        acks: -1,
        messages: messages.map((m) => ({ ...m })),
        ...(options.compression === 'gzip' ? { compression: CompressionTypes.GZIP } : {}),
      });
    } catch (err) {
      throw new InfrastructureError(`produce to ${topic} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * Sends messages to several topics in one transaction under
   * `transactionalId`: a read_committed reader sees all of them or none. A
   * second process using the same id fences this one (its next send fails)
   * instead of interleaving with it.
   */
  async produceAtomically(
    transactionalId: string,
    batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[],
    options: { compression?: 'gzip' } = {},
  ): Promise<void> {
    let producer = this.transactional.get(transactionalId);
    if (!producer) {
      producer = this.kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.transactional.set(transactionalId, producer);
    }
    const transaction = await producer.transaction();
    try {
      await transaction.sendBatch({
        acks: -1,
        topicMessages: batches.map((b) => ({
          topic: b.topic,
          messages: b.messages.map((m) => ({ ...m })),
        })),
        ...(options.compression === 'gzip' ? { compression: CompressionTypes.GZIP } : {}),
      });
      await transaction.commit();
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      throw new InfrastructureError(
        `transaction to ${batches.map((b) => b.topic).join(', ')} failed and was aborted: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Reads a topic from the beginning with a throwaway consumer group, deleted
   * afterwards so that reads leave no committed offsets behind.
   */
  async read(topic: string, options: ReadOptions): Promise<ReadMessage[]> {
    const groupId = `grantstream-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId,
      readUncommitted: options.isolation === 'read_uncommitted',
    });
    const out: ReadMessage[] = [];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const timer = setTimeout(done, options.timeoutMs);
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic: t, partition, message }) => {
          out.push({
            topic: t,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: headersOf(message.headers),
            timestamp: message.timestamp,
          });
          if (out.length >= options.expected) done();
          return Promise.resolve();
        },
      });
      await finished;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
      const admin = this.kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
    return out;
  }

  /** The current end offset of every partition of each topic: where a {@link follow} should start. */
  endOffsets(topics: readonly string[]): Promise<TopicPositions> {
    return this.watermarks(topics, 'high');
  }

  /**
   * The first offset each partition of each topic still holds (its log start):
   * where a consumer group that re-reads the whole history should start.
   */
  startOffsets(topics: readonly string[]): Promise<TopicPositions> {
    return this.watermarks(topics, 'low');
  }

  private async watermarks(
    topics: readonly string[],
    mark: 'high' | 'low',
  ): Promise<TopicPositions> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const positions: TopicPositions = new Map();
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        positions.set(topic, new Map(offsets.map((o) => [o.partition, o[mark]])));
      }
      return positions;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Follows topics from the given positions (read_committed, throwaway group,
   * nothing committed) and hands every message to `onMessage` until it
   * returns true or `timeoutMs` passes. Returns true when `onMessage` ended it.
   * Starting from positions taken before producing means nothing produced
   * afterwards is missed, whenever the consumer joins.
   */
  async follow(
    from: TopicPositions,
    onMessage: (message: ReadMessage) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const groupId = `grantstream-follower-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId });
    let ended = false;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const timer = setTimeout(done, timeoutMs);
    // onMessage can only end the follow when a message arrives: a caller that
    // is finished while the topics are quiet stops it through the signal.
    signal?.addEventListener('abort', () => done(), { once: true });
    if (signal?.aborted) done();
    const seeked = new Set<string>();
    try {
      await consumer.connect();
      for (const topic of from.keys()) await consumer.subscribe({ topic, fromBeginning: true });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const key = `${topic}:${partition}`;
            const offset = from.get(topic)?.get(partition);
            if (offset === undefined || seeked.has(key)) continue;
            seeked.add(key);
            consumer.seek({ topic, partition, offset });
          }
        }
      });
      await consumer.run({
        autoCommit: false,
        eachMessage: ({ topic, partition, message }) => {
          if (ended) return Promise.resolve();
          const start = from.get(topic)?.get(partition);
          if (start !== undefined && BigInt(message.offset) < BigInt(start))
            return Promise.resolve();
          const stop = onMessage({
            topic,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: headersOf(message.headers),
            timestamp: message.timestamp,
          });
          if (stop) {
            ended = true;
            done();
          }
          return Promise.resolve();
        },
      });
      await finished;
      return ended;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
      const admin = this.kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }

  /** Disconnects the producers, if any were made. */
  async close(): Promise<void> {
    const producers = [this.producer, ...this.transactional.values()];
    this.producer = null;
    this.transactional.clear();
    for (const p of producers) if (p) await p.disconnect();
  }
}
