// Guarantee: a poison message never wedges its partition.
// 1. An application with a ~5 MB metadata string, produced gzip-compressed (so
//    it fits the broker), is rejected by a real stage; its dead letter, which
//    copies the value uncompressed and is far larger than the broker accepts,
//    is written with the original key and headers and a reference to the
//    value's bytes in the dead-letter store (SHA-256 and size in headers); the
//    bytes are retrievable and match; every record behind it on the same
//    partition is processed within a bound, and the stage keeps consuming.
// 2. A chunk of N inputs whose transaction the broker refuses because one
//    output record is too large for its topic (the topic's max.message.bytes
//    is below the runner's record limit) is split until that one input is
//    isolated: only it is dead-lettered, with a clear category and code, and
//    the other inputs' outputs are committed exactly once.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AVRO_LOGICAL_TYPES, DLQ_HEADERS } from '@grantstream/contracts';
import { BusinessRuleViolationError } from '@grantstream/errors';
import {
  AvroSerde,
  StageRunner,
  createKafka,
  type PlatformClients,
  type ReadMessage,
  type StageHandler,
} from '@grantstream/kafka';
import type { GrantSubmissionV1 } from '@grantstream/contracts';
import {
  ENTRY,
  aGrantSubmission,
  runTs,
  testClients,
  testConfig,
  testLogger,
  createAuditTopic,
  scenarioDir,
} from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  multiplicity,
  readFanout,
  type HopTopics,
} from '../support/fanout';

const config = testConfig();
/** How long the records behind a poison message may wait for it. */
const BEHIND_BOUND_MS = 45_000;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** What ingest allows (ingest.limits.maxMetadataTotalChars): the test stage's business rule. */
const METADATA_LIMIT_CHARS = 200_000;

/** Prose-like text of about `chars` characters: compresses far below the broker's limit. */
function narrative(chars: number): string {
  const words = ['budget', 'outcome', 'watershed', 'sensor', 'school', 'rural', 'year'];
  const out: string[] = [];
  for (let i = 0, n = 0; n < chars; i += 1) {
    const w = words[(i * 7919) % words.length] as string;
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ').slice(0, chars);
}

/** The fan-out stage, refusing an application whose metadata is larger than ingest allows. */
function sizeLimitedHandler(t: HopTopics): StageHandler<GrantSubmissionV1> {
  const inner = fanoutHandler({ inputTopic: t.input, outputTopic: t.output, fanout: 1 });
  return {
    ...inner,
    handle(message, ctx) {
      const chars = JSON.stringify(message.value.metadata).length;
      if (chars > METADATA_LIMIT_CHARS) {
        return Promise.reject(
          new BusinessRuleViolationError([
            {
              code: 'METADATA_TOO_LARGE',
              message: `metadata is ${chars} characters; at most ${METADATA_LIMIT_CHARS}`,
              field: 'metadata',
            },
          ]),
        );
      }
      return inner.handle(message, ctx);
    },
  };
}

async function produceValid(clients: PlatformClients, topic: string, ids: readonly string[]) {
  const values = await Promise.all(
    ids.map((id) => clients.serde.encode(topic, aGrantSubmission({ grant_id: id }))),
  );
  await clients.io.produce(
    topic,
    ids.map((id, i) => ({ key: id, value: values[i] ?? null })),
  );
}

const ids = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => `NSF-2026-${tag}${String(i).padStart(4, '0')}`);

