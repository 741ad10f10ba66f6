// Guarantee: random damage to valid records never crashes or hangs ingest.
// A seeded run (the seed is printed; HOSTILE_SEED replays it) flips bits,
// inserts and deletes bytes, truncates, splices two records and rewrites
// varints of valid GrantSubmission records, and sends a few hundred of them
// through one real ingest process with valid sentinel applications between
// them on the same partitions: every mutated record ends validated or
// dead-lettered, every sentinel is validated within a declared bound, and the
// process stays alive throughout.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEventV1Avro, TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  HostileOutcomeLog,
  PlacingProducer,
  SeededRandom,
  createHostileTopic,
  encodeSubmission,
  framed,
  hostileGrantId,
  hostileLimits,
  mutate,
  propertySeed,
  sentinelRecord,
  skipOtherIngestHistory,
  submissionBody,
  testClients,
  testConfig,
  uniqueName,
  validSubmission,
  writeHostileFiles,
  type HostileContext,
  type Mutation,
  type Placed,
  exactTopicPattern,
  peakRssBytes,
  scenarioDir,
  waitForLog,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

const config = testConfig();
const limits = hostileLimits(process.env);
const PARTITIONS = 3;
/** Mutated records sent: a few hundred keeps the scenario near a minute on a loaded machine. */
const MUTATIONS = 300;
/** Mutated records on each partition between two sentinels. */
const BETWEEN_SENTINELS = 10;
/** Longest a sentinel may take from produce to being readable on grants.validated.v1 (declared bound). */
const BEHIND_BOUND_MS = 30_000;
const WARM_UP_MS = 120_000;
const SETTLE_MS = 60_000;

