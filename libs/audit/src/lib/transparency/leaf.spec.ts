import type { AuditEventV1 } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import { buildAuditEvent, computeEventHash } from '../audit-event';
import { ChainVerifier } from '../chain-verifier';
import { AUDIT_GENESIS_HASH, payloadHashOf } from '../hashing';
import { TransparencyArgumentError } from './errors';
import {
  AUDIT_LEAF_DOMAIN,
  auditLeafFieldsOf,
  auditLeafHash,
  decodeAuditLeaf,
  encodeAuditLeaf,
  grantIdOfAuditKey,
  stableContentHashOf,
  type AuditLeafFields,
} from './leaf';

const { key, event } = buildAuditEvent(
  {
    grantId: 'G-1',
    funderId: 'nsf',
    auditTrailId: 'trail-G-1',
    stage: 'routing',
    action: 'FORWARD',
    ruleSetVersion: 'rules-7',
    payloadHash: payloadHashOf(Buffer.from('G-1')),
    service: { name: 'routing', version: '1.0.0' },
    occurredAt: 1_700_000_000_000,
    source: { topic: 'in.routing', partition: 0, offset: 4 },
  },
  AUDIT_GENESIS_HASH,
);

const rehashed = (changed: AuditEventV1): AuditEventV1 => ({
  ...changed,
  event_hash: computeEventHash(changed),
});

const FIELDS: AuditLeafFields = {
  key: 'G-1:ab',
  eventHash: '11'.repeat(32),
  stableHash: '22'.repeat(32),
};

describe('stable content hash', () => {
  it('is the same for the decision made again: another time, predecessor and event hash', () => {
    const remade = rehashed({
      ...event,
      occurred_at: event.occurred_at + 5000,
      previous_event_hash: 'ab'.repeat(32),
    });
    expect(remade.event_hash).not.toBe(event.event_hash);
    expect(stableContentHashOf(remade)).toBe(stableContentHashOf(event));
  });

  it.each([
    ['details', { details: { ...event.details, status: 'forged' } }],
    ['the trail', { audit_trail_id: 'trail-other' }],
    ['the action', { action: 'REJECT' as const }],
    ['the rule set', { rule_set_version: 'rules-8' }],
    ['the payload hash', { payload_hash: payloadHashOf(Buffer.from('other')) }],
  ])('changes when %s changes', (_name, change) => {
    expect(stableContentHashOf(rehashed({ ...event, ...change }))).not.toBe(
      stableContentHashOf(event),
    );
  });
});

describe('stable content hash and the chain verifier', () => {
  // The chain verifier judges versions of one key by the same fields; if the
  // two ever disagreed, the log would call a legit re-made copy a rewrite.
  const verdict = (copy: AuditEventV1) => {
    const verifier = new ChainVerifier();
    for (const e of [event, copy]) verifier.add({ key, event: e, partition: 0, offset: '1' });
    const report = verifier.finish();
    return {
      remade: report.redeliveries.remade === 1,
      sameStable: stableContentHashOf(copy) === stableContentHashOf(event),
    };
  };

  it('agrees on a re-made decision', () => {
    expect(verdict(rehashed({ ...event, occurred_at: event.occurred_at + 1 }))).toEqual({
      remade: true,
      sameStable: true,
    });
  });

  it('agrees on a conflicting copy', () => {
    const copy = rehashed({ ...event, details: { ...event.details, note: 'x' } });
    expect(verdict(copy)).toEqual({ remade: false, sameStable: false });
  });
});

describe('audit leaf encoding', () => {
  it('is pinned: domain tag, key, event hash and stable hash, each length-prefixed', () => {
    const bytes = encodeAuditLeaf(FIELDS);
    const expected =
      '00000019' +
      Buffer.from(AUDIT_LEAF_DOMAIN).toString('hex') +
      '00000006' +
      Buffer.from('G-1:ab').toString('hex') +
      '00000020' +
      '11'.repeat(32) +
      '00000020' +
      '22'.repeat(32);
    expect(bytes.toString('hex')).toBe(expected);
    // Pinned so that no change of the encoding can pass unnoticed: every
    // signed checkpoint depends on these bytes.
    expect(auditLeafHash(FIELDS).toString('hex')).toBe(
      'b5ca26e53bbf373efc34c1af94662f010ec253e0070c84042cd24f55f89df88c',
    );
  });

  it('round-trips through decodeAuditLeaf', () => {
    const fields = auditLeafFieldsOf(key, event);
    expect(decodeAuditLeaf(encodeAuditLeaf(fields))).toEqual(fields);
  });

  it('gives different bytes when a key moves bytes between fields', () => {
    const a = encodeAuditLeaf({ ...FIELDS, key: 'G-1:a' });
    const b = encodeAuditLeaf({ ...FIELDS, key: 'G-1:ab' });
    expect(a.equals(b)).toBe(false);
    expect(decodeAuditLeaf(Buffer.concat([a, Buffer.from([0])]))).toBeUndefined();
  });

  it.each([
    ['an empty key', { ...FIELDS, key: '' }],
    ['an upper-case event hash', { ...FIELDS, eventHash: 'AB'.repeat(32) }],
    ['a short stable hash', { ...FIELDS, stableHash: 'ab' }],
    ['a key past 1024 bytes', { ...FIELDS, key: 'x'.repeat(1025) }],
  ])('refuses %s', (_name, fields) => {
    expect(() => encodeAuditLeaf(fields)).toThrow(TransparencyArgumentError);
  });

  it.each([
    ['no bytes', Buffer.alloc(0)],
    ['a truncated leaf', encodeAuditLeaf(FIELDS).subarray(0, 40)],
    [
      'another domain tag',
      Buffer.concat([
        Buffer.from('00000019', 'hex'),
        Buffer.from('grantstream-audit-leaf-v2'),
        encodeAuditLeaf(FIELDS).subarray(29),
      ]),
    ],
  ])('decodes %s as no leaf', (_name, bytes) => {
    expect(decodeAuditLeaf(bytes)).toBeUndefined();
  });

  it('reads the grant id from a key', () => {
    expect(grantIdOfAuditKey(key)).toBe('G-1');
    expect(grantIdOfAuditKey('G:2:abc')).toBe('G:2');
  });
});
