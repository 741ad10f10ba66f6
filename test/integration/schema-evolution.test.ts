// Guarantee: the real registry enforces schema evolution. A v2 that adds an
// optional field with a default registers; a v2 that removes a required field
// is refused under the compatibility our subjects use. Under plain BACKWARD
// the removal would pass (a reader skips fields it does not know), which is
// why config/grantstream.yaml sets FULL_TRANSITIVE for topic subjects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncompatibleSchemaError } from '@grantstream/errors';
import {
  AVRO_LOGICAL_TYPES,
  GrantSubmissionV1Avro,
  GrantSubmissionV2Avro,
  TOPICS,
} from '@grantstream/contracts';
import { AvroSerde, type PlatformClients } from '@grantstream/kafka';
import { aRoutedGrant, testClients, testConfig, uniqueName } from '@grantstream/testing';

const withoutFundingPortal = {
  ...GrantSubmissionV1Avro,
  fields: GrantSubmissionV1Avro.fields.filter((f) => f.name !== 'funder_portal'),
};
const withRequiredField = {
  ...GrantSubmissionV1Avro,
  fields: [...GrantSubmissionV1Avro.fields, { name: 'program_code', type: 'string' }],
};

async function versions(url: string, topic: string): Promise<number[]> {
  const res = await fetch(`${url}/subjects/${topic}-value/versions`);
  return (await res.json()) as number[];
}

describe('schema evolution in the registry', () => {
  let clients: PlatformClients;
  const config = testConfig();

  beforeAll(async () => {
    clients = await testClients(config);
  });
  afterAll(() => clients.close());

  it('registers GrantSubmission v2 (optional field with a default) after v1', async () => {
    const topic = uniqueName('test.evolution.ok');
    const v1 = await clients.serde.register(
      topic,
      GrantSubmissionV1Avro,
      config.topics.compatibility,
    );
    const v2 = await clients.serde.register(
      topic,
      GrantSubmissionV2Avro,
      config.topics.compatibility,
    );
    expect(v2).not.toBe(v1);
    expect(await versions(config.registry.url, topic)).toHaveLength(2);
  });

  it('refuses a v2 that removes a required field, and one that adds a field without a default', async () => {
    const topic = uniqueName('test.evolution.refused');
    await clients.serde.register(topic, GrantSubmissionV1Avro, config.topics.compatibility);
    await expect(
      clients.serde.register(topic, withoutFundingPortal, config.topics.compatibility),
    ).rejects.toBeInstanceOf(IncompatibleSchemaError);
    await expect(
      clients.serde.register(topic, withRequiredField, config.topics.compatibility),
    ).rejects.toThrow(/refused the schema .* under FULL_TRANSITIVE/);
    expect(await versions(config.registry.url, topic)).toHaveLength(1);
  });

  it('under plain BACKWARD accepts the removal but still refuses a new field without a default', async () => {
    const topic = uniqueName('test.evolution.backward');
    await clients.serde.register(topic, GrantSubmissionV1Avro, 'BACKWARD');
    await expect(
      clients.serde.register(topic, withRequiredField, 'BACKWARD'),
    ).rejects.toBeInstanceOf(IncompatibleSchemaError);
    await clients.serde.register(topic, withoutFundingPortal, 'BACKWARD');
    expect(await versions(config.registry.url, topic)).toHaveLength(2);
  });

  it("makes one id lookup of the writer's schema for a burst of encodes on a cold cache", async () => {
    // A fresh serde, as a stage has after a restart: 300 concurrent encodes
    // would otherwise send 300 lookups at once and time the registry out.
    const serde = new AvroSerde(config.registry, { logicalTypes: AVRO_LOGICAL_TYPES });
    const grants = Array.from({ length: 300 }, (_, i) => aRoutedGrant(`SERDE-2026-${i}`));
    const encoded = await Promise.all(grants.map((g) => serde.encode(TOPICS.ROUTED, g)));
    expect(encoded).toHaveLength(300);
    expect(serde.writerIdLookups).toBe(1);
    expect(serde.latestIdLookups).toBe(0);
    expect((await serde.decode(encoded[0] ?? null)).value).toMatchObject({
      grant_id: 'SERDE-2026-0',
    });
  });
});
