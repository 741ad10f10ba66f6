import { describe, expect, it } from 'vitest';
import type { NotificationRequestV1 } from '@grantstream/contracts';
import { notificationIdOf, type NotificationCause } from './notification';
import { fromRequest } from './request';
import { DEADLINE, ROUTED_AT, aRequest } from '../test-support/builders';

const CAUSE: NotificationCause = { topic: 'grants.notifications.v1', partition: 2, offset: '40' };

describe('fromRequest', () => {
  it('delivers a request as it is, with its own id', () => {
    const outcome = fromRequest(aRequest(), CAUSE);
    expect(outcome).toEqual({
      action: 'notify',
      notification: {
        notificationId: 'f'.repeat(64),
        kind: 'DEADLINE_AT_RISK',
        grantId: 'SCDA-2026-00003',
        funderId: 'SCDA',
        auditTrailId: '2d7e5c1a-3f4b-4c8d-0e9f-1a2b3c4d5e6f',
        errorCategory: 'DEADLINE_AT_RISK',
        severity: 'MEDIUM',
        summary: 'SCDA-2026-00003 waits 15 min for a retry but its deadline is in 9 min',
        details: { next_attempt_at: '2026-03-02T10:15:00.000Z' },
        deadline: DEADLINE,
        requestedBy: 'submission',
        requestedAt: ROUTED_AT,
        ruleSetVersion: null,
      },
    });
  });

  it.each<[string, Partial<NotificationRequestV1>, string]>([
    ['its own id', { notification_id: 'k1' }, 'k1'],
    [
      'an id from its cause when it has none',
      { notification_id: '' },
      notificationIdOf('DEADLINE_AT_RISK', 'SCDA-2026-00003', CAUSE),
    ],
  ])('uses %s', (_name, overrides, id) => {
    const outcome = fromRequest(aRequest(overrides), CAUSE);
    expect(outcome.action === 'notify' && outcome.notification.notificationId).toBe(id);
  });

  it.each<NotificationRequestV1['kind']>([
    'COMPLIANCE_BLOCK',
    'DEADLINE_AT_RISK',
    'FUNDER_REJECTION',
    'DEAD_LETTER',
    'STATUS_UNRESOLVED',
  ])('keeps the kind %s', (kind) => {
    const outcome = fromRequest(aRequest({ kind }), CAUSE);
    expect(outcome.action === 'notify' && outcome.notification.kind).toBe(kind);
  });
});
