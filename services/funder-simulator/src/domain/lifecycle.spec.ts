import { describe, expect, it } from 'vitest';
import {
  agencyTrackingNumber,
  planLifecycle,
  statusAt,
  trackingNumber,
  type LifecyclePlan,
  type SubmissionStatus,
} from './lifecycle';

const accepted: LifecyclePlan = { receivedAt: 1000, dwellMs: 100, rejected: false, rejection: [] };
const rejected: LifecyclePlan = {
  receivedAt: 1000,
  dwellMs: 100,
  rejected: true,
  rejection: [{ field: 'Attachments', message: 'duplicate file names' }],
};

describe('statusAt', () => {
  const cases: [string, LifecyclePlan, number, SubmissionStatus, number][] = [
    ['before receipt (clock skew) it is received', accepted, 900, 'RECEIVED', 1],
    ['at receipt', accepted, 1000, 'RECEIVED', 1],
    ['just before the first dwell ends', accepted, 1099, 'RECEIVED', 1],
    ['after one dwell', accepted, 1100, 'PROCESSING', 2],
    ['after two', accepted, 1250, 'VALIDATED', 3],
    ['after three', accepted, 1300, 'RECEIVED_BY_AGENCY', 4],
    ['after four it is terminal', accepted, 1400, 'AGENCY_TRACKING_NUMBER_ASSIGNED', 5],
    ['and stays terminal', accepted, 99_999, 'AGENCY_TRACKING_NUMBER_ASSIGNED', 5],
    ['rejected: processing first', rejected, 1150, 'PROCESSING', 2],
    ['rejected after PROCESSING', rejected, 1200, 'REJECTED_WITH_ERRORS', 3],
    ['rejected stays rejected', rejected, 50_000, 'REJECTED_WITH_ERRORS', 3],
    [
      'zero dwell is terminal at once',
      { ...accepted, dwellMs: 0 },
      1000,
      'AGENCY_TRACKING_NUMBER_ASSIGNED',
      5,
    ],
  ];

  it.each(cases)('%s', (_name, plan, now, status, historyLength) => {
    const view = statusAt(plan, now);
    expect(view.status).toBe(status);
    expect(view.history).toHaveLength(historyLength);
    expect(view.history.at(-1)?.status).toBe(status);
    expect(view.terminal).toBe(
      status === 'AGENCY_TRACKING_NUMBER_ASSIGNED' || status === 'REJECTED_WITH_ERRORS',
    );
  });

  it('dates each status at the end of the previous dwell', () => {
    expect(statusAt(accepted, 1400).history.map((h) => h.at)).toEqual([
      1000, 1100, 1200, 1300, 1400,
    ]);
  });

  const flapping: LifecyclePlan = { ...accepted, flapping: true };
  const flapCases: [string, number, number, SubmissionStatus, number][] = [
    ['received, either replica', 1000, 0, 'RECEIVED', 1],
    ['received, the lagging replica', 1000, 1, 'RECEIVED', 1],
    ['processing, the up-to-date replica', 1100, 0, 'PROCESSING', 2],
    ['processing, the lagging replica', 1100, 1, 'PROCESSING', 2],
    ['validated by the up-to-date replica', 1200, 2, 'VALIDATED', 3],
    ['back to processing at the lagging one', 1200, 3, 'PROCESSING', 2],
    ['validated again', 1300, 4, 'VALIDATED', 3],
    ['and never further', 99_999, 1000, 'VALIDATED', 3],
    ['nor settled', 99_999, 1001, 'PROCESSING', 2],
  ];

  it.each(flapCases)('flapping: %s', (_name, now, read, status, historyLength) => {
    const view = statusAt(flapping, now, read);
    expect(view.status).toBe(status);
    expect(view.terminal).toBe(false);
    expect(view.history).toHaveLength(historyLength);
    expect(view.history.at(-1)?.status).toBe(status);
  });

  it('only a flapping submission depends on which read it is', () => {
    expect(statusAt(accepted, 1200, 1)).toEqual(statusAt(accepted, 1200, 0));
    expect(statusAt(rejected, 1200, 1)).toEqual(statusAt(rejected, 1200, 0));
  });

  it('carries the rejection messages once rejected, not before', () => {
    expect(statusAt(rejected, 1150).messages).toEqual([]);
    expect(statusAt(rejected, 1200).messages).toEqual(rejected.rejection);
  });
});

describe('planLifecycle', () => {
  const behaviour = {
    statusDwellMs: 100,
    slowStatusRate: 0,
    slowStatusDwellMs: 5000,
    statusRejectRate: 0,
  };

  it.each([
    ['normal', behaviour, 100, false],
    ['all slow', { ...behaviour, slowStatusRate: 1 }, 5000, false],
    ['all rejected', { ...behaviour, statusRejectRate: 1 }, 100, true],
  ])('%s', (_name, b, dwellMs, isRejected) => {
    const plan = planLifecycle('NSF-2025-00001', 7, b);
    expect(plan).toMatchObject({ receivedAt: 7, dwellMs, rejected: isRejected });
    expect(plan.rejection.length > 0).toBe(isRejected);
  });

  it.each([
    ['listed', { ...behaviour, flapGrantIds: ['NSF-2025-00001'] }, true],
    [
      'listed, though every grant is rejected',
      { ...behaviour, statusRejectRate: 1, flapGrantIds: ['NSF-2025-00001'] },
      true,
    ],
    ['another listed', { ...behaviour, flapGrantIds: ['NSF-2025-00002'] }, false],
    ['all flapping', { ...behaviour, statusFlapRate: 1 }, true],
    ['none flapping', { ...behaviour, statusFlapRate: 0 }, false],
  ])('flapping: %s', (_name, b, flapping) => {
    const plan = planLifecycle('NSF-2025-00001', 7, b);
    expect(plan.flapping === true).toBe(flapping);
    if (flapping) expect(plan.rejected).toBe(false);
  });

  it('chooses the same fate for the same grant id, and some grants but not all at a partial rate', () => {
    const b = { ...behaviour, statusRejectRate: 0.3, slowStatusRate: 0.3 };
    const ids = Array.from({ length: 200 }, (_, i) => `SCDA-2025-${String(i).padStart(5, '0')}`);
    const plans = ids.map((id) => planLifecycle(id, 0, b));
    expect(ids.map((id) => planLifecycle(id, 0, b))).toEqual(plans);
    const rejectedCount = plans.filter((p) => p.rejected).length;
    expect(rejectedCount).toBeGreaterThan(30);
    expect(rejectedCount).toBeLessThan(90);
  });
});

describe('tracking numbers', () => {
  it.each([
    [1, 'GRANT00000001'],
    [12345678, 'GRANT12345678'],
  ])('%d -> %s', (n, expected) => {
    expect(trackingNumber(n)).toBe(expected);
    expect(agencyTrackingNumber('NSF', expected)).toBe(`NSF-${expected.slice(5)}`);
  });
});
