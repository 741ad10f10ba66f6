// Guarantee: stopping a stage never turns work in progress into a dead
// letter. A handler interrupted by the stop signal (its attachment read
// aborted) leaves its input uncommitted and undead-lettered; the next runner
// of the group processes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrantSubmissionV1Avro, GrantSubmissionV1Schema } from '@grantstream/contracts';
import {
  StageRunner,
  createKafka,
  type PlatformClients,
  type StageHandler,
} from '@grantstream/kafka';
import { testClients, testConfig, testLogger } from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  produceGrants,
  readFanout,
  type HopTopics,
} from '../support/fanout';

describe('stopping a runner mid-handler', () => {
  let clients: PlatformClients;
  let t: HopTopics;

  beforeAll(async () => {
    clients = await testClients();
    t = await createHopTopics(clients, 'stop-abort', 1);
  });
  afterAll(async () => {
    await clients.close();
  });

  it('leaves the interrupted input for the next runner, not the dead-letter topic', async () => {
    const runnerOf = (handler: StageHandler<unknown>) =>
      new StageRunner({
        service: { stage: 'stop-abort', name: 'stop-abort-stage', version: '0' },
        config: hopRunnerConfig(t),
        kafka: createKafka(testConfig().kafka, testLogger()),
        serde: clients.serde,
        handlers: [handler],
        logger: testLogger(),
      });
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => (entered = r));
    const blocking: StageHandler<unknown> = {
      subscriptions: [t.input],
      input: { avro: GrantSubmissionV1Avro, zod: GrantSubmissionV1Schema },
      handle: (_message, ctx) =>
        new Promise((_resolve, reject) => {
          entered();
          // Like a stream read cut short by the stop: it fails with the abort.
          ctx.signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('read aborted'), { name: 'AbortError' })),
          );
        }),
    };
    const first = runnerOf(blocking);
    await first.start();
    const [grantId] = await produceGrants(clients, t.input, 1, 'S');
    await inHandler;
    await first.stop();
    expect(await clients.admin.messageCount(t.dlq)).toBe(0);

    const second = runnerOf(
      fanoutHandler({
        inputTopic: t.input,
        outputTopic: t.output,
        fanout: 1,
      }),
    );
    await second.start();
    try {
      const out = await readFanout(clients, t.output, 1, 'read_committed');
      expect(out.map((o) => o.grant_id)).toEqual([grantId]);
      expect(await clients.admin.messageCount(t.dlq)).toBe(0);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
