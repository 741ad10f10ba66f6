import type {
  Admin,
  ConsumerGroupMetadata,
  Kafka as ExtendedKafka,
} from '@grantstream/kafkajs-extended';
import type { KafkaConnectionConfig } from '@grantstream/config';
import { InfrastructureError } from '@grantstream/errors';

// The client every process builds (createKafka) is our kafkajs fork
// (libs/kafkajs-extended): kafkajs 2.2.4 plus what exactly-once under
// failures needs (KIP-447): transactional offset commits that carry the
// consumer's group metadata (`consumer.groupMetadata()`,
// `transaction.sendOffsets({ consumerGroupMetadata })`), OffsetFetch with
// require_stable, and a partition reader that joins no group (TopicReader).

export type { ExtendedKafka, ConsumerGroupMetadata };

/**
 * A group's committed offsets of `topic`'s `partitions`, read with
 * require_stable: while a transaction holding offsets for a partition is
 * still open (or its commit is still being applied) the coordinator answers
 * UNSTABLE_OFFSET_COMMIT, which is retried within `retry`; the offset from
 * before that transaction is never returned. The read a runner needs after a
 * commit whose outcome it did not learn. Offsets are strings, -1 when the
 * group has none for a partition.
 */
export async function readStableOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: readonly number[],
  retry: KafkaConnectionConfig['retry'],
): Promise<Map<number, string>> {
  try {
    const answer = await admin.fetchStableOffsets({
      groupId,
      topics: [{ topic, partitions: [...partitions] }],
      retry: {
        retries: retry.retries,
        initialRetryTime: retry.initialRetryTimeMs,
        maxRetryTime: retry.maxRetryTimeMs,
      },
    });
    const offsets = new Map<number, string>();
    for (const t of answer) for (const p of t.partitions) offsets.set(p.partition, p.offset);
    return offsets;
  } catch (err) {
    throw new InfrastructureError(
      `the committed offsets of group ${groupId} on ${topic} stayed unstable or unreadable within the retry bounds`,
      { cause: err },
    );
  }
}
