import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it.each<[string, string | null | undefined, number | null]>([
    ['absent', undefined, null],
    ['null', null, null],
    ['blank', '  ', null],
    ['zero seconds', '0', 0],
    ['delta-seconds', '120', 120_000],
    ['delta-seconds with spaces', ' 7 ', 7_000],
    ['an IMF-fixdate ahead', 'Sun, 01 Mar 2026 12:02:00 GMT', 120_000],
    ['an IMF-fixdate behind', 'Sun, 01 Mar 2026 11:59:00 GMT', 0],
    ['a negative number', '-5', null],
    ['a fraction', '1.5', null],
    ['a bare year-like number is seconds, not a date', '2030', 2_030_000],
    ['too many seconds to count', '9'.repeat(400), null],
    ['junk', 'later please', null],
  ])('reads %s', (_name, header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });
});
