import type { NotificationRequestV1 } from '@grantstream/contracts';
import { notificationIdOf, type NotificationCause, type NotificationOutcome } from './notification';

/**
 * A stage's request (grants.notifications.v1), delivered as it is: the
 * requesting stage chose the id, summary and details. A request without an
 * id gets one derived from its cause, so it still deduplicates.
 */
export function fromRequest(
  request: NotificationRequestV1,
  cause: NotificationCause,
): NotificationOutcome {
  return {
    action: 'notify',
    notification: {
      notificationId:
        request.notification_id !== ''
          ? request.notification_id
          : notificationIdOf(request.kind, request.grant_id, cause),
      kind: request.kind,
      grantId: request.grant_id,
      funderId: request.funder_id,
      auditTrailId: request.audit_trail_id,
      errorCategory: request.error_category,
      severity: request.severity,
      summary: request.summary,
      details: { ...request.details },
      deadline: request.deadline,
      requestedBy: request.requested_by,
      requestedAt: request.requested_at,
      ruleSetVersion: null,
    },
  };
}
