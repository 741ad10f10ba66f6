import { describe, expect, it } from 'vitest';
import type { GrantStatusV1 } from '@grantstream/contracts';
import { fromGrantStatus } from './grant-status';
import { notificationIdOf, type NotificationCause } from './notification';
import { ROUTED_AT, aStatus } from '../test-support/builders';

const CAUSE: NotificationCause = { auditHead: 'd'.repeat(64) };

describe('fromGrantStatus', () => {
  it.each<[GrantStatusV1['status'], boolean]>([
    ['RECEIVED', false],
    ['PROCESSING', false],
    ['VALIDATED', false],
    ['RECEIVED_BY_AGENCY', false],
    ['AGENCY_TRACKING_NUMBER_ASSIGNED', true],
    // Not terminal yet (never produced so, but a person is told only once it is final).
    ['REJECTED_WITH_ERRORS', false],
  ])('%s (terminal %s) needs no person', (status, terminal) => {
    const outcome = fromGrantStatus(aStatus({ status, terminal }), CAUSE);
    expect(outcome).toEqual({
      action: 'ignore',
      reason: expect.stringContaining(status) as string,
      level: 'debug',
    });
  });

  it('notifies a terminal rejection with the portal messages and tracking number', () => {
    const outcome = fromGrantStatus(aStatus(), CAUSE);
    expect(outcome.action).toBe('notify');
    if (outcome.action !== 'notify') return;
    expect(outcome.notification).toEqual({
      notificationId: notificationIdOf('FUNDER_REJECTION', 'BCF-2026-00007', CAUSE),
      kind: 'FUNDER_REJECTION',
      grantId: 'BCF-2026-00007',
      funderId: 'BCF',
      auditTrailId: '1c6d4b0f-2e3a-4b7c-9d8e-0f1a2b3c4d5e',
      errorCategory: 'FUNDER_REJECTION',
      severity: 'MEDIUM',
      summary:
        'BCF-2026-00007 (tracking BCF-TRK-000123) was rejected by bcf-portal with 2 errors: budget_narrative: missing',
      details: {
        status: 'REJECTED_WITH_ERRORS',
        funder_portal: 'bcf-portal',
        tracking_number: 'BCF-TRK-000123',
        submitted_at: new Date(ROUTED_AT + 60_000).toISOString(),
        observed_at: new Date(ROUTED_AT + 120_000).toISOString(),
        portal_message_1: 'budget_narrative: missing',
        portal_message_2: 'ein: does not match the registered entity',
      },
      deadline: null,
      requestedBy: 'status-polling',
      requestedAt: ROUTED_AT + 120_000,
      ruleSetVersion: null,
    });
  });

  it.each<[string, Partial<GrantStatusV1>, RegExp, string]>([
    [
      'a rejection on submit, before a tracking number',
      { tracking_number: null, attempt: 0, portal_messages: ['title: required'] },
      /^BCF-2026-00007 was rejected by bcf-portal with 1 error: title: required$/,
      'submission',
    ],
    ['a rejection without messages', { portal_messages: [] }, /with 0 errors$/, 'status-polling'],
  ])('%s', (_name, overrides, summary, requestedBy) => {
    const outcome = fromGrantStatus(aStatus(overrides), CAUSE);
    if (outcome.action !== 'notify') throw new Error('expected a notification');
    expect(outcome.notification.summary).toMatch(summary);
    expect(outcome.notification.requestedBy).toBe(requestedBy);
    expect('tracking_number' in outcome.notification.details).toBe(
      overrides.tracking_number !== null,
    );
  });
});