describe('a dead letter larger than the broker accepts', () => {
  let clients: PlatformClients;
  let t: HopTopics;
  let runner: StageRunner;
  let poisonValue: Buffer;
  const poisonText = narrative(5_000_000);
  const storeDir = scenarioDir('dead-letter-store');

  beforeAll(async () => {
    clients = await testClients(config);
    t = await createHopTopics(clients, 'poison-big', 1);
    runner = new StageRunner({
      service: { stage: 'poison-big-test', name: 'poison-big-stage', version: '1.0.0' },
      config: hopRunnerConfig(t, { deadLetterStore: { dir: storeDir } }),
      kafka: createKafka(config.kafka, testLogger()),
      serde: new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES }),
      handlers: [sizeLimitedHandler(t)],
      logger: testLogger(),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner.stop();
    await clients.close();
  });

  it('dead-letters the poison with a reference and processes everything behind it', async () => {
    await produceValid(clients, t.input, ids('A', 5));
    expect(await readFanout(clients, t.output, 5, 'read_committed')).toHaveLength(5);

    const poison = aGrantSubmission({
      grant_id: 'NSF-2026-POISON1',
      metadata: { project_narrative: poisonText },
    });
    poisonValue = await clients.serde.encode(t.input, poison);
    expect(poisonValue.length).toBeGreaterThan(4_500_000);
    const started = Date.now();
    await clients.io.produce(
      t.input,
      [{ key: poison.grant_id, value: poisonValue, headers: { 'x-upstream': 'parser-big' } }],
      { compression: 'gzip' },
    );
    const behind = ids('B', 20);
    await produceValid(clients, t.input, behind);

    const outputs = await readFanout(clients, t.output, 25, 'read_committed', BEHIND_BOUND_MS);
    const processedIn = Date.now() - started;
    expect(outputs.map((o) => o.grant_id).sort()).toEqual([...ids('A', 5), ...behind].sort());
    expect(processedIn).toBeLessThan(BEHIND_BOUND_MS);

    const dead = await clients.io.read(t.dlq, {
      expected: 1,
      timeoutMs: BEHIND_BOUND_MS,
      isolation: 'read_committed',
    });
    expect(dead).toHaveLength(1);
    const dl = dead[0] as ReadMessage;
    const h = (name: string) => dl.headers[name]?.toString();
    expect(dl.key?.toString()).toBe('NSF-2026-POISON1');
    expect(h('x-upstream')).toBe('parser-big');
    expect(h(DLQ_HEADERS.ERROR_CATEGORY)).toBe('SCHEMA_VIOLATION');
    // Refused for its size: by the runner's input bound (memory.maxInputRecordBytes,
    // never inflated into memory) or, under a larger bound, by the stage's handler.
    expect(['INPUT_TOO_LARGE', 'METADATA_TOO_LARGE']).toContain(h(DLQ_HEADERS.ERROR_CODE));
    // The value travels by reference: the dead letter itself fits the broker.
    expect(dl.value === null || dl.value.length === 0).toBe(true);
    expect(h(DLQ_HEADERS.VALUE_SHA256)).toBe(sha256(poisonValue));
    expect(h(DLQ_HEADERS.VALUE_BYTES)).toBe(String(poisonValue.length));
    const ref = h(DLQ_HEADERS.VALUE_REF) ?? '';
    expect(ref).toMatch(/^file:\/\//);
    const stored = readFileSync(fileURLToPath(ref));
    expect(sha256(stored)).toBe(sha256(poisonValue));
    expect(stored.equals(poisonValue)).toBe(true);
  });

  it('keeps consuming after the poison', async () => {
    const later = ids('C', 3);
    await produceValid(clients, t.input, later);
    const outputs = await readFanout(clients, t.output, 28, 'read_committed', BEHIND_BOUND_MS);
    expect(outputs.filter((o) => later.includes(o.grant_id))).toHaveLength(3);
  });

  it('sizes a dead letter up front: an input the stage holds, whose dead letter would not fit', async () => {
    // Below the runner's input bound, so the stage decodes it and its handler
    // rejects it; its dead letter (value plus headers) is over maxRecordBytes.
    const poison = aGrantSubmission({
      grant_id: 'NSF-2026-POISON2',
      metadata: { project_narrative: narrative(config.runner.maxRecordBytes) },
    });
    const value = await clients.serde.encode(t.input, poison);
    expect(value.length).toBeGreaterThan(config.runner.maxRecordBytes);
    await clients.io.produce(t.input, [{ key: poison.grant_id, value }], { compression: 'gzip' });
    const behind = ids('D', 5);
    await produceValid(clients, t.input, behind);
    const outputs = await readFanout(clients, t.output, 33, 'read_committed', BEHIND_BOUND_MS);
    expect(outputs.filter((o) => behind.includes(o.grant_id))).toHaveLength(5);
    const dead = await clients.io.read(t.dlq, {
      expected: 2,
      timeoutMs: BEHIND_BOUND_MS,
      isolation: 'read_committed',
    });
    const dl = dead.find((m) => m.key?.toString() === 'NSF-2026-POISON2');
    const h = (name: string) => dl?.headers[name]?.toString();
    expect(h(DLQ_HEADERS.ERROR_CODE)).toBe('METADATA_TOO_LARGE');
    expect(h(DLQ_HEADERS.OMITTED)).toBe('value');
    expect(h(DLQ_HEADERS.VALUE_SHA256)).toBe(sha256(value));
    const stored = readFileSync(fileURLToPath(h(DLQ_HEADERS.VALUE_REF) ?? 'file:///missing'));
    expect(stored.equals(value)).toBe(true);
  });

  it('grantctl dlq show and redrive follow the reference, and refuse bytes that do not match', async () => {
    const grantctl = (...args: string[]) =>
      runTs(ENTRY.grantctl, ['dlq', ...args, '--topic', t.dlq], {
        timeoutMs: 120_000,
        env: { GRANTSTREAM__RUNNER__DEAD_LETTER_STORE__DIR: storeDir },
      });
    const dead = await clients.io.read(t.dlq, {
      expected: 2,
      timeoutMs: BEHIND_BOUND_MS,
      isolation: 'read_committed',
    });
    const dl = dead.find((m) => m.key?.toString() === 'NSF-2026-POISON1') as ReadMessage;
    const at = `${dl.partition}:${dl.offset}`;

    const shown = await grantctl('show', at, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const report = JSON.parse(shown.stdout) as {
      valueFrom: string;
      value: { grant_id: string; metadata: { project_narrative: string } };
    };
    expect(report.valueFrom).toBe('store');
    expect(report.value.grant_id).toBe('NSF-2026-POISON1');
    expect(report.value.metadata.project_narrative).toBe(poisonText);

    // The stored bytes altered: show says so, redrive refuses to send them.
    const auditTopic = await createAuditTopic(clients, 'poison-redrive');
    const file = fileURLToPath(dl.headers[DLQ_HEADERS.VALUE_REF]?.toString() ?? 'file:///missing');
    writeFileSync(file, Buffer.concat([poisonValue, Buffer.from('tampered')]));
    const tampered = await grantctl('show', at);
    expect(tampered.code).toBe(4);
    expect(tampered.stdout).toContain('NOT VERIFIED');
    const refused = await grantctl('redrive', at, '--force', '--audit-topic', auditTopic);
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/cannot be resent: .*hashes to/);

    // Restored: the redrive sends the original bytes back to the source topic.
    writeFileSync(file, poisonValue);
    const from = await clients.io.endOffsets([t.input]);
    const redriven = await grantctl('redrive', at, '--force', '--audit-topic', auditTopic);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stdout).toContain('1 redriven');
    // The stage reads it again and dead-letters it again: the bytes it stored
    // this time, taken from the redriven record, hash as the original's.
    const again = await clients.io.read(t.dlq, {
      expected: dead.length + 1,
      timeoutMs: BEHIND_BOUND_MS,
      isolation: 'read_committed',
    });
    const redelivered = again.find(
      (m) =>
        m.key?.toString() === 'NSF-2026-POISON1' &&
        BigInt(m.headers[DLQ_HEADERS.SOURCE_OFFSET]?.toString() ?? '-1') >=
          BigInt(from.get(t.input)?.get(0) ?? '0'),
    );
    expect(redelivered?.headers[DLQ_HEADERS.REDRIVE_COUNT]?.toString()).toBe('1');
    expect(redelivered?.headers[DLQ_HEADERS.VALUE_SHA256]?.toString()).toBe(sha256(poisonValue));
  });
});

