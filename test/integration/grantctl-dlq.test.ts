// Guarantee: dead letters can be found, read and sent back once their cause is
// fixed, without losing or doubling anything and without breaking an audit
// trail. A stage gives up on the grants of a misconfigured funder after an
// attempt retried in place (whose RETRY event the runner keeps, before its
// DEAD_LETTER event), and dead-letters a message that is not Avro at all;
// each grant's value names its trail, as every record after ingest does;
// `grantctl dlq list` and `show` describe them; after the fix `grantctl dlq redrive` sends each back to its source topic
// exactly once (a second redrive skips it), with the original bytes, its
// redrive count raised, and a REDRIVEN audit event committed in the same
// transaction between the DEAD_LETTER event and what the stage does next; the
// payload that itself failed is refused; `grantctl audit verify` finds every
// trail intact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_HEAD_HEADER,
  auditTrailIdFor,
  chainOrder,
  payloadHashOf,
  previousEventHashOf,
  stageAuditRecord,
} from '@grantstream/audit';
import {
  AuditEventV1Avro,
  AuditEventV1Schema,
  DLQ_HEADERS,
  RoutedGrantV1Avro,
  RoutedGrantV1Schema,
  funderIdOrNull,
  type AuditEventV1,
  type RoutedGrantV1,
} from '@grantstream/contracts';
import { FunderMisconfiguredError } from '@grantstream/errors';
import {
  GaveUpError,
  StageRunner,
  createKafka,
  deadLetterAuditHook,
  type PlatformClients,
  type ReadMessage,
  type StageHandler,
} from '@grantstream/kafka';
import {
  ENTRY,
  aRoutedGrant,
  runTs,
  testClients,
  testConfig,
  testLogger,
  createAuditTopic,
} from '@grantstream/testing';
import {
  createHopTopics,
  hopRunnerConfig,
  readFanout,
  type FanoutRecord,
  type HopTopics,
} from '../support/fanout';

const GRANTS = 6;
const MISCONFIGURED = 4;
const SERVICE = { stage: 'dlq-test', name: 'dlq-test-stage', version: '1.0.0' };

