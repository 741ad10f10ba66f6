// Guarantee: memory pressure slows consumption instead of crashing it. When
// the probes report more than the pause watermarks, the runner pauses every
// partition (nothing more is processed); while live heap stays high it stays
// paused (up to maxPauseMs), and when memory falls below the resume marks,
// consumption resumes and nothing is lost. The stage's metrics show the pause
// while it lasts and count it by cause. (RSS alone staying high with nothing
// in flight does not hold a pause: see ingest-memory-burst.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageMetrics, StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import { testClients, testConfig, testLogger } from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  multiplicity,
  produceGrants,
  readFanout,
  type HopTopics,
} from '../support/fanout';

const MB = 1024 * 1024;

describe('memory pressure', () => {
  let clients: PlatformClients;
  let t: HopTopics;
  let runner: StageRunner;
  let rss = 100 * MB;
  let heap = 10 * MB;
  const seen: string[] = [];
  let metrics: StageMetrics;
  const metric = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

  beforeAll(async () => {
    clients = await testClients();
    t = await createHopTopics(clients, 'memory');
    const config = testConfig();
    runner = new StageRunner({
      service: { stage: 'memory', name: 'memory-stage', version: '0' },
      config: hopRunnerConfig(t, {
        memory: {
          ...testConfig().runner.memory,
          pauseAboveRssMb: 300,
          resumeBelowRssMb: 200,
          pauseAboveHeapMb: 250,
          maxPauseMs: 120_000,
          checkIntervalMs: 100,
        },
      }),
      kafka: createKafka(config.kafka, testLogger()),
      serde: clients.serde,
      handlers: [fanoutHandler({ inputTopic: t.input, outputTopic: t.output, fanout: 2 })],
      logger: testLogger(),
      rssProbe: () => rss,
      heapProbe: () => heap,
    });
    runner.on('paused', () => seen.push('paused'));
    runner.on('resumed', () => seen.push('resumed'));
    metrics = new StageMetrics({ stage: 'memory', name: 'memory-stage', version: '0' });
    metrics.observe(runner);
    await runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await clients.close();
  });

  it(
    'pauses above the watermark and resumes below it, losing nothing',
    { timeout: 120_000 },
    async () => {
      await produceGrants(clients, t.input, 30, 'A');
      expect(await readFanout(clients, t.output, 60, 'read_committed')).toHaveLength(60);

      rss = 400 * MB;
      heap = 260 * MB;
      await until(() => seen.includes('paused'));
      expect(runner.memoryPaused).toBe(true);
      expect(await metric('grantstream_stage_memory_paused')).toBe(1);
      await produceGrants(clients, t.input, 30, 'B');
      // Still above the resume watermark, live heap still high: stays paused.
      rss = 250 * MB;
      expect(await readFanout(clients, t.output, 61, 'read_committed', 4_000)).toHaveLength(60);
      expect(seen).toEqual(['paused']);

      rss = 150 * MB;
      heap = 100 * MB;
      await until(() => seen.includes('resumed'));
      const all = await readFanout(clients, t.output, 120, 'read_committed');
      expect(all).toHaveLength(120);
      expect([...multiplicity(all).values()].every((n) => n === 1)).toBe(true);
      expect(seen).toEqual(['paused', 'resumed']);
      expect(await metric('grantstream_stage_memory_paused')).toBe(0);
      expect(await metric('grantstream_stage_memory_pauses_total')).toBe(1);
    },
  );
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
