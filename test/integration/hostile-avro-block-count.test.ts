// Guarantee: decoding is bounded whatever the bytes claim. Records on an
// ingest topic whose Avro block counts claim about 2^31 items (an attachments
// array, a metadata map, an array block with a byte size that points
// backwards) are dead-lettered SCHEMA_BODY_INVALID within seconds, the valid
// application behind them on the same partition is validated, and the ingest
// process stays alive with its peak resident memory under its budget.
import { Type } from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, TOPICS } from '@grantstream/contracts';
import type { PlatformClients, ReadMessage } from '@grantstream/kafka';
import {
  testClients,
  testConfig,
  uniqueName,
  exactTopicPattern,
  anNsfSubmission,
  createIngestTopic,
  peakRssBytes,
  produceSubmissions,
  scenarioDir,
  writePdf,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

/** What an item count of "about 2^31" is on the wire. */
const CLAIMED_ITEMS = 2 ** 31;
/** Ingest's memory budget (its container limit is 384 MB; the guard pauses at 260 MB). */
const BUDGET_BYTES = 300 * 1024 * 1024;
/** Longest the hostile records and the valid one behind them may take to reach their topics. */
const SETTLE_MS = 90_000;

const long = Type.forSchema('long');
const str = Type.forSchema('string');

/** Confluent framing of a hand-made Avro body. */
function framed(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/**
 * GrantSubmission bodies written by hand up to the field that lies: grant id,
 * portal and deadline as a real writer puts them, then a block count no
 * buffer of this size can hold, one item, and the end of the message.
 */
function hostileRecords(tag: string): { key: string; kind: string; body: Buffer }[] {
  const head = (key: string) =>
    Buffer.concat([str.toBuffer(key), str.toBuffer('grants-gov'), long.toBuffer(Date.now())]);
  const attachment = Buffer.concat([
    str.toBuffer('file:///x.pdf'),
    Buffer.from([0, 0, 0]), // media_type, size_bytes, sha256: null
    str.toBuffer('x.pdf'),
  ]);
  const arrayKey = `NSF-2026-00001-${tag}`;
  const mapKey = `NSF-2026-00002-${tag}`;
  const backKey = `NSF-2026-00003-${tag}`;
  return [
    {
      key: arrayKey,
      kind: 'array',
      // metadata: empty map; attachments: one block claiming 2^31 records.
      body: Buffer.concat([
        head(arrayKey),
        Buffer.from([0]),
        long.toBuffer(CLAIMED_ITEMS),
        attachment,
      ]),
    },
    {
      key: mapKey,
      kind: 'map',
      // metadata: one block claiming 2^31 entries, one entry (key "k", null).
      body: Buffer.concat([
        head(mapKey),
        long.toBuffer(CLAIMED_ITEMS),
        str.toBuffer('k'),
        Buffer.from([0]),
      ]),
    },
    {
      key: backKey,
      kind: 'array-negative-block',
      // A negative count announces a block byte size; this one points back
      // into the record, so a reader skipping by it would never advance.
      body: Buffer.concat([
        head(backKey),
        Buffer.from([0]),
        long.toBuffer(-CLAIMED_ITEMS),
        long.toBuffer(-64),
        attachment,
      ]),
    },
  ];
}

describe('hostile Avro block counts', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  let topic = '';
  const dir = scenarioDir('hostile-count');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    // Another ingest process subscribed to grants.ingest.* must never meet these records later.
    if (topic) await clients.admin.deleteTopics([topic]).catch(() => undefined);
    await clients.close();
  });

  it('dead-letters each lying record as SCHEMA_BODY_INVALID and validates the one behind it', async () => {
    const tag = uniqueName('HC')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-8)
      .toUpperCase();
    topic = await createIngestTopic(clients, 'hostile-count', 1);
    const schemaId = await clients.serde.latestSchemaId(topic);
    const hostile = hostileRecords(tag);
    const validId = `NSF-2026-00009-${tag}`;
    const valid = anNsfSubmission(validId, [writePdf(dir, 'narrative.pdf', 'hostile-count')]);

    const from = await clients.io.endOffsets([TOPICS.VALIDATED, TOPICS.DLQ]);
    const group = uniqueName('grantstream.ingest.hostile-count');
    stages = startStages(['ingest'], {
      logDir: dir,
      env: {
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
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
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssBytes(pid) ?? 0);
    }, 200);

    // The lying records first, then a valid application, all on partition 0.
    await clients.io.produce(
      topic,
      hostile.map((h) => ({ key: h.key, value: framed(schemaId, h.body), partition: 0 })),
    );
    await produceSubmissions(clients, topic, [valid]);
    const producedAt = Date.now();

    const dead = new Map<string, ReadMessage>();
    let validatedAt: number | null = null;
    const exited = () => stage.child.exitCode !== null || stage.child.signalCode !== null;
    await clients.io.follow(
      from,
      (m) => {
        const key = m.key?.toString() ?? '';
        if (m.topic === TOPICS.DLQ && hostile.some((h) => h.key === key)) dead.set(key, m);
        if (m.topic === TOPICS.VALIDATED && key === validId) validatedAt ??= Date.now();
        return exited() || (dead.size === hostile.length && validatedAt !== null);
      },
      SETTLE_MS,
    );
    clearInterval(sampler);
    peak = Math.max(peak, peakRssBytes(pid) ?? 0);
    console.info(
      `ingest peak RSS ${(peak / 1024 / 1024).toFixed(1)} MB; valid record validated ${
        validatedAt === null ? 'never' : `${validatedAt - producedAt} ms`
      } after producing; stage ${exited() ? `exited (${stage.child.exitCode ?? stage.child.signalCode})` : 'alive'}`,
    );

    expect(exited(), `ingest died; log ${stage.logFile}`).toBe(false);
    for (const h of hostile) {
      const m = dead.get(h.key);
      expect(m, `${h.kind} record dead-lettered`).toBeDefined();
      const header = (name: string) => m?.headers[name]?.toString();
      expect(header(DLQ_HEADERS.ERROR_CATEGORY), h.kind).toBe('SCHEMA_VIOLATION');
      expect(header(DLQ_HEADERS.ERROR_CODE), h.kind).toBe('SCHEMA_BODY_INVALID');
      expect(header(DLQ_HEADERS.SOURCE_TOPIC)).toBe(topic);
      expect(m?.value?.equals(framed(schemaId, h.body)), `${h.kind} bytes kept`).toBe(true);
    }
    expect(validatedAt, 'valid record behind the hostile ones validated').not.toBeNull();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(BUDGET_BYTES);
  }, 180_000);
});