describe('grantctl dlq', () => {
  const config = testConfig();
  let clients: PlatformClients;
  let t: HopTopics;
  let auditTopic: string;
  let runner: StageRunner;
  let grants: string[];
  /** Grants whose funder is "misconfigured" until the test fixes it. */
  const broken = new Set<string>();
  let dead: ReadMessage[] = [];
  const positionOf = (grant: string) => {
    const m = dead.find((d) => d.key?.toString() === grant);
    if (!m) throw new Error(`no dead letter for ${grant}`);
    return `${m.partition}:${m.offset}`;
  };

  const grantctl = (...args: string[]) =>
    runTs(ENTRY.grantctl, ['dlq', ...args, '--topic', t.dlq], { timeoutMs: 120_000 });
  const redrive = async (...args: string[]) => {
    const r = await grantctl('redrive', '--audit-topic', auditTopic, '--json', ...args);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as {
      redriven: { position: string; grantId: string; to: string; redriveCount: number }[];
      skipped: { position: string; grantId: string; reason: string }[];
    };
  };

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createHopTopics(clients, 'dlq', 2, RoutedGrantV1Avro);
    auditTopic = await createAuditTopic(clients, 'dlq');
    // Each grant arrives with the head of a trail ingest began, and names that
    // trail in its value as every record after ingest does: the stage, its dead
    // letter and a redrive all continue the trail the value names.
    grants = Array.from({ length: GRANTS }, (_, i) => `NSF-2026-D${String(i).padStart(6, '0')}`);
    for (const g of grants.slice(0, MISCONFIGURED)) broken.add(g);
    const ingestedAs = (key: string, value: Buffer, auditTrailId: string) =>
      stageAuditRecord(
        {
          grantId: key,
          funderId: funderIdOrNull(key) ?? 'UNKNOWN',
          auditTrailId,
          stage: 'ingest',
          action: 'INGESTED',
          payloadHash: payloadHashOf(value),
          service: { name: 'ingest', version: '1.0.0' },
          occurredAt: Date.now(),
          discriminator: 'seed',
        },
        AUDIT_GENESIS_HASH,
        auditTopic,
      );
    const produceIngested = async (
      messages: { key: string; value: Buffer; partition?: number }[],
      ingested: ReturnType<typeof ingestedAs>[],
    ) => {
      await clients.io.produce(
        auditTopic,
        await Promise.all(
          ingested.map(async (a) => ({
            key: a.record.key,
            value: await clients.serde.encode(auditTopic, a.record.value),
          })),
        ),
      );
      await clients.io.produce(
        t.input,
        messages.map((m, i) => ({
          ...m,
          headers: { 'x-upstream': 'parser-9', ...ingested[i]?.headHeaders },
        })),
      );
    };
    const inputs = await Promise.all(
      grants.map(async (g) => ({
        key: g,
        value: await clients.serde.encode(t.input, aRoutedGrant(g, { auditTrailId: `at-${g}` })),
      })),
    );
    await produceIngested(
      inputs,
      inputs.map((m) => ingestedAs(m.key, m.value, `at-${m.key}`)),
    );
    // A value the stage cannot decode names no trail: its dead letter continues
    // the trail of its position, which is where its head comes from here.
    const garbled = { key: 'GARBLED-1', value: Buffer.from('not avro at all'), partition: 0 };
    const offset = Number((await clients.io.endOffsets([t.input])).get(t.input)?.get(0) ?? 0);
    await produceIngested(
      [garbled],
      [
        ingestedAs(
          garbled.key,
          garbled.value,
          auditTrailIdFor({ topic: t.input, partition: garbled.partition, offset }),
        ),
      ],
    );

    // A stage that forwards each grant with its audit event chained to the
    // input's head, and fails the grants of a misconfigured funder for good.
    const handler: StageHandler<RoutedGrantV1> = {
      subscriptions: [t.input],
      input: { avro: RoutedGrantV1Avro, zod: RoutedGrantV1Schema },
      handle(message) {
        const grant = message.value.grant_id;
        const decision = {
          grantId: grant,
          funderId: message.value.funder_id,
          auditTrailId: message.value.audit_trail_id,
          stage: SERVICE.stage,
          payloadHash: payloadHashOf(message.raw),
          service: SERVICE,
          occurredAt: Number(message.timestamp),
          source: {
            topic: message.topic,
            partition: message.partition,
            offset: Number(message.offset),
          },
        };
        if (broken.has(grant)) {
          // As submission does: an attempt retried in place, then a 401 ends it.
          const retry = stageAuditRecord(
            { ...decision, action: 'RETRY', errorCategory: 'INFRASTRUCTURE' },
            previousEventHashOf(message.headers),
            auditTopic,
          );
          throw new GaveUpError(
            new FunderMisconfiguredError('attempt 1: 503; attempt 2: portal answered 401'),
            [retry.record],
            retry.headHeaders,
          );
        }
        const audit = stageAuditRecord(
          { ...decision, action: 'FORWARD' },
          previousEventHashOf(message.headers),
          auditTopic,
        );
        return Promise.resolve({
          records: [
            audit.record,
            {
              topic: t.output,
              key: message.key,
              value: {
                grant_id: grant,
                input_partition: message.partition,
                input_offset: Number(message.offset),
                index: 0,
              } satisfies FanoutRecord,
              headers: audit.headHeaders,
            },
          ],
        });
      },
    };
    runner = new StageRunner({
      service: SERVICE,
      config: hopRunnerConfig(t),
      kafka: createKafka(config.kafka, testLogger()),
      serde: clients.serde,
      handlers: [handler],
      logger: testLogger(),
      onDeadLetter: deadLetterAuditHook({ service: SERVICE, startsTrail: false, auditTopic }),
    });
    await runner.start();
    dead = await clients.io.read(t.dlq, {
      expected: MISCONFIGURED + 1,
      timeoutMs: 60_000,
      isolation: 'read_committed',
    });
  }, 180_000);

  afterAll(async () => {
    await runner.stop();
    await clients.close();
  });

  it('lists every dead letter with its cause, and counts them', async () => {
    expect(dead).toHaveLength(MISCONFIGURED + 1);
    const r = await grantctl('list', '--json');
    expect(r.code, r.stderr).toBe(0);
    const entries = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(MISCONFIGURED + 1);
    const byGrant = new Map(entries.map((e) => [e['grantId'], e]));
    for (const g of grants.slice(0, MISCONFIGURED)) {
      expect(byGrant.get(g)).toMatchObject({
        position: positionOf(g),
        stage: SERVICE.stage,
        category: 'CONFIGURATION',
        code: 'FUNDER_MISCONFIGURED',
        source: { topic: t.input },
        redriveCount: 0,
      });
    }
    expect(byGrant.get('GARBLED-1')).toMatchObject({ category: 'SCHEMA_VIOLATION' });
    expect(r.stderr).toContain(`${MISCONFIGURED + 1} dead letter(s) in ${t.dlq}`);

    const human = await grantctl('list', '--category', 'CONFIGURATION');
    expect(human.code, human.stderr).toBe(0);
    const rows = human.stdout.split('\n').filter((l) => l.includes('FUNDER_MISCONFIGURED'));
    expect(rows.filter((l) => /^\d+:\d+ /.test(l))).toHaveLength(MISCONFIGURED);
    expect(human.stdout).toContain(`${MISCONFIGURED} dead letter(s) in ${t.dlq}`);
    expect(human.stdout).toMatch(
      new RegExp(`\\s${MISCONFIGURED}\\s+dlq-test / CONFIGURATION / FUNDER_MISCONFIGURED`),
    );
  });

  it('shows one dead letter in full, decoded, and says when there is none', async () => {
    const grant = grants[0] ?? '';
    const r = await grantctl('show', positionOf(grant));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`grant      ${grant}`);
    expect(r.stdout).toContain('CONFIGURATION / FUNDER_MISCONFIGURED');
    expect(r.stdout).toContain('portal answered 401');
    expect(r.stdout).toContain(`${DLQ_HEADERS.SOURCE_TOPIC}: ${t.input}`);
    expect(r.stdout).toContain('x-upstream: parser-9');
    expect(r.stdout).toContain(`"grant_id": "${grant}"`);

    const garbled = await grantctl('show', positionOf('GARBLED-1'), '--json');
    expect(garbled.code, garbled.stderr).toBe(0);
    const shown = JSON.parse(garbled.stdout) as { undecodable: string | null; headers: object };
    expect(shown.undecodable).toBeTruthy();
    expect(shown.headers).toMatchObject({ 'x-upstream': 'parser-9' });

    const missing = await grantctl('show', '0:999999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead letter at 0:999999');
  });

  it('redrives each fixed dead letter once, with its bytes, count and audit trail', async () => {
    const unselected = await grantctl('redrive');
    expect(unselected.code).not.toBe(0);
    expect(unselected.stderr).toContain('--all');

    broken.clear(); // the funder's configuration is fixed
    const before = await clients.io.endOffsets([t.input]);
    const first = grants[0] ?? '';
    const dry = await redrive(positionOf(first), '--dry-run');
    expect(dry.redriven.map((r) => r.grantId)).toEqual([first]);
    expect(await clients.io.endOffsets([t.input])).toEqual(before);

    const one = await redrive(positionOf(first));
    expect(one.redriven).toEqual([
      { position: positionOf(first), grantId: first, to: t.input, redriveCount: 1 },
    ]);
    const rest = await redrive('--category', 'CONFIGURATION');
    expect(rest.redriven.map((r) => r.grantId).sort()).toEqual(
      grants.slice(1, MISCONFIGURED).sort(),
    );
    expect(rest.skipped).toEqual([
      { position: positionOf(first), grantId: first, reason: expect.stringMatching(/already/) },
    ]);
    const again = await redrive('--all');
    expect(again.redriven).toEqual([]);
    const reasons = again.skipped.map((s) => s.reason);
    expect(reasons).toHaveLength(MISCONFIGURED + 1);
    expect(reasons.filter((r) => r.startsWith('already redriven'))).toHaveLength(MISCONFIGURED);
    expect(reasons.filter((r) => /SCHEMA_VIOLATION.*--force/.test(r))).toHaveLength(1);

    // Every grant comes through the stage exactly once.
    const out = await readFanout(clients, t.output, GRANTS, 'read_committed');
    expect(out.map((o) => o.grant_id).sort()).toEqual([...grants].sort());

    // The redriven messages: original key and value, no dead-letter headers, count 1.
    const inputs = await clients.io.read(t.input, {
      expected: GRANTS + 1 + MISCONFIGURED,
      timeoutMs: 30_000,
      isolation: 'read_committed',
    });
    expect(inputs).toHaveLength(GRANTS + 1 + MISCONFIGURED);
    const redriven = inputs.filter((m) => m.headers[DLQ_HEADERS.REDRIVE_COUNT] !== undefined);
    expect(redriven).toHaveLength(MISCONFIGURED);
    for (const m of redriven) {
      const grant = m.key?.toString() ?? '';
      const original = dead.find((d) => d.key?.toString() === grant);
      expect(m.value?.equals(original?.value ?? Buffer.alloc(0)), grant).toBe(true);
      expect(m.headers[DLQ_HEADERS.REDRIVE_COUNT]?.toString()).toBe('1');
      expect(Object.keys(m.headers).filter((k) => k.startsWith('grantstream.dlq.'))).toEqual([
        DLQ_HEADERS.REDRIVE_COUNT,
      ]);
    }

    // Each trail: INGESTED -> RETRY -> DEAD_LETTER -> REDRIVEN -> FORWARD, one chain, and verify finds nothing wrong.
    const events: AuditEventV1[] = [];
    for (const m of await clients.io.read(auditTopic, {
      // INGESTED for every input; RETRY, DEAD_LETTER, REDRIVEN, FORWARD for each
      // redriven grant; DEAD_LETTER for the garbled one; FORWARD for the others.
      expected: GRANTS + 1 + MISCONFIGURED * 4 + 1 + (GRANTS - MISCONFIGURED),
      timeoutMs: 30_000,
      isolation: 'read_committed',
    })) {
      events.push(
        AuditEventV1Schema.parse((await clients.serde.decodeAs(m.value, AuditEventV1Avro)).value),
      );
    }
    for (const grant of grants.slice(0, MISCONFIGURED)) {
      const trail = chainOrder(events.filter((e) => e.grant_id === grant));
      expect(
        trail.map((e) => `${e.stage}:${e.action}`),
        grant,
      ).toEqual([
        'ingest:INGESTED',
        `${SERVICE.stage}:RETRY`,
        `${SERVICE.stage}:DEAD_LETTER`,
        'grantctl:REDRIVEN',
        `${SERVICE.stage}:FORWARD`,
      ]);
      const input = redriven.find((m) => m.key?.toString() === grant);
      expect(input?.headers[AUDIT_HEAD_HEADER]?.toString()).toBe(trail[3]?.event_hash);
    }
    const verify = await runTs(
      ENTRY.grantctl,
      ['audit', 'verify', '--topic', auditTopic, '--json'],
      { timeoutMs: 120_000 },
    );
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
