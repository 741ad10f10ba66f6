import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH } from './hashing';
import {
  AUDIT_HEAD_HEADER,
  AUDIT_TRAIL_HEADER,
  auditTrailIdFor,
  previousEventHashOf,
  stageAuditRecord,
  trailStartDiscriminator,
} from './stage-trail';

const HASH = 'ab'.repeat(32);

describe('previousEventHashOf', () => {
  it.each([
    ['the head a previous stage set', { [AUDIT_HEAD_HEADER]: Buffer.from(HASH) }, HASH],
    ['genesis without a header', {}, AUDIT_GENESIS_HASH],
    [
      'genesis for a malformed header',
      { [AUDIT_HEAD_HEADER]: Buffer.from('not-a-hash') },
      AUDIT_GENESIS_HASH,
    ],
    [
      'genesis for upper-case hex',
      { [AUDIT_HEAD_HEADER]: Buffer.from(HASH.toUpperCase()) },
      AUDIT_GENESIS_HASH,
    ],
  ])('%s', (_, headers, expected) => {
    expect(previousEventHashOf(headers)).toBe(expected);
  });
});

describe('auditTrailIdFor', () => {
  it('is a UUID-shaped id, the same for a redelivery and different for another position', () => {
    const at = { topic: 'grants.ingest.v1', partition: 2, offset: 41 };
    const id = auditTrailIdFor(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(auditTrailIdFor({ ...at })).toBe(id);
    expect(auditTrailIdFor({ ...at, offset: 42 })).not.toBe(id);
    expect(auditTrailIdFor({ ...at, topic: 'grants.ingest.budget' })).not.toBe(id);
  });

  it('gives a re-read by another consumer group a trail of its own, the same on its own redelivery', () => {
    const at = { topic: 'grants.ingest.v1', partition: 2, offset: 41 };
    const original = auditTrailIdFor(at, 'grantstream.ingest');
    const reread = auditTrailIdFor(at, 'grantstream.ingest.fresh');
    expect(reread).not.toBe(original);
    expect(auditTrailIdFor(at, 'grantstream.ingest.fresh')).toBe(reread);
    expect(original).not.toBe(auditTrailIdFor(at));
    expect(trailStartDiscriminator(reread)).not.toBe(trailStartDiscriminator(original));
  });
});

describe('stageAuditRecord', () => {
  it('chains the event to the previous hash and hands its own hash on as the new head', () => {
    const { record, headHeaders } = stageAuditRecord(
      {
        grantId: 'NSF-2026-00001',
        funderId: 'NSF',
        auditTrailId: 't-1',
        stage: 'normalization',
        action: 'NORMALIZED',
        payloadHash: HASH,
        service: { name: 'grantstream-normalization', version: '1.0.0' },
        occurredAt: 1_700_000_000_000,
        source: { topic: 'grants.validated.v1', partition: 0, offset: 7 },
      },
      HASH,
    );
    expect(record.topic).toBe('grants.audit.v1');
    expect(record.key).toBe(`NSF-2026-00001:${record.value.event_id}`);
    expect(record.value.previous_event_hash).toBe(HASH);
    expect(headHeaders).toEqual({
      [AUDIT_HEAD_HEADER]: record.value.event_hash,
      [AUDIT_TRAIL_HEADER]: record.value.audit_trail_id,
    });
  });
});
