import { Type, type Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  AVRO_LOGICAL_TYPES,
  GrantSubmissionV2Avro,
  ValidatedGrantV2Avro,
  avroTypeFor,
} from '@grantstream/contracts';
import { AvroBodyError } from '@grantstream/errors';
import { assertBoundedBody, type AvroDecodeLimits } from './bounded-body';

const LIMITS: AvroDecodeLimits = {
  maxBodyBytes: 1 << 20,
  maxItems: 10_000,
  maxStringBytes: 1 << 16,
  maxDepth: 16,
};
const CLAIMED = 2 ** 31;

const long = (n: number) => Type.forSchema('long').toBuffer(n);
const str = (s: string) => Type.forSchema('string').toBuffer(s);
const bytes = (...parts: (Buffer | number[])[]) =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const typeOf = (schema: Schema) => Type.forSchema(schema, { registry: {} });

/** Runs the check; returns the refusal's message, or null when the body passed. */
function refusal(type: Type, body: Buffer, limits: AvroDecodeLimits = LIMITS): string | null {
  try {
    assertBoundedBody(type, body, limits);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(AvroBodyError);
    expect((err as AvroBodyError).code).toBe('SCHEMA_BODY_INVALID');
    expect((err as AvroBodyError).category).toBe('SCHEMA_VIOLATION');
    return (err as Error).message;
  }
}

/** Wall time and heap growth of a call, to show a refusal costs nothing like what the bytes claim. */
function cost(fn: () => void): { ms: number; heapBytes: number } {
  const heap = process.memoryUsage().heapUsed;
  const start = performance.now();
  fn();
  return { ms: performance.now() - start, heapBytes: process.memoryUsage().heapUsed - heap };
}

