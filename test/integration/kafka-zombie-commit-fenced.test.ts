// Guarantee: a member that lost its place in the group cannot commit offsets
// in a transaction. A transactional offset commit carries the consumer's
// group metadata (TxnOffsetCommit v3, KIP-447): once the group moved to a new
// generation, a commit with the old generation is refused by the broker
// (ILLEGAL_GENERATION) and its transaction aborts, while the same producer
// (one transactional id, not one per partition) commits with the current
// generation. kafkajs's own sendOffsets carries no metadata: the zombie's
// commit goes through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readStableOffsets,
  type ConsumerGroupMetadata,
  type ExtendedKafka,
  type PlatformClients,
} from '@grantstream/kafka';
import { testClients, testConfig, uniqueName } from '@grantstream/testing';

type Consumer = ReturnType<ExtendedKafka['consumer']>;

describe('zombie transactional commit', () => {
  const config = testConfig();
  const topic = uniqueName('zombie-commit');
  // The members subscribe to `topic`; the transactions commit offsets of
  // `input`, which no member reads, so no member's own offset bookkeeping
  // (kafkajs commits a starting offset for a partition without one) mixes in.
  const input = uniqueName('zombie-commit-input');
  const group = uniqueName('zombie-commit-group');
  let clients: PlatformClients;
  let kafka: ExtendedKafka;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    clients = await testClients();
    await clients.admin.createTopics([
      { name: topic, partitions: 2, replicationFactor: 1, config: {}, valueSchema: null },
      { name: input, partitions: 1, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
    kafka = clients.kafka;
  });

  afterAll(async () => {
    for (const c of consumers) await c.disconnect();
    await clients.admin.deleteTopics([topic, input]);
    await clients.close();
  });

  /** A member of the group that consumes nothing and commits nothing itself. */
  async function join(): Promise<Consumer> {
    const consumer = kafka.consumer({
      groupId: group,
      sessionTimeout: config.runner.sessionTimeoutMs,
      heartbeatInterval: config.runner.heartbeatIntervalMs,
    });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: () => Promise.resolve() });
    return consumer;
  }

  /** Resolves with the member's metadata once it is in a generation newer than `after`. */
  async function generationOf(consumer: Consumer, after = 0): Promise<ConsumerGroupMetadata> {
    const deadline = Date.now() + config.stack.readyTimeoutMs;
    for (;;) {
      const metadata = consumer.groupMetadata();
      if (metadata && metadata.generationId > after) return metadata;
      if (Date.now() > deadline) throw new Error(`${group} never reached a generation > ${after}`);
      await new Promise((r) => setTimeout(r, config.runner.heartbeatIntervalMs));
    }
  }

  const offsets = (offset: string) => ({
    consumerGroupId: group,
    topics: [{ topic: input, partitions: [{ partition: 0, offset }] }],
  });

  it('refuses the old generation and accepts the current one', { timeout: 120_000 }, async () => {
    const producer = kafka.producer({
      transactionalId: uniqueName('zombie-commit-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () =>
      (await readStableOffsets(admin, group, input, [0], config.kafka.retry)).get(0);
    try {
      const first = await join();
      const zombie = await generationOf(first);

      const accepted = await producer.transaction();
      await accepted.sendOffsets({ ...offsets('3'), consumerGroupMetadata: zombie });
      await accepted.commit();
      expect(await committed()).toBe('3');

      // A second member joins: the group moves on and `zombie` is a past generation.
      const second = await join();
      const current = await generationOf(second, zombie.generationId);
      expect(current.generationId).toBeGreaterThan(zombie.generationId);

      const fenced = await producer.transaction();
      const refusal = await fenced
        .sendOffsets({ ...offsets('7'), consumerGroupMetadata: zombie })
        .then(
          () => null,
          (err: unknown) => err as { type?: string },
        );
      expect(refusal?.type).toBe('ILLEGAL_GENERATION');
      await fenced.abort();
      expect(await committed()).toBe('3');

      // Without the metadata (kafkajs's sendOffsets) the same stale commit would pass.
      const unfenced = await producer.transaction();
      await unfenced.sendOffsets(offsets('5'));
      await unfenced.abort();

      const renewed = await producer.transaction();
      await renewed.sendOffsets({ ...offsets('7'), consumerGroupMetadata: current });
      await renewed.commit();
      expect(await committed()).toBe('7');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
