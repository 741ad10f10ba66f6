import { describe, expect, it } from 'vitest';
import { businessDaysBetween, isCalendarDate, localDateOf } from './business-days';

const at = (iso: string) => Date.parse(iso);

describe('businessDaysBetween', () => {
  it.each<[string, string, string, string, readonly string[], number]>([
    ['same instant', '2026-11-16T12:00:00Z', '2026-11-16T12:00:00Z', 'UTC', [], 0],
    ['deadline before now', '2026-11-17T12:00:00Z', '2026-11-16T12:00:00Z', 'UTC', [], 0],
    ['later the same local day', '2026-11-16T08:00:00Z', '2026-11-16T20:00:00Z', 'UTC', [], 0],
    ['Monday to Tuesday', '2026-11-16T12:00:00Z', '2026-11-17T12:00:00Z', 'UTC', [], 1],
    [
      'Friday to Monday skips the weekend',
      '2026-11-20T12:00:00Z',
      '2026-11-23T12:00:00Z',
      'UTC',
      [],
      1,
    ],
    ['Friday to Sunday', '2026-11-20T12:00:00Z', '2026-11-22T12:00:00Z', 'UTC', [], 0],
    ['Saturday to Monday', '2026-11-21T12:00:00Z', '2026-11-23T12:00:00Z', 'UTC', [], 1],
    ['one full week', '2026-11-16T12:00:00Z', '2026-11-23T12:00:00Z', 'UTC', [], 5],
    [
      'Thanksgiving week without holidays',
      '2026-11-23T12:00:00Z',
      '2026-11-30T12:00:00Z',
      'UTC',
      [],
      5,
    ],
    [
      'Thanksgiving and the day after are holidays',
      '2026-11-23T12:00:00Z',
      '2026-11-30T12:00:00Z',
      'UTC',
      ['2026-11-26', '2026-11-27'],
      3,
    ],
    [
      'a holiday on a weekend counts once as weekend only',
      '2026-11-20T12:00:00Z',
      '2026-11-23T12:00:00Z',
      'UTC',
      ['2026-11-21'],
      1,
    ],
    [
      'a holiday on the from date is not in the range',
      '2026-11-26T12:00:00Z',
      '2026-11-27T12:00:00Z',
      'UTC',
      ['2026-11-26'],
      1,
    ],
    [
      'a holiday on the deadline date is in the range',
      '2026-11-25T12:00:00Z',
      '2026-11-26T12:00:00Z',
      'UTC',
      ['2026-11-26', '2026-11-26'],
      0,
    ],
    [
      // 23:59 Friday in Los Angeles is 07:59 Saturday UTC: counted in LA it is Friday.
      'deadline at 23:59 Los Angeles counts the Los Angeles date',
      '2026-11-19T20:00:00Z',
      '2026-11-21T07:59:00Z',
      'America/Los_Angeles',
      [],
      1,
    ],
    [
      'the same instants counted in UTC land on Saturday',
      '2026-11-19T20:00:00Z',
      '2026-11-21T07:59:00Z',
      'UTC',
      [],
      1,
    ],
    [
      'Thursday 22:30 to Friday 23:59 in Los Angeles is one business day',
      '2026-11-20T06:30:00Z',
      '2026-11-21T07:59:00Z',
      'America/Los_Angeles',
      [],
      1,
    ],
    [
      'the same instants in UTC run Friday to Saturday: none',
      '2026-11-20T06:30:00Z',
      '2026-11-21T07:59:00Z',
      'UTC',
      [],
      0,
    ],
    ['a year', '2026-01-01T12:00:00Z', '2027-01-01T12:00:00Z', 'UTC', [], 261],
  ])('%s', (_name, from, to, tz, holidays, expected) => {
    expect(businessDaysBetween(at(from), at(to), tz, holidays)).toBe(expected);
  });
});

describe('localDateOf', () => {
  it.each([
    ['2026-11-21T07:59:00Z', 'America/Los_Angeles', '2026-11-20'],
    ['2026-11-21T07:59:00Z', 'UTC', '2026-11-21'],
    ['2026-11-21T04:30:00Z', 'America/New_York', '2026-11-20'],
    ['2026-11-20T23:30:00Z', 'Asia/Tokyo', '2026-11-21'],
  ])('%s in %s is %s', (iso, tz, expected) => {
    expect(localDateOf(at(iso), tz)).toBe(expected);
  });
});

describe('isCalendarDate', () => {
  it.each([
    ['2026-03-01', true],
    ['2024-02-29', true],
    ['0099-01-01', true],
    ['2026-02-29', false],
    ['2026-04-31', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-3-1', false],
    ['2026-03-01T00:00:00Z', false],
    ['', false],
  ])('%j -> %s', (iso, expected) => {
    expect(isCalendarDate(iso)).toBe(expected);
  });
});