describe('assertBoundedBody', () => {
  const strings = typeOf({ type: 'array', items: 'string' });
  const nulls = typeOf({ type: 'array', items: 'null' });
  const longMap = typeOf({ type: 'map', values: 'long' });

  it('passes every valid body of our contracts, logical types included', () => {
    const submission = avroTypeFor(GrantSubmissionV2Avro);
    const value = {
      grant_id: 'NSF-2026-00001',
      funder_portal: 'grants-gov',
      submission_deadline: 1_800_000_000_000,
      metadata: { title: 'x', amount: 5, ratio: 0.5, ok: true, none: null, tags: ['a', 'b'] },
      attachments: [
        { uri: 'file:///a.pdf', media_type: null, size_bytes: 3, sha256: null, filename: 'a.pdf' },
      ],
      audit_timestamp: 1_700_000_000_000,
      program_code: null,
      applicant_ein: '12-3456789',
    };
    expect(refusal(submission, submission.toBuffer(value))).toBeNull();
    // The same bytes against the plain (registered) form of the schema.
    expect(refusal(typeOf(GrantSubmissionV2Avro), submission.toBuffer(value))).toBeNull();
    const validated = Type.forSchema(ValidatedGrantV2Avro, {
      logicalTypes: { ...AVRO_LOGICAL_TYPES },
      registry: {},
    });
    expect(refusal(validated, validated.toBuffer(validated.random()))).toBeNull();
  });

  it('passes arrays and maps written in several blocks, with and without byte sizes', () => {
    // Two blocks of strings, the second with a negative count and its byte size.
    const second = bytes(str('bb'), str('c'));
    const body = bytes(long(1), str('a'), long(-2), long(second.length), second, [0]);
    expect(refusal(strings, body)).toBeNull();
    expect(strings.fromBuffer(body)).toEqual(['a', 'bb', 'c']);
    expect(refusal(longMap, bytes(long(1), str('k'), long(7), [0]))).toBeNull();
  });

  it.each([
    ['an array of strings', strings, bytes(long(CLAIMED), str('a'))],
    [
      'an array of records',
      typeOf({
        type: 'array',
        items: { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] },
      }),
      bytes(long(CLAIMED), str('a')),
    ],
    ['a map', longMap, bytes(long(CLAIMED), str('k'), long(1))],
    ['a negative array count', strings, bytes(long(-CLAIMED), long(2), str('a'))],
  ])('refuses %s claiming 2^31 items at once, in bounded time and memory', (_n, type, body) => {
    let message: string | null = null;
    const spent = cost(() => (message = refusal(type, body)));
    expect(message).toMatch(/claims 2147483648 items|2147483648 items/);
    expect(spent.ms).toBeLessThan(50);
    expect(spent.heapBytes).toBeLessThan(1 << 20);
  });

  it('refuses a count the remaining bytes cannot hold, even under the item budget', () => {
    // 100 strings need at least 100 bytes; 3 remain.
    expect(refusal(strings, bytes(long(100), str('a'), [0]))).toMatch(
      /block of 100 items needs 100 byte\(s\) but 3 remain/,
    );
    // Map entries need a key and a value: 2 bytes each at least.
    expect(refusal(longMap, bytes(long(3), str('k'), long(1), [0]))).toMatch(/needs 6 byte\(s\)/);
  });

  it('bounds items that take no bytes (null) by the record item budget', () => {
    expect(refusal(nulls, bytes(long(LIMITS.maxItems), [0]))).toBeNull();
    expect(refusal(nulls, bytes(long(CLAIMED), [0]))).toMatch(/a record may hold 10000/);
    // Many small blocks add up against the same budget.
    const blocks = Array.from({ length: 11 }, () => long(1000));
    expect(refusal(nulls, bytes(...blocks, [0]))).toMatch(/a record may hold 10000/);
  });

  it.each([
    ['a string', typeOf('string'), bytes(long(CLAIMED))],
    ['a bytes value', typeOf('bytes'), bytes(long(CLAIMED))],
    ['a map key', longMap, bytes(long(1), long(CLAIMED))],
  ])('refuses %s longer than the bytes left', (what, type, body) => {
    expect(refusal(type, body)).toMatch(new RegExp(`${what} claims ${CLAIMED} bytes`));
  });

  it('refuses negative lengths and strings over the configured length', () => {
    expect(refusal(typeOf('string'), long(-5))).toMatch(/negative length -5/);
    const long70k = 'x'.repeat(70_000);
    expect(refusal(typeOf('string'), str(long70k))).toMatch(/values are limited to 65536/);
    expect(
      refusal(typeOf('string'), str(long70k), { ...LIMITS, maxStringBytes: 70_000 }),
    ).toBeNull();
  });

  it('refuses strings and map keys that are not UTF-8, but not bytes values', () => {
    // A lone surrogate encoded as UTF-8 (ED A0 80): avsc would decode it as U+FFFD.
    const surrogate = bytes(long(3), [0xed, 0xa0, 0x80]);
    expect(refusal(typeOf('string'), surrogate)).toMatch(/a string of 3 bytes is not valid UTF-8/);
    expect(refusal(longMap, bytes(long(1), surrogate, long(7), long(0)))).toMatch(
      /a map key of 3 bytes is not valid UTF-8/,
    );
    expect(refusal(typeOf('bytes'), surrogate)).toBeNull();
    expect(refusal(typeOf('string'), str('café, 助成金 ✓'))).toBeNull();
  });

  it('refuses a block byte size that is negative, too large or not what its items take', () => {
    // Negative: a reader skipping by it would step backwards and loop for ever.
    expect(refusal(strings, bytes(long(-1), long(-64), str('a'), [0]))).toMatch(
      /negative size -64/,
    );
    expect(refusal(strings, bytes(long(-1), long(CLAIMED), str('a'), [0]))).toMatch(
      /block of 2147483648 bytes needs/,
    );
    // Zero bytes declared for a block of items: a skip would not advance.
    expect(refusal(strings, bytes(long(-1), long(0), str('a'), [0]))).toMatch(
      /declares 0 bytes but its items take 2/,
    );
    expect(refusal(nulls, bytes(long(-5), long(0), [0]))).toBeNull();
  });

  it('bounds nesting depth, also through a recursive schema', () => {
    const node = typeOf({
      type: 'record',
      name: 'Node',
      fields: [{ name: 'children', type: { type: 'array', items: 'Node' } }],
    });
    // Each level: one child (count 1), then the child's own array; 0 closes.
    const nest = (levels: number) =>
      bytes(...Array.from({ length: levels }, () => long(1)), Buffer.alloc(levels + 1));
    expect(refusal(node, nest(3))).toBeNull();
    expect(refusal(node, nest(100))).toMatch(/nest deeper than 16 levels/);
    const union = typeOf(['null', { type: 'array', items: ['null', 'long'] }]);
    expect(refusal(union, bytes(long(1), long(1), long(0), [0]))).toBeNull();
  });

  it('refuses bad union and enum indexes, truncation, overlong varints and trailing bytes', () => {
    const union = typeOf(['null', 'string']);
    expect(refusal(union, long(2))).toMatch(/union index 2 is outside 0\.\.1/);
    expect(refusal(union, long(-1))).toMatch(/union index -1/);
    const e = typeOf({ type: 'enum', name: 'E', symbols: ['A', 'B'] });
    expect(refusal(e, long(5))).toMatch(/enum index 5/);
    expect(refusal(typeOf('double'), Buffer.alloc(3))).toMatch(/a double needs 8 byte\(s\) but 3/);
    expect(refusal(typeOf('long'), Buffer.from([0x80, 0x80]))).toMatch(/ends inside a varint/);
    expect(refusal(typeOf('long'), Buffer.alloc(11, 0xff))).toMatch(/over ten bytes/);
    expect(refusal(typeOf('string'), bytes(str('ab'), [1, 2]))).toMatch(/2 byte\(s\) follow/);
    expect(refusal(strings, Buffer.alloc(0))).toMatch(/ends inside a varint/);
  });

  it('refuses a body over the configured size before reading it', () => {
    expect(refusal(typeOf('bytes'), Buffer.alloc(65), { ...LIMITS, maxBodyBytes: 64 })).toMatch(
      /the body is 65 bytes; bodies are limited to 64/,
    );
  });

  it('names where the lie is', () => {
    const body = bytes(str('grant'), long(CLAIMED));
    const type = typeOf({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'tags', type: { type: 'array', items: 'string' } },
      ],
    });
    expect(refusal(type, body)).toMatch(/\(at byte 6\)$/);
  });
});
