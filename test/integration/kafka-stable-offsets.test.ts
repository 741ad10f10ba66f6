// Guarantee: after a commit whose outcome it did not learn, a runner that
// re-reads its group's committed offsets with require_stable (OffsetFetch v7,
// KIP-447) never gets the offset from before a transaction that holds offsets
// for the partition: while that transaction is open the coordinator answers
// UNSTABLE_OFFSET_COMMIT and the read waits, within the configured retry
// bounds, for its outcome: the new offset once committed, the old one once
// aborted. kafkajs's own OffsetFetch returns the old offset at once, which is
// how a chunk committed after a broker stop got handled twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStableOffsets, type ExtendedKafka, type PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, uniqueName } from '@grantstream/testing';

type Admin = ReturnType<ExtendedKafka['admin']>;
type Producer = ReturnType<ExtendedKafka['producer']>;

/** The broker error type somewhere in an error's cause chain. */
function brokerErrorType(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

describe('stable offsets after a commit of unknown outcome', () => {
  const config = testConfig();
  const topic = uniqueName('stable-offsets');
  const group = uniqueName('stable-offsets-group');
  let clients: PlatformClients;
  let kafka: ExtendedKafka;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    clients = await testClients();
    await clients.admin.createTopics([
      { name: topic, partitions: 1, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
    kafka = clients.kafka;
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({
      transactionalId: uniqueName('stable-offsets-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await clients.admin.deleteTopics([topic]);
    await clients.close();
  });

  const offsetsOf = (offset: string) => ({
    consumerGroupId: group,
    topics: [{ topic, partitions: [{ partition: 0, offset }] }],
  });
  const stable = (retries = config.kafka.retry.retries) =>
    readStableOffsets(admin, group, topic, [0], { ...config.kafka.retry, retries });

  it('waits out an open transaction and returns its outcome', { timeout: 120_000 }, async () => {
    const first = await producer.transaction();
    await first.sendOffsets(offsetsOf('5'));
    await first.commit();
    expect((await stable()).get(0)).toBe('5');

    // A transaction holding offset 9 stays open: its commit is "in flight".
    const open = await producer.transaction();
    await open.sendOffsets(offsetsOf('9'));

    // kafkajs's OffsetFetch (no require_stable) answers with the offset from before it.
    const unstable = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(unstable[0]?.partitions.find((p) => p.partition === 0)?.offset).toBe('5');

    // With require_stable the coordinator refuses to answer while it is open.
    const refused = await stable(0).then(
      () => null,
      (err: unknown) => err,
    );
    expect(brokerErrorType(refused)).toBe('UNSTABLE_OFFSET_COMMIT');

    // A bounded stable read started now resolves only with the outcome.
    let settledBeforeCommit = false;
    let committed = false;
    const pending = stable().then((offsets) => {
      settledBeforeCommit = !committed;
      return offsets;
    });
    // Still open after the read started: the read cannot have had an answer yet.
    expect(brokerErrorType(await stable(0).catch((err: unknown) => err))).toBe(
      'UNSTABLE_OFFSET_COMMIT',
    );
    committed = true;
    await open.commit();
    expect((await pending).get(0)).toBe('9');
    expect(settledBeforeCommit).toBe(false);

    // An aborted transaction's offsets never become the group's.
    const aborted = await producer.transaction();
    await aborted.sendOffsets(offsetsOf('12'));
    const afterAbort = stable();
    await aborted.abort();
    expect((await afterAbort).get(0)).toBe('9');
  });
});
