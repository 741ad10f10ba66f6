// Guarantee: a GrantSubmission produced as Avro in Confluent wire format through
// the real registry is consumed from the real broker and decodes equal; the
// registry holds the public subject grants.ingest.v1-value with the GrantSubmission schema it declares.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GrantSubmissionV1Avro,
  GrantSubmissionV2Avro,
  GrantSubmissionV1Schema,
  SUBJECTS,
  TOPICS,
} from '@grantstream/contracts';
import { CUSTOM_LOGICAL_TYPES, wireSchemaOf, type PlatformClients } from '@grantstream/kafka';
import { aGrantSubmission, testClients, testConfig, uniqueName } from '@grantstream/testing';

describe('Avro round trip through the registry', () => {
  let clients: PlatformClients;
  const config = testConfig();
  const topic = uniqueName('test.roundtrip');

  beforeAll(async () => {
    clients = await testClients(config);
    await clients.admin.createTopics([
      { name: topic, partitions: 3, replicationFactor: 1, config: {}, valueSchema: null },
    ]);
  });
  afterAll(async () => {
    await clients.admin.deleteTopics([topic]);
    await clients.close();
  });

  it('holds the ingest subject with the GrantSubmission v2 schema it declares', async () => {
    // Looked up by content, as our writers find their id: other producers may
    // register compatible versions under the subject, so ours need not be latest.
    const res = await fetch(`${config.registry.url}/subjects/${SUBJECTS.INGEST}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({
        schema: JSON.stringify(wireSchemaOf(GrantSubmissionV2Avro, CUSTOM_LOGICAL_TYPES)),
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { subject: string; schema: string };
    expect(body.subject).toBe('grants.ingest.v1-value');
    const registered = JSON.parse(body.schema) as { name: string; fields: { name: string }[] };
    expect(registered.name).toBe(GrantSubmissionV2Avro.name);
    expect(registered.fields.map((f) => f.name)).toEqual(
      GrantSubmissionV2Avro.fields.map((f) => f.name),
    );
    expect(TOPICS.INGEST).toBe('grants.ingest.v1');
  });

  it('decodes what it encoded, byte-framed in Confluent wire format', async () => {
    const id = await clients.serde.register(
      topic,
      GrantSubmissionV1Avro,
      config.topics.compatibility,
    );
    const grants = [
      aGrantSubmission(),
      aGrantSubmission({
        grant_id: 'GATES-2026-117',
        funder_portal: 'gates-portal',
        attachments: [],
      }),
      aGrantSubmission({
        grant_id: 'CADOE-2026-0007',
        metadata: { empty_list: [], score: -3, note: 'ü ñ 汉' },
      }),
    ];
    const encoded = await Promise.all(grants.map((g) => clients.serde.encode(topic, g)));
    for (const bytes of encoded) {
      expect(bytes[0]).toBe(0);
      expect(bytes.readUInt32BE(1)).toBe(id);
    }
    await clients.io.produce(
      topic,
      grants.map((g, i) => ({ key: g.grant_id, value: encoded[i] ?? null })),
    );

    const read = await clients.io.read(topic, {
      expected: grants.length,
      timeoutMs: 30_000,
      isolation: 'read_committed',
    });
    expect(read).toHaveLength(grants.length);
    const decoded = await Promise.all(read.map((m) => clients.serde.decode(m.value)));
    const byKey = new Map(read.map((m, i) => [m.key?.toString(), decoded[i]?.value]));
    for (const g of grants) {
      expect(byKey.get(g.grant_id)).toEqual(g);
      expect(GrantSubmissionV1Schema.parse(byKey.get(g.grant_id))).toEqual(g);
    }
  });

  it('refuses to encode a value that does not match the schema, naming the field', async () => {
    const bad = { ...aGrantSubmission(), submission_deadline: 'tomorrow' };
    await expect(clients.serde.encode(topic, bad)).rejects.toThrow(/submission_deadline/);
  });
});
