// Guarantee: a read_committed read shows exactly what committed, whoever reads.
// Several transactional producers interleave transactions over an audit-like
// and a status-like topic (an event and the record it describes in one
// transaction), many of them aborted, some begun before and aborted after
// another (the broker lists aborted transactions in the order they ended).
// The group-less TopicReader (the auditor's, the dead-letter listing's) and a
// stage's read_committed consumer (a consumer group, as the runner reads its
// inputs) both read the topics in fetches far smaller than the data, so
// fetches begin inside aborted transactions and end between a transaction's
// records and its marker; each must return the committed records, record for
// record and in offset order, and nothing of an aborted transaction. The
// reader also starts at every offset of the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicReader, type ExtendedKafka, type PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, testLogger, uniqueName } from '@grantstream/testing';

type Producer = ReturnType<ExtendedKafka['producer']>;
type Transaction = Awaited<ReturnType<Producer['transaction']>>;

const PRODUCERS = 4;
const TRANSACTIONS = 120;
/** Bytes per fetch: a few records, so fetches start and end inside transactions. */
const FETCH_BYTES = 600;
/** Value padding: each record batch is about a fifth of a fetch. */
const PADDING = 'x'.repeat(60);

/** A small deterministic generator: the interleaving is the same on every run. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Written {
  topic: string;
  offset: string;
  value: string;
  committed: boolean;
}

describe('read_committed readers and aborted transactions', () => {
  const config = testConfig();
  const audit = uniqueName('aborted-reads.audit');
  const status = uniqueName('aborted-reads.status');
  let clients: PlatformClients;
  const producers: Producer[] = [];
  const written: Written[] = [];

  beforeAll(async () => {
    // A producer whose last transaction's markers are still being written is told to retry: not news.
    clients = await testClients(config, testLogger().child({}, { level: 'fatal' }));
    await clients.admin.createTopics(
      [audit, status].map((name) => ({
        name,
        partitions: 1,
        replicationFactor: 1,
        config: {},
        valueSchema: null,
      })),
    );
    for (let i = 0; i < PRODUCERS; i += 1) {
      const p = clients.kafka.producer({
        transactionalId: uniqueName(`aborted-reads.tx${i}`),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await p.connect();
      producers.push(p);
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await clients?.admin.deleteTopics([audit, status]).catch(() => undefined);
    await clients?.close();
  });

  /** One record written in `tx`, remembered with its offset; `committed` is settled when the transaction ends. */
  async function write(tx: Transaction, topic: string, value: string, pending: Written[]) {
    const [meta] = await tx.send({
      topic,
      messages: [{ key: value.split(':')[0] ?? null, value: `${value}:${PADDING}` }],
    });
    const w: Written = { topic, offset: String(meta?.baseOffset), value, committed: false };
    written.push(w);
    pending.push(w);
  }

  it(
    'the TopicReader and a read_committed consumer show the committed records, and only those',
    { timeout: 300_000 },
    async () => {
      const random = generator(13);
      const open: ({ tx: Transaction; pending: Written[]; id: number } | null)[] = producers.map(
        () => null,
      );
      let begun = 0;
      let ended = 0;
      let aborted = 0;
      const end = async (i: number, commit: boolean) => {
        const t = open[i];
        if (!t) return;
        if (commit) await t.tx.commit();
        else await t.tx.abort();
        for (const w of t.pending) w.committed = commit;
        open[i] = null;
        ended += 1;
        if (!commit) aborted += 1;
      };

      // The case a walk of the broker's list in the order given gets wrong:
      // producer 0 begins, producer 1 begins and aborts, producer 0 writes again and aborts.
      for (const i of [0, 1]) {
        open[i] = { tx: await producers[i]!.transaction(), pending: [], id: begun++ };
        await write(open[i].tx, audit, `g${open[i].id}:event`, open[i].pending);
        await write(open[i].tx, status, `g${open[i].id}:status`, open[i].pending);
      }
      await end(1, false);
      await write(open[0]!.tx, audit, `g${open[0]!.id}:event2`, open[0]!.pending);
      await end(0, false);

      // Then random interleavings: an event and its status in each transaction, 40% aborted.
      while (ended < TRANSACTIONS) {
        const i = Math.floor(random() * PRODUCERS);
        const t = open[i];
        if (!t) {
          if (begun >= TRANSACTIONS) continue;
          open[i] = { tx: await producers[i]!.transaction(), pending: [], id: begun++ };
          await write(open[i].tx, audit, `g${open[i].id}:event`, open[i].pending);
        } else if (!t.pending.some((w) => w.topic === status)) {
          await write(t.tx, status, `g${t.id}:status`, t.pending);
        } else if (random() < 0.3) {
          await write(t.tx, audit, `g${t.id}:event${t.pending.length}`, t.pending);
        } else await end(i, random() >= 0.4);
      }
      // A last committed transaction on both topics: the consumer has read everything once it shows.
      const last = { tx: await producers[0]!.transaction(), pending: [] as Written[] };
      await write(last.tx, audit, 'last:event', last.pending);
      await write(last.tx, status, 'last:status', last.pending);
      await last.tx.commit();
      for (const w of last.pending) w.committed = true;

      const expected = (topic: string, from = 0n) =>
        written
          .filter((w) => w.topic === topic && w.committed && BigInt(w.offset) >= from)
          .sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1))
          .map((w) => `${w.offset} ${w.value}`);
      expect(aborted).toBeGreaterThan(TRANSACTIONS / 4);

      // The group-less reader, in small fetches, from the start.
      const reader = new TopicReader(clients.kafka);
      const scan = async (topic: string, from?: string) => {
        const seen: string[] = [];
        for await (const m of reader.scan(topic, {
          maxBytesPerFetch: FETCH_BYTES,
          maxWaitMs: config.audit.maxWaitMs,
          maxEmptyFetches: config.audit.maxEmptyFetches,
          from: from === undefined ? undefined : new Map([[0, from]]),
        }))
          seen.push(`${m.offset} ${m.value?.toString().split(`:${PADDING}`)[0]}`);
        return seen;
      };
      try {
        for (const topic of [audit, status])
          expect(await scan(topic), topic).toEqual(expected(topic));
        // From every offset of the audit log: a fetch that begins inside
        // aborted transactions must still know them.
        const auditEnd = Math.max(
          ...written.filter((w) => w.topic === audit).map((w) => Number(w.offset)),
        );
        const wrong: string[] = [];
        for (let from = 0; from <= auditEnd; from += 1) {
          const seen = await scan(audit, String(from));
          const want = expected(audit, BigInt(from));
          if (JSON.stringify(seen) !== JSON.stringify(want))
            wrong.push(`from ${from}: extra ${seen.filter((s) => !want.includes(s)).join(', ')}`);
        }
        expect(wrong).toEqual([]);
      } finally {
        await reader.close();
      }

      // A stage's read_committed consumer (a group), in fetches as small.
      const consumed = new Map<string, string[]>([
        [audit, []],
        [status, []],
      ]);
      const consumer = clients.kafka.consumer({
        groupId: uniqueName('aborted-reads.group'),
        readUncommitted: false,
        maxBytesPerPartition: FETCH_BYTES,
        maxBytes: FETCH_BYTES,
      });
      let done: () => void = () => undefined;
      const finished = new Promise<void>((r) => (done = r));
      const lastSeen = new Set<string>();
      await consumer.connect();
      try {
        for (const topic of [audit, status])
          await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: ({ topic, message }) => {
            const value = message.value?.toString().split(`:${PADDING}`)[0] ?? '';
            consumed.get(topic)?.push(`${message.offset} ${value}`);
            if (value.startsWith('last:')) lastSeen.add(topic);
            if (lastSeen.size === 2) done();
            return Promise.resolve();
          },
        });
        await Promise.race([
          finished,
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new Error('the consumer never reached the last transaction')),
              config.stack.readyTimeoutMs,
            ),
          ),
        ]);
      } finally {
        await consumer.disconnect();
      }
      for (const topic of [audit, status])
        expect(consumed.get(topic), `consumer of ${topic}`).toEqual(expected(topic));
    },
  );
});
