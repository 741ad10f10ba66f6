// Guarantee: a compressed burst cannot push ingest over its container memory
// limit or stop it. About 200 MB of near-limit, highly compressible records in
// ONE gzip producer batch are all accounted for (each reaches
// grants.validated.v1 or the dead-letter topic) by a real ingest process run
// with its container's limits, whose peak RSS stays under the limit; and a
// memory guard held above its resume mark with nothing in flight (RSS that
// V8 will not give back) lets consumption go on instead of pausing forever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type GrantSubmissionV2 } from '@grantstream/contracts';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';
import { StageMetrics, StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import type { StageRunnerConfig } from '@grantstream/config';
import {
  testClients,
  testConfig,
  testLogger,
  uniqueName,
  exactTopicPattern,
  anNsfSubmission,
  createIngestTopic,
  peakRssBytes,
  scenarioDir,
  writePdf,
  waitForLog,
  freePort,
  scrapeMetric,
} from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  multiplicity,
  produceGrants,
  readFanout,
} from '../support/fanout';

const MB = 1024 * 1024;
/** The ingest container's memory limit (docker-compose.yml mem_limit of ingest). */
const CONTAINER_LIMIT_BYTES = 384 * MB;
/** What the burst inflates to: about 200 MB in one producer batch. */
const BURST_BYTES = 200_000_000;
/** Valid applications in the burst besides the near-limit ones. */
const VALID = 20;

/** Every grant id of `ids` that appeared as a key on the validated or dead-letter topic, by topic. */
async function accountFor(
  clients: PlatformClients,
  from: Awaited<ReturnType<PlatformClients['io']['endOffsets']>>,
  ids: ReadonlySet<string>,
  validCount: number,
  timeoutMs: number,
): Promise<{ validated: Set<string>; deadLettered: Set<string> }> {
  const validated = new Set<string>();
  const deadLettered = new Set<string>();
  await clients.io.follow(
    from,
    (m) => {
      const id = m.key?.toString() ?? '';
      if (!ids.has(id)) return false;
      if (m.topic === TOPICS.VALIDATED) validated.add(id);
      else deadLettered.add(id);
      return (
        validated.size >= validCount && new Set([...validated, ...deadLettered]).size >= ids.size
      );
    },
    timeoutMs,
  );
  return { validated, deadLettered };
}