const N = 20;
const FAT_INDEX = 7;
const TOPIC_MAX_BYTES = 16_384;

/** A chunk of N inputs, one of which (FAT_INDEX) yields outputs too large for the output topic. */
function refusedChunkScenario(name: string, dlqMaxBytes?: number) {
  const s = {
    clients: undefined as unknown as PlatformClients,
    t: undefined as unknown as HopTopics,
    runner: undefined as unknown as StageRunner,
    deadLettered: [] as { offset: string; code: string }[],
    isolated: [] as { offset: string; outcome: string }[],
    refusedTransactions: 0,
    inputs: ids('R', N).map((id, i) => (i === FAT_INDEX ? id.replace('R', 'F') : id)),
    get fat() {
      return this.inputs[FAT_INDEX] as string;
    },
    storeDir: scenarioDir(name),
  };

  beforeAll(async () => {
    s.clients = await testClients(config);
    s.t = await createHopTopics(s.clients, name, 1);
    // The topic takes less than the runner's record limit: the runner cannot
    // know up front that this input's output will be refused.
    await s.clients.admin.setTopicConfig(s.t.output, {
      'max.message.bytes': String(TOPIC_MAX_BYTES),
    });
    if (dlqMaxBytes !== undefined)
      await s.clients.admin.setTopicConfig(s.t.dlq, { 'max.message.bytes': String(dlqMaxBytes) });
    await produceValid(s.clients, s.t.input, s.inputs);
    const inner = fanoutHandler({ inputTopic: s.t.input, outputTopic: s.t.output, fanout: 2 });
    const handler: StageHandler<GrantSubmissionV1> = {
      ...inner,
      async handle(message, ctx) {
        const result = await inner.handle(message, ctx);
        if (message.value.grant_id !== s.fat) return result;
        const padding = 'p'.repeat(TOPIC_MAX_BYTES * 4);
        return {
          records: result.records.map((r) => ({
            ...r,
            headers: { ...r.headers, 'x-padding': padding },
          })),
        };
      },
    };
    s.runner = new StageRunner({
      service: { stage: `${name}-test`, name: `${name}-stage`, version: '1.0.0' },
      config: hopRunnerConfig(s.t, { deadLetterStore: { dir: s.storeDir } }),
      kafka: createKafka(config.kafka, testLogger()),
      serde: new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES }),
      handlers: [handler],
      logger: testLogger(),
    });
    s.runner.on('aborted', (e) => {
      if (e.refusal) s.refusedTransactions += 1;
    });
    s.runner.on('deadLettered', (e) => s.deadLettered.push({ offset: e.offset, code: e.code }));
    s.runner.on('isolated', (e) => s.isolated.push({ offset: e.offset, outcome: e.outcome }));
    await s.runner.start();
  });

  afterAll(async () => {
    await s.runner.stop();
    await s.clients.close();
  });

  return s;
}

