/** How far the read model is behind one partition. */
export interface PartitionLag {
  partition: number;
  /** The partition's end as a read_committed reader sees it (last stable offset). */
  end: string;
  /** Where the read model's next read starts. */
  position: string;
  lag: number;
}

/** How far the read model is behind one topic. */
export interface TopicLag {
  topic: string;
  /** Records committed to the topic that the read model has not read yet. */
  lag: number;
  partitions: PartitionLag[];
}

/** The projector's progress: lag per topic, as of the last pass over the topics. */
export interface ProjectionLag {
  topics: TopicLag[];
  /** Sum of every topic's lag. */
  total: number;
  /** When the ends were last read (epoch ms); null before the first pass. */
  measuredAt: number | null;
  /** When the last pass found nothing left to read; null until it has caught up once. */
  caughtUpAt: number | null;
  /** The last pass's failure, if it failed; cleared by the next pass that succeeds. */
  lastError: string | null;
}

/**
 * Lag of one topic: per partition, its end minus the stored position (the
 * whole partition for one never read, counted from its first offset).
 */
export function topicLag(
  topic: string,
  ends: ReadonlyMap<number, string>,
  positions: ReadonlyMap<number, string>,
  starts: ReadonlyMap<number, string> = new Map(),
): TopicLag {
  const partitions = [...ends]
    .sort((a, b) => a[0] - b[0])
    .map(([partition, end]) => {
      const position = positions.get(partition) ?? starts.get(partition) ?? '0';
      const behind = BigInt(end) - BigInt(position);
      return { partition, end, position, lag: behind > 0n ? Number(behind) : 0 };
    });
  return { topic, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions };
}