describe('ingest memory under a compressed burst', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  const dir = scenarioDir('burst');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    await clients.close();
  });

  it(
    'accounts for every record of a 200 MB gzip batch under the 384 MB container limit',
    { timeout: 150_000 },
    async () => {
      const config = testConfig();
      const tag = uniqueName('B')
        .replace(/[^A-Z0-9]/gi, '')
        .slice(-10)
        .toUpperCase();
      const pdf = writePdf(dir, 'narrative.pdf', 'burst');
      // Near-limit records: a metadata value of repeated text (compresses
      // about a thousandfold), each record just under maxRecordBytes. Its
      // value breaks ingest's metadata limits, so each is dead-lettered.
      const filler = 'grant narrative '.repeat(
        Math.floor((config.runner.maxRecordBytes * 0.9) / 16),
      );
      const large = Math.ceil(BURST_BYTES / filler.length);
      const submissions: GrantSubmissionV2[] = Array.from({ length: large + VALID }, (_, i) => {
        const s = anNsfSubmission(`NSF-2026-${String(i + 1).padStart(5, '0')}-${tag}`, [pdf]);
        return i % Math.ceil((large + VALID) / VALID) === 0
          ? s
          : { ...s, metadata: { ...s.metadata, narrative_excerpt: filler } };
      });
      const ids = new Set(submissions.map((s) => s.grant_id));
      const validIds = new Set(
        submissions.filter((s) => !('narrative_excerpt' in s.metadata)).map((s) => s.grant_id),
      );

      // A group of its own that starts at the end of every ingest topic there
      // is: the process reads only this scenario's topic, from its beginning.
      const group = uniqueName('grantstream.ingest.burst');
      const existing = (await clients.admin.listTopics()).filter((t) =>
        t.startsWith('grants.ingest.'),
      );
      const ends = await clients.io.endOffsets(existing);
      await clients.admin.setGroupOffsets(group, ends);
      // One partition: the whole burst is one record batch.
      const topic = await createIngestTopic(clients, 'burst', 1);
      const values = await Promise.all(submissions.map((s) => clients.serde.encode(topic, s)));
      const inflated = values.reduce((n, v) => n + v.length, 0);
      const from = await clients.io.endOffsets([TOPICS.VALIDATED, config.runner.deadLetterTopic]);
      await clients.io.produce(
        topic,
        submissions.map((s, i) => ({ key: s.grant_id, value: values[i] ?? null })),
        { compression: 'gzip' },
      );
      expect(await clients.admin.messageCount(topic)).toBe(ids.size);

      const metricsPort = await freePort();
      stages = startStages(['ingest'], {
        logDir: dir,
        // The container's limits: V8's old space well inside the 384 MB limit.
        nodeArgs: ['--max-old-space-size=192'],
        env: {
          GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
          GRANTSTREAM__INGEST__RUNNER__GROUP_ID: group,
          // Only this scenario's topic: never another scenario's or the main job's records.
          GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([topic]),
          GRANTSTREAM__INGEST__RUNNER__TRANSACTIONAL_ID_PREFIX: group,
          GRANTSTREAM__INGEST__RUNNER__TOPIC_REFRESH_INTERVAL_MS: '600000',
          GRANTSTREAM__INGEST__METRICS__PORT: String(metricsPort),
        },
      });
      const ingest = stages[0] as StageProcess;
      const pid = ingest.child.pid ?? 0;
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, peakRssBytes(pid) ?? 0);
      }, 100);
      let outcome: { validated: Set<string>; deadLettered: Set<string> };
      try {
        await waitForLog(ingest, /stage service consuming/, 60_000);
        outcome = await accountFor(clients, from, ids, validIds.size, 90_000);
      } finally {
        clearInterval(sampler);
        peak = Math.max(peak, peakRssBytes(pid) ?? 0);
      }
      const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
      const pauses = await scrapeMetric(metrics, 'grantstream_stage_memory_pauses_total').catch(
        () => -1,
      );
      console.info(
        `ingest peak RSS ${(peak / MB).toFixed(1)} MB (limit ${CONTAINER_LIMIT_BYTES / MB} MB) ` +
          `over ${ids.size} records, ${(inflated / 1e6).toFixed(1)} MB inflated in one gzip batch: ` +
          `${outcome.validated.size} validated, ${outcome.deadLettered.size} dead-lettered, ` +
          `memory pauses ${pauses}`,
      );

      expect(inflated).toBeGreaterThanOrEqual(BURST_BYTES);
      // Every record reached a final topic: the valid ones validated, no near-limit one.
      // (A union: an ingest process of another scenario running at the same time
      // reads every grants.ingest.* topic too, and may dead-letter ours as well.)
      expect(new Set([...outcome.validated, ...outcome.deadLettered]).size).toBe(ids.size);
      expect([...outcome.validated].sort()).toEqual([...validIds].sort());
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(CONTAINER_LIMIT_BYTES);
      expect(ingest.child.exitCode).toBeNull();
    },
  );

  it(
    'keeps consuming when RSS stays above the resume mark with nothing in flight',
    { timeout: 90_000 },
    async () => {
      const t = await createHopTopics(clients, 'stuck-guard');
      let rss = 100 * MB;
      const memory: StageRunnerConfig['memory'] = {
        ...testConfig().runner.memory,
        pauseAboveRssMb: 300,
        resumeBelowRssMb: 200,
        checkIntervalMs: 100,
      };
      const runner = new StageRunner({
        service: { stage: 'stuck-guard', name: 'stuck-guard-stage', version: '0' },
        config: hopRunnerConfig(t, { memory }),
        kafka: createKafka(testConfig().kafka, testLogger()),
        serde: clients.serde,
        handlers: [fanoutHandler({ inputTopic: t.input, outputTopic: t.output, fanout: 2 })],
        logger: testLogger(),
        rssProbe: () => rss,
        // Live heap is low: what keeps RSS up is freed pages, not work.
        heapProbe: () => 10 * MB,
      });
      const seen: string[] = [];
      runner.on('paused', () => seen.push('paused'));
      const metrics = new StageMetrics({ stage: 'stuck-guard', name: 'stuck', version: '0' });
      metrics.observe(runner);
      await runner.start();
      try {
        await produceGrants(clients, t.input, 30, 'A');
        expect(await readFanout(clients, t.output, 60, 'read_committed')).toHaveLength(60);

        // Freed pages V8 keeps: RSS stays above both marks, whatever is done.
        rss = 400 * MB;
        await until(() => seen.includes('paused'));
        await produceGrants(clients, t.input, 30, 'B');
        const all = await readFanout(clients, t.output, 120, 'read_committed', 30_000);
        expect(all).toHaveLength(120);
        expect([...multiplicity(all).values()].every((n) => n === 1)).toBe(true);
        // Not running fully (RSS never fell), yet not paused: one message at a time.
        expect(runner.memoryMode).toBe('trickle');
        const text = await metrics.registry.metrics();
        expect(text).toMatch(/grantstream_stage_memory_pauses_total\{cause="rss",[^}]*\} 1/);
        expect(text).toMatch(
          /grantstream_stage_memory_resumes_total\{ended="idle",to="trickle",[^}]*\} 1/,
        );
        expect(text).toMatch(/grantstream_stage_memory_trickle\{[^}]*\} 1/);
      } finally {
        await runner.stop();
      }
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
