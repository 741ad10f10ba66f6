import type { PartitionReader } from '@grantstream/kafkajs-extended';
import { InfrastructureError } from '@grantstream/errors';
import type { ExtendedKafka } from './extended-kafka';
import { headersOf, type ReadMessage } from './topic-io';

/** Options of {@link TopicReader.scan}. */
export interface TopicReadOptions {
  /** Bytes asked for per fetch: bounds memory whatever the topic's size. */
  maxBytesPerFetch: number;
  /** How long one fetch may wait for data. */
  maxWaitMs: number;
  /** Empty fetches in a row below the end before the scan gives up on a partition. */
  maxEmptyFetches: number;
  /** Start here instead of each partition's first offset (partition -> offset). */
  from?: ReadonlyMap<number, string>;
  /** Only these partitions; every partition when absent. */
  partitions?: readonly number[];
  /**
   * Told, after the messages of each fetch were yielded, the offset the read
   * of `partition` goes on from. It passes control records and aborted
   * transactions' records, which are never yielded: a reader that stored the
   * last yielded offset plus one would re-read them and count them as lag.
   */
  onPosition?: (partition: number, nextOffset: string) => void;
}

/**
 * Reads a topic's partitions from a given offset to the end they had when
 * the read started, WITHOUT a consumer group: it never creates a group and
 * never commits or moves anyone's offsets (an auditor's replay, a dead-letter
 * listing). read_committed: records of aborted transactions and control
 * records are dropped by the client, as the Java consumer drops them. Built
 * on the public partition reader of our kafkajs fork; memory is bounded by
 * one fetch.
 */
export class TopicReader {
  private reader: PartitionReader | null = null;

  constructor(private readonly kafka: ExtendedKafka) {}

  private async connect(): Promise<PartitionReader> {
    if (this.reader) return this.reader;
    const reader = this.kafka.partitionReader();
    await reader.connect();
    this.reader = reader;
    return reader;
  }

  private async bounds(
    topic: string,
  ): Promise<{ starts: Map<number, string>; ends: Map<number, string> }> {
    const offsets = await (await this.connect()).offsets(topic);
    return {
      starts: new Map(offsets.map((o) => [o.partition, o.low] as const)),
      ends: new Map(offsets.map((o) => [o.partition, o.high] as const)),
    };
  }

  /** Each partition's read_committed end (last stable offset). */
  async endOffsets(topic: string): Promise<Map<number, string>> {
    return (await this.bounds(topic)).ends;
  }

  /** Messages a read of `topic` from its first offsets will visit at most. */
  async size(topic: string): Promise<number> {
    const { starts, ends } = await this.bounds(topic);
    let n = 0;
    for (const [p, end] of ends) n += Number(BigInt(end) - BigInt(starts.get(p) ?? '0'));
    return n;
  }

  /**
   * Every committed message of the topic (from `options.from` when given) up
   * to the end it had when the read started, partition by partition, in
   * offset order.
   */
  async *scan(topic: string, options: TopicReadOptions): AsyncGenerator<ReadMessage> {
    const reader = await this.connect();
    const { starts, ends } = await this.bounds(topic);
    const wanted = options.partitions === undefined ? null : new Set(options.partitions);
    for (const [partition, end] of [...ends].sort((a, b) => a[0] - b[0])) {
      if (wanted !== null && !wanted.has(partition)) continue;
      const first = starts.get(partition) ?? '0';
      const from = options.from?.get(partition);
      let offset = from !== undefined && BigInt(from) > BigInt(first) ? from : first;
      let empty = 0;
      while (BigInt(offset) < BigInt(end)) {
        const fetched = await reader.fetch({
          topic,
          partition,
          offset,
          maxBytes: options.maxBytesPerFetch,
          maxWaitMs: options.maxWaitMs,
        });
        for (const m of fetched.records) {
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
        if (BigInt(fetched.nextOffset) > BigInt(offset)) {
          // Batches past the end were fetched but not yielded: the position stops at the end.
          const next = BigInt(fetched.nextOffset);
          offset = (next < BigInt(end) ? next : BigInt(end)).toString();
          empty = 0;
          options.onPosition?.(partition, offset);
        } else if (BigInt(offset) >= BigInt(fetched.lastStableOffset)) {
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
    const reader = this.reader;
    this.reader = null;
    await reader?.disconnect();
  }
}
