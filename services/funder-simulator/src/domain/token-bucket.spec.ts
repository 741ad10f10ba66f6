import { describe, expect, it } from 'vitest';
import { TokenBucket, type TakeResult } from './token-bucket';

describe('TokenBucket', () => {
  const cases: {
    name: string;
    capacity: number;
    rate: number;
    takes: number[];
    expected: TakeResult[];
  }[] = [
    {
      name: 'a full bucket allows a burst of its capacity, then refuses',
      capacity: 2,
      rate: 1,
      takes: [0, 0, 0],
      expected: [{ ok: true }, { ok: true }, { ok: false, retryAfterMs: 1000 }],
    },
    {
      name: 'refills at the rate',
      capacity: 1,
      rate: 2,
      takes: [0, 100, 500, 500],
      expected: [
        { ok: true },
        { ok: false, retryAfterMs: 400 },
        { ok: true },
        { ok: false, retryAfterMs: 500 },
      ],
    },
    {
      name: 'never holds more than its capacity',
      capacity: 2,
      rate: 10,
      takes: [0, 60_000, 60_000, 60_000],
      expected: [{ ok: true }, { ok: true }, { ok: true }, { ok: false, retryAfterMs: 100 }],
    },
    {
      name: 'a clock that goes backwards refills nothing',
      capacity: 1,
      rate: 1,
      takes: [10_000, 0, 10_500, 11_000],
      expected: [
        { ok: true },
        { ok: false, retryAfterMs: 1000 },
        { ok: false, retryAfterMs: 500 },
        { ok: true },
      ],
    },
    {
      name: 'a slow rate waits long',
      capacity: 1,
      rate: 0.5,
      takes: [0, 1],
      expected: [{ ok: true }, { ok: false, retryAfterMs: 1999 }],
    },
  ];

  it.each(cases)('$name', ({ capacity, rate, takes, expected }) => {
    const bucket = new TokenBucket(capacity, rate);
    expect(takes.map((t) => bucket.take(t))).toEqual(expected);
  });

  it.each([
    [0, 1],
    [1, 0],
  ])('refuses capacity %d with rate %d', (capacity, rate) => {
    expect(() => new TokenBucket(capacity, rate)).toThrow(RangeError);
  });
});
