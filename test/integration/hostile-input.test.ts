// Guarantee: no input stops ingest. Every class of hostile input the suite
// designs (Confluent wire format, Avro bodies that lie, contract breaches,
// keys, headers, attachment references and attachment bytes; see
// docs/hostile-input.md) ends where it must: grants.validated.v1 when it is
// legitimately fine, otherwise the dead-letter topic with its declared error
// category and code and a DEAD_LETTER audit event for the same source
// position. One real ingest process takes them all, interleaved with valid
// sentinel applications on the same partitions: it stays alive, every
// sentinel is validated, and the sentinel right behind each hostile record is
// validated within a declared bound of being produced.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH } from '@grantstream/audit';
import { AuditEventV1Avro, TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  HOSTILE_CLASSES,
  HostileOutcomeLog,
  PlacingProducer,
  createHostileTopic,
  hostileGrantId,
  hostileLimits,
  sentinelRecord,
  skipOtherIngestHistory,
  testClients,
  testConfig,
  uniqueName,
  writeHostileFiles,
  type HostileContext,
  type HostileRecord,
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
/**
 * Longest the valid application right behind a hostile record may take from
 * being produced to being readable (committed) on grants.validated.v1: a
 * declared bound of this suite, far above an unloaded stage's ~1 s and far
 * below a wedged partition's forever.
 */
const BEHIND_BOUND_MS = 30_000;
/** Startup and catching up with the other ingest topics a new group reads from the start. */
const WARM_UP_MS = 150_000;
/** Longest any record's outcome may take after the last was produced. */
const SETTLE_MS = 60_000;

interface Sent {
  name: string;
  record: HostileRecord;
  placed: Placed;
  sentinelId: string;
  sentinelPlaced: Placed;
}

describe('hostile input suite', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  let topic = '';
  const dir = scenarioDir('hostile-input');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, config.runner.shutdownGraceMs);
    // Any other ingest process subscribed to grants.ingest.* must not meet these records later.
    if (topic) await clients.admin.deleteTopics([topic]).catch(() => undefined);
    await clients.close();
  });

  it('ends every class where it must while the stage keeps consuming', async () => {
    const tag = uniqueName('X')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-10)
      .toUpperCase();
    const storeDir = join(dir, 'store');
    mkdirSync(storeDir);
    const files = await writeHostileFiles(storeDir, join(dir, 'outside'), limits.zipMaxEntries * 2);

    const created = await createHostileTopic(
      clients,
      'hostile',
      PARTITIONS,
      config.topics.compatibility,
    );
    topic = created.topic;
    const ctx: HostileContext = {
      tag,
      ids: created.ids,
      files,
      limits,
      now: Date.now(),
    };

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
      WARM_UP_MS + SETTLE_MS + HOSTILE_CLASSES.length * BEHIND_BOUND_MS,
      stopFollowing.signal,
    );

    // The stage's group starts at the current end of every other ingest
    // topic: their history (other scenarios' leftovers) is not this suite's.
    const group = uniqueName('grantstream.ingest.hostile');
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

    const sent: Sent[] = [];
    try {
      await waitForLog(stage, /stage service consuming/, WARM_UP_MS);
      const producer = new PlacingProducer(clients.io, topic);
      // One valid application per partition first: the stage has joined and caught up.
      const warm = Array.from({ length: PARTITIONS }, (_, p) =>
        sentinelRecord(ctx, HOSTILE_CLASSES.length + p),
      );
      for (const [p, w] of warm.entries()) await producer.send(p, { key: w.key, value: w.value });
      expect(
        await until(() => warm.every((w) => log.validated.has(w.grantId ?? '')), WARM_UP_MS),
        'warm-up applications validated',
      ).toBe(true);

      // In rounds of one class per partition, each followed by a sentinel on its partition.
      for (let i = 0; i < HOSTILE_CLASSES.length && alive(); i += PARTITIONS) {
        const round: Sent[] = [];
        for (let p = 0; p < PARTITIONS && i + p < HOSTILE_CLASSES.length; p += 1) {
          const c = HOSTILE_CLASSES[i + p];
          if (!c) continue;
          const record = c.build(ctx, hostileGrantId(tag, i + p));
          const placed = await producer.send(
            p,
            {
              key: record.key,
              value: record.value,
              ...(record.headers ? { headers: record.headers } : {}),
            },
            record.compression,
          );
          const sentinel = sentinelRecord(ctx, i + p);
          const sentinelPlaced = await producer.send(p, {
            key: sentinel.key,
            value: sentinel.value,
          });
          round.push({
            name: c.name,
            record,
            placed,
            sentinelId: sentinel.grantId ?? '',
            sentinelPlaced,
          });
        }
        sent.push(...round);
        await until(() => round.every((s) => log.validated.has(s.sentinelId)), BEHIND_BOUND_MS);
      }

      // Every hostile record's outcome: a dead letter at its position or its grant validated.
      await until(() => sent.every((s) => outcomeOf(s, log).topic !== 'none'), SETTLE_MS);
      // A dead letter and its audit event commit in one transaction; the
      // follower may still be behind on the audit topic.
      await log.settle();
      const audited = (s: Sent) =>
        log.deadLettersAt(s.placed.partition, s.placed.offset).length === 0 ||
        log.auditsAt(s.placed.partition, s.placed.offset).some((a) => a.action === 'DEAD_LETTER');
      for (let t = Date.now(); !sent.every(audited) && Date.now() - t < SETTLE_MS; ) {
        await new Promise((r) => setTimeout(r, 200));
        await log.settle();
      }
    } finally {
      done = true;
      stopFollowing.abort();
      clearInterval(sampler);
      peak = Math.max(peak, peakRssBytes(pid) ?? 0);
    }
    await following;

    const rows = sent.map((s) => {
      const outcome = outcomeOf(s, log);
      const validatedAt = log.validated.get(s.sentinelId);
      return {
        s,
        outcome,
        behindMs: validatedAt === undefined ? null : validatedAt - s.sentinelPlaced.producedAt,
      };
    });
    for (const { s, outcome, behindMs } of rows) {
      const shown =
        outcome.topic === TOPICS.DLQ ? `${outcome.category} ${outcome.code}` : outcome.topic;
      console.info(
        `${s.name.padEnd(36)} ${shown.padEnd(52)} sentinel behind: ${behindMs ?? 'never'} ms`,
      );
    }
    const latencies = rows.map((r) => r.behindMs ?? Infinity).sort((a, b) => a - b);
    console.info(
      `${sent.length} classes; sentinel behind: median ${latencies[latencies.length >> 1]} ms, max ${latencies[latencies.length - 1]} ms; ingest peak RSS ${(peak / 1048576).toFixed(1)} MB; stage ${alive() ? 'alive' : 'exited'}`,
    );

    // Where each class ended, all classes at once; the checks below run whatever this says.
    expect
      .soft(rows.map((r) => ({ name: r.s.name, ...r.outcome })))
      .toEqual(HOSTILE_CLASSES.map((c) => ({ name: c.name, ...c.expected })));
    // Every dead letter has its DEAD_LETTER audit event, with the same category and code.
    const unaudited = rows
      .filter((r) => r.outcome.topic === TOPICS.DLQ)
      .filter(
        (r) =>
          !log
            .auditsAt(r.s.placed.partition, r.s.placed.offset)
            .some(
              (a) =>
                a.action === 'DEAD_LETTER' &&
                r.outcome.topic === TOPICS.DLQ &&
                a.category === r.outcome.category &&
                a.code === r.outcome.code,
            ),
      )
      .map((r) => r.s.name);
    expect(unaudited).toEqual([]);
    // A record too large to hold is dead-lettered by reference: its dead letter names the bytes by SHA-256.
    expect(
      rows
        .filter((r) => r.outcome.topic === TOPICS.DLQ && r.outcome.code === 'INPUT_TOO_LARGE')
        .filter(
          (r) =>
            !log
              .deadLettersAt(r.s.placed.partition, r.s.placed.offset)
              .some(
                (d) => d.code === 'INPUT_TOO_LARGE' && /^[0-9a-f]{64}$/.test(d.valueSha256 ?? ''),
              ),
        )
        .map((r) => r.s.name),
    ).toEqual([]);
    // Ingest starts every trail at the genesis hash, whatever audit head a record claims.
    expect(
      rows
        .filter((r) =>
          log
            .auditsAt(r.s.placed.partition, r.s.placed.offset)
            .some((a) => a.previousHash !== AUDIT_GENESIS_HASH),
        )
        .map((r) => r.s.name),
    ).toEqual([]);
    // The stage stayed up, the same process throughout, and kept consuming.
    expect(alive(), `ingest exited; log ${stage.logFile}`).toBe(true);
    expect(stage.child.pid).toBe(pid);
    expect(rows.filter((r) => r.behindMs === null).map((r) => r.s.name)).toEqual([]);
    expect(
      rows.filter((r) => (r.behindMs ?? Infinity) > BEHIND_BOUND_MS).map((r) => r.s.name),
    ).toEqual([]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(limits.memoryBudgetBytes);
  }, 420_000);
});

