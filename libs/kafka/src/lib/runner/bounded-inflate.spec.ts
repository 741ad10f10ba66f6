import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BatchReleasedError,
  FrameSplitter,
  declaredValueBytes,
  inflateBounded,
  materializeValue,
  readVarint,
  valueSpan,
  writeVarint,
  type InflationLimits,
} from './bounded-inflate';

interface TestRecord {
  key: string | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}

const bytesOf = (b: Buffer | null) =>
  b === null ? writeVarint(-1) : Buffer.concat([writeVarint(b.length), b]);

/** Record frames as a producer writes them inside a v2 record batch. */
function framesOf(records: readonly TestRecord[]): Buffer {
  return Buffer.concat(
    records.map((r, i) => {
      const headers = Object.entries(r.headers ?? {});
      const body = Buffer.concat([
        Buffer.from([0]),
        writeVarint(i * 3),
        writeVarint(i),
        bytesOf(r.key === null ? null : Buffer.from(r.key)),
        bytesOf(r.value),
        writeVarint(headers.length),
        ...headers.map(([k, v]) =>
          Buffer.concat([bytesOf(Buffer.from(k)), bytesOf(Buffer.from(v))]),
        ),
      ]);
      return Buffer.concat([writeVarint(body.length), body]);
    }),
  );
}

/** The records kafkajs would decode from inflated bytes. */
function decode(
  inflated: Buffer,
): { offsetDelta: number; key: string | null; value: Buffer | null }[] {
  const splitter = new FrameSplitter(Number.MAX_SAFE_INTEGER);
  const frames = splitter.push(inflated);
  splitter.end();
  return frames.map((f) => {
    if (f.kind !== 'whole') throw new Error('unexpected oversized frame');
    const body = f.body;
    let pos = 1;
    pos = (readVarint(body, pos) as { next: number }).next;
    const offsetDelta = readVarint(body, pos) as { value: number; next: number };
    const key = readVarint(body, offsetDelta.next) as { value: number; next: number };
    const keyText = key.value < 0 ? null : body.subarray(key.next, key.next + key.value).toString();
    const span = valueSpan(body);
    const isNull = (readVarint(body, span.lengthAt) as { value: number }).value === -1;
    return {
      offsetDelta: offsetDelta.value,
      key: keyText,
      value: isNull ? null : Buffer.from(body.subarray(span.start, span.end)),
    };
  });
}

const LIMITS: InflationLimits = {
  maxInflationRatio: 4,
  maxInputRecordBytes: 1_000_000,
  maxRetainedBytes: 10_000_000,
};

describe('varints', () => {
  it.each([0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31), 2 ** 40])(
    'round-trips %d',
    (n) => {
      expect(readVarint(writeVarint(n), 0)).toEqual({ value: n, next: writeVarint(n).length });
    },
  );

  it('says when the bytes end inside a varint', () => {
    expect(readVarint(Buffer.from([0x80, 0x80]), 0)).toBeNull();
  });
});

describe('FrameSplitter', () => {
  it('splits frames whatever the chunk boundaries', () => {
    const records = [
      { key: 'a', value: Buffer.alloc(5000, 1) },
      { key: null, value: null },
      { key: 'c', value: Buffer.from('x') },
    ];
    const bytes = framesOf(records);
    for (const size of [1, 3, 7, 1000, bytes.length]) {
      const splitter = new FrameSplitter(1_000_000);
      const frames = [];
      for (let i = 0; i < bytes.length; i += size)
        frames.push(...splitter.push(bytes.subarray(i, i + size)));
      splitter.end();
      expect(frames.map((f) => f.kind)).toEqual(['whole', 'whole', 'whole']);
    }
  });

  it('skips a frame longer than its bound, keeping only its head', () => {
    const bytes = framesOf([
      { key: 'a', value: Buffer.alloc(3000, 2) },
      { key: 'b', value: Buffer.from('small') },
    ]);
    const splitter = new FrameSplitter(1000);
    const frames = [];
    for (let i = 0; i < bytes.length; i += 100)
      frames.push(...splitter.push(bytes.subarray(i, i + 100)));
    splitter.end();
    expect(frames[0]?.kind).toBe('oversized');
    expect(frames[0]?.kind === 'oversized' && frames[0].head.length).toBeLessThanOrEqual(32);
    expect(frames[0]?.kind === 'oversized' && frames[0].bodyBytes).toBeGreaterThan(3000);
    expect(frames[1]?.kind).toBe('whole');
  });

  it('refuses bytes that end inside a record', () => {
    const bytes = framesOf([{ key: 'a', value: Buffer.alloc(100) }]);
    const splitter = new FrameSplitter(1000);
    splitter.push(bytes.subarray(0, 50));
    expect(() => splitter.end()).toThrow(RangeError);
  });
});

