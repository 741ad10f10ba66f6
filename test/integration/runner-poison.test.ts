// Guarantee: poison never stalls a partition. Garbage bytes, a wrong magic
// byte, an unknown schema id, a truncated body, a record of another topic's
// schema and a valid Avro record that breaks the zod contract each land in the
// dead-letter topic with their key, value and headers intact plus the
// dead-letter headers; valid messages around them still go through; and a
// flood of one unknown schema id costs the registry one lookup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEventV1Avro,
  DLQ_HEADERS,
  DLQ_HEADER_DECLARATIONS,
  AVRO_LOGICAL_TYPES,
} from '@grantstream/contracts';
import {
  AvroSerde,
  StageRunner,
  createKafka,
  type PlatformClients,
  type ReadMessage,
} from '@grantstream/kafka';
import {
  aGrantSubmission,
  testClients,
  testConfig,
  testLogger,
  uniqueName,
} from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  readFanout,
  type HopTopics,
} from '../support/fanout';

const UNKNOWN_ID = 0x7ffffff0;

describe('poison inputs', () => {
  let clients: PlatformClients;
  let t: HopTopics;
  let runner: StageRunner;
  let runnerSerde: AvroSerde;
  const config = testConfig();
  const sent: { kind: string; key: string; value: Buffer | null }[] = [];

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createHopTopics(clients, 'poison', 1);
    // A record registered under another topic's subject.
    const auditTopic = uniqueName('test.poison.audit');
    await clients.serde.register(auditTopic, AuditEventV1Avro, config.topics.compatibility);
    const good = (id: string) => clients.serde.encode(t.input, aGrantSubmission({ grant_id: id }));
    const valid = await good('NSF-2026-000001');
    const wrongMagic = Buffer.from(valid);
    wrongMagic[0] = 1;
    const unknownId = Buffer.from(valid);
    unknownId.writeUInt32BE(UNKNOWN_ID, 1);
    const auditId = await clients.serde.latestSchemaId(auditTopic);
    const otherSchema = Buffer.from(valid);
    otherSchema.writeUInt32BE(auditId, 1);

    const inputs: { kind: string; key: string; value: Buffer | null }[] = [
      { kind: 'valid', key: 'NSF-2026-000001', value: valid },
      { kind: 'garbage', key: 'GARBAGE-1', value: Buffer.from([0x13, 0x37, 0x00]) },
      { kind: 'wrong-magic', key: 'MAGIC-1', value: wrongMagic },
      ...Array.from({ length: 25 }, (_, i) => ({
        kind: 'unknown-id',
        key: `UNKNOWN-${i}`,
        value: unknownId,
      })),
      { kind: 'truncated', key: 'TRUNC-1', value: valid.subarray(0, Math.floor(valid.length / 2)) },
      { kind: 'other-schema', key: 'OTHER-1', value: otherSchema },
      { kind: 'contract', key: 'BAD-ID', value: await good('not a grant id') },
      { kind: 'null', key: 'TOMBSTONE-1', value: null },
      { kind: 'valid', key: 'NSF-2026-000002', value: await good('NSF-2026-000002') },
    ];
    sent.push(...inputs);
    await clients.io.produce(
      t.input,
      inputs.map((m) => ({
        key: m.key,
        value: m.value,
        headers: { 'x-upstream': `parser-${m.kind}` },
      })),
    );

    runnerSerde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
    runner = new StageRunner({
      service: { stage: 'poison-test', name: 'poison-stage', version: '1.0.0' },
      config: hopRunnerConfig(t),
      kafka: createKafka(config.kafka, testLogger()),
      serde: runnerSerde,
      handlers: [
        fanoutHandler({ inputTopic: t.input, outputTopic: t.output, fanout: 3, strict: true }),
      ],
      logger: testLogger(),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner.stop();
    await clients.close();
  });

  let dead: ReadMessage[] = [];

  it('dead-letters each poison message and keeps consuming the valid ones', async () => {
    const poison = sent.filter((m) => m.kind !== 'valid');
    dead = await clients.io.read(t.dlq, {
      expected: poison.length,
      timeoutMs: 60_000,
      isolation: 'read_committed',
    });
    expect(dead).toHaveLength(poison.length);
    const outputs = await readFanout(clients, t.output, 6, 'read_committed');
    expect(outputs.map((o) => o.grant_id).sort()).toEqual(
      ['NSF-2026-000001', 'NSF-2026-000002'].flatMap((id) => [id, id, id]),
    );
  });

  it('keeps key, value and headers byte for byte and says where and why', () => {
    const code = (kind: string) =>
      ({
        garbage: 'SCHEMA_WIRE_FORMAT',
        'wrong-magic': 'SCHEMA_WIRE_FORMAT',
        'unknown-id': 'SCHEMA_UNKNOWN_ID',
        truncated: 'SCHEMA_BODY_INVALID',
        'other-schema': 'SCHEMA_SUBJECT_MISMATCH',
        contract: 'SCHEMA_CONTRACT_VIOLATION',
        null: 'SCHEMA_WIRE_FORMAT',
      })[kind];
    const byKey = new Map(dead.map((m) => [m.key?.toString(), m]));
    for (const original of sent.filter((m) => m.kind !== 'valid')) {
      const m = byKey.get(original.key);
      expect(m, original.key).toBeDefined();
      if (!m) continue;
      if (original.value === null) expect(m.value).toBeNull();
      else expect(m.value?.equals(original.value), original.kind).toBe(true);
      const h = (name: string) => m.headers[name]?.toString();
      expect(h('x-upstream')).toBe(`parser-${original.kind}`);
      expect(h(DLQ_HEADERS.ERROR_CODE), original.kind).toBe(code(original.kind));
      expect(h(DLQ_HEADERS.ERROR_CATEGORY)).toBe('SCHEMA_VIOLATION');
      expect(h(DLQ_HEADERS.STAGE)).toBe('poison-test');
      expect(h(DLQ_HEADERS.SERVICE)).toBe('poison-stage@1.0.0');
      expect(h(DLQ_HEADERS.SOURCE_TOPIC)).toBe(t.input);
      expect(h(DLQ_HEADERS.SOURCE_PARTITION)).toBe('0');
      expect(h(DLQ_HEADERS.ATTEMPTS)).toBe('1');
      expect(h(DLQ_HEADERS.REASON)?.length).toBeGreaterThan(10);
      for (const d of DLQ_HEADER_DECLARATIONS.filter((x) => x.required))
        expect(h(d.name), d.name).toBeDefined();
    }
    const offsets = dead.map((m) => Number(m.headers[DLQ_HEADERS.SOURCE_OFFSET]?.toString()));
    expect(new Set(offsets).size).toBe(dead.length);
    expect(byKey.get('BAD-ID')?.headers[DLQ_HEADERS.REASON]?.toString()).toContain(
      'grant_id must look like FUNDER-YEAR-NUMBER',
    );
  });

  it('asks the registry about an unknown id once, however many messages carry it', async () => {
    const before = runnerSerde.registryLookups;
    const unknown = sent.find((m) => m.kind === 'unknown-id');
    await clients.io.produce(
      t.input,
      Array.from({ length: 40 }, (_, i) => ({
        key: `UNKNOWN-AGAIN-${i}`,
        value: unknown?.value ?? null,
      })),
    );
    const all = await clients.io.read(t.dlq, {
      expected: dead.length + 40,
      timeoutMs: 60_000,
      isolation: 'read_committed',
    });
    expect(all).toHaveLength(dead.length + 40);
    expect(runnerSerde.registryLookups - before).toBe(0);
    // Per distinct id: the input schema, the unknown id, the other topic's schema, the output schema.
    expect(runnerSerde.registryLookups).toBeLessThanOrEqual(6);
  });
});