type Observed =
  | { topic: typeof TOPICS.VALIDATED }
  | { topic: typeof TOPICS.DLQ; category: string; code: string }
  | { topic: 'none' };

/** What only a process without this run's attachment store says: not this stage's outcome. */
const FOREIGN_CODE = 'ATTACHMENT_PATH_OUTSIDE_ROOT';

/**
 * Where a hostile record ended. Another ingest process on the broker may
 * read the scenario topic too (every one subscribes to grants.ingest.*): it
 * cannot open this run's attachments, so its dead letters of them say
 * ATTACHMENT_PATH_OUTSIDE_ROOT, which this stage says of no file in its
 * store; of the outcomes left, the class's own wins, then a validation.
 */
function outcomeOf(s: Sent, log: HostileOutcomeLog): Observed {
  const expected = HOSTILE_CLASSES.find((c) => c.name === s.name)?.expected;
  const dead = log
    .deadLettersAt(s.placed.partition, s.placed.offset)
    .filter(
      (d) =>
        d.code !== FOREIGN_CODE || (expected?.topic === TOPICS.DLQ && expected.code === d.code),
    );
  const validated = s.record.grantId !== null && log.validated.has(s.record.grantId);
  const match = dead.find(
    (d) =>
      expected?.topic === TOPICS.DLQ &&
      d.category === expected.category &&
      d.code === expected.code,
  );
  if (match) return { topic: TOPICS.DLQ, category: match.category, code: match.code };
  if (validated) return { topic: TOPICS.VALIDATED };
  const first = dead[0];
  if (first) return { topic: TOPICS.DLQ, category: first.category, code: first.code };
  return { topic: 'none' };
}
