import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeVarint } from './bounded-inflate';
import { extractRecord } from './oversized-record';

/** One record of a batch's records section (Kafka record format v2), framed by its length. */
function record(key: Buffer | null, value: Buffer | null, headers: [string, Buffer][]): Buffer {
  const field = (b: Buffer | null) =>
    b === null ? writeVarint(-1) : Buffer.concat([writeVarint(b.length), b]);
  const body = Buffer.concat([
    Buffer.from([0]),
    writeVarint(0),
    writeVarint(0),
    field(key),
    field(value),
    writeVarint(headers.length),
    ...headers.map(([k, v]) => Buffer.concat([field(Buffer.from(k)), field(v)])),
  ]);
  return Buffer.concat([writeVarint(body.length), body]);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('extractRecord', () => {
  const big = Buffer.alloc(3_000_000, 0x61);
  const batch = gzipSync(
    Buffer.concat([
      record(Buffer.from('first'), Buffer.from('small'), []),
      record(Buffer.from('NSF-2026-00042'), big, [
        ['x-upstream', Buffer.from('parser-big')],
        ['x-trace', Buffer.from('abc')],
      ]),
      record(null, null, []),
    ]),
  );

  it('streams the value of one record out of a gzip batch, keeping its key and headers', async () => {
    const hash = createHash('sha256');
    let pieces = 0;
    let largest = 0;
    const got = await extractRecord(
      batch,
      1,
      (p) => {
        hash.update(p);
        pieces += 1;
        largest = Math.max(largest, p.length);
      },
      { maxKeyBytes: 1024, maxHeaderBytes: 1024 },
    );
    expect(hash.digest('hex')).toBe(sha(big));
    expect(got.valueBytes).toBe(big.length);
    expect(got.key?.toString()).toBe('NSF-2026-00042');
    expect(
      Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, v.toString()])),
    ).toEqual({
      'x-upstream': 'parser-big',
      'x-trace': 'abc',
    });
    // Never whole in memory: handed over in inflate-sized pieces.
    expect(pieces).toBeGreaterThan(10);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });

  it('drops a key or headers beyond their bounds, and says how much', async () => {
    const got = await extractRecord(batch, 1, () => undefined, {
      maxKeyBytes: 4,
      maxHeaderBytes: 15,
    });
    expect(got.key).toBeNull();
    // x-upstream (20 bytes) is over the bound; x-trace (10) still fits.
    expect(Object.keys(got.headers)).toEqual(['x-trace']);
    expect(got.droppedHeaderBytes).toBe(20);
  });

  it('reads a null key and value', async () => {
    const got = await extractRecord(batch, 2, () => undefined, {
      maxKeyBytes: 10,
      maxHeaderBytes: 10,
    });
    expect(got).toEqual({
      key: null,
      headers: {},
      droppedHeaderBytes: 0,
      valueBytes: 0,
      nullValue: true,
    });
  });

  it('fails on a batch that ends inside the record', async () => {
    const cut = gzipSync(record(Buffer.from('k'), big, []).subarray(0, 1000));
    await expect(
      extractRecord(cut, 0, () => undefined, { maxKeyBytes: 10, maxHeaderBytes: 10 }),
    ).rejects.toThrow(/ended inside a record/);
  });
});
