import { describe, expect, it } from 'vitest';
import { canonicalJson } from '@grantstream/audit';
import { grantFraction, seededRandom, unitHash } from './hash';

describe('unitHash', () => {
  it('is stable and in [0, 1)', () => {
    for (const text of ['', 'NSF-2025-00001', 'x'.repeat(500)]) {
      const h = unitHash(text);
      expect(h).toBe(unitHash(text));
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(1);
    }
  });

  it('spreads grant ids that differ only in their last digits', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `NSF-2025-${String(i).padStart(5, '0')}`);
    const below = ids.filter((id) => grantFraction(id, 'validation') < 0.1).length;
    expect(below).toBeGreaterThan(150);
    expect(below).toBeLessThan(250);
  });

  it('salts each purpose so the decisions are independent', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `BCF-2025-${String(i).padStart(5, '0')}`);
    const both = ids.filter(
      (id) => grantFraction(id, 'validation') < 0.5 && grantFraction(id, 'status-reject') < 0.5,
    ).length;
    expect(both).toBeGreaterThan(400);
    expect(both).toBeLessThan(600);
  });
});

describe('seededRandom', () => {
  it('replays the same sequence for the same seed, another for another seed', () => {
    const draw = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 5 }, () => r());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const x of draw(7)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('canonicalJson', () => {
  it.each([
    [
      { b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } },
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    ],
    [[3, 'x'], '[3,"x"]'],
    ['s', '"s"'],
  ])('%j -> %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});
