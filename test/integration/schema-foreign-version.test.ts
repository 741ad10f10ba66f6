// Guarantee: a compatible version of the ingest contract registered by
// another producer changes nothing for our writers, and its records are read.
// On an ingest subject that older code registered with the custom metadata
// logical type, our provisioning registers the contract without it; another
// producer then registers a plain copy and a variant (an optional field
// dropped, another added) and writes with plain avsc. Our writer (the one
// `grantctl submit` uses) still encodes with our own schema, `grantctl submit`
// exits 0, and the records of both producers are validated by a real ingest
// stage with their metadata as sent. No schema our code registers carries a
// custom logical type.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Schema } from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GrantSubmissionV2Avro,
  METADATA_LOGICAL_TYPE,
  TOPICS,
  type GrantSubmissionV2,
} from '@grantstream/contracts';
import { createPlatformClients, type PlatformClients } from '@grantstream/kafka';
import {
  ENTRY,
  runTs,
  testClients,
  testConfig,
  testLogger,
  uniqueName,
  exactTopicPattern,
  anNsfSubmission,
  awaitValidated,
  scenarioDir,
  writePdf,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

const config = testConfig();
const registry = config.registry.url;

/** The contract as a producer without our logical type sees it. */
function withoutLogicalTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLogicalTypes);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'logicalType' && v === METADATA_LOGICAL_TYPE))
      .map(([k, v]) => [k, withoutLogicalTypes(v)]),
  );
}

const plainCopy = withoutLogicalTypes(GrantSubmissionV2Avro) as typeof GrantSubmissionV2Avro;
/** Drops the optional applicant_ein and adds an optional field of the producer's own. */
const variant = {
  ...plainCopy,
  fields: [
    ...plainCopy.fields.filter((f) => f.name !== 'applicant_ein'),
    { name: 'upstream_batch', type: ['null', 'string'], default: null },
  ],
};

/** Registers a schema as any Confluent-API client does, without our serde. */
async function registerRaw(subject: string, schema: Schema): Promise<number> {
  const res = await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  const body = (await res.json()) as { id?: number; message?: string };
  if (!res.ok || body.id === undefined)
    throw new Error(`register ${subject}: ${res.status} ${body.message}`);
  return body.id;
}

async function registeredSchemas(subject: string): Promise<{ id: number; schema: string }[]> {
  const versions = (await (
    await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions`)
  ).json()) as number[];
  return Promise.all(
    versions.map(async (v) => {
      const res = await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions/${v}`);
      return (await res.json()) as { id: number; schema: string };
    }),
  );
}

/** A foreign producer's record: plain avsc, metadata as the union branches it declares. */
function foreignBytes(schema: Schema, schemaId: number, s: GrantSubmissionV2, extra = {}): Buffer {
  const metadata = Object.fromEntries(
    Object.entries(s.metadata).map(([k, v]) => [
      k,
      typeof v === 'number' ? { long: v } : typeof v === 'string' ? { string: v } : v,
    ]),
  );
  const body = Type.forSchema(schema).toBuffer({ ...s, metadata, ...extra });
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

describe('a foreign version of the ingest contract', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  const dir = scenarioDir('foreign-version');

  beforeAll(async () => {
    clients = await testClients(config);
  });
  afterAll(async () => {
    await stopStages(stages, config.runner.shutdownGraceMs);
    await clients.close();
  });

  it('leaves our writers on our schema and reads the foreign records', async () => {
    const tag = uniqueName('FV')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-8)
      .toUpperCase();
    const topic = uniqueName('grants.ingest.foreign');
    const subject = `${topic}-value`;
    await clients.admin.createTopics([
      { name: topic, partitions: 1, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
    // What older code registered: the contract with the metadata logical type.
    const legacyId = await registerRaw(subject, GrantSubmissionV2Avro);
    // Our provisioning (grantctl topics apply) on that subject, under the declared compatibility.
    const ownId = await clients.serde.register(
      topic,
      GrantSubmissionV2Avro,
      config.topics.compatibility,
    );
    // Another producer, as Python's confluent-kafka serializer does by default.
    const plainId = await registerRaw(subject, plainCopy);
    const variantId = await registerRaw(subject, variant);
    expect(variantId).not.toBe(legacyId);

    const pdf = writePdf(dir, 'narrative.pdf', 'foreign-version');
    const ourGrant = anNsfSubmission(`NSF-2026-00001-${tag}`, [pdf]);
    const plainGrant = anNsfSubmission(`NSF-2026-00002-${tag}`, [pdf]);
    const variantGrant = anNsfSubmission(`NSF-2026-00003-${tag}`, [pdf]);
    const submitGrant = anNsfSubmission(`NSF-2026-00004-${tag}`, [pdf]);

    // A fresh process's writer, exactly as `grantctl submit` builds it.
    const writerClients = createPlatformClients(config, testLogger());
    const ourBytes = await writerClients.serde.encode(topic, ourGrant);
    await writerClients.close();
    // Our own contract's id, whatever is latest (the variant).
    expect(ourBytes.readUInt32BE(1)).toBe(ownId);

    const file = join(dir, 'batch.jsonl');
    writeFileSync(file, `${JSON.stringify(submitGrant)}\n`);
    const submitted = await runTs(ENTRY.grantctl, ['submit', file, '--topic', topic, '--json'], {
      timeoutMs: 60_000,
    });
    expect(submitted.code, submitted.stdout + submitted.stderr).toBe(0);

    const from = await clients.io.endOffsets([TOPICS.VALIDATED, TOPICS.DLQ]);
    await clients.io.produce(topic, [
      { key: ourGrant.grant_id, value: ourBytes },
      { key: plainGrant.grant_id, value: foreignBytes(plainCopy, plainId, plainGrant) },
      {
        key: variantGrant.grant_id,
        value: foreignBytes(variant, variantId, variantGrant, {
          applicant_ein: undefined,
          upstream_batch: 'batch-7',
        }),
      },
    ]);
    const group = uniqueName('grantstream.ingest.foreign');
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
    const grants = [ourGrant, plainGrant, variantGrant, submitGrant];
    const validated = await awaitValidated(
      clients,
      from,
      new Set(grants.map((g) => g.grant_id)),
      120_000,
    );
    expect([...validated.keys()].sort()).toEqual(grants.map((g) => g.grant_id).sort());
    for (const g of grants) {
      expect(validated.get(g.grant_id)?.submission.metadata, g.grant_id).toEqual(g.metadata);
    }
    expect(validated.get(variantGrant.grant_id)?.submission.applicant_ein).toBeNull();

    // The public contract's wire shape: nothing our code registered carries our logical type.
    const registered = await registeredSchemas(subject);
    expect(registered.find((r) => r.id === ownId)?.schema).not.toContain(
      `"logicalType":"${METADATA_LOGICAL_TYPE}"`,
    );
  }, 300_000);
});
