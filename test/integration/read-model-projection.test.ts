// Guarantee: the console's read model holds exactly what was committed to
// the audit, status and dead-letter topics (an aborted transaction's records
// never appear), keeps its position per partition in its own store with the
// rows, so a restart reads only what was added since instead of the whole
// topics, and reports how far behind the topics it is: the records committed
// after its last pass, and zero once it has read them (transaction markers
// are not counted as lag).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, TOPICS, type GrantStatusV1 } from '@grantstream/contracts';
import { TopicScanner, type PlatformClients } from '@grantstream/kafka';
import { Projector, ReadModelStore, type ReadModelSection } from '@grantstream/read-model';
import {
  testClients,
  testConfig,
  testLogger,
  uniqueName,
  chainFor,
  produceEvents,
  createScopedTopics,
  deleteScopedTopics,
} from '@grantstream/testing';

const T0 = Date.UTC(2026, 4, 4, 9, 0);

function statusOf(grantId: string, status: GrantStatusV1['status'], at: number): GrantStatusV1 {
  return {
    grant_id: grantId,
    funder_id: grantId.split('-')[0] ?? 'X',
    funder_portal: 'simulator',
    audit_trail_id: `at-${grantId}`,
    idempotency_key: `idem-${grantId}`,
    tracking_number: `TRK-${grantId}`,
    status,
    portal_messages: [],
    terminal: false,
    submitted_at: at,
    observed_at: at,
    next_poll_at: null,
    attempt: 0,
  };
}

