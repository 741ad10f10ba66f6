import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './timestamp';

describe('parseTimestamp', () => {
  it.each([
    ['2027-03-01T17:00:00-05:00', Date.parse('2027-03-01T22:00:00Z')],
    ['2027-03-01T22:00:00.250Z', Date.parse('2027-03-01T22:00:00.250Z')],
    ['2027-03-01T17:00-0500', Date.parse('2027-03-01T22:00:00Z')],
    [0, 0],
  ])('%s -> %s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it.each([
    ['2027-03-01'],
    ['03/01/2027'],
    ['1800000000000'],
    ['2027-02-30T25:00:00Z'],
    [-1],
    [Number.MAX_SAFE_INTEGER + 2],
    [null],
    [true],
  ])('refuses %s', (input) => {
    expect(typeof parseTimestamp(input)).toBe('string');
  });
});
