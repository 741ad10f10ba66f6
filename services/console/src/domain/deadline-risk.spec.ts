import { describe, expect, it } from 'vitest';
import { deadlineRisk, riskWindowEnd, type FunderCalendar } from './deadline-risk';

const HOUR = 3_600_000;
const NEW_YORK: FunderCalendar = {
  timeZone: 'America/New_York',
  holidays: [],
  bufferBusinessDays: 2,
};
const CHICAGO: FunderCalendar = {
  timeZone: 'America/Chicago',
  holidays: ['2026-11-26'],
  bufferBusinessDays: 2,
};

describe('deadlineRisk in the funder calendar', () => {
  it.each([
    {
      why: 'Friday to Monday across a weekend is one business day',
      now: Date.UTC(2026, 10, 6, 20, 0), // Fri 15:00 EST
      deadline: Date.UTC(2026, 10, 9, 22, 0), // Mon 17:00 EST
      calendar: NEW_YORK,
      local: '2026-11-09 17:00 EST',
      left: 1,
    },
    {
      why: 'across the spring-forward weekend (EST to EDT)',
      now: Date.UTC(2027, 2, 12, 14, 0), // Fri 09:00 EST
      deadline: Date.UTC(2027, 2, 15, 21, 0), // Mon 17:00 EDT
      calendar: NEW_YORK,
      local: '2027-03-15 17:00 EDT',
      left: 1,
    },
    {
      why: 'a late-evening deadline that is already Tuesday in UTC counts on its local Monday',
      now: Date.UTC(2027, 2, 12, 14, 0),
      deadline: Date.UTC(2027, 2, 16, 3, 30), // Mon 23:30 EDT
      calendar: NEW_YORK,
      local: '2027-03-15 23:30 EDT',
      left: 1,
    },
    {
      why: 'across the fall-back weekend (EDT to EST), just after local midnight',
      now: Date.UTC(2026, 9, 30, 16, 0), // Fri 12:00 EDT
      deadline: Date.UTC(2026, 10, 2, 5, 30), // Mon 00:30 EST
      calendar: NEW_YORK,
      local: '2026-11-02 00:30 EST',
      left: 1,
    },
    {
      why: "a pack holiday is not a business day (Thanksgiving in the funder's pack)",
      now: Date.UTC(2026, 10, 25, 16, 0), // Wed 10:00 CST
      deadline: Date.UTC(2026, 10, 27, 23, 0), // Fri 17:00 CST
      calendar: CHICAGO,
      local: '2026-11-27 17:00 CST',
      left: 1,
    },
    {
      why: 'the same hour later today is no business day away',
      now: Date.UTC(2026, 10, 4, 14, 0),
      deadline: Date.UTC(2026, 10, 4, 20, 0),
      calendar: NEW_YORK,
      local: '2026-11-04 15:00 EST',
      left: 0,
    },
  ])('$why', ({ now, deadline, calendar, local, left }) => {
    expect(deadlineRisk(deadline, now, calendar)).toEqual({
      localDeadline: local,
      businessDaysLeft: left,
      passed: false,
      atRisk: true,
    });
  });

  it('is not at risk with more business days left than the funder needs', () => {
    const now = Date.UTC(2026, 10, 6, 20, 0); // Fri
    const r = deadlineRisk(Date.UTC(2026, 10, 12, 22, 0), now, NEW_YORK); // Thu: Mon..Thu
    expect(r).toMatchObject({ businessDaysLeft: 4, atRisk: false, passed: false });
    // Exactly the buffer is still at risk: the funder needs every one of those days.
    expect(deadlineRisk(Date.UTC(2026, 10, 10, 22, 0), now, NEW_YORK)).toMatchObject({
      businessDaysLeft: 2,
      atRisk: true,
    });
  });

  it('is passed and at risk once the deadline is behind', () => {
    const now = Date.UTC(2026, 10, 6, 20, 0);
    expect(deadlineRisk(now - HOUR, now, NEW_YORK)).toMatchObject({
      businessDaysLeft: 0,
      passed: true,
      atRisk: true,
    });
    expect(deadlineRisk(now, now, NEW_YORK).passed).toBe(true);
  });
});

describe('riskWindowEnd', () => {
  it.each([
    ['a Friday before a weekend', Date.UTC(2026, 10, 6, 20, 0), NEW_YORK],
    ['the spring-forward weekend', Date.UTC(2027, 2, 12, 3, 30), NEW_YORK],
    ['a week with a holiday', Date.UTC(2026, 10, 24, 5, 59), CHICAGO],
    ['a zero buffer', Date.UTC(2026, 10, 6, 4, 0), { ...NEW_YORK, bufferBusinessDays: 0 }],
  ])('bounds every deadline at risk from %s, and not far beyond', (_why, now, calendar) => {
    const end = riskWindowEnd(now, calendar);
    let lastAtRisk = now;
    for (let t = now + 1; t < now + 21 * 24 * HOUR; t += HOUR / 4) {
      if (deadlineRisk(t, now, calendar).atRisk) lastAtRisk = t;
    }
    expect(lastAtRisk).toBeLessThan(end);
    // At most one day (and the daylight-saving margin) past the last deadline at risk.
    expect(end - lastAtRisk).toBeLessThanOrEqual(2 * 24 * HOUR + HOUR);
  });
});
