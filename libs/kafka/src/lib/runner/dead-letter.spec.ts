import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@grantstream/contracts';
import { BusinessRuleViolationError } from '@grantstream/errors';
import { fitDeadLetter, type DeadLetterContext, type DeadLetterValueStore } from './dead-letter';
import { messageBytes } from './produce-requests';

const MAX = 10_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const ctx: DeadLetterContext = {
  stage: 'ingest',
  service: 'ingest@1.0.0',
  topic: 'grants.ingest.v1',
  partition: 2,
  offset: '41',
  attempts: 1,
  error: new BusinessRuleViolationError([{ code: 'METADATA_TOO_LARGE', message: 'too large' }]),
  failedAt: new Date('2026-12-06T12:00:00Z'),
};

function memoryStore(fail = false) {
  const objects = new Map<string, Buffer>();
  const store: DeadLetterValueStore = {
    put: (bytes) => {
      if (fail) return Promise.reject(new Error('disk full'));
      const h = sha(bytes);
      objects.set(h, bytes);
      return Promise.resolve({
        uri: `file:///dead-letters/${h}.bin`,
        sha256: h,
        size: bytes.length,
      });
    },
  };
  return { store, objects };
}

const h = (m: { headers?: Record<string, string | Buffer> }, name: string) =>
  m.headers?.[name]?.toString();

describe('fitDeadLetter', () => {
  it('keeps a dead letter that fits as it is', async () => {
    const { store, objects } = memoryStore();
    const value = Buffer.alloc(100, 1);
    const fitted = await fitDeadLetter(
      { key: Buffer.from('NSF-2026-00001'), value, headers: { 'x-up': Buffer.from('a') } },
      ctx,
      {},
      { maxRecordBytes: MAX, store },
    );
    expect(fitted.form).toBe('inline');
    expect(fitted.message.value?.equals(value)).toBe(true);
    expect(h(fitted.message, DLQ_HEADERS.OMITTED)).toBeUndefined();
    expect(objects.size).toBe(0);
  });

  it('carries a reference, its hash and size, instead of a value too large for the broker', async () => {
    const { store, objects } = memoryStore();
    const value = Buffer.alloc(5 * MAX, 7);
    const fitted = await fitDeadLetter(
      { key: Buffer.from('NSF-2026-00001'), value, headers: { 'x-up': Buffer.from('parser') } },
      ctx,
      { 'grantstream.audit.head': 'abc' },
      { maxRecordBytes: MAX, store },
    );
    expect(fitted.form).toBe('referenced');
    expect(fitted.message.value).toBeNull();
    expect(messageBytes(fitted.message)).toBeLessThanOrEqual(MAX);
    expect(fitted.message.key?.toString()).toBe('NSF-2026-00001');
    expect(h(fitted.message, 'x-up')).toBe('parser');
    expect(h(fitted.message, 'grantstream.audit.head')).toBe('abc');
    expect(h(fitted.message, DLQ_HEADERS.ERROR_CODE)).toBe('METADATA_TOO_LARGE');
    expect(h(fitted.message, DLQ_HEADERS.VALUE_SHA256)).toBe(sha(value));
    expect(h(fitted.message, DLQ_HEADERS.VALUE_BYTES)).toBe(String(value.length));
    expect(h(fitted.message, DLQ_HEADERS.OMITTED)).toBe('value');
    expect(objects.get(sha(value))?.equals(value)).toBe(true);
    expect(h(fitted.message, DLQ_HEADERS.VALUE_REF)).toBe(`file:///dead-letters/${sha(value)}.bin`);
  });

  it('leaves out the original headers, then the key, when even they do not fit', async () => {
    const { store } = memoryStore();
    const bigHeaders = { 'x-huge': Buffer.alloc(2 * MAX, 1) };
    const keyed = await fitDeadLetter(
      { key: Buffer.from('NSF-2026-00001'), value: Buffer.from('v'), headers: bigHeaders },
      ctx,
      {},
      { maxRecordBytes: MAX, store },
    );
    expect(keyed.form).toBe('minimal');
    expect(h(keyed.message, DLQ_HEADERS.OMITTED)).toBe('value,headers');
    expect(keyed.message.key?.toString()).toBe('NSF-2026-00001');
    expect(h(keyed.message, 'x-huge')).toBeUndefined();
    expect(h(keyed.message, DLQ_HEADERS.SOURCE_OFFSET)).toBe('41');

    const unkeyed = await fitDeadLetter(
      { key: Buffer.alloc(2 * MAX, 2), value: null, headers: bigHeaders },
      ctx,
      {},
      { maxRecordBytes: MAX, store },
    );
    expect(unkeyed.form).toBe('minimal');
    expect(unkeyed.message.key).toBeNull();
    expect(h(unkeyed.message, DLQ_HEADERS.OMITTED)).toBe('key,headers');
    expect(messageBytes(unkeyed.message)).toBeLessThanOrEqual(MAX);
  });

  it('makes the minimal dead letter on demand, the value kept by reference', async () => {
    const { store, objects } = memoryStore();
    const value = Buffer.from('small but refused');
    const fitted = await fitDeadLetter(
      { key: Buffer.from('K'), value, headers: {} },
      ctx,
      {},
      { maxRecordBytes: MAX, store, atLeast: 'minimal' },
    );
    expect(fitted.form).toBe('minimal');
    expect(fitted.message.value).toBeNull();
    expect(objects.has(sha(value))).toBe(true);
  });

  it('still dead-letters when the store fails: hash and size, no reference', async () => {
    const { store } = memoryStore(true);
    const value = Buffer.alloc(3 * MAX, 9);
    const fitted = await fitDeadLetter(
      { key: Buffer.from('K'), value, headers: {} },
      ctx,
      {},
      { maxRecordBytes: MAX, store },
    );
    expect(fitted.form).toBe('referenced');
    expect(fitted.storeError?.message).toBe('disk full');
    expect(h(fitted.message, DLQ_HEADERS.VALUE_REF)).toBeUndefined();
    expect(h(fitted.message, DLQ_HEADERS.VALUE_SHA256)).toBe(sha(value));
  });
});
