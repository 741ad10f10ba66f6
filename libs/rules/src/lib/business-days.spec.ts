import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  businessDaysBetween,
  configureZonedDateCache,
  intlLocalDateOf,
  isCalendarDate,
  localDateOf,
} from './business-days';

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

describe('localDateOf with the zone cache', () => {
  const HOUR = 3_600_000;

  // A seeded generator (mulberry32): the same instants on every run.
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  beforeEach(() => configureZonedDateCache({ maxZones: 4, bucketsPerZone: 16 }));
  afterEach(() => configureZonedDateCache({ maxZones: 0, bucketsPerZone: 0 }));

  it.each<[string, string, string]>([
    // New York: 2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT -> 01:00 EST.
    ['America/New_York', '2026-03-08T06:59:59.999Z', '2026-03-08'],
    ['America/New_York', '2026-03-08T07:00:00Z', '2026-03-08'],
    ['America/New_York', '2026-03-09T03:59:59.999Z', '2026-03-08'],
    ['America/New_York', '2026-03-09T04:00:00Z', '2026-03-09'],
    ['America/New_York', '2026-11-01T04:00:00Z', '2026-11-01'],
    ['America/New_York', '2026-11-02T04:59:59.999Z', '2026-11-01'],
    ['America/New_York', '2026-11-02T05:00:00Z', '2026-11-02'],
    // London: BST from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC.
    ['Europe/London', '2026-03-29T00:59:59Z', '2026-03-29'],
    ['Europe/London', '2026-06-30T22:59:59.999Z', '2026-06-30'],
    ['Europe/London', '2026-06-30T23:00:00Z', '2026-07-01'],
    ['Europe/London', '2026-10-25T23:59:59Z', '2026-10-25'],
    // Lord Howe: +10:30 standard, +11 summer (a 30-minute shift), ends 2026-04-05 02:00 local.
    ['Australia/Lord_Howe', '2026-04-04T12:59:59.999Z', '2026-04-04'],
    ['Australia/Lord_Howe', '2026-04-04T13:00:00Z', '2026-04-05'],
    ['Australia/Lord_Howe', '2026-04-05T13:29:59.999Z', '2026-04-05'],
    ['Australia/Lord_Howe', '2026-04-05T13:30:00Z', '2026-04-06'],
    // St John's until 2011: DST ended at 00:01 NDT (02:31 UTC, inside an hour),
    // so the local date goes back a day in the middle of a UTC hour.
    ['America/St_Johns', '2010-11-07T02:30:59Z', '2010-11-07'],
    ['America/St_Johns', '2010-11-07T02:31:00Z', '2010-11-06'],
    ['America/St_Johns', '2010-11-07T02:59:59Z', '2010-11-06'],
    ['America/St_Johns', '2010-11-07T03:31:00Z', '2010-11-07'],
    // Year ends on both sides of UTC.
    ['America/Los_Angeles', '2027-01-01T07:59:59.999Z', '2026-12-31'],
    ['America/Los_Angeles', '2027-01-01T08:00:00Z', '2027-01-01'],
    ['Pacific/Kiritimati', '2026-12-31T09:59:59.999Z', '2026-12-31'],
    ['Pacific/Kiritimati', '2026-12-31T10:00:00Z', '2027-01-01'],
  ])('%s at %s is %s', (tz, iso, expected) => {
    const t = Date.parse(iso);
    expect(intlLocalDateOf(t, tz)).toBe(expected);
    expect(localDateOf(t, tz)).toBe(expected);
    // The second ask fills the hour's slot, the third is answered from it.
    expect(localDateOf(t, tz)).toBe(expected);
    expect(localDateOf(t, tz)).toBe(expected);
  });

  it('counts business days across a DST change and a weekend from the cache', () => {
    // Friday 2026-10-30 to Monday 2026-11-02 in New York, DST ending between them.
    const from = Date.parse('2026-10-30T20:00:00Z');
    const to = Date.parse('2026-11-03T04:30:00Z'); // Monday 23:30 EST
    expect(businessDaysBetween(from, to, 'America/New_York', [])).toBe(1);
    expect(businessDaysBetween(from, to + HOUR, 'America/New_York', [])).toBe(2);
  });

  it('gives the Intl date for every instant of every hour around transitions', () => {
    const cases: [string, string][] = [
      ['America/New_York', '2026-03-08T06:00:00Z'],
      ['America/New_York', '2026-11-01T05:00:00Z'],
      ['Europe/London', '2026-03-29T00:00:00Z'],
      ['Europe/London', '2026-10-25T00:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T14:00:00Z'],
      ['Australia/Lord_Howe', '2026-10-03T15:00:00Z'],
      ['America/St_Johns', '2010-11-07T02:00:00Z'],
      ['America/St_Johns', '2010-03-14T03:00:00Z'],
    ];
    for (const [tz, iso] of cases) {
      const around = Date.parse(iso);
      for (let t = around - 3 * HOUR; t <= around + 3 * HOUR; t += 59_999) {
        expect(localDateOf(t, tz), `${tz} ${new Date(t).toISOString()}`).toBe(
          intlLocalDateOf(t, tz),
        );
      }
    }
  });

  it('agrees with Intl for seeded random instants in many zones', () => {
    const zones = [
      'America/New_York',
      'Europe/London',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'America/St_Johns',
      'Pacific/Chatham',
      'Africa/Casablanca',
      'UTC',
    ];
    const next = random(20261207);
    const lo = Date.parse('1900-01-01T00:00:00Z');
    const hi = Date.parse('2100-01-01T00:00:00Z');
    for (let i = 0; i < 3_000; i++) {
      const tz = zones[Math.floor(next() * zones.length)] ?? 'UTC';
      // Half anywhere in two centuries, half near each other (hits in the table).
      const t =
        i % 2 === 0
          ? Math.floor(lo + next() * (hi - lo))
          : Math.floor(Date.parse('2026-03-01T00:00:00Z') + next() * 300 * 24 * HOUR);
      expect(localDateOf(t, tz), `${tz} ${t}`).toBe(intlLocalDateOf(t, tz));
    }
  });

  it('keeps at most maxZones tables and still answers for evicted zones', () => {
    configureZonedDateCache({ maxZones: 1, bucketsPerZone: 1 });
    const t = Date.parse('2026-07-01T03:30:00Z');
    expect(localDateOf(t, 'America/New_York')).toBe('2026-06-30');
    expect(localDateOf(t, 'Asia/Tokyo')).toBe('2026-07-01');
    expect(localDateOf(t, 'America/New_York')).toBe('2026-06-30');
  });

  it('answers from Intl when the cache is off', () => {
    configureZonedDateCache({ maxZones: 0, bucketsPerZone: 0 });
    expect(localDateOf(Date.parse('2026-07-01T03:30:00Z'), 'America/New_York')).toBe('2026-06-30');
  });

  it('refuses limits that are not counts', () => {
    expect(() => configureZonedDateCache({ maxZones: -1, bucketsPerZone: 1 })).toThrow(RangeError);
    expect(() => configureZonedDateCache({ maxZones: 1, bucketsPerZone: 0.5 })).toThrow(RangeError);
  });
});
