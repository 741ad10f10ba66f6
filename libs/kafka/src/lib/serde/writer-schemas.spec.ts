import { Type } from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  GrantSubmissionV2Avro,
  METADATA_LOGICAL_TYPE,
  TOPICS,
  TOPIC_DECLARATIONS,
  ValidatedGrantV2Avro,
  avroTypeFor,
} from '@grantstream/contracts';
import { CUSTOM_LOGICAL_TYPES, DECLARED_WRITER_SCHEMAS, wireSchemaOf } from './writer-schemas';

describe('wireSchemaOf', () => {
  it('drops our custom logical types and keeps the standard ones', () => {
    const custom = `"logicalType":"${METADATA_LOGICAL_TYPE}"`;
    const wire = JSON.stringify(wireSchemaOf(ValidatedGrantV2Avro, CUSTOM_LOGICAL_TYPES));
    expect(JSON.stringify(ValidatedGrantV2Avro)).toContain(custom);
    expect(wire).not.toContain(custom);
    expect(wire).toContain('"logicalType":"timestamp-millis"');
  });

  it('changes no byte: the wire form has the same canonical form and reads our bytes', () => {
    const ours = avroTypeFor(GrantSubmissionV2Avro);
    const wire = Type.forSchema(wireSchemaOf(GrantSubmissionV2Avro, CUSTOM_LOGICAL_TYPES));
    expect(wire.fingerprint().equals(ours.fingerprint())).toBe(true);
    const value: unknown = ours.random();
    expect(() => {
      wire.fromBuffer(ours.toBuffer(value));
    }).not.toThrow();
  });

  it('leaves the schema it was given alone', () => {
    const before = JSON.stringify(GrantSubmissionV2Avro);
    wireSchemaOf(GrantSubmissionV2Avro, CUSTOM_LOGICAL_TYPES);
    expect(JSON.stringify(GrantSubmissionV2Avro)).toBe(before);
  });
});

describe('DECLARED_WRITER_SCHEMAS', () => {
  it('gives every declared topic its declared schema, and the DLQ none', () => {
    for (const d of TOPIC_DECLARATIONS) {
      expect(DECLARED_WRITER_SCHEMAS.forTopic(d.name), d.name).toBe(d.valueSchema?.avro);
    }
    expect(DECLARED_WRITER_SCHEMAS.forTopic(TOPICS.DLQ)).toBeUndefined();
  });

  it('gives an ingest topic added at run time the ingest contract, and an unknown topic nothing', () => {
    expect(DECLARED_WRITER_SCHEMAS.forTopic('grants.ingest.partner-x')).toBe(GrantSubmissionV2Avro);
    expect(DECLARED_WRITER_SCHEMAS.forTopic('test.something.out')).toBeUndefined();
  });

  it('lists every record version', () => {
    expect(DECLARED_WRITER_SCHEMAS.all).toContain(GrantSubmissionV2Avro);
    expect(DECLARED_WRITER_SCHEMAS.all).toContain(ValidatedGrantV2Avro);
  });
});