describe('read model projection', () => {
  const config = testConfig();
  const dir = mkdtempSync(join(tmpdir(), 'read-model-it-'));
  const storePath = join(dir, 'read-model.sqlite');
  const scope = uniqueName('readmodel').replace(/[^A-Za-z0-9.-]/g, '-');
  let clients: PlatformClients;
  let topics: Map<string, string>;
  let settings: ReadModelSection;
  const grantA = `NSF-2026-RMA${Date.now().toString(36)}`;
  const grantB = `DOE-2026-RMB${Date.now().toString(36)}`;
  const aborted = `NSF-2026-RMX${Date.now().toString(36)}`;

  const projectorOn = (store: ReadModelStore, scanner: TopicScanner) =>
    new Projector({
      store,
      scanner,
      serde: clients.serde,
      settings,
      logger: testLogger('read-model'),
    });

  beforeAll(async () => {
    clients = await testClients(config);
    topics = await createScopedTopics(clients, [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ], scope);
    const topic = (name: string) => topics.get(name) ?? name;
    settings = {
      storePath,
      topics: {
        audit: topic(TOPICS.AUDIT),
        status: topic(TOPICS.STATUS),
        deadLetters: topic(TOPICS.DLQ),
      },
      maxBytesPerFetch: config.audit.maxBytesPerFetch,
      maxWaitMs: config.audit.maxWaitMs,
      maxEmptyFetches: config.audit.maxEmptyFetches,
      pollIntervalMs: 200,
      // Small batches: a pass writes several transactions, each with its positions.
      maxBatchRecords: 2,
    };
    // Grant A: five audit events, committed in one transaction (so the topic
    // holds commit markers after them), two statuses and a dead letter.
    const chainA = chainFor(grantA, 5, T0);
    const auditValues = await Promise.all(
      chainA.map((e) => clients.serde.encode(settings.topics.audit, e.event)),
    );
    await clients.io.produceAtomically(uniqueName('read-model-it'), [
      {
        topic: settings.topics.audit,
        messages: chainA.map((e, i) => ({ key: e.key, value: auditValues[i] ?? null })),
      },
    ]);
    await clients.io.produce(settings.topics.status, [
      {
        key: grantA,
        value: await clients.serde.encode(
          settings.topics.status,
          statusOf(grantA, 'RECEIVED', T0 + 10_000),
        ),
      },
      {
        key: grantA,
        value: await clients.serde.encode(
          settings.topics.status,
          statusOf(grantA, 'VALIDATED', T0 + 20_000),
        ),
      },
    ]);
    await clients.io.produce(settings.topics.deadLetters, [
      {
        key: grantA,
        value: Buffer.from('not avro at all'),
        headers: {
          [DLQ_HEADERS.STAGE]: 'submission',
          [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
          [DLQ_HEADERS.ERROR_CODE]: 'RETRY_BUDGET_EXHAUSTED',
          [DLQ_HEADERS.SOURCE_TOPIC]: TOPICS.ROUTED,
          [DLQ_HEADERS.SOURCE_PARTITION]: '0',
          [DLQ_HEADERS.SOURCE_OFFSET]: '3',
          [DLQ_HEADERS.FAILED_AT]: new Date(T0 + 30_000).toISOString(),
        },
      },
    ]);
    // An aborted transaction: a read_committed reader never sees its event.
    const producer = clients.kafka.producer({
      transactionalId: uniqueName('read-model-it-abort'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const tx = await producer.transaction();
    const [ghost] = chainFor(aborted, 1, T0);
    await tx.send({
      topic: settings.topics.audit,
      messages: [
        { key: ghost!.key, value: await clients.serde.encode(settings.topics.audit, ghost!.event) },
      ],
    });
    await tx.abort();
    await producer.disconnect();
  });

  afterAll(async () => {
    await deleteScopedTopics(clients, topics);
    await clients.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('projects what was committed, resumes from its stored positions, and reports its lag', async () => {
    // First run: everything committed so far, nothing of the aborted transaction.
    const first = ReadModelStore.open(storePath);
    const scanner1 = new TopicScanner(clients.kafka);
    const projector1 = projectorOn(first, scanner1);
    const before = await projector1.measure();
    expect(before.topics.find((t) => t.topic === settings.topics.status)?.lag).toBe(2);
    expect(before.topics.find((t) => t.topic === settings.topics.deadLetters)?.lag).toBe(1);
    expect(await projector1.catchUp()).toBe(8);
    expect(projector1.lastPass()).toEqual({ read: 8, added: 8 });
    // Caught up although the audit topic ends in transaction markers no reader sees.
    expect(projector1.lag().total).toBe(0);
    expect(projector1.lag().caughtUpAt).not.toBeNull();
    const a = first.grant(grantA);
    expect(a.audit).toHaveLength(5);
    expect(a.summary).toMatchObject({
      funderId: 'NSF',
      status: 'VALIDATED',
      state: 'VALIDATED',
      deadLetters: 1,
    });
    expect(first.grant(aborted).audit).toHaveLength(0);
    expect(
      first.searchGrants({ grantPrefix: 'NSF-2026-RM', limit: 10 }).map((g) => g.grantId),
    ).toEqual([grantA]);
    expect(
      first
        .searchDeadLetters({ category: 'NETWORK_TIMEOUT', limit: 10 })
        .map((d) => d.entry.grantId),
    ).toEqual([grantA]);
    first.close();
    await scanner1.close();

    // While it is down, three more events are committed.
    await produceEvents(clients, settings.topics.audit, chainFor(grantB, 3, T0 + 60_000));

    // Second run: the reopened store knows where it stopped; the lag is exactly the new records.
    const second = ReadModelStore.open(storePath);
    const scanner2 = new TopicScanner(clients.kafka);
    const projector2 = projectorOn(second, scanner2);
    const behind = await projector2.measure();
    expect(behind.total).toBe(3);
    expect(behind.topics.find((t) => t.topic === settings.topics.audit)?.lag).toBe(3);
    await projector2.catchUp();
    // Only the new records were read: nothing before the stored positions was fetched again.
    expect(projector2.lastPass()).toEqual({ read: 3, added: 3 });
    expect(projector2.lag().total).toBe(0);
    expect(second.counts()).toMatchObject({
      auditRecords: 8,
      statusRecords: 2,
      deadLetters: 1,
      grants: 2,
    });
    expect(second.grant(grantB).summary?.auditRecords).toBe(3);

    // Running, it picks up what is committed next within its poll interval.
    projector2.start();
    await produceEvents(clients, settings.topics.audit, chainFor(`${grantB}-2`, 2, T0 + 120_000));
    await expect
      .poll(() => second.counts().auditRecords, { timeout: 30_000, interval: 100 })
      .toBe(10);
    await projector2.stop();
    second.close();
    await scanner2.close();
  });
});
