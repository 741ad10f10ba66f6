// Guarantee: a message that is not due yet waits without blocking anything
// else. A handler that defers a message (a retry tier's delay, a status poll's
// interval) gets it again at its due time, not before; the messages before it
// in its chunk commit at once; the partition is paused meanwhile, so other
// partitions keep flowing; and every input is handled exactly once. With
// messageConcurrency > 1 the messages of a chunk are handled at once while
// outputs keep input order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GrantSubmissionV1Avro,
  GrantSubmissionV1Schema,
  type GrantSubmissionV1,
} from '@grantstream/contracts';
import {
  StageRunner,
  createKafka,
  type PlatformClients,
  type StageHandler,
} from '@grantstream/kafka';
import { aGrantSubmission, testClients, testConfig, testLogger } from '@grantstream/testing';
import {
  createHopTopics,
  hopRunnerConfig,
  multiplicity,
  readFanout,
  type FanoutRecord,
  type HopTopics,
} from '../support/fanout';

const DEFER_MS = 4_000;

/** Encodes grants onto one partition of the input, in order. */
async function produceTo(
  clients: PlatformClients,
  topic: string,
  partition: number,
  grants: GrantSubmissionV1[],
): Promise<void> {
  const values = await Promise.all(grants.map((g) => clients.serde.encode(topic, g)));
  await clients.io.produce(
    topic,
    grants.map((g, i) => ({ key: g.grant_id, value: values[i] ?? null, partition })),
  );
}

const dueOf = (g: GrantSubmissionV1): number => Number(g.metadata['due'] ?? 0);

function grants(tag: string, count: number, due: number): GrantSubmissionV1[] {
  return Array.from({ length: count }, (_, i) =>
    aGrantSubmission({
      grant_id: `NSF-2026-${tag}${String(i).padStart(5, '0')}`,
      metadata: { due: String(due) },
    }),
  );
}

function startRunner(
  clients: PlatformClients,
  t: HopTopics,
  handledAt: Map<string, number>,
  overrides: Parameters<typeof hopRunnerConfig>[1],
  delayMs = 0,
): StageRunner {
  const handler: StageHandler<GrantSubmissionV1> = {
    subscriptions: [t.input],
    input: { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema },
    async handle(message) {
      const due = dueOf(message.value);
      if (due > Date.now()) return { records: [], deferUntil: due };
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      if (!handledAt.has(message.value.grant_id)) handledAt.set(message.value.grant_id, Date.now());
      const value: FanoutRecord = {
        grant_id: message.value.grant_id,
        input_partition: message.partition,
        input_offset: Number(message.offset),
        index: 0,
      };
      return { records: [{ topic: t.output, key: message.key, value }] };
    },
  };
  return new StageRunner({
    service: { stage: 'defer', name: 'defer-stage', version: '0' },
    config: hopRunnerConfig(t, overrides),
    kafka: createKafka(testConfig().kafka, testLogger()),
    serde: clients.serde,
    handlers: [handler],
    logger: testLogger(),
  });
}

describe('deferred messages and concurrent handling', () => {
  let clients: PlatformClients;

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await clients.close();
  });

  it(
    'hands a deferred message back at its due time without holding up other partitions',
    { timeout: 120_000 },
    async () => {
      const t = await createHopTopics(clients, 'defer', 3);
      const handledAt = new Map<string, number>();
      const runner = startRunner(clients, t, handledAt, { maxBatchMessages: 50 });
      const deferrals: number[] = [];
      runner.on('deferred', ({ partition }) => deferrals.push(partition));
      await runner.start();
      try {
        const start = Date.now();
        const due = start + DEFER_MS;
        // Partition 0: two due now, then four due later, then one due now
        // (it waits behind them: one partition is one queue).
        const early = grants('E', 2, 0);
        const late = grants('L', 4, due);
        const behind = grants('B', 1, 0);
        await produceTo(clients, t.input, 0, [...early, ...late, ...behind]);
        const others = grants('O', 20, 0);
        await produceTo(clients, t.input, 1, others.slice(0, 10));
        await produceTo(clients, t.input, 2, others.slice(10));

        const out = await readFanout(clients, t.output, 27, 'read_committed', 60_000);
        expect(out).toHaveLength(27);
        expect([...multiplicity(out).values()].every((n) => n === 1)).toBe(true);

        for (const g of [...early, ...others]) {
          expect(handledAt.get(g.grant_id)! - start).toBeLessThan(DEFER_MS);
        }
        for (const g of [...late, ...behind]) {
          expect(handledAt.get(g.grant_id)).toBeGreaterThanOrEqual(due);
        }
        // Within the partition, order is kept: the later input after the deferred ones.
        const p0 = out
          .filter((r) => r.input_partition === 0)
          .sort((a, b) => a.input_offset - b.input_offset)
          .map((r) => r.grant_id);
        expect(p0).toEqual([...early, ...late, ...behind].map((g) => g.grant_id));
        expect(deferrals.length).toBeGreaterThanOrEqual(1);
        expect(new Set(deferrals)).toEqual(new Set([0]));
      } finally {
        await runner.stop();
      }
    },
  );

  it(
    'handles a chunk’s messages at once with messageConcurrency, outputs in input order',
    { timeout: 120_000 },
    async () => {
      const t = await createHopTopics(clients, 'concurrency', 1);
      const handledAt = new Map<string, number>();
      const runner = startRunner(clients, t, handledAt, { messageConcurrency: 20 }, 500);
      const input = grants('C', 40, 0);
      await produceTo(clients, t.input, 0, input);
      const start = Date.now();
      await runner.start();
      try {
        const out = await readFanout(clients, t.output, 40, 'read_committed', 60_000);
        const elapsed = Date.now() - start;
        expect(out).toHaveLength(40);
        // One at a time this is 40 x 500 ms = 20 s.
        expect(elapsed).toBeLessThan(10_000);
        expect(out.map((r) => r.input_offset)).toEqual(
          [...out.map((r) => r.input_offset)].sort((a, b) => a - b),
        );
        expect(out.map((r) => r.grant_id)).toEqual(input.map((g) => g.grant_id));
      } finally {
        await runner.stop();
      }
    },
  );
});
