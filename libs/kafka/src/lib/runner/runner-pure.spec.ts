import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@grantstream/contracts';
import { UnknownSchemaIdError } from '@grantstream/errors';
import { backoffDelay } from './backoff';
import { deadLetterOf } from './dead-letter';
import { matchesSubscription } from './stage-handler';

describe('backoffDelay', () => {
  const policy = { initialBackoffMs: 100, maxBackoffMs: 1000 };
  it('grows exponentially up to the cap, with full jitter below the ceiling', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });
});

describe('deadLetterOf', () => {
  const input = {
    key: Buffer.from('NSF-1'),
    value: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    headers: { traceparent: Buffer.from('00-abc'), [DLQ_HEADERS.ATTEMPTS]: Buffer.from('9') },
  };
  const dl = deadLetterOf(input, {
    stage: 'ingest',
    service: 'ingest@0.1.0',
    topic: 'grants.ingest.v1',
    partition: 4,
    offset: '1234',
    attempts: 1,
    error: new UnknownSchemaIdError('schema id 77 is not known to the registry'),
    failedAt: new Date('2026-11-28T12:00:00Z'),
  });

  it('keeps key, value and foreign headers byte for byte', () => {
    expect(dl.key).toBe(input.key);
    expect(dl.value).toBe(input.value);
    expect(dl.headers?.['traceparent']).toBe(input.headers.traceparent);
  });

  it('carries the extra headers it is given (the dead letter’s audit head)', () => {
    const withHead = deadLetterOf(
      input,
      {
        stage: 'ingest',
        service: 'ingest@0.1.0',
        topic: 'grants.ingest.v1',
        partition: 4,
        offset: '1234',
        attempts: 1,
        error: new UnknownSchemaIdError('schema id 77 is not known to the registry'),
        failedAt: new Date('2026-11-28T12:00:00Z'),
      },
      { 'grantstream.audit.head': 'f'.repeat(64) },
    );
    expect(withHead.headers?.['grantstream.audit.head']).toBe('f'.repeat(64));
    expect(withHead.headers?.[DLQ_HEADERS.STAGE]).toBe('ingest');
  });

  it('adds where it came from and why, replacing stale dead-letter headers', () => {
    expect(dl.headers).toMatchObject({
      [DLQ_HEADERS.STAGE]: 'ingest',
      [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.ingest.v1',
      [DLQ_HEADERS.SOURCE_PARTITION]: '4',
      [DLQ_HEADERS.SOURCE_OFFSET]: '1234',
      [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION',
      [DLQ_HEADERS.ERROR_CODE]: 'SCHEMA_UNKNOWN_ID',
      [DLQ_HEADERS.ATTEMPTS]: '1',
      [DLQ_HEADERS.FAILED_AT]: '2026-11-28T12:00:00.000Z',
    });
    expect(String(dl.headers?.[DLQ_HEADERS.REASON])).toContain('schema id 77');
  });
});

describe('matchesSubscription', () => {
  it('matches a topic name exactly and a pattern by test', () => {
    expect(matchesSubscription('grants.ingest.v1', 'grants.ingest.v1')).toBe(true);
    expect(matchesSubscription('grants.ingest.v1', 'grants.ingest.v10')).toBe(false);
    expect(matchesSubscription(/^grants\.ingest\..+$/, 'grants.ingest.budget')).toBe(true);
    expect(matchesSubscription(/^grants\.ingest\..+$/, 'grants.validated.v1')).toBe(false);
  });

  it('stays stateless for a global pattern', () => {
    const global = /^grants\.ingest\..+$/g;
    expect([1, 2, 3].map(() => matchesSubscription(global, 'grants.ingest.pdf'))).toEqual([
      true,
      true,
      true,
    ]);
  });
});