/** Every input but the refused one, its outputs committed exactly once. */
async function expectOthersExactlyOnce(s: ReturnType<typeof refusedChunkScenario>) {
  const outputs = await readFanout(s.clients, s.t.output, 2 * (N - 1), 'read_committed');
  expect(outputs).toHaveLength(2 * (N - 1));
  expect([...multiplicity(outputs).values()].every((n) => n === 1)).toBe(true);
  expect(new Set(outputs.map((o) => o.grant_id))).toEqual(
    new Set(s.inputs.filter((id) => id !== s.fat)),
  );
}

describe('one refused output record in a chunk', () => {
  const s = refusedChunkScenario('poison-split');

  it('isolates and dead-letters only the input whose output was refused', async () => {
    const dead = await s.clients.io.read(s.t.dlq, {
      expected: 1,
      timeoutMs: BEHIND_BOUND_MS,
      isolation: 'read_committed',
    });
    expect(dead.map((m) => m.key?.toString())).toEqual([s.fat]);
    const dl = dead[0] as ReadMessage;
    expect(dl.headers[DLQ_HEADERS.ERROR_CODE]?.toString()).toBe('RECORD_REFUSED');
    expect(dl.headers[DLQ_HEADERS.ERROR_CATEGORY]?.toString()).toBe('SCHEMA_VIOLATION');
    expect(dl.headers[DLQ_HEADERS.REASON]?.toString()).toContain('MESSAGE_TOO_LARGE');
    expect(dl.headers[DLQ_HEADERS.SOURCE_OFFSET]?.toString()).toBe(String(FAT_INDEX));

    await expectOthersExactlyOnce(s);
    expect(s.deadLettered.filter((e) => e.code === 'RECORD_REFUSED')).toHaveLength(1);
    expect(s.isolated).toEqual([{ offset: String(FAT_INDEX), outcome: 'dead_lettered' }]);
    // Halving a chunk of N down to one input: about log2(N) + 1 refused tries, bounded by config.
    expect(s.refusedTransactions).toBeGreaterThan(0);
    expect(s.refusedTransactions).toBeLessThanOrEqual(config.runner.poison.maxRefusedTransactions);
  });

  it('keeps consuming after the isolation, each output once', async () => {
    const later = ids('S', 4);
    await produceValid(s.clients, s.t.input, later);
    const outputs = await readFanout(s.clients, s.t.output, 2 * (N - 1 + 4), 'read_committed');
    expect(outputs.filter((o) => later.includes(o.grant_id))).toHaveLength(8);
    expect([...multiplicity(outputs).values()].every((n) => n === 1)).toBe(true);
  });
});

describe('a refused input whose dead letter the broker refuses too', () => {
  // A dead-letter topic that takes almost nothing: even the minimal dead letter is refused.
  const s = refusedChunkScenario('poison-unrecordable', 256);

  it('ends in a categorized outcome, never a loop: the offset moves on and the rest commit once', async () => {
    await expectOthersExactlyOnce(s);
    expect(s.isolated).toEqual([{ offset: String(FAT_INDEX), outcome: 'unrecorded' }]);
    expect(s.deadLettered).toEqual([]);
    const dead = await s.clients.io.read(s.t.dlq, {
      expected: 1,
      timeoutMs: 2_000,
      isolation: 'read_committed',
    });
    expect(dead).toHaveLength(0);
    // The input's bytes are kept in the dead-letter store all the same.
    const kept = readdirSync(s.storeDir, { recursive: true }).filter((f) =>
      String(f).endsWith('.bin'),
    );
    expect(kept).toHaveLength(1);
  });
});
