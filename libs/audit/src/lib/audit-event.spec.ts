import { AuditEventV1Schema } from '@grantstream/contracts';
import { ContractViolationError } from '@grantstream/errors';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  COMPLIANCE_TAGS,
  buildAuditEvent,
  canonicalJson,
  computeEventHash,
  eventIdOf,
  payloadHashOf,
  sha256Hex,
  type AuditDecision,
} from '../index';

const decision = (over: Partial<AuditDecision> = {}): AuditDecision => ({
  grantId: 'G-1',
  funderId: 'nsf',
  auditTrailId: 'trail-1',
  stage: 'routing',
  action: 'FORWARD',
  ruleSetVersion: 'rules-7',
  payloadHash: payloadHashOf(Buffer.from('{"grant":"G-1"}')),
  service: { name: 'routing', version: '1.4.0' },
  occurredAt: 1_700_000_000_000,
  source: { topic: 'grants.normalized.v1', partition: 2, offset: 41 },
  details: { route: 'nsf-portal' },
  ...over,
});

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    [
      'sorts keys recursively',
      { b: 1, a: { d: [3, 1], c: 'x' } },
      '{"a":{"c":"x","d":[3,1]},"b":1}',
    ],
    ['omits undefined properties', { a: undefined, b: null }, '{"b":null}'],
    ['keeps array order, undefined items as null', [2, undefined, 1], '[2,null,1]'],
    ['escapes strings like JSON', { 'k"': 'line\nbreak' }, '{"k\\"":"line\\nbreak"}'],
    ['uses toJSON', { at: new Date(0) }, '{"at":"1970-01-01T00:00:00.000Z"}'],
    ['encodes primitives', [true, false, 0, -1.5, ''], '[true,false,0,-1.5,""]'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('does not depend on property insertion order', () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(
      canonicalJson({ y: { q: 2, p: 1 }, x: 1 }),
    );
  });

  it.each([NaN, Infinity, 10n, undefined])('refuses %s, which has no stable JSON form', (v) => {
    expect(() => canonicalJson(v)).toThrow(TypeError);
  });
});

describe('hashes', () => {
  it('sha256Hex matches the FIPS 180-2 test vector', () => {
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });

  it('payloadHashOf(null) is the hash of no bytes', () => {
    expect(payloadHashOf(null)).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(payloadHashOf(Buffer.alloc(0))).toBe(payloadHashOf(null));
  });

  it('the genesis hash is 64 zeros', () => {
    expect(AUDIT_GENESIS_HASH).toBe('0'.repeat(64));
  });
});

describe('buildAuditEvent', () => {
  it('builds a valid AuditEvent v1 keyed by grant and event id', () => {
    const { key, event } = buildAuditEvent(decision(), AUDIT_GENESIS_HASH);
    expect(AuditEventV1Schema.parse(event)).toEqual(event);
    expect(key).toBe(`G-1:${event.event_id}`);
    expect(event.event_hash).toBe(computeEventHash(event));
    expect(event.event_id).toBe(eventIdOf(event));
    expect(event.compliance_tags).toEqual([...COMPLIANCE_TAGS]);
    expect(event.previous_event_hash).toBe(AUDIT_GENESIS_HASH);
  });

  it('pins the encoding: ids and hashes of stored events must stay reproducible forever', () => {
    const { event } = buildAuditEvent(decision(), AUDIT_GENESIS_HASH);
    expect(event.event_id).toBe(
      sha256Hex(
        '{"action":"FORWARD","grant_id":"G-1","source":{"offset":41,"partition":2,"topic":"grants.normalized.v1"},"stage":"routing"}',
      ),
    );
  });

  it('is deterministic: the same decision and predecessor give the same event', () => {
    expect(buildAuditEvent(decision(), AUDIT_GENESIS_HASH)).toEqual(
      buildAuditEvent(decision(), AUDIT_GENESIS_HASH),
    );
  });

  it.each<[string, Partial<AuditDecision>]>([
    ['occurredAt', { occurredAt: 1_700_000_000_001 }],
    ['service version', { service: { name: 'routing', version: '1.5.0' } }],
    ['rule-set version', { ruleSetVersion: 'rules-8' }],
    ['details', { details: { route: 'other' } }],
  ])('a different %s changes the hash but not the id', (_name, over) => {
    const a = buildAuditEvent(decision(), AUDIT_GENESIS_HASH).event;
    const b = buildAuditEvent(decision(over), AUDIT_GENESIS_HASH).event;
    expect(b.event_id).toBe(a.event_id);
    expect(b.event_hash).not.toBe(a.event_hash);
  });

  it.each<[string, Partial<AuditDecision>]>([
    ['grant', { grantId: 'G-2' }],
    ['stage', { stage: 'submission' }],
    ['action', { action: 'REJECT' }],
    ['source offset', { source: { topic: 'grants.normalized.v1', partition: 2, offset: 42 } }],
    ['source partition', { source: { topic: 'grants.normalized.v1', partition: 3, offset: 41 } }],
    ['discriminator', { discriminator: 'attempt-2' }],
  ])('a different %s gives a different id and key', (_name, over) => {
    const a = buildAuditEvent(decision(), AUDIT_GENESIS_HASH);
    const b = buildAuditEvent(decision(over), AUDIT_GENESIS_HASH);
    expect(b.event.event_id).not.toBe(a.event.event_id);
    expect(b.key).not.toBe(a.key);
  });

  it('covers the previous hash, so events chain', () => {
    const a = buildAuditEvent(decision(), AUDIT_GENESIS_HASH).event;
    const b = buildAuditEvent(decision(), 'a'.repeat(64)).event;
    expect(b.event_id).toBe(a.event_id);
    expect(b.event_hash).not.toBe(a.event_hash);
  });

  it('keeps the discriminator in details so verification can recompute the id', () => {
    const { event } = buildAuditEvent(
      decision({ source: null, discriminator: 'op-9' }),
      AUDIT_GENESIS_HASH,
    );
    expect(event.details.discriminator).toBe('op-9');
    expect(eventIdOf(event)).toBe(event.event_id);
  });

  it.each<[string, Partial<AuditDecision>, string]>([
    ['a malformed payload hash', { payloadHash: 'abc' }, 'payloadHash'],
    ['a fractional timestamp', { occurredAt: 1.5 }, 'occurredAt'],
    ['a negative offset', { source: { topic: 't', partition: 0, offset: -1 } }, 'source.offset'],
    ['no source and no discriminator', { source: null }, 'discriminator'],
    [
      'a contradicting discriminator',
      { discriminator: 'a', details: { discriminator: 'b' } },
      'contradicts',
    ],
  ])('refuses %s', (_name, over, problem) => {
    expect(() => buildAuditEvent(decision(over), AUDIT_GENESIS_HASH)).toThrow(problem);
    expect(() => buildAuditEvent(decision(over), AUDIT_GENESIS_HASH)).toThrow(
      ContractViolationError,
    );
  });

  it('refuses a previous hash that is not a SHA-256', () => {
    expect(() => buildAuditEvent(decision(), '')).toThrow(ContractViolationError);
  });
});
