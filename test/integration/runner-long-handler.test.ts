// Guarantee: a handler slower than the session timeout keeps its consumer in
// the group: the runner heartbeats while the handler works, so there is no
// eviction, no rebalance and no second delivery of the slow message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, testLogger } from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  produceGrants,
  readFanout,
  type HopTopics,
} from '../support/fanout';

const SESSION_TIMEOUT_MS = 6000;
const HANDLER_MS = 15_000;

describe('long handler', () => {
  let clients: PlatformClients;
  let t: HopTopics;
  let runner: StageRunner;
  const generations: number[] = [];
  let handled = 0;

  beforeAll(async () => {
    clients = await testClients();
    t = await createHopTopics(clients, 'slow', 1);
    await produceGrants(clients, t.input, 1);
    const config = testConfig();
    runner = new StageRunner({
      service: { stage: 'slow', name: 'slow-stage', version: '0' },
      config: hopRunnerConfig(t, {
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: 1000,
      }),
      kafka: createKafka(config.kafka, testLogger()),
      serde: clients.serde,
      handlers: [
        fanoutHandler({
          inputTopic: t.input,
          outputTopic: t.output,
          fanout: 1,
          delayMs: HANDLER_MS,
          onHandle: () => {
            handled += 1;
          },
        }),
      ],
      logger: testLogger(),
    });
    runner.on('groupJoined', (g) => generations.push(g.generation));
    await runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await clients.close();
  });

  it(
    `stays in its group through a ${HANDLER_MS} ms handler with a ${SESSION_TIMEOUT_MS} ms session timeout`,
    { timeout: 90_000 },
    async () => {
      const out = await readFanout(clients, t.output, 1, 'read_committed', 60_000);
      expect(out).toHaveLength(1);
      // An evicted member only learns it at its next heartbeat: give it time to find out.
      await new Promise((r) => setTimeout(r, SESSION_TIMEOUT_MS));
      expect(generations).toEqual([1]);
      expect(handled).toBe(1);
      expect(await readFanout(clients, t.output, 2, 'read_committed', 3_000)).toHaveLength(1);
    },
  );
});
