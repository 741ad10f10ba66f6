import type { Kafka } from 'kafkajs';
import { InfrastructureError } from '@grantstream/errors';
import {
  committedRecords,
  type AbortedTransaction,
  type FetchedBatchContext,
} from './committed-records';
import { headersOf, type ReadMessage } from './topic-io';

// kafkajs has no public way to read partitions without joining a consumer
// group. These internals (frozen: kafkajs 2.2.4 is its last release) fetch
// directly from partition leaders; aborted transactions and control records
// are filtered by committedRecords, as the Java consumer filters them.

interface RawRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  batchContext: FetchedBatchContext;
}

interface PartitionResponse {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset: string;
  abortedTransactions?: AbortedTransaction[] | null;
  messages: RawRecord[];
}

interface InternalBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: {
      topic: string;
      partitions: { partition: number; fetchOffset: string; maxBytes: number }[];
    }[];
  }): Promise<{ responses: { topicName: string; partitions: PartitionResponse[] }[] }>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findBroker(args: { nodeId: number }): Promise<InternalBroker>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

const READ_COMMITTED = 1;
const CONSUMER_REPLICA_ID = -1;

/** Options of {@link TopicScanner.scan}. */
export interface ScanOptions {
  /** Bytes asked for per fetch: bounds memory whatever the topic's size. */
  maxBytesPerFetch: number;
  /** How long one fetch may wait for data. */
  maxWaitMs: number;
  /** Empty fetches in a row below the end before the scan gives up on a partition. */
  maxEmptyFetches: number;
  /** Start here instead of each partition's first offset (partition -> offset). */
  from?: ReadonlyMap<number, string>;
  /** Only these partitions (a stage restoring one partition's state); every partition when absent. */
  partitions?: readonly number[];
  /**
   * Told, after the messages of each fetch were yielded, the offset the scan
   * of `partition` goes on from. It passes control records and aborted
   * transactions' records too, which are never yielded: a reader that stores
   * the last yielded offset plus one would re-read them forever and count
   * them as lag.
   */
  onPosition?: (partition: number, nextOffset: string) => void;
}

/**
 * Reads a whole topic from its first offset to the end it had when the scan
 * started, partition by partition, WITHOUT a consumer group: it never creates
 * a group and never commits or moves anyone's offsets. Reads are
 * read_committed. Memory is bounded by one fetch.
 */
export class TopicScanner {
  private cluster: InternalCluster | null = null;

  constructor(private readonly kafka: Kafka) {}

  private async connect(): Promise<InternalCluster> {
    if (this.cluster) return this.cluster;
    const symbol = Object.getOwnPropertySymbols(this.kafka).find(
      (s) => s.description === 'private:Kafka:createCluster',
    );
    const create = symbol
      ? ((this.kafka as unknown as Record<symbol, unknown>)[symbol] as (
          o: object,
        ) => InternalCluster)
      : undefined;
    if (!create) throw new InfrastructureError('this kafkajs version offers no cluster factory');
    const cluster = create({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED });
    await cluster.connect();
    this.cluster = cluster;
    return cluster;
  }

  /**
   * Each partition's end as a read_committed reader sees it (the last stable
   * offset): how far a reader at a stored position is behind.
   */
  async endOffsets(topic: string): Promise<Map<number, string>> {
    return (await this.bounds(topic)).ends;
  }

  /** Messages the scan of `topic` will visit at most (sum of end minus start offsets). */
  async size(topic: string): Promise<number> {
    const { starts, ends } = await this.bounds(topic);
    let n = 0;
    for (const [p, end] of ends) n += Number(BigInt(end) - BigInt(starts.get(p) ?? '0'));
    return n;
  }

  private async bounds(
    topic: string,
  ): Promise<{ starts: Map<number, string>; ends: Map<number, string> }> {
    const cluster = await this.connect();
    await cluster.addTargetTopic(topic);
    const partitions = cluster
      .findTopicPartitionMetadata(topic)
      .map((p) => ({ partition: p.partitionId }));
    const offsets = async (fromBeginning: boolean) =>
      new Map(
        (
          (await cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions }]))[0]
            ?.partitions ?? []
        ).map((p) => [p.partition, p.offset] as const),
      );
    return { starts: await offsets(true), ends: await offsets(false) };
  }

  /**
   * Every committed message of the topic (from `options.from` when given) up
   * to the end it had when the scan started, partition by partition, in offset order.
   */
  async *scan(topic: string, options: ScanOptions): AsyncGenerator<ReadMessage> {
    const cluster = await this.connect();
    const { starts, ends } = await this.bounds(topic);
    const leaders = new Map(
      cluster.findTopicPartitionMetadata(topic).map((p) => [p.partitionId, p.leader]),
    );
    const wanted = options.partitions === undefined ? null : new Set(options.partitions);
    for (const [partition, end] of [...ends].sort((a, b) => a[0] - b[0])) {
      if (wanted !== null && !wanted.has(partition)) continue;
      const first = starts.get(partition) ?? '0';
      const from = options.from?.get(partition);
      let offset = from !== undefined && BigInt(from) > BigInt(first) ? from : first;
      let empty = 0;
      while (BigInt(offset) < BigInt(end)) {
        const broker = await cluster.findBroker({ nodeId: leaders.get(partition) ?? 0 });
        const response = await broker.fetch({
          replicaId: CONSUMER_REPLICA_ID,
          isolationLevel: READ_COMMITTED,
          maxWaitTime: options.maxWaitMs,
          minBytes: 1,
          maxBytes: options.maxBytesPerFetch,
          topics: [
            {
              topic,
              partitions: [{ partition, fetchOffset: offset, maxBytes: options.maxBytesPerFetch }],
            },
          ],
        });
        const data = response.responses[0]?.partitions[0];
        if (!data) throw new InfrastructureError(`no fetch response for ${topic}[${partition}]`);
        if (data.errorCode !== 0) {
          throw new InfrastructureError(
            `fetch of ${topic}[${partition}] failed with error code ${data.errorCode}`,
          );
        }
        for (const m of committedRecords(offset, data.messages, data.abortedTransactions)) {
          if (BigInt(m.offset) >= BigInt(end)) break;
          yield {
            topic,
            partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            timestamp: m.timestamp,
            headers: headersOf(m.headers),
          };
        }
        const last = data.messages[data.messages.length - 1];
        if (last) {
          // Records past the end were fetched but not yielded: the position stops at the end.
          const next = BigInt(last.offset) + 1n;
          offset = (next < BigInt(end) ? next : BigInt(end)).toString();
          empty = 0;
          options.onPosition?.(partition, offset);
        } else if (BigInt(offset) >= BigInt(data.lastStableOffset)) {
          // Nothing readable at the last stable offset (an open transaction): the committed end.
          break;
        } else if ((empty += 1) >= options.maxEmptyFetches) {
          throw new InfrastructureError(
            `${topic}[${partition}] returned nothing at offset ${offset} below its end ${end}`,
          );
        }
      }
    }
  }

  async close(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = null;
    await cluster?.disconnect();
  }
}
