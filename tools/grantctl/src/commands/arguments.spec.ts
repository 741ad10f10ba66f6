import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collect, parseTime, positiveInt } from './arguments';

describe('parseTime', () => {
  it('reads epoch milliseconds and ISO-8601', () => {
    expect(parseTime('1765000000000')).toBe(1_765_000_000_000);
    expect(parseTime('2026-12-07T08:00:00Z')).toBe(Date.UTC(2026, 11, 7, 8));
  });

  it.each(['', 'yesterday', '2026-13-40'])('refuses %j', (value) => {
    expect(() => parseTime(value)).toThrow(InvalidArgumentError);
  });
});

describe('positiveInt', () => {
  it('reads a whole number from 1', () => {
    expect(positiveInt('1')).toBe(1);
    expect(positiveInt('5000')).toBe(5000);
  });

  it.each(['0', '-1', '1.5', '1e3', '01', ' 7', '', '9007199254740993'])('refuses %j', (value) => {
    expect(() => positiveInt(value)).toThrow(InvalidArgumentError);
  });
});

describe('collect', () => {
  it('keeps every value of a repeated option in order', () => {
    expect(collect('b', collect('a', []))).toEqual(['a', 'b']);
  });
});
