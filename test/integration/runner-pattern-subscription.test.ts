// Guarantee: a stage subscribed to a topic pattern picks up a topic created
// while it runs (a new upstream parser's ingest topic) without a restart, and
// consumes it with the same exactly-once hop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrantSubmissionV1Avro } from '@grantstream/contracts';
import { StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, testLogger, uniqueName } from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  produceGrants,
  readFanout,
  type HopTopics,
} from '../support/fanout';

describe('pattern subscription', () => {
  const config = testConfig();
  let clients: PlatformClients;
  let t: HopTopics;
  let runner: StageRunner;
  const family = uniqueName('test.ingest').replace(/[^a-z0-9.]/g, '');
  const pattern = new RegExp(`^${family.replace(/\./g, '\\.')}\\..+$`);

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createHopTopics(clients, 'pattern', 1);
    await clients.admin.createTopics([
      { name: `${family}.pdf`, partitions: 2, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
    await clients.serde.register(
      `${family}.pdf`,
      GrantSubmissionV1Avro,
      config.topics.compatibility,
    );
    runner = new StageRunner({
      service: { stage: 'pattern', name: 'pattern-stage', version: '0' },
      config: hopRunnerConfig(t, { topicRefreshIntervalMs: 1000 }),
      kafka: createKafka(config.kafka, testLogger()),
      serde: clients.serde,
      handlers: [fanoutHandler({ inputTopic: pattern, outputTopic: t.output, fanout: 1 })],
      logger: testLogger(),
    });
    await runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await clients.close();
  });

  it('consumes a matching topic created after start', { timeout: 120_000 }, async () => {
    expect(runner.subscribedTopics).toEqual([`${family}.pdf`]);
    await produceGrants(clients, `${family}.pdf`, 10, 'P');
    expect(await readFanout(clients, t.output, 10, 'read_committed')).toHaveLength(10);

    const budget = `${family}.budget`;
    await clients.admin.createTopics([
      { name: budget, partitions: 2, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
    await clients.serde.register(budget, GrantSubmissionV1Avro, config.topics.compatibility);
    await produceGrants(clients, budget, 10, 'B');

    const all = await readFanout(clients, t.output, 20, 'read_committed', 60_000);
    expect(all).toHaveLength(20);
    expect(all.filter((r) => r.grant_id.includes('-B')).length).toBe(10);
    expect(runner.subscribedTopics).toEqual([budget, `${family}.pdf`].sort());
  });
});
