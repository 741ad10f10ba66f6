import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from './backoff';

const bounds = { initialMs: 100, maxMs: 1000 };

describe('fullJitterBackoff', () => {
  it.each([
    // attempt, random, expected: the window is [0, min(1000, 100 * 2^(attempt-1))]
    [1, 0, 0],
    [1, 0.5, 50],
    [1, 0.999999, 100],
    [2, 0.999999, 200],
    [3, 0.25, 100],
    [4, 0.999999, 800],
    [5, 0.999999, 1000],
    [5, 0.5, 500],
    [60, 0.999999, 1000],
    [2000, 0.999999, 1000],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(fullJitterBackoff(attempt, bounds, () => random)).toBe(expected);
  });

  it('stays within the window even if random misbehaves', () => {
    expect(fullJitterBackoff(1, bounds, () => 1)).toBe(100);
    expect(fullJitterBackoff(1, bounds, () => -1)).toBe(0);
  });

  it('stays within [0, ceiling] for Math.random', () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const ceiling = Math.min(1000, 100 * 2 ** (attempt - 1));
      const delay = fullJitterBackoff(attempt, bounds);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceiling);
      expect(Number.isInteger(delay)).toBe(true);
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses attempt %d', (attempt) => {
    expect(() => fullJitterBackoff(attempt, bounds)).toThrow(RangeError);
  });

  it('refuses negative bounds', () => {
    expect(() => fullJitterBackoff(1, { initialMs: -1, maxMs: 10 })).toThrow(RangeError);
  });
});
