import type { GrantStatusV1 } from '@grantstream/contracts';
import { impactOf } from '@grantstream/errors';
import {
  ignore,
  notificationIdOf,
  type NotificationCause,
  type NotificationOutcome,
} from './notification';

/**
 * A status event (grants.status.v1): only a portal's terminal rejection needs
 * a person, with the portal's messages; every other status is progress.
 */
export function fromGrantStatus(
  status: GrantStatusV1,
  cause: NotificationCause,
): NotificationOutcome {
  if (!status.terminal || status.status !== 'REJECTED_WITH_ERRORS') {
    return ignore(
      `status ${status.status}${status.terminal ? ' (terminal)' : ''} needs no person`,
      'debug',
    );
  }
  const messages = status.portal_messages;
  const details: Record<string, string> = {
    status: status.status,
    funder_portal: status.funder_portal,
    submitted_at: new Date(status.submitted_at).toISOString(),
    observed_at: new Date(status.observed_at).toISOString(),
  };
  if (status.tracking_number !== null) details['tracking_number'] = status.tracking_number;
  messages.forEach((m, i) => {
    details[`portal_message_${i + 1}`] = m;
  });
  const tracking = status.tracking_number === null ? '' : ` (tracking ${status.tracking_number})`;
  const count = `${messages.length} error${messages.length === 1 ? '' : 's'}`;
  return {
    action: 'notify',
    notification: {
      notificationId: notificationIdOf('FUNDER_REJECTION', status.grant_id, cause),
      kind: 'FUNDER_REJECTION',
      grantId: status.grant_id,
      funderId: status.funder_id,
      auditTrailId: status.audit_trail_id,
      errorCategory: 'FUNDER_REJECTION',
      severity: impactOf('FUNDER_REJECTION'),
      summary: `${status.grant_id}${tracking} was rejected by ${status.funder_portal} with ${count}${messages[0] === undefined ? '' : `: ${messages[0]}`}`,
      details,
      deadline: null,
      // The submission response is attempt 0; later statuses come from polling.
      requestedBy: status.attempt === 0 ? 'submission' : 'status-polling',
      requestedAt: status.observed_at,
      ruleSetVersion: null,
    },
  };
}
