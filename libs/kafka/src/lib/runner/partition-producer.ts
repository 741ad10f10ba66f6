import { Partitioners, type Kafka, type Producer } from '@grantstream/kafkajs-extended';
import type { StageRunnerConfig } from '@grantstream/config';

/**
 * The transactional producer of one input partition: its id is
 * `<prefix>.<topic>.<partition>`, so whoever initialises it fences every
 * earlier producer of that partition (see StageRunner). Not connected.
 */
export function partitionProducer(
  kafka: Kafka,
  c: StageRunnerConfig,
  topic: string,
  partition: number,
): Producer {
  return kafka.producer({
    transactionalId: `${c.transactionalIdPrefix}.${topic}.${partition}`,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: c.transactionTimeoutMs,
    retry: {
      retries: c.producerRetry.retries,
      initialRetryTime: c.producerRetry.initialRetryTimeMs,
      maxRetryTime: c.producerRetry.maxRetryTimeMs,
    },
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * Connects a partition producer and initialises its transactional id (an
 * empty transaction does it), which bumps the producer epoch: the broker
 * then forgets the sequence numbers of the previous incarnation, so nothing
 * a refused request left half-appended can be taken for a duplicate.
 */
export async function initialisedPartitionProducer(
  kafka: Kafka,
  c: StageRunnerConfig,
  topic: string,
  partition: number,
): Promise<Producer> {
  const producer = partitionProducer(kafka, c, topic, partition);
  await producer.connect();
  try {
    const init = await producer.transaction();
    await init.abort();
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw err;
  }
  return producer;
}
