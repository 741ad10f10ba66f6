import { businessDaysBetween, localDateTimeOf } from '@grantstream/rules';

const DAY_MS = 86_400_000;

/**
 * A funder's calendar as the console judges deadlines by it: the time zone
 * and holidays of its rule pack, and how many business days it needs
 * (the pack's deadline buffer). A funder without a pack is judged in UTC,
 * weekends only, with the console's default buffer.
 */
export interface FunderCalendar {
  timeZone: string;
  holidays: readonly string[];
  bufferBusinessDays: number;
}

/** How one deadline stands now, in the funder's calendar. */
export interface DeadlineRisk {
  /** The deadline as the funder's clock shows it: "2026-11-20 17:00 EST". */
  localDeadline: string;
  /** Whole business days after today up to the deadline's date, both in the funder's zone; 0 once passed. */
  businessDaysLeft: number;
  passed: boolean;
  /** Passed, or no more business days left than the funder needs. */
  atRisk: boolean;
}

/**
 * Judges a deadline now in the funder's calendar. Days are counted on the
 * funder's dates (a deadline at 23:00 in Los Angeles is already the next
 * day in UTC), Saturdays, Sundays and the pack's holidays not counted, so
 * on a Friday a deadline the next Monday is 1 business day away whatever
 * the hours, and a daylight-saving change in between changes nothing.
 */
export function deadlineRisk(
  deadline: number,
  now: number,
  calendar: FunderCalendar,
): DeadlineRisk {
  const passed = deadline <= now;
  const businessDaysLeft = passed
    ? 0
    : businessDaysBetween(now, deadline, calendar.timeZone, calendar.holidays);
  return {
    localDeadline: localDateTimeOf(deadline, calendar.timeZone),
    businessDaysLeft,
    passed,
    atRisk: passed || businessDaysLeft <= calendar.bufferBusinessDays,
  };
}

/**
 * An instant after every deadline that is at risk now (and before none that
 * is not too far to matter): the upper end of the range the read model is
 * asked for. Business days only grow with the deadline, so the first whole
 * day past the buffer bounds them; one more day covers a daylight-saving
 * change on the way. The caller judges each grant with {@link deadlineRisk}.
 */
export function riskWindowEnd(now: number, calendar: FunderCalendar): number {
  let days = 0;
  while (
    businessDaysBetween(now, now + days * DAY_MS, calendar.timeZone, calendar.holidays) <=
    calendar.bufferBusinessDays
  ) {
    days += 1;
  }
  return now + (days + 1) * DAY_MS;
}