describe('inflateBounded', () => {
  it('inflates an ordinary batch whole, as kafkajs would', async () => {
    const records = Array.from({ length: 20 }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.from(`value ${i} ${Math.random()}`),
      headers: { h: String(i) },
    }));
    const raw = framesOf(records);
    const inflated = await inflateBounded(gzipSync(raw), { ...LIMITS, maxInflationRatio: 100 });
    expect(inflated.equals(raw)).toBe(true);
  });

  it('keeps at most the ratio in memory and hands the rest out one record at a time', async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.alloc(100_000, i),
    }));
    const compressed = gzipSync(framesOf(records));
    const inflated = await inflateBounded(compressed, LIMITS);
    expect(inflated.length).toBeLessThanOrEqual(
      LIMITS.maxInflationRatio * compressed.length + 50 * 64,
    );
    const decoded = decode(inflated);
    // Every record is there, in order, keys intact: kafkajs sees the whole batch.
    expect(decoded.map((d) => d.offsetDelta)).toEqual(records.map((_, i) => i));
    expect(decoded.map((d) => d.key)).toEqual(records.map((r) => r.key));
    const referenced = decoded.filter((d) => declaredValueBytes(d.value) !== d.value?.length);
    expect(referenced.length).toBeGreaterThan(40);
    for (const d of referenced) expect(declaredValueBytes(d.value)).toBe(100_000);
    // Each value comes back exact, in order, and twice when asked again.
    for (const [i, d] of decoded.entries()) {
      const m = await materializeValue(d.value);
      expect(m.oversized).toBe(false);
      expect(m.value?.equals(records[i]?.value as Buffer)).toBe(true);
    }
  });

  it('materializes a record asked for again after the cursor passed it', async () => {
    const records = Array.from({ length: 6 }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.alloc(50_000, i),
    }));
    const decoded = decode(
      await inflateBounded(gzipSync(framesOf(records)), { ...LIMITS, maxInflationRatio: 1 }),
    );
    const third = await materializeValue(decoded[3]?.value ?? null);
    const second = await materializeValue(decoded[2]?.value ?? null);
    expect(third.value?.equals(records[3]?.value as Buffer)).toBe(true);
    expect(second.value?.equals(records[2]?.value as Buffer)).toBe(true);
  });

  it('never holds a record larger than the input bound: it materializes as oversized', async () => {
    const records = [
      { key: 'big', value: Buffer.alloc(2_000_000, 7), headers: { a: 'b' } },
      { key: 'small', value: Buffer.from('ok') },
    ];
    const decoded = decode(await inflateBounded(gzipSync(framesOf(records)), LIMITS));
    expect(decoded.map((d) => d.offsetDelta)).toEqual([0, 1]);
    const big = await materializeValue(decoded[0]?.value ?? null);
    expect(big).toMatchObject({ oversized: true, value: null });
    expect(big.oversized && big.recordBytes).toBeGreaterThan(2_000_000);
    expect((await materializeValue(decoded[1]?.value ?? null)).value?.toString()).toBe('ok');
  });

  it('releases the oldest batch beyond the retained bound; its references must be fetched again', async () => {
    const make = (tag: number) =>
      gzipSync(
        framesOf(
          Array.from({ length: 4 }, (_, i) => ({
            key: `${tag}-${i}`,
            value: Buffer.alloc(40_000, tag),
          })),
        ),
      );
    const first = decode(
      await inflateBounded(make(1), { ...LIMITS, maxInflationRatio: 1, maxRetainedBytes: 1 }),
    );
    const second = decode(
      await inflateBounded(make(2), { ...LIMITS, maxInflationRatio: 1, maxRetainedBytes: 1 }),
    );
    await expect(materializeValue(first[3]?.value ?? null)).rejects.toBeInstanceOf(
      BatchReleasedError,
    );
    expect((await materializeValue(second[3]?.value ?? null)).value?.[0]).toBe(2);
  });

  it('passes values that are no references through untouched', async () => {
    const v = Buffer.from('plain');
    expect(await materializeValue(v)).toEqual({ oversized: false, value: v });
    expect(await materializeValue(null)).toEqual({ oversized: false, value: null });
    expect(declaredValueBytes(v)).toBe(5);
  });
});
