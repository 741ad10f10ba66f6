import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_HEAD_HEADER,
  AUDIT_TRAIL_HEADER,
  computeEventHash,
  payloadHashOf,
} from '@grantstream/audit';
import { DLQ_HEADERS, type AuditEventV1 } from '@grantstream/contracts';
import { BusinessRuleViolationError, UnknownFunderError } from '@grantstream/errors';
import { auditedRecords } from './audited-records';
import { deadLetterAuditHook } from './dead-letter-audit';
import type { DeadLetterFailure, InboundMessage } from './stage-handler';

const HEAD = 'cd'.repeat(32);
const service = { stage: 'normalization', name: 'grantstream-normalization', version: '1.2.3' };

const inbound = (headers: Record<string, Buffer> = {}): InboundMessage<unknown> => ({
  topic: 'grants.validated.v1',
  partition: 3,
  offset: '17',
  key: 'NSF-2026-00009',
  value: {},
  raw: Buffer.from('wire bytes'),
  headers,
  schemaId: 1,
  timestamp: '0',
});

const decision = {
  grantId: 'NSF-2026-00009',
  funderId: 'NSF',
  auditTrailId: 'trail',
  stage: 'normalization',
  action: 'NORMALIZED' as const,
  service,
  occurredAt: 1_700_000_000_000,
};

describe('auditedRecords', () => {
  it('chains to the head the input carried and passes the new head on with every output', () => {
    const records = auditedRecords(inbound({ [AUDIT_HEAD_HEADER]: Buffer.from(HEAD) }), decision, [
      { topic: 'grants.normalized.v1', key: 'NSF-2026-00009', value: { x: 1 } },
    ]);
    expect(records).toHaveLength(2);
    const audit = records[1]?.value as AuditEventV1;
    expect(records[1]?.topic).toBe('grants.audit.v1');
    expect(audit.previous_event_hash).toBe(HEAD);
    expect(audit.payload_hash).toBe(payloadHashOf(Buffer.from('wire bytes')));
    expect(audit.source).toEqual({ topic: 'grants.validated.v1', partition: 3, offset: 17 });
    expect(audit.event_hash).toBe(computeEventHash(audit));
    expect(records[0]?.headers).toEqual({
      [AUDIT_HEAD_HEADER]: audit.event_hash,
      [AUDIT_TRAIL_HEADER]: 'trail',
    });
  });

  it('starts a trail at genesis whatever the input headers say', () => {
    const records = auditedRecords(
      inbound({ [AUDIT_HEAD_HEADER]: Buffer.from(HEAD) }),
      { ...decision, startsTrail: true },
      [],
    );
    expect((records[0]?.value as AuditEventV1).previous_event_hash).toBe(AUDIT_GENESIS_HASH);
  });
});

describe('deadLetterAuditHook', () => {
  const failure = (over: Partial<DeadLetterFailure>): DeadLetterFailure => ({
    topic: 'grants.validated.v1',
    partition: 1,
    offset: '5',
    key: 'BCF-2026-00002',
    value: Buffer.from('bad'),
    headers: { [AUDIT_HEAD_HEADER]: Buffer.from(HEAD) },
    error: new BusinessRuleViolationError([{ code: 'GRANT_ID_FORMAT', message: 'bad id' }]),
    attempts: 1,
    decoded: undefined,
    ...over,
  });

  it('records a DEAD_LETTER event with the category, impact and code, chained to the head', () => {
    const evidence = deadLetterAuditHook({ service, startsTrail: false })(failure({}));
    const [record] = evidence.records;
    const event = record?.value as AuditEventV1;
    // The dead letter names the trail it continues, for whoever acts on it.
    expect(evidence.headers).toEqual({
      [AUDIT_HEAD_HEADER]: event.event_hash,
      [AUDIT_TRAIL_HEADER]: event.audit_trail_id,
      [DLQ_HEADERS.AUDIT_TRAIL_ID]: event.audit_trail_id,
    });
    expect(event.action).toBe('DEAD_LETTER');
    expect(event.grant_id).toBe('BCF-2026-00002');
    expect(event.funder_id).toBe('BCF');
    expect(event.error_category).toBe('SCHEMA_VIOLATION');
    expect(event.severity).toBe('HIGH');
    expect(event.details.error_code).toBe('GRANT_ID_FORMAT');
    expect(event.previous_event_hash).toBe(HEAD);
    expect(event.payload_hash).toBe(payloadHashOf(Buffer.from('bad')));
  });

  it('prefers the decoded grant and trail, and starts at genesis for the first stage', () => {
    const {
      records: [record],
    } = deadLetterAuditHook({ service, startsTrail: true })(
      failure({
        decoded: { grant_id: 'SCDA-2026-00003', audit_trail_id: 'trail-9' },
        error: new UnknownFunderError([{ code: 'UNKNOWN_FUNDER', message: 'no pack' }]),
      }),
    );
    const event = record?.value as AuditEventV1;
    expect(event.grant_id).toBe('SCDA-2026-00003');
    expect(event.audit_trail_id).toBe('trail-9');
    expect(event.error_category).toBe('UNKNOWN_FUNDER');
    expect(event.severity).toBe('MEDIUM');
    expect(event.previous_event_hash).toBe(AUDIT_GENESIS_HASH);
  });

  it('continues the trail its headers name when a later stage cannot decode its input', () => {
    const headers = {
      [AUDIT_HEAD_HEADER]: Buffer.from(HEAD),
      [AUDIT_TRAIL_HEADER]: Buffer.from('0a1b2c3d-trail'),
    };
    const later = deadLetterAuditHook({ service, startsTrail: false })(failure({ headers }));
    const event = later.records[0]?.value as AuditEventV1;
    expect(event.audit_trail_id).toBe('0a1b2c3d-trail');
    expect(event.previous_event_hash).toBe(HEAD);
    // The first stage's inputs come from upstream: a trail header there names nothing of ours.
    const first = deadLetterAuditHook({ service, startsTrail: true, consumerGroup: 'g' })(
      failure({ headers }),
    );
    expect((first.records[0]?.value as AuditEventV1).audit_trail_id).not.toBe('0a1b2c3d-trail');
    // A malformed id is not taken either.
    const odd = deadLetterAuditHook({ service, startsTrail: false })(
      failure({ headers: { ...headers, [AUDIT_TRAIL_HEADER]: Buffer.from('../\n<script>') } }),
    );
    expect((odd.records[0]?.value as AuditEventV1).audit_trail_id).not.toContain('script');
  });

  it('still names an input with neither a decodable value nor a key', () => {
    const {
      records: [record],
    } = deadLetterAuditHook({ service, startsTrail: true })(failure({ key: null, value: null }));
    const event = record?.value as AuditEventV1;
    expect(event.grant_id).toBe('UNKEYED-grants.validated.v1-1-5');
    expect(event.funder_id).toBe('UNKEYED');
    expect(event.payload_hash).toBe(payloadHashOf(null));
  });
});