describe('hostile mutation property', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  let topic = '';
  const dir = scenarioDir('hostile-mutation');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, config.runner.shutdownGraceMs);
    if (topic) await clients.admin.deleteTopics([topic]).catch(() => undefined);
    await clients.close();
  });

  it('every mutated record ends validated or dead-lettered and the stage keeps going', async () => {
    const seed = propertySeed(process.env['HOSTILE_SEED']);
    console.info(`hostile mutation property: seed ${seed} (HOSTILE_SEED=${seed} replays it)`);
    const rng = new SeededRandom(seed);
    const tag = uniqueName('M')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-10)
      .toUpperCase();
    const storeDir = join(dir, 'store');
    mkdirSync(storeDir);
    const files = await writeHostileFiles(storeDir, join(dir, 'outside'), limits.zipMaxEntries + 1);
    const created = await createHostileTopic(
      clients,
      'mutation',
      PARTITIONS,
      config.topics.compatibility,
    );
    topic = created.topic;
    const ctx: HostileContext = { tag, ids: created.ids, files, limits, now: Date.now() };

    // The material: valid records of a few shapes, under both registered versions.
    const material = [0, 1, 2, 3].map((i) => {
      const sub = validSubmission(hostileGrantId(tag, 900 + i), [files.pdf], ctx.now);
      if (i === 1) sub.metadata = {};
      if (i === 2) sub.attachments = [files.pdf, { ...files.encryptedPdf, filename: 'b.pdf' }];
      return i === 3
        ? framed(
            ctx.ids.extended,
            Buffer.concat([submissionBody(sub), Buffer.from([2, 2, 2, 2, 0, 0])]),
          )
        : encodeSubmission(ctx, sub);
    });

    const log = new HostileOutcomeLog(
      topic,
      async (v) => (await clients.serde.decodeAs<AuditEventV1>(v, AuditEventV1Avro)).value,
    );
    const from = await clients.io.endOffsets([TOPICS.VALIDATED, TOPICS.DLQ, TOPICS.AUDIT]);
    let done = false;
    const stopFollowing = new AbortController();
    const following = clients.io.follow(
      from,
      (m) => {
        log.observe(m);
        return done;
      },
      WARM_UP_MS + SETTLE_MS + (MUTATIONS / BETWEEN_SENTINELS) * BEHIND_BOUND_MS,
      stopFollowing.signal,
    );
    const group = uniqueName('grantstream.ingest.mutation');
    await skipOtherIngestHistory(clients, group, topic);
    stages = startStages(['ingest'], {
      logDir: dir,
      env: {
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([storeDir]),
        GRANTSTREAM__INGEST__RUNNER__GROUPID: group,
        // Only this scenario's topic: never another scenario's or the main job's records.
        GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([topic]),
        GRANTSTREAM__INGEST__RUNNER__TRANSACTIONALIDPREFIX: group,
        GRANTSTREAM__INGEST__METRICS__PORT: '0',
      },
    });
    const stage = stages[0];
    if (!stage) throw new Error('ingest did not start');
    const pid = stage.child.pid ?? 0;
    const alive = () => stage.child.exitCode === null && stage.child.signalCode === null;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, peakRssBytes(pid) ?? 0)), 250);
    const until = async (condition: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition() && alive() && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      return condition();
    };

    const mutated: { m: Mutation; placed: Placed }[] = [];
    const sentinels: { id: string; placed: Placed }[] = [];
    try {
      await waitForLog(stage, /stage service consuming/, WARM_UP_MS);
      const producer = new PlacingProducer(clients.io, topic);
      let wave = 0;
      while (mutated.length < MUTATIONS && alive()) {
        const waveSentinels: { id: string; placed: Placed }[] = [];
        for (let p = 0; p < PARTITIONS; p += 1) {
          for (let i = 0; i < BETWEEN_SENTINELS && mutated.length < MUTATIONS; i += 1) {
            const m = mutate(rng, rng.pick(material), rng.pick(material), 5);
            const placed = await producer.send(p, {
              key: hostileGrantId(tag, 900),
              value: m.bytes,
            });
            mutated.push({ m, placed });
          }
          const s = sentinelRecord(ctx, wave * PARTITIONS + p);
          waveSentinels.push({
            id: s.grantId ?? '',
            placed: await producer.send(p, { key: s.key, value: s.value }),
          });
        }
        sentinels.push(...waveSentinels);
        await until(
          () => waveSentinels.every((s) => log.validated.has(s.id)),
          wave === 0 ? WARM_UP_MS : BEHIND_BOUND_MS,
        );
        wave += 1;
      }
      const ended = (x: { placed: Placed }) => {
        const { partition, offset } = x.placed;
        return (
          log.deadLettersAt(partition, offset).length > 0 ||
          log.auditsAt(partition, offset).some((a) => a.action === 'VALIDATED')
        );
      };
      for (let t = Date.now(); !mutated.every(ended) && alive() && Date.now() - t < SETTLE_MS; ) {
        await new Promise((r) => setTimeout(r, 200));
        await log.settle();
      }
      await log.settle();

      const unsettled = mutated.filter((x) => !ended(x));
      const byKind = new Map<string, { validated: number; dead: number }>();
      for (const x of mutated) {
        const k = byKind.get(x.m.kind) ?? { validated: 0, dead: 0 };
        if (log.deadLettersAt(x.placed.partition, x.placed.offset).length > 0) k.dead += 1;
        else k.validated += 1;
        byKind.set(x.m.kind, k);
      }
      const latencies = sentinels
        .map((s) => (log.validated.get(s.id) ?? Infinity) - s.placed.producedAt)
        .sort((a, b) => a - b);
      console.info(
        `${mutated.length} mutated records by kind ${JSON.stringify(Object.fromEntries(byKind))}; ` +
          `${unsettled.length} without an outcome; sentinels ${sentinels.length}, behind median ${latencies[latencies.length >> 1]} ms, max ${latencies[latencies.length - 1]} ms; ` +
          `ingest peak RSS ${(peak / 1048576).toFixed(1)} MB`,
      );

      expect(alive(), `ingest exited; seed ${seed}; log ${stage.logFile}`).toBe(true);
      expect(stage.child.pid).toBe(pid);
      expect(mutated).toHaveLength(MUTATIONS);
      expect(
        unsettled.map(
          (x) => `${x.m.kind} (${x.m.detail}) at ${x.placed.partition}:${x.placed.offset}`,
        ),
        `seed ${seed}`,
      ).toEqual([]);
      expect(sentinels.filter((s) => !log.validated.has(s.id)).map((s) => s.id)).toEqual([]);
      expect(latencies[latencies.length - 1]).toBeLessThan(BEHIND_BOUND_MS);
      expect(peak).toBeLessThan(limits.memoryBudgetBytes);
    } finally {
      done = true;
      stopFollowing.abort();
      clearInterval(sampler);
      await following;
    }
  }, 300_000);
});
